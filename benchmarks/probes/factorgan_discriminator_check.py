"""Diagnostic: what FactorGAN's marginal discriminators accept, after training them against a fixed generator.

Trains the discriminators alone (``train_factorgan`` with ``d_warmup = steps``: the generator does
not move) for ``--steps`` steps against the generator of ``--init`` (default: the bundled
``factorgan-toy``), then prints the mean logit of every marginal discriminator d_k on held-out real
crops of each source, on silence, and on that generator's own estimate of source k. A generator
moves towards whatever its discriminators rate highest: where silence or another source scores
above the generator's estimates, adversarial updates empty a slot or swap sources
(``benchmarks/results/baselines/README.md``).

    python benchmarks/probes/factorgan_discriminator_check.py --steps 200 --aux-negatives 0.5
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from priorsep import baselines
from priorsep.baselines.factorgan import FactorGAN
from priorsep.checkpoint import side_file
from priorsep.data.toy import TOY_SOURCES, ToyMixCrops, ToySourceCrops
from priorsep.errors import ConfigError
from priorsep.experimental.factorgan import discriminators_for
from priorsep.training.factorgan import train_factorgan

from factorgan_training_probe import config_overrides  # a sibling script: --set KEY=JSON


def main(args: argparse.Namespace) -> dict[str, list[float]]:
    """Returns ``{d_k: [logit on real sine, square, sawtooth, triangle, silence, the generator's source k]}``."""
    torch.set_num_threads(args.threads)
    init = baselines.load(args.init)
    if init.kind != "factorgan" or list(init.names) != list(TOY_SOURCES):
        raise ConfigError(f"{args.init} is not a toy FactorGAN")
    arch = config_overrides(args.set)
    model = FactorGAN({**init.config, **arch})
    model.load_state_dict(init.state_dict())
    n = model.train_samples
    solo = [ToySourceCrops(s, n, seed=args.seed) for s in TOY_SOURCES]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "check"
        train_factorgan(model, solo, ToyMixCrops(n, seed=args.seed, size=args.items), out, steps=args.steps,
                        d_warmup=args.steps, batch_size=args.batch_size, d_lr=args.d_lr,
                        discriminators=discriminators_for(model.config),
                        aux_negatives=args.aux_negatives, seed=args.seed, checkpoint_every=args.steps, quiet=True)
        discs = discriminators_for(model.config)(model.config)
        discs.load_state_dict(torch.load(side_file(out, ".train.pt"), weights_only=True)["discriminators"])
    discs.eval()
    held_out = [ToySourceCrops(s, n, seed=args.seed + 99) for s in TOY_SOURCES]
    real = torch.stack([torch.stack([ds[i] for i in range(args.items)]) for ds in held_out], 1)  # (B, K, T)
    mixes = ToyMixCrops(n, seed=args.seed + 77, size=args.items)
    mix = torch.stack([mixes[i][0] for i in range(args.items)])
    g = torch.Generator().manual_seed(args.seed)
    table = {}
    with torch.no_grad():
        masks, spec = model.generate(mix, torch.randn(args.items, model.rows, int(model.config["train_frames"]),
                                                      generator=g))
        generated = discs.marginal_logits(discs.features(model.generated_magnitudes(masks, spec))).mean(0)
        inputs = [real[:, j:j + 1] for j in range(len(TOY_SOURCES))] + [torch.zeros_like(real[:, :1])]
        feats = [discs.features(model.source_magnitudes(x)) for x in inputs]  # (B, 1, rows, frames) each
        for k, (name, d) in enumerate(zip(TOY_SOURCES, discs.marginal)):
            row = [d(f).mean().item() for f in feats]
            table[f"d_{name}"] = [round(v, 2) for v in row + [generated[k].item()]]
    print("mean logit of each marginal discriminator (rows) on real " + ", ".join(TOY_SOURCES)
          + ", silence, and the generator's estimate of its own source")
    for name, row in table.items():
        print(f"{name:11s}" + "".join(f"{v:8.2f}" for v in row))
    return table


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--init", default="factorgan-toy", help="FactorGAN checkpoint stem or bundled name (the generator)")
    p.add_argument("--steps", type=int, default=200, help="discriminator-only training steps")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--d-lr", type=float, default=4e-4)
    p.add_argument("--aux-negatives", type=float, default=0.5)
    p.add_argument("--items", type=int, default=64, help="held-out crops per row (and paired items for d_p)")
    p.add_argument("--set", nargs="*", default=[], help="discriminator config overrides KEY=JSON, e.g. disc_level=true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
