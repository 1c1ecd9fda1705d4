"""Score a separated song against its stems: SI-SDRi over 4-s windows with a 2-s hop, per channel.

The whole-track protocol of the band benchmark (windows where fewer than two sources are active
are dropped; a source is scored only where it is active), run on each channel of the file at the
file's rate. With ``--time`` (the output of ``/usr/bin/time -v``) the wall time and peak memory of
the separation come along. ``long_stereo.sh`` calls it for each method:

    python benchmarks/tools/score_song.py --mix priors-work/long-stereo/song44k.wav \
        --stems priors-work/long-stereo/song44k-stems --estimates priors-work/long-stereo/out-langevin \
        --time priors-work/long-stereo/time-langevin.txt --out priors-work/long-stereo/score-langevin.json
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from priorsep.checkpoint import atomic_json_save
from priorsep.data.audio import read_audio
from priorsep.evaluation.metrics import windowed_si_sdri


def read_time(path: Path) -> dict:
    """Wall time (s) and peak resident memory (GB) from ``/usr/bin/time -v``'s report."""
    text = path.read_text()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    out = {}
    if wall:
        h, m, s = wall.groups()
        out["wall_s"] = round(int(h or 0) * 3600 + int(m) * 60 + float(s), 1)
    if rss:
        out["peak_rss_gb"] = round(int(rss.group(1)) / 1e6, 3)
    return out


def main(args: argparse.Namespace) -> dict:
    mix, rate = read_audio(args.mix)
    names = sorted(p.stem for p in Path(args.stems).glob("*.wav"))
    refs = np.stack([read_audio(Path(args.stems) / f"{n}.wav")[0] for n in names])  # (K, C, T)
    ests = np.stack([read_audio(Path(args.estimates) / f"{n}.wav")[0] for n in names])
    if ests.shape != refs.shape:
        raise SystemExit(f"estimates {ests.shape} and stems {refs.shape} differ in shape")
    window, hop = int(args.window * rate), int(args.hop * rate)
    # (channels * windows, K); the mix is the sum of the stems, which is the file itself
    scores = np.concatenate([windowed_si_sdri(ests[:, c], refs[:, c], refs[:, c].sum(0), window, hop)
                             for c in range(refs.shape[1])])
    rec = {"label": args.label, "mix": str(args.mix), "seconds": round(mix.shape[-1] / rate, 2),
           "channels": int(mix.shape[0]), "rate": rate, "windows": f"{args.window:g} s, hop {args.hop:g} s",
           "median_si_sdri": round(float(np.nanmedian(scores)), 2),
           "per_source": {n: round(float(np.nanmedian(scores[:, k])), 2) for k, n in enumerate(names)},
           "iqr": [round(float(q), 2) for q in np.nanpercentile(scores, [25, 75])],
           "scored_windows": int(np.isfinite(scores).any(1).sum())}
    if args.time:
        rec.update(read_time(Path(args.time)))
        if "wall_s" in rec:
            rec["seconds_per_second"] = round(rec["wall_s"] / rec["seconds"], 2)
    print(json.dumps(rec), flush=True)
    if args.out:
        atomic_json_save(rec, args.out)
    return rec


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mix", required=True, help="the separated file")
    p.add_argument("--stems", required=True, help="folder of SOURCE.wav references, shaped like the mix")
    p.add_argument("--estimates", required=True, help="folder of SOURCE.wav estimates (priorsep separate --out)")
    p.add_argument("--time", help="/usr/bin/time -v report of the separation")
    p.add_argument("--label", default="")
    p.add_argument("--window", type=float, default=4.0, help="seconds")
    p.add_argument("--hop", type=float, default=2.0, help="seconds")
    p.add_argument("--out", help="write the record as JSON here")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
