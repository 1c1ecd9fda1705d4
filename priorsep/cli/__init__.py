"""Command-line interface: ``priorsep {train-prior, separate, bench, diagnose}``."""
from __future__ import annotations

import argparse
import os
import sys

from . import bench, data, diagnose, separate, train_baseline, train_posterior, train_prior
from .common import set_threads
from .train_baseline import TRAIN_BASELINE_DEFAULTS
from ..errors import PriorsepError

__all__ = ["main", "build_parser", "TRAIN_BASELINE_DEFAULTS"]

# The command modules, in the order of ``priorsep --help``: each adds its subparser and runs it.
COMMANDS = (train_prior, train_baseline, train_posterior, separate, data, bench, diagnose)

# What ``main`` runs for command ``x-y``: ``cmd_x_y`` of this module, looked up when it runs (tests replace them here).
cmd_train_prior = train_prior.run
cmd_train_baseline = train_baseline.run
cmd_train_posterior = train_posterior.run
cmd_separate = separate.run
cmd_data = data.run
cmd_bench = bench.run
cmd_diagnose = diagnose.run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="priorsep", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .. import distributed

    args = build_parser().parse_args(argv)
    set_threads()
    try:
        distributed.init()  # a no-op unless started by torchrun
        code = globals()["cmd_" + args.command.replace("-", "_")](args)
    # The documented errors, and the system's (permissions, disk full): the user's to fix; a message, no traceback.
    except (PriorsepError, OSError) as e:
        print(f"priorsep {args.command}: error: {e}", file=sys.stderr)
        code = 2
    except BaseException:
        distributed.shutdown(finished=False)
        raise  # a bug: its traceback matters more than a clean exit
    if distributed.shutdown(finished=code == 0):
        # Under torchrun: skip the interpreter's teardown, where gloo's threads can abort the
        # process (see distributed.shutdown); nothing of ours is left to flush but stdout/stderr.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
