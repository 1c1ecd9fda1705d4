"""The one way priorsep turns a user's seed into random numbers."""
from __future__ import annotations

import numpy as np
import torch

from .errors import ConfigError


def seeded_generator(seed: int | None) -> torch.Generator:
    """A CPU generator seeded by ``seed`` (any integer, reduced mod 2**63), or fresh entropy for ``None``."""
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed must be an integer or None, got {seed!r}")
    return torch.Generator().manual_seed(int(seed) % 2**63 if seed is not None else int(torch.seed() % 2**63))
