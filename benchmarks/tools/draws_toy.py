"""Posterior draws on fresh toy mixes: the draws' mean against the search, each source's
confidence, and how well low confidence flags the failed estimates.

    python benchmarks/tools/draws_toy.py --priors toy --n 64 --seed 2026 --json draws.json --plot roc.png

`priorsep bench toy --samples N` also runs every other row of the table (the hybrid is a second
search per mix); this runs the prior set's search with draws (a Langevin row) and, where the set
has an encoder, its variational draws (``--methods`` picks), then :mod:`failure_detection` on them. Timing:
``--time-search`` also times the plain search alone on the first mix (seconds per mix).
"""
from __future__ import annotations

import argparse
import time

import torch

import priorsep
from priorsep.data.toy import TOY_MIXING, TOY_SOURCES
from priorsep.encoders import EncoderDraws, own_encoder
from priorsep.errors import ConfigError
from priorsep.evaluation.benchmark import bench_table, format_table, save_json
from priorsep.evaluation.toy_benchmark import toy_benchmark_set
from priorsep.mixing import mixing_weights
from priorsep.separation.draws import RESTART_INITS, DrawSettings

import failure_detection


def main(args: argparse.Namespace) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    draws = DrawSettings(samples=args.samples, restarts=args.restarts, sigma=args.sigma, levels=args.levels,
                         steps=args.steps, restart_init=args.restart_init, restart_share=args.restart_share)
    encoder_draws = EncoderDraws(alignments=args.alignments, scale_factor=args.scale_factor)
    methods = set(args.methods.split(","))
    if not methods or methods - {"langevin", "variational"}:
        raise ConfigError(f"--methods takes langevin and/or variational, got {args.methods!r}")
    separators = [priorsep.load_separator(priors, "langevin", draws=draws)] if "langevin" in methods else []
    if "variational" in methods and own_encoder(priors) is not None:
        separators.append(priorsep.load_separator(priors, "variational", draws=encoder_draws))
    if not separators:
        raise ConfigError(f"nothing to run: {args.priors} has no encoder for --methods variational")
    data = toy_benchmark_set(args.n, args.length, args.seed)
    results = bench_table(data, mixing_weights(TOY_MIXING, len(TOY_SOURCES)), separators, bss=False,
                          quiet=args.quiet, samples=args.samples)
    results.update(prior_sets=[args.priors], draws=vars(draws), encoder_draws=vars(encoder_draws), seed=args.seed)
    if args.time_search and "langevin" in methods:
        t0 = time.perf_counter()
        separators[0].separate(data.mixes[0])
        results["search_seconds_first_mix"] = time.perf_counter() - t0
        row = next(iter(results["methods"].values()))
        print(f"search alone on mix 0: {results['search_seconds_first_mix']:.1f} s; with draws (mean over mixes): "
              f"{row['seconds_per_mix']:.1f} s")
    print(format_table(results))
    if args.json:
        save_json(results, args.json)
        detection = failure_detection.build_parser().parse_args(
            [args.json, "--below", str(args.below)] + (["--plot", args.plot] if args.plot else []))
        try:
            results["failure_detection"] = failure_detection.main(detection)
        except ConfigError as e:  # e.g. no failed (or no good) estimate among few mixes
            print(f"no failure detection: {e}")
    return results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    d = DrawSettings()
    p.add_argument("--priors", default="toy")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--seed", type=int, default=2026, help="toy data seed (2026: the held-out benchmark seed)")
    p.add_argument("--samples", type=int, default=d.samples)
    p.add_argument("--restarts", type=int, default=d.restarts)
    p.add_argument("--restart-init", choices=RESTART_INITS, default=d.restart_init,
                   help="where the restarts after the first start")
    p.add_argument("--restart-share", type=float, default=d.restart_share,
                   help="the share of the draws that start from the restarts after the first")
    p.add_argument("--sigma", type=float, default=d.sigma)
    p.add_argument("--levels", type=int, default=d.levels)
    p.add_argument("--steps", type=int, default=d.steps)
    e = EncoderDraws()
    p.add_argument("--alignments", type=int, default=e.alignments,
                   help="variational: the alignments of the mix whose posteriors q mixes (1: the encoder's own q)")
    p.add_argument("--scale-factor", type=float, default=e.scale_factor,
                   help="variational: multiplies q's stds (1: as trained; 0: each draw its alignment's mean)")
    p.add_argument("--methods", default="langevin,variational",
                   help="langevin (the search with Langevin draws) and/or variational (the set's encoder, if any)")
    p.add_argument("--below", type=float, default=5.0, help="failed: SI-SDRi below this (dB)")
    p.add_argument("--time-search", action="store_true")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    p.add_argument("--json", help="results JSON (then also the failure detection)")
    p.add_argument("--plot", help="ROC figure (with --json)")
    p.add_argument("--quiet", action="store_true")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
