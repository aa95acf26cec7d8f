"""From registry employment spells to a person × year panel of workdays.

Registry extracts hold employment *spells* (a person, a start date, an end date, often a
position share), not the person-year outcome a difference-in-differences needs. The conversion
runs as one query in the engine that holds the spells, so 10^8 spell rows never enter pandas:

1. every spell becomes two change points: ``+share`` on its first day, ``-share`` the day after
   its last day;
2. the running sum of the changes per person (ordered by date) is the share worked on each day;
   overlapping spells add up and are capped at one full day (a person cannot work two days in
   one), gaps count nothing;
3. each stretch of constant share is split at the year boundaries and its days × share are
   summed per person and year.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import narwhals as nw

from ._checks import check_choice
from .engine import as_table, is_in_memory
from .engine.checks import require_columns
from .errors import DataError

PERIODS = ("year",)


def workdays_by_period(spells: Any, *, person: str, start: str, end: str,
                       period: str = "year", fraction: str | None = None,
                       until: _dt.date | str | None = None):
    """Workdays per person and period from employment spells.

    Parameters
    ----------
    spells : DataFrame, path, DuckDB relation, polars frame, pyarrow Table or Spark DataFrame
        One row per employment spell.
    person, start, end : str
        Columns: the person id, the spell's first and last day (dates; both days count). An
        empty ``end`` means the spell is still running: pass ``until=`` to close it.
    period : {"year"}
        The period of the panel (calendar years).
    fraction : str, optional
        Column with the position share in (0, 1] (part-time work); full time if omitted.
        Overlapping spells add their shares, capped at 1 per day.
    until : date or "YYYY-MM-DD", optional
        The extract's cut-off: open spells end here.

    Returns
    -------
    The same kind of table as ``spells`` (pandas in, pandas out; a DuckDB relation for files
    and DuckDB relations; a polars LazyFrame; a Spark DataFrame) with columns ``person``,
    ``year`` and ``workdays`` (calendar days in work × share). Person-years without any work do
    not appear: join the panel of the population at risk and fill 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalips import workdays_by_period
    >>> spells = pd.DataFrame({"id": [1, 1], "start": pd.to_datetime(["2019-12-01", "2020-03-01"]),
    ...                        "end": pd.to_datetime(["2020-01-31", "2020-03-10"])})
    >>> workdays_by_period(spells, person="id", start="start", end="end")
       id  year  workdays
    0   1  2019      31.0
    1   1  2020      41.0
    """
    check_choice("period", period, PERIODS)
    table = as_table(spells, what="spells")
    require_columns(table, {"person": person, "start": start, "end": end, "fraction": fraction})
    cutoff = _as_date(until) if until is not None else None
    lf = _spells(table, person=person, start=start, end=end, fraction=fraction, cutoff=cutoff)
    segments = _share_segments(lf)
    span = table.collect(segments.select(
        (nw.col("last").dt.year() - nw.col("first").dt.year()).max().alias("k")))
    k_max = int(span.iloc[0]["k"]) + 1 if span.iloc[0]["k"] is not None else 0
    parts = [_year_part(segments, k) for k in range(max(k_max, 1))]
    out = (nw.concat(parts).filter(nw.col("workdays") > 0)
           .group_by("person", "year").agg(nw.col("workdays").sum())
           .sort("person", "year").rename({"person": person}))
    if is_in_memory(spells):
        return out.collect().to_pandas()
    return out.to_native()


def _as_date(value) -> _dt.date:
    try:
        return _dt.date.fromisoformat(str(value)[:10]) if not isinstance(value, _dt.date) \
            else value
    except ValueError:
        raise DataError(f"until must be a date such as '2023-12-31'; got {value!r}") from None


def _spells(table, *, person, start, end, fraction, cutoff):
    """Spells with checked dates and shares: columns person, first, last, share."""
    schema = table.schema
    for role, col in (("start", start), ("end", end)):
        if schema[col] not in (nw.Date, nw.Datetime):
            raise DataError(f"column {col!r} (the spell {role}) must hold dates; "
                            f"{table.source} stores it as {schema[col]}")
    recorded = nw.col(end).cast(nw.Date)
    last = recorded
    if cutoff is not None:
        last = nw.when(recorded.is_null() | (recorded > nw.lit(cutoff))).then(nw.lit(cutoff)) \
            .otherwise(recorded)
    share = nw.col(fraction).cast(nw.Float64) if fraction else nw.lit(1.0)
    lf = table.frame.select(nw.col(person).alias("person"),
                            nw.col(start).cast(nw.Date).alias("first"),
                            last.alias("last"), share.alias("share"))
    counts = {
        "no_start": nw.col(start).is_null(),
        "no_end": recorded.is_null() & (cutoff is None),
        "reversed": recorded < nw.col(start).cast(nw.Date),
        "bad_share": ((share <= 0) | (share > 1) | share.is_null()) if fraction
        else nw.col(start).is_null() & False,
    }
    bad = table.collect(table.frame.select(
        **{k: v.cast(nw.Int64).sum() for k, v in counts.items()})).iloc[0]
    if bad["no_start"]:
        raise DataError(f"{int(bad['no_start'])} spells have no start date in {start!r}; "
                        "drop them or fill the date")
    if bad["no_end"]:
        raise DataError(f"{int(bad['no_end'])} spells have no end date in {end!r} (still "
                        "running?); pass until= the extract's cut-off date to close them")
    if bad["reversed"]:
        raise DataError(f"{int(bad['reversed'])} spells end before they start ({end!r} < "
                        f"{start!r}); fix the dates or drop those spells")
    if bad["bad_share"]:
        raise DataError(f"{int(bad['bad_share'])} spells have a share in {fraction!r} outside "
                        "(0, 1]; a share is the fraction of a full-time position")
    # spells starting after the cut-off count nothing
    return lf.filter(nw.col("last") >= nw.col("first"))


def _share_segments(lf):
    """Stretches of days with a constant share worked: person, first, last, share (> 0)."""
    day = _dt.timedelta(days=1)
    changes = nw.concat([
        lf.select("person", nw.col("first").alias("day"), nw.col("share").alias("change")),
        lf.select("person", (nw.col("last") + day).cast(nw.Date).alias("day"),
                  (-nw.col("share")).alias("change")),
    ]).group_by("person", "day").agg(nw.col("change").sum())
    level = nw.col("change").cum_sum().over("person", order_by="day")
    upto = nw.col("day").shift(-1).over("person", order_by="day")
    segments = changes.with_columns(level.alias("share"), upto.alias("next"))
    # round-off in the running sum of shares is not work: 1e-9 of a day per stretch
    return segments.filter(nw.col("share") > 1e-9, ~nw.col("next").is_null()).select(
        "person", nw.col("day").alias("first"), (nw.col("next") - day).cast(nw.Date)
        .alias("last"), nw.min_horizontal(nw.col("share"), nw.lit(1.0)).alias("share"))


def _year_part(segments, k: int):
    """The days of each stretch that fall in its (k+1)-th calendar year, × its share."""
    y0, y1 = nw.col("first").dt.year(), nw.col("last").dt.year()
    year = y0 + k
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    year_days = nw.when(leap).then(nw.lit(366)).otherwise(nw.lit(365))
    first = nw.col("first").dt.ordinal_day() if k == 0 else nw.lit(1)
    last = nw.when(year == y1).then(nw.col("last").dt.ordinal_day()).otherwise(year_days)
    days = nw.when(year <= y1).then(last - first + 1).otherwise(nw.lit(0))
    return segments.select("person", year.cast(nw.Int64).alias("year"),
                           (days.cast(nw.Float64) * nw.col("share")).alias("workdays"))


__all__ = ["workdays_by_period"]
