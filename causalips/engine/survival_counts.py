"""Survival counts in the engine: rows leaving by key x time (x entry time x event code).

Kaplan–Meier, the log-rank test, RMST, the Aalen–Johansen estimator and the support-cap what-if
depend on the rows only through how many people (or how much case weight) leave at each distinct
time, by group and stratum, by cause, and by entry time under delayed entry. One GROUP BY
computes those cells where the data are. The same pass carries the aggregates that validate the
columns (missing or negative values, zero weights, event coding, entries after the end), so a
Parquet file is read once when the data are clean; only a problem costs another query, for its
count and example row. The cells come back to numpy, where the estimators finish with the code
they use for in-memory data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from ..errors import DataError, DroppedRowsWarning, warn
from .aggregate import MAX_AGGREGATED_ROWS, comparable, event_indicator
from .checks import (
    _example,
    is_missing,
    missing_error,
    negative_error,
    numeric_expr,
    require_columns,
)
from .frames import Table

_TIME, _ENTRY, _CODE, _W, _D = "__time", "__entry", "__code", "__w", "__d"


@dataclass(frozen=True)
class SpellCells:
    """The counted cells and what the count said about the rows.

    ``frame`` has one row per distinct (keys..., ``entry``, ``time``, ``code``): the key columns
    named by their role, ``n_rows`` (rows with non-zero weight), ``weight`` (their summed
    weights; ``n_rows`` without weights) and, unless counted by code, ``n_event`` (weighted
    events) and ``n_hits`` (rows with the event). ``timespan`` says the durations were time
    spans read as days, ``whole`` that the duration column holds integers (the ``time`` key
    is float either way); ``dropped`` is the zero-weight message already issued as a warning.
    """

    frame: pd.DataFrame
    timespan: bool
    whole: bool
    dropped: str | None


def mixed_units_error(entry: str, duration: str) -> DataError:
    return DataError(
        f"columns {entry!r} (the entry) and {duration!r} (the duration) must both be time "
        "spans or both be numbers in the same unit")


def late_entry_error(n_rows: int, entry: str, duration: str, start: float, stop: float,
                     where: str = "") -> DataError:
    """Rows that entered at or after the end of their follow-up (``where``: "row 3: ")."""
    return DataError(
        f"{n_rows} rows have {entry!r} >= {duration!r} (e.g. {where}entry {start:g}, end "
        f"{stop:g}); a row is followed on (entry, duration], so each entry must come before "
        "the end of its follow-up. Drop rows that ended before they entered.")


def spell_cells(table: Table, *, roles: Mapping[str, str | None], duration: str, event: str,
                keys: Mapping[str, str | None] = (), weights: str | None = None,
                entry: str | None = None, event_value=None, by_code: bool = False,
                stacklevel: int = 3) -> SpellCells:
    """Count the rows of ``table`` by ``keys`` (role -> column), entry time, time and code.

    ``roles`` lists every column of the plan (checked present, in the pandas path's order).
    The event is a 0/1 indicator (``event_value`` names the value meaning the event) unless
    ``by_code``, where its raw values become a key for the caller to map (causes, ends).
    Raises the pandas path's errors; zero-weight rows are dropped with its warning.
    """
    require_columns(table, roles)
    keys = {role: col for role, col in dict(keys).items() if col is not None}
    schema = table.schema
    for role, col in (("duration", duration), ("entry", entry)):
        if col is not None and schema[col] == nw.Unknown:  # e.g. a Spark interval
            raise DataError(
                f"column {col!r} (the {role}) has a type the engine cannot read as a number "
                f"in {table.source}; store it as a number of days first (in Spark: "
                f"F.col({col!r}).cast('long') / 86400 for a day-time interval).")
    timespan = schema[duration] == nw.Duration
    exprs = {_TIME: numeric_expr(table, duration, "duration")}
    if entry is not None:
        if (schema[entry] == nw.Duration) != timespan:
            raise mixed_units_error(entry, duration)
        exprs[_ENTRY] = numeric_expr(table, entry, "entry")
    if weights is not None:
        exprs[_W] = numeric_expr(table, weights, "weights")
    if by_code:
        exprs[_CODE] = nw.col(event)
    else:
        exprs[_D] = _indicator(table, event, event_value)
    exprs |= {f"__key_{role}": nw.col(col) for role, col in keys.items()}
    by = [*(f"__key_{r}" for r in keys), *([_ENTRY] if entry else []), _TIME,
          *([_CODE] if by_code else [])]
    frame = table.frame.with_columns(**exprs)
    query = frame.group_by(*by).agg(**_aggregates(weights is not None, by_code, event_value))
    # bounded, so a "summary" that is really the rows stops early; Spark needs no bound (its
    # driver refuses results over spark.driver.maxResultSize, and a limit costs it a shuffle)
    cells = table.collect(query if table.backend == "spark"
                          else query.head(MAX_AGGREGATED_ROWS + 1))
    if len(cells) > MAX_AGGREGATED_ROWS:
        raise DataError(
            f"counting {table.source} by {', '.join([*keys.values(), duration])} gives more "
            f"than {MAX_AGGREGATED_ROWS:,} cells: the times are close to one per row. Round the "
            "durations (e.g. to whole days) first, so the counts summarise the rows.")
    shown = [c for c in (duration, event, *keys.values()) if c]
    check = _Checker(table, exprs, weights, shown)
    if not int(cells["n_rows"].sum()):
        raise DataError("data has no rows; nothing to estimate.")
    cells, dropped = check.weight_column(cells, stacklevel + 1) if weights else (cells, None)
    check.values(cells, _TIME, duration, "duration")
    if entry is not None:
        check.values(cells, _ENTRY, entry, "entry")
        late = cells[_ENTRY].to_numpy() >= cells[_TIME].to_numpy()
        if late.any():
            first = cells[late].iloc[0]
            raise late_entry_error(int(cells.loc[late, "n_rows"].sum()), entry, duration,
                                   first[_ENTRY], first[_TIME])
    if by_code:
        check.missing_labels(cells, _CODE, event, "event", "code censored rows as 0 or drop them.")
    else:
        check.event(cells, event, event_value)
    for role, col in keys.items():
        check.missing_labels(cells, f"__key_{role}", col, role,
                             "give them a label or drop them.")
    whole = schema[duration].is_integer()
    return SpellCells(_tidy(cells, keys, weights is not None, by_code), timespan, whole, dropped)


def _indicator(table: Table, event: str, event_value):
    """The event as a float 1/0 (null where missing; other values left for the check)."""
    dtype = table.schema[event]
    if event_value is not None:
        if not comparable(dtype, event_value):  # never equal; keep nulls visible as missing
            return nw.when(~nw.col(event).is_null()).then(nw.lit(0.0))
        return (nw.col(event) == event_value).cast(nw.Float64)
    if dtype == nw.Boolean or dtype.is_numeric():
        return nw.col(event).cast(nw.Float64)
    event_indicator(table, event)  # text or dates: raises the pandas path's coding error
    raise DataError(f"column {event!r} (the event) must be 0/1 or boolean")  # pragma: no cover


def _aggregates(weighted: bool, by_code: bool, event_value) -> dict:
    w, d = nw.col(_W), nw.col(_D)
    kept = (w != 0) if weighted else None

    def kept_rows(condition):
        return (condition if kept is None else condition & kept).cast(nw.Int64).sum()

    aggs = {"n_rows": nw.len()}
    if weighted:
        aggs |= {"n_zero": (w == 0).cast(nw.Int64).sum(), "w_count": w.count(),
                 "w_sum": w.sum(), "w_min": w.min()}
    if not by_code:
        aggs["n_event"] = (w * d).sum() if weighted else d.sum()
        aggs["ev_bad"] = kept_rows(d.is_null() | ~d.is_in([0.0, 1.0]))
        if weighted:
            aggs["n_hits"] = kept_rows(d == 1.0)
    return aggs


class _Checker:
    """Turns the validating aggregates of the cells into the pandas path's errors."""

    def __init__(self, table: Table, exprs: dict, weights: str | None, shown: list[str]):
        self.table, self.exprs, self.weights, self.shown = table, exprs, weights, shown

    def _kept(self, condition):
        return condition if self.weights is None else condition & (self.exprs[_W] != 0)

    def _count(self, condition) -> int:
        out = self.table.collect(self.table.frame.select(
            condition.cast(nw.Int64).sum().alias("n")))["n"].iloc[0]
        return int(out or 0)

    def weight_column(self, cells: pd.DataFrame, stacklevel: int):
        col, w = self.weights, self.exprs[_W]
        rows = cells["n_rows"].to_numpy()
        if (cells["w_count"].to_numpy() < rows).any() \
                or not np.isfinite(cells["w_sum"].to_numpy(dtype=float)).all():
            condition = is_missing(w)
            raise missing_error(self.table, col, "weights", self._count(condition), condition,
                                self.shown)
        if (cells["w_min"].to_numpy(dtype=float) < 0).any():
            raise negative_error(self.table, col, "weights", self._count(w < 0), w < 0,
                                 self.shown)
        n_zero, total = int(cells["n_zero"].sum()), int(rows.sum())
        if not n_zero:
            return cells, None
        msg = (f"{n_zero} of {total} rows have zero weight in {col!r} and were dropped (e.g. "
               f"the row with {_example(self.table, w == 0, [*self.shown, col])}); they carry "
               "no information")
        warn(msg, DroppedRowsWarning, n_dropped=n_zero)
        if n_zero == total:
            raise DataError(f"every weight in {col!r} is zero; nothing to estimate")
        cells = cells.assign(n_rows=cells["n_rows"] - cells["n_zero"])
        return cells[cells["n_rows"] > 0], msg

    def values(self, cells: pd.DataFrame, key: str, col: str, role: str) -> None:
        """Missing and negative durations (or entries), counted from the cells' keys."""
        values = cells[key].to_numpy(dtype=float)
        rows = cells["n_rows"].to_numpy()
        with np.errstate(invalid="ignore"):
            bad, negative = ~np.isfinite(values), values < 0
        if bad.any():
            raise missing_error(self.table, col, role, int(rows[bad].sum()),
                                self._kept(is_missing(self.exprs[key])), self.shown)
        if negative.any():
            raise negative_error(self.table, col, role, int(rows[negative].sum()),
                                 self._kept(self.exprs[key] < 0), self.shown)

    def missing_labels(self, cells: pd.DataFrame, key: str, col: str, role: str,
                       advice: str) -> None:
        missing = cells[key].isna().to_numpy()
        if missing.any():
            n = int(cells.loc[missing, "n_rows"].sum())
            example = _example(self.table, self._kept(_null(self.table, col)), self.shown)
            raise DataError(f"column {col!r} (the {role}) has {n} missing values (e.g. the row "
                            f"with {example}); {advice}")

    def event(self, cells: pd.DataFrame, event: str, event_value) -> None:
        if int(cells["ev_bad"].sum()):
            condition = self._kept(_null(self.table, event))
            n_missing = self._count(condition)
            if n_missing:
                raise DataError(
                    f"column {event!r} (the event) has {n_missing} missing values (e.g. the "
                    f"row with {_example(self.table, condition, self.shown)}); code censored "
                    "rows as 0 or drop them.")
            event_indicator(self.table, event)  # raises: values other than 0/1
        hits = cells["n_hits"] if "n_hits" in cells else cells["n_event"]
        if event_value is not None and not hits.to_numpy().any():
            event_indicator(self.table, event, event_value=event_value)  # raises: never occurs
            raise DataError(f"event_value={event_value!r} never occurs in column {event!r} "
                            "among the rows with non-zero weight; pass the value that marks an "
                            "event.")


def _null(table: Table, col: str):
    """Null, or NaN for a float column: what pandas' ``isna`` finds missing."""
    dtype = table.schema[col]
    if dtype in (nw.Float32, nw.Float64):
        return nw.col(col).is_null() | nw.col(col).is_nan()
    return nw.col(col).is_null()


def _tidy(cells: pd.DataFrame, keys: Mapping[str, str], weighted: bool,
          by_code: bool) -> pd.DataFrame:
    names = {f"__key_{r}": r for r in keys} | {_ENTRY: "entry", _TIME: "time", _CODE: "code"}
    out = cells.rename(columns=names)
    by = [c for c in (*keys, "entry", "time", "code") if c in out]
    out["weight"] = out["w_sum"].astype(float) if weighted else out["n_rows"].astype(float)
    if not by_code:
        out["n_event"] = out["n_event"].astype(float)
        if not weighted:
            out["n_hits"] = np.rint(out["n_event"]).astype(np.int64)
    keep = [*by, "n_rows", "weight", *([] if by_code else ["n_event", "n_hits"])]
    out = out[keep].astype({"n_rows": np.int64})
    return out.sort_values(by, kind="stable").reset_index(drop=True)


__all__ = ["SpellCells", "spell_cells", "late_entry_error", "mixed_units_error"]
