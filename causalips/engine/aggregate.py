"""Grouped aggregations run in the engine: the sufficient statistics estimators ask for.

Only these small tables come back to numpy. Estimators build their numbers from them with the
same code they use for in-memory data, so every engine gives the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import pandas as pd

from ..errors import DataError
from .checks import _example, check_values, numeric_expr, require_columns
from .frames import Table

#: a guard against a "small" table that is not: more rows than this means the grouping keys
#: are (nearly) unique per row, and collecting them would move the data, not a summary
MAX_AGGREGATED_ROWS = 50_000_000


def grouped(table: Table, by: Sequence[str], aggs: Mapping[str, Any], *,
            where=None, sort: bool = True) -> pd.DataFrame:
    """``GROUP BY by`` with the named aggregate expressions; returns a pandas table.

    One pass over the data (:func:`grouped_at_most` with the default guard against keys that
    are nearly one per row). ``where`` filters rows first; the small result is sorted by ``by``
    (in pandas) when ``sort``.
    """
    out = grouped_at_most(table, by, aggs, where=where)
    if sort and by:
        out = out.sort_values(list(by), kind="stable").reset_index(drop=True)
    return out


def comparable(dtype, value) -> bool:
    """Whether a column of ``dtype`` can hold ``value`` (text with text, numbers with numbers)."""
    if isinstance(value, str):
        return dtype in (nw.String, nw.Categorical, nw.Enum)
    if isinstance(value, bool):
        return dtype == nw.Boolean or dtype.is_numeric()
    return dtype.is_numeric() or (dtype == nw.Boolean and value in (0, 1))


def event_indicator(table: Table, column: str, *, event_value=None):
    """An expression that is 1 for an event and 0 for censoring, checked like the pandas path."""
    dtype = table.schema[column]
    if event_value is not None:
        seen = table.collect(table.frame.select(column).unique().head(7))[column].tolist()
        # a text value never equals a number (and the engines refuse to compare them)
        hits = comparable(dtype, event_value) and table.collect(table.frame.select(
            (nw.col(column) == event_value).cast(nw.Int64).sum().alias("n")))["n"].iloc[0]
        if not hits:
            shown = ", ".join(repr(v) for v in seen[:6])
            raise DataError(
                f"event_value={event_value!r} never occurs in column {column!r} (values seen: "
                f"{shown}); pass the value that marks an event.")
        return (nw.col(column) == event_value).cast(nw.Float64)
    if dtype == nw.Boolean:
        return nw.col(column).cast(nw.Float64)
    if any(dtype == kind for kind in (nw.Int8, nw.Int16, nw.Int32, nw.Int64, nw.UInt8,
                                       nw.UInt16, nw.UInt32, nw.UInt64, nw.Float32,
                                       nw.Float64)):
        value = nw.col(column).cast(nw.Float64)
        stats = table.collect(table.frame.select(
            value.is_null().cast(nw.Int64).sum().alias("missing"),
            (~value.is_in([0.0, 1.0])).cast(nw.Int64).sum().alias("other")))
        if stats["missing"].iloc[0]:
            raise DataError(
                f"column {column!r} (the event) has {int(stats['missing'].iloc[0])} missing "
                f"values (e.g. the row with {_example(table, value.is_null(), [column])}); code "
                "censored rows as 0 or drop them.")
        if not stats["other"].iloc[0]:
            return value
    seen = table.collect(table.frame.select(column).unique().head(7))[column].tolist()
    raise DataError(
        f"column {column!r} (the event) must be 0/1 or boolean, or you must say which value "
        f"means the event with event_value=; values seen: {', '.join(repr(v) for v in seen[:6])}")


def event_counts(table: Table, *, duration: str, event: str, group: str | None = None,
                 weights: str | None = None, event_value=None) -> pd.DataFrame:
    """Events and censorings by group and distinct time (weighted if ``weights``).

    Columns: ``group`` (absent without a group), ``time``, ``n_event``, ``n_censor``,
    ``n_rows``. This is all Kaplan–Meier, Nelson–Aalen, the log-rank test and RMST need.
    """
    require_columns(table, {"duration": duration, "event": event, "group": group,
                            "weights": weights})
    roles = {"duration": duration} | ({"weights": weights} if weights else {})
    check_values(table, roles, nonnegative=[duration] + ([weights] if weights else []),
                 keys=[c for c in (group, duration, event) if c])
    if group is not None:
        n_missing = table.collect(table.frame.select(
            nw.col(group).is_null().cast(nw.Int64).sum().alias("n")))["n"].iloc[0]
        if n_missing:
            raise DataError(
                f"column {group!r} (the group) has {int(n_missing)} missing values (e.g. the "
                f"row with {_example(table, nw.col(group).is_null(), [duration, group])}); "
                "give them a label or drop them.")
    d = event_indicator(table, event, event_value=event_value)
    w = numeric_expr(table, weights, "weights") if weights else nw.lit(1.0)
    keyed = table.frame.with_columns(numeric_expr(table, duration, "duration").alias("__time"))
    if group is not None:
        keyed = keyed.with_columns(nw.col(group).alias("__group"))
    view = Table(keyed, table.backend, table.source)
    by = (["__group"] if group is not None else []) + ["__time"]
    out = grouped(view, by, {"n_event": (w * d).sum(), "n_censor": (w * (1 - d)).sum(),
                             "n_rows": nw.len()})
    return out.rename(columns={"__group": "group", "__time": "time"})


def grouped_at_most(table: Table, by: Sequence[str], aggs: Mapping[str, Any], *,
                    max_groups: int = MAX_AGGREGATED_ROWS, too_many: str | None = None,
                    where=None) -> pd.DataFrame:
    """:func:`grouped` in one pass over the data (unsorted): the engine runs the ``GROUP BY``
    once and sends at most ``max_groups + 1`` rows; more than ``max_groups`` groups stop with
    ``too_many`` (a message naming the aggregation to do first) instead of moving rows that are
    not a summary. Use it when the data are scanned for the counts themselves, where counting
    the groups first would read them twice.
    """
    frame = table.frame if where is None else table.frame.filter(where)
    query = frame.group_by(*by).agg(**aggs) if by else frame.select(**aggs)
    out = table.collect(query.head(max_groups + 1))
    if len(out) > max_groups:
        raise DataError(too_many or (
            f"grouping {table.source} by {list(by)} gives more than {max_groups:,} groups: the "
            "keys are close to one per row, so this is not a summary. Aggregate first (e.g. "
            "band a continuous column) or use fewer keys."))
    return out


def one_row_per_key(table: Table, keys: Sequence[str], columns: Sequence[str], *,
                    what: str) -> pd.DataFrame:
    """The rows of a table that has one row per ``keys`` (a site table), once the engine has
    checked that no key repeats; the pandas path's message (``check_no_duplicates``) if one does.

    Such a table is small by nature (a row per site, team or area), so its rows are the
    summary; a person-level table is refused here, never collected. Columns keep their types
    (text stays text for the caller's own checks).
    """
    keys = list(keys)
    shown = [c for c in dict.fromkeys(columns) if c not in keys]
    out = grouped_at_most(table, keys, {c: nw.col(c).max() for c in shown}
                          | {"__rows": nw.len()})
    repeated = pd.to_numeric(out["__rows"]).to_numpy() > 1
    if repeated.any():
        first = {k: v.item() if hasattr(v, "item") else v
                 for k, v in out.loc[repeated, keys].iloc[0].items()}
        n_rows = int(pd.to_numeric(out.loc[repeated, "__rows"]).sum())
        raise DataError(
            f"{n_rows} rows share the same {'/'.join(keys)} ({what}); e.g. {first}. "
            "Each key must appear once: aggregate or drop the duplicates first.")
    return out[keys + shown]
