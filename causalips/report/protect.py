"""A result's report section as it may be published: tables and figures hide the same rows.

Tables get primary and secondary suppression (:func:`protect_table`): a small count, a count
whose complement is small (9 of 10 found a job tells that 1 did not), and the cells hidden so
that totals cannot give them away. Figures then leave out exactly the rows whose counts the
table hides — a site plotted at rate 0.20 beside "n = 10" shows 2 jobs as plainly as a table
would — and the caption says how many were left out and why. The figures are redrawn by the
result's own drawing code, given a view of the result that holds only the published rows.
"""

from __future__ import annotations

import pandas as pd

from ..base import ReportSection
from ..disclosure import (
    SECONDARY_MARKER,
    SECONDARY_NOTE,
    hidden_rows,
    hide_decimals_in_rows,
    is_suppressed,
    left_out_note,
    suppress_with_totals,
)

#: count columns holding a part of another count column of the same row (part -> whole)
COMPLEMENTS = {"events": "n", "numerator": "denominator", "outcomes": "people",
               "participants": "eligible"}


def protect_table(table: pd.DataFrame, counts, threshold: int, *, line_by=None) -> pd.DataFrame:
    """Secondary suppression of the count columns; figures derived from a hidden count in the
    same row (rates, percentages, CIs) are hidden too. Where a count is part of another
    (events of n), a small remainder hides the part as a small part would."""
    counts = [c for c in counts if c in table.columns]
    if not counts or not threshold or threshold <= 1:
        return table
    pairs = {p: w for p, w in COMPLEMENTS.items() if p in counts and w in counts}
    work = table.copy()
    rest = {}
    for part, whole in pairs.items():
        rest[part] = f"{whole} without {part}"
        work[rest[part]] = (pd.to_numeric(table[whole], errors="coerce")
                            - pd.to_numeric(table[part], errors="coerce"))
    out = suppress_with_totals(work, counts + list(rest.values()), threshold, line_by=line_by)
    for part, column in rest.items():
        via_rest = out[column].map(is_suppressed).to_numpy(dtype=bool)
        if via_rest.any():
            shown = out[part].astype(object)
            shown[via_rest] = SECONDARY_MARKER
            out[part] = shown
    out = out.drop(columns=list(rest.values()))
    return hide_decimals_in_rows(out, table, hidden_rows(out, counts), counts, SECONDARY_MARKER)


class _PublishedRows:
    """A fitted result seen through some of its ``tidy()`` rows (for redrawing its figures)."""

    def __init__(self, result, table: pd.DataFrame):
        self._result = result
        self._rows = table

    def tidy(self) -> pd.DataFrame:
        return self._rows.copy()

    def __getattr__(self, name):
        # methods run on the view (so ``self.plot()`` inside them draws the published rows);
        # data attributes come from the result
        member = getattr(type(self._result), name, None)
        if callable(member) and not isinstance(member, type | staticmethod):
            return member.__get__(self)
        return getattr(self._result, name)


def _published_figures(result, figures, threshold: int, line_by):
    """The section's figures, redrawn without the rows the tables hide; (figures, notes)."""
    counts = [c for c in getattr(result, "count_columns", ()) if c]
    if threshold <= 1 or not counts or not figures:
        return figures, ()
    tidy = result.tidy()
    if not set(counts) & set(tidy.columns):
        return figures, ()
    hidden = hidden_rows(protect_table(tidy, counts, threshold,
                                       line_by=line_by if line_by in tidy.columns else None),
                         counts)
    if not hidden.any():
        return figures, ()
    import matplotlib.pyplot as plt

    for _, fig in figures:
        plt.close(fig)
    redrawn = type(result).report_section(_PublishedRows(result, tidy[~hidden])).figures
    what = "site" if "site" in tidy.columns else "group"
    note = left_out_note(int(hidden.sum()), what, f"counts below {threshold}, or counts hidden "
                         "so that totals cannot reveal one")
    return tuple((f"{caption}. {note}", fig) for caption, fig in redrawn), (note,)


def protected_section(section: ReportSection, threshold: int, *, result=None, line_by=None,
                      title: str | None = None, notes=()) -> ReportSection:
    """``section`` with its tables protected and, given the ``result`` behind it, its figures
    redrawn without the hidden rows."""
    tables = []
    any_hidden = False
    for caption, table, counts in section.tables:
        new = protect_table(table, counts, threshold,
                            line_by=line_by if line_by in table.columns else None)
        any_hidden |= not new.equals(table)
        tables.append((caption, new, counts))
    figures, figure_notes = (section.figures, ()) if result is None else _published_figures(
        result, section.figures, threshold, line_by)
    extra = tuple(notes) + figure_notes + ((SECONDARY_NOTE,) if any_hidden else ())
    return ReportSection(title=title or section.title, paragraphs=section.paragraphs,
                         tables=tuple(tables), figures=figures, notes=section.notes + extra)


__all__ = ["protect_table", "protected_section", "hidden_rows", "COMPLEMENTS"]
