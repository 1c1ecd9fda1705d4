"""Training crops from a folder of solo stems (any wav/flac soundfile reads)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .audio import list_audio_files, read_audio
from ..errors import DataError


class FolderCrops(torch.utils.data.Dataset):
    """Random ``(length,)`` crops of the solo recordings in ``folder``; item i fixed by (seed, i).

    Files are downmixed to mono. All files must share one sample rate; silent crops are
    redrawn (a prior learns nothing from digital silence).
    """

    def __init__(self, folder: str | Path, length: int = 2048, seed: int = 0, size: int = 10**9):
        files = list_audio_files(folder)
        if not files:
            raise DataError(f"no audio files (wav/flac/ogg/aiff) found in {folder}")
        self.tracks, rates = [], set()
        for f in files:
            audio, rate = read_audio(f)
            rates.add(rate)
            mono = audio.mean(0)
            if not np.all(np.isfinite(mono)):
                raise DataError(f"{f} contains NaN or inf samples")
            if len(mono) >= length and np.any(mono):
                self.tracks.append(mono)
        if len(rates) > 1:
            raise DataError(f"files in {folder} have different sample rates {sorted(rates)}; resample them to one rate")
        if not self.tracks:
            raise DataError(f"no non-silent file in {folder} is at least {length} samples long")
        self.sample_rate = rates.pop()
        self.folder, self.length, self.seed, self.size = Path(folder), length, seed, size
        lengths = np.array([len(t) - length + 1 for t in self.tracks], dtype=np.float64)
        self._p = lengths / lengths.sum()

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> torch.Tensor:
        rng = np.random.default_rng([self.seed, int(i)])
        for _ in range(100):
            track = self.tracks[rng.choice(len(self.tracks), p=self._p)]
            start = rng.integers(0, len(track) - self.length + 1)
            crop = track[start : start + self.length]
            if np.abs(crop).max() > 1e-4:
                break
        return torch.from_numpy(np.ascontiguousarray(crop, dtype=np.float32))

    def describe(self) -> str:
        return (f"{len(self.tracks)} files from {self.folder} at {self.sample_rate} Hz, "
                f"random crops of {self.length} samples")
