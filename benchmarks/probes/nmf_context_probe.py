"""Whether NMF dictionaries with context over frames, sparse activations or more varied training stems
separate band music better: the probe behind the 2026-12-07 NMF work.

Each source's dictionary holds ``--rank`` shapes of ``--context`` consecutive STFT frames (the
frames side by side, "shingled"; context 1 is plain NMF, the ``nmf-band`` model): a shape can hold
an attack and its decay, which a single frame cannot. It is learnt by
:func:`priorsep.dsp.nmf.beta_nmf` from every ``--frame-step``-th non-silent window of *every*
training track's solo stem of that source (``--train-root``; the multi-SoundFont tracks of
``make_band_data_multi.sh`` or the FluidR3 ones). Separation is the library's
:class:`~priorsep.baselines.nmf.NMFSeparator` holding these dictionaries: it fits the activations of
all dictionaries to the mix's shingled magnitude (``--iterations`` updates from a flat start, an L1
penalty ``--sparsity`` on the activations, as a fraction of the mix's mean magnitude), averages each
frame's ``context`` reconstructions, and splits the complex STFT with masks of power ``--mask-power``.
Prints the median SI-SDRi [IQR] and per-source medians of ``--n`` validation excerpts (``--root``,
excerpt seed ``--seed``). Dictionaries are cached under ``--cache`` by their settings.

    python benchmarks/probes/nmf_context_probe.py --context 4 --train-root priors-work/band-data-multi/train
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from priorsep.baselines.nmf import NMFSeparator
from priorsep.data.band import BAND_SOURCES
from priorsep.data.multitrack import multitrack_tracks
from priorsep.dsp.nmf import beta_nmf, shingle
from priorsep.dsp.stft import stft
from priorsep.evaluation.band_benchmark import _read_stems, band_benchmark_set
from priorsep.evaluation.benchmark import si_sdri_per_mix
from priorsep.training.nmf import SILENT, pick_exemplars


def learn(args: argparse.Namespace) -> list[torch.Tensor]:
    """One dictionary ``(context * F, rank)`` per band source, from that source's stems alone (cached)."""
    key = (f"{Path(args.train_root).name}-{args.train_tracks}-{args.n_fft}-{args.hop}-{args.context}-{args.rank}"
           f"-{args.beta}-{args.frame_step}-{args.train_iterations}-{args.train_seed}" + "-exemplars" * args.exemplars)
    path = Path(args.cache) / f"{key}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    tracks = multitrack_tracks(args.train_root, "train", BAND_SOURCES)[:args.train_tracks]
    out = []
    for k, name in enumerate(BAND_SOURCES):
        t0 = time.time()
        parts = []
        for track in tracks:
            x = torch.from_numpy(_read_stems(track)[k]).float()
            v = shingle(stft(x, args.n_fft, args.hop).abs(), args.context, pad=False)
            parts.append(v[:, v.sum(0) > SILENT * args.context][:, ::args.frame_step])
        v = torch.cat(parts, -1)
        g = torch.Generator().manual_seed(args.train_seed * 1000 + k)
        if args.exemplars:  # the shapes are training windows themselves, drawn at random (no learning)
            w = pick_exemplars(v, args.rank, g)
        else:
            w = torch.rand(v.shape[0], args.rank, generator=g) + 0.1
            h = torch.rand(args.rank, v.shape[1], generator=g) * v.mean() + 1e-6
            w, _ = beta_nmf(v, w / w.sum(0, keepdim=True), h, args.train_iterations, args.beta)
        out.append(w)
        print(f"{name}: {tuple(v.shape)}, {time.time() - t0:.0f} s", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(out, path)
    return out


def separator(dictionaries: list[torch.Tensor], sample_rate: int, args: argparse.Namespace) -> NMFSeparator:
    """The library's NMF separator (sources mixed by their sum) holding ``dictionaries`` and the separation settings."""
    settings = {k: getattr(args, k) for k in ("n_fft", "hop", "context", "rank", "beta", "iterations", "sparsity",
                                              "mask_power")}
    model = NMFSeparator(dict(sources=list(BAND_SOURCES), sample_rate=sample_rate,
                              mix_weights=[1.0] * len(BAND_SOURCES), **settings))
    model.dictionaries.copy_(torch.stack(dictionaries))
    return model


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    data = band_benchmark_set(args.root, args.seconds, args.n, seed=args.seed)
    model = separator(learn(args), data.sample_rate, args)
    t0 = time.time()
    scores = si_sdri_per_mix(model.separate, data)  # (excerpts, sources), sources in data.names order
    settings = {k: getattr(args, k) for k in (
        "train_root", "train_tracks", "n_fft", "hop", "context", "rank", "beta", "frame_step", "train_iterations",
        "train_seed", "exemplars", "iterations", "sparsity", "mask_power", "root", "n", "seed")}
    out = {"settings": settings, "median": round(float(np.median(scores)), 2),
           "iqr": np.percentile(scores, [25, 75]).round(2).tolist(),
           "per_source": np.median(scores, 0).round(2).tolist(),
           "s_per_s": round((time.time() - t0) / len(scores) / args.seconds, 2)}
    print(json.dumps(out), flush=True)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-fft", type=int, default=2048)
    p.add_argument("--hop", type=int, default=512)
    p.add_argument("--context", type=int, default=1, help="consecutive frames per dictionary shape")
    p.add_argument("--rank", type=int, default=32)
    p.add_argument("--beta", type=float, default=0.5)
    p.add_argument("--mask-power", type=float, default=1.0, help="masks (W_k H_k)^p / sum_j (W_j H_j)^p")
    p.add_argument("--iterations", type=int, default=200, help="activation updates per excerpt")
    p.add_argument("--sparsity", type=float, default=0.0, help="L1 weight on the activations (x the mean magnitude)")
    p.add_argument("--frame-step", type=int, default=4, help="learn from every N-th non-silent window")
    p.add_argument("--train-iterations", type=int, default=200)
    p.add_argument("--exemplars", action="store_true", help="shapes: random training windows, not learnt")
    p.add_argument("--train-seed", type=int, default=0, help="seeds the dictionaries' random starts")
    p.add_argument("--train-root", default="priors-work/band-data-multi/train")
    p.add_argument("--train-tracks", type=int, default=None, help="the first N training tracks (default: all)")
    p.add_argument("--root", default="priors-work/band-data-multi/gmbank", help="validation band data")
    p.add_argument("--n", type=int, default=48, help="excerpts")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0, help="excerpt positions")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cache", default="priors-work/nmf/context-probe", help="folder of learnt dictionaries")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
