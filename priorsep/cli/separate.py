"""``priorsep separate``: separate mixture files into one wav per source."""
from __future__ import annotations

import argparse

from .common import (METHOD_HELP, METHODS, add_device_arg, add_draw_args, add_langevin_args, load_separator,
                     separator_spec)


def add_parser(sub) -> None:
    p = sub.add_parser("separate", help="separate a mixture file into one wav per source")
    p.add_argument("mix", nargs="+", help="mixture audio files (wav/flac/...) or folders of them")
    p.add_argument("--priors", help="bundled prior set name or folder of checkpoints (default: toy; toy-wavenet "
                   "for --method variational, whose bundled encoder separates)")
    p.add_argument("--method", choices=METHODS, help=METHOD_HELP)
    p.add_argument("--encoder", help="--method variational, or langevin with --init variational: encoder checkpoint "
                   "stem (default: the prior set's own)")
    p.add_argument("--model", help="--method baseline: bundled baseline name (waveunet-toy) or checkpoint stem")
    p.add_argument("--out", required=True, help="output folder: SOURCE.wav per source for a single file, "
                   "else NAME/SOURCE.wav per input (--samples > 1: also SOURCE.spread.wav, the draws' standard "
                   "deviation, uncertainty.json and uncertainty.png); inputs whose outputs exist are skipped")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (each gets an equal share of the cores); "
                   "under torchrun, per rank")
    p.add_argument("--resample", action="store_true", help="resample the mix to the priors' rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", metavar="DIR", help="also write a listening report of the inputs separated into --out "
                   "(DIR/index.html: per input the mixture and each source's estimate as players and spectrograms, "
                   "with --samples the confidence and spread); DIR must be new, empty or an earlier report")
    p.add_argument("--quiet", action="store_true")
    add_device_arg(p)
    add_draw_args(p)
    add_langevin_args(p)


def run(args: argparse.Namespace) -> int:
    from .. import distributed
    from ..report import check_report_folder, separation_report
    from ..separation.files import separate_files

    if args.report:
        check_report_folder(args.report)
    separator = load_separator(args, separator_spec(args))
    counts = separate_files(args.mix, args.out, separator, resample=args.resample, jobs=args.jobs, quiet=args.quiet,
                            samples=args.samples)
    d = distributed.current()
    rank = f" (rank {d.rank} of {d.world})" if d.enabled else ""
    print(f"separated {counts['separated']} input(s) into {args.out}, skipped {counts['skipped']} finished{rank}")
    if args.report and d.rank == 0:
        index = separation_report(args.report, args.mix, args.out, separator.label, list(separator.names),
                                  list(separator.weights), quiet=args.quiet)
        print(f"report: {index}")
    return 0
