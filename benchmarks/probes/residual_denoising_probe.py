"""Probe: separation by annealed residual denoising (plug-and-play) instead of Langevin.

At each noise level sigma of a geometric schedule, every source's denoiser sees the clean
residual attributed to it, plus fresh noise, and its output becomes the source estimate:

* ``--order jacobi``: all sources at once, x_k = s_k + (m - sum_j w_j s_j) / (K w_k);
* ``--order gauss-seidel``: one source after the other, x_k = (m - sum_{j != k} w_j s_j) / w_k.

The estimates start at zero and are projected onto the mixture constraint at the end. This
shows each prior the *noiseless* mixture evidence, which the Langevin approximations of
p(m | x_sigma) hide under the noise. It needs priors that can pull their source out of a
mixture (denoiser priors with global context, ``benchmarks/results/denoiser/``):

    python benchmarks/probes/residual_denoising_probe.py --priors priors-work/toy-dn-gc-om --order jacobi
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import priorsep
from priorsep.data.toy import toy_eval_set
from priorsep.evaluation.metrics import si_sdr_improvement
from priorsep.mixing import mix
from priorsep.schedule import geometric_sigmas
from priorsep.separation.langevin import _project


@torch.no_grad()
def residual_denoise(priors, m: torch.Tensor, sigmas: list[float], order: str,
                     generator: torch.Generator) -> torch.Tensor:
    """Sources ``(B, K, T)`` for mixes ``m (B, T)``; every prior needs a ``denoise(x, sigma)``."""
    w = torch.tensor(priors.weights, dtype=m.dtype)
    k_all = len(priors)
    s = torch.zeros(m.shape[0], k_all, m.shape[-1], dtype=m.dtype)
    for sigma in sigmas:
        if order == "gauss-seidel":
            for k in range(k_all):
                r = (m - mix(s, priors.weights) + w[k] * s[:, k]) / w[k]
                s[:, k] = priors.priors[k].denoise(r + sigma * torch.randn(r.shape, generator=generator), sigma)
        else:
            x = s + (m - mix(s, priors.weights))[:, None] / (w[:, None] * k_all)
            s = torch.stack([priors.priors[k].denoise(x[:, k] + sigma * torch.randn(m.shape, generator=generator),
                                                      sigma)
                             for k in range(k_all)], 1)
    return _project(s, w, m)


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    ev = toy_eval_set(args.n, args.length, seed=args.seed)
    sigmas = geometric_sigmas(args.sigma_max, args.sigma_min, args.n_levels).tolist()
    scores, t0 = [], time.perf_counter()
    for i in range(args.n):
        est = residual_denoise(priors, torch.from_numpy(ev.mixes[i:i + 1]), sigmas, args.order,
                               torch.Generator().manual_seed(i))
        scores.append(si_sdr_improvement(est[0].numpy(), ev.sources[i], ev.mixes[i]))
        print(f"mix {i}: SI-SDRi {np.round(scores[-1], 1).tolist()}", flush=True)
    scores = np.array(scores)
    out = {"median_si_sdri": float(np.median(scores)), "per_source": np.median(scores, 0).round(2).tolist(),
           "seconds_per_mix": (time.perf_counter() - t0) / args.n}
    print(out)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", required=True, help="a prior set whose priors can denoise (denoiser family)")
    p.add_argument("--order", choices=["jacobi", "gauss-seidel"], default="jacobi")
    p.add_argument("--sigma-max", type=float, default=3.0)
    p.add_argument("--sigma-min", type=float, default=0.01)
    p.add_argument("--n-levels", type=int, default=30)
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--seed", type=int, default=99, help="data seed")
    p.add_argument("--threads", type=int, default=2)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
