"""A benchmark run as a listening report: keep every estimate while the benchmark runs, then
write them with the scores the run computed."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .writer import MethodOutput, ReportItem, write_report
from ..errors import ConfigError


class BenchmarkReport:
    """Pass :meth:`keep` as the benchmark's ``keep=`` (:func:`priorsep.evaluation.benchmark.run_benchmark`),
    then :meth:`write` with its results. Holds every estimate in memory (float32)."""

    def __init__(self):
        self.data = None
        self.outputs: dict[int, dict[str, tuple[np.ndarray, list | None]]] = {}

    def keep(self, method: str, i: int, data, estimate: np.ndarray, extras: dict) -> None:
        self.data = data
        self.outputs.setdefault(i, {})[method] = (np.asarray(estimate, dtype=np.float32), extras.get("spread_track"))

    def items(self, results: dict) -> list[ReportItem]:
        """One :class:`ReportItem` per benchmark item, with each method's SI-SDRi and confidence from ``results``."""
        names = list(results["sources"])
        items = []
        for i in sorted(self.outputs):
            outputs = {}
            for method, (est, spread) in self.outputs[i].items():
                scored = results["methods"][method]["items"][i]
                outputs[method] = MethodOutput(
                    {n: est[k] for k, n in enumerate(names)}, scores=dict(zip(names, scored["si_sdri"])),
                    confidence=dict(zip(names, scored["confidence_db"])) if "confidence_db" in scored else None,
                    spread=None if spread is None else dict(zip(names, spread)))
            references = {n: self.data.sources[i, k] for k, n in enumerate(names)}
            items.append(ReportItem(f"item {i}", self.data.mixes[i], outputs, references))
        return items

    def write(self, folder: str | Path, results: dict, quiet: bool = True) -> Path:
        """Write the report into ``folder`` (:func:`~priorsep.report.write_report`); returns its ``index.html``."""
        weights = dict(zip(results["sources"], results.get("mix_weights", [1.0] * len(results["sources"]))))
        return write_report(folder, self.items(results), self.data.sample_rate, title=results["title"],
                            results=results, weights=weights, quiet=quiet)


#: seconds of each MUSDB track a report plays, from the track's middle (whole songs would make a page of gigabytes)
MUSDB_EXCERPT_S = 30.0


class MusdbReport:
    """Pass :meth:`keep` as ``bench_musdb``'s ``keep=``; keeps :data:`MUSDB_EXCERPT_S` seconds of each
    separated track (mixture, targets, estimates) and its museval SDR per target."""

    def __init__(self, label: str, excerpt_seconds: float = MUSDB_EXCERPT_S):
        self.label, self.excerpt_seconds = label, excerpt_seconds
        self.items: list[ReportItem] = []
        self.rate = None

    def keep(self, track, estimates: dict[str, np.ndarray], scores: dict) -> None:
        from ..evaluation.musdb_benchmark import aggregate

        self.rate = int(track.rate)
        n = track.audio.shape[0]
        take = min(n, int(self.excerpt_seconds * self.rate))
        start = (n - take) // 2
        cut = lambda x: np.ascontiguousarray(np.asarray(x, dtype=np.float32)[start:start + take].T)  # (C, t)
        sdr = {t: ms["SDR"] for t, ms in aggregate([scores]).items()}
        output = MethodOutput({t: cut(e) for t, e in estimates.items()}, scores={t: sdr.get(t) for t in estimates})
        self.items.append(ReportItem(track.name, cut(track.audio), {self.label: output},
                                     {t: cut(track.targets[t].audio) for t in estimates}))

    def write(self, folder: str | Path, title: str, quiet: bool = True) -> Path:
        if not self.items:
            raise ConfigError("no track was separated in this run (every one was scored before, in --out): the "
                              "report would have nothing to play; give a new --out")
        note = (f"{self.excerpt_seconds:g} s from the middle of each track; SDR: museval's median over the whole "
                "track's 1-s frames. Tracks scored in an earlier run (in --out) are not in the report.")
        return write_report(folder, self.items, self.rate, title=title, notes=[note], score_label="SDR", quiet=quiet)
