"""The listening report's HTML: one self-contained static page per item order, no server, no network.

Everything from outside the library (item, source and method names, titles) is escaped; media
paths are relative URLs, so the folder can be moved or served. The only script sorts the items
table when a header is clicked; the page works without it.
"""
from __future__ import annotations

import html
import math
from urllib.parse import quote

import numpy as np

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}
th.sortable{cursor:pointer;text-decoration:underline dotted}
.item{border-top:2px solid #888;margin-top:1.5em}
.cell audio{width:240px;display:block}
.cell img{width:240px;height:90px;display:block}
.low{color:#b00;font-weight:bold}
.note{color:#555;font-size:.9em}
"""

# sorts the items table by the clicked column (numbers descending on the first click, names ascending)
_SORT_SCRIPT = """
document.querySelectorAll('table.items th.sortable').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var desc = th.dataset.desc !== 'true';
    th.dataset.desc = desc;
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.value, y = b.cells[col].dataset.value;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (isNaN(nx) || isNaN(ny)) ? String(x).localeCompare(String(y)) : nx - ny;
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""

#: confidence (dB) below which a source's estimate is marked as one to check by ear
LOW_CONFIDENCE_DB = 5.0


def esc(text) -> str:
    """``text`` as HTML text or attribute value."""
    return html.escape(str(text), quote=True)


def url(relative_path: str) -> str:
    """A relative POSIX path as a URL (every character outside the safe set percent-encoded)."""
    return quote(relative_path, safe="/")


def fmt(value, digits: int = 2) -> str:
    """A number as the tables show it (``-`` for none or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def spread_svg(track: np.ndarray, width: int = 240, height: int = 40) -> str:
    """An inline SVG line of a relative spread track (0 at the bottom; the top is max(1, its peak))."""
    track = np.asarray(track, dtype=float)
    top = max(1.0, float(np.nanmax(track))) if track.size else 1.0
    xs = np.linspace(0, width, num=max(track.size, 2))
    ys = height - height * np.nan_to_num(track if track.size > 1 else np.repeat(track, 2)) / top
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    return (f'<svg width="{width}" height="{height}" role="img" aria-label="relative spread of the draws">'
            f'<title>relative spread of the draws over time (top: {top:.2f})</title>'
            f'<polyline fill="none" stroke="#36c" stroke-width="1" points="{points}"/></svg>')


def summary_table(results: dict) -> str:
    """The benchmark's table (medians per source and overall, in dB) from its JSON results."""
    sources = results["sources"]
    has_conf = any("confidence_db" in m for m in results["methods"].values())
    head = ["method"] + [f"{s} SI-SDRi" for s in sources] + ["SI-SDRi", "IQR"]
    head += ["confidence"] if has_conf else []
    head += ["SDR", "s per s of audio", "paired training items"]
    rows = []
    for name, m in results["methods"].items():
        cells = [esc(name)] + [fmt(v) for v in m["si_sdri"]["per_source"]]
        cells += [fmt(m["si_sdri"]["overall"]), "{} to {}".format(*(fmt(v) for v in m["si_sdri"]["overall_iqr"]))]
        if has_conf:
            cells.append(fmt(m["confidence_db"]["overall"]) if "confidence_db" in m else "-")
        cells.append(fmt(m["SDR"]["overall"]) if "SDR" in m else "-")
        paired, tracks = m.get("paired_items"), m.get("paired_tracks")
        paired = "oracle" if paired is None else f"{tracks} tracks" if tracks is not None else str(paired)
        cells += [fmt(m.get("seconds_per_second")), paired]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ('<table class="summary"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _media(clip: dict) -> str:
    """An audio player and a spectrogram image of ``{"audio", "image", "seconds", "label"}``."""
    return (f'<audio controls preload="metadata" src="{esc(url(clip["audio"]))}" '
            f'data-seconds="{clip["seconds"]:.6f}" title="{esc(clip["label"])}"></audio>'
            f'<img src="{esc(url(clip["image"]))}" alt="spectrogram: {esc(clip["label"])}">')


def _output_cell(out: dict, score_label: str) -> str:
    lines = [_media(out)]
    if out.get("score") is not None:
        lines.append(f'<div>{esc(score_label)} <b class="score">{fmt(out["score"])}</b> dB</div>')
    if out.get("confidence") is not None:
        low = ' class="low"' if out["confidence"] < LOW_CONFIDENCE_DB else ""
        lines.append(f'<div>confidence <span{low}>{fmt(out["confidence"])}</span> dB</div>')
    if out.get("spread") is not None:
        lines.append(spread_svg(out["spread"]))
    return '<td class="cell">' + "".join(lines) + "</td>"


def item_section(item: dict, methods: list[str], score_label: str = "SI-SDRi") -> str:
    """One item: the mixture, then per source its reference (when known) and every method's estimate."""
    head = "<th>source</th>" + ("<th>reference</th>" if item["has_references"] else "")
    head += "".join(f"<th>{esc(m)}</th>" for m in methods)
    rows = []
    for row in item["sources"]:
        cells = [f"<td>{esc(row['name'])}</td>"]
        if item["has_references"]:
            cells.append(f'<td class="cell">{_media(row["reference"])}</td>')
        cells += [_output_cell(row["outputs"][m], score_label) if m in row["outputs"] else "<td>-</td>"
                  for m in methods]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<section class="item" id="{esc(item["anchor"])}"><h3>{esc(item["name"])}</h3>'
            f'<div class="cell"><b>mixture</b>{_media(item["mix"])}</div>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>")


def items_table(items: list[dict], methods: list[str], key_label: str) -> str:
    """One row per item, one column per method: its ``key_label`` (the mean over sources), sortable."""
    head = '<th class="sortable">item</th>' + "".join(
        f'<th class="sortable">{esc(m)}: {esc(key_label)}</th>' for m in methods)
    rows = []
    for item in items:
        cells = [f'<td data-value="{esc(item["name"])}"><a href="#{esc(item["anchor"])}">{esc(item["name"])}</a></td>']
        for m in methods:
            v = item["key_by_method"].get(m)
            cells.append(f'<td data-value="{"" if v is None else v}">{fmt(v)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="items"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def render_page(*, title: str, methods: list[str], items: list[dict], key_label: str, order: str,
                other_page: tuple[str, str], results: dict | None = None, notes: list[str] = (),
                score_label: str = "SI-SDRi") -> str:
    """The whole page: title, links to the other order, the results table, the items table, the items."""
    parts = [f"<h1>{esc(title)}</h1>",
             f'<p>Items {esc(order)}. <a href="{esc(url(other_page[0]))}">{esc(other_page[1])}</a></p>']
    parts += [f'<p class="note">{esc(n)}</p>' for n in notes]
    if results is not None:
        parts += ["<h2>Results</h2>", summary_table(results)]
    parts += ["<h2>Items</h2>", '<p class="note">Click a header to sort.</p>', items_table(items, methods, key_label)]
    parts += [item_section(item, methods, score_label) for item in items]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width\"><link rel=\"icon\" href=\"data:,\">"
            f"<title>{esc(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(parts)
            + f"\n<script>{_SORT_SCRIPT}</script>\n</body></html>\n")
