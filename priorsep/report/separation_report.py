"""``priorsep separate --report``: a listening report of the files a separation run wrote (the
estimates, and with ``--samples`` their confidence and spread), read back from its output folder."""
from __future__ import annotations

import json
from pathlib import Path

from .writer import MethodOutput, ReportItem, write_report
from ..data.audio import read_audio
from ..errors import ConfigError
from ..separation.files import planned_outputs
from ..separation.uncertainty import relative_spread, spread_frame


def _output(targets: dict[str, Path], mix: Path, rate: int) -> MethodOutput:
    """One input's estimates (``SOURCE.wav``, at the rate of their ``mix`` file) and, where written,
    their uncertainty files."""
    sources = {}
    for s, p in targets.items():
        sources[s], est_rate = read_audio(p)
        if est_rate != rate:
            raise ConfigError(f"{p} is at {est_rate} Hz, its mix {mix} at {rate} Hz; rerun separate")
    folder = next(iter(targets.values())).parent
    record = folder / "uncertainty.json"
    if not record.is_file():
        return MethodOutput(sources)
    confidence = json.loads(record.read_text())["confidence_db"]
    spread = {}
    for s, p in targets.items():
        std = read_audio(p.with_suffix(".spread.wav"))[0]
        spread[s] = relative_spread(std**2, sources[s], spread_frame(std.shape[-1]))
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
        items.append(ReportItem(name, mix, {label: _output(targets, path, rate)}, sample_rate=rate))
    if not items:
        raise ConfigError(f"nothing separated in {out} to report on")
    return write_report(folder, items, items[0].sample_rate, title=f"priorsep separate: {label}",
                        weights=dict(zip(names, weights)), quiet=quiet)
