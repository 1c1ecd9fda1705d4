"""Sources as soft shares of the mixture's STFT: the one mask resynthesis of the library (the
mask-space search, the mask encoder and FactorGAN's generator all separate through it)."""
from __future__ import annotations

import torch

from .stft import istft


def masked_sources(theta: torch.Tensor, spec: torch.Tensor, weights: torch.Tensor, n_fft: int, hop: int,
                   length: int) -> torch.Tensor:
    """Sources ``(B, K, T)`` from logits ``theta (B, K, F, N)`` and the mixtures' STFT ``spec (B, F, N)``:
    s_k = istft(softmax_k(theta) * spec) / w_k, so sum_k w_k s_k is the mixture exactly."""
    share = istft(torch.softmax(theta, 1) * spec[:, None], n_fft, hop, length)
    return share / weights[:, None]
