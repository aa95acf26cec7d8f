"""Reading the columns survival curves are built from, the same way for every curve estimator.

Kaplan–Meier, the log-rank test, cumulative incidence, RMST and the support-cap what-if all read
a duration (time spans are taken in days, dates refused), optionally a delayed-entry time, case
weights (rows with zero weight dropped, with a warning giving the count) and a group column
coded once.
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
    positive_weights,
)
from ..errors import DataError

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
              weights: str | None = None) -> Rows:
    """Check the plan's columns, drop zero-weight rows (warning with the count), note time spans.

    ``roles`` maps each role (``duration``, ``event``, ``group`` ...) to its column.
    """
    df = as_dataframe(data)
    check_columns(df, roles)
    check_not_empty(df)
    notes: list[str] = []
    w = None
    if weights is not None:
        df, w, dropped = positive_weights(df, weights, stacklevel=4)
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
        raise DataError(
            f"columns {entry!r} (the entry) and {duration!r} (the duration) must both be time "
            "spans or both be numbers in the same unit")
    start = duration_column(df, entry, role="entry")
    bad = ~(start < stop)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{int(bad.sum())} rows have {entry!r} >= {duration!r} (e.g. row {df.index[i]!r}: "
            f"entry {start[i]:g}, end {stop[i]:g}); a row is followed on (entry, duration], "
            "so each entry must come before the end of its follow-up. Drop rows that ended "
            "before they entered.")
    return start


__all__ = ["Rows", "read_rows", "entry_times", "TIMESPAN_NOTE"]
