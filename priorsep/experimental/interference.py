"""Off-manifold training inputs for denoiser priors: the source at a reduced level plus generic
harmonic tones, with the clean source as the denoising target. Experimental: what the denoiser
prior's ``off_manifold_offset`` hook returns to ``train_prior(..., off_manifold=P)``.

Why: a denoiser trained on ``s + sigma eps`` alone never sees an input that holds anything but
its source and white noise, and on a mixture it returns most of the mixture (measured on the toy
sources, ``benchmarks/results/denoiser/``). The exact posterior mean E[s | x] of the source's own
density does not: far from the data, it is the source-like signal closest to ``x``, a part of
``x`` at the source's level. Training on ``a s + sum_j g_j + sigma eps -> s`` teaches the network
that behaviour where plain denoising never looks, while every clean example is still its own
source's (no other source's data is used: ``g_j`` come from a generic family of pitched tones).
"""
from __future__ import annotations

import math

import torch


def harmonic_tones(n: int, length: int, sample_rate: float, generator: torch.Generator,
                   f_min: float = 27.5, f_max: float = 4186.0, max_harmonics: int = 40) -> torch.Tensor:
    """``n`` random pitched tones ``(n, length)``, peak level about 1.

    Each tone: fundamental log-uniform on [f_min, min(f_max, sample_rate / 4)] Hz, random phases,
    harmonic h > 1 with amplitude h^-alpha (alpha ~ U[0, 2.5]) kept with probability ~ U[0.3, 1],
    odd harmonics only in 30 % of tones (pure, hollow, bright and dull timbres all occur), partials
    above Nyquist dropped.
    """
    g = generator
    hi = min(f_max, sample_rate / 4)
    f0 = torch.exp(math.log(f_min) + torch.rand(n, 1, generator=g) * math.log(hi / f_min))
    h = torch.arange(1, max_harmonics + 1, dtype=torch.float32)[None]  # (1, H)
    alpha = 2.5 * torch.rand(n, 1, generator=g)
    keep = torch.rand(n, max_harmonics, generator=g) < 0.3 + 0.7 * torch.rand(n, 1, generator=g)
    keep[:, 0] = True  # the fundamental (else an odd-only tone could have no partial left)
    odd_only = torch.rand(n, 1, generator=g) < 0.3
    amp = h ** -alpha * keep * (~odd_only | (h % 2 == 1)) * (h * f0 < sample_rate / 2)
    phase = 2 * math.pi * torch.rand(n, max_harmonics, generator=g)
    t = torch.arange(length, dtype=torch.float32) / sample_rate
    # (n, H, T): fine for training crops of a few thousand samples
    tones = (amp[..., None] * torch.sin(2 * math.pi * (h * f0)[..., None] * t + phase[..., None])).sum(1)
    return tones / tones.abs().amax(1, keepdim=True).clamp_min(1e-8)


def off_manifold_offset(clean: torch.Tensor, sigma: torch.Tensor, sample_rate: float, generator: torch.Generator,
                        p: float, reach: float = 3.0, max_tones: int = 3) -> torch.Tensor:
    """What to add to ``clean (B, T)`` so that a fraction ``p`` of the items become off-manifold
    inputs ``a * clean + sum_j b_j g_j`` (a ~ U[0.1, 1], 1 to ``max_tones`` tones of level
    b_j ~ U[0, 1] times the item's peak); the other items get zeros. ``(B, T)``.

    The offset's peak is capped at ``reach * sigma (B,)``: the separator's states approach the data
    manifold as sigma falls, and a denoiser's correction is scaled by ~sigma (EDM's c_out), so
    larger offsets at small sigma would be neither needed nor learnable."""
    b, t = clean.shape
    g = generator
    chosen = (torch.rand(b, 1, generator=g) < p).to(clean.dtype)
    a = 0.1 + 0.9 * torch.rand(b, 1, generator=g)
    peak = clean.abs().amax(1, keepdim=True)
    tones = harmonic_tones(b * max_tones, t, sample_rate, g).view(b, max_tones, t)
    count = torch.randint(1, max_tones + 1, (b, 1), generator=g)
    level = torch.rand(b, max_tones, generator=g) * (torch.arange(max_tones)[None] < count) * peak
    offset = (a - 1) * clean + (level[..., None] * tones).sum(1).to(clean.dtype)
    cap = (reach * sigma[:, None] / offset.abs().amax(1, keepdim=True).clamp_min(1e-8)).clamp(max=1.0)
    return chosen * cap * offset
