"""What the commands share: thread setup, output checks, argument types, the Langevin sampler's flags
and the separator a ``separate`` or ``bench musdb`` command line names."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from ..errors import ConfigError, OutputConflictError


def set_threads() -> None:
    """One thread per core, shared among the processes ``torchrun`` started on this node."""
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // local))


def output_stem(out: str, name: str) -> Path:
    """``--out``: a checkpoint stem, or a folder (existing, or written with a trailing ``/``) that gets ``name``."""
    path = Path(out)
    if path.is_dir() or str(out).endswith("/"):
        path = path / name
    return path


def check_output(out: Path, resume: bool, init: str | None) -> None:
    """Training never silently replaces a checkpoint: an existing ``out`` continues only with
    ``--resume`` (and only if its training state exists)."""
    from ..checkpoint import checkpoint_paths, side_file

    if init and same_checkpoint(init, out):
        return  # refused by the command, with the message for that mistake
    state, weights = side_file(out, ".train.pt"), checkpoint_paths(out)[0]
    if resume:
        if not state.is_file() and weights.is_file():
            raise OutputConflictError(f"--resume: {weights} exists but has no training state {state.name} to resume "
                                      "(a finished or copied model); choose another --out")
    elif state.is_file() or weights.is_file():
        raise OutputConflictError(f"{weights if weights.is_file() else state} exists; pass --resume to continue its "
                                  "training, or choose another --out")


def same_checkpoint(a: str | Path, b: str | Path) -> bool:
    """Whether two checkpoint stems name the same weights file."""
    from ..checkpoint import checkpoint_paths

    return checkpoint_paths(a)[0].resolve() == checkpoint_paths(b)[0].resolve()


def ratios(text: str) -> tuple[float, ...]:
    """``"0.5,1,2"`` -> ``(0.5, 1.0, 2.0)``: positive numbers, or an argparse error."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive numbers, got {text!r}")
    return values


def bool_value(text: str) -> bool:
    """``true/yes/1`` or ``false/no/0`` (any case); anything else is an error, not a silent False."""
    value = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


def add_training_args(p: argparse.ArgumentParser, checkpoint_every: int, init_help: str) -> None:
    """The flags every training command shares: ``--init`` (``init_help``), ``--resume``,
    ``--checkpoint-every``, ``--seed``, ``--quiet``."""
    p.add_argument("--init", help=init_help)
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted training in --out (from OUT.train.pt; starts fresh if none)")
    p.add_argument("--checkpoint-every", type=int, default=checkpoint_every, help="steps between checkpoints")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_langevin_args(p: argparse.ArgumentParser) -> None:
    """``--KEY`` per flat sampler setting (``priorsep.separation.config.FLAT_KEYS``), unset by default
    (the prior set's benchmarked settings apply). The experimental settings are accepted but left
    out of ``--help``."""
    from ..separation.config import EXPERIMENTAL_KEYS, flat_defaults

    g = p.add_argument_group("sampler (mask search or Langevin; defaults: the prior set's benchmarked settings)")
    for key, default in flat_defaults().items():
        flag = "--" + key.replace("_", "-")
        hidden = key in EXPERIMENTAL_KEYS
        if isinstance(default, bool):
            g.add_argument(flag, type=bool_value, default=None, metavar="BOOL",
                           help=argparse.SUPPRESS if hidden else f"true/false, default {default}")
        else:
            g.add_argument(flag, type=type(default), default=None,
                           help=argparse.SUPPRESS if hidden else f"default {default}")


def langevin_settings(args: argparse.Namespace) -> dict:
    """The sampler settings given on the command line (unset flags left out)."""
    from ..separation.config import flat_defaults

    return {key: getattr(args, key) for key in flat_defaults() if getattr(args, key, None) is not None}


def separator_spec(args: argparse.Namespace) -> str:
    """What ``separate`` and ``bench musdb`` separate with: the baseline of ``--method baseline``,
    else the prior set (default ``toy``; for ``--method variational`` the set whose bundled encoder separates)."""
    from ..api import DEFAULT_VARIATIONAL_SET

    if args.method == "baseline":
        if not args.model:
            raise ConfigError("--method baseline needs --model NAME (a bundled baseline such as waveunet-toy, "
                              "or a checkpoint stem)")
        return args.model
    return args.priors or (DEFAULT_VARIATIONAL_SET if args.method == "variational" else "toy")


def add_draw_args(p: argparse.ArgumentParser) -> None:
    """``--samples`` and how the draws are made (:mod:`priorsep.separation.draws`,
    :class:`~priorsep.encoders.EncoderDraws`)."""
    from ..encoders import EncoderDraws
    from ..separation.draws import RESTART_INITS, DrawSettings

    g = p.add_argument_group("posterior draws (--method langevin or variational)")
    g.add_argument("--samples", type=int, default=1,
                   help="posterior draws per mix (1: the point estimate only); the estimate is then the draws' "
                   "mean (variational: the encoder's posterior mean), and each source's confidence (dB) says how "
                   "much they agree")
    g.add_argument("--restarts", type=int, default=DrawSettings.restarts,
                   help="langevin: searches (different random states) whose estimates start the draws' chains "
                   f"(default {DrawSettings.restarts}; at most --samples)")
    g.add_argument("--restart-init", choices=RESTART_INITS, default=DrawSettings.restart_init,
                   help="langevin: where the restarts after the first start (default auto: the encoder's estimate "
                   "at another alignment of the mix where the search starts from an encoder, else random masks)")
    g.add_argument("--restart-share", type=float, default=DrawSettings.restart_share,
                   help="langevin: the share of the draws whose chains start from the later restarts (default "
                   f"{DrawSettings.restart_share})")
    g.add_argument("--alignments", type=int, default=EncoderDraws.alignments,
                   help="variational: the delays of the mix (over one STFT hop) whose posteriors the draws mix "
                   f"(default {EncoderDraws.alignments}; 1: the encoder's own q)")
    g.add_argument("--scale-factor", type=float, default=EncoderDraws.scale_factor,
                   help=f"variational: multiplies q's stds (default {EncoderDraws.scale_factor}; 1: as trained)")


def draw_settings(args: argparse.Namespace) -> dict | None:
    """The Langevin draw settings of the draw flags (``--samples`` > 1 and a Langevin or hybrid
    ``--method``, or none: ``bench toy|band``'s rows), else None."""
    samples = getattr(args, "samples", 1)
    if samples == 1 or args.method not in (None, "langevin", "hybrid"):
        return None
    if samples < 2:
        raise ConfigError(f"--samples must be 1 (no draws) or at least 2, got {samples}")
    return dict(samples=samples, restarts=min(args.restarts, samples), restart_init=args.restart_init,
                restart_share=args.restart_share)


def encoder_draw_settings(args: argparse.Namespace) -> dict:
    """The variational draw settings of ``--alignments`` and ``--scale-factor``."""
    return dict(alignments=args.alignments, scale_factor=args.scale_factor)


#: ``--method`` of ``separate`` and ``bench musdb``; none given: the prior set's default
METHODS = ["langevin", "variational", "fit", "baseline"]
METHOD_HELP = ("how to separate: langevin (the annealed search of the prior set's waveform priors), variational "
               "(their encoder, see --encoder), fit (the set's spectral priors, where it has them) or baseline (a "
               "trained separator, see --model); default: the prior set's own, fit for band, langevin for toy")


def load_separator(args: argparse.Namespace, spec: str):
    """The separator ``spec`` with ``--method`` (none given: set to the prior set's default), ``--encoder``,
    ``--seed``, ``--device``, the sampler and draw flags."""
    from ..api import default_method, load_separator as load

    if args.method is None:
        args.method = default_method(spec)

    draws = encoder_draw_settings(args) if args.method == "variational" else draw_settings(args)
    return load(spec, args.method, encoder=args.encoder, seed=args.seed or 0, progress=not args.quiet,
                draws=draws, device=args.device, **langevin_settings(args))


def add_device_arg(p: argparse.ArgumentParser) -> None:
    """``--device``: where the separators run (:func:`priorsep.device.resolve_device`)."""
    p.add_argument("--device", default=None, help="where to separate: cpu (default) or cuda, cuda:N; every model "
                   "and tensor moves there")
