"""MUSDB18 benchmark as in SiSEC: every track of a subset separated and scored with
``museval.eval_mus_track`` (BSSEval v4 on 1 s windows), one JSON per track, and the aggregate
median over frames, then median over tracks, per target and metric.

Reads the STEMS release (``*.stem.mp4``, needs ffmpeg) or the wav release (``is_wav=True``:
``root/{train,test}/<track>/{mixture,vocals,drums,bass,other}.wav``) through the ``musdb`` package.
Tracks whose JSON exists in ``out`` are not separated again, so an interrupted run resumes.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..errors import ConfigError, DataNotFoundError

METRICS = ("SDR", "SIR", "ISR", "SAR")


def load_musdb(root: str | Path, subset: str = "test", is_wav: bool = False, tracks: list[str] | None = None):
    """The ``musdb.DB`` tracks of ``subset`` (optionally only those named in ``tracks``)."""
    import musdb

    root = Path(root)
    if not (root / subset).is_dir():
        raise DataNotFoundError(f"no {subset!r} folder in {root}; expected the MUSDB18 layout root/{{train,test}}/ "
                                f"with {'<track>/mixture.wav ...' if is_wav else '<track>.stem.mp4 files'}")
    db = musdb.DB(root=str(root), subsets=subset, is_wav=is_wav)
    found = list(db.tracks)
    if tracks:
        missing = sorted(set(tracks) - {t.name for t in found})
        if missing:
            raise DataNotFoundError(f"tracks {missing} are not in {root / subset}")
        found = [t for t in found if t.name in tracks]
    if not found:
        kind = "track folders with mixture.wav" if is_wav else "*.stem.mp4 files (pass --is-wav for wav folders)"
        raise DataNotFoundError(f"no tracks in {root / subset}: expected {kind}")
    return found


def track_estimates(separate, track, names: list[str]) -> dict[str, np.ndarray]:
    """``{target: (T, C) estimate}`` for a musdb track; ``separate((C, T) mix, rate) -> {source: (C, T)}``.
    With vocals among several sources, ``accompaniment`` = the sum of the other estimates (the
    SiSEC vocals/accompaniment task)."""
    unknown = sorted(set(names) - set(track.targets))
    if unknown:
        raise ConfigError(f"the separator's sources {unknown} are not MUSDB targets {sorted(track.targets)}")
    est = separate(np.ascontiguousarray(track.audio.T, dtype=np.float32), int(track.rate))
    out = {n: np.asarray(est[n]).reshape(-1, track.audio.shape[0]) if np.ndim(est[n]) == 1 else np.asarray(est[n]).T
           for n in names}
    if "vocals" in names and len(names) > 1:
        out["accompaniment"] = sum(out[n] for n in names if n != "vocals")
    return out


def aggregate(track_scores: list[dict]) -> dict[str, dict[str, float]]:
    """``{target: {metric: median over tracks of the median over frames}}`` from museval track JSONs
    (NaN frames, e.g. silent references, are skipped and counted under ``nan_frames``)."""
    per: dict[str, dict[str, list[float]]] = {}
    nan_frames: dict[str, int] = {}
    for scores in track_scores:
        for target in scores["targets"]:
            name = target["name"]
            for metric in METRICS:
                v = np.array([f["metrics"][metric] for f in target["frames"]], dtype=np.float64)
                nan_frames[name] = nan_frames.get(name, 0) + int(np.isnan(v).sum()) * (metric == "SDR")
                per.setdefault(name, {}).setdefault(metric, []).append(float(np.nanmedian(v)) if np.isfinite(v).any()
                                                                       else float("nan"))
    return {t: {**{m: float(np.nanmedian(v)) for m, v in ms.items()}, "nan_frames": nan_frames[t]}
            for t, ms in per.items()}


def bench_musdb(root: str | Path, separate, names: list[str], out: str | Path, subset: str = "test",
                is_wav: bool = False, tracks: list[str] | None = None, quiet: bool = False, keep=None) -> dict:
    """Separate and score every track; per-track JSON in ``out/<subset>/<track>.json`` (museval's
    format), the aggregate in ``out/aggregate.json``. Returns the aggregate dict. ``keep(track,
    estimates {target: (T, C)}, scores)`` (museval's track JSON) is called for every track separated
    in this run (e.g. :meth:`priorsep.report.MusdbReport.keep`)."""
    import museval

    out = Path(out)
    found = load_musdb(root, subset, is_wav, tracks)
    seconds = audio_seconds = 0.0
    scores = []
    for track in tqdm(found, desc="musdb", unit="track", disable=quiet):
        path = out / subset / f"{track.name}.json"
        if not path.is_file():
            t0 = time.perf_counter()
            est = track_estimates(separate, track, names)
            seconds += time.perf_counter() - t0
            audio_seconds += track.audio.shape[0] / track.rate
            museval.eval_mus_track(track, est, output_dir=str(out))
            if keep is not None:
                keep(track, est, json.loads(path.read_text()))
        scores.append(json.loads(path.read_text()))
    result = {"root": str(root), "subset": subset, "is_wav": is_wav, "n_tracks": len(found),
              "tracks": [t.name for t in found], "targets": aggregate(scores),
              "seconds_per_second": seconds / audio_seconds if audio_seconds else None}
    tmp = out / ".aggregate.json.tmp"
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(out / "aggregate.json")
    return result


def format_musdb(result: dict, title: str = "") -> str:
    """The aggregate as a table: one row per target, BSSEval v4 metrics in dB."""
    head = f"{'target':<15}" + "".join(f"{m:>8}" for m in METRICS) + f"{'nan frames':>12}"
    lines = [f"MUSDB18 {result['subset']} ({result['n_tracks']} tracks{', wav' if result['is_wav'] else ''})"
             f"{': ' + title if title else ''}; median over 1 s frames, then over tracks", head, "-" * len(head)]
    for target, ms in result["targets"].items():
        lines.append(f"{target:<15}" + "".join(f"{ms[m]:>8.2f}" for m in METRICS) + f"{ms['nan_frames']:>12}")
    sps = result["seconds_per_second"]
    lines.append(f"seconds of compute per second of audio: {sps:.3f}" if sps is not None
                 else "all tracks were scored in an earlier run (their JSON exists)")
    return "\n".join(lines)
