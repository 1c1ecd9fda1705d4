"""Open a listening report in headless Chromium and say whether it works: every audio element
loaded with the duration its clip has, every image decoded, no console errors; and how big the
folder is. Optionally a screenshot of the first screen and the findings as JSON.

    python benchmarks/tools/check_report.py REPORT_DIR --screenshot shot.png --json check.json
"""
from __future__ import annotations

import argparse
from pathlib import Path

from priorsep.errors import ConfigError
from priorsep.evaluation.benchmark import save_json
from priorsep.report.browser import check_page

#: seconds an audio element's duration may differ from its clip's (Vorbis adds a few ms of padding)
DURATION_TOLERANCE_S = 0.05


def main(args: argparse.Namespace) -> dict:
    folder = Path(args.report)
    if not (folder / "index.html").is_file():
        raise ConfigError(f"no report in {folder}: expected {folder / 'index.html'}")
    state = check_page(folder / "index.html", screenshot=args.screenshot)
    bad_audio = [a for a in state["audio"] if a["error"] is not None or a["ready"] < 1
                 or abs(a["duration"] - a["expected"]) > DURATION_TOLERANCE_S]
    bad_images = [i for i in state["images"] if not i["complete"] or i["width"] == 0]
    errors = [e for e in state["console"] if e["level"] in ("SEVERE", "ERROR")]
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    out = {"report": str(folder), "bytes": size, "audio": len(state["audio"]), "audio_failed": bad_audio,
           "images": len(state["images"]), "images_failed": bad_images, "console_errors": errors,
           "console": state["console"], "ok": not (bad_audio or bad_images or errors)}
    print(f"{folder}: {size / 2**20:.1f} MiB; {len(state['audio'])} audio elements ({len(bad_audio)} failed), "
          f"{len(state['images'])} images ({len(bad_images)} failed), {len(errors)} console errors: "
          f"{'OK' if out['ok'] else 'NOT OK'}")
    if args.json:
        save_json(out, args.json)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report", help="a report folder (index.html inside)")
    p.add_argument("--screenshot", help="save a PNG of the page's first screen here")
    p.add_argument("--json", help="write the findings here")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
