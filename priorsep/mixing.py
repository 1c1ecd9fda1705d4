"""The mixing model m = sum_k w_k s_k -- the one definition used everywhere.

Toy data uses the mean (w_k = 1/K), real music the sum (w_k = 1). Sampler, data and
evaluation all call :func:`mix` so that they can never disagree on the convention.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from .errors import ConfigError, UnknownNameError

MIXING_KINDS = ("mean", "sum")


def mixing_weights(kind: str, n_sources: int) -> list[float]:
    """Weights w_k for a named convention: ``"mean"`` -> 1/K, ``"sum"`` -> 1."""
    if kind == "mean":
        return [1.0 / n_sources] * n_sources
    if kind == "sum":
        return [1.0] * n_sources
    raise UnknownNameError(f"unknown mixing kind {kind!r}; expected one of {MIXING_KINDS}")


def mix(sources, weights: Sequence[float]):
    """Mix sources along their source axis.

    sources: ``(..., K, T)`` torch tensor or numpy array; weights: K floats.
    Returns ``(..., T)`` of the same type.
    """
    k = sources.shape[-2]
    if len(weights) != k:
        raise ConfigError(f"{k} sources but {len(weights)} mixing weights")
    if isinstance(sources, torch.Tensor):
        w = torch.as_tensor(list(weights), dtype=sources.dtype, device=sources.device)
        return (sources * w[:, None]).sum(-2)
    w = np.asarray(weights, dtype=sources.dtype)
    return (sources * w[:, None]).sum(-2)


def minimum_norm_split(m, weights: Sequence[float]):
    """The smallest sources that mix to ``m``: s_k = w_k m / sum_j w_j^2.

    m: ``(..., T)`` torch tensor or numpy array; returns ``(..., K, T)`` of the same type and dtype.
    """
    norm = float(sum(w * w for w in weights))
    if norm == 0:
        raise ConfigError("mixing weights are all zero")
    share = [w / norm for w in weights]
    if isinstance(m, torch.Tensor):
        return torch.as_tensor(share, dtype=m.dtype, device=m.device)[:, None] * m[..., None, :]
    return np.asarray(share, dtype=m.dtype)[:, None] * m[..., None, :]


def complete_sources(partial, m, weights: Sequence[float]):
    """Append the last source so that the set mixes exactly to ``m``: s_K = (m - sum_{k<K} w_k s_k) / w_K.

    This is the "difference output layer" of Wave-U-Net (and the exact constraint's
    parametrisation of the last source). partial: ``(..., K-1, T)``; m: ``(..., T)``; returns
    ``(..., K, T)`` of the same type.
    """
    if len(weights) != partial.shape[-2] + 1:
        raise ConfigError(f"{partial.shape[-2]} + 1 sources but {len(weights)} mixing weights")
    if weights[-1] == 0:
        raise ConfigError("the last source's mixing weight is zero; it cannot be solved from the mix")
    last = (m - mix(partial, weights[:-1])) / weights[-1]
    if isinstance(partial, torch.Tensor):
        return torch.cat([partial, last[..., None, :]], dim=-2)
    return np.concatenate([partial, last[..., None, :]], axis=-2)
