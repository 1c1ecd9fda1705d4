"""Can each prior generate its source? Unconditional samples against real toy data.

A prior that cannot generate its source cannot guide a posterior sampler to it either: the
separator is the same sampler with the mixture constraint added. For each prior of the set this
draws ``--n`` samples at ``--sigma`` (flows: exact; WaveNets: ancestral; denoisers: reverse
diffusion) and prints their RMS and spectral peakiness (share of the power in the strongest 1 %
of the bins: ~1 for a periodic tone, ~0.03 for noise) next to the same numbers for fresh toy data,
and writes a spectrogram figure of the first sample of each prior (``--png``):

    python benchmarks/probes/prior_samples.py --priors priors-work/toy-denoiser --png samples.png
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import priorsep
from priorsep.data.toy import TOY_SAMPLE_RATE, TOY_SOURCES, toy_eval_set


def peakiness(x: np.ndarray) -> np.ndarray:
    """Share of the power in the strongest 1 % of the rFFT bins of each row of ``x (n, T)``."""
    power = np.abs(np.fft.rfft(x * np.hanning(x.shape[-1]), axis=-1)) ** 2
    top = max(1, power.shape[-1] // 100)
    return np.sort(power, -1)[:, -top:].sum(-1) / power.sum(-1)


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    data = toy_eval_set(args.n, args.length, seed=args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    out, first = {}, {}
    print(f"{'source':<10}{'RMS data':>10}{'RMS samples':>13}{'peaky data':>12}{'peaky samples':>15}")
    for p in priors:
        with torch.no_grad():
            x = p.sample(args.n, args.length, args.sigma, generator=gen).numpy()
        first[p.name] = x[0]
        row = dict(rms=float(np.median(x.std(-1))), peaky=float(np.median(peakiness(x))))
        if p.name in TOY_SOURCES:
            ref = data.sources[:, TOY_SOURCES.index(p.name)]
            row.update(rms_data=float(np.median(ref.std(-1))), peaky_data=float(np.median(peakiness(ref))))
        out[p.name] = row
        print(f"{p.name:<10}{row.get('rms_data', float('nan')):>10.2f}{row['rms']:>13.2f}"
              f"{row.get('peaky_data', float('nan')):>12.2f}{row['peaky']:>15.2f}", flush=True)
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(first), figsize=(3.2 * len(first), 3), squeeze=False)
        for ax, (name, x) in zip(axes[0], first.items()):
            ax.specgram(x + 1e-9, Fs=TOY_SAMPLE_RATE, NFFT=1024, noverlap=768, cmap="magma")
            ax.set_title(f"sample of '{name}'")
        fig.tight_layout()
        fig.savefig(args.png, dpi=80)
        print(f"wrote {args.png}")
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", default="toy")
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--sigma", type=float, default=0.01, help="noise level of the samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--png", help="spectrograms of the first sample of each prior")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
