"""Render report sections to one self-contained HTML file (a Jinja2 template, autoescaped).

Every piece of text reaches the page through the template in ``templates/report.html.j2``,
whose environment escapes all values: there is no place where escaping can be forgotten.
Figures are embedded as PNG data; the page has no scripts and fetches nothing.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import pandas as pd

from .._version import __version__
from ..base import ReportSection
from ..disclosure import DEFAULT_THRESHOLD, check_threshold, published_table
from ..plotting._text import plain_text_figure


@cache
def _template():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("causalips.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    return env.get_template("report.html.j2")


def figure_to_data_uri(fig, dpi: int = 110) -> str:
    """PNG bytes of a matplotlib figure as a data: URI (keeps the report one file).

    Text in the figure is drawn as plain text (no mathtext) and long labels are shortened
    first (the plotting functions do so already; a figure made elsewhere is made so here), so
    user labels can neither crash the drawing nor blow up the image.
    """
    import matplotlib as mpl

    buf = io.BytesIO()
    with mpl.rc_context({"text.usetex": False}):
        plain_text_figure(fig)
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def format_cell(value) -> str:
    """How a cell reads in the report: floats to 4 significant digits, missing as blank."""
    if isinstance(value, float):
        if pd.isna(value):
            return ""
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _anchor(i: int) -> str:
    return f"section-{i + 1}"


def _section_context(section: ReportSection, index: int, threshold: int) -> dict:
    tables = []
    for caption, table, counts in section.tables:
        shown = published_table(table, counts, threshold)
        tables.append({"caption": caption, "columns": [str(c) for c in shown.columns],
                       "rows": [[format_cell(v) for v in row]
                                for row in shown.itertuples(index=False)]})
    return {
        "anchor": _anchor(index),
        "title": section.title,
        "paragraphs": section.paragraphs,
        "figures": [{"caption": caption or section.title, "uri": figure_to_data_uri(fig)}
                    for caption, fig in section.figures],
        "tables": tables,
        "notes": section.notes,
    }


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

    threshold = check_threshold(suppress_below)
    contexts = []
    for i, section in enumerate(sections):
        contexts.append(_section_context(section, i, threshold))
        for _, fig in section.figures:
            plt.close(fig)
    rule = (f"Counts from 1 to {threshold - 1} are shown as <{threshold}."
            if threshold > 1 else "Small counts are not suppressed.")
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _template().render(title=title, subtitle=subtitle, banner=banner, sections=contexts,
                              rule=rule, version=__version__, stamp=stamp)


def write_report(path: str | Path, sections: Sequence[ReportSection], **options) -> Path:
    """Render and write the report; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(sections, **options), encoding="utf-8")
    return path
