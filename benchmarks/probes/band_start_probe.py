"""Is the band search limited by its priors or by where it starts? The same search from several starts.

For each 4-s band excerpt the prior set's mask search runs from:

* ``mixture``: the default start (every source an equal share of the mix);
* ``oracle``: the true sources (their ratio mask): if the search *leaves* the truth and ends near
  the mixture start's score, the priors' high-density state is not the truth and better search
  cannot help, the priors must improve; if it keeps the truth, the priors are fine and the start
  is what fails;
* ``baseline``: a supervised separator's estimates (``--baseline``, default ``waveunet-band``):
  does a prior refinement improve on them?
* ``search``: the result of the set's own default search (``priorset.json``, from the mixture):
  a second stage with other settings (``--set``) after it.
* ``blendA`` (``--blend A ...``): the truth blended with the mixture start, A * s + (1 - A) * m w / |w|^2:
  how close to the truth must a start be for the search to reach the truth's mode?

Each start runs the same schedule (the set's ``priorset.json`` settings, overridden by
``--set key=value``; ``--set space=signal`` runs signal-space Langevin instead), on whole
excerpts (not the 16384-sample chunks of ``bench band``), all starts of an excerpt in one batch.
Prints and logs, per start, the SI-SDRi of the start itself (as the soft mask the search starts
from) and of the search's result, and the total log density per sample (at the schedule's last
sigma) of the start, the result and the truth: a result rated above the truth means the priors,
not the search, put the mode elsewhere:

    python benchmarks/probes/band_start_probe.py --root priors-work/band-data-multi/gmbank --n 4
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

import priorsep
from priorsep.checkpoint import append_log
from priorsep.evaluation.band_benchmark import band_benchmark_set
from priorsep.evaluation.metrics import si_sdr_improvement
from priorsep.mixing import minimum_norm_split
from priorsep.seeding import seeded_generator
from priorsep.separation.config import make_config
from priorsep.dsp.masks import masked_sources
from priorsep.dsp.stft import stft
from priorsep.separation.langevin import _log_densities, anneal
from priorsep.separation.mask_space import initial_logits

STARTS = ("mixture", "oracle", "baseline", "search")


def as_masks(starts: torch.Tensor, mixes: torch.Tensor, weights: list[float], config) -> torch.Tensor:
    """What the search actually starts from: ``starts (B, K, T)`` as soft masks of the mixes
    (for the oracle start, the magnitude ratio mask of the true sources, not the sources)."""
    n_fft, hop = config.mask.n_fft, config.mask.hop
    spec = stft(mixes, n_fft, hop)
    w = torch.tensor(weights, dtype=mixes.dtype)
    theta = initial_logits(mixes, w, spec.shape[-2], spec.shape[-1], "variational", None, starts, n_fft, hop)
    return masked_sources(theta, spec, w, n_fft, hop, mixes.shape[-1])


def parse_settings(pairs: list[str]) -> dict:
    """``["sigma_max=0.02", "n_levels=8"]`` -> ``{"sigma_max": 0.02, "n_levels": 8}`` (values read as JSON)."""
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def summarize(records: list[dict], title: str = "") -> dict:
    """Per start: median [interquartile range] SI-SDRi over (excerpt, source) of the start and the
    result, and the median over excerpts of the log densities per sample minus the truth's."""
    out = {}
    for name in (n for n, v in records[0].items() if isinstance(v, dict) and "searched" in v):
        row = {"n": len(records)}
        for key in ("start", "searched"):
            v = np.concatenate([r[name][key] for r in records])
            row[key] = [round(float(x), 2) for x in (np.median(v), *np.percentile(v, [25, 75]))]
        if all("log_density" in r[name] for r in records):
            row["density_over_truth"] = [round(float(np.median([r[name]["log_density"][j] - r["truth_log_density"]
                                                                 for r in records])), 2) for j in (0, 1)]
        row["searched_per_source"] = np.median([r[name]["searched"] for r in records], 0).round(2).tolist()
        if all("source_log_density" in r[name] for r in records):  # per source: which prior's rating is off
            row["source_density_over_truth"] = np.median(
                [np.subtract(r[name]["source_log_density"], r["truth_source_log_density"]) for r in records],
                0).round(2).tolist()
        out[name] = row
        print(f"{title}{name:>8} ({len(records)} excerpts): start {row['start'][0]:.2f} -> searched "
              f"{row['searched'][0]:.2f} [{row['searched'][1]:.2f}, {row['searched'][2]:.2f}]"
              + (f"; log density over the truth's {row['density_over_truth'][0]:+.2f} -> "
                 f"{row['density_over_truth'][1]:+.2f} nats/sample" if "density_over_truth" in row else "")
              + f"; per source ({', '.join(records[0]['sources'])}): SI-SDRi {row['searched_per_source']}"
              + (f", density over the truth's {row['source_density_over_truth']}"
                 if "source_density_over_truth" in row else ""))
    return out


def main(args: argparse.Namespace) -> list[dict]:
    if args.summarize:
        for path in args.summarize:
            with open(path) as f:
                summarize([json.loads(line) for line in f if line.strip()], f"{path}: ")
        return []
    if not args.root:
        raise SystemExit("--root is required (unless --summarize)")
    torch.set_num_threads(args.threads)
    args.starts = list(args.starts) + [f"blend{a:g}" for a in args.blend]
    priors = priorsep.load_priors(args.priors)
    settings = parse_settings(args.set)
    config = make_config({**settings, "init": "variational"}, priors.sampler)
    default = make_config({}, priors.sampler)
    data = band_benchmark_set(args.root, args.seconds, args.n, seed=args.seed)
    order = [data.names.index(n) for n in priors.names]
    baseline = priorsep.baselines.load(args.baseline) if "baseline" in args.starts else None
    out = []
    for i in range(len(data.mixes)):
        mix, truth = torch.from_numpy(data.mixes[i]), data.sources[i][order]
        split = minimum_norm_split(mix[None], priors.weights)[0]  # the search's default start
        starts = []
        for name in args.starts:
            if name == "mixture":
                starts.append(split)
            elif name == "oracle":
                starts.append(torch.from_numpy(truth))
            elif name.startswith("blend"):
                a = float(name[len("blend"):])
                starts.append(a * torch.from_numpy(truth) + (1 - a) * split)
            elif name == "search":
                with torch.no_grad():
                    starts.append(anneal(priors, mix[None], default, seeded_generator(args.seed * 1000 + i))[0])
            else:
                est = baseline.separate(data.mixes[i])
                starts.append(torch.from_numpy(np.stack([est[n] for n in priors.names])))
        starts = torch.stack(starts).float()
        mixes = mix[None].expand(len(starts), -1).contiguous()
        t0 = time.perf_counter()
        with torch.no_grad():
            found = anneal(priors, mixes, config, seeded_generator(args.seed * 1000 + i), init_fn=lambda _: starts)
        seconds = time.perf_counter() - t0
        masked = as_masks(starts, mixes, priors.weights, config)
        sigma = config.schedule.sigma_min  # the densities the search ends at, per sample
        per_source = lambda s: (_log_densities(priors, s, sigma) / s.shape[-1]).numpy()  # noqa: E731
        src_start, src_found = per_source(masked), per_source(found)
        src_truth = per_source(torch.from_numpy(truth)[None])
        lp_start, lp_found, lp_truth = src_start.sum(1), src_found.sum(1), src_truth.sum(1)
        rec = {"priors": args.priors, "root": args.root, "item": i, "settings": settings, "sources": priors.names,
               "seconds": round(seconds, 1), "truth_log_density": round(float(lp_truth[0]), 3),
               "truth_source_log_density": src_truth[0].round(3).tolist()}
        for j, name in enumerate(args.starts):
            before = si_sdr_improvement(masked[j].numpy(), truth, data.mixes[i])
            after = si_sdr_improvement(found[j].numpy(), truth, data.mixes[i])
            rec[name] = {"start": np.round(before, 2).tolist(), "searched": np.round(after, 2).tolist(),
                         "log_density": [round(float(lp_start[j]), 3), round(float(lp_found[j]), 3)],
                         "source_log_density": src_found[j].round(3).tolist()}
            print(f"item {i} {name:>8}: start {np.round(before, 1)} -> searched {np.round(after, 1)}; log density "
                  f"per sample {lp_start[j]:.3f} -> {lp_found[j]:.3f} (truth {lp_truth[0]:.3f})", flush=True)
        if args.log:
            append_log(args.log, [rec])
        out.append(rec)
    summarize(out)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", help="band data folder with test/<track>/<source>.wav")
    p.add_argument("--priors", default="band")
    p.add_argument("--baseline", default="waveunet-band")
    p.add_argument("--starts", nargs="*", choices=STARTS, default=list(STARTS[:3]))
    p.add_argument("--blend", type=float, nargs="*", default=[], metavar="A",
                   help="also start from A * truth + (1 - A) * the mixture start, for each A in (0, 1)")
    p.add_argument("--n", type=int, default=4, help="excerpts")
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0, help="excerpt positions and the search's noise")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="sampler settings over the set's")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log", default="", help="append one JSON line per excerpt here")
    p.add_argument("--summarize", nargs="+", metavar="LOG", help="only print the summaries of these logs")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
