"""``priorsep data``: generate a dataset (synthetic band stems)."""
from __future__ import annotations

import argparse
import json


def add_parser(sub) -> None:
    p = sub.add_parser("data", help="generate a dataset (synthetic band stems)")
    p.add_argument("dataset", choices=["band"])
    p.add_argument("--out", required=True,
                   help="root of OUT/{train,test}/<track>/{mixture,bass,drums,guitar,piano}.wav")
    p.add_argument("--tracks", type=int, default=40, help="training tracks")
    p.add_argument("--test-tracks", type=int, help="test tracks (default: tracks // 4, at least 1)")
    p.add_argument("--seconds", type=float, default=30.0, help="length of each track")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--soundfont", nargs="+", metavar="NAME|PATH",
                   help="SoundFont(s): a name (fluidr3 (default), timgm6mb, gmbank, opl3, black-pearl and red-zeppelin "
                   "(drums only), musescore and musescore-full (held out: test tracks only)) or a .sf2/.sf3 path; "
                   "with several, each stem of a track draws one of those that play it")
    p.add_argument("--stem-gain-db", type=float, default=0.0,
                   help="augmentation: scale each stem by a random gain within +-this many dB (default 0: none)")
    p.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    from ..data.band import make_band_dataset

    out = make_band_dataset(args.out, args.tracks, seconds=args.seconds, seed=args.seed, soundfont=args.soundfont,
                            test_tracks=args.test_tracks, progress=not args.quiet, stem_gain_db=args.stem_gain_db)
    counts = json.loads((out / "band.json").read_text())["tracks"]  # what was written, defaults resolved
    print(f"wrote {counts['train']} train and {counts['test']} test tracks to {out}")
    return 0
