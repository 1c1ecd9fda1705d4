"""Probe: does the band set's waveform-flow search improve its spectral priors' estimate? The hybrid of issue 26
(a good starting estimate, then a short annealed refinement under the waveform priors), with the fit of the set's
spectral VAE priors (method ``"fit"``) as the start in place of an amortised encoder.

Rows: the fit alone, then per ``--grid`` entry (sampler settings over the set's own) the flows' mask search
(method ``"langevin"``) started from the fit's estimate of each chunk (``init="variational"`` with the fit as the
start). Scored by the band benchmark's table (``bench_band``, the same excerpts as ``priorsep bench band``).

    python benchmarks/probes/band_fit_refine_probe.py --root priors-work/band-data-multi/gmbank --n 16 \\
        --grid '[{}, {"sigma_max": 0.003, "n_levels": 4}]' --json refine.json
"""
from __future__ import annotations

import argparse
import dataclasses
import json

import torch

import priorsep
from priorsep.evaluation.band_benchmark import bench_band
from priorsep.evaluation.benchmark import format_table, save_json
from priorsep.separation.config import make_config
from priorsep.separation.separators import LangevinSeparator


class FitThenSearch(LangevinSeparator):
    """The set's annealed search (``settings`` over its own) started from ``fit``'s estimate of each chunk."""

    def __init__(self, priors: priorsep.PriorSet, fit: priorsep.Separator, settings: dict, seed: int):
        super().__init__(priors, make_config(settings, base=priors.sampler), seed=seed)
        self.config = dataclasses.replace(self.config, init="variational")  # the start comes from _init_fn
        self.fit, self.settings = fit, settings

    @property
    def label(self) -> str:
        return f"fit + flows' search {json.dumps(self.settings)}"

    def _init_fn(self):
        return lambda x: self.fit.separate_tensor(x[:, None])[:, :, 0]  # (N, T) -> (N, K, T)


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    fit = priorsep.load_separator(priors, "fit")
    rows = [fit] + [FitThenSearch(priors, fit, settings, args.seed) for settings in json.loads(args.grid)]
    results = bench_band(args.root, rows, n=args.n, seconds=args.seconds, seed=args.seed, bss=not args.no_bss,
                         quiet=args.quiet)
    print(format_table(results))
    if args.json:
        save_json(results, args.json)
    return results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="a folder from priorsep data band (its test split is scored)")
    p.add_argument("--priors", default="band", help="a prior set whose priorset.json names spectral priors ('fit')")
    p.add_argument("--grid", default="[{}]", help="JSON list of sampler settings, one refined row each")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0, help="excerpt and search seed")
    p.add_argument("--no-bss", action="store_true")
    p.add_argument("--json")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet", action="store_true")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
