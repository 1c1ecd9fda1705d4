"""Paired crops from multitrack folders in the MUSDB18 wav layout:
``root/{train,test}/<track>/{mixture,<source>...}.wav`` (MUSDB18-HQ / ``musdb --wav``, or the
synthetic band stems). Audio is read crop by crop with soundfile, never whole songs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from .audio import fit_length, resample
from .band import check_trainable, soundfont_note
from ..mixing import mix, mixing_weights
from ..errors import ConfigError, DataError, DataNotFoundError

MUSDB_SOURCES = ("vocals", "drums", "bass", "other")


def multitrack_tracks(root: str | Path, subset: str, sources: tuple[str, ...]) -> list[Path]:
    """Track folders of ``root/subset`` that have a wav for every source (sorted by name)."""
    folder = Path(root) / subset
    if not folder.is_dir():
        raise DataNotFoundError(f"no {subset!r} folder in {root}; expected the MUSDB layout "
                                f"root/{{train,test}}/<track>/{{mixture,{','.join(sources)}}}.wav")
    tracks = sorted(p for p in folder.iterdir() if p.is_dir() and all((p / f"{s}.wav").is_file() for s in sources))
    if not tracks:
        raise DataNotFoundError(f"no track in {folder} has all of {[s + '.wav' for s in sources]}")
    return tracks


class MultitrackCrops(torch.utils.data.Dataset):
    """Item ``i``: ``(mix (T,), sources (K, T))`` mono float32 at ``sample_rate``, a random crop of a
    random track fixed by (seed, i); the mix is the *sum* of the sources (``mixing="sum"``), which
    keeps the mixing model exact. ``split`` picks every track (``"all"``), or deterministically all
    but every ``valid_every``-th track (``"train"``) or only those (``"valid"``). ``gain_range``
    scales each source by a random factor (Wave-U-Net's augmentation, 0.7-1.0); validation sets use
    ``None``. ``part=(j, n)`` keeps every ``n``-th of those tracks from the ``j``-th: ``n`` parts share
    no track (per-source databases that never hold two stems of one mix). ``track_range=(start, stop)``
    keeps ``tracks[start:stop]`` of them (``stop`` None: to the end), e.g. the first few as paired
    tracks and the rest as unpaired stems (FactorGAN's regime).
    """

    def __init__(self, root: str | Path, sources: tuple[str, ...] = MUSDB_SOURCES, length: int = 16384,
                 seed: int = 0, sample_rate: int | None = None, subset: str = "train", split: str = "all",
                 valid_every: int = 5, gain_range: tuple[float, float] | None = None, size: int = 10**9,
                 part: tuple[int, int] | None = None, track_range: tuple[int, int | None] | None = None):
        if split not in ("all", "train", "valid"):
            raise ConfigError(f"split must be 'all', 'train' or 'valid', got {split!r}")
        tracks = multitrack_tracks(root, subset, tuple(sources))
        # training data: never a band track of held-out instruments; the SoundFont of each stem, for the record
        fonts = {t: [check_trainable(t / f"{s}.wav") for s in sources] for t in tracks}
        if split != "all" and len(tracks) >= 2:
            valid = set(tracks[valid_every - 1::valid_every] or tracks[-1:])
            tracks = [t for t in tracks if (t in valid) == (split == "valid")]
        if part is not None:
            j, n = part
            if not 0 <= j < n or not tracks[j::n]:
                raise DataError(f"part {part} of {len(tracks)} {split} tracks in {root} is empty; need 0 <= j < n "
                                "<= the number of tracks")
            tracks = tracks[j::n]
        if track_range is not None:
            start, stop = track_range
            if not tracks[start:stop]:
                raise DataError(f"tracks {start}:{stop} of the {len(tracks)} {split} tracks in {root} are none; "
                                "ask for fewer paired tracks")
            tracks = tracks[start:stop]
        self.tracks, self.names, self.length, self.seed = tracks, tuple(sources), length, seed
        self.gain_range, self.size = gain_range, size
        self.weights = mixing_weights("sum", len(self.names))
        info = [sf.info(str(t / f"{self.names[0]}.wav")) for t in tracks]
        rates = {i.samplerate for i in info}
        if len(rates) > 1 and sample_rate is None:
            raise DataError(f"tracks in {root} have several sample rates {sorted(rates)}; pass sample_rate")
        self.file_rate = {t: i.samplerate for t, i in zip(tracks, info)}
        self.frames = {t: i.frames for t, i in zip(tracks, info)}
        self.sample_rate = int(sample_rate or rates.pop())
        self.root, self.subset, self.split, self.part = Path(root), subset, split, part
        self.track_range = track_range
        # the SoundFonts of the stems used (band tracks only), for the checkpoint's training_data
        self.rendering = soundfont_note(f for t in tracks for f in fonts[t])

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng([self.seed, int(i) % self.size])
        track = self.tracks[rng.integers(len(self.tracks))]
        rate = self.file_rate[track]
        need = int(np.ceil(self.length * rate / self.sample_rate)) + 1
        start = int(rng.integers(0, max(1, self.frames[track] - need)))
        stems = []
        for name in self.names:
            audio, _ = sf.read(str(track / f"{name}.wav"), start=start, frames=need, dtype="float32", always_2d=True)
            audio = audio.mean(1)
            if rate != self.sample_rate:
                audio = resample(audio, rate, self.sample_rate)
            stems.append(fit_length(audio, self.length))
        sources = np.stack(stems).astype(np.float32)
        if self.gain_range is not None:
            sources *= rng.uniform(*self.gain_range, size=(len(self.names), 1)).astype(np.float32)
        return torch.from_numpy(mix(sources, self.weights)), torch.from_numpy(sources)

    def describe(self) -> str:
        part = "" if self.part is None else f", part {self.part[0]} of {self.part[1]}"
        if self.track_range is not None:
            start, stop = self.track_range
            part += f", tracks {start}:{'' if stop is None else stop}"
        return (f"multitrack folder {self.root}/{self.subset} ({self.split} split{part}, {len(self.tracks)} tracks, "
                f"sources {list(self.names)}), mono crops of {self.length} samples at {self.sample_rate} Hz"
                + self.rendering)


class MixturesOnly:
    """The mixtures of a paired dataset ``(mix, sources)``: what variational training may see."""

    def __init__(self, paired):
        self.paired = paired

    def __len__(self) -> int:
        return len(self.paired)

    def __getitem__(self, i: int):
        return self.paired[i][0]

    def describe(self) -> str:
        return "mixtures only (no stems) of " + (self.paired.describe() if hasattr(self.paired, "describe") else "")


class SourceTargets(torch.utils.data.Dataset):
    """Source ``k``'s database of (mixture, target) pairs from a paired dataset: item ``i`` is
    ``(mix (T,), sources[k] (T,))`` of paired item ``i`` (what the interleaved multitask training reads)."""

    def __init__(self, paired, k: int):
        self.paired, self.k = paired, k
        self.sample_rate = paired.sample_rate

    def __len__(self) -> int:
        return len(self.paired)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        mix_, sources = self.paired[i]
        return mix_, sources[self.k]

    def describe(self) -> str:
        return f"mixtures with source {self.paired.names[self.k]!r} only, of {self.paired.describe()}"


class SoloView(torch.utils.data.Dataset):
    """Unpaired solo crops of source ``k`` from a paired dataset: item ``i`` is source ``k`` of paired
    item ``i + offset``, so views with different offsets draw independent crops."""

    def __init__(self, paired, k: int, offset: int = 0):
        self.paired, self.k, self.offset = paired, k, offset
        self.sample_rate = paired.sample_rate

    def __len__(self) -> int:
        return len(self.paired)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.paired[int(i) + self.offset][1][self.k]

    def describe(self) -> str:
        return f"source {self.paired.names[self.k]!r} of {self.paired.describe()}"


class MultitrackSolo(torch.utils.data.Dataset):
    """Solo crops ``(length,)`` of one ``source`` of a multitrack folder (MUSDB wav layout), for
    training a prior: crops where the source is silent (peak below 1e-4; vocals often are) are
    redrawn. Item i is fixed by (seed, i)."""

    def __init__(self, root: str | Path, source: str, length: int = 2048, seed: int = 0,
                 sample_rate: int | None = None, subset: str = "train"):
        self.paired = MultitrackCrops(root, (source,), length=length, seed=seed, sample_rate=sample_rate, subset=subset)
        self.sample_rate, self.source = self.paired.sample_rate, source

    def __len__(self) -> int:
        return len(self.paired)

    def __getitem__(self, i: int) -> torch.Tensor:
        for attempt in range(100):
            crop = self.paired[(int(i) * 100 + attempt) % len(self.paired)][1][0]
            if crop.abs().max() > 1e-4:
                return crop
        raise DataError(f"{self.source!r} is silent in 100 random crops of {self.paired.root}; is the stem empty?")

    def describe(self) -> str:
        return f"solo {self.source!r} crops (silent ones redrawn) of {self.paired.describe()}"
