"""Side-by-side benchmark tables: every method on the same mixes, one row each.

Rows: Langevin with each prior set, variational and hybrid rows for sets with an encoder, the
baselines (supervised Wave-U-Net, FactorGAN), mixture-as-estimate (lower bound) and the oracle
ideal ratio mask (upper bound for masking). Columns: median SI-SDRi per source and over all
sources, BSSEval v4 SDR/SIR/SAR (median over 1 s windows, then over items and sources), seconds of
compute per second of audio on this machine, and the number of paired (mix, stems) items the
method was trained on (0 for priors trained on solo stems only). The toy and band benchmarks
differ only in their :class:`EvalSet`.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from ..priors.io import PriorSet
from .metrics import bss_eval, si_sdr_improvement
from .oracle import ideal_ratio_mask, mixture_as_estimate
from ..errors import ConfigError

SeparateFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (mix (T,), sources (K, T)) -> (K, T)


@dataclass
class Method:
    """One row of the table: a separation function and the number of paired (mix, stems) items it
    was trained on (``None`` for the oracle, which uses the true sources)."""

    run: SeparateFn
    paired_items: int | None = 0


#: the hybrid row's starting noise level: the encoder's estimate is already close, so Langevin
#: refines it instead of searching from scratch (sigma_max 1 would wash it out)
HYBRID_SIGMA_MAX = 0.1


def separation_methods(names: list[str], weights: list[float], prior_sets: list[PriorSet],
                       baselines: list | None = None, seed: int = 0, encoder=None,
                       **langevin_settings) -> dict[str, Method]:
    """The rows of a table for sources ``names`` mixed with ``weights``: one Langevin row per prior
    set (named by its family: ``Langevin-flow``, ``Langevin-wavenet``); for a set with an encoder
    (its own ``encoder`` checkpoint, or ``encoder``), a ``variational-<family>`` row and a hybrid row
    (Langevin from the encoder's means at ``HYBRID_SIGMA_MAX``); one row per baseline separator;
    then the references (mixture-as-estimate, oracle IRM)."""
    from ..separation.langevin import langevin_separate
    from ..separation.variational import own_encoder, resolve_encoder, variational_separate

    def stacked(separate):
        """A benchmark method from ``separate(mix) -> {source: estimate}``: estimates in ``names`` order."""
        def run(m, _sources):
            est = separate(m)
            return np.stack([est[n] for n in names])
        return run

    def hybrid(priors, enc):
        settings = {**langevin_settings, "init": "variational",
                    "sigma_max": min(HYBRID_SIGMA_MAX, langevin_settings.get("sigma_max", HYBRID_SIGMA_MAX))}
        return stacked(lambda m: langevin_separate(m, priors=priors, seed=seed, encoder=enc, **settings))

    methods: dict[str, Method] = {}

    def add(name, method):
        while name in methods:
            name += "'"
        methods[name] = method

    for priors in prior_sets:
        if sorted(priors.names) != sorted(names) or not np.allclose(
                priors.weights, [weights[names.index(n)] for n in priors.names]):
            raise ConfigError(f"prior set {priors.names} (weights {priors.weights}) does not model the benchmark's "
                              f"sources {names} mixed with weights {weights}")
        add(f"Langevin-{priors.kind}",
            Method(stacked(lambda m, p=priors: langevin_separate(m, priors=p, seed=seed, **langevin_settings))))
        if encoder is not None or own_encoder(priors) is not None:
            enc = resolve_encoder(priors, encoder)
            add(f"variational-{priors.kind}",
                Method(stacked(lambda m, p=priors, e=enc: variational_separate(m, priors=p, encoder=e))))
            add(f"Langevin-{priors.kind}+var. init", Method(hybrid(priors, enc)))
    for model in baselines or []:
        if sorted(model.names) != sorted(names):
            raise ConfigError(f"baseline {model.kind} separates {model.names}, not the benchmark's sources {names}")
        add(model.label,
            Method(stacked(model.separate), int(model.config.get("paired_items", model.config.get("paired", 0)))))
    add("mixture-as-estimate", Method(lambda m, s: mixture_as_estimate(m, weights)))
    add("oracle IRM", Method(lambda m, s: ideal_ratio_mask(s, weights), None))
    return methods


@dataclass
class EvalSet:
    """Benchmark items: ``sources (n, K, T)`` and ``mixes (n, T)`` float32, source ``names``, ``sample_rate``
    (Hz), and a one-line ``description`` for the table's title."""

    sources: np.ndarray
    mixes: np.ndarray
    names: list[str]
    sample_rate: int
    description: str


def run_benchmark(methods: dict[str, Method], data: EvalSet, bss: bool = True, quiet: bool = False) -> dict:
    """Evaluate every method on every item; returns a JSON-able dict of per-item and summary scores."""
    n, length = data.mixes.shape
    results = {"title": data.description, "n_items": n, "length": length, "sample_rate": data.sample_rate,
               "sources": list(data.names), "methods": {}}
    for name, method in methods.items():
        per_item, seconds = [], 0.0
        for i in tqdm(range(n), desc=name, disable=quiet, leave=False):
            t0 = time.perf_counter()
            est = method.run(data.mixes[i], data.sources[i])
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
            "paired_items": method.paired_items,
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
    head = f"{'method':<22}" + "".join(f"{n[:8]:>9}" for n in names) + f"{'SI-SDRi':>9}"
    if has_bss:
        head += f"{'SDR':>7}{'SIR':>7}{'SAR':>7}"
    head += f"{'s/s':>8}{'s/mix':>8}{'paired':>9}"
    lines = [f"{results['title']}: {results['n_items']} mixes x {results['length']} samples "
             f"@ {results['sample_rate']} Hz; SI-SDRi in dB, medians", head, "-" * len(head)]
    for method, r in results["methods"].items():
        row = f"{method:<22}" + "".join(f"{v:>9.2f}" for v in r["si_sdri"]["per_source"]) + f"{r['si_sdri']['overall']:>9.2f}"
        if has_bss:
            row += "".join(f"{r[k]['overall']:>7.2f}" if k in r else f"{'-':>7}" for k in ("SDR", "SIR", "SAR"))
        paired = r.get("paired_items")
        row += f"{r['seconds_per_second']:>8.2f}{r['seconds_per_mix']:>8.2f}{'oracle' if paired is None else _count(paired):>9}"
        lines.append(row)
    lines.append("s/s, s/mix = seconds of compute per second of audio / per mix on this machine; "
                 "paired = paired (mix, stems) training items")
    return "\n".join(lines)


def _count(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 10**6 else f"{n / 1e3:.0f}k" if n >= 10**4 else str(n)


def save_json(results: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(results, indent=2) + "\n")


def load_methods(names: list[str], weights: list[float], priors: list, baselines: list, seed: int = 0,
                 encoder=None, **langevin_settings) -> dict[str, Method]:
    """:func:`separation_methods` from prior sets and baselines given as names, stems or loaded objects."""
    from ..baselines.base import Separator
    from ..baselines.io import load as load_baseline
    from ..priors.io import load_priors

    sets = [p if isinstance(p, PriorSet) else load_priors(p) for p in priors]
    models = [b if isinstance(b, Separator) else load_baseline(b) for b in baselines]
    return separation_methods(names, weights, sets, models, seed=seed, encoder=encoder, **langevin_settings)


def bench_table(data: EvalSet, weights: list[float], priors: list, baselines: list, *, sampler_seed: int = 0,
                bss: bool = True, quiet: bool = False, encoder=None, **langevin_settings) -> dict:
    """The table of every prior set and baseline (names, stems or loaded objects) on ``data``, with
    the names of what was benchmarked (``"(given)"`` for loaded objects)."""
    methods = load_methods(list(data.names), weights, priors, baselines, seed=sampler_seed, encoder=encoder,
                           **langevin_settings)
    results = run_benchmark(methods, data, bss=bss, quiet=quiet)
    results["prior_sets"] = [str(p) if isinstance(p, (str, Path)) else "(given)" for p in priors]
    results["baselines"] = [str(b) if isinstance(b, (str, Path)) else "(given)" for b in baselines]
    return results
