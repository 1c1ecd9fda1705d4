"""Paired comparison of a benchmark's rows against one reference row, estimate by estimate.

    python benchmarks/tools/paired_rows.py results.json [more.json ...] --reference Wave-U-Net

Two medians of 4-s excerpts differ by less than their spread; the same excerpts scored by two
methods are paired, so the per-estimate difference says more. For every row: the median of its
SI-SDRi minus the reference's over every (excerpt, source) estimate, a bootstrap 95 % interval of
that median (resampling excerpts, ``--seed``), and the share of estimates where the row is better.
Several files of the same excerpts (the same ``--root``, ``--n`` and ``--seed``, rows run apart)
are compared together; a row in several of them (the oracle IRM) must score the same in each.
``FILE@TAG`` names that file's rows ``NAME @TAG``: two runs of one method (two training draws) side by side.
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def per_estimate(row: dict) -> np.ndarray:
    """``(items, sources)`` SI-SDRi of a row of ``priorsep bench ... --json``."""
    return np.array([item["si_sdri"] for item in row["items"]], dtype=float)


def paired(row: np.ndarray, ref: np.ndarray, rng: np.random.Generator, n_boot: int = 2000) -> dict:
    """Median difference, its bootstrap interval over items, and the share of estimates where ``row`` wins."""
    diff = row - ref
    boot = [np.median(diff[rng.integers(0, len(diff), len(diff))]) for _ in range(n_boot)]
    return {"median_diff": float(np.median(diff)), "ci95": [float(np.percentile(boot, 2.5)),
            float(np.percentile(boot, 97.5))], "wins": float(np.mean(diff > 0)), "estimates": int(diff.size)}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", help="priorsep bench --json files of the same excerpts; FILE@TAG: its rows "
                   "are named 'NAME @TAG'")
    p.add_argument("--reference", required=True, help="the row every other row is compared with")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    return p


def merged_rows(paths: list[str]) -> dict:
    """The rows of several ``bench --json`` files of the same excerpts; a row that several files have
    must score each estimate the same (to 0.01 dB) in each, else they scored other excerpts."""
    methods: dict = {}
    for spec in paths:
        path, _, tag = spec.partition("@")
        for name, row in json.loads(open(path).read())["methods"].items():
            name = f"{name} @{tag}" if tag else name
            if name in methods and "items" in row and "items" in methods[name]:
                if not np.allclose(per_estimate(row), per_estimate(methods[name]), atol=0.01):
                    raise SystemExit(f"{path}: row {name!r} scores differently than in an earlier file: "
                                     "not the same excerpts (same --root, --n and --seed?)")
            methods.setdefault(name, row)
    return methods


def main(args: argparse.Namespace) -> dict:
    methods = merged_rows(args.results)
    if args.reference not in methods:
        raise SystemExit(f"no row {args.reference!r}; rows: {list(methods)}")
    ref = per_estimate(methods[args.reference])
    rng = np.random.default_rng(args.seed)
    out = {}
    print(f"{'row':<26}{'median diff':>12}{'95% interval':>20}{'wins':>7}  (SI-SDRi dB minus {args.reference}'s)")
    for name, row in methods.items():
        if name == args.reference or "items" not in row:
            continue
        out[name] = r = paired(per_estimate(row), ref, rng)
        print(f"{name:<26}{r['median_diff']:>12.2f}{'[%.2f, %.2f]' % tuple(r['ci95']):>20}{r['wins']:>7.2f}")
    return out


if __name__ == "__main__":
    main(build_parser().parse_args())
