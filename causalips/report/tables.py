"""Every table of a report as CSV, suppressed exactly as on the HTML page.

Analysts reuse the numbers of a report in their own tables and charts; retyping them invites
mistakes. :func:`write_tables` writes one CSV per table (full precision, hidden cells as the page
shows them) and ``index.csv`` saying which section and caption each file holds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..base import ReportSection
from ..disclosure import DEFAULT_THRESHOLD, check_threshold, published_table


def _slug(text: str, width: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return slug[:width].rstrip("-") or "table"


def write_tables(folder: str | Path, sections: Sequence[ReportSection], *,
                 suppress_below: int = DEFAULT_THRESHOLD) -> list[Path]:
    """Write each table of ``sections`` to ``folder`` as CSV; return the paths (index last).

    Example
    -------
    >>> from causalips.report.tables import write_tables
    >>> write_tables("tables", sections, suppress_below=5)  # doctest: +SKIP
    """
    threshold = check_threshold(suppress_below)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written, index = [], []
    for i, section in enumerate(sections, start=1):
        for j, (caption, table, counts) in enumerate(section.tables, start=1):
            name = f"{i:02d}-{j:02d}-{_slug(section.title)}-{_slug(caption)}.csv"
            published_table(table, counts, threshold).to_csv(folder / name, index=False)
            written.append(folder / name)
            index.append({"file": name, "section": section.title, "table": caption})
    pd.DataFrame(index, columns=["file", "section", "table"]).to_csv(folder / "index.csv",
                                                                     index=False)
    return [*written, folder / "index.csv"]


__all__ = ["write_tables"]
