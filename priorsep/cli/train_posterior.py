"""``priorsep train-posterior``: train a variational encoder on mixtures only (frozen priors)."""
from __future__ import annotations

import argparse

import torch

from .common import add_training_args, check_output, output_stem, ratios
from ..errors import ConfigError


def add_parser(sub) -> None:
    p = sub.add_parser("train-posterior", help="train a variational encoder on mixtures only (frozen priors)")
    p.add_argument("--priors", default="toy", help="bundled prior set name or folder of checkpoints")
    p.add_argument("--data", help="'toy' (toy mixtures) or a folder of mixture wav/flac files (needed unless "
                   "--teacher)")
    p.add_argument("--teacher", metavar="DIR",
                   help="fit q to the Langevin separator's estimates in DIR "
                   "(benchmarks/tools/write_teacher_labels.py), "
                   "remixed, instead of maximising the ELBO of --data: the wake update of q; no stems either way")
    p.add_argument("--teacher-min-density", type=float, default=float("-inf"),
                   help="accept a teacher mixture only if each estimate is rated at least this (nats/sample) by "
                   "its own prior (it must also be rated highest by its own prior)")
    p.add_argument("--out", required=True, help="checkpoint stem or folder (gets encoder.pt + .json); a prior "
                   "set folder's own encoder.* is what variational_separate uses by default")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--crop", type=int, default=2048, help="training crop length in samples")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--sigma-start", type=float, default=0.5, help="priors' noise level at the first step")
    p.add_argument("--sigma-end", type=float, default=0.02, help="... and at the last (geometric in between)")
    p.add_argument("--gamma-scale", type=float, default=0.5, help="likelihood std = gamma_scale * sigma")
    p.add_argument("--particles", type=int, default=1, help="ELBO samples per mixture and step")
    p.add_argument("--tie-scale", action="store_true",
                   help="ELBO with q's std tied to sigma: its draws are what the priors at sigma model")
    p.add_argument("--mask-scale", action="store_true",
                   help="give a mask encoder (--architecture mask, or --init of one) a per time-frequency-bin "
                   "scale of its mask logits and train only that, by the mask-space ELBO of --data at the "
                   "priors' sigma (the means stay as they are); its draws meet the mix")
    _add_encoder_args(p)
    add_training_args(p, checkpoint_every=200, init_help="start from this encoder checkpoint stem (a further stage)")


def _add_encoder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--architecture", choices=["unet", "mask"], default="unet",
                   help="unet: waveform U-Net around the minimum-norm split; mask: soft masks of the mixture's "
                   "STFT from a spectrogram U-Net (the means meet the mix exactly)")
    p.add_argument("--hidden", type=int, default=32, help="encoder channels")
    p.add_argument("--levels", type=int, default=6, help="encoder U-Net levels")
    p.add_argument("--init-scale", type=float, default=0.1, help="the posterior scales' starting value")
    p.add_argument("--harmonics", type=ratios, default=(1.0,), metavar="H,H,...",
                   help="mask encoder: input channels are the log-power at these multiples of each bin's "
                   "frequency, e.g. 0.5,1,2,3,4 (default 1: the plain spectrogram)")
    p.add_argument("--position", action="store_true", help="mask encoder: also input each bin's frequency")


def training_mixtures(args: argparse.Namespace, priors):
    """``(mixtures, objective)``: the teacher's remixed estimates (``--teacher``), else ``--data``'s mixtures
    (the ELBO)."""
    if args.teacher:
        from ..training.teacher import TeacherRemixes, accepted_sources, load_teacher_labels

        labels = load_teacher_labels(args.teacher, priors.names)
        mixes = TeacherRemixes(accepted_sources(labels, args.teacher_min_density), priors.weights, args.crop,
                               seed=args.seed)
        return mixes, "teacher"
    from ..data.select import mixture_crops

    objective = "mask-elbo" if args.mask_scale else "elbo"
    return mixture_crops(args.data, args.crop, args.seed, priors.names, priors.sample_rate), objective


def build_encoder(args: argparse.Namespace, priors):
    """``--init``'s encoder, else a fresh one of ``--architecture``."""
    from ..encoders import Encoder, MaskEncoder, load_encoder, with_bin_scale

    if args.init:
        encoder = load_encoder(args.init, priors).train()
    elif args.architecture == "mask":
        encoder = MaskEncoder(priors.weights, hidden=args.hidden, levels=args.levels, init_scale=args.init_scale,
                              harmonics=args.harmonics, position=args.position)
    else:
        encoder = Encoder(priors.weights, hidden=args.hidden, levels=args.levels, init_scale=args.init_scale)
    if args.mask_scale and getattr(encoder, "scale_head", None) is None:
        encoder = with_bin_scale(encoder)
    return encoder


def run(args: argparse.Namespace) -> int:
    from .. import distributed
    from ..encoders import ENCODER_STEM
    from ..priors.io import load_priors
    from ..training.posterior import train_posterior

    if not args.data and not args.teacher:
        raise ConfigError("train-posterior needs --data (toy or a folder of mixtures) or --teacher DIR")
    if args.mask_scale and args.teacher:
        raise ConfigError("--mask-scale trains by the mask-space ELBO of --data's mixtures, not by --teacher")
    priors = load_priors(args.priors)
    mixes, objective = training_mixtures(args, priors)
    out = output_stem(args.out, ENCODER_STEM)
    check_output(out, args.resume, args.init)
    torch.manual_seed(args.seed)
    encoder = build_encoder(args, priors)
    log = train_posterior(priors, encoder, mixes, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                          sigma_start=args.sigma_start, sigma_end=args.sigma_end, gamma_scale=args.gamma_scale,
                          particles=args.particles, seed=args.seed, checkpoint_every=args.checkpoint_every,
                          quiet=args.quiet, objective=objective, tie_scale=args.tie_scale)
    if distributed.current().is_main:
        key, what = ("log_q", "log q of the teacher's estimates") if objective == "teacher" else ("elbo", "ELBO")
        last = log[-1][key] if log else float("nan")
        print(f"saved {out}.pt and {out}.json; final {what} {last:.3f} nats/sample")
    return 0
