"""Diagnostic: FactorGAN adversarial training, scored as it goes.

Trains :func:`priorsep.training.factorgan.train_factorgan` in slices of ``--every`` steps (one
``--steps``-step schedule, resumed from its own checkpoint) and after each slice prints the median
SI-SDRi on ``--n`` toy benchmark mixes of the saved weight average (``ema``) and of the raw
generator (``raw``, with its per-source medians), plus the slice's mean losses (BCE in nats; 0.693 is
a discriminator at chance). A collapse shows as sources near -30 dB or below: their slots went silent.

``--init-encoder STEM`` starts the generator from a variational ``MaskEncoder`` of the same trunk
(e.g. the bundled ``priorsep/priors/bundled/toy-wavenet/encoder``, taught by the Langevin separator,
no stems), its noise channel's weights at zero: a test of whether adversarial training keeps a
good separation it starts from (it did, run g9) when it cannot find one from uniform masks.
The 2026-11-23 runs (``benchmarks/results/baselines/README.md``) were, e.g.:

    python benchmarks/probes/factorgan_training_probe.py --out /tmp/fg --steps 6000 --every 100 \\
        --lr 1e-4 --d-lr 4e-4 --aux-negatives 0.5 --d-warmup 100 --r1 0
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from priorsep.baselines.factorgan import FactorGAN
from priorsep.baselines.io import load_baseline
from priorsep.checkpoint import side_file
from priorsep.data.toy import TOY_SAMPLE_RATE, TOY_SOURCES, ToyMixCrops, ToySourceCrops, toy_eval_set
from priorsep.errors import ConfigError
from priorsep.experimental.factorgan import R1Penalty, discriminators_for
from priorsep.evaluation.metrics import si_sdr_improvement
from priorsep.encoders import load_encoder
from priorsep.training.factorgan import train_factorgan


def config_overrides(pairs: list[str]) -> dict:
    """``["KEY=JSON", ...]`` (the FactorGAN scripts' ``--set``) -> ``{KEY: value}``."""
    bad = [kv for kv in pairs if "=" not in kv]
    if bad:
        raise ConfigError(f"--set takes KEY=JSON pairs (e.g. disc_level=true), got {bad}")
    return {k: json.loads(v) for k, v in (kv.split("=", 1) for kv in pairs)}


def init_from_encoder(model: FactorGAN, stem: str) -> None:
    """Copy a MaskEncoder's trunk into ``model.generator`` (the extra noise input channel gets zero weights)."""
    enc = load_encoder(stem)
    c = model.config
    same = {k: (enc.config.get(k), c[k2]) for k, k2 in (("n_fft", "n_fft"), ("hop", "hop"), ("hidden", "features"),
                                                           ("levels", "levels"), ("harmonics", "harmonics"),
                                                           ("position", "position"))}
    if any(a != b for a, b in same.values()) or len(enc.config["weights"]) != len(model.names):
        raise ConfigError(f"encoder {stem} does not match the generator (encoder, generator): {same}")
    keys = model.generator.state_dict().keys()
    state = {k: v for k, v in enc.state_dict().items() if k in keys}
    start = torch.zeros_like(model.generator.start.weight)
    start[:, :state["start.weight"].shape[1]] = state["start.weight"]
    model.generator.load_state_dict({**state, "start.weight": start})


def main(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    arch = config_overrides(args.set)
    model = FactorGAN(dict(sources=list(TOY_SOURCES), sample_rate=TOY_SAMPLE_RATE, mix_weights=[0.25] * 4, **arch))
    if args.init_encoder:
        init_from_encoder(model, args.init_encoder)
    if args.init:  # e.g. the supervised warm start of an earlier run, to try adversarial settings from it
        init = load_baseline(args.init)
        if init.config["n_fft"] != model.config["n_fft"] or init.names != model.names:
            raise ConfigError(f"{args.init} is not a FactorGAN of this configuration")
        model.load_state_dict(init.state_dict())
    n = model.train_samples
    solo = [ToySourceCrops(s, n, seed=args.seed) for s in TOY_SOURCES]
    pairs = ToyMixCrops(args.pair_length or n, seed=args.seed, size=args.paired)
    val = ToyMixCrops(args.length, seed=args.seed + 10_000, size=args.val_items) if args.val_items else None
    ev = toy_eval_set(args.n, args.length, seed=2026)

    def scores(m: FactorGAN) -> np.ndarray:
        return np.array([si_sdr_improvement(np.stack(list(m.separate(ev.mixes[i]).values())), ev.sources[i],
                                            ev.mixes[i]) for i in range(args.n)])

    kw = dict(batch_size=args.batch_size, lr=args.lr, d_lr=args.d_lr, d_steps=args.d_steps,
              d_penalty=R1Penalty(args.r1) if args.r1 else None, discriminators=discriminators_for(model.config),
              aux_negatives=args.aux_negatives, d_warmup=args.d_warmup, seed=args.seed,
              supervised_steps=args.supervised_steps, supervised_lr=args.supervised_lr,
              supervised_weight=args.supervised_weight, val_set=val)
    records = []
    for stop in range(args.every, args.steps + 1, args.every):
        t0 = time.time()
        log = train_factorgan(model, solo, pairs, args.out, steps=args.steps, stop_after=stop, quiet=True,
                              checkpoint_every=args.every, **kw)
        seconds = time.time() - t0
        state = torch.load(side_file(args.out, ".train.pt"), weights_only=True)
        raw = FactorGAN(model.config)
        raw.load_state_dict(state["model"])
        if val is not None:  # score the latest weight average, not the best-validated one train_factorgan returns
            model.load_state_dict(state["ema"])
        s_ema, s_raw = scores(model), scores(raw)
        last = [r for r in log if r["step"] > stop - args.every]
        g = [r["g"] for r in last if r["g"] is not None]
        mse = [r["supervised_mse"] for r in last if r.get("supervised_mse") is not None]
        rec = {"step": stop, "s_per_step": round(seconds / args.every, 3), "ema": round(float(np.median(s_ema)), 2),
               "raw": round(float(np.median(s_raw)), 2), "raw_per_source": np.median(s_raw, 0).round(1).tolist(),
               **{key: round(float(np.mean(v)), 3) if (v := [r[key] for r in last if r[key] is not None]) else None
                  for key in ("d_marginal", "d_p", "d_q")},
               "g": round(float(np.mean(g)), 3) if g else None,
               "supervised_mse": round(float(np.mean(mse)), 5) if mse else None,
               "val": last[-1].get("val_si_sdri")}
        records.append(rec)
        print(json.dumps(rec), flush=True)
    return records


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="checkpoint stem of the run (resumed if it exists)")
    p.add_argument("--steps", type=int, default=6000, help="length of the training schedule")
    p.add_argument("--every", type=int, default=100, help="score every this many steps")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--d-lr", type=float, default=None)
    p.add_argument("--d-steps", type=int, default=1)
    p.add_argument("--r1", type=float, default=1.0, help="gamma of the experimental R1 penalty (0: none)")
    p.add_argument("--aux-negatives", type=float, default=0.0)
    p.add_argument("--d-warmup", type=int, default=0)
    p.add_argument("--paired", type=int, default=1000)
    p.add_argument("--pair-length", type=int, default=0,
                   help="samples per paired item (0: one training crop; the CLI uses 16384)")
    p.add_argument("--supervised-steps", type=int, default=0, help="supervised warm start of the generator")
    p.add_argument("--supervised-lr", type=float, default=1e-3)
    p.add_argument("--supervised-weight", type=float, default=0.0, help="that MSE's weight in the adversarial stage")
    p.add_argument("--val-items", type=int, default=0,
                   help="held-out paired items (--length samples) scored at every slice (`val`)")
    p.add_argument("--init-encoder", metavar="STEM", help="start the generator from this MaskEncoder checkpoint")
    p.add_argument("--init", metavar="STEM", help="start the generator from this FactorGAN checkpoint")
    p.add_argument("--set", nargs="*", default=[], help="FactorGAN config overrides KEY=JSON, e.g. spec_gain=100")
    p.add_argument("--n", type=int, default=8, help="evaluation mixes")
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
