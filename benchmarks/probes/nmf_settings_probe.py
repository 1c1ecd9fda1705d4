"""Which NMF dictionary settings separate band music: the sweep behind ``nmf-band``'s settings.

Learns one dictionary per source from *every* training track's solo stem (``--train-root``, default the
FluidR3 tracks; every ``--frame-step``-th non-silent STFT frame, ``--train-iterations`` multiplicative
β-divergence updates), then separates ``--n`` validation excerpts (``band_benchmark_set`` of ``--root``,
excerpt seed ``--seed``) by fitting the activations with the dictionaries fixed (``--iterations``
updates, random start seeded per excerpt) and Wiener-like masks of power ``--mask-power``. Prints
the median SI-SDRi [IQR] and per-source medians.

This is the exact procedure of the sweeps in ``benchmarks/results/band_nmf/settings_sweep*.txt``: it
keeps its own update loop (the same updates as :func:`priorsep.dsp.nmf.beta_nmf`, written before
it) and random activation starts, so its numbers reproduce. ``nmf-band`` itself learns from random
4-s solo crops through ``priorsep train-baseline --model nmf``:

    python benchmarks/probes/nmf_settings_probe.py --n-fft 2048 --hop 512 --rank 32 --beta 0.5 --frame-step 4
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from priorsep.data.band import BAND_SOURCES
from priorsep.data.multitrack import multitrack_tracks
from priorsep.dsp.stft import istft, stft
from priorsep.evaluation.band_benchmark import _read_stems, band_benchmark_set
from priorsep.evaluation.metrics import si_sdr_improvement

EPS = 1e-10


def mu(v: torch.Tensor, w: torch.Tensor, h: torch.Tensor, iterations: int, fix_w: bool, beta: float):
    """Multiplicative β-divergence updates of ``v ≈ w @ h`` (in place); ``fix_w``: activations only."""
    for _ in range(iterations):
        wh = w @ h + EPS
        h *= (w.T @ (v * wh ** (beta - 2))) / (w.T @ wh ** (beta - 1) + EPS)
        if not fix_w:
            wh = w @ h + EPS
            w *= ((v * wh ** (beta - 2)) @ h.T) / (wh ** (beta - 1) @ h.T + EPS)
            n = w.sum(0, keepdim=True)
            w /= n
            h *= n.T
    return w, h


def learn(train_root: str, args: argparse.Namespace) -> list[torch.Tensor]:
    """One dictionary ``(F, rank)`` per band source, from that source's stems alone."""
    tracks = multitrack_tracks(train_root, "train", BAND_SOURCES)[:args.train_tracks]
    stems = [_read_stems(t) for t in tracks]
    out = []
    for k, name in enumerate(BAND_SOURCES):
        t0 = time.time()
        v = torch.cat([stft(torch.from_numpy(x[k]).float(), args.n_fft, args.hop).abs() for x in stems], -1)
        v = v[:, v.sum(0) > 1e-3][:, ::args.frame_step]  # non-silent frames, every frame_step-th
        g = torch.Generator().manual_seed(k)
        w = torch.rand(v.shape[0], args.rank, generator=g) + 0.1
        w /= w.sum(0, keepdim=True)
        h = torch.rand(args.rank, v.shape[1], generator=g) * v.mean()
        out.append(mu(v, w, h, args.train_iterations, False, args.beta)[0])
        print(f"{name}: {tuple(v.shape)} frames, {time.time() - t0:.0f} s", flush=True)
    return out


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    dictionaries = learn(args.train_root, args)
    data = band_benchmark_set(args.root, args.seconds, args.n, seed=args.seed)
    order = [data.names.index(n) for n in BAND_SOURCES]
    w = torch.cat(dictionaries, 1)
    scores, t0 = [], time.time()
    for i, mix in enumerate(data.mixes):
        x = torch.from_numpy(mix).float()
        spec = stft(x, args.n_fft, args.hop)
        v = spec.abs()
        h = torch.rand(w.shape[1], v.shape[1], generator=torch.Generator().manual_seed(i)) * v.mean()
        _, h = mu(v, w, h, args.iterations, True, args.beta)
        parts = torch.stack([dictionaries[k] @ h[k * args.rank:(k + 1) * args.rank] for k in range(len(order))])
        masks = parts ** args.mask_power / (parts ** args.mask_power).sum(0, keepdim=True).clamp_min(EPS)
        est = istft(masks * spec, args.n_fft, args.hop, x.shape[-1]).numpy()
        scores.append(si_sdr_improvement(est, data.sources[i][order], mix))
    scores = np.array(scores)
    seconds = (time.time() - t0) / len(scores) / args.seconds
    out = {"settings": [args.n_fft, args.hop, args.rank, args.beta, args.mask_power, args.iterations],
           "median": round(float(np.median(scores)), 2),
           "iqr": np.percentile(scores, [25, 75]).round(2).tolist(),
           "per_source": np.median(scores, 0).round(2).tolist(), "s_per_s": round(seconds, 2)}
    print(f"{out['settings']} median {out['median']} IQR {out['iqr']} per source {out['per_source']} "
          f"{out['s_per_s']} s/s")
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-fft", type=int, default=2048)
    p.add_argument("--hop", type=int, default=512)
    p.add_argument("--rank", type=int, default=32)
    p.add_argument("--beta", type=float, default=0.5)
    p.add_argument("--mask-power", type=float, default=2.0, help="masks (W_k H_k)^p / sum_j (W_j H_j)^p")
    p.add_argument("--iterations", type=int, default=200, help="activation updates per excerpt")
    p.add_argument("--frame-step", type=int, default=4, help="learn from every N-th non-silent frame")
    p.add_argument("--train-iterations", type=int, default=150)
    p.add_argument("--train-root", default="priors-work/band-data/fluidr3")
    p.add_argument("--train-tracks", type=int, default=None, help="the first N training tracks (default: all)")
    p.add_argument("--root", default="priors-work/band-data-multi/gmbank", help="validation band data")
    p.add_argument("--n", type=int, default=16, help="excerpts")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0, help="excerpt positions")
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
