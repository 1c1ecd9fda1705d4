"""The report in a real browser: headless Chromium loads every clip with its duration, decodes every
image, shows the results' numbers, sorts, and logs no errors. `make test` installs Chromium (Debian's
chromium and chromium-driver) and selenium; where they cannot be installed the test skips, saying why."""
import json

import pytest

from priorsep.report import write_report
from priorsep.report.browser import check_page, find_browser
from priorsep.report.page import fmt
from tests.report.test_report import EVIL, RATE, _items

_MISSING = None if find_browser() else "no chromium + chromedriver on PATH (apt-get install chromium chromium-driver)"
try:
    import selenium  # noqa: F401
except ImportError:
    _MISSING = _MISSING or "selenium is not installed (pip install -e '.[test]')"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if _MISSING:
        print(f"\nSKIP browser test: {_MISSING}")
        pytest.skip(_MISSING)
    sources = ["tone", EVIL]
    results = {"title": "t", "sources": sources, "methods": {
        "good": {"si_sdri": {"per_source": [15.0, 10.0], "overall": 12.5, "overall_iqr": [10.0, 15.0]},
                 "confidence_db": {"overall": 16.0}, "seconds_per_second": 0.5, "paired_items": 0},
        f"bad {EVIL}": {"si_sdri": {"per_source": [0.0, 0.0], "overall": 0.0, "overall_iqr": [0.0, 0.0]},
                        "seconds_per_second": 0.0, "paired_items": None}}}
    folder = tmp_path_factory.mktemp("report") / "r"
    index = write_report(folder, _items(3, seconds=1.5), RATE, title=f"a {EVIL}", results=results)
    return index, results, check_page(index, screenshot=folder / "screen.png")


def test_every_clip_loads_with_its_duration_and_every_image_decodes(report):
    index, _, state = report
    assert len(state["audio"]) == 3 * (1 + 2 + 2 * 2) and len(state["images"]) == len(state["audio"])
    for a in state["audio"]:
        assert a["error"] is None and a["ready"] >= 1, a
        assert a["expected"] == 1.5 and abs(a["duration"] - 1.5) < 0.05, a  # Vorbis adds a few ms of padding
    for img in state["images"]:
        assert img["complete"] and img["width"] > 0 and img["height"] > 0, img
    assert (index.parent / "screen.png").stat().st_size > 1000


def test_the_tables_show_the_results_and_names_as_text(report):
    _, results, state = report
    assert [row[0] for row in state["summary"]] == list(results["methods"])
    for row, m in zip(state["summary"], results["methods"].values()):
        assert row[1:4] == [fmt(v) for v in m["si_sdri"]["per_source"]] + [fmt(m["si_sdri"]["overall"])]
    assert [row[0] for row in state["items"]] == [f"{EVIL} item {i}" for i in range(3)]


def test_no_console_errors(report):
    _, _, state = report
    assert not [e for e in state["console"] if e["level"] in ("SEVERE", "ERROR")], json.dumps(state["console"])
    assert state["scripted"] == 1  # the escaped names ran nothing
