"""The one way priorsep turns a user's seed into random numbers."""
from __future__ import annotations

import numpy as np
import torch

from .errors import ConfigError


def seeded_generator(seed: int | None, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator on ``device`` seeded by ``seed`` (any integer, reduced mod 2**63), or fresh entropy
    for ``None``. Same seed and device, same numbers (CUDA's stream differs from the CPU's)."""
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed must be an integer or None, got {seed!r}")
    value = int(seed) % 2**63 if seed is not None else int(torch.seed() % 2**63)
    return torch.Generator(device=device).manual_seed(value)
