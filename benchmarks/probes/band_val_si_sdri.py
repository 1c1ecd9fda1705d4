"""Median SI-SDRi of saved baselines on band excerpts, without museval (faster than ``priorsep bench
band``, which also computes SDR/SIR/SAR): how the seeds of ``nmf-exemplars-band``'s draw were
compared on the GM-bank validation excerpts.

Prints, per ``--models`` stem, the median over the ``--n`` excerpts' source estimates (excerpt seed
``--seed``), the per-source medians and the seconds of compute per second of audio.

    python benchmarks/probes/band_val_si_sdri.py --models priors-work/nmf/nmf-exemplars-band --n 48
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from priorsep.baselines import load
from priorsep.evaluation.band_benchmark import band_benchmark_set
from priorsep.evaluation.benchmark import si_sdri_per_mix


def main(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(args.threads)
    data = band_benchmark_set(args.root, args.seconds, args.n, seed=args.seed)
    out = []
    for stem in args.models:
        model = load(stem)
        t0 = time.time()
        s = si_sdri_per_mix(model.separate, data)
        row = {"model": stem, "median": round(float(np.median(s)), 2),
               "per_source": dict(zip(data.names, np.median(s, 0).round(2).tolist())),
               "s_per_s": round((time.time() - t0) / (len(s) * args.seconds), 2)}
        print(row, flush=True)
        out.append(row)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", required=True, help="bundled baseline names or checkpoint stems")
    p.add_argument("--root", default="priors-work/band-data-multi/gmbank", help="band data (its test split)")
    p.add_argument("--n", type=int, default=48, help="excerpts")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0, help="excerpt positions")
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
