"""Command-line interface: ``priorsep {train-prior, separate, bench, diagnose}``."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch
from .errors import ConfigError, DataError, OutputConflictError, PriorsepError, SampleRateError, UnknownNameError


# train-prior's architecture flags: config key -> argparse keywords (unset flags keep the family's defaults)
ARCH_ARGS: dict[str, dict] = {
    "squeeze": dict(type=int, help="flow: samples per squeezed position"),
    "n_blocks": dict(type=int, help="flow: coupling blocks"),
    "hidden": dict(type=int, help="flow: conditioner channels; denoiser: U-Net channels"),
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


def _set_threads() -> None:
    """One thread per core, shared among the processes ``torchrun`` started on this node."""
    import os

    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // local))


def _check_output(out: Path, resume: bool, init: str | None) -> None:
    """Training never silently replaces a checkpoint: an existing ``out`` continues only with
    ``--resume`` (and only if its training state exists)."""
    from .checkpoint import checkpoint_paths, side_file

    if init and checkpoint_paths(init)[0].resolve() == checkpoint_paths(out)[0].resolve():
        return  # refused below, with the message for that mistake
    state, weights = side_file(out, ".train.pt"), checkpoint_paths(out)[0]
    if resume:
        if not state.is_file() and weights.is_file():
            raise OutputConflictError(f"--resume: {weights} exists but has no training state {state.name} to resume "
                                      "(a finished or copied model); choose another --out")
    elif state.is_file() or weights.is_file():
        raise OutputConflictError(f"{weights if weights.is_file() else state} exists; pass --resume to continue its "
                                  "training, or choose another --out")


def cmd_train_prior(args: argparse.Namespace) -> int:
    from . import distributed
    from .data.folder import FolderCrops
    from .data.toy import TOY_MIXING, TOY_SOURCES, ToySourceCrops
    from .mixing import mixing_weights
    from .checkpoint import checkpoint_paths
    from .priors.io import PRIOR_KINDS, load_prior
    from .training.prior import train_prior

    if args.data == "toy":
        dataset = ToySourceCrops(args.source, args.crop, seed=args.seed)
        mixing, n_sources = TOY_MIXING, len(TOY_SOURCES)
    elif args.data == "musdb":
        from .data.multitrack import MultitrackSolo

        if not args.musdb_root:
            raise ConfigError("--data musdb needs --musdb-root (a folder in the MUSDB wav layout)")
        dataset = MultitrackSolo(args.musdb_root, args.source, args.crop, seed=args.seed, sample_rate=args.sample_rate)
        mixing, n_sources = "sum", args.n_sources
    else:
        dataset = FolderCrops(args.data, args.crop, seed=args.seed)
        mixing, n_sources = args.mixing, args.n_sources
    weight = mixing_weights(mixing, n_sources)[0]
    out = Path(args.out)
    if out.is_dir() or str(args.out).endswith("/"):
        out = out / args.source
    _check_output(out, args.resume, args.init)
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
    for key in ARCH_ARGS:
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    config["training"]["dsm_weight"] = args.dsm_weight
    if args.off_manifold:
        config["training"]["off_manifold"] = args.off_manifold
    torch.manual_seed(args.seed)
    if args.init:  # fine-tune: architecture and metadata from the checkpoint, this run's training record
        if checkpoint_paths(args.init)[0].resolve() == checkpoint_paths(out)[0].resolve():
            raise OutputConflictError("--init and --out are the same checkpoint; fine-tuning never overwrites its input")
        prior = load_prior(args.init)
        if prior.name != args.source:
            raise ConfigError(f"--init checkpoint is a prior for {prior.name!r}, not {args.source!r}")
        history = prior.config.get("training_history", []) + [
            {**prior.config.get("training", {}), "training_data": prior.config.get("training_data")}]
        prior.config.update(training=config["training"], training_history=history, training_data=config["training_data"],
                            sigma_min=args.sigma_min, sigma_max=args.sigma_max)
        prior.config.pop("trained_steps", None)
    else:
        prior = PRIOR_KINDS[args.kind](config)
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


# train-baseline's architecture flags (unset flags keep the model's defaults)
BASELINE_ARCH_ARGS: dict[str, dict] = {
    "levels": dict(type=int, help="U-Net levels (factorgan: the generator's frequency poolings)"),
    "features": dict(type=int, help="waveunet: extra filters per level (F_c); factorgan: generator channels"),
    "output_length": dict(type=int, help="waveunet: output samples per training crop (plus context)"),
    "norm": dict(choices=["none", "batch"], help="waveunet: normalisation after each convolution"),
}


# train-baseline's per-model defaults (flags left unset). factorgan: the recipe of the bundled
# factorgan-toy (benchmarks/recipes/train_toy_factorgan.sh), a supervised warm start and a supervised anchor
# around the adversarial stage; the thesis's purely adversarial training (--supervised-steps 0
# --supervised-weight 0 --d-warmup 0) collapsed on the toy data (benchmarks/results/baselines/README.md).
TRAIN_BASELINE_DEFAULTS: dict[str, dict] = {
    "waveunet": dict(steps=4000, lr=5e-4),
    "factorgan": dict(steps=3000, lr=5e-5, d_lr=4e-4, r1=0.0, aux_negatives=0.5, d_warmup=100,
                      supervised_steps=2000, supervised_lr=1e-3, supervised_weight=100.0),
}


def cmd_train_baseline(args: argparse.Namespace) -> int:
    from . import distributed
    from .baselines.io import baseline_kinds, load_baseline
    from .checkpoint import checkpoint_paths

    for key, value in TRAIN_BASELINE_DEFAULTS[args.model].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    out = Path(args.out)
    if out.is_dir() or str(args.out).endswith("/"):
        out = out / f"{args.model}-{args.data}"
    _check_output(out, args.resume, args.init)
    if args.data == "toy":
        from .data.toy import TOY_MIXING, TOY_SAMPLE_RATE, TOY_SOURCES, ToyMixCrops, ToySourceCrops
        from .mixing import mixing_weights

        sources, rate, weights = list(TOY_SOURCES), TOY_SAMPLE_RATE, mixing_weights(TOY_MIXING, len(TOY_SOURCES))

        def paired_set(length, split, size):
            return ToyMixCrops(length, seed=args.seed + (10_000 if split == "valid" else 0), size=size)
    elif args.data == "musdb":
        from .data.multitrack import MultitrackCrops
        from .mixing import mixing_weights

        if not args.musdb_root:
            raise ConfigError("--data musdb needs --musdb-root PATH (a folder in the MUSDB wav layout)")
        sources = list(args.sources)

        def paired_set(length, split, size):
            return MultitrackCrops(args.musdb_root, tuple(sources), length, seed=args.seed, sample_rate=args.sample_rate,
                                   split=split, gain_range=(0.7, 1.0) if split == "train" else None, size=size)
        probe = paired_set(16, "train", 1)
        rate, weights = probe.sample_rate, mixing_weights("sum", len(sources))
    else:
        raise UnknownNameError(f"--data {args.data!r} is not supported; expected 'toy' or 'musdb'")
    config = dict(sources=sources, sample_rate=rate, mix_weights=weights,
                  training=dict(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                paired=args.paired))
    for key in BASELINE_ARCH_ARGS:
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    torch.manual_seed(args.seed)
    if args.init:  # a further training stage: the checkpoint's architecture and weights, this run's record
        if checkpoint_paths(args.init)[0].resolve() == checkpoint_paths(out)[0].resolve():
            raise OutputConflictError("--init and --out are the same checkpoint; a new stage never overwrites its input")
        model = load_baseline(args.init)
        if model.kind != args.model or model.names != sources:
            raise ConfigError(f"--init checkpoint is a {model.kind} for {model.names}, not a {args.model} for {sources}")
        history = model.config.get("training_history", []) + [
            {**model.config.get("training", {}), "trained_steps": model.config.get("trained_steps"),
             "paired_items": model.config.get("paired_items")}]
        model.config.update(training=config["training"], training_history=history)
        model.train()
    else:
        model = baseline_kinds()[args.model](config)
    paired = args.paired or 10**9
    if args.model == "waveunet":
        from .training.waveunet import train_waveunet

        train_set = paired_set(model.input_length, "train", paired)
        val_set = paired_set(model.input_length, "valid", args.val_items)
        model.config["training_data"] = train_set.describe()
        model.config["validation_data"] = val_set.describe()
        train_waveunet(model, train_set, val_set, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                       seed=args.seed, checkpoint_every=args.checkpoint_every, patience=args.patience,
                       quiet=args.quiet)
    else:
        from .data.multitrack import SoloView
        from .training.factorgan import train_factorgan

        crop = model.config.get("crop", 16384)
        if args.data == "toy":
            solo = [ToySourceCrops(name, crop, seed=args.seed) for name in sources]
        else:  # unpaired solo stems: source k of independently drawn crops
            solo = [SoloView(paired_set(crop, "train", 10**9), k, offset=k * 10**8) for k in range(len(sources))]
        pairs = paired_set(crop, "train", paired)
        val_set = paired_set(crop, "valid", args.val_items) if args.val_items else None
        model.config["training_data"] = (f"unpaired solo crops: {[d.describe() for d in solo]}; "
                                         f"paired: {pairs.describe()}")
        train_factorgan(model, solo, pairs, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                        seed=args.seed, checkpoint_every=args.checkpoint_every, quiet=args.quiet, paired=paired,
                        d_lr=args.d_lr, d_steps=args.d_steps, r1=args.r1, aux_negatives=args.aux_negatives,
                        d_warmup=args.d_warmup, supervised_steps=args.supervised_steps,
                        supervised_lr=args.supervised_lr, supervised_weight=args.supervised_weight, val_set=val_set)
    best = load_baseline(out)
    weights_path, cfg_path = checkpoint_paths(out)
    if distributed.current().is_main:
        print(f"saved {weights_path} and {cfg_path} (step {best.config.get('trained_steps')})")
    return 0


def cmd_train_posterior(args: argparse.Namespace) -> int:
    from . import distributed
    from .data.folder import FolderCrops
    from .data.multitrack import MixturesOnly
    from .data.toy import ToyMixCrops
    from .priors.io import load_priors
    from .encoders import ENCODER_STEM, Encoder, MaskEncoder, load_encoder
    from .training.posterior import train_posterior

    if not args.data and not args.teacher:
        raise ConfigError("train-posterior needs --data (toy or a folder of mixtures) or --teacher DIR")
    priors = load_priors(args.priors)
    objective = "elbo"
    if args.teacher:
        from .training.teacher import TeacherRemixes, accepted_sources, load_teacher_labels

        labels = load_teacher_labels(args.teacher, priors.names)
        mixes = TeacherRemixes(accepted_sources(labels, args.teacher_min_density), priors.weights, args.crop,
                               seed=args.seed)
        objective = "teacher"
    elif args.data == "toy":
        if sorted(priors.names) != sorted(["sine", "square", "sawtooth", "triangle"]):
            raise ConfigError(f"--data toy needs the toy prior set (sine, square, sawtooth, triangle), not {priors.names}")
        mixes = MixturesOnly(ToyMixCrops(args.crop, seed=args.seed))
    else:
        mixes = FolderCrops(args.data, args.crop, seed=args.seed)
        if mixes.sample_rate != priors.sample_rate:
            raise SampleRateError(f"mixtures in {args.data} are at {mixes.sample_rate} Hz, the priors at "
                                  f"{priors.sample_rate} Hz")
    out = Path(args.out)
    if out.is_dir() or str(args.out).endswith("/"):
        out = out / ENCODER_STEM
    _check_output(out, args.resume, args.init)
    torch.manual_seed(args.seed)
    if args.init:
        encoder = load_encoder(args.init, priors).train()
    else:
        if args.architecture == "mask":
            encoder = MaskEncoder(priors.weights, hidden=args.hidden, levels=args.levels, init_scale=args.init_scale,
                                  harmonics=args.harmonics, position=args.position)
        else:
            encoder = Encoder(priors.weights, hidden=args.hidden, levels=args.levels, init_scale=args.init_scale)
    log = train_posterior(priors, encoder, mixes, out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                          sigma_start=args.sigma_start, sigma_end=args.sigma_end, gamma_scale=args.gamma_scale,
                          particles=args.particles, seed=args.seed, checkpoint_every=args.checkpoint_every,
                          quiet=args.quiet, objective=objective, tie_scale=args.tie_scale)
    if distributed.current().is_main:
        key, what = ("elbo", "ELBO") if objective == "elbo" else ("log_q", "log q of the teacher's estimates")
        last = log[-1][key] if log else float("nan")
        print(f"saved {out}.pt and {out}.json; final {what} {last:.3f} nats/sample")
    return 0


def _ratios(text: str) -> tuple[float, ...]:
    """``"0.5,1,2"`` -> ``(0.5, 1.0, 2.0)``: positive numbers, or an argparse error."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or any(not v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive numbers, got {text!r}")
    return values


def _bool_value(text: str) -> bool:
    """``true/yes/1`` or ``false/no/0`` (any case); anything else is an error, not a silent False."""
    value = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


def _add_langevin_args(p: argparse.ArgumentParser) -> None:
    from dataclasses import fields

    from .separation.config import LangevinConfig

    g = p.add_argument_group("Langevin sampler (defaults: the benchmarked settings)")
    for f in fields(LangevinConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            g.add_argument(flag, type=_bool_value, default=None, metavar="BOOL", help=f"true/false, default {f.default}")
        else:
            typ = {"int": int, "float": float, "str": str}[f.type if isinstance(f.type, str) else f.type.__name__]
            g.add_argument(flag, type=typ, default=None, help=f"default {f.default}")


def _langevin_settings(args: argparse.Namespace) -> dict:
    from dataclasses import fields

    from .separation.config import LangevinConfig

    return {f.name: getattr(args, f.name) for f in fields(LangevinConfig) if getattr(args, f.name, None) is not None}


def _separator_spec(args: argparse.Namespace) -> str:
    """What ``separate`` and ``bench musdb`` separate with: the baseline of ``--method baseline``,
    else the prior set (default ``toy``; for ``--method variational`` the set whose bundled encoder separates)."""
    from .api import DEFAULT_VARIATIONAL_SET

    if args.method == "baseline":
        if not args.model:
            raise ConfigError("--method baseline needs --model NAME (a bundled baseline such as waveunet-toy, "
                              "or a checkpoint stem)")
        return args.model
    return args.priors or (DEFAULT_VARIATIONAL_SET if args.method == "variational" else "toy")


def _load_separator(args: argparse.Namespace, spec: str):
    from .api import load_separator

    return load_separator(spec, args.method, encoder=args.encoder, seed=args.seed or 0, progress=not args.quiet,
                          **_langevin_settings(args))


def cmd_separate(args: argparse.Namespace) -> int:
    from . import distributed
    from .separation.files import separate_files

    separator = _load_separator(args, _separator_spec(args))
    counts = separate_files(args.mix, args.out, separator, resample=args.resample, jobs=args.jobs, quiet=args.quiet)
    d = distributed.current()
    rank = f" (rank {d.rank} of {d.world})" if d.enabled else ""
    print(f"separated {counts['separated']} input(s) into {args.out}, skipped {counts['skipped']} finished{rank}")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from .data.band import make_band_dataset

    out = make_band_dataset(args.out, args.tracks, seconds=args.seconds, seed=args.seed, soundfont=args.soundfont,
                            test_tracks=args.test_tracks, progress=not args.quiet)
    counts = json.loads((out / "band.json").read_text())["tracks"]  # what was written, defaults resolved
    print(f"wrote {counts['train']} train and {counts['test']} test tracks to {out}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .api import benchmark_separators
    from .evaluation.benchmark import format_table, save_json

    settings = _langevin_settings(args)
    if args.benchmark == "musdb":
        return _bench_musdb(args)
    if args.benchmark == "band":
        from .evaluation.band_benchmark import bench_band, default_band_baselines, default_band_prior_sets

        if not args.root:
            raise ConfigError("bench band needs --root: a folder made by priorsep data band")
        seed = args.seed if args.seed is not None else 0
        priors = default_band_prior_sets() if args.priors is None else args.priors
        baselines = default_band_baselines() if args.baselines is None else args.baselines
        separators = benchmark_separators(priors, baselines, encoder=args.encoder, seed=seed, **settings)
        results = bench_band(args.root, separators, n=args.n, seconds=args.seconds, seed=seed, bss=not args.no_bss,
                             quiet=args.quiet)
    else:
        from .evaluation.toy_benchmark import bench_toy, default_toy_baselines, default_toy_prior_sets

        priors = default_toy_prior_sets() if args.priors is None else args.priors
        baselines = default_toy_baselines() if args.baselines is None else args.baselines
        separators = benchmark_separators(priors, baselines, encoder=args.encoder, seed=0, **settings)
        results = bench_toy(separators, n=args.n, length=args.length,
                            seed=args.seed if args.seed is not None else 2026, bss=not args.no_bss, quiet=args.quiet)
    results.update(prior_sets=list(priors), baselines=list(baselines), langevin_settings=settings)
    print(format_table(results))
    if args.json:
        save_json(results, args.json)
        print(f"wrote {args.json}")
    return 0


def _bench_musdb(args: argparse.Namespace) -> int:
    from .evaluation.musdb_benchmark import bench_musdb, format_musdb
    from .separation.files import separate_array

    if not args.root or not args.out:
        raise ConfigError("bench musdb needs --root (the MUSDB18 folder) and --out (per-track JSON and aggregate)")
    args.model = args.baselines[0] if args.baselines else None
    args.priors = args.priors[0] if args.priors else "toy"
    spec = _separator_spec(args)
    separator = _load_separator(args, spec)
    separator.progress = False
    result = bench_musdb(args.root, lambda mix, rate: separate_array(separator, mix, rate, resample_to_model=True),
                         list(separator.names), args.out, subset=args.subset, is_wav=args.is_wav, tracks=args.tracks,
                         quiet=args.quiet)
    what = spec if args.method == "baseline" else f"{args.method} with priors {spec}"
    print(format_musdb(result, what))
    print(f"wrote {Path(args.out) / 'aggregate.json'} and per-track JSON under {Path(args.out) / args.subset}")
    return 0


def cmd_diagnose(args: argparse.Namespace) -> int:
    import numpy as np

    from .data.toy import TOY_SOURCES, toy_eval_set
    from .evaluation.crosslik import cross_likelihood, format_cross_likelihood, plot_cross_likelihood
    from .priors.io import load_priors

    priors = load_priors(args.priors)
    if args.data == "toy":
        ev = toy_eval_set(args.n, args.length, seed=args.seed)
        data = {name: ev.sources[:, k] for k, name in enumerate(TOY_SOURCES)}
    else:
        from .data.folder import FolderCrops

        data = {}
        for sub in sorted(p for p in Path(args.data).iterdir() if p.is_dir()):
            crops = FolderCrops(sub, args.length, seed=args.seed)
            data[sub.name] = np.stack([crops[i].numpy() for i in range(args.n)])
        if not data:
            raise DataError(f"{args.data} has no sub-folders of per-source audio (expected DIR/<source>/*.wav)")
    sigmas = args.sigmas
    matrix = cross_likelihood(priors, data, sigmas, seed=args.seed)
    print(format_cross_likelihood(matrix, sigmas, list(data), priors.names))
    plot_cross_likelihood(matrix, sigmas, list(data), priors.names, args.png)
    print(f"wrote {args.png}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="priorsep", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train-prior", help="train one source prior on solo stems")
    p.add_argument("--kind", default="flow", choices=["flow", "wavenet", "denoiser"],
                   help="flow (exact density), wavenet (autoregressive) or denoiser (diffusion-style score network)")
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
        arch.add_argument("--" + key.replace("_", "-"), **kwargs)
    p.add_argument("--dsm-weight", type=float, default=0.0,
                   help="weight of denoising score matching next to maximum likelihood (trains the score)")
    p.add_argument("--off-manifold", type=float, default=0.0,
                   help="denoiser: fraction of each batch given as the source at a reduced level plus generic "
                   "pitched tones, denoised to the clean source (teaches the denoiser mixture-like inputs)")
    p.add_argument("--init", help="fine-tune from this checkpoint stem instead of a fresh model")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted training in --out (from OUT.train.pt; starts fresh if none)")
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train_prior)

    p = sub.add_parser("train-baseline", help="train a baseline separator (Wave-U-Net or FactorGAN)")
    wun, fg = TRAIN_BASELINE_DEFAULTS["waveunet"], TRAIN_BASELINE_DEFAULTS["factorgan"]
    p.add_argument("--model", required=True, choices=["waveunet", "factorgan"])
    p.add_argument("--data", required=True, choices=["toy", "musdb"],
                   help="'toy' or 'musdb' (a folder in the MUSDB wav layout, see --musdb-root)")
    p.add_argument("--musdb-root", help="root of root/{train,test}/<track>/{mixture,SOURCE...}.wav")
    p.add_argument("--sources", nargs="+", default=["vocals", "drums", "bass", "other"],
                   help="--data musdb: the stems to separate (mixed by their sum)")
    p.add_argument("--sample-rate", type=int, help="--data musdb: resample to this rate (default: the files')")
    p.add_argument("--out", required=True, help="checkpoint stem (runs/wun -> runs/wun.pt + .json) or folder")
    p.add_argument("--steps", type=int, help=f"training steps (default: waveunet {wun['steps']}, factorgan {fg['steps']})")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, help=f"learning rate (default: waveunet {wun['lr']}; factorgan {fg['lr']}, its adversarial "
                   "generator updates)")
    p.add_argument("--paired", type=int, default=None,
                   help="number of distinct paired (mix, stems) items training may use (default: unlimited)")
    p.add_argument("--val-items", type=int, default=64,
                   help="held-out paired items: waveunet's early stopping; factorgan keeps the best-scoring checkpoint "
                   "(0: the latest)")
    p.add_argument("--patience", type=int, default=10, help="waveunet: validations without improvement before stopping")
    gan = p.add_argument_group("factorgan training (see priorsep.training.factorgan.train_factorgan); defaults: the "
                               "bundled factorgan-toy's recipe. The thesis's purely adversarial training: "
                               "--supervised-steps 0 --supervised-weight 0 --d-warmup 0")
    gan.add_argument("--d-lr", type=float, help=f"discriminators' learning rate (default {fg['d_lr']})")
    gan.add_argument("--d-steps", type=int, default=1, help="discriminator updates per generator update")
    gan.add_argument("--r1", type=float, help=f"R1 penalty weight on the discriminators (default {fg['r1']}; 0: none)")
    gan.add_argument("--aux-negatives", type=float,
                     help="weight in [0, 1) of the marginal discriminators' auxiliary negatives (other, leaky and "
                     f"quiet solo sources; default {fg['aux_negatives']})")
    gan.add_argument("--d-warmup", type=int, help=f"discriminator-only steps before the generator moves (default {fg['d_warmup']})")
    gan.add_argument("--supervised-steps", type=int,
                     help="the generator's first updates fit the --paired items' stems (MSE) before the adversarial "
                     f"ones (default {fg['supervised_steps']})")
    gan.add_argument("--supervised-lr", type=float, help=f"learning rate of those supervised updates (default {fg['supervised_lr']})")
    gan.add_argument("--supervised-weight", type=float,
                     help=f"weight of that MSE in the adversarial generator loss afterwards (default "
                     f"{fg['supervised_weight']}; 0: adversarial only)")
    arch = p.add_argument_group("architecture (default: the model's defaults)")
    for key, kwargs in BASELINE_ARCH_ARGS.items():
        arch.add_argument("--" + key.replace("_", "-"), **kwargs)
    p.add_argument("--init", help="start from this checkpoint stem (a further training stage, e.g. lower lr)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted training in --out (from OUT.train.pt; starts fresh if none)")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train_baseline)

    p = sub.add_parser("train-posterior", help="train a variational encoder on mixtures only (frozen priors)")
    p.add_argument("--priors", default="toy", help="bundled prior set name or folder of checkpoints")
    p.add_argument("--data", help="'toy' (toy mixtures) or a folder of mixture wav/flac files (needed unless "
                   "--teacher)")
    p.add_argument("--teacher", metavar="DIR",
                   help="fit q to the Langevin separator's estimates in DIR (benchmarks/tools/write_teacher_labels.py), "
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
    p.add_argument("--architecture", choices=["unet", "mask"], default="unet",
                   help="unet: waveform U-Net around the minimum-norm split; mask: soft masks of the mixture's "
                   "STFT from a spectrogram U-Net (the means meet the mix exactly)")
    p.add_argument("--hidden", type=int, default=32, help="encoder channels")
    p.add_argument("--levels", type=int, default=6, help="encoder U-Net levels")
    p.add_argument("--init-scale", type=float, default=0.1, help="the posterior scales' starting value")
    p.add_argument("--harmonics", type=_ratios, default=(1.0,), metavar="H,H,...",
                   help="mask encoder: input channels are the log-power at these multiples of each bin's "
                   "frequency, e.g. 0.5,1,2,3,4 (default 1: the plain spectrogram)")
    p.add_argument("--position", action="store_true", help="mask encoder: also input each bin's frequency")
    p.add_argument("--init", help="start from this encoder checkpoint stem")
    p.add_argument("--resume", action="store_true", help="continue the interrupted training in --out")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_train_posterior)

    p = sub.add_parser("separate", help="separate a mixture file into one wav per source")
    p.add_argument("mix", nargs="+", help="mixture audio files (wav/flac/...) or folders of them")
    p.add_argument("--priors", help="bundled prior set name or folder of checkpoints (default: toy; toy-wavenet "
                   "for --method variational, whose bundled encoder separates)")
    p.add_argument("--method", default="langevin", choices=["langevin", "variational", "baseline"],
                   help="langevin (the priors), variational (the priors' encoder, see --encoder) or baseline "
                   "(a trained Wave-U-Net / FactorGAN, see --model)")
    p.add_argument("--encoder", help="--method variational, or langevin with --init variational: encoder checkpoint "
                   "stem (default: the prior set's own)")
    p.add_argument("--model", help="--method baseline: bundled baseline name (waveunet-toy) or checkpoint stem")
    p.add_argument("--out", required=True, help="output folder: SOURCE.wav per source for a single file, "
                   "else NAME/SOURCE.wav per input; inputs whose outputs exist are skipped")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (each gets an equal share of the cores); "
                   "under torchrun, per rank")
    p.add_argument("--resample", action="store_true", help="resample the mix to the priors' rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    _add_langevin_args(p)
    p.set_defaults(func=cmd_separate)

    p = sub.add_parser("data", help="generate a dataset (synthetic band stems)")
    p.add_argument("dataset", choices=["band"])
    p.add_argument("--out", required=True, help="root of OUT/{train,test}/<track>/{mixture,bass,drums,guitar,piano}.wav")
    p.add_argument("--tracks", type=int, default=40, help="training tracks")
    p.add_argument("--test-tracks", type=int, help="test tracks (default: tracks // 4, at least 1)")
    p.add_argument("--seconds", type=float, default=30.0, help="length of each track")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--soundfont", help="SoundFont: fluidr3 (default), musescore, or a .sf2/.sf3 path")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("bench", help="run a benchmark and print its table")
    p.add_argument("benchmark", choices=["toy", "band", "musdb"],
                   help="toy: fresh toy mixes; band: excerpts of synthetic band test tracks (--root); musdb: every "
                   "track of a MUSDB18 subset scored with museval (--root, --out, one --method)")
    p.add_argument("--priors", nargs="*", help="prior sets, one Langevin row each (default: the bundled sets for the "
                   "benchmark; no value: none); musdb: the prior set of --method langevin/variational")
    p.add_argument("--baselines", nargs="*", help="baseline separators (bundled names or checkpoint stems), one row "
                   "each (default: the bundled ones for the benchmark; no value: none); musdb: the model of "
                   "--method baseline")
    p.add_argument("--encoder", help="variational encoder stem: adds the variational and hybrid rows (default: "
                   "for each prior set that has its own encoder)")
    p.add_argument("--n", type=int, default=8, help="toy, band: number of mixes")
    p.add_argument("--length", type=int, default=16384, help="toy: samples per mix")
    p.add_argument("--seconds", type=float, default=4.0, help="band: seconds per excerpt")
    p.add_argument("--seed", type=int, help="evaluation data seed (toy: 2026, band: 0); musdb: sampler seed")
    p.add_argument("--root", help="band: a folder from priorsep data band; musdb: the MUSDB18 root")
    p.add_argument("--subset", default="test", help="musdb: train or test")
    p.add_argument("--is-wav", action="store_true", help="musdb: the wav release (folders) instead of .stem.mp4")
    p.add_argument("--tracks", nargs="+", help="musdb: only these track names")
    p.add_argument("--method", default="langevin", choices=["langevin", "variational", "baseline"],
                   help="musdb: how to separate")
    p.add_argument("--out", help="musdb: folder for per-track JSON (museval format) and aggregate.json; "
                   "tracks already scored there are skipped")
    p.add_argument("--json", help="toy, band: also write all scores to this JSON file")
    p.add_argument("--no-bss", action="store_true", help="toy, band: skip museval BSSEval (faster)")
    p.add_argument("--quiet", action="store_true")
    _add_langevin_args(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("diagnose", help="cross-likelihood matrix of the priors (table + PNG)")
    p.add_argument("--priors", default="toy")
    p.add_argument("--data", default="toy", help="'toy' or a folder with one sub-folder of audio per source")
    p.add_argument("--n", type=int, default=16, help="test crops per source")
    p.add_argument("--length", type=int, default=4096, help="samples per crop")
    p.add_argument("--sigmas", type=float, nargs="+", default=[0.01, 0.05, 0.2, 1.0])
    p.add_argument("--png", default="cross_likelihood.png")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_diagnose)
    return parser


def main(argv: list[str] | None = None) -> int:
    from . import distributed

    args = build_parser().parse_args(argv)
    _set_threads()
    try:
        distributed.init()  # a no-op unless started by torchrun
        code = args.func(args)
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


if __name__ == "__main__":
    sys.exit(main())
