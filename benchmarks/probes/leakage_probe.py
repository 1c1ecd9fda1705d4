"""Do the priors rate a source *with another source leaked into it* above the clean source?

A separation by prior densities ends where sum_k log p_k(s_k) is highest. Cross-likelihoods
(``priorsep diagnose``) compare one source under several priors; this compares, under one
prior, the clean source with what a separator actually confuses it with, on aligned stems of the
same excerpt (band data, summed mix):

* ``leak``: log p_k(s_k + a s_j) - log p_k(s_k), per sample, for each other source j: a prior that
  gains from taking another source's content in invites that leakage;
* ``level``: log p_k(b s_k) - log p_k(s_k): how much the prior gains from a quieter source;
* ``total``: the change of the *sum over priors* when a share a of s_j moves from slot j to slot k
  (what one step of a mask search trades): positive means the priors together prefer the leak.

Medians over excerpts, in nats per sample, at noise level ``--sigma``:

    python benchmarks/probes/leakage_probe.py --root priors-work/band-data-multi/gmbank --n 8
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import priorsep
from priorsep.checkpoint import append_log
from priorsep.evaluation.band_benchmark import band_benchmark_set


def per_sample(prior, x: torch.Tensor, sigma: float) -> np.ndarray:
    """log p(x | sigma) per sample of ``x (N, T)``, ``(N,)``."""
    with torch.no_grad():
        return (prior.log_prob(x, sigma) / x.shape[-1]).numpy()


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    data = band_benchmark_set(args.root, args.seconds, args.n, seed=args.seed)
    s = torch.from_numpy(data.sources[:, [data.names.index(n) for n in priors.names]])  # (N, K, T)
    k = len(priors.names)
    clean = np.stack([per_sample(p, s[:, i], args.sigma) for i, p in enumerate(priors)], 1)  # (N, K)
    a = args.share
    leak = np.zeros((k, k))  # leak[i, j]: prior i on s_i + a s_j, minus on s_i
    total = np.zeros((k, k))  # total[i, j]: the sum over priors when a of s_j moves from slot j to slot i
    for i, p in enumerate(priors):
        for j in range(k):
            if i == j:
                continue
            took = per_sample(p, s[:, i] + a * s[:, j], args.sigma)
            gave = per_sample(priors.priors[j], (1 - a) * s[:, j], args.sigma)
            leak[i, j] = np.median(took - clean[:, i])
            total[i, j] = np.median(took - clean[:, i] + gave - clean[:, j])
    level = np.array([np.median(per_sample(p, args.level * s[:, i], args.sigma) - clean[:, i])
                      for i, p in enumerate(priors)])
    names = priors.names
    print(f"{args.priors} on {len(s)} excerpts of {args.root} at sigma {args.sigma:g} (nats/sample, medians)")
    print(f"leak: prior (row) on its source + {a:g} x column source, minus on its source")
    print(f"{'':>8}" + "".join(f"{n:>9}" for n in names))
    for i, n in enumerate(names):
        print(f"{n:>8}" + "".join(f"{'':>9}" if i == j else f"{leak[i, j]:>9.3f}" for j in range(k)))
    print(f"total: sum over priors when {a:g} of the column source moves into the row source's slot")
    for i, n in enumerate(names):
        print(f"{n:>8}" + "".join(f"{'':>9}" if i == j else f"{total[i, j]:>9.3f}" for j in range(k)))
    print(f"level: prior on {args.level:g} x its source, minus on its source: "
          + ", ".join(f"{n} {v:.3f}" for n, v in zip(names, level)))
    rec = {"priors": args.priors, "root": args.root, "n": len(s), "sigma": args.sigma, "share": a,
           "level_factor": args.level, "sources": names, "leak": leak.round(4).tolist(),
           "total": total.round(4).tolist(), "level": level.round(4).tolist(),
           "clean": np.median(clean, 0).round(4).tolist()}
    if args.log:
        append_log(args.log, [rec])
    return rec


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="band data folder with test/<track>/<source>.wav")
    p.add_argument("--priors", default="band")
    p.add_argument("--n", type=int, default=8, help="excerpts")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sigma", type=float, default=0.001)
    p.add_argument("--share", type=float, default=0.2, help="the leaked share a")
    p.add_argument("--level", type=float, default=0.7, help="the quieter level b")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log", default="", help="append the result as one JSON line here")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
