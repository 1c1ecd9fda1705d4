"""Non-negative matrix factorisation under the β-divergence, by multiplicative updates
(Févotte & Idier 2011): the one implementation behind the NMF dictionaries' training and their
separation (:mod:`priorsep.baselines.nmf`), with the frame stacking ("shingling") that gives each
dictionary shape a context of several consecutive STFT frames.

Written here rather than taken from scikit-learn: its ``NMF`` cannot hold the dictionary fixed
while fitting activations, which is the whole of the separation step, and this runs on torch
tensors (any device) without a copy.
"""
from __future__ import annotations

import torch

EPS = 1e-10  # keeps the updates' ratios finite where a bin or a component is exactly zero


def beta_nmf(v: torch.Tensor, w: torch.Tensor, h: torch.Tensor, iterations: int, beta: float,
             update_dictionary: bool = True, sparsity: float | torch.Tensor = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit ``v ≈ w @ h`` under the β-divergence (β 2: squared error, 1: Kullback-Leibler, 0:
    Itakura-Saito), plus ``sparsity * sum(h)`` (an L1 penalty on the activations, in ``v``'s units;
    a tensor broadcasts per item, e.g. ``(..., 1, 1)``). ``v (..., F, N)`` non-negative (a magnitude
    spectrogram), ``w (F, R)`` or ``(..., F, R)``, ``h (..., R, N)`` positive starting values. With
    ``update_dictionary`` the columns of ``w`` are kept summing to 1 (the scale goes to ``h``);
    without, ``w`` stays as given and only ``h`` is fitted. Returns the updated ``(w, h)`` (new tensors)."""
    if beta < 0 or beta > 2:
        raise ValueError(f"beta must be in [0, 2], got {beta}")
    w, h = w.clone(), h.clone()
    for _ in range(iterations):
        num, den = _ratio_terms(v, w @ h + EPS, beta)
        h = h * (w.transpose(-1, -2) @ num) / (w.transpose(-1, -2) @ den + sparsity + EPS)
        if update_dictionary:
            num, den = _ratio_terms(v, w @ h + EPS, beta)
            w = w * (num @ h.transpose(-1, -2)) / (den @ h.transpose(-1, -2) + EPS)
            scale = w.sum(-2, keepdim=True)
            w, h = w / scale, h * scale.transpose(-1, -2)
    return w, h


def _ratio_terms(v: torch.Tensor, wh: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(v * wh^(β-2), wh^(β-1))`` with one power instead of two (powers dominate the update's time)."""
    if beta == 1:
        return v / wh, torch.ones_like(wh)
    if beta == 2:
        return v, wh
    den = wh.rsqrt() if beta == 0.5 else wh ** (beta - 1)
    return v * den / wh, den


def beta_divergence(v: torch.Tensor, wh: torch.Tensor, beta: float) -> torch.Tensor:
    """Summed β-divergence D_β(v | wh) (what :func:`beta_nmf` lowers)."""
    v, wh = v + EPS, wh + EPS
    if beta == 0:
        return (v / wh - torch.log(v / wh) - 1).sum()
    if beta == 1:
        return (v * torch.log(v / wh) - v + wh).sum()
    return ((v ** beta + (beta - 1) * wh ** beta - beta * v * wh ** (beta - 1)) / (beta * (beta - 1))).sum()


def shingle(v: torch.Tensor, context: int, pad: bool) -> torch.Tensor:
    """Stack ``context`` consecutive frames: ``v (..., F, N)`` -> ``(..., context * F, windows)``, column
    j holding frames j .. j + context - 1 (rows: frame offset, then bin). Without ``pad``, ``N - context + 1``
    windows; with ``pad``, ``context - 1`` silent frames on both sides first, so every frame lies in exactly
    ``context`` windows (``N + context - 1`` of them; :func:`unshingle` inverts this)."""
    if pad:
        v = torch.nn.functional.pad(v, (context - 1, context - 1))
    if v.shape[-1] < context:
        raise ValueError(f"shingling {context} frames needs at least {context} frames, got {v.shape[-1]}")
    windows = v.unfold(-1, context, 1)  # (..., F, windows, context)
    return windows.movedim(-1, -3).reshape(*v.shape[:-2], context * v.shape[-2], -1)


def unshingle(s: torch.Tensor, context: int, frames: int) -> torch.Tensor:
    """Back from ``shingle(v, context, pad=True)``'s layout ``(..., context * F, frames + context - 1)`` to
    ``(..., F, frames)``: each frame the mean of its ``context`` copies (exact where the copies agree)."""
    s = s.reshape(*s.shape[:-2], context, -1, s.shape[-1])
    return sum(s[..., t, :, context - 1 - t:context - 1 - t + frames] for t in range(context)) / context
