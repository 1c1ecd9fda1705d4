"""The one STFT definition of the library: hann window, centred frames (reflect padding).

Oracle masks, spectrogram separators and their tests all go through :func:`stft` / :func:`istft`
so that a spectrogram computed in one place inverts exactly in another.
"""
from __future__ import annotations

import torch


def _window(n_fft: int, like: torch.Tensor) -> torch.Tensor:
    dtype = like.real.dtype if like.is_complex() else like.dtype
    return torch.hann_window(n_fft, dtype=dtype, device=like.device)


def stft(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """Complex STFT of ``x (..., T)`` (float32/64) -> ``(..., n_fft // 2 + 1, 1 + T // hop)``.

    Hann window of ``n_fft`` samples, hop ``hop`` samples, frames centred on ``t * hop``
    (``center=True``, reflect padding, so ``T`` must exceed ``n_fft // 2``); not normalised.
    """
    lead = x.shape[:-1]
    spec = torch.stft(x.reshape(-1, x.shape[-1]), n_fft, hop, window=_window(n_fft, x), center=True,
                      return_complex=True)
    return spec.reshape(*lead, *spec.shape[-2:])


def istft(spec: torch.Tensor, n_fft: int, hop: int, length: int) -> torch.Tensor:
    """Inverse of :func:`stft`: complex ``(..., n_fft // 2 + 1, frames)`` -> real ``(..., length)``."""
    lead = spec.shape[:-2]
    x = torch.istft(spec.reshape(-1, *spec.shape[-2:]), n_fft, hop, window=_window(n_fft, spec), center=True,
                    length=length)
    return x.reshape(*lead, length)
