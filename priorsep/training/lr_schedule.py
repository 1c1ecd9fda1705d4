"""The learning-rate schedule every trainer uses."""
from __future__ import annotations

import math

import torch


def cosine_decay(optimizer: torch.optim.Optimizer, steps: int, floor: float = 0.1) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay of the learning rate from its initial value to ``floor`` times it over ``steps``
    steps (held there afterwards)."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
