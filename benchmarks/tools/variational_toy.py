"""Score a variational encoder alone on fresh toy mixes: median SI-SDRi and seconds per mix.

`priorsep bench toy --encoder STEM` also runs the Langevin rows (minutes per mix); this runs only
``variational_separate`` (a fraction of a second per mix), for checking an encoder during or
after training:

    python benchmarks/tools/variational_toy.py --priors toy --encoder priors-work/toy-mask-encoder/encoder --n 16
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import priorsep
from priorsep.data.toy import TOY_SOURCES, toy_eval_set
from priorsep.evaluation.metrics import si_sdr_improvement


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    seeds = [int(v) for v in args.seeds.split(",")] if args.seeds else [args.seed]
    sdri, seconds = [], []
    for seed in seeds:
        data = toy_eval_set(args.n, args.length, seed=seed)
        for i in range(args.n):
            t0 = time.perf_counter()
            est = priorsep.variational_separate(data.mixes[i], priors, encoder=args.encoder)
            seconds.append(time.perf_counter() - t0)
            sdri.append(si_sdr_improvement(np.stack([est[n] for n in TOY_SOURCES]), data.sources[i], data.mixes[i]))
    sdri = np.array(sdri)  # (seeds * n, K)
    rec = {"encoder": args.encoder, "priors": args.priors, "n": args.n, "seeds": seeds,
           "median_si_sdri": float(np.median(sdri)), "per_source": np.median(sdri, 0).round(2).tolist(),
           "per_seed": [round(float(np.median(sdri[j * args.n:(j + 1) * args.n])), 2) for j in range(len(seeds))],
           "seconds_per_mix": float(np.mean(seconds)), "max_seconds_per_mix": round(max(seconds), 3),
           "si_sdri": sdri.round(2).tolist()}
    print(json.dumps(rec), flush=True)
    return rec


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", default="toy")
    p.add_argument("--encoder", help="encoder checkpoint stem (default: the prior set's own)")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--seed", type=int, default=2026, help="data seed (2026: the bench's mixes)")
    p.add_argument("--seeds", help="comma-separated data seeds, pooled (overrides --seed)")
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
