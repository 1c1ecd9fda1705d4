"""``priorsep separate --report``: a listening report of the files a separation run wrote (the
estimates, and with ``--samples`` their confidence and spread), read back from its output folder."""
from __future__ import annotations

import json
from pathlib import Path

from .writer import MethodOutput, ReportItem, write_report
from ..data.audio import read_audio
from ..errors import ConfigError
from ..evaluation.benchmark import SPREAD_POINTS
from ..separation.files import planned_outputs
from ..separation.uncertainty import relative_spread


def _output(targets: dict[str, Path]) -> MethodOutput:
    """One input's estimates (``SOURCE.wav``) and, where written, their uncertainty files."""
    sources = {s: read_audio(p)[0] for s, p in targets.items()}
    folder = next(iter(targets.values())).parent
    record = folder / "uncertainty.json"
    if not record.is_file():
        return MethodOutput(sources)
    confidence = json.loads(record.read_text())["confidence_db"]
    spread = {}
    for s, p in targets.items():
        std = read_audio(p.with_suffix(".spread.wav"))[0]
        spread[s] = relative_spread(std**2, sources[s], max(1, std.shape[-1] // SPREAD_POINTS))
    return MethodOutput(sources, confidence={s: confidence[s] for s in sources}, spread=spread)


def separation_report(folder: str | Path, inputs: list[str | Path], out: str | Path, label: str, names: list[str],
                      weights: list[float], quiet: bool = True) -> Path:
    """The report of ``separate``'s run on ``inputs`` into ``out`` (sources ``names`` mixed with
    ``weights``, separated by ``label``); inputs not (yet) separated there are left out. Returns its ``index.html``."""
    items = []
    for path, name, targets in planned_outputs(inputs, out, names):
        if not all(p.is_file() for p in targets.values()):
            continue  # another rank's, or failed
        mix, rate = read_audio(path)
        output = _output(targets)
        est_rate = read_audio(next(iter(targets.values())))[1]
        if est_rate != rate:
            raise ConfigError(f"{targets[names[0]]} is at {est_rate} Hz, its mix {path} at {rate} Hz; rerun separate")
        items.append(ReportItem(name, mix, {label: output}, sample_rate=rate))
    if not items:
        raise ConfigError(f"nothing separated in {out} to report on")
    return write_report(folder, items, items[0].sample_rate, title=f"priorsep separate: {label}",
                        weights=dict(zip(names, weights)), quiet=quiet)
