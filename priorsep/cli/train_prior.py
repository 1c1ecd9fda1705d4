"""``priorsep train-prior``: train one source prior on solo stems."""
from __future__ import annotations

import argparse

import torch

from .common import add_training_args, check_output, output_stem, same_checkpoint
from ..errors import ConfigError, OutputConflictError

# train-prior's architecture flags: config key -> argparse keywords (unset flags keep the family's defaults)
ARCH_ARGS: dict[str, dict] = {
    "squeeze": dict(type=int, help="flow: samples per squeezed position"),
    "n_blocks": dict(type=int, help="flow: coupling blocks"),
    "hidden": dict(type=int, help="flow: conditioner channels"),
    "n_layers": dict(type=int, help="flow: conditioner layers; wavenet: dilated layers"),
    "sigma_data": dict(type=float, help="flow: typical std of the clean audio (inputs are scaled to unit variance)"),
    "network": dict(choices=["stft", "unet"], help="denoiser: STFT complex mask (default) or time-domain U-Net"),
    "n_fft": dict(type=int, help="denoiser (stft): window length in samples"),
    "hop": dict(type=int, help="denoiser (stft): hop in samples"),
    "layers": dict(type=int, help="denoiser (stft): dilated 2-D conv layers"),
    "harmonics": dict(type=float, nargs="+", help="denoiser (stft): frequency ratios stacked as input features, "
                      "e.g. 0.25 0.333 0.5 1 2 3 4"),
    "global_context": dict(action="store_const", const=True, help="denoiser (stft): every layer also sees the frame's "
                           "maximum over frequency and the bin's mean over time"),
    "levels": dict(type=int, help="denoiser (unet): U-Net halvings (inputs are multiples of 2^levels samples)"),
    "basis": dict(choices=["learned", "dct"], help="flow: learned 1x1 convs or a fixed DCT of the frames"),
    "unet_levels": dict(type=int, help="flow: U-Net conditioners with this many halvings (0: WaveNet)"),
    "channels": dict(type=int, help="wavenet: residual channels"),
    "skip_channels": dict(type=int, help="wavenet: skip channels"),
    "dilation_cycle": dict(type=int, help="wavenet: dilations 1..2^(cycle-1), repeated"),
    "n_mix": dict(type=int, help="wavenet: Gaussian mixture components per sample"),
}


#: flags of the experimental wing (priorsep.experimental: denoiser priors, U-Net and DCT flows,
#: off-manifold training): accepted, left out of --help
EXPERIMENTAL_ARGS = ("network", "n_fft", "hop", "layers", "harmonics", "global_context", "levels", "unet_levels",
                     "basis", "off_manifold")


def add_parser(sub) -> None:
    p = sub.add_parser("train-prior", help="train one source prior on solo stems")
    p.add_argument("--kind", default="flow", choices=["flow", "wavenet", "denoiser"], metavar="{flow,wavenet}",
                   help="flow (exact density) or wavenet (autoregressive)")
    p.add_argument("--source", required=True, help="source name, e.g. sine or bass")
    p.add_argument("--data", required=True, help="'toy', 'musdb' (this source's stems of a MUSDB-layout folder, see "
                   "--musdb-root) or a folder of solo wav/flac files of this source")
    p.add_argument("--musdb-root", help="--data musdb: root of root/train/<track>/SOURCE.wav (MUSDB18-HQ, or "
                   "MUSDB18 converted with musdbconvert; silent crops are redrawn)")
    p.add_argument("--sample-rate", type=int, help="--data musdb: resample to this rate (default: the files')")
    p.add_argument("--out", required=True, help="checkpoint stem (priors/bass -> priors/bass.pt + .json) or folder")
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--crop", type=int, default=2048, help="training crop length in samples")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--sigma-min", type=float, default=0.01)
    p.add_argument("--sigma-max", type=float, default=2.0)
    p.add_argument("--mixing", choices=["sum", "mean"], default="sum", help="mixing convention of folder data")
    p.add_argument("--n-sources", type=int, default=4, help="number of sources (for --mixing mean)")
    arch = p.add_argument_group("architecture (default: the family's defaults)")
    for key, kwargs in ARCH_ARGS.items():
        hidden = {"help": argparse.SUPPRESS} if key in EXPERIMENTAL_ARGS else {}
        arch.add_argument("--" + key.replace("_", "-"), **{**kwargs, **hidden})
    p.add_argument("--dsm-weight", type=float, default=0.0,
                   help="weight of denoising score matching next to maximum likelihood (trains the score)")
    # experimental (denoiser): the fraction of each batch given as the source at a reduced level plus
    # generic pitched tones, denoised to the clean source
    p.add_argument("--off-manifold", type=float, default=0.0, help=argparse.SUPPRESS)
    add_training_args(p, checkpoint_every=250, init_help="fine-tune from this checkpoint stem instead of a fresh model")


def prior_config(args: argparse.Namespace, dataset, mixing: str, mix_weight: float) -> dict:
    """A fresh prior's config: the source, its data's rate and mixing, the architecture flags given,
    this run's training."""
    config = dict(
        source=args.source,
        sample_rate=dataset.sample_rate,
        sigma_min=args.sigma_min,
        sigma_max=args.sigma_max,
        mixing=mixing,
        mix_weight=mix_weight,
        training_data=dataset.describe(),
        training=dict(steps=args.steps, batch_size=args.batch_size, crop=args.crop, lr=args.lr, seed=args.seed),
    )
    for key in ARCH_ARGS:
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    config["training"]["dsm_weight"] = args.dsm_weight
    if args.off_manifold:
        config["training"]["off_manifold"] = args.off_manifold
    return config


def fine_tune_prior(args: argparse.Namespace, config: dict, out):
    """``--init``: the checkpoint's architecture and metadata, this run's training record (the checkpoint's
    own appended to its ``training_history``)."""
    from ..priors.io import load_prior
    from ..training.loop import begin_stage

    if same_checkpoint(args.init, out):
        raise OutputConflictError("--init and --out are the same checkpoint; fine-tuning never overwrites its input")
    prior = load_prior(args.init)
    if prior.name != args.source:
        raise ConfigError(f"--init checkpoint is a prior for {prior.name!r}, not {args.source!r}")
    begin_stage(prior.config, config["training"], training_data=config["training_data"], sigma_min=args.sigma_min,
                sigma_max=args.sigma_max)
    return prior


def run(args: argparse.Namespace) -> int:
    from .. import distributed
    from ..checkpoint import checkpoint_paths
    from ..data.select import solo_crops
    from ..mixing import mixing_weights
    from ..priors.io import build_prior
    from ..training.prior import train_prior

    dataset, mixing, n_sources = solo_crops(args.data, args.source, args.crop, args.seed, musdb_root=args.musdb_root,
                                            sample_rate=args.sample_rate, mixing=args.mixing, n_sources=args.n_sources)
    weight = mixing_weights(mixing, n_sources)[0]
    out = output_stem(args.out, args.source)
    check_output(out, args.resume, args.init)
    config = prior_config(args, dataset, mixing, weight)
    torch.manual_seed(args.seed)
    prior = fine_tune_prior(args, config, out) if args.init else build_prior({**config, "kind": args.kind})
    log = train_prior(
        prior, dataset, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        checkpoint_every=args.checkpoint_every, dsm_weight=args.dsm_weight, off_manifold=args.off_manifold,
        quiet=args.quiet,
    )
    weights, cfg = checkpoint_paths(out)
    last = log[-1]["loss"] if log else float("nan")
    if distributed.current().is_main:
        unit = "(weighted denoising MSE)" if hasattr(prior, "denoising_loss") else "nats/sample"
        print(f"saved {weights} and {cfg}; final loss {last:.3f} {unit}")
    return 0
