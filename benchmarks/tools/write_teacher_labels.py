"""Teacher estimates for a variational encoder: the Langevin separator on toy *mixtures only*.

    python benchmarks/tools/write_teacher_labels.py --priors toy-wavenet --n 64 --length 8192 --out priors-work/teacher

Resumable (existing files are kept). The stems of the toy data are never read: only
``MixturesOnly(ToyMixCrops)`` mixtures reach the separator. See priorsep/training/teacher.py.
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

import priorsep
from priorsep.data.multitrack import MixturesOnly
from priorsep.data.toy import ToyMixCrops
from priorsep.training.teacher import load_teacher_labels, write_teacher_labels


def main(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    mixes = MixturesOnly(ToyMixCrops(args.length, seed=args.seed))
    write_teacher_labels(priors, mixes, args.out, args.n, start=args.start, quiet=args.quiet,
                         **json.loads(args.settings))
    labels = load_teacher_labels(args.out)
    own = np.stack([np.diag(lab["log_density"]) for lab in labels])
    print(f"{len(labels)} teacher mixtures in {args.out}; own-prior density (nats/sample) per source, "
          f"median {np.median(own, 0).round(2).tolist()}, mean {np.mean([lab['seconds'] for lab in labels]):.1f} s/mix")
    return labels


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", default="toy-wavenet")
    p.add_argument("--n", type=int, default=64, help="number of mixtures")
    p.add_argument("--start", type=int, default=0, help="first mixture index")
    p.add_argument("--length", type=int, default=8192, help="samples per mixture")
    p.add_argument("--seed", type=int, default=0, help="toy training-data seed (the benchmark uses 2026)")
    p.add_argument("--settings", default="{}", help="JSON LangevinConfig overrides")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="priors-work/teacher")
    p.add_argument("--quiet", action="store_true")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
