"""Listening reports: the page's content, escaping, relative paths, folders, and the CLI runs that write them."""
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from priorsep.cli import main
from priorsep.errors import ConfigError
from priorsep.report import MARKER, MethodOutput, ReportItem, write_report
from priorsep.report.page import fmt

RATE = 8000
EVIL = "<script>alert('x')</script>"


class _Collect(HTMLParser):
    """Tags with their attributes, and the text of each table (row by row) by the table's class."""

    def __init__(self):
        super().__init__()
        self.tags, self.tables, self._table, self._cell = [], {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("class") or f"table{len(self.tables)}", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> _Collect:
    p = _Collect()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _items(n: int = 3, seconds: float = 0.5) -> list[ReportItem]:
    g = np.random.default_rng(0)
    t = int(seconds * RATE)
    items = []
    for i in range(n):
        refs = {"tone": np.sin(np.arange(t) / (4 + i)).astype(np.float32), EVIL: 0.1 * g.standard_normal(t)}
        mix = 0.5 * refs["tone"] + 0.5 * refs[EVIL]
        good = MethodOutput({k: v + 0.01 * g.standard_normal(t) for k, v in refs.items()},
                            scores={"tone": 20.0 - 5 * i, EVIL: 10.0}, confidence={"tone": 30.0, EVIL: 2.0},
                            spread={"tone": np.abs(g.standard_normal(50)), EVIL: np.abs(g.standard_normal(50))})
        bad = MethodOutput({k: 0.5 * mix for k in refs}, scores={"tone": 0.0, EVIL: 0.0})
        items.append(ReportItem(f"{EVIL} item {i}", mix, {"good": good, f"bad {EVIL}": bad}, refs))
    return items


def test_the_page_escapes_names_and_points_to_its_own_files_by_relative_paths(tmp_path):
    index = write_report(tmp_path / "r", _items(), RATE, title=f"title {EVIL}", weights={"tone": 0.5, EVIL: 0.5})
    html = index.read_text(encoding="utf-8")
    assert html.count("<script>") == 1 and EVIL not in html  # only the sort script; names render as text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; item 0" in html
    page = parse(index)
    media = [a["src"] for tag, a in page.tags if tag in ("audio", "img")]
    assert len(media) == 2 * 3 * (1 + 2 + 2 * 2)  # per item: mix, 2 references, 2 methods x 2 sources; audio + image
    for src in media:
        assert not src.startswith("/") and "://" not in src and ".." not in src
        assert (index.parent / src).is_file(), src
    for tag, a in page.tags:
        if tag == "audio":
            info = sf.info(str(index.parent / a["src"]))
            assert info.format == "OGG" and abs(info.duration - 0.5) < 0.02 and float(a["data-seconds"]) == 0.5
    assert (index.parent / "worst-first.html").is_file() and (index.parent / MARKER).is_file()


def test_the_worst_first_page_orders_items_by_the_first_methods_mean_score(tmp_path):
    index = write_report(tmp_path / "r", _items(), RATE, title="t")
    in_order = [row[0] for row in parse(index).tables["items"][1:]]
    worst = [row[0] for row in parse(index.parent / "worst-first.html").tables["items"][1:]]
    assert in_order == [f"{EVIL} item {i}" for i in range(3)]
    assert worst == in_order[::-1]  # "good" scores 15, 12.5, 10 over sources: the last item first
    # the items table shows each method's mean over sources
    assert parse(index).tables["items"][1][1:] == [fmt(15.0), fmt(0.0)]


def test_clips_share_one_gain_so_levels_compare(tmp_path):
    item = _items(1)[0]
    index = write_report(tmp_path / "r", [item], RATE, title="t", weights={"tone": 0.5, EVIL: 0.5})
    media = index.parent / "media" / "item000"
    mix = sf.read(str(media / "mix.ogg"))[0]
    ref = sf.read(str(media / "reference0.ogg"))[0]  # "tone" at its level in the mix: half the mix's tone part
    n = min(len(mix), len(ref))
    gain = np.abs(mix).max() / np.abs(item.mix).max()
    np.testing.assert_allclose(np.abs(ref[:n]).max(), gain * 0.5 * np.abs(item.references["tone"]).max(), rtol=0.05)


def test_report_folders_are_new_empty_or_earlier_reports(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="holds other files"):
        write_report(mine, _items(1), RATE, title="t")
    assert (mine / "notes.txt").read_text() == "keep me" and not (mine / "media").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        write_report(tmp_path / "file", _items(1), RATE, title="t")
    again = tmp_path / "again"
    write_report(again, _items(3), RATE, title="t")
    write_report(again, _items(1), RATE, title="t")  # an earlier report is rewritten, its old media removed
    assert sorted(p.name for p in (again / "media").iterdir()) == ["item000"]
    with pytest.raises(ConfigError, match="at least one item"):
        write_report(tmp_path / "empty", [], RATE, title="t")


def _summary_matches(index: Path, results: dict) -> None:
    rows = parse(index).tables["summary"][1:]
    assert [r[0] for r in rows] == list(results["methods"])
    k = len(results["sources"])
    for row, m in zip(rows, results["methods"].values()):
        assert row[1:k + 1] == [fmt(v) for v in m["si_sdri"]["per_source"]]
        assert row[k + 1] == fmt(m["si_sdri"]["overall"])


def test_bench_toy_writes_a_report_of_every_row_with_the_tables_numbers(tiny_toy_priors, tmp_path, capsys):
    from tests.cli.test_cli import FAST

    report, out = tmp_path / "report", tmp_path / "r.json"
    assert main(["bench", "toy", "--priors", str(tiny_toy_priors), "--baselines", "--n", "2", "--length", "1024",
                 "--no-bss", "--samples", "2", "--json", str(out), "--report", str(report), "--quiet", *FAST]) == 0
    assert f"report: {report / 'index.html'}" in capsys.readouterr().out
    results = json.loads(out.read_text())
    assert json.loads((report / "results.json").read_text()) == results
    _summary_matches(report / "index.html", results)
    page = parse(report / "index.html")
    assert len([t for t, _ in page.tags if t == "audio"]) == 2 * (1 + 4 + len(results["methods"]) * 4)
    assert len([t for t, _ in page.tags if t == "svg"]) == 2 * 4  # the draws' spread track per source
    # a folder with the user's own files is refused before anything runs
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "x.txt").write_text("x")
    assert main(["bench", "toy", "--priors", str(tiny_toy_priors), "--n", "1", "--report", str(tmp_path / "mine"),
                 "--quiet"]) == 2
    assert "holds other files" in capsys.readouterr().err


def test_separate_writes_a_report_with_the_draws_confidence(tiny_toy_priors, tmp_path, capsys):
    from priorsep.data.toy import toy_eval_set
    from tests.cli.test_cli import FAST

    data = toy_eval_set(2, 2048, seed=3)
    mixes = tmp_path / "mixes"
    mixes.mkdir()
    for i, mix in enumerate(data.mixes):
        sf.write(mixes / f"{EVIL}{i}.wav".replace("/", "_"), mix, data.sample_rate)
    report = tmp_path / "report"
    assert main(["separate", str(mixes), "--priors", str(tiny_toy_priors), "--out", str(tmp_path / "sep"),
                 "--samples", "2", "--report", str(report), "--quiet", *FAST]) == 0
    page = parse(report / "index.html")
    names = [row[0] for row in page.tables["items"][1:]]
    assert names == sorted(f"{EVIL}{i}".replace("/", "_") for i in range(2))
    record = json.loads((tmp_path / "sep" / names[0] / "uncertainty.json").read_text())
    assert float(page.tables["items"][1][1]) == pytest.approx(np.mean(list(record["confidence_db"].values())),
                                                              abs=0.01)
    assert "</script>0" not in (report / "index.html").read_text()
