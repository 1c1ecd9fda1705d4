"""The toy benchmark: fresh toy mixes, every method, one table.

Rows: Langevin with each prior set (the bundled flow and WaveNet sets, or given ones),
mixture-as-estimate (lower bound) and the oracle ideal ratio mask (upper bound for masking). Columns: median SI-SDRi per source and over
all sources, BSSEval v4 SDR/SIR/SAR (median over 1 s windows, then over items and sources) and
seconds of compute per second of audio on this machine.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from ..data.toy import TOY_MIXING, TOY_SOURCES, toy_eval_set
from ..mixing import mixing_weights
from ..priors.io import PriorSet, load_priors
from .metrics import bss_eval, si_sdr_improvement
from .oracle import ideal_ratio_mask, mixture_as_estimate

Separator = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (mix (T,), sources (K, T)) -> (K, T)


def toy_methods(prior_sets: list[PriorSet], seed: int = 0, **langevin_settings) -> dict[str, Separator]:
    """The methods of the toy table, each a function of (mix, true sources): one Langevin row per
    prior set (named by its family: ``Langevin-flow``, ``Langevin-wavenet``), then the references."""
    from ..separation.langevin import langevin_separate

    weights = mixing_weights(TOY_MIXING, len(TOY_SOURCES))

    def langevin(priors):
        def run(m, _sources):
            est = langevin_separate(m, priors=priors, seed=seed, **langevin_settings)
            return np.stack([est[n] for n in TOY_SOURCES])
        return run

    methods: dict[str, Separator] = {}
    for priors in prior_sets:
        name = f"Langevin-{priors.kind}"
        while name in methods:
            name += "'"
        methods[name] = langevin(priors)
    methods["mixture-as-estimate"] = lambda m, s: mixture_as_estimate(m, weights)
    methods["oracle IRM"] = lambda m, s: ideal_ratio_mask(s, weights)
    return methods


def run_benchmark(methods: dict[str, Separator], n: int = 8, length: int = 16384, seed: int = 2026,
                  bss: bool = True, quiet: bool = False) -> dict:
    """Evaluate every method on ``n`` toy items; returns a JSON-able dict of per-item and summary scores."""
    data = toy_eval_set(n, length, seed)
    results = {"n_items": n, "length": length, "seed": seed, "sample_rate": data.sample_rate,
               "sources": list(TOY_SOURCES), "methods": {}}
    for name, fn in methods.items():
        per_item, seconds = [], 0.0
        for i in tqdm(range(n), desc=name, disable=quiet, leave=False):
            t0 = time.perf_counter()
            est = fn(data.mixes[i], data.sources[i])
            seconds += time.perf_counter() - t0
            item = {"si_sdri": si_sdr_improvement(est, data.sources[i], data.mixes[i]).tolist()}
            if bss:
                b = bss_eval(data.sources[i], est, data.sample_rate)
                item.update({k: np.asarray(b[k]).tolist() for k in ("SDR", "SIR", "SAR")})
            per_item.append(item)
        results["methods"][name] = {
            "items": per_item,
            "seconds_per_second": seconds / (n * length / data.sample_rate),
            "seconds_per_mix": seconds / n,
            **summarize(per_item),
        }
    return results


def summarize(per_item: list[dict]) -> dict:
    """Medians over items per source, and over all (item, source) pairs."""
    out = {}
    for key in ("si_sdri", "SDR", "SIR", "SAR"):
        if key not in per_item[0]:
            continue
        v = np.array([it[key] for it in per_item], dtype=np.float64)  # (items, K)
        out[key] = {"per_source": np.nanmedian(v, 0).tolist(), "overall": float(np.nanmedian(v))}
    return out


def format_table(results: dict) -> str:
    names = results["sources"]
    has_bss = any("SDR" in m for m in results["methods"].values())
    head = f"{'method':<22}" + "".join(f"{n:>9}" for n in names) + f"{'SI-SDRi':>9}"
    if has_bss:
        head += f"{'SDR':>7}{'SIR':>7}{'SAR':>7}"
    head += f"{'s/s':>8}"
    lines = [f"toy benchmark: {results['n_items']} mixes x {results['length']} samples "
             f"@ {results['sample_rate']} Hz (seed {results['seed']}); SI-SDRi in dB, medians", head, "-" * len(head)]
    for method, r in results["methods"].items():
        row = f"{method:<22}" + "".join(f"{v:>9.2f}" for v in r["si_sdri"]["per_source"]) + f"{r['si_sdri']['overall']:>9.2f}"
        if has_bss:
            row += "".join(f"{r[k]['overall']:>7.2f}" if k in r else f"{'-':>7}" for k in ("SDR", "SIR", "SAR"))
        row += f"{r['seconds_per_second']:>8.2f}"
        lines.append(row)
    lines.append("s/s = seconds of compute per second of audio on this machine")
    return "\n".join(lines)


def save_json(results: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(results, indent=2) + "\n")


def default_toy_prior_sets() -> list[str]:
    """The bundled prior sets for the toy sources: ``toy`` (flows) and ``toy-wavenet`` when present."""
    from ..priors.io import bundled_prior_sets

    return [name for name in ("toy", "toy-wavenet") if name in bundled_prior_sets()]


def bench_toy(priors: PriorSet | str | list | None = None, n: int = 8, length: int = 16384, seed: int = 2026,
              bss: bool = True, quiet: bool = False, **langevin_settings) -> dict:
    """The toy table for one or several prior sets (default: every bundled toy set)."""
    if priors is None:
        priors = default_toy_prior_sets()
    if not isinstance(priors, (list, tuple)):
        priors = [priors]
    sets = [p if isinstance(p, PriorSet) else load_priors(p) for p in priors]
    results = run_benchmark(toy_methods(sets, **langevin_settings), n=n, length=length, seed=seed, bss=bss, quiet=quiet)
    results["prior_sets"] = [str(p) if not isinstance(p, PriorSet) else "(given)" for p in priors]
    return results
