"""Sources as soft shares of the mixture's STFT: the one mask resynthesis of the library (the
mask-space search, the mask encoder and FactorGAN's generator all separate through it, from logits; the
NMF and spectral VAE separators from their sources' modelled magnitudes)."""
from __future__ import annotations

import torch

from .nmf import EPS
from .stft import istft


def masked_sources(theta: torch.Tensor, spec: torch.Tensor, weights: torch.Tensor, n_fft: int, hop: int,
                   length: int) -> torch.Tensor:
    """Sources ``(B, K, T)`` from logits ``theta (B, K, F, N)`` and the mixtures' STFT ``spec (B, F, N)``:
    s_k = istft(softmax_k(theta) * spec) / w_k, so sum_k w_k s_k is the mixture exactly."""
    share = istft(torch.softmax(theta, 1) * spec[:, None], n_fft, hop, length)
    return share / weights[:, None]


def ratio_masked_sources(parts: torch.Tensor, spec: torch.Tensor, weights: torch.Tensor, n_fft: int, hop: int,
                         length: int, power: float = 1.0) -> torch.Tensor:
    """Sources ``(B, K, T)`` from modelled magnitudes ``parts (B, K, F, N)`` (negative values count as 0) and the
    mixtures' STFT ``spec (B, F, N)``: the ratio masks ``parts^power / sum_j parts_j^power`` split ``spec``, so
    sum_k w_k s_k is the mixture exactly (power 2: the Wiener filter of Gaussian sources with those magnitudes)."""
    parts = parts.clamp_min(0) ** power
    masks = parts / parts.sum(1, keepdim=True).clamp_min(EPS)
    return istft(masks * spec[:, None], n_fft, hop, length) / weights[:, None]
