"""Does evaluating the K priors of a set as one grouped network pass beat the sampler's pool?

Times one score call of all K priors on ``(1, K, T)`` sources three ways, on 1 and 2 threads:
the sampler's own (``langevin._scores`` with its pool: one prior per thread, each single-threaded),
the priors one after another, and one ``torch.func.vmap`` over the priors' stacked weights (one
grouped pass; needs priors of one architecture). Also checks that the grouped scores equal the
sampler's.

    python benchmarks/probes/grouped_scores.py --priors toy --length 16384 --json grouped.json
"""
from __future__ import annotations

import argparse
import copy
import json

import torch

from profile_separation import time_call

import priorsep
from priorsep.separation.langevin import _prior_threads, _scores


def grouped_score(priors, sigma: float):
    """``score(x (K, T)) -> (K, T)``: every prior's score in one vmapped pass over its stacked weights."""
    from torch.func import functional_call, grad, stack_module_state, vmap

    params, buffers = stack_module_state(priors.priors)
    base = copy.deepcopy(priors.priors[0]).to("meta")

    def log_prob(p, b, x):
        return functional_call(base, (p, b), (x[None], sigma))[0]

    batched = vmap(grad(log_prob, argnums=2))
    return lambda x: batched(params, buffers, x)


def main(args: argparse.Namespace) -> dict:
    priors = priorsep.load_priors(args.priors)
    for p in priors.priors:
        p.eval()
    x = 0.3 * torch.randn(1, len(priors), args.length, generator=torch.Generator().manual_seed(0))
    grouped = grouped_score(priors, args.sigma)
    out = {"priors": args.priors, "length": args.length, "sigma": args.sigma, "repeats": args.repeats, "threads": {}}
    for threads in args.threads:
        torch.set_num_threads(threads)
        with _prior_threads(len(priors)) as pool:
            pooled = time_call(lambda: _scores(priors, x, args.sigma, pool), args.repeats)
        torch.set_num_threads(threads)  # the pool restores the count; set again for the others
        row = {"pool": pooled,
               "one after another": time_call(lambda: _scores(priors, x, args.sigma, None), args.repeats),
               "grouped (vmap)": time_call(lambda: grouped(x[0]), args.repeats)}
        out["threads"][str(threads)] = row
        print(f"{threads} thread(s): " + ", ".join(f"{k} {v:.3f} s" for k, v in row.items()), flush=True)
    reference = _scores(priors, x, args.sigma, None)[0][0]
    diff = (grouped(x[0]) - reference).abs().max().item()
    out["max_abs_difference"], out["max_abs_score"] = diff, reference.abs().max().item()
    print(f"grouped against the sampler's scores: max |difference| {diff:.3g} (max |score| "
          f"{out['max_abs_score']:.3g})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", default="toy", help="a prior set whose priors share one architecture")
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--sigma", type=float, default=0.05)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--json")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
