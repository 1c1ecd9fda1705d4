"""Can the priors tell the toy shapes apart at a given period? A cross-likelihood per period.

For each period P (samples) and each toy shape, one oscillator of that period (random phase,
amplitude 0.9) plus noise at ``--sigma`` is rated by every prior of the set: log p_j(x | sigma) in
nats per sample. The table marks rows where a prior other than the shape's own rates it highest,
and ends with the margin per period: the shape's own prior minus the best other one, the smallest
over the four shapes (positive: every shape is told apart at that period).

It answers whether a failure at high pitch is the priors' or the search's. At the toy data's
shortest periods (3 to 6 samples, above 2400 Hz) each waveform keeps only one or two harmonics
below Nyquist, yet the bundled WaveNets still tell the shapes apart there by several nats per
sample (``benchmarks/results/wavenet/README.md``):

    python benchmarks/probes/period_discrimination.py --priors toy-wavenet
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import priorsep
from priorsep.data.toy import TOY_SOURCES, periodic_wave


def main(args: argparse.Namespace) -> dict[int, np.ndarray]:
    """Returns ``{period: (4 shapes, n_priors) array}`` of log densities in nats per sample."""
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    print(f"{'P':<5}{'shape':<10}" + "".join(f"{n:>10}" for n in priors.names))
    out = {}
    for period in args.periods:
        rows = []
        for shape in TOY_SOURCES:
            x = torch.from_numpy(periodic_wave(shape, period, args.length, rng.uniform(0, 2 * np.pi), 0.9))[None]
            x = x + args.sigma * torch.randn(x.shape, generator=gen)
            with torch.no_grad():
                rows.append([float(p.log_prob(x, args.sigma)) / args.length for p in priors])
            best = priors.names[int(np.argmax(rows[-1]))]
            mark = "" if best == shape else f"   <- rated highest by {best}"
            print(f"{period:<5}{shape:<10}" + "".join(f"{v:10.2f}" for v in rows[-1]) + mark, flush=True)
        out[period] = np.array(rows)
    own = [priors.names.index(s) if s in priors.names else None for s in TOY_SOURCES]
    if all(j is not None for j in own):
        print("margin (own prior minus the best other, smallest over the shapes, nats/sample):")
        for period, r in out.items():
            margins = [r[i, j] - np.delete(r[i], j).max() for i, j in enumerate(own)]
            print(f"  P={period:<4} {min(margins):8.2f}")
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", default="toy-wavenet")
    p.add_argument("--periods", type=int, nargs="+", default=[3, 4, 5, 6, 8, 12, 30, 100, 400])
    p.add_argument("--length", type=int, default=4096, help="samples per test signal")
    p.add_argument("--sigma", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
