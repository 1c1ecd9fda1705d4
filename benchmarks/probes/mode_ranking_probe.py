"""Does the prior set's density rank the better separation first? Swap-and-refine candidates per mix.

The mask search can end in a wrong mode (two sources in each other's slots, or a cyclic swap).
For each mix this runs the prior set's default search, then builds 7 candidates from its
estimate (unchanged, and each of the 6 pair swaps of slots), refines all of them with a short
mask search from ``--refine-sigma`` down to the set's sigma_min (``init="variational"``, started
from the candidate), and prints each candidate's total log density per sample at several sigmas
next to its SI-SDRi. Selecting among such candidates by density only works if the density
prefers the candidate that is right:

    python benchmarks/probes/mode_ranking_probe.py --priors toy-wavenet --seed 7 --items 0,3

Writes one JSON line per mix to ``--log``.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import priorsep
from priorsep.checkpoint import append_log
from priorsep.data.toy import TOY_SOURCES, toy_eval_set
from priorsep.evaluation.metrics import si_sdr_improvement
from priorsep.separation.langevin import _log_densities, anneal
from priorsep.separation.config import make_config
from priorsep.seeding import seeded_generator
from priorsep.separation.polish import pair_swaps


def log_density(priors, s: torch.Tensor, sigmas) -> np.ndarray:
    """Total log density per sample of sources ``s (N, K, T)`` at each sigma, ``(N, len(sigmas))``."""
    return torch.stack([_log_densities(priors, s, sg).sum(1) / s.shape[-1] for sg in sigmas], 1).numpy()


def main(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    settings = json.loads(args.settings)
    items = [int(i) for i in args.items.split(",")]
    data = toy_eval_set(max(items) + 1, args.length, seed=args.seed)
    refine = make_config({**priors.sampler, **settings, "sigma_max": args.refine_sigma, "n_levels": args.refine_levels,
                          "steps_per_level": args.refine_steps, "init": "variational", "mask_assign": False})
    sigmas = args.sigmas
    out = []
    for i in items:
        t0 = time.perf_counter()
        est = priorsep.langevin_separate(data.mixes[i], priors=priors, seed=i, **settings)
        first = torch.from_numpy(np.stack([est[n] for n in TOY_SOURCES]))[None]
        perms = [tuple(range(len(TOY_SOURCES)))] + pair_swaps(len(TOY_SOURCES))  # the estimate, then its pair swaps
        cands = torch.cat([first[:, list(p)] for p in perms])
        mixes = torch.from_numpy(data.mixes[i])[None].expand(len(cands), -1).contiguous()
        with torch.no_grad():
            refined = anneal(priors, mixes, refine, seeded_generator(i), init_fn=lambda _: cands)
        lp = log_density(priors, refined, sigmas)
        sdri = np.stack([si_sdr_improvement(r.numpy(), data.sources[i], data.mixes[i]) for r in refined])
        truth = log_density(priors, torch.from_numpy(data.sources[i])[None], sigmas)[0]
        rec = {"priors": args.priors, "seed": args.seed, "item": i, "sigmas": sigmas,
               "truth_log_density": truth.round(2).tolist(),
               "first_si_sdri": np.round(
                   si_sdr_improvement(first[0].numpy(), data.sources[i], data.mixes[i]), 2).tolist(),
               "candidates": [{"perm": p, "log_density": lp[j].round(2).tolist(), "si_sdri": sdri[j].round(2).tolist(),
                               "median_si_sdri": round(float(np.median(sdri[j])), 2)} for j, p in enumerate(perms)],
               "seconds": round(time.perf_counter() - t0, 1)}
        best_sdr = int(np.argmax(np.median(sdri, 1)))
        rec["density_picks_best"] = [bool(np.argmax(lp[:, s]) == best_sdr) for s in range(len(sigmas))]
        print(f"item {i}: truth log density {truth.round(2)} at sigma {sigmas}; {rec['seconds']} s")
        for c in rec["candidates"]:
            print(f"  {c['perm']}: log density {np.round(c['log_density'], 2)}  SI-SDRi {np.round(c['si_sdri'], 1)} "
                  f"(median {c['median_si_sdri']})", flush=True)
        append_log(args.log, [rec])
        out.append(rec)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", default="toy-wavenet")
    p.add_argument("--seed", type=int, default=7, help="data seed")
    p.add_argument("--items", default="0,3", help="comma-separated item indices")
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--settings", default="{}", help="JSON LangevinConfig overrides for both searches")
    p.add_argument("--refine-sigma", type=float, default=0.05)
    p.add_argument("--refine-levels", type=int, default=5)
    p.add_argument("--refine-steps", type=int, default=2)
    p.add_argument("--sigmas", type=float, nargs="+", default=[0.01, 0.02, 0.05, 0.1])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log", default="benchmarks/results/wavenet/mode_ranking.jsonl")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
