"""The Fine–Gray expanded data (R's ``survival::finegray``) and the checks of its inputs.

People with a competing event get extra (start, stop] rows over the later censoring intervals
that hold events of interest, weighted by G(t)/G(T) with G the Kaplan–Meier curve of the
censoring times; a weighted counting-process Cox model on these rows is the Fine–Gray model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._checks import (
    _example_rows,
    as_dataframe,
    cause_codes,
    check_columns,
    duration_column,
)
from ..errors import DataError

#: names of the columns the expansion adds (R's finegray prefix "fg")
FG_COLUMNS = ("fg_start", "fg_stop", "fg_status", "fg_weight")


def finegray_expand(duration: np.ndarray, status: np.ndarray, cause: Any) -> dict[str, np.ndarray]:
    """The Fine–Gray expanded data for right-censored competing-risks data (R's ``finegray``).

    Parameters
    ----------
    duration : array
        Time of the first event or censoring, one per person.
    status : array
        0 = censored, ``cause`` = the event of interest, any other value = a competing event.
    cause : scalar
        The code of the event of interest.

    Returns
    -------
    dict with ``row`` (index of the person each new row belongs to), ``start``, ``stop``,
    ``status`` (1 for an event of interest) and ``weight``. Rows of one person are together, in
    the input order; the first row of a person with a competing event runs to the end of the
    censoring interval holding their event time, and each extra row covers a later censoring
    interval in which an event of interest happens, weighted by G(interval)/G(own interval).
    """
    duration = np.asarray(duration, dtype=np.float64)
    status = np.asarray(status)
    n = duration.size
    censored = status == 0
    interest = status == cause
    competing = ~censored & ~interest

    # Kaplan–Meier of the censoring times; at a tie, events leave before censorings.
    c_times, c_count = np.unique(duration[censored], return_counts=True)
    order = np.sort(duration)
    n_after = n - np.searchsorted(order, c_times, side="right")  # time > c
    g = np.cumprod(1.0 - c_count / (n_after + c_count)) if c_times.size else np.zeros(0)
    cut = np.concatenate([c_times, [duration.max()]])  # interval j = (cut[j-1], cut[j]]
    prob = np.concatenate([[1.0], g])  # G just before the end of interval j
    n_cut = cut.size

    # intervals holding at least one event-of-interest time (left-open: #cut < t)
    event_times = np.unique(duration[interest])
    keep = np.zeros(n_cut, dtype=bool)
    keep[0] = True
    seen = np.searchsorted(cut, event_times, side="left")
    keep[seen[seen < n_cut]] = True
    kept = np.flatnonzero(keep[1:]) + 1  # intervals that can be added (j >= 1)

    own = np.searchsorted(cut, duration, side="left")  # first j with cut[j] >= time
    first_extra = np.searchsorted(kept, own, side="right")
    extra = np.where(competing, kept.size - first_extra, 0)
    sizes = 1 + extra
    row = np.repeat(np.arange(n), sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(row.size) - np.repeat(offsets, sizes)  # 0 = the original row
    zero = 0.0 if n == 0 or duration.min() > 0 else 2.0 * duration.min() - 1.0
    start = np.full(row.size, zero)
    stop = duration[row].copy()
    weight = np.ones(row.size)
    base = pos == 0
    comp_base = base & competing[row]
    stop[comp_base] = cut[own[row[comp_base]]]
    add = ~base
    j = kept[first_extra[row[add]] + pos[add] - 1]
    start[add] = cut[j - 1]
    stop[add] = cut[j]
    weight[add] = prob[j] / prob[own[row[add]]]
    return {
        "row": row,
        "start": start,
        "stop": stop,
        "status": (interest[row] & base).astype(np.int64),
        "weight": weight,
    }


def finegray_data(data: pd.DataFrame, *, duration: str, event: str, cause: Any,
                  keep: Sequence[str] | None = None) -> pd.DataFrame:
    """Expanded data for a Fine–Gray fit as a DataFrame (R's ``finegray()`` output).

    Keeps the columns ``keep`` (all by default) and adds ``fg_start``, ``fg_stop``,
    ``fg_status`` and ``fg_weight``; ``fg_row`` says which input row each new row comes from.
    """
    df = as_dataframe(data)
    check_columns(df, {"duration": duration, "event": event})
    t = _durations(df, duration)
    status = _status(df, event, cause)
    out = finegray_expand(t, status, cause)
    cols = list(df.columns) if keep is None else list(keep)
    frame = df[cols].iloc[out["row"]].reset_index(drop=True)
    frame["fg_row"] = out["row"]
    frame["fg_start"] = out["start"]
    frame["fg_stop"] = out["stop"]
    frame["fg_status"] = out["status"]
    frame["fg_weight"] = out["weight"]
    return frame


def _durations(df: pd.DataFrame, col: str) -> np.ndarray:
    """Durations as float numbers (timedeltas in days), refusing missing and negative values."""
    return np.asarray(duration_column(df, col, role="duration"), dtype=np.float64)


def _status(df: pd.DataFrame, event: str, cause: Any) -> np.ndarray:
    """The event codes: whole numbers >= 0 (0 censored), among which ``cause`` occurs."""
    values = cause_codes(df, event)
    bad = (values < 0) | (values != np.floor(values))
    if bad.any():
        seen = ", ".join(repr(v) for v in sorted(pd.unique(values).tolist())[:8])
        raise DataError(
            f"column {event!r} (the event) must hold whole-number codes >= 0 (0 censored, one "
            f"code per route); {int(bad.sum())} rows do not (e.g. row {_example_rows(df, bad)}: "
            f"{values[bad][0]!r}). Codes seen: {seen}. Recode them, e.g. "
            f"data[{event!r}].map({{...}}), before the fit."
        )
    if not (values == cause).any():
        seen = ", ".join(repr(v) for v in sorted(pd.unique(values).tolist())[:6])
        raise DataError(
            f"cause={cause!r} never occurs in column {event!r} (codes seen: {seen}); "
            "pass the code of the event of interest"
        )
    return values
