"""Toy oscillator data (seed 003): four sources, 14700 Hz, mixed by the mean.

Per item and source: piano key n uniform on {1.0, 1.1, ..., 88.0}, f = 440 * 2**((n - 49) / 12),
period P = floor(rate / f) samples, phase phi ~ U[0, 2 pi), amplitude A ~ U[0.8, 1.0];
waveform A * shape(2 pi t / P + phi). Everything is deterministic given a seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.signal
import torch

from ..mixing import mix, mixing_weights
from ..errors import ConfigError, UnknownNameError

TOY_SAMPLE_RATE = 14700
TOY_SOURCES = ("sine", "square", "sawtooth", "triangle")
TOY_MIXING = "mean"

_SHAPES = {
    "sine": np.sin,
    "square": scipy.signal.square,
    "sawtooth": scipy.signal.sawtooth,
    "triangle": lambda x: scipy.signal.sawtooth(x, width=0.5),
}


def oscillator(source: str, length: int, rng: np.random.Generator) -> np.ndarray:
    """One random oscillator of ``source`` shape, ``(length,)`` float32."""
    if source not in _SHAPES:
        raise UnknownNameError(f"unknown toy source {source!r}; expected one of {TOY_SOURCES}")
    key = 1.0 + 0.1 * rng.integers(0, 871)  # {1.0, 1.1, ..., 88.0}
    freq = 440.0 * 2.0 ** ((key - 49.0) / 12.0)
    period = np.floor(TOY_SAMPLE_RATE / freq)
    phase = rng.uniform(0.0, 2.0 * np.pi)
    amp = rng.uniform(0.8, 1.0)
    return periodic_wave(source, period, length, phase, amp)


def periodic_wave(source: str, period: float, length: int, phase: float = 0.0, amp: float = 1.0) -> np.ndarray:
    """``amp * shape(2 pi t / period + phase)`` for t = 0 .. length - 1, ``(length,)`` float32;
    ``period`` in samples (the toy data's are whole numbers, 3 to 534)."""
    if source not in _SHAPES:
        raise UnknownNameError(f"unknown toy source {source!r}; expected one of {TOY_SOURCES}")
    if not period > 0:
        raise ConfigError(f"period must be positive (samples), got {period}")
    t = np.arange(length)
    return (amp * _SHAPES[source](2.0 * np.pi * t / period + phase)).astype(np.float32)


@dataclass
class ToyEvalSet:
    """A fixed evaluation set: ``sources (n, K, T)``, ``mixes (n, T)``, float32 numpy."""

    sources: np.ndarray
    mixes: np.ndarray
    names: tuple[str, ...] = TOY_SOURCES
    sample_rate: int = TOY_SAMPLE_RATE


def toy_eval_set(n: int, length: int = 16384, seed: int = 2026) -> ToyEvalSet:
    """``n`` fresh toy items of ``length`` samples; item i depends only on (seed, i)."""
    if n < 1 or length < 1:
        raise ConfigError(f"need n >= 1 and length >= 1, got n={n}, length={length}")
    sources = np.stack(
        [
            np.stack([oscillator(s, length, np.random.default_rng([seed, i, k])) for k, s in enumerate(TOY_SOURCES)])
            for i in range(n)
        ]
    )
    mixes = mix(sources, mixing_weights(TOY_MIXING, len(TOY_SOURCES)))
    return ToyEvalSet(sources=sources, mixes=mixes)


class ToySourceCrops(torch.utils.data.Dataset):
    """Training crops of one toy source: item ``i`` is a ``(length,)`` tensor fixed by (seed, i).

    Indexing by step makes training resumable without saving generator state.
    """

    def __init__(self, source: str, length: int = 2048, seed: int = 0, size: int = 10**9):
        if source not in TOY_SOURCES:
            raise UnknownNameError(f"unknown toy source {source!r}; expected one of {TOY_SOURCES}")
        self.source, self.length, self.seed, self.size = source, length, seed, size
        self.sample_rate = TOY_SAMPLE_RATE

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, TOY_SOURCES.index(self.source), int(i)])
        return torch.from_numpy(oscillator(self.source, self.length, rng))

    def describe(self) -> str:
        return f"toy oscillator '{self.source}' (seed {self.seed}), random crops of {self.length} samples"


class ToyMixCrops(torch.utils.data.Dataset):
    """Paired training items for supervised separators: item ``i`` is ``(mix (T,), sources (K, T))``,
    fixed by (seed, i), sources in :data:`TOY_SOURCES` order, mixed by :func:`priorsep.mixing.mix`.

    ``size`` limits the number of distinct paired items (index ``i`` wraps around), which is how a
    baseline is restricted to ``N`` paired examples. The seed separates training from validation.
    """

    def __init__(self, length: int = 16384, seed: int = 0, size: int = 10**9):
        if length < 1 or size < 1:
            raise ConfigError(f"need length >= 1 and size >= 1, got length={length}, size={size}")
        self.length, self.seed, self.size = length, seed, size
        self.sample_rate = TOY_SAMPLE_RATE
        self.names = TOY_SOURCES
        self.weights = mixing_weights(TOY_MIXING, len(TOY_SOURCES))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = int(i) % self.size
        sources = np.stack([oscillator(s, self.length, np.random.default_rng([self.seed, 1000 + k, i]))
                            for k, s in enumerate(TOY_SOURCES)])
        return torch.from_numpy(mix(sources, self.weights)), torch.from_numpy(sources)

    def describe(self) -> str:
        n = "unlimited" if self.size >= 10**9 else str(self.size)
        return f"toy mixes of {list(TOY_SOURCES)} (seed {self.seed}, {n} paired items), crops of {self.length} samples"
