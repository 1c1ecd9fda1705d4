"""Oracle and trivial baselines that bracket a separator's scores.

* :func:`mixture_as_estimate` -- the lower bound: every source "estimated" as the mix.
* :func:`ideal_ratio_mask` -- an upper reference: the STFT ratio mask built from the true sources.

Both follow the mixing model of :mod:`priorsep.mixing` (m = sum_k w_k s_k) and return
estimates on the *sources'* scale, so they remix to the mixture with the same weights.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..mixing import minimum_norm_split
from ..mixing import mix as mix_sources
from ..dsp.stft import istft, stft
from ..errors import ConfigError, InvalidAudioError


def mixture_as_estimate(mix, weights: Sequence[float]) -> np.ndarray:
    """Each source estimated as the mix scaled to its share: ``s_k = w_k m / sum_j w_j^2``.

    This is the minimum-norm split that remixes exactly to ``m``; since SI-SDR is scale
    invariant its scores are those of the plain "mixture as estimate" baseline.
    mix: ``(..., T)`` array or tensor; weights: K floats. Returns ``(..., K, T)`` numpy
    (float dtype of the input, float64 for integer inputs).
    """
    if isinstance(mix, torch.Tensor):
        mix = mix.detach().cpu().numpy()
    m = np.asarray(mix)
    if not np.issubdtype(m.dtype, np.floating):
        m = m.astype(np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1 or w.size == 0:
        raise ConfigError(f"weights must be a non-empty list of floats, got {weights!r}")
    return minimum_norm_split(m, w.tolist())


def ideal_ratio_mask(sources, weights: Sequence[float], n_fft: int = 1024, hop: int = 256,
                     eps: float = 1e-12) -> np.ndarray:
    """Oracle ideal-ratio-mask separation of ``m = mix(sources, weights)``.

    mask_k = |w_k S_k| / sum_j |w_j S_j| on the STFT (hann window of ``n_fft``, hop ``hop``,
    centred frames), applied to the mixture STFT, inverted to ``T`` samples and divided by
    ``w_k`` so each estimate is on its source's scale. Because the masks sum to one (up to
    ``eps`` in all-silent bins) the estimates remix to the mixture up to STFT round-off.
    sources: ``(..., K, T)`` array or tensor (true sources); weights: K non-zero floats.
    Returns ``(..., K, T)`` numpy of the input's float dtype.
    """
    if isinstance(sources, torch.Tensor):
        sources = sources.detach().cpu().numpy()
    src = np.asarray(sources)
    out_dtype = src.dtype if np.issubdtype(src.dtype, np.floating) else np.float64
    if src.ndim < 2:
        raise InvalidAudioError(f"sources must be shaped (..., K, T), got {src.shape}")
    k, t = src.shape[-2:]
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (k,):
        raise ConfigError(f"{k} sources but {len(w)} mixing weights")
    if np.any(w == 0):
        raise ConfigError("ideal_ratio_mask needs non-zero mixing weights (estimates are divided by w_k)")
    x = torch.from_numpy(np.ascontiguousarray(src, dtype=np.float64)).reshape(-1, k, t)
    weighted = x * torch.from_numpy(w)[:, None]
    m = mix_sources(x, w.tolist())  # (B, T)
    spec_src = stft(weighted, n_fft, hop)  # (B, K, F, frames)
    spec_mix = stft(m, n_fft, hop)[:, None]
    mag = spec_src.abs()
    mask = mag / (mag.sum(1, keepdim=True) + eps)
    est = istft(mask * spec_mix, n_fft, hop, t) / torch.from_numpy(w)[:, None]
    return est.reshape(src.shape).numpy().astype(out_dtype)
