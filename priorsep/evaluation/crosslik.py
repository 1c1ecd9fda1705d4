"""Cross-likelihood diagnostic: is each source's test data most likely under its own prior?

``matrix[i, j, k]`` is the mean log-likelihood per sample (nats/sample) of source ``j``'s test
crops, noised at ``sigmas[i]``, under prior ``k`` at that same noise level. A prior set is
useful for separation only if every source scores highest under its own prior.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import torch

from ..priors.base import Prior
from ..errors import ConfigError, InvalidAudioError


def _anchor(prior: Prior) -> tuple[torch.dtype, torch.device]:
    """dtype and device of a prior's first parameter or buffer (float32 / cpu if none)."""
    for t in list(prior.parameters()) + list(prior.buffers()):
        if t.is_floating_point():
            return t.dtype, t.device
    return torch.float32, torch.device("cpu")


def cross_likelihood(
    priors: Iterable[Prior],
    data: Mapping[str, np.ndarray],
    sigmas: Sequence[float],
    seed: int = 0,
    batch_size: int = 16,
) -> np.ndarray:
    """Mean log-likelihood per sample of every source's data under every prior, per noise level.

    priors: a :class:`~priorsep.priors.io.PriorSet` (or any iterable of priors).
    data: ``{source name: (n, T) crops}`` (numpy or torch; a ``(T,)`` array is one crop), in the
    priors' amplitude scale and sample rate; ``T`` must suit every prior's ``length_multiple``.
    sigmas: noise levels; the crops are noised as ``x + sigma * eps`` with ``eps`` from a torch
    generator seeded with ``seed`` -- the same noise for every prior, so rows compare fairly.
    Each prior scores batches of at most ``batch_size`` (<= 16) crops under ``torch.no_grad``.
    Returns float64 ``(len(sigmas), len(data), n_priors)`` in nats/sample:
    ``prior.log_prob(x, sigma)`` (total nats per crop) divided by ``T``, averaged over crops.
    """
    priors = list(priors)
    if not priors:
        raise ConfigError("cross_likelihood needs at least one prior")
    if not data:
        raise ConfigError("cross_likelihood needs data for at least one source")
    if not 1 <= batch_size <= 16:
        raise ConfigError(f"batch_size must be in 1..16, got {batch_size}")
    sigmas = [float(s) for s in sigmas]
    if not sigmas or any(not s > 0 for s in sigmas):
        raise ConfigError(f"sigmas must be a non-empty list of positive floats, got {sigmas}")
    multiple = math.lcm(*(p.length_multiple for p in priors))

    crops: list[torch.Tensor] = []
    for name, x in data.items():
        x = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
        x = x.to(torch.float64)
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise InvalidAudioError(f"data[{name!r}] must be shaped (n, T) with n, T >= 1; got {tuple(x.shape)}")
        if x.shape[1] % multiple:
            raise ConfigError(
                f"data[{name!r}] has {x.shape[1]} samples per crop; the priors need a multiple of {multiple}"
            )
        crops.append(x)

    gen = torch.Generator().manual_seed(int(seed))
    out = np.zeros((len(sigmas), len(crops), len(priors)))
    was_training = [p.training for p in priors]
    for p in priors:
        p.eval()
    try:
        with torch.no_grad():
            for i, sigma in enumerate(sigmas):
                for j, x in enumerate(crops):
                    noisy = x + sigma * torch.randn(x.shape, generator=gen, dtype=torch.float64)
                    n, length = noisy.shape
                    for k, prior in enumerate(priors):
                        dtype, device = _anchor(prior)
                        total = 0.0
                        for start in range(0, n, batch_size):
                            xb = noisy[start : start + batch_size].to(device=device, dtype=dtype)
                            total += float(prior.log_prob(xb, sigma).double().sum())
                        out[i, j, k] = total / (n * length)
    finally:
        for p, t in zip(priors, was_training):
            p.train(t)
    return out


def _own_prior_check(matrix: np.ndarray, data_names: Sequence[str], prior_names: Sequence[str]):
    """Per sigma: list of (data name, own prior wins?) for data names that have a prior."""
    pairs = [(j, list(prior_names).index(n)) for j, n in enumerate(data_names) if n in prior_names]
    result = []
    for i in range(matrix.shape[0]):
        row = []
        for j, k in pairs:
            vals = np.where(np.isnan(matrix[i, j]), -np.inf, matrix[i, j])
            row.append((data_names[j], bool(np.isfinite(vals[k]) and vals[k] >= vals.max())))
        result.append(row)
    return result


def _check_shapes(matrix, sigmas, data_names, prior_names) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    expected = (len(sigmas), len(data_names), len(prior_names))
    if matrix.shape != expected:
        raise ConfigError(f"matrix shape {matrix.shape} does not match (sigmas, data, priors) = {expected}")
    return matrix


def format_cross_likelihood(
    matrix: np.ndarray, sigmas: Sequence[float], data_names: Sequence[str], prior_names: Sequence[str]
) -> str:
    """A text table per sigma (rows: data source, columns: prior, ``*`` marks each row's max)
    followed by whether every source scores highest under its own (same-named) prior.

    matrix: ``(len(sigmas), len(data_names), len(prior_names))`` in nats/sample.
    """
    matrix = _check_shapes(matrix, sigmas, data_names, prior_names)
    cells = [[[f"{v:.4g}" for v in row] for row in panel] for panel in matrix]
    width = max([len(n) for n in prior_names] + [len(c) for panel in cells for row in panel for c in row]) + 1
    label_w = max(len("data \\ prior"), *(len(n) for n in data_names))
    checks = _own_prior_check(matrix, data_names, prior_names)
    lines: list[str] = []
    for i, sigma in enumerate(sigmas):
        lines.append(f"sigma = {sigma:g}  (mean log-likelihood, nats/sample; * = row max)")
        lines.append("data \\ prior".ljust(label_w) + " " + " ".join(n.rjust(width) for n in prior_names))
        for j, name in enumerate(data_names):
            row = np.where(np.isnan(matrix[i, j]), -np.inf, matrix[i, j])
            best = int(np.argmax(row))
            texts = [(c + ("*" if k == best else " ")).rjust(width + 1) for k, c in enumerate(cells[i][j])]
            lines.append(name.ljust(label_w) + "".join(texts))
        failed = [n for n, ok in checks[i] if not ok]
        if checks[i]:
            lines.append("own prior highest: " + ("yes" if not failed else "NO (" + ", ".join(failed) + ")"))
        lines.append("")
    if not any(checks):
        lines.append("no data source has a prior of the same name: own-prior check not applicable")
    else:
        all_ok = all(ok for row in checks for _, ok in row)
        lines.append(
            "every source scores highest under its own prior at every sigma: " + ("yes" if all_ok else "NO")
        )
    return "\n".join(lines)


def plot_cross_likelihood(
    matrix: np.ndarray,
    sigmas: Sequence[float],
    data_names: Sequence[str],
    prior_names: Sequence[str],
    path: str | Path,
) -> Path:
    """Write a PNG with one annotated heatmap per sigma; returns the path.

    Cells are annotated with their value (nats/sample, ``*`` on the row max) and coloured by
    how far below the row's best they are on a symmetric-log scale, so a diagonal of row
    maxima stays visible even when off-diagonal values reach -1e6.
    Uses matplotlib's Agg canvas directly (no pyplot, no global backend change).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import SymLogNorm
    from matplotlib.figure import Figure

    matrix = _check_shapes(matrix, sigmas, data_names, prior_names)
    n_s, n_d, n_p = matrix.shape
    finite = np.where(np.isfinite(matrix), matrix, -np.inf)
    row_max = finite.max(-1, keepdims=True)
    gap = np.where(np.isfinite(finite) & np.isfinite(row_max), finite - row_max, np.nan)
    vmin = float(np.nanmin(gap)) if np.any(np.isfinite(gap)) else -1.0
    vmin = min(vmin, -1.0)
    gap = np.where(np.isnan(gap), vmin, gap)
    norm = SymLogNorm(linthresh=0.1, vmin=vmin, vmax=0.0, base=10)

    cell = 0.9
    fig = Figure(figsize=(max(3.5, 1.2 + cell * n_p) * n_s + 1.2, 1.4 + cell * n_d), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n_s, squeeze=False)[0]
    im = None
    for i, ax in enumerate(axes):
        im = ax.imshow(gap[i], cmap="viridis", norm=norm, aspect="auto")
        ax.set_title(f"sigma = {sigmas[i]:g}")
        ax.set_xticks(range(n_p), labels=list(prior_names), rotation=45, ha="right")
        ax.set_yticks(range(n_d), labels=list(data_names))
        ax.set_xlabel("prior")
        if i == 0:
            ax.set_ylabel("data")
        for j in range(n_d):
            best = int(np.argmax(finite[i, j]))
            for k in range(n_p):
                v = matrix[i, j, k]
                text = f"{v:.3g}" + ("*" if k == best else "")
                colour = "black" if gap[i, j, k] > norm.inverse(0.6) else "white"
                ax.text(k, j, text, ha="center", va="center", fontsize=8, color=colour)
    cbar = fig.colorbar(im, ax=list(axes), shrink=0.9)
    cbar.set_label("nats/sample below row max (symlog)")
    fig.suptitle("cross-likelihood: mean log-likelihood per sample")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
