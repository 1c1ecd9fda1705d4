"""Experiment: fine-tune a prior so that silence scores below its own source (outlier exposure).

Adds a hinge term relu(log p(sigma eps)/T - log p(x + sigma eps)/T + margin) to maximum likelihood +
denoising score matching. Result (benchmarks/results/spectral/README.md): silence is pushed below
the source, but the separation did not improve.

    python benchmarks/probes/silence_margin_finetune.py triangle priors-work/toy-dct2/triangle /tmp/oe/triangle
"""
from __future__ import annotations

import argparse
import time

import torch

from priorsep.data.toy import ToySourceCrops
from priorsep.priors.io import load_prior, save_prior
from priorsep.schedule import sample_training_sigmas


def main(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    p = load_prior(args.init)
    p.train()
    ds = ToySourceCrops(args.source, args.crop, seed=2)
    opt = torch.optim.Adam(p.parameters(), args.lr)
    t0 = time.time()
    for step in range(args.steps):
        g = torch.Generator().manual_seed(step)
        x = torch.stack([ds[step * args.batch_size + j] for j in range(args.batch_size)])
        sig = sample_training_sigmas(args.batch_size, 0.01, 2.0, generator=g)
        eps = torch.randn(x.shape, generator=g)
        noisy = (x + sig[:, None] * eps).requires_grad_(True)
        lp = p.log_prob(noisy, sig)
        (score,) = torch.autograd.grad(lp.sum(), noisy, create_graph=True)
        dsm = (sig[:, None] * score + eps).pow(2).mean()
        lp0 = p.log_prob(sig[:, None] * torch.randn(x.shape, generator=g), sig)
        t = x.shape[1]
        hinge = torch.relu(lp0 / t - lp / t + args.margin).mean()
        loss = -(lp / t).mean() + dsm + hinge
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(step, round(-(lp / t).mean().item(), 3), round(dsm.item(), 3), round(hinge.item(), 3),
                  round(time.time() - t0), flush=True)
    save_prior(p.eval(), args.out)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source")
    p.add_argument("init", help="checkpoint stem to fine-tune (not modified)")
    p.add_argument("out", help="output checkpoint stem")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--margin", type=float, default=0.5, help="nats per sample")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--crop", type=int, default=4096)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--threads", type=int, default=1)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
