"""Where a separation's time goes: the parts of one default ``langevin_separate`` run, and each prior alone.

    python benchmarks/probes/profile_separation.py --priors toy --length 16384 --json profile.json

Part 1 runs the prior set's default separator (its ``priorset.json`` settings) on one fresh toy
mix (``--band-root``: a band excerpt instead) with timers around its parts: the priors' scores
(forward and backward of all K priors, side by side in the prior thread pool), the priors' log
densities without gradient (ratings of chains, reassignment and polish candidates), the backward
pass through the masked sources (ISTFT, softmax), the optimiser's steps, the polish stage as a
whole, and the rest (the masked sources' forward pass, Python, bookkeeping) as the total minus
the timed parts. Part 2 times each prior's score (forward + backward) and log density alone on
the mix's length, on one thread and on all, in float32 and bfloat16 (CPU autocast).
Each part is measured in the same run, so their shares compare; absolute seconds depend on what
else the machine runs.
"""
from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from unittest import mock

import numpy as np
import torch

import priorsep
import priorsep.separation.langevin as langevin
import priorsep.separation.mask_space as mask_space
from priorsep.evaluation.benchmark import save_json


POLISH = "of which the polish stage (all of it)"
REST = "rest (masked sources forward, Python, bookkeeping)"


class Timers:
    """Seconds and calls per named part; :meth:`wrap` times a function (not re-entrant per name)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, fn):
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
                self.calls[name] = self.calls.get(name, 0) + 1
        return timed


def profile_run(separator, mix: np.ndarray) -> dict:
    """Part 1: one ``separator.separate(mix)`` with its parts timed: ``{"total_seconds", "parts": {part:
    {"seconds", "calls"}}}``."""
    timers = Timers()
    with ExitStack() as stack:
        for obj, name, part in ((langevin, "_scores", "prior scores (forward + backward)"),
                                (langevin, "_log_densities", "prior log densities (no grad)"),
                                (langevin, "polish", POLISH),
                                (torch.Tensor, "backward", "backward through masked sources"),
                                (torch.optim.Adam, "step", "optimiser steps"),
                                (mask_space, "reassign", "reassignment")):
            stack.enter_context(mock.patch.object(obj, name, timers.wrap(part, getattr(obj, name))))
        t0 = time.perf_counter()
        separator.separate(mix)
        total = time.perf_counter() - t0
    parts = {k: {"seconds": v, "calls": timers.calls[k]} for k, v in timers.seconds.items()}
    timed = sum(v["seconds"] for k, v in parts.items() if k != POLISH)  # the polish stage overlaps them
    parts[REST] = {"seconds": max(0.0, total - timed), "calls": None}
    return {"total_seconds": total, "parts": parts}


def time_call(fn, repeats: int) -> float:
    fn()  # warm-up (allocations, autocast caches)
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def profile_priors(priors, length: int, repeats: int, threads: list[int], sigma: float) -> list[dict]:
    """Part 2: per prior, seconds per score and per log density of one ``(1, length)`` input."""
    g = torch.Generator().manual_seed(0)
    x = 0.3 * torch.randn(1, length, generator=g)
    rows = []
    before = torch.get_num_threads()
    try:
        for p in priors:
            for n in threads:
                torch.set_num_threads(n)
                for precision in ("float32", "bfloat16"):
                    def score():
                        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
                            p.score(x, sigma)

                    def density():
                        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                             enabled=precision == "bfloat16"):
                            p.log_prob(x, sigma)

                    rows.append({"prior": p.name, "kind": p.config.get("kind", type(p).__name__), "threads": n,
                                 "precision": precision, "score_seconds": time_call(score, repeats),
                                 "log_prob_seconds": time_call(density, repeats)})
    finally:
        torch.set_num_threads(before)
    return rows


def load_mix(args: argparse.Namespace, priors) -> np.ndarray:
    if args.band_root:
        from priorsep.evaluation.band_benchmark import band_benchmark_set

        return band_benchmark_set(args.band_root, args.length / priors.sample_rate, 1, seed=args.seed).mixes[0]
    from priorsep.evaluation.toy_benchmark import toy_benchmark_set

    return toy_benchmark_set(1, args.length, args.seed).mixes[0]


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    mix = load_mix(args, priors)
    settings = {k: v for k, v in dict(n_levels=args.n_levels, steps_per_level=args.steps_per_level,
                                      polish_rounds=args.polish_rounds).items() if v is not None}
    separator = priorsep.load_separator(priors, "langevin", **settings)
    run = profile_run(separator, mix)
    seconds = len(mix) / priors.sample_rate
    print(f"{args.priors}: one {len(mix)}-sample mix ({seconds:.2f} s of audio), {args.threads} threads: "
          f"{run['total_seconds']:.1f} s ({run['total_seconds'] / seconds:.1f} s per s of audio)")
    print(f"{'part':<52}{'seconds':>9}{'share':>8}{'calls':>8}")
    for name, v in sorted(run["parts"].items(), key=lambda kv: -kv[1]["seconds"]):
        calls = "" if v["calls"] is None else str(v["calls"])
        print(f"{name:<52}{v['seconds']:>9.2f}{v['seconds'] / run['total_seconds']:>8.1%}{calls:>8}")
    print("(the polish stage's own scores, densities and steps are counted in their rows too)")
    sigma = float(separator.config.schedule.sigma_min)
    rows = profile_priors(priors, len(mix), args.repeats, sorted({1, args.threads}), sigma)
    print(f"\neach prior alone on (1, {len(mix)}) at sigma {sigma:g}, seconds per call")
    print(f"{'prior':<12}{'kind':<10}{'threads':>8}{'precision':>11}{'score':>9}{'log_prob':>10}")
    for r in rows:
        print(f"{r['prior']:<12}{r['kind']:<10}{r['threads']:>8}{r['precision']:>11}{r['score_seconds']:>9.3f}"
              f"{r['log_prob_seconds']:>10.3f}")
    out = {"priors": args.priors, "length": len(mix), "audio_seconds": seconds, "threads": args.threads,
           "settings": settings, "run": run, "per_prior": rows, "torch": torch.__version__}
    if args.json:
        save_json(out, args.json)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", default="toy")
    p.add_argument("--length", type=int, default=16384, help="samples of the mix")
    p.add_argument("--band-root", help="a folder from priorsep data band: profile on one of its excerpts")
    p.add_argument("--seed", type=int, default=11, help="toy data (or band excerpt) seed")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5, help="calls per timing in part 2")
    p.add_argument("--n-levels", type=int, help="override the search's noise levels (smoke runs)")
    p.add_argument("--steps-per-level", type=int, help="override the search's steps per level (smoke runs)")
    p.add_argument("--polish-rounds", type=int, help="override the polish stage's rounds (smoke runs)")
    p.add_argument("--json")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
