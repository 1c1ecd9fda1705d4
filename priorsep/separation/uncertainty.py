"""What posterior draws say about a separation: per source, how much the draws disagree.

For draws d_1..d_S of one source (Langevin, :mod:`priorsep.separation.draws`, or variational) with
mean d̄, the *confidence* is the energy of the mean over the draws' mean squared deviation from it,
in dB: 10 log10(|d̄|^2 / (1/S) sum_j |d_j - d̄|^2). If the draws were exact posterior samples it
would be the expected signal-to-error ratio of the mean, so it reads like an SDR: high where the
draws agree, low where they fall in different modes or where the posterior is wide (a quiet,
masked source). The *spread track* is the same ratio over time, frame by frame (as a relative
standard deviation), and :func:`plot_uncertainty` draws both with the spread's spectrogram.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError

_TINY = 1e-20  # keeps the ratios finite for all-zero input


def _check(draws: np.ndarray) -> np.ndarray:
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim < 2 or draws.shape[0] < 2:
        raise ConfigError(f"uncertainty needs draws shaped (S >= 2, ..., T), got {draws.shape}")
    return draws


def confidence_db(draws: np.ndarray) -> float:
    """Confidence of one source's draws ``(S, ..., T)`` in dB (see the module docstring)."""
    draws = _check(draws)
    mean = draws.mean(0)
    spread = ((draws - mean) ** 2).sum() / draws.shape[0]
    return float(10 * np.log10(((mean**2).sum() + _TINY) / (spread + _TINY)))


def spread_track(draws: np.ndarray, frame: int, floor: float = 0.1) -> np.ndarray:
    """One source's draws ``(S, ..., T)`` -> ``(ceil(T / frame),)``: per frame of ``frame`` samples,
    the draws' RMS deviation from their mean over the mean's RMS in that frame, the latter at least
    ``floor`` times the mean's RMS over the whole signal (silent frames do not divide by zero)."""
    draws = _check(draws)
    mean = draws.mean(0)
    return relative_spread(((draws - mean) ** 2).mean(0), mean, frame, floor)


#: points of a spread track drawn in a report, whatever the signal's length
SPREAD_POINTS = 200


def spread_frame(length: int) -> int:
    """The frame (samples) that gives a ``length``-sample signal a spread track of about :data:`SPREAD_POINTS`."""
    return max(1, length // SPREAD_POINTS)


def relative_spread(variance: np.ndarray, mean: np.ndarray, frame: int, floor: float = 0.1) -> np.ndarray:
    """:func:`spread_track` from the draws' per-sample ``variance`` and ``mean`` (both ``(..., T)``,
    e.g. the ``SOURCE.spread.wav`` squared and the ``SOURCE.wav`` that ``separate --samples`` writes)."""
    if frame < 1:
        raise ConfigError(f"frame must be >= 1 sample, got {frame}")
    t = np.shape(mean)[-1]
    pad = -t % frame
    as_frames = lambda x: np.pad(np.asarray(x, dtype=np.float64).reshape(-1, t), ((0, 0), (0, pad)))  # (C, T')
    dev, mean = as_frames(variance), as_frames(mean)
    frames = lambda x: x.reshape(x.shape[0], -1, frame).mean((0, 2))  # noqa: E731  (C, T') -> (frames,)
    energy = frames(mean**2)
    energy = np.maximum(energy, floor**2 * (mean**2).sum() / (mean.shape[0] * t) + _TINY)
    return np.sqrt(frames(dev) / energy)


def summarize_draws(draws: dict[str, np.ndarray]) -> dict[str, float]:
    """``{source: confidence in dB}`` of ``{source: draws (S, ..., T)}``."""
    return {name: confidence_db(d) for name, d in draws.items()}


def plot_uncertainty(draws: dict[str, np.ndarray], sample_rate: int, path: str | Path, n_fft: int = 1024,
                     hop: int = 256) -> Path:
    """A PNG with, per source, the spectrogram of the draws' mean, the spectrogram of their spread
    (RMS over draws of each draw's STFT minus the mean's, in dB) and the spread track; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from ..dsp.stft import stft

    path = Path(path)
    fig, axes = plt.subplots(len(draws), 3, figsize=(14, 2.6 * len(draws)), squeeze=False)
    for row, (name, d) in zip(axes, draws.items()):
        d = _check(d)
        mono = d.reshape(d.shape[0], -1, d.shape[-1]).mean(1)  # (S, T): channels averaged for display
        spec = stft(torch.from_numpy(mono).float(), n_fft, hop).numpy()  # (S, F, N) complex
        mean_spec = spec.mean(0)
        spread_spec = np.sqrt((np.abs(spec - mean_spec) ** 2).mean(0))
        top = 20 * np.log10(np.abs(mean_spec).max() + 1e-9)
        extent = (0, mono.shape[-1] / sample_rate, 0, sample_rate / 2000)
        for ax, image, title in ((row[0], mean_spec, "mean"), (row[1], spread_spec, "spread")):
            db = 20 * np.log10(np.abs(image) + 1e-9)
            ax.imshow(db, origin="lower", aspect="auto", extent=extent, vmin=top - 80, vmax=top, cmap="magma")
            ax.set(title=f"{name}: {title}", ylabel="kHz")
        track = spread_track(d, hop)
        row[2].plot(np.arange(len(track)) * hop / sample_rate, track)
        row[2].set(title=f"{name}: relative spread (confidence {confidence_db(d):.1f} dB)", ylim=(0, None))
    for ax in axes[-1]:
        ax.set_xlabel("seconds")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
