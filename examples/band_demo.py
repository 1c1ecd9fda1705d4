"""Demo: separate an excerpt of a synthetic band track with the bundled band priors.

Renders one test track (FluidSynth; by default with the MuseScore SoundFont, other instrument
recordings than any the priors were trained on), takes an excerpt where every instrument plays,
separates it with the band prior set's default method (the fit of its spectral VAE priors; ``--method
langevin``: the mask search of its waveform flows) and with the bundled baselines for reference
(supervised and NMF), prints SI-SDRi per source and writes the wavs and a
spectrogram figure (mix, references, estimates) to ``--out``, and a listening report
(``--out``/report/index.html: every signal as a player and a spectrogram, with its score).

    python examples/band_demo.py --out demo_output/band
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import priorsep  # noqa: E402
import priorsep.baselines  # noqa: E402
from priorsep.api import default_method  # noqa: E402
from priorsep.data.audio import write_audio  # noqa: E402
from priorsep.data.band import BAND_MIXING, BAND_SOURCES, make_band_dataset  # noqa: E402
from priorsep.evaluation.band_benchmark import band_benchmark_set, default_band_baselines  # noqa: E402
from priorsep.evaluation.metrics import si_sdr_improvement  # noqa: E402
from priorsep.mixing import mixing_weights  # noqa: E402
from priorsep.report import MethodOutput, ReportItem, write_report  # noqa: E402


def plot_spectrograms(mix, refs, estimates: dict[str, np.ndarray], rate: int, path: Path) -> None:
    """One row per signal: the mix, then per source its reference and each method's estimate."""
    cols = 1 + len(estimates)
    fig, axes = plt.subplots(len(BAND_SOURCES) + 1, cols, figsize=(4 * cols, 2.2 * (len(BAND_SOURCES) + 1)),
                             squeeze=False)
    for ax in axes[0, 1:]:
        ax.axis("off")
    axes[0, 0].specgram(mix, Fs=rate, NFFT=1024, noverlap=768, cmap="magma")
    axes[0, 0].set_title("mixture")
    for k, name in enumerate(BAND_SOURCES, 1):
        axes[k, 0].specgram(refs[k - 1] + 1e-9, Fs=rate, NFFT=1024, noverlap=768, cmap="magma")
        axes[k, 0].set_title(f"{name} reference")
        for j, (method, est) in enumerate(estimates.items(), 1):
            axes[k, j].specgram(est[k - 1] + 1e-9, Fs=rate, NFFT=1024, noverlap=768, cmap="magma")
            sdri = float(si_sdr_improvement(est[k - 1], refs[k - 1], mix))
            axes[k, j].set_title(f"{name}: {method} ({sdri:+.1f} dB SI-SDRi)", fontsize=9)
    for ax in axes.ravel():
        ax.set_ylim(0, 4000)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    root = make_band_dataset(out / "data", tracks=0, test_tracks=1, seconds=args.track_seconds, seed=args.seed,
                             soundfont=args.soundfont)
    data = band_benchmark_set(root, seconds=args.seconds, n=1, seed=args.seed)
    mix, refs, rate = data.mixes[0], data.sources[0], data.sample_rate
    settings = {k: v for k, v in dict(n_levels=args.n_levels, steps_per_level=args.steps_per_level).items() if v}
    estimates, timings = {}, {}
    method = args.method or default_method(args.priors)
    row = f"priors-{method}"
    t0 = time.perf_counter()
    separator = priorsep.load_separator(args.priors, method, seed=args.seed, progress=not args.quiet, **settings)
    est = separator.separate(mix)
    timings[row] = time.perf_counter() - t0
    estimates[row] = np.stack([est[n] for n in BAND_SOURCES])
    for name in args.baselines:
        t0 = time.perf_counter()
        est = priorsep.baselines.load(name).separate(mix)
        timings[name] = time.perf_counter() - t0
        estimates[name] = np.stack([est[n] for n in BAND_SOURCES])
    write_audio(out / "mix.wav", mix, rate)
    for k, name in enumerate(BAND_SOURCES):
        write_audio(out / f"{name}_reference.wav", refs[k], rate)
        for method, e in estimates.items():
            write_audio(out / f"{name}_{method}.wav", e[k], rate)
    with np.errstate(divide="ignore"):  # digital silence in a stem has zero power: -inf dB is fine to draw
        plot_spectrograms(mix, refs, estimates, rate, out / "band_spectrograms.png")

    print(f"\nband excerpt: {args.seconds:g} s @ {rate} Hz, test track rendered with {args.soundfont}; SI-SDRi in dB")
    print(f"{'method':<18}" + "".join(f"{n:>9}" for n in BAND_SOURCES) + f"{'median':>9}{'seconds':>9}")
    scores = {}
    for method, e in estimates.items():
        s = si_sdr_improvement(e, refs, mix)
        scores[method] = s
        print(f"{method:<18}" + "".join(f"{v:>9.2f}" for v in s) + f"{np.median(s):>9.2f}{timings[method]:>9.1f}")
    print(f"wrote wavs and band_spectrograms.png to {out}/")
    item = ReportItem(f"{args.soundfont} test track, {args.seconds:g}-s excerpt (seed {args.seed})", mix,
                      {m: MethodOutput(dict(zip(BAND_SOURCES, e)), scores=dict(zip(BAND_SOURCES, scores[m].tolist())))
                       for m, e in estimates.items()}, dict(zip(BAND_SOURCES, refs)))
    index = write_report(out / "report", [item], rate, title="priorsep band demo",
                         weights=dict(zip(BAND_SOURCES, mixing_weights(BAND_MIXING, len(BAND_SOURCES)))))
    print(f"listening report: {index}")
    return {"si_sdri": scores, "seconds": timings, "report": index}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="demo_output/band")
    p.add_argument("--priors", default="band", help="bundled prior set or folder")
    p.add_argument("--method", choices=["fit", "langevin"],
                   help="how the priors separate (default: the set's own, fit for band)")
    p.add_argument("--baselines", nargs="*", default=default_band_baselines(),
                   help="bundled baselines for reference (default: every bundled band baseline installed)")
    p.add_argument("--soundfont", default="musescore", help="SoundFont of the rendered test track")
    p.add_argument("--seconds", type=float, default=4.0, help="length of the excerpt")
    p.add_argument("--track-seconds", type=float, default=12.0, help="length of the rendered track")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--n-levels", type=int, help="langevin: override the sampler's number of noise levels")
    p.add_argument("--steps-per-level", type=int, help="langevin: override the sampler's steps per level")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet", action="store_true")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
