"""Demo: separate a few fresh toy mixes with the bundled priors.

Prints SI-SDR / SI-SDRi per source, writes the mix, references and estimates as wavs and a
figure (waveforms and spectrograms) to ``--out``, and a listening report (``--out``/report/index.html).

    python examples/toy_demo.py --out demo_output
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
from priorsep.data.audio import write_audio  # noqa: E402
from priorsep.data.toy import TOY_MIXING, TOY_SOURCES, toy_eval_set  # noqa: E402
from priorsep.evaluation.metrics import si_sdr, si_sdr_improvement  # noqa: E402
from priorsep.mixing import mixing_weights  # noqa: E402
from priorsep.report import MethodOutput, ReportItem, write_report  # noqa: E402


def plot_item(mix, refs, ests, rate, path, n_show=600):
    k = len(TOY_SOURCES)
    fig, axes = plt.subplots(k + 1, 2, figsize=(12, 2.0 * (k + 1)), gridspec_kw={"width_ratios": [2, 1]})
    n_show = min(n_show, len(mix))
    t = np.arange(n_show) / rate * 1000
    axes[0, 0].plot(t, mix[:n_show], color="k", lw=1)
    axes[0, 0].set_title("mixture (first %d ms)" % int(t[-1]))
    axes[0, 1].specgram(mix, Fs=rate, NFFT=512, noverlap=384, cmap="magma")
    axes[0, 1].set_title("mixture spectrogram")
    for i, name in enumerate(TOY_SOURCES, 1):
        axes[i, 0].plot(t, refs[i - 1, :n_show], color="0.6", lw=2.5, label="reference")
        axes[i, 0].plot(t, ests[i - 1, :n_show], color="C%d" % i, lw=1, label="estimate")
        axes[i, 0].set_title(f"{name}: SI-SDR {float(si_sdr(ests[i - 1], refs[i - 1])):.1f} dB")
        axes[i, 0].legend(loc="upper right", fontsize=7)
        axes[i, 1].specgram(ests[i - 1], Fs=rate, NFFT=512, noverlap=384, cmap="magma")
        axes[i, 1].set_title(f"{name} estimate spectrogram")
    axes[-1, 0].set_xlabel("ms")
    axes[-1, 1].set_xlabel("s")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    if args.baselines is None:
        from priorsep.evaluation.toy_benchmark import default_toy_baselines

        args.baselines = default_toy_baselines()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    priors = priorsep.load_priors(args.priors)
    data = toy_eval_set(args.n, args.length, seed=args.seed)
    settings = {k: v for k, v in dict(n_levels=args.n_levels, steps_per_level=args.steps_per_level).items() if v}
    rows, seconds, items = [], 0.0, []
    for i in range(args.n):
        t0 = time.perf_counter()
        est = priorsep.langevin_separate(data.mixes[i], priors=priors, seed=i, progress=not args.quiet, **settings)
        seconds += time.perf_counter() - t0
        ests = np.stack([est[n] for n in TOY_SOURCES])
        rows.append((si_sdr(ests, data.sources[i]), si_sdr_improvement(ests, data.sources[i], data.mixes[i])))
        write_audio(out / f"mix{i}.wav", data.mixes[i], data.sample_rate)
        for k, name in enumerate(TOY_SOURCES):
            write_audio(out / f"mix{i}_{name}_reference.wav", data.sources[i, k], data.sample_rate)
            write_audio(out / f"mix{i}_{name}_estimate.wav", ests[k], data.sample_rate)
        plot_item(data.mixes[i], data.sources[i], ests, data.sample_rate, out / f"mix{i}.png")
        items.append(ReportItem(f"mix{i}", data.mixes[i], {"Langevin": MethodOutput(
            dict(zip(TOY_SOURCES, ests)), scores=dict(zip(TOY_SOURCES, rows[-1][1].tolist())))},
            dict(zip(TOY_SOURCES, data.sources[i]))))

    print(f"\nLangevin separation of {args.n} toy mixes ({args.length} samples @ {data.sample_rate} Hz)")
    print("SI-SDR / SI-SDRi in dB")
    print(f"{'mix':<6}" + "".join(f"{n:>18}" for n in TOY_SOURCES))
    for i, (sdr, sdri) in enumerate(rows):
        print(f"{i:<6}" + "".join(f"{a:>10.1f} /{b:>6.1f}" for a, b in zip(sdr, sdri)))
    sdri_all = np.stack([r[1] for r in rows])
    print(f"median SI-SDRi over all sources: {np.median(sdri_all):.2f} dB; "
          f"{seconds / args.n:.1f} s per mix "
          f"({seconds / (args.n * args.length / data.sample_rate):.1f} s per s of audio)")
    baseline_scores = {}
    for name in args.baselines:  # the supervised / adversarial references on the same mixes
        model = priorsep.baselines.load(name)
        scores = []
        for i in range(args.n):
            est = model.separate(data.mixes[i])
            scores.append(si_sdr_improvement(np.stack([est[n] for n in TOY_SOURCES]), data.sources[i], data.mixes[i]))
        baseline_scores[name] = float(np.median(scores))
        print(f"for reference, {name} ({model.config.get('paired_items') or model.config.get('paired')} paired "
              f"training items): median SI-SDRi {baseline_scores[name]:.2f} dB on the same mixes")
    # one pass of the bundled amortised posterior (variational_separate's default set), same mixes
    scores, t0 = [], time.perf_counter()
    for i in range(args.n):
        est = priorsep.variational_separate(data.mixes[i])
        scores.append(si_sdr_improvement(np.stack([est[n] for n in TOY_SOURCES]), data.sources[i], data.mixes[i]))
    variational = float(np.median(scores))
    print(f"for reference, one-pass variational separation (bundled toy-wavenet encoder, trained without stems): "
          f"median SI-SDRi {variational:.2f} dB, {(time.perf_counter() - t0) / args.n:.2f} s per mix")
    print(f"wrote wavs and figures to {out}/")
    index = write_report(out / "report", items, data.sample_rate, title=f"priorsep toy demo: {args.priors} priors",
                         weights=dict(zip(TOY_SOURCES, mixing_weights(TOY_MIXING, len(TOY_SOURCES)))))
    print(f"listening report: {index}")
    return {"report": index, "si_sdri": sdri_all, "seconds_per_mix": seconds / args.n, "baselines": baseline_scores,
            "variational": variational}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="demo_output")
    p.add_argument("--priors", default="toy", help="bundled prior set or folder")
    p.add_argument("--n", type=int, default=3, help="number of mixes")
    p.add_argument("--length", type=int, default=16384, help="samples per mix")
    p.add_argument("--seed", type=int, default=11, help="toy data seed")
    p.add_argument("--n-levels", type=int, help="override the sampler's number of noise levels")
    p.add_argument("--steps-per-level", type=int, help="override the sampler's steps per level")
    p.add_argument("--baselines", nargs="*", default=None,
                   help="bundled baselines to score on the same mixes (default: the toy ones)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet", action="store_true")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
