"""Side-by-side benchmark tables: every method on the same mixes, one row each.

Rows: one per :class:`~priorsep.separator.Separator` (each prior set's search or sampler, its
variational and hybrid separators, the baselines), then mixture-as-estimate (lower bound) and the
oracle ideal ratio mask (upper bound for masking). Columns: median SI-SDRi per source and over all
sources, BSSEval v4 SDR/SIR/SAR (median over 1 s windows, then over items and sources), seconds of
compute per second of audio on this machine, and the number of paired (mix, stems) items the
method was trained on (0 for priors trained on solo stems only). The toy and band benchmarks
differ only in their :class:`EvalSet`. An eval set of whole tracks with ``windows`` is scored by
SI-SDRi over windows (:func:`~.metrics.windowed_si_sdri`), the medians taken over every scored
(window, source) of every track. Each summary also gives the interquartile range of the overall
scores (``overall_iqr``), the spread a median hides.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from .metrics import bss_eval, si_sdr_improvement, windowed_si_sdri
from .oracle import ideal_ratio_mask, mixture_as_estimate
from ..errors import ConfigError
from ..separator import Separator

# (mix (T,), sources (K, T)) -> estimate (K, T), or (estimate, extras) with extras "confidence_db" (K,)
# (posterior draws' agreement per source), "spread_track" (K arrays: the draws' relative spread over time)
# and/or "search" (K, T) (the point estimate the draws started from)
SeparateFn = Callable[[np.ndarray, np.ndarray], np.ndarray | tuple[np.ndarray, dict]]
# (method, item index, eval set, estimate (K, T), extras): sees every estimate as it is made
KeepFn = Callable[[str, int, "EvalSet", np.ndarray, dict], None]


@dataclass
class Method:
    """One row of the table: a separation function and the number of paired (mix, stems) items it
    was trained on (``None`` for the oracle, which uses the true sources), and the number of
    multitrack recordings they came from where training was limited to a few (else ``None``)."""

    run: SeparateFn
    paired_items: int | None = 0
    paired_tracks: int | None = None


def benchmark_methods(separators: list[Separator], names: list[str], weights: list[float],
                      samples: int = 1) -> dict[str, Method]:
    """The rows of a table for sources ``names`` mixed with ``weights``: one per separator (named by
    its ``label``, plus ", N tracks" for one trained on N paired tracks only; repeated names get
    primes), then the references (mixture-as-estimate, oracle IRM). ``samples`` > 1: separators with
    posterior draws (Langevin, variational) are scored on the mean of that many draws, with each
    source's confidence (:func:`~priorsep.separation.uncertainty.confidence_db`), and a Langevin row
    also on the search estimate its draws started from; their rows say ", N draws"."""
    methods: dict[str, Method] = {}

    def add(name, method):
        while name in methods:
            name += "'"
        methods[name] = method

    for sep in separators:
        if sorted(sep.names) != sorted(names) or not np.allclose(
                sep.weights, [weights[names.index(n)] for n in sep.names]):
            raise ConfigError(f"{sep.label} separates {sep.names} (weights {sep.weights}), not the benchmark's sources "
                              f"{names} mixed with weights {weights}")

        def run(m, _sources, sep=sep):
            est = sep.separate(m)
            return np.stack([est[n] for n in names])

        label = sep.label
        if samples > 1 and hasattr(sep, "separate_with_draws"):
            run, label = partial(_run_with_draws, sep, names, samples), f"{label}, {samples} draws"
        tracks = getattr(sep, "paired_tracks", None)
        add(label if tracks is None else f"{label}, {tracks} tracks", Method(run, sep.paired_items, tracks))
    add("mixture-as-estimate", Method(lambda m, s: mixture_as_estimate(m, weights)))
    add("oracle IRM", Method(lambda m, s: ideal_ratio_mask(s, weights), None))
    return methods


def _run_with_draws(sep: Separator, names: list[str], samples: int, m: np.ndarray, _sources) -> tuple[np.ndarray, dict]:
    """The draws' mean ``(K, T)`` and extras (confidence; the search estimate where there is one)."""
    from ..separation.uncertainty import spread_frame, spread_track, summarize_draws

    extras = {}
    if hasattr(sep, "search_and_draws"):
        search, means, draws = sep.search_and_draws(m, samples)
        extras["search"] = np.stack([search[n] for n in names])
    else:
        means, draws = sep.separate_with_draws(m, samples)
    confidence = summarize_draws(draws)
    extras["confidence_db"] = np.array([confidence[n] for n in names])
    extras["spread_track"] = [spread_track(draws[n], spread_frame(m.shape[-1])) for n in names]
    return np.stack([means[n] for n in names]), extras


@dataclass
class EvalSet:
    """Benchmark items: ``sources (n, K, T)`` and ``mixes (n, T)`` float32, source ``names``, ``sample_rate``
    (Hz), and a one-line ``description`` for the table's title. ``windows``: ``(window, hop)`` in
    samples to score SI-SDRi over windows of each item (whole tracks) instead of over the item."""

    sources: np.ndarray
    mixes: np.ndarray
    names: list[str]
    sample_rate: int
    description: str
    windows: tuple[int, int] | None = None


def si_sdri_per_mix(separate: Callable[[np.ndarray], dict], data, names: list[str] | None = None) -> np.ndarray:
    """SI-SDRi (dB) of ``separate(mix) -> {source: estimate}`` on every mix of ``data`` (``.mixes (n, T)``,
    ``.sources (n, K, T)`` in the order of ``names``, default ``data.names``), shaped ``(n, K)``: the
    benchmark's score alone, without timing, windows or museval."""
    names = list(data.names if names is None else names)
    return np.array([si_sdr_improvement(np.stack([est[n] for n in names]), s, m)
                     for m, s in zip(data.mixes, data.sources) for est in [separate(m)]])


def run_benchmark(methods: dict[str, Method], data: EvalSet, bss: bool = True, quiet: bool = False,
                  keep: KeepFn | None = None) -> dict:
    """Evaluate every method on every item; returns a JSON-able dict of per-item and summary scores.
    ``keep(method, i, data, estimate (K, T), extras)`` is called with every estimate (e.g.
    :meth:`priorsep.report.BenchmarkReport.keep`, which writes them as a listening report)."""
    n, length = data.mixes.shape
    results = {"title": data.description, "n_items": n, "length": length, "sample_rate": data.sample_rate,
               "sources": list(data.names), "methods": {}}
    if data.windows:
        results["windows"] = list(data.windows)
    for name, method in methods.items():
        per_item, seconds = [], 0.0
        for i in tqdm(range(n), desc=name, disable=quiet, leave=False):
            t0 = time.perf_counter()
            est, extras = _estimate_and_extras(method.run(data.mixes[i], data.sources[i]))
            seconds += time.perf_counter() - t0
            if keep is not None:
                keep(name, i, data, est, extras)
            item = _si_sdri(est, data, i)
            if "search" in extras:
                item["search_si_sdri"] = _si_sdri(extras["search"], data, i)["si_sdri"]
            if "confidence_db" in extras:
                item["confidence_db"] = np.asarray(extras["confidence_db"], dtype=float).tolist()
            if bss:
                b = bss_eval(data.sources[i], est, data.sample_rate)
                item.update({k: np.asarray(b[k]).tolist() for k in ("SDR", "SIR", "SAR")})
            per_item.append(item)
        results["methods"][name] = {
            "items": per_item,
            "seconds_per_second": seconds / (n * length / data.sample_rate),
            "seconds_per_mix": seconds / n,
            "paired_items": method.paired_items,
            "paired_tracks": method.paired_tracks,
            **summarize(per_item),
        }
    return results


def _estimate_and_extras(out) -> tuple[np.ndarray, dict]:
    return out if isinstance(out, tuple) else (out, {})


def _si_sdri(est: np.ndarray, data: EvalSet, i: int) -> dict:
    """Item ``i``'s SI-SDRi per source (over windows: their median, and the windows' scores, NaN as None)."""
    if not data.windows:
        return {"si_sdri": si_sdr_improvement(est, data.sources[i], data.mixes[i]).tolist()}
    w = windowed_si_sdri(est, data.sources[i], data.mixes[i], *data.windows)
    scored = ~np.isnan(w)
    per_source = [float(np.median(w[scored[:, k], k])) if scored[:, k].any() else None for k in range(w.shape[1])]
    return {"si_sdri": per_source, "window_si_sdri": [[None if np.isnan(v) else float(v) for v in row] for row in w]}


def summarize(per_item: list[dict]) -> dict:
    """Medians (and the overall interquartile range) over items per source and over all (item,
    source) pairs; SI-SDRi of windowed items over all their scored (window, source) pairs."""
    out = {}
    for key in ("si_sdri", "SDR", "SIR", "SAR", "search_si_sdri", "confidence_db"):
        if key not in per_item[0]:
            continue
        rows = [row for it in per_item for row in it["window_si_sdri"]] if (
            key == "si_sdri" and "window_si_sdri" in per_item[0]) else [it[key] for it in per_item]
        v = np.array(rows, dtype=np.float64)  # (items or windows, K); None -> NaN
        q25, q75 = np.nanpercentile(v, [25, 75])
        out[key] = {"per_source": np.nanmedian(v, 0).tolist(), "overall": float(np.nanmedian(v)),
                    "overall_iqr": [float(q25), float(q75)]}
    return out


def format_table(results: dict) -> str:
    names = results["sources"]
    has_bss = any("SDR" in m for m in results["methods"].values())
    width = max(22, 1 + max(map(len, results["methods"])))
    head = f"{'method':<{width}}" + "".join(f"{n[:8]:>9}" for n in names) + f"{'SI-SDRi':>9}"
    if has_bss:
        head += f"{'SDR':>7}{'SIR':>7}{'SAR':>7}"
    has_draws = any("confidence_db" in m for m in results["methods"].values())
    if has_draws:
        head += f"{'search':>8}{'conf':>7}"
    head += f"{'s/s':>8}{'s/mix':>8}{'paired':>9}"
    scored = ("SI-SDRi in dB, medians" if "windows" not in results else
              "SI-SDRi in dB, medians over {:g}-s windows every {:g} s with >= 2 active sources".format(
                  *(w / results["sample_rate"] for w in results["windows"])))
    lines = [f"{results['title']}: {results['n_items']} mixes x {results['length']} samples "
             f"@ {results['sample_rate']} Hz; {scored}", head, "-" * len(head)]
    for method, r in results["methods"].items():
        row = (f"{method:<{width}}" + "".join(f"{v:>9.2f}" for v in r["si_sdri"]["per_source"])
               + f"{r['si_sdri']['overall']:>9.2f}")
        if has_bss:
            row += "".join(f"{r[k]['overall']:>7.2f}" if k in r else f"{'-':>7}" for k in ("SDR", "SIR", "SAR"))
        if has_draws:
            row += "".join(f"{r[k]['overall']:{w}.2f}" if k in r else f"{'-':{w}}"
                           for k, w in (("search_si_sdri", ">8"), ("confidence_db", ">7")))
        paired = r.get("paired_items")
        paired = "oracle" if paired is None else _count(paired)
        if r.get("paired_tracks") is not None:
            paired = f"{r['paired_tracks']} tr"
        row += f"{r['seconds_per_second']:>8.2f}{r['seconds_per_mix']:>8.2f}{paired:>9}"
        lines.append(row)
    if has_draws:
        lines.append("rows with draws: SI-SDRi of the draws' mean; search = SI-SDRi of the search estimate they "
                     "started from; conf = median confidence (dB, the draws' agreement)")
    lines.append("s/s, s/mix = seconds of compute per second of audio / per mix on this machine; "
                 "paired = paired (mix, stems) training items ('N tr': crops of N paired multitrack recordings)")
    return "\n".join(lines)


def _count(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 10**6 else f"{n / 1e3:.0f}k" if n >= 10**4 else str(n)


def save_json(results: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(results, indent=2) + "\n")


def bench_table(data: EvalSet, weights: list[float], separators: list[Separator], *, bss: bool = True,
                quiet: bool = False, samples: int = 1, keep: KeepFn | None = None) -> dict:
    """The table of every separator on ``data``, with the separators' labels and the mixing weights
    (``samples``: see :func:`benchmark_methods`; ``keep``: :func:`run_benchmark`)."""
    results = run_benchmark(benchmark_methods(separators, list(data.names), weights, samples), data, bss=bss,
                            quiet=quiet, keep=keep)
    results["separators"] = [sep.label for sep in separators]
    results["mix_weights"] = [float(w) for w in weights]
    return results
