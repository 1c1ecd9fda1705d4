"""Noise levels: the geometric annealing schedule and training-time sigma draws."""
from __future__ import annotations

import math

import torch
from .errors import ConfigError


def geometric_sigmas(sigma_max: float, sigma_min: float, n_levels: int) -> torch.Tensor:
    """Geometric schedule sigma_1 > ... > sigma_L, ``(n_levels,)``, float64 on the CPU (a list of
    numbers for the samplers, whatever device they run on)."""
    if not (sigma_max >= sigma_min > 0):
        raise ConfigError(f"need sigma_max >= sigma_min > 0, got {sigma_max}, {sigma_min}")
    if n_levels < 1:
        raise ConfigError(f"n_levels must be >= 1, got {n_levels}")
    if n_levels == 1:
        return torch.tensor([float(sigma_min)], dtype=torch.float64, device="cpu")
    return torch.logspace(math.log10(sigma_max), math.log10(sigma_min), n_levels, dtype=torch.float64,
                          device="cpu")


def sample_training_sigmas(
    n: int,
    sigma_min: float,
    sigma_max: float,
    generator: torch.Generator | None = None,
    low_fraction: float = 0.25,
) -> torch.Tensor:
    """Draw ``(n,)`` noise levels log-uniformly on [sigma_min, sigma_max].

    A ``low_fraction`` of the batch is drawn log-uniformly on [sigma_min, 2 sigma_min]: the
    density at the smallest sigma is the most peaked and decides the final separation quality.
    """
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    lo, hi = math.log(sigma_min), math.log(sigma_max)
    log_s = lo + u * (hi - lo)
    n_low = int(round(low_fraction * n))
    if n_low:
        log_s[:n_low] = lo + u[:n_low] * min(math.log(2.0), hi - lo)
    return log_s.exp().float()
