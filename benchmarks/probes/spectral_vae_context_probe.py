"""Probe: a deep spectral prior per band source, a variational autoencoder (VAE) over windows of a few
magnitude STFT frames, each trained on that source's solo crops alone; separation fits every source's
latent codes and gains to the mix's magnitude (β-divergence, as the NMF separators do), then splits the
mix by the ratio masks of the decoded parts. The deep counterpart of ``nmf-exemplars-band``: the same
frames, context and data (``--context`` frames per window, 256 solo crops of the multi-SoundFont tracks), a
learnt manifold of shapes instead of 512 stored windows per source. ``spectral_vae_probe.py`` (2026-12-06)
was the one-frame version on FluidR3 stems alone; this one adds the context, the data, the encoder's start
of the fit and windows weighted by their level.

Trains (or loads) ``--out``/``<source>.pt``, then runs the band benchmark's table (``bench_band``: the same
excerpts, or ``--whole-tracks``, and scores as ``priorsep bench band``) on ``--root``'s test split, prints it
and writes its JSON to ``--json`` (for ``benchmarks/tools/paired_rows.py``).

    python benchmarks/probes/spectral_vae_context_probe.py --out priors-work/vae-a --n 48 --no-bss --json val.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from priorsep.baselines import load
from priorsep.baselines.spectral_vae import SpectralVAE, SpectralVAESeparator, beta_divergence_rows
from priorsep.data.select import solo_crops
from priorsep.dsp.nmf import shingle
from priorsep.dsp.stft import stft
from priorsep.evaluation.band_benchmark import bench_band
from priorsep.evaluation.benchmark import format_table, save_json
from priorsep.training.nmf import SILENT, solo_magnitudes

SOURCES = ["bass", "drums", "guitar", "piano"]


def train_vae(shapes: torch.Tensor, args: argparse.Namespace, seed: int) -> tuple[SpectralVAE, list]:
    """The probe's own training (its runs' VAEs; the library's trainer seeds and draws differently)."""
    torch.manual_seed(seed)
    vae = SpectralVAE(shapes.shape[1], args.latent, args.hidden)
    opt = torch.optim.Adam(vae.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.steps, pct_start=0.05)
    g = torch.Generator().manual_seed(seed)
    log = []
    for step in range(args.steps):
        u = shapes[torch.randint(len(shapes), (args.batch,), generator=g)]
        mu, logvar = vae.encode(u)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        rec = beta_divergence_rows(u * vae.dim, vae.decode(z) * vae.dim, args.beta).mean()
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1).mean()
        loss = rec + args.kl * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0 or step == args.steps - 1:
            log.append({"step": step, "rec": round(rec.item(), 2), "kl": round(kl.item(), 2)})
            print(log[-1], flush=True)
    return vae.eval(), log


def solo_shapes(source: str, k: int, args: argparse.Namespace) -> torch.Tensor:
    crops, _, _ = solo_crops("musdb", source, int(args.crop_seconds * 16000), args.seed + k, musdb_root=args.train_root)
    v = solo_magnitudes(crops, args.crops, args.n_fft, args.hop, args.context)  # (D, windows)
    v = v[:, v.sum(0) > SILENT * args.context].T
    return v / v.sum(-1, keepdim=True)


def separator(args: argparse.Namespace) -> SpectralVAESeparator:
    """The library's separator: ``--model`` (a checkpoint stem or bundled name), or the VAEs of ``--out``, trained
    here where missing, with the fit settings given."""
    if args.model:
        return load(args.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = dict(sources=SOURCES, sample_rate=16000, mix_weights=[1.0] * 4, training={"probe": str(out)},
                  label=f"spectral VAE priors, {args.context} frames (probe)",
                  **{k: getattr(args, k) for k in ("n_fft", "hop", "context", "latent", "hidden", "beta", "kl",
                                                    "iterations", "fit_lr")}, prior_weight=args.prior)
    sep = SpectralVAESeparator(config)
    for k, source in enumerate(SOURCES):
        path = out / f"{source}.pt"
        if not path.exists():
            t0 = time.time()
            vae, log = train_vae(solo_shapes(source, k, args), args, args.seed * 1000 + k)
            torch.save(vae.state_dict(), path)
            print(json.dumps({"source": source, "seconds": round(time.time() - t0), "last": log[-1]}), flush=True)
        sep.vaes[k].load_state_dict(torch.load(path, weights_only=True))
    return sep.eval()


@torch.no_grad()
def cross_loss(sep: SpectralVAESeparator, root: str) -> np.ndarray:
    """``(K, K)``: row k, column j = the mean loss per window (β-divergence of the reconstruction, plus the
    KL term, as in training; the negative of an ELBO-like score) of source k's non-silent windows, from the
    whole test tracks of ``root``, under source j's VAE. Low on the diagonal = each prior knows its own source."""
    from priorsep.data.multitrack import multitrack_tracks
    from priorsep.evaluation.band_benchmark import _read_stems

    stems = [_read_stems(t) for t in multitrack_tracks(root, "test", tuple(SOURCES))]
    out = np.zeros((len(SOURCES), len(SOURCES)))
    for k in range(len(SOURCES)):
        x = torch.stack([torch.as_tensor(s[k][:min(len(t[0]) for t in stems)]) for s in stems]).float()
        c = sep.config
        v = shingle(stft(x, c["n_fft"], c["hop"]).abs(), c["context"], pad=False)  # (tracks, D, windows)
        v = v.permute(0, 2, 1).reshape(-1, v.shape[1])
        v = v[v.sum(-1) > SILENT * c["context"]]
        u = v / v.sum(-1, keepdim=True)
        for j, vae in enumerate(sep.vaes):
            out[k, j] = vae.loss(u, c["beta"], c["kl"]).mean().item()  # z at q's mean
    return out


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    sep = separator(args)
    if args.crosslik:
        m = cross_loss(sep, args.root)
        lines = [f"loss per window (rows: true source, columns: prior) on {args.root} test stems"]
        lines += ["          " + "".join(f"{n:>9}" for n in SOURCES)]
        lines += [f"{n:>9} " + "".join(f"{x:9.1f}" for x in row) for n, row in zip(SOURCES, m)]
        margin = [min(m[k, j] for j in range(len(SOURCES)) if j != k) - m[k, k] for k in range(len(SOURCES))]
        lines += ["margin (nearest other prior minus own): "
                  + ", ".join(f"{n} {x:.1f}" for n, x in zip(SOURCES, margin))]
        Path(args.crosslik).write_text("\n".join(lines) + "\n")
        print("\n".join(lines), flush=True)
        return {"cross_loss": m.tolist()}
    results = bench_band(args.root, [sep], n=args.n, seconds=args.seconds,
                         seed=args.excerpt_seed, bss=args.bss, quiet=True, whole_tracks=args.whole_tracks)
    results["probe_settings"] = {k: v for k, v in vars(args).items() if k not in ("threads", "json")}
    print(format_table(results), flush=True)
    if args.json:
        save_json(results, args.json)
    return results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="folder of the probe's VAEs (trained where missing)")
    p.add_argument("--model", help="instead: a spectral VAE separator's checkpoint stem or bundled name")
    p.add_argument("--train-root", default="priors-work/band-data-multi/train", help="band training tracks")
    p.add_argument("--root", default="priors-work/band-data-multi/gmbank", help="evaluation tracks (test split)")
    p.add_argument("--n", type=int, default=48, help="excerpts (whole tracks: the first N; default all)")
    p.add_argument("--whole-tracks", action="store_true", help="whole test tracks, windows of --seconds")
    p.add_argument("--no-bss", dest="bss", action="store_false", help="SI-SDRi only, no museval")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--excerpt-seed", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--crops", type=int, default=256, help="solo crops per source")
    p.add_argument("--crop-seconds", type=float, default=4.0)
    p.add_argument("--n-fft", type=int, default=2048)
    p.add_argument("--hop", type=int, default=512)
    p.add_argument("--context", type=int, default=4)
    p.add_argument("--latent", type=int, default=32)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--kl", type=float, default=0.3, help="weight of the KL term (1: the ELBO)")
    p.add_argument("--beta", type=float, default=0.5, help="β of the divergence, training and fit")
    p.add_argument("--iterations", type=int, default=200, help="fit steps per mix")
    p.add_argument("--fit-lr", type=float, default=0.05)
    p.add_argument("--prior", type=float, default=0.3, help="weight of the latents' Gaussian prior in the fit")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="where the table's JSON goes")
    p.add_argument("--crosslik", help="write the cross-loss matrix of the VAEs on --root's test stems here instead")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
