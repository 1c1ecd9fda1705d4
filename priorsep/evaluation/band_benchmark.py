"""The band benchmark: excerpts of synthetic band test tracks, every method, one table
(see :mod:`.benchmark`). Render the test tracks with another SoundFont than the training tracks
(``priorsep data band --soundfont musescore``) to measure generalisation to other instruments.

Two protocols: excerpts (:func:`band_benchmark_set`: 4-s excerpts where every stem is audible,
SI-SDRi over each) and whole tracks (:func:`band_track_set`: each test track separated whole,
SI-SDRi over 4-s windows every 2 s where at least two sources are active, the protocol of the
Slakh2100 results, and museval SDR as the median over 1-s frames, then over tracks).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.audio import read_audio
from ..data.band import BAND_MIXING, BAND_SAMPLE_RATE, BAND_SOURCES
from ..data.multitrack import multitrack_tracks
from ..errors import DataError, SampleRateError
from ..mixing import mix, mixing_weights
from ..separator import Separator
from .benchmark import EvalSet, KeepFn, bench_table

#: an excerpt is used only where every stem is at least this loud (RMS, dB below full scale): SI-SDR
#: of a silent reference is undefined
MIN_STEM_DB = -50.0


def _read_stems(track: Path) -> np.ndarray:
    """A band track's stems ``(K, T)`` (mono), checked to be at the band's rate."""
    stems = []
    for s in BAND_SOURCES:
        audio, rate = read_audio(track / f"{s}.wav")
        if rate != BAND_SAMPLE_RATE:
            raise SampleRateError(f"{track / s}.wav is at {rate} Hz; band data is at {BAND_SAMPLE_RATE} Hz")
        stems.append(audio.mean(0))
    length = min(len(x) for x in stems)
    return np.stack([x[:length] for x in stems])


def _eval_set(items: list[np.ndarray], description: str, windows: tuple[int, int] | None = None) -> EvalSet:
    sources = np.stack(items).astype(np.float32)
    mixes = mix(sources, mixing_weights(BAND_MIXING, len(BAND_SOURCES)))
    return EvalSet(sources, mixes, list(BAND_SOURCES), BAND_SAMPLE_RATE, description, windows)


def band_track_set(root: str | Path, subset: str = "test", window_seconds: float = 4.0, hop_seconds: float = 2.0,
                   n: int | None = None) -> EvalSet:
    """The whole tracks of ``root/subset`` (the first ``n``; cut to the shortest), scored over
    windows of ``window_seconds`` every ``hop_seconds``. The mixture is the sum of the stems."""
    tracks = multitrack_tracks(root, subset, BAND_SOURCES)[:n]
    stems = [_read_stems(track) for track in tracks]
    length = min(x.shape[-1] for x in stems)
    windows = (int(round(window_seconds * BAND_SAMPLE_RATE)), int(round(hop_seconds * BAND_SAMPLE_RATE)))
    return _eval_set([x[:, :length] for x in stems], f"band whole tracks ({Path(root).name}/{subset}, "
                     f"{len(tracks)} tracks of {length / BAND_SAMPLE_RATE:g} s)", windows)


def band_benchmark_set(root: str | Path, seconds: float = 4.0, n: int = 16, subset: str = "test",
                       seed: int = 0) -> EvalSet:
    """``n`` excerpts of ``seconds`` from the tracks of ``root/subset``, taken round-robin over the
    tracks at seeded random non-overlapping positions where every stem is audible. The mixture is
    recomputed from the stems with the band's mixing (sum)."""
    tracks = multitrack_tracks(root, subset, BAND_SOURCES)
    length = int(round(seconds * BAND_SAMPLE_RATE))
    rng = np.random.default_rng(seed)
    candidates = []
    for track in tracks:
        stems = _read_stems(track)
        starts = np.arange(0, stems.shape[-1] - length + 1, length)
        good = [s0 for s0 in starts
                if 10 * np.log10(np.mean(stems[:, s0:s0 + length] ** 2, -1).min() + 1e-20) > MIN_STEM_DB]
        candidates.append([stems[:, s0:s0 + length] for s0 in rng.permutation(good)])
    items = [c[i] for i in range(max(map(len, candidates), default=0)) for c in candidates if i < len(c)][:n]
    if not items:
        raise DataError(f"no {seconds} s excerpt of {root}/{subset} has every stem above {MIN_STEM_DB} dB")
    title = f"band benchmark ({Path(root).name}/{subset}, {len(tracks)} tracks, {seconds:g} s excerpts)"
    return _eval_set(items, title)


def default_band_prior_sets() -> list[str]:
    """The bundled prior sets for the band sources."""
    from ..priors.io import bundled_prior_sets

    return [name for name in ("band", "band-wavenet") if name in bundled_prior_sets()]


#: the bundled separators trained on band stems (nmf-exemplars-band: of several SoundFonts; it and nmf-band from
#: solo stems alone), in table order, with the package each needs beyond the core. The band prior set's spectral
#: VAEs (the bundled ``spectral-vae-band``) are its rows, its default method "fit": not listed again here.
BAND_BASELINES = {"waveunet-band": None, "demucs-band": "demucs", "metatasnet-band": None, "interleaved-band": None,
                  "simultaneous-band": None, "factorgan-band": None, "nmf-band": None, "nmf-exemplars-band": None}


def default_band_baselines() -> list[str]:
    """The bundled baselines trained on band stems whose packages are installed (``demucs-band`` needs
    ``priorsep[peers]``)."""
    from importlib.util import find_spec

    from ..baselines.io import bundled_baselines

    return [name for name, package in BAND_BASELINES.items()
            if name in bundled_baselines() and (package is None or find_spec(package) is not None)]


def bench_band(root: str | Path, separators: list[Separator] | None = None, n: int | None = 16, seconds: float = 4.0,
               seed: int = 0, bss: bool = True, quiet: bool = False, whole_tracks: bool = False,
               samples: int = 1, keep: KeepFn | None = None) -> dict:
    """The band table of ``separators`` (default: every bundled band method, sampler seed ``seed``)
    on ``n`` excerpts of ``seconds`` of ``root``'s test tracks (excerpt seed ``seed``), or,
    ``whole_tracks``, on the first ``n`` (None: all) whole test tracks over windows of ``seconds``
    every ``seconds / 2``. ``samples`` > 1: posterior draws (:func:`.benchmark.benchmark_methods`);
    ``keep``: :func:`.benchmark.run_benchmark`."""
    if separators is None:
        from ..api import benchmark_separators

        separators = benchmark_separators(default_band_prior_sets(), default_band_baselines(), seed=seed)
    data = (band_track_set(root, window_seconds=seconds, hop_seconds=seconds / 2, n=n) if whole_tracks
            else band_benchmark_set(root, seconds, n, seed=seed))
    return bench_table(data, mixing_weights(BAND_MIXING, len(BAND_SOURCES)), separators, bss=bss, quiet=quiet,
                       samples=samples, keep=keep)
