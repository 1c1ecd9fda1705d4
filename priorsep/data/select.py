"""Which training or evaluation data a ``--data`` value names: ``toy``, ``musdb`` (a folder in the MUSDB
wav layout, see ``musdb_root``) or a folder of audio. The CLI's commands choose their data here; every
refusal is a documented error (:mod:`priorsep.errors`) whose message names the flag to fix."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import ConfigError, DataError, SampleRateError, UnknownNameError
from ..mixing import mixing_weights

TOY_PRIOR_NAMES = ("sine", "square", "sawtooth", "triangle")

# paired_set(length, split, size) -> a dataset of (mix, stems) crops of ``length`` samples from ``split``
# ("train", "valid", or "unpaired": the training tracks that are not paired ones, whose stems a
# FactorGAN may use unpaired), at most ``size`` distinct items
PairedSet = Callable[[int, str, int], object]


def solo_crops(data: str, source: str, crop: int, seed: int, musdb_root: str | None = None,
               sample_rate: int | None = None, mixing: str = "sum", n_sources: int = 4):
    """A prior's training crops of one source: ``(dataset, mixing, n_sources)``, the last two the
    mixing convention the prior is trained for (the toy set's, MUSDB's sum, or the given ones for a folder)."""
    if data == "toy":
        from .toy import TOY_MIXING, TOY_SOURCES, ToySourceCrops

        return ToySourceCrops(source, crop, seed=seed), TOY_MIXING, len(TOY_SOURCES)
    if data == "musdb":
        from .multitrack import MultitrackSolo

        if not musdb_root:
            raise ConfigError("--data musdb needs --musdb-root (a folder in the MUSDB wav layout)")
        return MultitrackSolo(musdb_root, source, crop, seed=seed, sample_rate=sample_rate), "sum", n_sources
    from .folder import FolderCrops

    return FolderCrops(data, crop, seed=seed), mixing, n_sources


def paired_crops(data: str, sources: Sequence[str], seed: int, musdb_root: str | None = None,
                 sample_rate: int | None = None,
                 paired_tracks: int | None = None) -> tuple[PairedSet, list[str], int, list[float]]:
    """A baseline's paired (mix, stems) training data: ``(paired_set, sources, sample_rate, mix_weights)``.
    ``toy`` separates the toy sources (``sources`` is ignored); ``musdb`` the given stems, mixed by their sum,
    train crops with random gains in [0.7, 1]. ``paired_tracks`` (musdb only): the training split's first
    that many tracks are the paired ones, the rest the ``"unpaired"`` split (default: every training
    track is both)."""
    if paired_tracks is not None and (data != "musdb" or paired_tracks < 1):
        raise ConfigError(f"--paired-tracks needs --data musdb and at least 1 track, got --data {data} "
                          f"--paired-tracks {paired_tracks}")
    if data == "toy":
        from .toy import TOY_MIXING, TOY_SAMPLE_RATE, TOY_SOURCES, ToyMixCrops

        def paired_set(length, split, size):
            return ToyMixCrops(length, seed=seed + (10_000 if split == "valid" else 0), size=size)

        return paired_set, list(TOY_SOURCES), TOY_SAMPLE_RATE, mixing_weights(TOY_MIXING, len(TOY_SOURCES))
    if data == "musdb":
        from .multitrack import MultitrackCrops

        if not musdb_root:
            raise ConfigError("--data musdb needs --musdb-root PATH (a folder in the MUSDB wav layout)")
        sources = list(sources)

        def paired_set(length, split, size):
            track_range = None
            if paired_tracks is not None and split in ("train", "unpaired"):
                track_range = (0, paired_tracks) if split == "train" else (paired_tracks, None)
            return MultitrackCrops(musdb_root, tuple(sources), length, seed=seed, sample_rate=sample_rate,
                                   split="valid" if split == "valid" else "train", size=size,
                                   gain_range=None if split == "valid" else (0.7, 1.0), track_range=track_range)

        probe = paired_set(16, "train", 1)
        return paired_set, sources, probe.sample_rate, mixing_weights("sum", len(sources))
    raise UnknownNameError(f"--data {data!r} is not supported; expected 'toy' or 'musdb'")


def source_databases(data: str, sources: Sequence[str], paired_set: PairedSet, length: int, split: str,
                     size: int, seed: int, layout: str, musdb_root: str | None = None,
                     sample_rate: int | None = None) -> list:
    """One database of ``size`` (mixture, one source's target) crops per source (the multitask
    separator's data). ``layout``:

    * ``"paired"``: views of the same paired crops of ``paired_set`` (every target of each mix, what
      simultaneous training needs);
    * ``"shared"``: source k's crops drawn on their own (seed + k) from every track (the paper's
      independent databases built from one multitrack set);
    * ``"disjoint"``: as ``"shared"`` but from every K-th track only (musdb; toy mixes are fresh draws
      anyway), so no two databases share a mix: per-source databases that never hold a full set of stems.
    """
    from .multitrack import MultitrackCrops, SourceTargets

    if layout not in ("paired", "shared", "disjoint"):
        raise ConfigError(f"layout must be 'paired', 'shared' or 'disjoint', got {layout!r}")
    k_sources = len(sources)
    if layout == "paired":
        paired = paired_set(length, split, size)
        return [SourceTargets(paired, k) for k in range(k_sources)]
    if data == "toy":
        from .toy import ToyMixCrops

        offset = 10_000 if split == "valid" else 0
        return [SourceTargets(ToyMixCrops(length, seed=seed + offset + 100 * k, size=size), k)
                for k in range(k_sources)]
    return [SourceTargets(MultitrackCrops(musdb_root, tuple(sources), length, seed=seed + k, sample_rate=sample_rate,
                                          split=split, gain_range=(0.7, 1.0) if split == "train" else None,
                                          size=size, part=(k, k_sources) if layout == "disjoint" else None), k)
            for k in range(k_sources)]


def unpaired_solo_crops(data: str, sources: Sequence[str], paired_set: PairedSet, crop: int, seed: int) -> list:
    """One dataset of solo crops per source, drawn independently (FactorGAN's unpaired data): the toy
    oscillators, or source k of independently drawn crops of ``paired_set``'s ``"unpaired"`` tracks."""
    if data == "toy":
        from .toy import ToySourceCrops

        return [ToySourceCrops(name, crop, seed=seed) for name in sources]
    from .multitrack import SoloView

    return [SoloView(paired_set(crop, "unpaired", 10**9), k, offset=k * 10**8) for k in range(len(sources))]


def mixture_crops(data: str, crop: int, seed: int, prior_names: Sequence[str], prior_rate: int):
    """Mixtures only (no stems), for training a variational encoder on priors ``prior_names`` at
    ``prior_rate`` Hz: ``toy`` mixtures (the toy prior set only) or crops of a folder of mixtures."""
    if data == "toy":
        from .multitrack import MixturesOnly
        from .toy import ToyMixCrops

        if sorted(prior_names) != sorted(TOY_PRIOR_NAMES):
            raise ConfigError("--data toy needs the toy prior set (sine, square, sawtooth, triangle), "
                              f"not {prior_names}")
        return MixturesOnly(ToyMixCrops(crop, seed=seed))
    from .folder import FolderCrops

    mixes = FolderCrops(data, crop, seed=seed)
    if mixes.sample_rate != prior_rate:
        raise SampleRateError(f"mixtures in {data} are at {mixes.sample_rate} Hz, the priors at {prior_rate} Hz")
    return mixes


def per_source_crops(data: str, n: int, length: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` test crops of ``length`` samples per source, ``{source: (n, length)}``: the toy evaluation
    set's stems, or crops of each sub-folder of ``data`` (``DIR/<source>/*.wav``)."""
    if data == "toy":
        from .toy import TOY_SOURCES, toy_eval_set

        ev = toy_eval_set(n, length, seed=seed)
        return {name: ev.sources[:, k] for k, name in enumerate(TOY_SOURCES)}
    from .folder import FolderCrops

    crops = {}
    for sub in sorted(p for p in Path(data).iterdir() if p.is_dir()):
        folder = FolderCrops(sub, length, seed=seed, training=False)  # held-out test stems are fine here
        crops[sub.name] = np.stack([folder[i].numpy() for i in range(n)])
    if not crops:
        raise DataError(f"{data} has no sub-folders of per-source audio (expected DIR/<source>/*.wav)")
    return crops
