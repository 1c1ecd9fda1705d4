"""Training crops from a folder of solo stems (any wav/flac soundfile reads)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .audio import list_audio_files, read_audio
from .band import check_trainable, soundfont_note
from ..errors import DataError

SILENT = 1e-4  # peak amplitude below which a file or crop counts as silence


def clipped_samples(audio: np.ndarray, full_scale: float = 0.999) -> int:
    """Samples of ``audio (C, T)`` in runs of 3 or more at the same sign at ``|x| >= full_scale``
    (what clipping leaves; a waveform touches full scale only at isolated peaks otherwise)."""
    at = np.abs(audio) >= full_scale
    runs = at[..., 2:] & at[..., 1:-1] & at[..., :-2] & (np.sign(audio[..., 2:]) == np.sign(audio[..., :-2]))
    return int(runs.sum())


class FolderCrops(torch.utils.data.Dataset):
    """Random ``(length,)`` crops of the solo recordings in ``folder``; item i fixed by (seed, i).

    Files are downmixed to mono. All files must share one sample rate; a silent file, a clipped
    one (:func:`clipped_samples`) or a band stem rendered with a held-out SoundFont
    (:func:`~priorsep.data.band.check_trainable`) is an error naming it; files shorter than a crop
    are skipped and silent crops are redrawn (a prior learns nothing from digital silence).
    ``training=False`` (evaluation crops) accepts held-out stems.
    """

    def __init__(self, folder: str | Path, length: int = 2048, seed: int = 0, size: int = 10**9,
                 training: bool = True):
        files = list_audio_files(folder)
        if not files:
            raise DataError(f"no audio files (wav/flac/ogg/aiff) found in {folder}")
        self.tracks, rates, fonts = [], {}, []
        for f in files:
            if training:
                fonts.append(check_trainable(f))
            audio, rate = read_audio(f)
            rates.setdefault(rate, []).append(f.name)
            mono = audio.mean(0)
            if not np.all(np.isfinite(mono)):
                raise DataError(f"{f} contains NaN or inf samples")
            if not np.abs(mono).max(initial=0.0) > SILENT:
                raise DataError(f"{f} is silent (no sample above {SILENT}); remove it from the training folder")
            clipped = clipped_samples(audio)
            if clipped:
                raise DataError(f"{f} is clipped ({clipped} samples at full scale); export it with less gain")
            if len(mono) >= length:
                self.tracks.append(mono)
        if len(rates) > 1:
            found = "; ".join(f"{rate} Hz: {', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"
                              for rate, names in sorted(rates.items()))
            raise DataError(f"files in {folder} have different sample rates ({found}); resample them to one rate")
        if not self.tracks:
            raise DataError(f"no file in {folder} is at least {length} samples long")
        self.sample_rate = next(iter(rates))
        self.folder, self.length, self.seed, self.size = Path(folder), length, seed, size
        self.rendering = soundfont_note(fonts)  # band stems: which SoundFonts played them
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
            if np.abs(crop).max() > SILENT:
                break
        return torch.from_numpy(np.ascontiguousarray(crop, dtype=np.float32))

    def describe(self) -> str:
        return (f"{len(self.tracks)} files from {self.folder} at {self.sample_rate} Hz, "
                f"random crops of {self.length} samples{self.rendering}")
