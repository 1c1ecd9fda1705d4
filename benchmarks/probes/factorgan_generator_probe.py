"""Diagnostic: how far does the FactorGAN *generator* get when trained supervised?

FactorGAN trains its masking U-Net adversarially only; it cannot separate better than the same
network trained directly on paired stems. This script trains the generator with an L1 loss on the
source magnitudes (``--loss lin``) or log magnitudes (``--loss log``) and reports the median
SI-SDRi on the toy benchmark mixes every ``--every`` steps. On 2026-11-22 the default
architecture reached 1.4 dB after 300 steps and 3-7.5 dB after 600-1200 steps (one core,
batch 16), so the generator, not only the adversarial game, held FactorGAN below 5 dB:

    python benchmarks/probes/factorgan_generator_probe.py --steps 1200 --loss lin
    python benchmarks/probes/factorgan_generator_probe.py --steps 600 --loss lin --set features=16 max_features=64

Those runs were of the earlier thesis-style generator (2x2 max-pooling U-Net, n_fft 512, no harmonic
input); the current one (a HarmonicUNet on n_fft 1024) is measured by the same command, see
``benchmarks/results/baselines/README.md``.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from priorsep.baselines.factorgan import FactorGAN
from priorsep.data.toy import TOY_SAMPLE_RATE, TOY_SOURCES, ToyMixCrops, toy_eval_set
from priorsep.evaluation.metrics import si_sdr_improvement

from factorgan_training_probe import config_overrides  # a sibling script: --set KEY=JSON


def main(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    arch = config_overrides(args.set)
    model = FactorGAN(dict(sources=list(TOY_SOURCES), sample_rate=TOY_SAMPLE_RATE, mix_weights=[0.25] * 4, **arch))
    data = ToyMixCrops(model.train_samples, seed=args.seed)
    ev = toy_eval_set(args.n, args.length, seed=2026)
    opt = torch.optim.Adam(model.parameters(), args.lr)
    frames = int(model.config["train_frames"])
    records, t0 = [], time.time()
    for step in range(1, args.steps + 1):
        items = [data[step * args.batch_size + j] for j in range(args.batch_size)]
        mix = torch.stack([m for m, _ in items])
        src = torch.stack([s for _, s in items])
        masks, spec = model.generate(mix, torch.randn(args.batch_size, model.rows, frames))
        est, ref = model.generated_magnitudes(masks, spec), model.source_magnitudes(src)
        if args.loss == "log":
            loss = (torch.log1p(est) - torch.log1p(ref)).abs().mean()
        else:
            loss = (est - ref).abs().mean() / ref.abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % args.every == 0 or step == args.steps:
            model.eval()
            scores = np.array([si_sdr_improvement(np.stack(list(model.separate(ev.mixes[i]).values())), ev.sources[i],
                                                  ev.mixes[i]) for i in range(args.n)])
            model.train()
            rec = {"step": step, "loss": loss.item(), "median_si_sdri": float(np.median(scores)),
                   "per_source": np.median(scores, 0).round(2).tolist(), "seconds": round(time.time() - t0, 1)}
            records.append(rec)
            print(json.dumps(rec), flush=True)
    return records


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--every", type=int, default=100, help="evaluate every this many steps")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--loss", choices=["lin", "log"], default="lin")
    p.add_argument("--set", nargs="*", default=[], help="FactorGAN config overrides KEY=JSON, e.g. features=16")
    p.add_argument("--n", type=int, default=8, help="evaluation mixes")
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
