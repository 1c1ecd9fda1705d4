"""How good is each prior's score? SI-SDR of a noisy source before and after one Tweedie step.

The Langevin sampler only ever sees the score, so a prior whose Tweedie denoiser
x + sigma^2 * score barely improves on x cannot guide the separation, however discriminative
its likelihood. Compare prior sets, e.g. maximum-likelihood only vs fine-tuned with DSM:

    python benchmarks/probes/tweedie_gain.py --priors toy priors-work/toy/nll

``--input mixture`` starts from the separator's first state instead, the mixture's minimum-norm
share m w_k / |w|^2 plus noise, and the gain is over the noiseless share (an SI-SDR
improvement): does the prior pull *its* source out of a mixture, or keep it all?
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import priorsep
from priorsep.data.toy import TOY_MIXING, TOY_SOURCES, toy_eval_set
from priorsep.evaluation.metrics import si_sdr
from priorsep.mixing import minimum_norm_split, mixing_weights


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    ev = toy_eval_set(args.n, args.length, seed=args.seed)
    out = {}
    for spec in args.priors:
        priors = priorsep.load_priors(spec)
        reference = "noisy x" if args.input == "source" else "the noiseless mixture share"
        print(f"\n{spec}: SI-SDR gain (dB) of x + sigma^2 score over {reference} ({args.input} input), "
              f"median over {args.n} items")
        start = (torch.from_numpy(ev.sources) if args.input == "source"
                 else minimum_norm_split(torch.from_numpy(ev.mixes), mixing_weights(TOY_MIXING, len(TOY_SOURCES))))
        print(f"{'source':<10}" + "".join(f"{f'sigma={s:g}':>12}" for s in args.sigmas))
        for p in priors:
            k = TOY_SOURCES.index(p.name)
            gen = torch.Generator().manual_seed(0)
            clean = torch.from_numpy(ev.sources[:, k])
            gains = []
            for sigma in args.sigmas:
                noisy = start[:, k] + sigma * torch.randn(clean.shape, generator=gen)
                g, _ = p.score(noisy, sigma)
                den = noisy + sigma**2 * g
                # mixture input: the gain over the noiseless share (an SI-SDR improvement), not over the noise
                before = noisy if args.input == "source" else start[:, k]
                gains.append(float(np.median(si_sdr(den.numpy(), clean.numpy())
                                             - si_sdr(before.numpy(), clean.numpy()))))
            out[(spec, p.name)] = gains
            print(f"{p.name:<10}" + "".join(f"{x:>12.1f}" for x in gains))
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", nargs="+", default=["toy"])
    p.add_argument("--sigmas", type=float, nargs="+", default=[1.0, 0.5, 0.2, 0.05])
    p.add_argument("--input", choices=["source", "mixture"], default="source",
                   help="denoise each source plus noise, or the mixture's share plus noise")
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--length", type=int, default=4096)
    p.add_argument("--seed", type=int, default=99)
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
