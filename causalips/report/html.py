"""Render report sections to one self-contained HTML file."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .._version import __version__
from ..base import ReportSection
from ..disclosure import (
    DEFAULT_THRESHOLD,
    hide_derived_figures,
    is_suppressed,
    suppress_small_counts,
)

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;
max-width:1000px;color:#222;line-height:1.45;padding:0 1rem}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1b6ca8;padding-bottom:.2rem;
margin-top:2.5rem}h3{margin-top:1.5rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}
th{background:#eef3f8}td:first-child,th:first-child{text-align:left}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#555}
.note{font-size:.85rem;color:#555}.banner{background:#fff4e5;border-left:4px solid #edae49;
padding:.5rem 1rem;margin:1rem 0}
nav ul{columns:2;font-size:.9rem}footer{margin-top:3rem;font-size:.8rem;color:#777}
"""


def figure_to_data_uri(fig, dpi: int = 110) -> str:
    """PNG bytes of a matplotlib figure as a data: URI (keeps the report one file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _format_cell(value) -> str:
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def table_html(table: pd.DataFrame, count_columns: Sequence[str], threshold: int) -> str:
    """An escaped HTML table with small counts suppressed and numbers rounded for reading.

    Counts from 1 to ``threshold - 1`` show as ``<threshold`` and the decimal figures in their
    row (rates, CIs) are hidden too. Tables that arrive already protected (with secondary
    suppression, as the site report does) are shown as they are.
    """
    already = any(table[c].map(is_suppressed).any() for c in count_columns if c in table.columns)
    shown = table if already else hide_derived_figures(
        suppress_small_counts(table, count_columns, threshold), table, count_columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = "".join(f"<td>{html.escape(_format_cell(v))}</td>" for v in record)
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _anchor(i: int) -> str:
    return f"section-{i + 1}"


def section_html(section: ReportSection, index: int, threshold: int) -> str:
    parts = [f'<section id="{_anchor(index)}"><h2>{html.escape(section.title)}</h2>']
    parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
    for caption, fig in section.figures:
        uri = figure_to_data_uri(fig)
        alt = html.escape(caption or section.title)
        parts.append(f'<figure><img src="{uri}" alt="{alt}"><figcaption>{alt}</figcaption></figure>')
    for caption, table, counts in section.tables:
        if caption:
            parts.append(f"<h3>{html.escape(caption)}</h3>")
        parts.append(table_html(table, counts, threshold))
    parts.extend(f'<p class="note">{html.escape(n)}</p>' for n in section.notes)
    parts.append("</section>")
    return "\n".join(parts)


def render_html(
    sections: Sequence[ReportSection],
    *,
    title: str = "causalips report",
    subtitle: str | None = None,
    banner: str | None = None,
    suppress_below: int = DEFAULT_THRESHOLD,
) -> str:
    """The whole report as one HTML string.

    ``suppress_below`` sets the small-number threshold for count columns (0 disables it; say
    so when publishing). ``banner`` is shown prominently (e.g. "synthetic data").
    """
    import matplotlib.pyplot as plt

    body = [f"<h1>{html.escape(title)}</h1>"]
    if subtitle:
        body.append(f"<p>{html.escape(subtitle)}</p>")
    if banner:
        body.append(f'<div class="banner">{html.escape(banner)}</div>')
    toc = "".join(
        f'<li><a href="#{_anchor(i)}">{html.escape(s.title)}</a></li>' for i, s in enumerate(sections)
    )
    body.append(f"<nav><h2>Contents</h2><ul>{toc}</ul></nav>")
    for i, section in enumerate(sections):
        body.append(section_html(section, i, suppress_below))
        for _, fig in section.figures:
            plt.close(fig)
    rule = (f"Counts from 1 to {suppress_below - 1} are shown as &lt;{suppress_below}."
            if suppress_below and suppress_below > 1 else "Small counts are not suppressed.")
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body.append(f"<footer>{rule} Made with causalips {html.escape(__version__)} on {stamp}. "
                "No individual rows are included in this report.</footer>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def write_report(path: str | Path, sections: Sequence[ReportSection], **options) -> Path:
    """Render and write the report; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(sections, **options), encoding="utf-8")
    return path
