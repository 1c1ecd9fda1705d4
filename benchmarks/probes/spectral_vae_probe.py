"""A deep spectral prior per source, fitted to the mixture as the NMF dictionaries are: is depth worth it?

Per band source, a small VAE over magnitude STFT frames, trained on that source's solo frames alone
(every ``--frame-step``-th non-silent frame of the training tracks, as ``nmf_settings_probe.py``):
the encoder sees the frame's log shape, the decoder gives a spectral shape (softmax over bins) and
the frame's gain is given, so the prior is over shapes only. Reconstruction: the β-divergence.
Separation of each validation excerpt fits per frame and source a latent z (penalty ``--z-weight``
* |z|^2 / 2, the prior's) and a log gain to the mix's magnitude by Adam under the same divergence,
then splits the STFT by masks of power ``--mask-power``. ``--shapes S``: each source's frame is a
sum of S decoded shapes, each with its own latent and gain. Prints the median SI-SDRi [IQR] and per
source. Runs in the results of ``benchmarks/results/band_nmf/spectral_vae.txt``:

    python benchmarks/probes/spectral_vae_probe.py --steps 2000 --mask-power 2
    python benchmarks/probes/spectral_vae_probe.py --steps 2000
    python benchmarks/probes/spectral_vae_probe.py --steps 2000 --latent 16 --fit-steps 500
    python benchmarks/probes/spectral_vae_probe.py --steps 2000 --shapes 4
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from priorsep.data.band import BAND_SOURCES
from priorsep.data.multitrack import multitrack_tracks
from priorsep.dsp.stft import istft, stft
from priorsep.evaluation.band_benchmark import _read_stems, band_benchmark_set
from priorsep.evaluation.metrics import si_sdr_improvement

EPS = 1e-8


def bdiv(v: torch.Tensor, wh: torch.Tensor, beta: float) -> torch.Tensor:
    """Summed β-divergence (β = 1: Kullback-Leibler)."""
    v, wh = v + EPS, wh + EPS
    if beta == 1:
        return (v * torch.log(v / wh) - v + wh).sum()
    return ((v ** beta + (beta - 1) * wh ** beta - beta * v * wh ** (beta - 1)) / (beta * (beta - 1))).sum()

class VAE(nn.Module):
    def __init__(self, f, d, h):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(f, h), nn.ELU(), nn.Linear(h, h), nn.ELU(), nn.Linear(h, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, h), nn.ELU(), nn.Linear(h, h), nn.ELU(), nn.Linear(h, f))
    def shape(self, z: torch.Tensor) -> torch.Tensor:
        """Latents ``(..., D)`` -> spectral shapes ``(..., F)``, positive, summing to 1."""
        return torch.softmax(self.dec(z), -1)

def frames(args):
    tracks = multitrack_tracks(args.train_root, 'train', BAND_SOURCES)
    stems = [_read_stems(t) for t in tracks]
    out = []
    for k in range(4):
        v = torch.cat([stft(torch.from_numpy(x[k]).float(), args.n_fft, args.hop).abs() for x in stems], -1)
        v = v[:, v.sum(0) > 1e-3][:, ::args.frame_step]
        out.append(v.T.contiguous())  # (N, F)
    return out

def train(v, args, seed):
    torch.manual_seed(seed)
    m = VAE(v.shape[1], args.latent, args.hidden)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    gain = v.sum(1, keepdim=True)
    feats = torch.log1p(v / (gain + EPS) * v.shape[1])
    for step in range(args.steps):
        i = torch.randint(0, len(v), (args.batch,))
        mu, logv = m.enc(feats[i]).chunk(2, -1)
        z = mu + torch.randn_like(mu) * (0.5 * logv).exp()
        rec = bdiv(v[i], gain[i] * m.shape(z), args.beta) / args.batch
        kl = 0.5 * (mu ** 2 + logv.exp() - logv - 1).sum() / args.batch
        loss = rec + args.kl * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 500 == 0:
            print(step, round(rec.item(), 4), round(kl.item(), 2), flush=True)
    return m.eval()

def separate(models, x, args):
    """Fit ``--shapes`` latents and gains per frame and source to the mix (``x (T,)``), then mask."""
    spec = stft(x, args.n_fft, args.hop)
    v = spec.abs().T  # (N, F)
    n, K, S = len(v), len(models), args.shapes
    if S == 1:
        z = torch.zeros(K, S, n, args.latent)
    else:  # distinct starts, else the S shapes of a source stay identical
        z = 0.5 * torch.randn(K, S, n, args.latent, generator=torch.Generator().manual_seed(0))
    z.requires_grad_(True)
    g = torch.full((K, S, n, 1), float(torch.log(v.sum(1).mean() / (K * S) + EPS)), requires_grad=True)
    opt = torch.optim.Adam([z, g], args.fit_lr)
    for m in models:
        m.requires_grad_(False)

    def source_parts():  # (K, N, F)
        return torch.stack([(g[k].exp() * models[k].shape(z[k])).sum(0) for k in range(K)])

    for _ in range(args.fit_steps):
        loss = bdiv(v, source_parts().sum(0), args.beta) + args.z_weight * 0.5 * (z ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        parts = source_parts().transpose(1, 2)  # K F N
        masks = parts ** args.mask_power / (parts ** args.mask_power).sum(0, keepdim=True).clamp_min(EPS)
        return istft(masks * spec, args.n_fft, args.hop, x.shape[-1])


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    vs = frames(args)
    models = []
    for k, v in enumerate(vs):
        t0 = time.time()
        models.append(train(v, args, k))
        print(BAND_SOURCES[k], tuple(v.shape), f'{time.time() - t0:.0f}s', flush=True)
    data = band_benchmark_set(args.root, args.seconds, args.n, seed=0)
    order = [data.names.index(n) for n in BAND_SOURCES]
    res, t0 = [], time.time()
    for i in range(len(data.mixes)):
        est = separate(models, torch.from_numpy(data.mixes[i]).float(), args).numpy()
        res.append(si_sdr_improvement(est, data.sources[i][order], data.mixes[i]))
    res = np.array(res)
    print(vars(args), 'median', np.median(res).round(2), 'IQR', np.percentile(res, [25, 75]).round(2),
          'per source', np.median(res, 0).round(2), f'{(time.time() - t0) / len(res) / args.seconds:.2f} s/s',
          flush=True)
    return {'median': float(np.median(res)), 'per_source': np.median(res, 0).tolist()}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for k, v in dict(n_fft=2048, hop=512, frame_step=4, latent=8, hidden=256, steps=3000, batch=256, beta=0.5, kl=1.0,
                     fit_steps=300, fit_lr=0.05, z_weight=1.0, n=16, mask_power=1.0, seconds=4.0, threads=2,
                     shapes=1).items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    p.add_argument("--train-root", default="priors-work/band-data/fluidr3")
    p.add_argument("--root", default="priors-work/band-data-multi/gmbank", help="validation band data")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
