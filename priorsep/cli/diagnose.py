"""``priorsep diagnose``: the priors' cross-likelihood matrix (table + PNG)."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("diagnose", help="cross-likelihood matrix of the priors (table + PNG)")
    p.add_argument("--priors", default="toy")
    p.add_argument("--data", default="toy", help="'toy' or a folder with one sub-folder of audio per source")
    p.add_argument("--n", type=int, default=16, help="test crops per source")
    p.add_argument("--length", type=int, default=4096, help="samples per crop")
    p.add_argument("--sigmas", type=float, nargs="+", default=[0.01, 0.05, 0.2, 1.0])
    p.add_argument("--png", default="cross_likelihood.png")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    from ..data.select import per_source_crops
    from ..evaluation.crosslik import cross_likelihood, format_cross_likelihood, plot_cross_likelihood
    from ..priors.io import load_priors

    priors = load_priors(args.priors)
    data = per_source_crops(args.data, args.n, args.length, args.seed)
    sigmas = args.sigmas
    matrix = cross_likelihood(priors, data, sigmas, seed=args.seed)
    print(format_cross_likelihood(matrix, sigmas, list(data), priors.names))
    plot_cross_likelihood(matrix, sigmas, list(data), priors.names, args.png)
    print(f"wrote {args.png}")
    return 0
