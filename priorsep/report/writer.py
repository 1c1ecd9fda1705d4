"""Write a listening report: ``DIR/index.html`` (items in order), ``DIR/worst-first.html``, their
audio clips and spectrograms under ``DIR/media/``, and the results as ``DIR/results.json``."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import media, page
from ..errors import ConfigError

#: written into every report folder; a folder holding other files and not this one is refused
MARKER = ".priorsep-report"


@dataclass
class MethodOutput:
    """One method's estimates of one item: ``sources {name: (T,) or (C, T)}``; where known,
    ``scores`` (SI-SDRi per source, dB), ``confidence`` (per source, dB, from posterior draws) and
    ``spread`` (per source, the draws' relative spread track,
    :func:`~priorsep.separation.uncertainty.spread_track`)."""

    sources: dict[str, np.ndarray]
    scores: dict[str, float] | None = None
    confidence: dict[str, float] | None = None
    spread: dict[str, np.ndarray] | None = None


@dataclass
class ReportItem:
    """One mixture ``mix (T,)`` or ``(C, T)``, each method's output by label, the true sources when
    known, and its sample rate where it differs from the report's."""

    name: str
    mix: np.ndarray
    outputs: dict[str, MethodOutput]
    references: dict[str, np.ndarray] | None = None
    sample_rate: int | None = None


def _item_key(item: ReportItem) -> dict[str, float | None]:
    """Per method, the mean SI-SDRi over sources (or, with no scores, the mean confidence)."""
    out = {}
    for label, o in item.outputs.items():
        values = o.scores if o.scores is not None else o.confidence
        vals = [v for v in (values or {}).values() if v is not None and np.isfinite(v)]
        out[label] = float(np.mean(vals)) if vals else None
    return out


def check_report_folder(folder: str | Path) -> Path:
    """``folder`` if a report may be written there: new, empty, or an earlier report (whose files are
    replaced); anything else is a :class:`ConfigError`, so nothing a user put there is overwritten."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"report folder {folder} is a file; expected a folder (new, empty or an earlier report)")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise ConfigError(f"report folder {folder} holds other files and no earlier report ({MARKER}); give a new "
                          "or empty folder")
    return folder


def _prepare(folder: Path) -> None:
    check_report_folder(folder)
    if (folder / "media").is_dir():
        shutil.rmtree(folder / "media")
    (folder / "media").mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("a priorsep listening report; priorsep rewrites this folder\n")


def _clips(folder: Path, item: ReportItem, index: int, sources: list[str], rate: int, weights: dict[str, float]
           ) -> dict:
    """Write one item's clips and images; returns the page's view of it (relative paths)."""
    rate = item.sample_rate or rate
    sub = Path("media") / f"item{index:03d}"
    (folder / sub).mkdir(parents=True, exist_ok=True)
    heard = lambda name, x: weights.get(name, 1.0) * np.asarray(x)  # a source as it sounds in the mix
    signals = [item.mix] + [heard(n, x) for n, x in (item.references or {}).items()]
    signals += [heard(n, x) for o in item.outputs.values() for n, x in o.sources.items()]
    gain = media.common_gain(signals)
    mix_db = media.spectrogram_db(item.mix)
    top = float(mix_db.max())

    def clip(stem: str, audio: np.ndarray, label: str, db: np.ndarray | None = None) -> dict:
        audio_path = media.write_clip(folder / sub / stem, audio, rate, gain)
        media.write_spectrogram(folder / sub / f"{stem}.png", media.spectrogram_db(audio) if db is None else db, top)
        return {"audio": f"{sub.as_posix()}/{audio_path.name}", "image": f"{sub.as_posix()}/{stem}.png",
                "seconds": np.shape(audio)[-1] / rate, "label": label}

    view = {"name": item.name, "anchor": f"item{index:03d}", "has_references": item.references is not None,
            "mix": clip("mix", item.mix, f"{item.name}: mixture", mix_db), "key_by_method": _item_key(item),
            "sources": []}
    for k, name in enumerate(sources):
        row = {"name": name, "outputs": {}}
        if item.references is not None:
            row["reference"] = clip(f"reference{k}", heard(name, item.references[name]), f"{name}: reference")
        for j, (label, o) in enumerate(item.outputs.items()):
            if name not in o.sources:
                continue
            row["outputs"][label] = {**clip(f"method{j}-source{k}", heard(name, o.sources[name]), f"{name}: {label}"),
                                     "score": (o.scores or {}).get(name), "confidence": (o.confidence or {}).get(name),
                                     "spread": (o.spread or {}).get(name)}
        view["sources"].append(row)
    return view


def write_report(folder: str | Path, items: list[ReportItem], sample_rate: int, *, title: str,
                 results: dict | None = None, weights: dict[str, float] | None = None, notes: list[str] = (),
                 score_label: str = "SI-SDRi", quiet: bool = True) -> Path:
    """Write the report of ``items`` (audio at ``sample_rate`` Hz) into ``folder``; returns its ``index.html``.

    ``results``: a benchmark's JSON results, shown as its table and saved as ``results.json``.
    ``weights``: the mixing weight per source; references and estimates are played at ``weight *
    source``, the level they have in the mix (all of an item's clips share one gain, so quiet
    estimates sound quiet). ``index.html`` lists items in the given order, ``worst-first.html``
    by the first method's mean SI-SDRi over sources (with no scores: mean confidence), lowest first.
    ``score_label``: what the outputs' scores are (dB). ``folder`` must be new, empty or an earlier
    report (:func:`check_report_folder`).
    """
    from tqdm.auto import tqdm

    if not items:
        raise ConfigError("a report needs at least one item")
    folder = Path(folder)
    _prepare(folder)
    methods = list(dict.fromkeys(label for item in items for label in item.outputs))
    sources = list(dict.fromkeys(n for item in items for o in item.outputs.values() for n in o.sources))
    views = [_clips(folder, item, i, sources, sample_rate, weights or {})
             for i, item in enumerate(tqdm(items, desc="report", disable=quiet, leave=False))]
    scored = any(o.scores is not None for item in items for o in item.outputs.values())
    key_label = f"mean {score_label} (dB)" if scored else "mean confidence (dB)"
    first = methods[0]
    worst = sorted(views, key=lambda v: (v["key_by_method"].get(first) is None, v["key_by_method"].get(first) or 0))
    if results is not None:
        (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    units = f"{score_label} and confidence in dB" if scored else "confidence in dB"
    notes = list(notes) + [f"Sources are played at their level in the mix; {units}. A confidence below "
                           f"{page.LOW_CONFIDENCE_DB:g} dB is marked: listen to those first."]
    common = dict(title=title, methods=methods, key_label=key_label, results=results, notes=notes,
                  score_label=score_label)
    (folder / "index.html").write_text(page.render_page(
        items=views, order="in order", other_page=("worst-first.html", f"Worst items first (by {first})"), **common),
        encoding="utf-8")
    (folder / "worst-first.html").write_text(page.render_page(
        items=worst, order=f"worst first, by {first}'s {key_label}", other_page=("index.html", "Items in order"),
        **common), encoding="utf-8")
    return folder / "index.html"
