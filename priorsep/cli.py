"""Command-line interface: ``priorsep {train-prior, separate, bench, diagnose}``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch


def _set_threads() -> None:
    import os

    torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))


def cmd_train_prior(args: argparse.Namespace) -> int:
    from .data.folder import FolderCrops
    from .data.toy import TOY_MIXING, TOY_SOURCES, ToySourceCrops
    from .mixing import mixing_weights
    from .priors.io import PRIOR_KINDS, checkpoint_paths
    from .training.prior import train_prior

    if args.data == "toy":
        dataset = ToySourceCrops(args.source, args.crop, seed=args.seed)
        mixing = TOY_MIXING
        weight = mixing_weights(mixing, len(TOY_SOURCES))[0]
    else:
        dataset = FolderCrops(args.data, args.crop, seed=args.seed)
        mixing = args.mixing
        weight = 1.0 if mixing == "sum" else 1.0 / args.n_sources
    out = Path(args.out)
    if out.is_dir() or str(args.out).endswith("/"):
        out = out / args.source
    config = dict(
        source=args.source,
        sample_rate=dataset.sample_rate,
        sigma_min=args.sigma_min,
        sigma_max=args.sigma_max,
        mixing=mixing,
        mix_weight=weight,
        training_data=dataset.describe(),
        training=dict(steps=args.steps, batch_size=args.batch_size, crop=args.crop, lr=args.lr, seed=args.seed),
    )
    for key in ("squeeze", "n_blocks", "hidden", "n_layers"):
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    torch.manual_seed(args.seed)
    prior = PRIOR_KINDS[args.kind](config)
    log = train_prior(
        prior, dataset, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        checkpoint_every=args.checkpoint_every, quiet=args.quiet,
    )
    weights, cfg = checkpoint_paths(out)
    last = log[-1]["loss"] if log else float("nan")
    print(f"saved {weights} and {cfg}; final loss {last:.3f} nats/sample")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="priorsep", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train-prior", help="train one source prior on solo stems")
    p.add_argument("--kind", default="flow", choices=["flow"])
    p.add_argument("--source", required=True, help="source name, e.g. sine or bass")
    p.add_argument("--data", required=True, help="'toy' or a folder of solo wav/flac files of this source")
    p.add_argument("--out", required=True, help="checkpoint stem (priors/bass -> priors/bass.pt + .json) or folder")
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--crop", type=int, default=2048, help="training crop length in samples")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--sigma-min", type=float, default=0.01)
    p.add_argument("--sigma-max", type=float, default=2.0)
    p.add_argument("--mixing", choices=["sum", "mean"], default="sum", help="mixing convention of folder data")
    p.add_argument("--n-sources", type=int, default=4, help="number of sources (for --mixing mean)")
    p.add_argument("--squeeze", type=int)
    p.add_argument("--n-blocks", type=int)
    p.add_argument("--hidden", type=int)
    p.add_argument("--n-layers", type=int)
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train_prior)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _set_threads()
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"priorsep {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
