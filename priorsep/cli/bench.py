"""``priorsep bench``: run a benchmark (toy, band or musdb) and print its table."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import (METHOD_HELP, METHODS, add_device_arg, add_draw_args, add_langevin_args, draw_settings,
                     encoder_draw_settings, langevin_settings, load_separator, separator_spec)
from ..errors import ConfigError


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="run a benchmark and print its table")
    p.add_argument("benchmark", choices=["toy", "band", "musdb"],
                   help="toy: fresh toy mixes; band: excerpts of synthetic band test tracks (--root); musdb: every "
                   "track of a MUSDB18 subset scored with museval (--root, --out, one --method)")
    p.add_argument("--priors", nargs="*", help="prior sets: each one's rows, the fit of its spectral priors "
                   "where it has them, its annealed search and, with an encoder, the variational and hybrid rows "
                   "(default: the bundled sets for the "
                   "benchmark; no value: none); musdb: the prior set of --method langevin/variational")
    p.add_argument("--baselines", nargs="*", help="baseline separators (bundled names or checkpoint stems), one row "
                   "each (default: the bundled ones for the benchmark; no value: none); musdb: the model of "
                   "--method baseline")
    p.add_argument("--encoder", help="variational encoder stem: adds the variational and hybrid rows (default: "
                   "for each prior set that has its own encoder)")
    p.add_argument("--n", type=int, help="toy, band: number of mixes (default 8; band --whole-tracks: every track)")
    p.add_argument("--length", type=int, default=16384, help="toy: samples per mix")
    p.add_argument("--seconds", type=float, default=4.0,
                   help="band: seconds per excerpt (--whole-tracks: per scoring window, hop half of it)")
    p.add_argument("--whole-tracks", action="store_true",
                   help="band: separate each test track whole and score it over windows where >= 2 sources play")
    p.add_argument("--seed", type=int, help="evaluation data seed (toy: 2026, band: 0); musdb: sampler seed")
    p.add_argument("--root", help="band: a folder from priorsep data band; musdb: the MUSDB18 root")
    p.add_argument("--subset", default="test", help="musdb: train or test")
    p.add_argument("--is-wav", action="store_true", help="musdb: the wav release (folders) instead of .stem.mp4")
    p.add_argument("--tracks", nargs="+", help="musdb: only these track names")
    p.add_argument("--method", choices=METHODS, help="musdb: " + METHOD_HELP)
    p.add_argument("--out", help="musdb: folder for per-track JSON (museval format) and aggregate.json; "
                   "tracks already scored there are skipped")
    p.add_argument("--json", help="toy, band: also write all scores to this JSON file")
    p.add_argument("--no-bss", action="store_true", help="toy, band: skip museval BSSEval (faster)")
    p.add_argument("--report", metavar="DIR", help="also write a listening report (DIR/index.html: the table, and per "
                   "item the mixture, references and every method's estimates as players and spectrograms); DIR "
                   "must be new, empty or an earlier report")
    p.add_argument("--quiet", action="store_true")
    add_device_arg(p)
    add_draw_args(p)
    add_langevin_args(p)


def bench_band(args: argparse.Namespace, settings: dict, keep=None) -> tuple[dict, list, list]:
    """``bench band``: ``(results, prior sets, baselines)``."""
    from ..api import benchmark_separators
    from ..evaluation.band_benchmark import bench_band as run_band, default_band_baselines, default_band_prior_sets

    if not args.root:
        raise ConfigError("bench band needs --root: a folder made by priorsep data band")
    seed = args.seed if args.seed is not None else 0
    priors = default_band_prior_sets() if args.priors is None else args.priors
    baselines = default_band_baselines() if args.baselines is None else args.baselines
    separators = benchmark_separators(priors, baselines, encoder=args.encoder, seed=seed, draws=draw_settings(args),
                                      encoder_draws=encoder_draw_settings(args), device=args.device, **settings)
    n = args.n if args.n is not None or args.whole_tracks else 8
    results = run_band(args.root, separators, n=n, seconds=args.seconds, seed=seed, bss=not args.no_bss,
                       quiet=args.quiet, whole_tracks=args.whole_tracks, samples=args.samples, keep=keep)
    return results, priors, baselines


def bench_toy(args: argparse.Namespace, settings: dict, keep=None) -> tuple[dict, list, list]:
    """``bench toy``: ``(results, prior sets, baselines)``."""
    from ..api import benchmark_separators
    from ..evaluation.toy_benchmark import bench_toy as run_toy, default_toy_baselines, default_toy_prior_sets

    priors = default_toy_prior_sets() if args.priors is None else args.priors
    baselines = default_toy_baselines() if args.baselines is None else args.baselines
    separators = benchmark_separators(priors, baselines, encoder=args.encoder, seed=0, draws=draw_settings(args),
                                      encoder_draws=encoder_draw_settings(args), device=args.device, **settings)
    results = run_toy(separators, n=8 if args.n is None else args.n, length=args.length,
                      seed=args.seed if args.seed is not None else 2026, bss=not args.no_bss, quiet=args.quiet,
                      samples=args.samples, keep=keep)
    return results, priors, baselines


def bench_musdb(args: argparse.Namespace) -> int:
    """``bench musdb``: one separator (``--method``) over every track, scored with museval (and
    ``--report``: an excerpt of each as a listening report)."""
    from ..report import MusdbReport
    from ..evaluation.musdb_benchmark import bench_musdb as run_musdb, format_musdb
    from ..separation.files import separate_array

    if not args.root or not args.out:
        raise ConfigError("bench musdb needs --root (the MUSDB18 folder) and --out (per-track JSON and aggregate)")
    args.model = args.baselines[0] if args.baselines else None
    args.priors = args.priors[0] if args.priors else "toy"
    spec = separator_spec(args)
    separator = load_separator(args, spec)
    separator.progress = False
    what = spec if args.method == "baseline" else f"{args.method} with priors {spec}"
    report = MusdbReport(separator.label) if args.report else None
    result = run_musdb(args.root, lambda mix, rate: separate_array(separator, mix, rate, resample_to_model=True),
                       list(separator.names), args.out, subset=args.subset, is_wav=args.is_wav, tracks=args.tracks,
                       quiet=args.quiet, keep=report.keep if report else None)
    print(format_musdb(result, what))
    print(f"wrote {Path(args.out) / 'aggregate.json'} and per-track JSON under {Path(args.out) / args.subset}")
    if report:
        print(f"report: {report.write(args.report, f'MUSDB18 {args.subset}: {what}', quiet=args.quiet)}")
    return 0


def run(args: argparse.Namespace) -> int:
    from ..device import device_name, resolve_device
    from ..evaluation.benchmark import format_table, save_json
    from ..report import BenchmarkReport, check_report_folder

    settings = langevin_settings(args)
    if args.whole_tracks and args.benchmark != "band":
        raise ConfigError(f"--whole-tracks is for bench band, not bench {args.benchmark}")
    if args.report:
        check_report_folder(args.report)
    if args.benchmark == "musdb":
        return bench_musdb(args)
    report = BenchmarkReport() if args.report else None
    results, priors, baselines = (bench_band if args.benchmark == "band" else bench_toy)(
        args, settings, keep=report.keep if report else None)
    results.update(prior_sets=list(priors), baselines=list(baselines), langevin_settings=settings,
                   device=device_name(resolve_device(args.device)))
    if args.samples > 1:
        results["draws"] = draw_settings(args)
        results["encoder_draws"] = encoder_draw_settings(args)
    print(format_table(results))
    if args.json:
        save_json(results, args.json)
        print(f"wrote {args.json}")
    if report:
        print(f"report: {report.write(args.report, results, quiet=args.quiet)}")
    return 0
