"""The NMF dictionaries' analogue of the cross-likelihood matrix: how well each source's dictionary
explains each other source's solo stem.

For every excerpt of ``--root`` (``band_benchmark_set``) and every true stem j, the activations of
dictionary k alone are fitted to stem j's magnitude STFT (in windows of the model's context; the
model's β, separation iterations and start), and the β-divergence per bin is recorded. Printed per
(stem j, dictionary k): the median over excerpts of log10(D(j | k) / D(j | j)). Positive off the
diagonal: stem j's own dictionary explains it better than dictionary k does, so a mix's share of j is not claimed by k.

    python benchmarks/probes/nmf_cross_fit.py --model nmf-band --root priors-work/band-data-multi/gmbank --n 16
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import priorsep
from priorsep.dsp.nmf import EPS, beta_divergence, beta_nmf, shingle
from priorsep.dsp.stft import stft
from priorsep.evaluation.band_benchmark import band_benchmark_set


def cross_fit(model, stems: np.ndarray) -> np.ndarray:
    """``stems (K, T)`` in ``model.names`` order -> divergence per bin ``(K stems, K dictionaries)``."""
    c = model.config
    out = np.zeros((len(stems), len(stems)))
    for j, stem in enumerate(stems):
        v = shingle(stft(torch.from_numpy(stem).float(), c["n_fft"], c["hop"]).abs(), c["context"], pad=True)
        for k, w in enumerate(model.dictionaries):
            h = v.mean().expand(w.shape[1], v.shape[1]) + EPS
            _, h = beta_nmf(v, w, h, c["iterations"], c["beta"], update_dictionary=False)
            out[j, k] = float(beta_divergence(v, w @ h, c["beta"])) / v.numel()
    return out


def main(args: argparse.Namespace) -> np.ndarray:
    torch.set_num_threads(args.threads)
    model = priorsep.baselines.load(args.model)
    data = band_benchmark_set(args.root, args.seconds, args.n, seed=args.seed)
    order = [data.names.index(n) for n in model.names]
    ratios = []
    for sources in data.sources:
        d = cross_fit(model, sources[order])
        ratios.append(np.log10(d / np.diag(d)[:, None]))
    table = np.median(ratios, 0)
    print(f"median log10 D(stem | dictionary) / D(stem | own dictionary), {len(ratios)} excerpts of {args.root}")
    print(f"{'stem':>8} " + " ".join(f"{n:>8}" for n in model.names))
    for name, row in zip(model.names, table):
        print(f"{name:>8} " + " ".join(f"{x:8.3f}" for x in row))
    return table


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="nmf-band", help="bundled NMF baseline or checkpoint stem")
    p.add_argument("--root", default="priors-work/band-data-multi/gmbank")
    p.add_argument("--n", type=int, default=16, help="excerpts")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
