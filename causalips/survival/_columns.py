"""Reading the columns survival curves are built from, the same way for every curve estimator.

Kaplan–Meier, the log-rank test, cumulative incidence, RMST and the support-cap what-if all read
a duration (time spans are taken in days, dates refused), optionally a delayed-entry time, case
weights (rows with zero weight dropped, with a warning giving the count) and a group column
coded once.

:func:`read_spells` gives them one thing to count from, wherever the data are: the rows of an
in-memory DataFrame, or the cells an engine counted (``engine.survival_counts``: rows by group
x time x event, each cell standing for ``rows`` rows). The estimators then run the same code on
either, so a Parquet file, DuckDB, polars or Spark give the numbers pandas gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._checks import (
    as_dataframe,
    check_columns,
    check_not_empty,
    duration_column,
    event_indicator,
    group_codes,
    positive_weights,
)
from ..engine import as_table, is_in_memory
from ..engine.survival_counts import late_entry_error, mixed_units_error, spell_cells
from ._counts import EventTable, event_tables

#: what a result says about durations given as time spans (timedelta64 columns)
TIMESPAN_NOTE = "durations were time spans (timedelta); they are read as days"


@dataclass(frozen=True)
class Rows:
    """The rows a curve estimator uses, with what it said about them on the way in."""

    data: pd.DataFrame
    weights: np.ndarray | None
    time_unit: str | None
    notes: tuple[str, ...]


def read_rows(data, *, roles: dict[str, str | None], duration: str,
              weights: str | None = None, stacklevel: int = 4) -> Rows:
    """Check the plan's columns, drop zero-weight rows (warning with the count), note time spans.

    ``roles`` maps each role (``duration``, ``event``, ``group`` ...) to its column.
    """
    df = as_dataframe(data)
    check_columns(df, roles)
    check_not_empty(df)
    notes: list[str] = []
    w = None
    if weights is not None:
        df, w, dropped = positive_weights(df, weights, stacklevel=stacklevel)
        if dropped:
            notes.append(dropped)
    unit = None
    if pd.api.types.is_timedelta64_dtype(df[duration]):
        unit = "days"
        notes.append(TIMESPAN_NOTE)
    return Rows(df, w, unit, tuple(notes))


def entry_times(df: pd.DataFrame, entry: str, stop: np.ndarray, duration: str) -> np.ndarray:
    """Delayed-entry times: non-negative, in the duration's unit, and before each row's end."""
    if pd.api.types.is_timedelta64_dtype(df[entry]) != pd.api.types.is_timedelta64_dtype(
            df[duration]):
        raise mixed_units_error(entry, duration)
    start = duration_column(df, entry, role="entry")
    bad = ~(start < stop)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise late_entry_error(int(bad.sum()), entry, duration, start[i], stop[i],
                               where=f"row {df.index[i]!r}: ")
    return start


@dataclass(frozen=True)
class Spells:
    """What a curve estimator counts from: one entry per row, or per cell an engine counted.

    ``event`` is the 0/1 indicator as booleans, or (read ``by_code``) the event column's own
    values as a Series, for the estimator to map to causes. ``keys`` maps each grouping role the
    plan names (``group``, ``strata``) to its integer codes and labels (see :meth:`key`). ``rows`` is how many rows each entry
    stands for (``None``: one each, the in-memory path); ``weights`` the case weight each
    carries (``None`` when the plan has no weights).
    """

    duration: np.ndarray
    event: np.ndarray | pd.Series
    keys: dict[str, tuple[np.ndarray, list]]
    n_obs: int
    weights: np.ndarray | None = None
    rows: np.ndarray | None = None
    entry: np.ndarray | None = None
    time_unit: str | None = None
    notes: tuple[str, ...] = ()

    def event_tables(self, codes: np.ndarray, n_codes: int, *,
                     with_entry: bool = True) -> list[EventTable]:
        """Counts per code and distinct time (weighted when the plan has weights)."""
        weights = self.weights
        if weights is None and self.rows is not None:
            weights = self.rows.astype(np.float64)
        return event_tables(self.duration, self.event, codes, n_codes, weights,
                            self.entry if with_entry else None, whole=self.weights is None)

    def key(self, role: str) -> tuple[np.ndarray, list]:
        """Codes and labels of a grouping role; one level, ``"all"``, when the plan has none."""
        if role in self.keys:
            return self.keys[role]
        return np.zeros(self.duration.size, dtype=np.int64), ["all"]

    def rows_by(self, codes: np.ndarray, n_codes: int) -> np.ndarray:
        """Rows per code (unweighted), whatever each entry stands for."""
        counted = np.bincount(codes, weights=self.rows, minlength=n_codes)
        return np.rint(counted).astype(np.int64)


def read_spells(data, *, roles: dict[str, str | None], duration: str, event: str,
                keys: dict[str, str | None], weights: str | None = None,
                entry: str | None = None, event_value=None, by_code: bool = False) -> Spells:
    """The rows of an in-memory DataFrame, or the cells of any other data counted in its engine.

    ``roles`` names every column of the plan (checked present); ``keys`` the grouping roles
    (a role whose column is ``None`` is left out: :meth:`Spells.key` gives it one level). Checks and messages are the
    same on both paths; the engine path never collects rows.
    """
    if not is_in_memory(data):
        return _counted_spells(as_table(data), roles=roles, duration=duration, event=event,
                               keys=keys, weights=weights, entry=entry,
                               event_value=event_value, by_code=by_code)
    rows = read_rows(data, roles=roles, duration=duration, weights=weights, stacklevel=5)
    df = rows.data
    stop = duration_column(df, duration)
    start = None if entry is None else entry_times(df, entry, stop, duration)
    values = df[event] if by_code else event_indicator(df, event, event_value=event_value)
    coded = {role: group_codes(df, col, role=role) for role, col in keys.items() if col}
    return Spells(stop, values, coded, n_obs=len(df), weights=rows.weights, entry=start,
                  time_unit=rows.time_unit, notes=rows.notes)


def _counted_spells(table, *, roles, duration, event, keys, weights, entry, event_value,
                    by_code) -> Spells:
    counted = spell_cells(table, roles=roles, duration=duration, event=event, keys=keys,
                          weights=weights, entry=entry, event_value=event_value,
                          by_code=by_code, stacklevel=5)
    cells = counted.frame
    if by_code:
        values = cells["code"].rename(event)
    else:  # each cell becomes an event part and a censoring part, as rows would be counted
        hit = cells.assign(event=True, weight=cells["n_event"], n_rows=cells["n_hits"])
        miss = cells.assign(event=False, weight=cells["weight"] - cells["n_event"],
                            n_rows=cells["n_rows"] - cells["n_hits"])
        cells = pd.concat([hit[hit["n_rows"] > 0], miss[miss["n_rows"] > 0]],
                          ignore_index=True)
        values = cells["event"].to_numpy(dtype=bool)
    coded = {role: group_codes(cells, role, role=role) for role, col in keys.items() if col}
    notes = tuple(m for m in (counted.dropped, TIMESPAN_NOTE if counted.timespan else None)
                  if m)
    # integer durations stay integers, as the in-memory path keeps them
    time = cells["time"].to_numpy(dtype=np.int64 if counted.whole else np.float64)
    return Spells(time, values, coded,
                  n_obs=int(cells["n_rows"].sum()),
                  weights=cells["weight"].to_numpy(dtype=np.float64) if weights else None,
                  rows=cells["n_rows"].to_numpy(dtype=np.int64),
                  entry=cells["entry"].to_numpy(dtype=np.float64) if entry else None,
                  time_unit="days" if counted.timespan else None, notes=notes)


__all__ = ["Rows", "read_rows", "entry_times", "Spells", "read_spells", "TIMESPAN_NOTE"]
