"""What a result hands out to readers: tidy tables, JSON-safe records, summaries, report sections.

Every ``tidy()`` is ordered by :func:`tidy_frame` (identifying columns, then the statistics, then
extras); :func:`json_safe` turns numpy/pandas values into plain JSON; :class:`Summary` is the
console / notebook / Markdown text of a result and :class:`ReportSection` its piece of the HTML
report. Nothing here knows an estimator.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: The statistics every ``tidy()`` table has, in this order, after the identifying columns.
STAT_COLUMNS: tuple[str, ...] = (
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)
#: Columns that say *which* estimate a row holds, in the order they lead every ``tidy()`` table.
ID_COLUMNS: tuple[str, ...] = (
    "comparison",
    "group",
    "reference",
    "site",
    "stratum",
    "state",
    "cause",
    "cap",
    "wtp",
    "time",
    "event_time",
    "term",
)
#: Columns every ``tidy()`` table has (broom's names).
TIDY_COLUMNS: tuple[str, ...] = ("term", *STAT_COLUMNS)


def tidy_frame(rows: pd.DataFrame | dict, extra_first: Sequence[str] = ()) -> pd.DataFrame:
    """Order a table the one way every ``tidy()`` is ordered.

    Identifying columns first (those of :data:`ID_COLUMNS` present, in that order; ``term``
    always), then the statistics of :data:`STAT_COLUMNS` (absent ones filled with NaN), then any
    other columns: those named in ``extra_first`` first, then the rest in the order given.

    Example
    -------
    >>> tidy_frame({"p_value": [0.5], "estimate": [1.0], "group": ["a"]}).columns.tolist()[:4]
    ['group', 'term', 'estimate', 'std_error']
    """
    df = pd.DataFrame(rows)
    present = set(df.columns) | {"term"}
    ids = [c for c in ID_COLUMNS if c in present]
    lead = [c for c in extra_first if c in present and c not in ids]
    rest = lead + [c for c in df.columns
                   if c not in ids and c not in STAT_COLUMNS and c not in lead]
    # one copy (reindex), whatever the size: tables of a million rows are common
    out = df.reindex(columns=ids + list(STAT_COLUMNS) + rest)
    if "term" not in df.columns:
        out["term"] = ""
    out.index = pd.RangeIndex(len(out))
    return out


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON types (NaN and inf become None).

    Example
    -------
    >>> json_safe({"x": np.float64("nan"), "n": np.int64(3)})
    {'x': None, 'n': 3}
    """
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [json_safe(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series | np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, bool | int | str):
        return value
    if hasattr(value, "to_dict"):
        return json_safe(value.to_dict())
    return str(value)


@dataclass(frozen=True)
class Summary:
    """Readable summary of a result: ``str()`` for the console, HTML for notebooks, Markdown."""

    title: str
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    notes: tuple[str, ...] = ()
    header: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for key, value in self.header:
            lines.append(f"{key}: {value}")
        for heading, table in self.tables:
            lines.append("")
            if heading:
                lines.append(heading)
            lines.append(_format_table(table))
        if self.notes:
            lines.append("")
            lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        parts = [f"<h3>{html.escape(self.title)}</h3>"]
        if self.header:
            items = "".join(
                f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in self.header
            )
            parts.append(f"<ul>{items}</ul>")
        for heading, table in self.tables:
            if heading:
                parts.append(f"<h4>{html.escape(heading)}</h4>")
            parts.append(_rounded(table).to_html(index=False, escape=True, na_rep=""))
        parts.extend(f"<p><i>{html.escape(n)}</i></p>" for n in self.notes)
        return "\n".join(parts)

    def to_markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.extend(f"- **{k}**: {v}" for k, v in self.header)
        for heading, table in self.tables:
            lines.append("")
            if heading:
                lines.append(f"**{heading}**")
                lines.append("")
            lines.append(_markdown_table(_rounded(table)))
        lines.extend(f"\n_{n}_" for n in self.notes)
        return "\n".join(lines)


def _rounded(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return out


def _format_table(table: pd.DataFrame) -> str:
    if table.empty:
        return "(no rows)"
    return _rounded(table).to_string(index=False)


def _markdown_table(table: pd.DataFrame) -> str:
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class ReportSection:
    """A piece of the HTML report: a title, short paragraphs, tables and figures.

    ``tables`` holds (caption, DataFrame, count_columns): the report suppresses small numbers in
    ``count_columns``. ``figures`` holds (caption, matplotlib Figure). Text is escaped when rendered.
    """

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[tuple[str, pd.DataFrame, tuple[str, ...]], ...] = ()
    figures: tuple[tuple[str, Any], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


__all__ = ["STAT_COLUMNS", "ID_COLUMNS", "TIDY_COLUMNS", "tidy_frame", "json_safe", "Summary",
           "ReportSection"]
