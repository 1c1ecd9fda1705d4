"""The mixing model m = sum_k w_k s_k -- the one definition used everywhere.

Toy data uses the mean (w_k = 1/K), real music the sum (w_k = 1). Sampler, data and
evaluation all call :func:`mix` so that they can never disagree on the convention.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

MIXING_KINDS = ("mean", "sum")


def mixing_weights(kind: str, n_sources: int) -> list[float]:
    """Weights w_k for a named convention: ``"mean"`` -> 1/K, ``"sum"`` -> 1."""
    if kind == "mean":
        return [1.0 / n_sources] * n_sources
    if kind == "sum":
        return [1.0] * n_sources
    raise ValueError(f"unknown mixing kind {kind!r}; expected one of {MIXING_KINDS}")


def mix(sources, weights: Sequence[float]):
    """Mix sources along their source axis.

    sources: ``(..., K, T)`` torch tensor or numpy array; weights: K floats.
    Returns ``(..., T)`` of the same type.
    """
    k = sources.shape[-2]
    if len(weights) != k:
        raise ValueError(f"{k} sources but {len(weights)} mixing weights")
    if isinstance(sources, torch.Tensor):
        w = torch.as_tensor(list(weights), dtype=sources.dtype, device=sources.device)
        return (sources * w[:, None]).sum(-2)
    w = np.asarray(weights, dtype=sources.dtype)
    return (sources * w[:, None]).sum(-2)
