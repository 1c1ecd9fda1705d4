"""Compare two benchmark JSON files (``priorsep bench ... --json``) to the printed digit.

    python benchmarks/tools/compare_tables.py before.json after.json --rename Langevin-flow=mask-search-flow

Prints each row's medians (SI-SDRi per source and overall, SDR/SIR/SAR) side by side, rounded as
the table prints them (2 decimals), and whether they agree; exits 1 if any printed digit differs.
Seconds per mix are shown but not compared (they depend on the machine's load).
"""
from __future__ import annotations

import argparse
import json
import sys

KEYS = ("si_sdri", "SDR", "SIR", "SAR")


def printed(row: dict) -> list[str]:
    """The digits the table prints for a row."""
    out = [f"{v:.2f}" for v in row["si_sdri"]["per_source"]] + [f"{row['si_sdri']['overall']:.2f}"]
    return out + [f"{row[k]['overall']:.2f}" for k in KEYS[1:] if k in row]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--rename", nargs="*", default=[], metavar="OLD=NEW",
                   help="row labels of BEFORE that AFTER names differently")
    return p


def main(args: argparse.Namespace) -> bool:
    before, after = (json.load(open(f))["methods"] for f in (args.before, args.after))
    rename = dict(pair.split("=", 1) for pair in args.rename)
    same = True
    for old, row in before.items():
        new = rename.get(old, old)
        if new not in after:
            print(f"{old:<32} missing in {args.after}")
            same = False
            continue
        a, b = printed(row), printed(after[new])
        ok = a == b
        same &= ok
        print(f"{new:<32} {'same' if ok else 'DIFFERENT'}  {' '.join(b)}"
              + ("" if ok else f"  (before: {' '.join(a)})")
              + f"  s/mix {row['seconds_per_mix']:.2f} -> {after[new]['seconds_per_mix']:.2f}")
    print("every printed digit agrees" if same else "some printed digits differ")
    return same


if __name__ == "__main__":
    sys.exit(0 if main(build_parser().parse_args()) else 1)
