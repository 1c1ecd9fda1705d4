"""Quality against time of a song's separations: the records of ``score_song.py`` as a table and a plot.

    python benchmarks/tools/song_curve.py benchmarks/results/long_stereo/song_*.json \
        --png benchmarks/results/long_stereo/song_curve.png

One point per record: wall time of the whole separation (s, log scale) against median SI-SDRi
over 4-s windows, with the interquartile range as a bar. Printed as a Markdown table, fastest first.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(args: argparse.Namespace) -> list[dict]:
    records = sorted((dict(json.loads(Path(f).read_text()), file=Path(f).stem) for f in args.records),
                     key=lambda r: r["wall_s"])
    lines = ["| record | wall time (s) | x real time | peak RSS (GB) | SI-SDRi [IQR] |", "|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| `{r['file']}` | {r['wall_s']:.0f} | {r['seconds_per_second']:.2f} | {r['peak_rss_gb']:.2f} | "
                     f"{r['median_si_sdri']:.2f} [{r['iqr'][0]:.2f}, {r['iqr'][1]:.2f}] |")
    print("\n".join(lines))
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for i, r in enumerate(records):
            med, (lo, hi) = r["median_si_sdri"], r["iqr"]
            ax.errorbar(r["wall_s"] / 60, med, yerr=[[med - lo], [hi - med]], fmt="o", capsize=3)
            ax.annotate(r["file"].removeprefix("song_"), (r["wall_s"] / 60, med), textcoords="offset points",
                        xytext=(5, 5 if i % 2 else -12), fontsize=7)  # alternate: neighbours do not overlap
        ax.set_xscale("log")
        ax.set_xlabel("wall time for the whole song (minutes, log scale)")
        ax.set_ylabel("SI-SDRi (dB), median over 4-s windows")
        ax.set_title(f"{records[0]['seconds']:g} s song, {records[0]['channels']} channels at {records[0]['rate']} Hz")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(args.png, dpi=120)
        plt.close(fig)
    return records


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("records", nargs="+", help="score_song.py JSON records (with --time)")
    p.add_argument("--png", help="write the plot here")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
