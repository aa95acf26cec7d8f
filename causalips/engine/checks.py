"""Validation as queries: the pandas path's checks, run inside the engine.

Each check is one aggregate query (or a schema lookup) over the lazy table; only counts and one
example row come back. The messages say the same things as the pandas path's (`_checks`):
which column and role, how many rows, an example, what to do. Lazy tables have no row numbers,
so the example shows the row's values instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import narwhals as nw
import pandas as pd

from .._checks import _plain, check_columns
from ..errors import DataError
from .frames import Table

NUMERIC_KINDS = (nw.Int8, nw.Int16, nw.Int32, nw.Int64, nw.UInt8, nw.UInt16, nw.UInt32,
                 nw.UInt64, nw.Float32, nw.Float64, nw.Boolean, nw.Decimal)


def require_columns(table: Table, roles: Mapping[str, str | None]) -> None:
    """The same ColumnNotFoundError as the pandas path, from the schema alone."""
    check_columns(pd.DataFrame(columns=table.columns), dict(roles))


def _is_numeric(dtype) -> bool:
    return any(dtype == kind for kind in NUMERIC_KINDS)


def _example(table: Table, condition, columns: Sequence[str]) -> str:
    """One row where ``condition`` holds, shown as ``col=value`` pairs (or '' if none)."""
    shown = list(dict.fromkeys(columns))[:4]
    rows = table.collect(table.frame.filter(condition).select(shown).head(1))
    if rows.empty:
        return ""
    return ", ".join(f"{c}={_plain(rows.iloc[0][c])!r}" for c in shown)


def numeric_expr(table: Table, column: str, role: str):
    """An expression for ``column`` as float64 days or numbers; text and dates are refused."""
    dtype = table.schema[column]
    if _is_numeric(dtype):
        return nw.col(column).cast(nw.Float64)
    if dtype == nw.Duration:
        # microseconds, not whole seconds: a span of 1.5 s stays 1.5 s, as pandas reads it
        return nw.col(column).dt.total_microseconds().cast(nw.Float64) / 86_400e6
    if dtype in (nw.Date, nw.Datetime):
        raise DataError(
            f"column {column!r} (the {role}) holds dates in {table.source}; it must be a number "
            "(for time from one date to another, use causalips.durations_from_dates).")
    bad = _example(table, ~nw.col(column).is_null(), [column])
    raise DataError(
        f"column {column!r} (the {role}) must be numeric, but {table.source} stores it as "
        f"{dtype} (e.g. {bad or 'no value'}). Convert it to numbers first.")


def is_missing(value):
    """Null, NaN or infinite: what the pandas path calls a missing or infinite value."""
    return value.is_null() | value.is_nan() | ~(value.abs() < float("inf"))


def missing_error(table: Table, col: str, role: str, n_bad: int, condition,
                  keys: Sequence[str] = ()) -> DataError:
    """The pandas path's "has N missing or infinite values" error, with an example row."""
    return DataError(
        f"column {col!r} (the {role}) has {n_bad} missing or infinite values "
        f"(e.g. the row with {_example(table, condition, [*keys, col])}); drop or impute "
        "those rows first.")


def negative_error(table: Table, col: str, role: str, n_neg: int, condition,
                   keys: Sequence[str] = ()) -> DataError:
    """The pandas path's "has N negative values" error, with an example row."""
    return DataError(
        f"column {col!r} (the {role}) has {n_neg} negative values (e.g. the row with "
        f"{_example(table, condition, [*keys, col])}); durations count days from the start "
        "date, so check the dates that produced them.")


def check_values(table: Table, roles: Mapping[str, str], *, nonnegative: Sequence[str] = (),
                 allow_missing: Sequence[str] = (), keys: Sequence[str] = ()) -> dict:
    """One query: missing (null, NaN, infinite) counts of every role, minima of ``nonnegative``.

    ``roles`` maps role -> column; all are checked numeric. Returns ``{"n_rows", "min"}`` for
    callers that need them. Raises the first problem found, with a count and an example row
    (its ``keys`` columns and the offending one).
    """
    exprs = {}
    for role, col in roles.items():
        value = numeric_expr(table, col, role)
        exprs[f"missing::{role}"] = is_missing(value).cast(nw.Int64).sum()
        if col in nonnegative:
            exprs[f"min::{role}"] = value.min()
    exprs["n_rows"] = nw.len()
    stats = table.collect(table.frame.select(**exprs)).iloc[0]
    for role, col in roles.items():
        n_bad = int(stats[f"missing::{role}"] or 0)
        if n_bad and col not in allow_missing:
            value = numeric_expr(table, col, role)
            raise missing_error(table, col, role, n_bad, is_missing(value), keys)
        if col in nonnegative and pd.notna(stats.get(f"min::{role}")) \
                and stats[f"min::{role}"] < 0:
            value = numeric_expr(table, col, role)
            n_neg = int(table.collect(table.frame.select(
                (value < 0).cast(nw.Int64).sum().alias("n"))).iloc[0]["n"])
            raise negative_error(table, col, role, n_neg, value < 0, keys)
    return {"n_rows": int(stats["n_rows"]),
            "min": {r: stats[f"min::{r}"] for r in roles if f"min::{r}" in stats}}


def check_unique(table: Table, keys: Sequence[str], *, what: str) -> None:
    """No two rows share the same ``keys`` (e.g. unit and period), counted in the engine."""
    counts = table.frame.group_by(*keys).agg(nw.len().alias("__rows"))
    dup = counts.filter(nw.col("__rows") > 1)
    stats = table.collect(dup.select(nw.col("__rows").sum().alias("rows"),
                                     nw.len().alias("keys")))
    n_rows = stats.iloc[0]["rows"]
    if pd.notna(n_rows) and int(n_rows) > 0:
        first = table.collect(dup.select(*keys).head(1)).iloc[0].to_dict()
        raise DataError(
            f"{int(n_rows)} rows share the same {'/'.join(keys)} ({what}); e.g. {first}. "
            "Each key must appear once: aggregate or drop the duplicates first.")
