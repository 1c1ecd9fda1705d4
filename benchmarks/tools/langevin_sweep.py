"""Sweep Langevin settings on fresh toy mixes: median SI-SDRi and seconds per mix per setting.

    python benchmarks/tools/langevin_sweep.py --n 4 --grid '[{"steps_per_level": 30}, {"n_chains": 4}]'

Each grid entry overrides LangevinConfig defaults; results are appended as JSON lines to --log.
``--plot PNG``: afterwards, every record in --log as a point of median SI-SDRi (bars: the
interquartile range over all source estimates) against seconds per mix; ``--grid '[]'`` only plots.
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


def main(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(args.threads)
    priors = priorsep.load_priors(args.priors)
    data = toy_eval_set(args.n, args.length, seed=args.seed)
    out = []
    for settings in json.loads(args.grid):
        sdri, seconds = [], []
        for i in range(args.n):
            t0 = time.perf_counter()
            est = priorsep.langevin_separate(data.mixes[i], priors=priors, seed=i, encoder=args.encoder, **settings)
            seconds.append(time.perf_counter() - t0)
            sdri.append(si_sdr_improvement(np.stack([est[n] for n in TOY_SOURCES]), data.sources[i], data.mixes[i]))
        sdri = np.array(sdri)
        rec = {"settings": settings, "median_si_sdri": float(np.median(sdri)),
               "per_source": np.median(sdri, 0).round(2).tolist(), "per_item": np.median(sdri, 1).round(2).tolist(),
               "seconds_per_mix": float(np.mean(seconds)), "max_seconds_per_mix": round(max(seconds), 1),
               "priors": args.priors, "encoder": args.encoder, "n": args.n, "seed": args.seed,
               "si_sdri": sdri.round(2).tolist()}
        print(json.dumps(rec), flush=True)
        append_log(args.log, [rec])
        out.append(rec)
    if args.plot:
        plot_log(args.log, args.plot)
    return out


def plot_log(log: str, path: str) -> None:
    """Median SI-SDRi against seconds per mix for every record of the JSON-lines ``log``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = [json.loads(line) for line in open(log) if line.strip()]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in records:
        q25, q75 = np.percentile(np.array(r["si_sdri"], dtype=float), [25, 75])
        med = r["median_si_sdri"]
        ax.errorbar(r["seconds_per_mix"], med, yerr=[[med - q25], [q75 - med]], fmt="o", capsize=3)
        ax.annotate(json.dumps(r["settings"]) if r["settings"] else "defaults", (r["seconds_per_mix"], med),
                    textcoords="offset points", xytext=(5, 5), fontsize=7)
    ax.set(xlabel="seconds per mix", ylabel="SI-SDRi (dB): median, IQR over source estimates",
           title=f"{records[0]['priors']}: {records[0]['n']} mixes, data seed {records[0]['seed']}" if records else "")
    ax.set_xlim(left=0)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--priors", default="toy")
    p.add_argument("--grid", default="[{}]", help="JSON list of LangevinConfig overrides")
    p.add_argument("--encoder", help="encoder stem for init='variational' settings (default: the set's own)")
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--length", type=int, default=16384)
    p.add_argument("--seed", type=int, default=99, help="data seed (not the benchmark's 2026)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log", default="benchmarks/results/langevin_sweep.jsonl")
    p.add_argument("--plot", help="afterwards, plot every record of --log to this PNG")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
