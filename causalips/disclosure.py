"""Disclosure control: the rules that keep published output from revealing small counts.

A low layer (it imports nothing of causalips), so results, plots, the report and the CLI all
apply the same rules.

Counts of people between 1 and ``threshold - 1`` could identify someone, so published tables show
them as ``"<threshold"``. Zero is shown: it discloses nothing about a person.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 5


def suppress_small_counts(
    table: pd.DataFrame, columns: Iterable[str], threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """Replace counts in ``columns`` that are >0 and < ``threshold`` by ``"<threshold"``.

    Returns a new table (object dtype in the affected columns); other columns are unchanged.
    A ``threshold`` of 0 or 1 disables suppression.
    """
    out = table.copy()
    if threshold is None or threshold <= 1:
        return out
    marker = f"<{threshold}"
    for col in columns:
        if col not in out.columns:
            continue
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        small = (values > 0) & (values < threshold)
        if small.any():
            shown = out[col].astype(object)
            shown[small] = marker
            out[col] = shown
    return out


def hide_derived_figures(shown: pd.DataFrame, original: pd.DataFrame, columns: Iterable[str],
                         marker: str = "suppressed") -> pd.DataFrame:
    """In rows where a count was suppressed, hide the decimal figures too (rates, shares, CIs).

    A rate printed next to a hidden count would let a reader recompute the count.
    """
    columns = tuple(columns)
    return hide_decimals_in_rows(shown, original, hidden_rows(shown, columns), columns, marker)


def hidden_rows(table: pd.DataFrame, counts: Iterable[str]) -> np.ndarray:
    """Rows in which any of the ``counts`` columns shows a suppression marker."""
    hidden = np.zeros(len(table), dtype=bool)
    for col in counts:
        if col in table.columns:
            hidden |= table[col].map(is_suppressed).to_numpy(dtype=bool)
    return hidden


def hide_decimals_in_rows(shown: pd.DataFrame, original: pd.DataFrame, hidden: np.ndarray,
                          counts: Iterable[str], marker: str) -> pd.DataFrame:
    """``shown`` with ``marker`` in the ``hidden`` rows of every column that was decimal in
    ``original`` (the count columns themselves are left as they are)."""
    if not hidden.any():
        return shown
    counts = set(counts)
    out = shown.copy()
    for col in out.columns:
        if col in counts or not pd.api.types.is_float_dtype(original[col]):
            continue
        values = out[col].astype(object)
        values[hidden] = marker
        out[col] = values
    return out


def is_suppressed(value) -> bool:
    return isinstance(value, str) and value.startswith("<")


# -- secondary suppression ----------------------------------------------------------------------
#: Marker of every cell hidden by :func:`suppress_with_totals` (small or hidden to protect one):
#: one marker for both, so a reader cannot tell which hidden cell is the small one.
SECONDARY_MARKER = "<suppressed>"
SECONDARY_NOTE = (
    "Cells shown as <suppressed> are either small counts or counts hidden so that totals cannot "
    "reveal a small one."
)


def _line_leaks(values: np.ndarray, hidden: np.ndarray) -> bool:
    """Whether a line with a published total pins down a hidden cell.

    Hidden cells are all at least 1 (zeros are never hidden), so with ``m`` hidden cells summing
    to ``S`` (total minus the shown cells) each lies in ``[1, S - m + 1]``: unique iff ``S <= m``.
    """
    m = int(hidden.sum())
    if m == 0:
        return False
    return m == 1 or float(values[hidden].sum()) <= m


def _pinned_cells(values: np.ndarray, hidden: np.ndarray, withheld=((), ())) -> np.ndarray:
    """Hidden cells whose value row and column totals determine exactly (linear programming).

    The feasible region {x >= 1 on hidden cells, row and column sums fixed} is a transportation
    polytope, whose vertices are integral, so an LP minimum equal to the maximum means the cell
    is pinned. ``withheld`` = (rows, columns) whose totals are not published.
    """
    from scipy.optimize import linprog

    idx = np.argwhere(hidden)
    k = len(idx)
    pinned = np.zeros_like(hidden)
    if k == 0:
        return pinned
    rows = np.setdiff1d(np.unique(idx[:, 0]), list(withheld[0]))
    cols = np.setdiff1d(np.unique(idx[:, 1]), list(withheld[1]))
    a_eq = np.zeros((rows.size + cols.size, k))
    b_eq = np.zeros(rows.size + cols.size)
    for j, (r, c) in enumerate(idx):
        if r in rows:
            a_eq[np.searchsorted(rows, r), j] = 1.0
        if c in cols:
            a_eq[rows.size + np.searchsorted(cols, c), j] = 1.0
    for i, r in enumerate(rows):
        b_eq[i] = values[r, hidden[r]].sum()
    for i, c in enumerate(cols):
        b_eq[rows.size + i] = values[hidden[:, c], c].sum()
    for j, (r, c) in enumerate(idx):
        goal = np.zeros(k)
        goal[j] = 1.0
        lo = linprog(goal, A_eq=a_eq, b_eq=b_eq, bounds=(1, None), method="highs")
        hi = linprog(-goal, A_eq=a_eq, b_eq=b_eq, bounds=(1, None), method="highs")
        if lo.status == 0 and hi.status == 0 and (-hi.fun) - lo.fun < 0.5:
            pinned[r, c] = True
    return pinned


def suppress_with_totals(
    table: pd.DataFrame,
    columns: Iterable[str],
    threshold: int = DEFAULT_THRESHOLD,
    *,
    row_totals: bool = False,
    line_by: str | None = None,
    marker: str = SECONDARY_MARKER,
) -> pd.DataFrame:
    """Primary and secondary suppression: small counts hidden so that totals cannot reveal them.

    Counts in ``columns`` from 1 to ``threshold - 1`` are hidden (primary suppression). Each
    column's total is assumed published (e.g. in a total row or elsewhere in the report); with
    ``row_totals=True`` each row's total across ``columns`` is too. Whenever a total would let a
    reader work out a hidden cell exactly (one hidden cell in a line, or hidden cells so small
    that every one must be 1), the smallest other non-zero count in that line is hidden as well
    (secondary suppression), until no hidden cell can be determined. With row and column totals
    the check is exact (linear programming over all constraints together).

    Returns a new table; hidden cells show ``marker`` (the same for small and complementary
    cells). ``out.attrs["unprotectable_totals"]`` lists the lines ("column X" / "row i") whose
    total must itself be withheld because no other cell could be hidden. A ``threshold`` of 0 or
    1 disables suppression. ``line_by`` names a column splitting a long table into parts with
    their own totals (e.g. ``source`` in a group × source table); each part is protected alone.
    """
    if line_by is not None:
        return _suppress_by_part(table, columns, threshold, row_totals, line_by, marker)
    out = table.copy()
    cols = [c for c in columns if c in out.columns]
    out.attrs["unprotectable_totals"] = []
    if threshold is None or threshold <= 1 or not cols:
        return out
    values = np.column_stack(
        [pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float) for c in cols]
    )
    values = np.where(np.isfinite(values), values, 0.0)
    hidden = (values > 0) & (values < threshold)
    state = _Secondary(values, hidden, cols)
    for _ in range(values.size + 1):
        changed = state.protect_columns()
        if row_totals:
            changed |= state.protect_rows()
            if not changed:
                changed = state.protect_pinned(threshold)
        if not changed:
            break
    for j, col in enumerate(cols):
        if hidden[:, j].any():
            shown = out[col].astype(object)
            shown[hidden[:, j]] = marker
            out[col] = shown
    out.attrs["unprotectable_totals"] = state.unprotectable
    return out


def _suppress_by_part(table, columns, threshold, row_totals, line_by, marker) -> pd.DataFrame:
    """Long tables: each value of ``line_by`` (e.g. source) has its own published totals."""
    out = table.copy()
    out.attrs["unprotectable_totals"] = []
    cols = [c for c in columns if c in out.columns]
    for c in cols:
        out[c] = out[c].astype(object)
    for key, part in table.groupby(line_by, sort=False, dropna=False):
        done = suppress_with_totals(part, cols, threshold, row_totals=row_totals, marker=marker)
        out.loc[part.index, cols] = done[cols]
        out.attrs["unprotectable_totals"] += [f"{line_by}={key}: {u}"
                                              for u in done.attrs["unprotectable_totals"]]
    return out


class _Secondary:
    """The state of secondary suppression: hidden cells (changed in place) and withheld totals."""

    def __init__(self, values: np.ndarray, hidden: np.ndarray, cols):
        self.values, self.hidden, self.cols = values, hidden, cols
        self.unprotectable: list[str] = []
        self.withheld_rows: set[int] = set()
        self.withheld_cols: set[int] = set()

    @staticmethod
    def _complement(line_values, line_hidden) -> int | None:
        """The smallest other non-zero count in a line (the cell to hide beside a small one)."""
        free = (~line_hidden) & (line_values > 0)
        if not free.any():
            return None
        candidates = np.flatnonzero(free)
        return int(candidates[np.argmin(line_values[candidates])])

    def _withhold(self, name: str, kind: str, index: int) -> None:
        if name not in self.unprotectable:
            self.unprotectable.append(name)
            (self.withheld_cols if kind == "col" else self.withheld_rows).add(int(index))

    def protect_columns(self) -> bool:
        changed = False
        for j in range(self.values.shape[1]):
            if _line_leaks(self.values[:, j], self.hidden[:, j]):
                i = self._complement(self.values[:, j], self.hidden[:, j])
                if i is None:
                    self._withhold(f"column {self.cols[j]}", "col", j)
                else:
                    self.hidden[i, j] = changed = True
        return changed

    def protect_rows(self) -> bool:
        changed = False
        for i in range(self.values.shape[0]):
            if _line_leaks(self.values[i], self.hidden[i]):
                j = self._complement(self.values[i], self.hidden[i])
                if j is None:
                    self._withhold(f"row {i}", "row", i)
                else:
                    self.hidden[i, j] = changed = True
        return changed

    def protect_pinned(self, threshold: int) -> bool:
        """Hide one more cell (or withhold a total) for the first small cell the row and column
        totals together still pin down."""
        values, hidden = self.values, self.hidden
        pinned = _pinned_cells(values, hidden, (self.withheld_rows, self.withheld_cols))
        pinned &= values < threshold
        for i, j in np.argwhere(pinned):
            k = self._complement(values[:, j], hidden[:, j])
            if k is not None:
                hidden[k, j] = True
                return True
            k = self._complement(values[i], hidden[i])
            if k is not None:
                hidden[i, k] = True
                return True
            if j not in self.withheld_cols:  # nothing left to hide: withhold a total
                self.unprotectable.append(f"column {self.cols[j]}")
                self.withheld_cols.add(int(j))
                return True
            if i not in self.withheld_rows:
                self.unprotectable.append(f"row {i}")
                self.withheld_rows.add(int(i))
                return True
        return False


# -- one threshold, checked once ----------------------------------------------------------------
def check_threshold(value, *, name: str = "suppress_below") -> int:
    """The small-count threshold as a whole number >= 0 (0 or 1 turn suppression off).

    A negative, fractional or boolean value is refused rather than read as "off": switching
    suppression off must be said with 0.
    """
    from .errors import SpecificationError

    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise SpecificationError(f"{name} must be a whole number >= 0 (0 turns suppression off); "
                                 f"got {value!r}")
    return int(value)


def is_safe_count(value, threshold: int) -> bool:
    """A count a reader may learn: zero, or at least ``threshold`` (always, when off)."""
    return threshold <= 1 or value == 0 or value >= threshold


def published_table(table: pd.DataFrame, counts: Iterable[str], threshold: int,
                    marker: str = "suppressed") -> pd.DataFrame:
    """The table as published: small counts shown as ``<threshold``, their rows' decimals hidden.

    Tables that arrive already protected (a marker in a count column, as the site report's
    secondary suppression leaves) are returned unchanged. The HTML report and its CSV tables
    both use this, so they hide the same cells.
    """
    counts = tuple(counts)
    if any(table[c].map(is_suppressed).any() for c in counts if c in table.columns):
        return table
    return hide_derived_figures(suppress_small_counts(table, counts, threshold), table, counts,
                                marker=marker)


# -- curves: steps that never reveal a small count ---------------------------------------------
def release_points(n_event, n_censor, total: float, threshold: int) -> np.ndarray:
    """Rows of an event table at which a survival curve may be published.

    ``n_event`` and ``n_censor`` are the counts at each distinct time (sorted); ``total`` the
    people at the start. Consecutive times are grouped into blocks; the curve is shown only at
    the last time of each block and held flat in between. A block closes once it holds at least
    ``threshold`` events and the people still at risk after it are 0 or at least ``threshold``;
    events after the last such block join it, censorings after it form a last block without a
    step. So every step of the published curve is at least ``threshold`` events, every count of
    events between published times is 0 or at least ``threshold``, and every published number
    at risk is 0 or at least ``threshold``. (Censorings are grouped with the blocks but not
    counted against the threshold: the number whose follow-up ended in an interval is what
    every published at-risk table shows.) Returns the row positions that end a block, empty
    when the group has fewer than ``threshold`` events. With the threshold off every row is
    returned.
    """
    d = np.asarray(n_event, dtype=float)
    c = np.asarray(n_censor, dtype=float)
    if threshold <= 1:
        return np.arange(d.size)
    left_after = float(total) - np.cumsum(d + c)
    ends: list[int] = []
    acc = 0.0
    for i, (di, left) in enumerate(zip(d.tolist(), left_after.tolist(), strict=True)):
        acc += di
        if acc >= threshold and (left == 0 or left >= threshold):
            ends.append(i)
            acc = 0.0
    if not ends:
        return np.array([], dtype=int)
    if acc > 0:  # too few events after the last step for a step of their own: they join it
        ends[-1] = d.size - 1
    elif ends[-1] != d.size - 1:  # censorings after the last step: a block without a step
        ends.append(d.size - 1)
    return np.asarray(ends, dtype=int)


def left_out_note(n_left_out: int, what: str, why: str) -> str:
    """The caption line saying how many groups or sites a figure leaves out, and why."""
    noun = what if n_left_out == 1 else what + "s"
    return f"{n_left_out} {noun} not drawn: {why}; small numbers are not published."
