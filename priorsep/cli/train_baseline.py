"""``priorsep train-baseline``: train a baseline separator (Wave-U-Net, Demucs, the shared-encoder multitask
separator interleaved or simultaneous, FactorGAN), or a separator of per-source models learnt from each source's
solo stems alone and stored as one checkpoint (NMF dictionaries, spectral VAE priors)."""
from __future__ import annotations

import argparse

import torch

from .common import add_training_args, check_output, output_stem, same_checkpoint
from ..errors import ConfigError, OutputConflictError

# train-baseline's architecture flags (unset flags keep the model's defaults)
BASELINE_ARCH_ARGS: dict[str, dict] = {
    "levels": dict(type=int, help="U-Net levels (demucs: its depth; interleaved, simultaneous: the encoder's "
                   "downsampling stages; factorgan: the generator's frequency poolings)"),
    "features": dict(type=int, help="waveunet: extra filters per level (F_c); demucs, interleaved, simultaneous: "
                     "first layer's channels; "
                     "factorgan: generator channels"),
    "output_length": dict(type=int, help="waveunet, demucs, metatasnet: output samples per training crop (waveunet: "
                          "plus context)"),
    "norm": dict(choices=["none", "batch"], help="waveunet: normalisation after each convolution"),
    "n_fft": dict(type=int, help="nmf, spectral-vae: STFT frame length (samples)"),
    "hop": dict(type=int, help="nmf, spectral-vae: STFT hop (samples)"),
    "rank": dict(type=int, help="nmf: spectral shapes per source's dictionary"),
    "context": dict(type=int, help="nmf, spectral-vae: consecutive STFT frames per spectral shape or window "
                    "(1: single frames)"),
    "iterations": dict(type=int, help="nmf: activation updates per mix when separating; spectral-vae: fit steps "
                       "per mix"),
    "storage": dict(choices=["float32", "float16"], help="nmf: the dictionaries' dtype in memory and on disk; "
                    "spectral-vae: the weights' dtype on disk"),
    "latent": dict(type=int, help="spectral-vae: latent dimensions per window"),
    "hidden": dict(type=int, help="spectral-vae: the encoder's and decoder's widest layer"),
    "kl": dict(type=float, help="spectral-vae: weight of the KL term in training (1: the ELBO's)"),
    "fit_lr": dict(type=float, help="spectral-vae: Adam step size of the fit to a mix"),
    "prior_weight": dict(type=float, help="spectral-vae: weight of the latents' Gaussian prior in the fit to a mix"),
    "sparsity": dict(type=float, help="nmf: L1 weight on the activations when separating, relative to the mix's mean "
                     "magnitude (0: none)"),
    "beta": dict(type=float, help="nmf, spectral-vae: the beta-divergence fitted (2 squared error, 1 "
                 "Kullback-Leibler, 0 Itakura-Saito; spectral-vae: not 0, 1 or 2)"),
    "independent": dict(action="store_true", default=None,
                        help="metatasnet: each instrument owns its masking weights (the paper's ablation; no "
                        "generator)"),
}


# --model values that train the shared-encoder multitask separator (its training_mode), and their kind
MULTITASK_MODES = ("interleaved", "simultaneous")
MODEL_KIND = {mode: "multitask" for mode in MULTITASK_MODES}

# train-baseline's per-model defaults (flags left unset). factorgan: the recipe of the bundled
# factorgan-toy (benchmarks/recipes/train_toy_factorgan.sh), a supervised warm start and a supervised anchor
# around the adversarial stage; the thesis's purely adversarial training (--supervised-steps 0
# --supervised-weight 0 --d-warmup 0) collapsed on the toy data (benchmarks/results/baselines/README.md).
TRAIN_BASELINE_DEFAULTS: dict[str, dict] = {
    "waveunet": dict(steps=4000, lr=5e-4),
    "demucs": dict(steps=4000, lr=3e-4),
    "metatasnet": dict(steps=4000, lr=1e-3),
    "interleaved": dict(steps=4000, lr=2e-4),
    "simultaneous": dict(steps=4000, lr=2e-4),
    "factorgan": dict(steps=3000, lr=5e-5, d_lr=4e-4, aux_negatives=0.5, d_warmup=100,
                      supervised_steps=2000, supervised_lr=1e-3, supervised_weight=100.0),
    "nmf": dict(steps=200),  # multiplicative updates per source's dictionary (no learning rate)
    "spectral-vae": dict(steps=2000, lr=1e-3, batch_size=256),  # Adam steps per source's VAE
}
BATCH_SIZE = 16  # --batch-size of every model without its own default

# nmf: seconds of each solo crop its dictionaries learn from
NMF_CROP_SECONDS = 4.0


def add_parser(sub) -> None:
    p = sub.add_parser("train-baseline",
                       help="train a baseline separator (Wave-U-Net, Demucs, multitask, FactorGAN, NMF)")
    fg = TRAIN_BASELINE_DEFAULTS["factorgan"]
    _add_model_args(p)
    p.add_argument("--data", required=True, choices=["toy", "musdb"],
                   help="'toy' or 'musdb' (a folder in the MUSDB wav layout, see --musdb-root)")
    p.add_argument("--musdb-root", help="root of root/{train,test}/<track>/{mixture,SOURCE...}.wav")
    p.add_argument("--sources", nargs="+", default=["vocals", "drums", "bass", "other"],
                   help="--data musdb: the stems to separate (mixed by their sum)")
    p.add_argument("--sample-rate", type=int, help="--data musdb: resample to this rate (default: the files')")
    p.add_argument("--out", required=True, help="checkpoint stem (runs/wun -> runs/wun.pt + .json) or folder")
    _add_nmf_args(p)
    p.add_argument("--steps", type=int, help="training steps (nmf, spectral-vae: per source; default: " + ", ".join(
        f"{model} {d['steps']}" for model, d in TRAIN_BASELINE_DEFAULTS.items()) + ")")
    p.add_argument("--batch-size", type=int, help=f"default: spectral-vae 256 (windows), else {BATCH_SIZE}")
    p.add_argument("--lr", type=float, help="learning rate (default: " + ", ".join(
        f"{model} {d['lr']}" for model, d in TRAIN_BASELINE_DEFAULTS.items() if "lr" in d)
        + "; factorgan's: its adversarial generator updates; nmf: none)")
    p.add_argument("--paired", type=int, default=None,
                   help="number of distinct paired (mix, stems) items training may use (default: unlimited)")
    p.add_argument("--paired-tracks", type=int, default=None,
                   help="--data musdb, all but interleaved/simultaneous: only the first N training tracks are "
                   "paired data; factorgan's unpaired solo stems come from the other training tracks (default: "
                   "every training track is both)")
    p.add_argument("--val-items", type=int, default=64,
                   help="held-out paired items: early stopping of every model but factorgan, which keeps the "
                   "best-scoring checkpoint (0: the latest)")
    p.add_argument("--patience", type=int, default=10,
                   help="validations without improvement before stopping (all but factorgan)")
    _add_factorgan_args(p, fg)
    arch = p.add_argument_group("architecture (default: the model's defaults)")
    for key, kwargs in BASELINE_ARCH_ARGS.items():
        arch.add_argument("--" + key.replace("_", "-"), **kwargs)
    add_training_args(p, checkpoint_every=200,
                      init_help="start from this checkpoint stem (a further training stage, e.g. lower lr)")


def _add_nmf_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solo-crops", type=int, default=128,
                   help=f"nmf, spectral-vae: solo crops of {NMF_CROP_SECONDS:g} s per source its model learns from")
    p.add_argument("--exemplars", nargs="?", const="random", choices=["random", "spread"],
                   help="nmf: each dictionary is --rank non-silent windows of the solo crops themselves (exemplars), "
                   "not learnt; --steps does not apply. 'random' (the default pick) or 'spread' (k-means++-style: "
                   "each next window far from those picked)")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True,
                   choices=["waveunet", "demucs", "metatasnet", "interleaved", "simultaneous", "factorgan", "nmf",
                            "spectral-vae"],
                   help="demucs: the demucs package's model (pip install 'priorsep[peers]'); metatasnet: Conv-TasNet "
                   "extractors with generated masking weights (SI-SNR + auxiliary losses); interleaved, "
                   "simultaneous: the shared-encoder multitask separator trained on per-source databases of "
                   "(mix, one target) alternately, or on every target of each mix at once; nmf: one dictionary per "
                   "source learnt from that source's solo crops alone (no mixture), applied by Wiener-like masks; "
                   "spectral-vae: one VAE per source over windows of magnitude frames, learnt from that source's solo "
                   "crops alone, fitted to the mix")
    p.add_argument("--source-databases", choices=["disjoint", "shared"], default="disjoint",
                   help="interleaved: 'disjoint' draws source k's (mix, target) pairs from every K-th track only (no "
                   "mix has two stems in the training data); 'shared' draws every source's from all tracks, each "
                   "with its own crops (the paper's setup)")


def _add_factorgan_args(p: argparse.ArgumentParser, fg: dict) -> None:
    gan = p.add_argument_group("factorgan training (see priorsep.training.factorgan.train_factorgan); defaults: the "
                               "bundled factorgan-toy's recipe. The thesis's purely adversarial training: "
                               "--supervised-steps 0 --supervised-weight 0 --d-warmup 0")
    gan.add_argument("--d-lr", type=float, help=f"discriminators' learning rate (default {fg['d_lr']})")
    gan.add_argument("--d-steps", type=int, default=1, help="discriminator updates per generator update")
    # experimental (priorsep.experimental.factorgan.R1Penalty): gamma of an R1 penalty on the discriminators
    gan.add_argument("--r1", type=float, default=0.0, help=argparse.SUPPRESS)
    gan.add_argument("--aux-negatives", type=float,
                     help="weight in [0, 1) of the marginal discriminators' auxiliary negatives (other, leaky and "
                     f"quiet solo sources; default {fg['aux_negatives']})")
    gan.add_argument("--d-warmup", type=int,
                     help=f"discriminator-only steps before the generator moves (default {fg['d_warmup']})")
    gan.add_argument("--supervised-steps", type=int,
                     help="the generator's first updates fit the --paired items' stems (MSE) before the adversarial "
                     f"ones (default {fg['supervised_steps']})")
    gan.add_argument("--supervised-lr", type=float,
                     help=f"learning rate of those supervised updates (default {fg['supervised_lr']})")
    gan.add_argument("--supervised-weight", type=float,
                     help=f"weight of that MSE in the adversarial generator loss afterwards (default "
                     f"{fg['supervised_weight']}; 0: adversarial only)")


def apply_model_defaults(args: argparse.Namespace) -> None:
    """Flags left unset take ``--model``'s defaults (TRAIN_BASELINE_DEFAULTS)."""
    for key, value in TRAIN_BASELINE_DEFAULTS[args.model].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.batch_size is None:
        args.batch_size = BATCH_SIZE


def baseline_config(args: argparse.Namespace, sources: list[str], rate: int, weights) -> dict:
    """A fresh baseline's config: what it separates, at which rate and mixing, the architecture flags given,
    this run's training."""
    training = dict(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed, paired=args.paired,
                    paired_tracks=args.paired_tracks)
    if args.model == "nmf":  # updates per source on solo crops (or exemplars): no batches, learning rate or pairs
        training = dict(steps=args.steps, solo_crops=args.solo_crops, seed=args.seed)
        if args.exemplars:
            training = dict(exemplars=True, pick=args.exemplars, solo_crops=args.solo_crops, seed=args.seed)
    if args.model == "spectral-vae":  # steps per source on solo crops: no pairs
        training = dict(steps=args.steps, batch_size=args.batch_size, lr=args.lr, solo_crops=args.solo_crops,
                        seed=args.seed)
    config = dict(sources=sources, sample_rate=rate, mix_weights=weights, training=training)
    if args.paired_tracks is not None:  # top level, as paired_items: the benchmark's "paired" column
        config["paired_tracks"] = args.paired_tracks
    for key in BASELINE_ARCH_ARGS:
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    return config


def next_stage(args: argparse.Namespace, config: dict, sources: list[str], out):
    """``--init``: a further training stage, the checkpoint's architecture and weights, this run's record
    (the checkpoint's own appended to its ``training_history``)."""
    from ..baselines.io import load_baseline
    from ..training.loop import begin_stage

    if same_checkpoint(args.init, out):
        raise OutputConflictError("--init and --out are the same checkpoint; a new stage never overwrites its input")
    model = load_baseline(args.init)
    kind = MODEL_KIND.get(args.model, args.model)
    if model.kind != kind or model.names != sources or model.config.get("training_mode", args.model) != args.model:
        raise ConfigError(f"--init checkpoint is a {model.label} for {model.names}, not a {args.model} for {sources}")
    begin_stage(model.config, config["training"])
    model.train()
    return model


def fit_supervised(args: argparse.Namespace, model, paired_set, out, paired: int) -> None:
    from ..training.supervised import train_supervised

    train_set = paired_set(model.input_length, "train", paired)
    val_set = paired_set(model.input_length, "valid", args.val_items)
    model.config["training_data"] = train_set.describe()
    model.config["validation_data"] = val_set.describe()
    train_supervised(model, train_set, val_set, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                   seed=args.seed, checkpoint_every=args.checkpoint_every, patience=args.patience,
                   quiet=args.quiet)


def fit_multitask(args: argparse.Namespace, model, paired_set, sources: list[str], out) -> None:
    from ..data.select import source_databases
    from ..training.multitask import train_multitask

    if args.paired_tracks is not None:
        raise ConfigError("--paired-tracks does not apply to the multitask separator (its per-source databases "
                          "choose their tracks: --source-databases)")
    c = model.config
    crop = c["patch_frames"] * c["hop"] + c["n_fft"]  # a few frames more than a patch: random patch offsets
    layout = args.source_databases if args.model == "interleaved" else "paired"
    common = dict(seed=args.seed, layout=layout, musdb_root=args.musdb_root, sample_rate=args.sample_rate)
    train = source_databases(args.data, sources, paired_set, crop, "train", args.paired or 10**9, **common)
    val = source_databases(args.data, sources, paired_set, crop, "valid", args.val_items, **common)
    c["training_data"] = "; ".join(db.describe() for db in train)
    c["validation_data"] = "; ".join(db.describe() for db in val)
    train_multitask(model, train, val, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                    checkpoint_every=args.checkpoint_every, patience=args.patience, quiet=args.quiet)


def fit_factorgan(args: argparse.Namespace, model, paired_set, sources: list[str], out, paired: int) -> None:
    from ..data.select import unpaired_solo_crops
    from ..training.factorgan import train_factorgan

    d_penalty = None
    if args.r1:
        from ..experimental.factorgan import R1Penalty

        d_penalty = R1Penalty(args.r1)
    crop = model.config.get("crop", 16384)
    solo = unpaired_solo_crops(args.data, sources, paired_set, crop, args.seed)
    pairs = paired_set(crop, "train", paired)
    val_set = paired_set(crop, "valid", args.val_items) if args.val_items else None
    model.config["training_data"] = (f"unpaired solo crops: {[d.describe() for d in solo]}; "
                                     f"paired: {pairs.describe()}")
    train_factorgan(model, solo, pairs, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                    seed=args.seed, checkpoint_every=args.checkpoint_every, quiet=args.quiet, paired=paired,
                    d_lr=args.d_lr, d_steps=args.d_steps, d_penalty=d_penalty, aux_negatives=args.aux_negatives,
                    d_warmup=args.d_warmup, supervised_steps=args.supervised_steps,
                    supervised_lr=args.supervised_lr, supervised_weight=args.supervised_weight, val_set=val_set)


def solo_sets(args: argparse.Namespace, model, sources: list[str]) -> list:
    """Each source's solo crops of ``NMF_CROP_SECONDS`` (--model nmf and spectral-vae; no pairs), recorded in the
    model's ``training_data``."""
    from ..data.select import solo_crops

    if args.init or args.paired is not None or args.paired_tracks is not None:
        raise ConfigError(f"--model {args.model} learns from solo crops only: --init, --paired and --paired-tracks "
                          "do not apply")
    crop = int(round(NMF_CROP_SECONDS * model.sample_rate))
    solo = [solo_crops(args.data, s, crop, args.seed + k, musdb_root=args.musdb_root, sample_rate=args.sample_rate)[0]
            for k, s in enumerate(sources)]
    model.config["training_data"] = f"{args.solo_crops} crops per source of: " + "; ".join(d.describe() for d in solo)
    return solo


def fit_spectral_vae(args: argparse.Namespace, model, sources: list[str], out) -> None:
    from ..training.spectral_vae import train_spectral_vae

    solo = solo_sets(args, model, sources)
    train_spectral_vae(model, solo, out, steps=args.steps, crops=args.solo_crops, batch=args.batch_size, lr=args.lr,
                       seed=args.seed, quiet=args.quiet)


def fit_nmf(args: argparse.Namespace, model, sources: list[str], out) -> None:
    from ..training.nmf import draw_exemplars, train_nmf

    solo = solo_sets(args, model, sources)
    if args.exemplars:
        draw_exemplars(model, solo, out, crops=args.solo_crops, seed=args.seed, spread=args.exemplars == "spread",
                       quiet=args.quiet)
    else:
        train_nmf(model, solo, out, steps=args.steps, crops=args.solo_crops, seed=args.seed, quiet=args.quiet)


def run(args: argparse.Namespace) -> int:
    from .. import distributed
    from ..baselines.io import baseline_kinds, load_baseline
    from ..checkpoint import checkpoint_paths
    from ..data.select import paired_crops

    apply_model_defaults(args)
    if args.exemplars and args.model != "nmf":
        raise ConfigError(f"--exemplars applies to --model nmf only, not {args.model}")
    out = output_stem(args.out, f"{args.model}-{args.data}")
    check_output(out, args.resume, args.init)
    paired_set, sources, rate, weights = paired_crops(args.data, args.sources, args.seed, musdb_root=args.musdb_root,
                                                      sample_rate=args.sample_rate, paired_tracks=args.paired_tracks)
    config = baseline_config(args, sources, rate, weights)
    torch.manual_seed(args.seed)
    if args.model in MULTITASK_MODES:
        config["training_mode"] = args.model
    kind = MODEL_KIND.get(args.model, args.model)
    model = next_stage(args, config, sources, out) if args.init else baseline_kinds()[kind](config)
    paired = args.paired or 10**9
    if args.model in ("waveunet", "demucs", "metatasnet"):
        fit_supervised(args, model, paired_set, out, paired)
    elif args.model in MULTITASK_MODES:
        fit_multitask(args, model, paired_set, sources, out)
    elif args.model == "nmf":
        fit_nmf(args, model, sources, out)
    elif args.model == "spectral-vae":
        fit_spectral_vae(args, model, sources, out)
    else:
        fit_factorgan(args, model, paired_set, sources, out, paired)
    best = load_baseline(out)
    weights_path, cfg_path = checkpoint_paths(out)
    if distributed.current().is_main:
        print(f"saved {weights_path} and {cfg_path} (step {best.config.get('trained_steps')})")
    return 0
