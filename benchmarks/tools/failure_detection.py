"""Failure detection from a benchmark run with posterior draws: ROC curve and AUROC per row.

    priorsep bench toy --n 64 --samples 8 --no-bss --json draws.json
    python benchmarks/tools/failure_detection.py draws.json --plot roc.png
    python benchmarks/tools/failure_detection.py seed1.json seed2.json     # rows of the same name pooled

For every row that recorded a confidence per source (``--samples`` > 1), pools the (item, source)
estimates, flags those below a confidence threshold and scores that against failure (SI-SDRi below
``--below`` dB): the AUROC (:mod:`priorsep.evaluation.failure_detection`), the number of failures,
and for Langevin rows the median SI-SDRi of the draws' mean minus that of the search estimate.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from priorsep.evaluation.failure_detection import FAILURE_BELOW_DB, auroc, roc_curve


def row_arrays(row: dict) -> dict[str, np.ndarray]:
    """``{"si_sdri", "confidence_db"[, "search_si_sdri"]}`` as ``(items, sources)`` arrays."""
    keys = [k for k in ("si_sdri", "confidence_db", "search_si_sdri") if k in row["items"][0]]
    return {k: np.array([item[k] for item in row["items"]], dtype=float) for k in keys}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", help="priorsep bench --samples N --json files (rows of one name pooled)")
    p.add_argument("--below", type=float, default=FAILURE_BELOW_DB, help="an estimate failed below this SI-SDRi (dB)")
    p.add_argument("--plot", help="write the ROC curves to this PNG")
    p.add_argument("--json", help="write the numbers to this JSON file")
    return p


def main(args: argparse.Namespace) -> dict:
    rows: dict[str, dict[str, np.ndarray]] = {}
    for path in args.results:
        for name, row in json.loads(open(path).read())["methods"].items():
            if row.get("items") and "confidence_db" in row["items"][0]:
                arrays = row_arrays(row)
                rows[name] = {k: np.concatenate([rows[name][k], v]) if name in rows else v for k, v in arrays.items()}
    if not rows:
        raise SystemExit(f"no row of {args.results} has confidences; run the benchmark with --samples N > 1")
    out = {}
    print(f"{'row':<40}{'AUROC':>7}{'failed':>10}{'mean - search':>15}  (failed: SI-SDRi < {args.below} dB)")
    for name, r in rows.items():
        out[name] = o = {"auroc": auroc(r["confidence_db"], r["si_sdri"], args.below),
                         "failed": int((r["si_sdri"] < args.below).sum()), "estimates": int(r["si_sdri"].size),
                         "roc": [x.tolist() for x in roc_curve(r["confidence_db"], r["si_sdri"], args.below)]}
        if "search_si_sdri" in r:
            o["median_mean_minus_search"] = float(np.median(r["si_sdri"]) - np.median(r["search_si_sdri"]))
            o["median_search"] = float(np.median(r["search_si_sdri"]))
        o["median_si_sdri"] = float(np.median(r["si_sdri"]))
        gap = f"{o['median_mean_minus_search']:>15.2f}" if "search_si_sdri" in r else f"{'-':>15}"
        print(f"{name:<40}{o['auroc']:>7.3f}{o['failed']:>5}/{o['estimates']:<4}{gap}")
    if args.plot:
        _plot(out, args.below, args.plot)
        print(f"wrote {args.plot}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"below_db": args.below, "rows": out}, f, indent=1)
        print(f"wrote {args.json}")
    return out


def _plot(out: dict, below: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    for name, o in out.items():
        ax.plot(*o["roc"], label=f"{name} (AUROC {o['auroc']:.2f})", drawstyle="steps-post")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="good estimates flagged (false-positive rate)", ylabel=f"failures flagged (SI-SDRi < {below:g} dB)",
           title="flagging failures by low confidence")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main(build_parser().parse_args())
