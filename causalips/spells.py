"""Administrative dates -> durations, event indicators and competing-event codes.

Services record dates (first contact, job start, discharge), not durations. This module turns
them into the (duration, event) pairs survival estimators need, counting calendar days
(weekends included, as the published IPS evaluations do) and censoring at discharge or at the
follow-up cut-off.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ._checks import _plain, as_dataframe, check_choice, check_columns
from .errors import DataError, SpecificationError

EVENT_CODES = {"censored": 0, "event": 1, "competing": 2}


def _dates(df: pd.DataFrame, col: str, role: str) -> pd.Series:
    """The column as dates (time-zone aware if the column is); numbers are refused."""
    raw = df[col]
    if pd.api.types.is_datetime64_any_dtype(raw):
        return raw
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_timedelta64_dtype(raw):
        example = _plain(raw.dropna().iloc[0]) if raw.notna().any() else None
        raise DataError(
            f"column {col!r} (the {role} date) holds numbers (e.g. {example!r}), not dates; "
            "numbers are ambiguous (pandas would read them as nanoseconds since 1970). Convert "
            "them first: pd.to_datetime(df[col].astype(str), format='%Y%m%d') for 20230401, "
            "or pd.to_datetime(df[col], unit='D', origin='1899-12-30') for spreadsheet serials"
        )
    parsed = _parse_dates(raw, col, role)
    bad = parsed.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        example = raw[bad].iloc[0]
        raise DataError(
            f"column {col!r} (the {role} date) has {int(bad.sum())} values that are not dates "
            f"(e.g. row {_plain(raw.index[bad][0])!r}: {example!r}); use ISO dates like 2023-04-01"
        )
    return parsed


def _same_clock(dates: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """All dates on one calendar: all without a time zone, or all with one (then they are read
    in the start column's zone). A mix is refused: a day count across it would be off by the
    offset. Columns with no dates at all take any form."""
    zones = {name: d.dt.tz for name, d in dates.items() if d.notna().any()}
    aware = [name for name, tz in zones.items() if tz is not None]
    if not aware:
        return {name: d.dt.tz_localize(None) if d.dt.tz is not None else d
                for name, d in dates.items()}
    naive = [name for name, tz in zones.items() if tz is None]
    if naive:
        raise DataError(
            f"the dates mix time zones: dates in {', '.join(repr(n) for n in aware)} have a "
            f"time zone ({zones[aware[0]]}) but those in {', '.join(repr(n) for n in naive)} "
            "have none; give every "
            "date (and the cut-off) in the same form, e.g. all with "
            ".dt.tz_localize('Europe/London') or all without (.dt.tz_localize(None))"
        )
    zone = zones[aware[0]]
    return {name: (d.dt.tz_convert(zone) if d.dt.tz is not None else d.dt.tz_localize(zone))
            .dt.tz_localize(None) for name, d in dates.items()}


def _parse_dates(raw: pd.Series, col: str, role: str) -> pd.Series:
    """ISO dates first (fast, unambiguous); anything else through pandas' general parser.

    Text dates with different UTC offsets in one column are refused (pandas cannot hold them
    as one column of dates without choosing a zone for you).
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pandas' note on mixed offsets
        iso = pd.to_datetime(raw, errors="coerce", format="ISO8601")
        if iso.notna().sum() != raw.notna().sum():
            warnings.simplefilter("ignore", UserWarning)
            iso = pd.to_datetime(raw, errors="coerce", dayfirst=True)
    if iso.dtype == object:
        raise DataError(
            f"column {col!r} (the {role} date) has dates with different time zones or UTC "
            f"offsets (e.g. {raw.dropna().iloc[0]!r}); convert them to one zone first, e.g. "
            "pd.to_datetime(df[col], utc=True)"
        )
    return iso


def _read_dates(df: pd.DataFrame, start: str, event: str, end: str | None, cutoff):
    """The start, event, end and cut-off dates of every row, on one calendar."""
    dates = {start: _dates(df, start, "start"), event: _dates(df, event, "event")}
    if end is not None:
        dates[end] = _dates(df, end, "end")
    if isinstance(cutoff, str) and cutoff in df.columns:
        cut = _dates(df, cutoff, "cut-off")
        _refuse(cut.isna(), f"have no cut-off date in {cutoff!r}", df, [cutoff])
    else:
        cut = pd.Series(_cutoff_date(cutoff), index=df.index)
    dates = _same_clock({**dates, "the cut-off": cut})
    end_d = dates[end] if end is not None else pd.Series(pd.NaT, index=df.index)
    return dates[start], dates[event], end_d, dates["the cut-off"]


def _cutoff_date(cutoff) -> pd.Timestamp:
    """A cut-off given as one date; numbers are refused (they are not dates)."""
    if isinstance(cutoff, bool) or isinstance(cutoff, int | float | np.integer | np.floating):
        raise SpecificationError(
            f"cutoff must be a date such as '2024-02-27' (or a column name); got the number "
            f"{cutoff!r}, which is ambiguous (pandas would read it as nanoseconds since 1970)")
    try:
        value = pd.Timestamp(cutoff)
    except (TypeError, ValueError):
        raise SpecificationError(
            f"cutoff must be a date such as '2024-02-27' or a column name; got {cutoff!r}"
        ) from None
    if pd.isna(value):
        raise SpecificationError("cutoff is missing; give the date follow-up ended")
    return value


def _refuse(mask: pd.Series, message: str, df: pd.DataFrame, cols: list[str]) -> None:
    if mask.any():
        row = mask.index[mask.to_numpy()][0]
        shown = {c: str(df.at[row, c]) for c in cols}
        raise DataError(f"{int(mask.sum())} rows {message} (e.g. row {_plain(row)!r}: {shown})")


def durations_from_dates(
    data: pd.DataFrame,
    *,
    start: str,
    event: str,
    cutoff: str | pd.Timestamp,
    end: str | None = None,
    end_is_competing: bool = False,
    event_after_end: Literal["error", "censor", "keep"] = "error",
    duration_name: str = "duration",
    event_name: str = "event",
    event_type_name: str = "event_type",
) -> pd.DataFrame:
    """Turn start / event / end dates and a follow-up cut-off into duration and event columns.

    Parameters
    ----------
    data : DataFrame
        One row per person (or spell).
    start : str
        Column with the date follow-up starts (e.g. first IPS contact). Must be present.
    event : str
        Column with the date of the event (e.g. job start); missing when it did not happen.
    cutoff : str or Timestamp or column name
        End of follow-up: a date for everyone (``"2024-02-27"``) or a column with one per row.
        Events after it are not observed, so the row is censored at the cut-off.
    end : str, optional
        Column with the date follow-up ended for another reason (e.g. discharge from the
        caseload); missing when still followed.
    end_is_competing : bool
        If True, an ``end`` before the event and the cut-off is a competing event (code 2), e.g.
        "discharged without a job"; otherwise it censors the row.
    event_after_end : {"error", "censor", "keep"}
        What to do when the event date is after the end date: refuse (default), treat the row
        as ended at ``end`` without the event, or keep the event and ignore ``end``.
    duration_name, event_name, event_type_name : str
        Names of the new columns.

    Returns
    -------
    DataFrame
        A copy of ``data`` with ``duration`` (calendar days, float), ``event`` (0/1) and, when
        ``end`` is given, ``event_type`` (0 censored, 1 event, 2 competing end).

    Raises
    ------
    DataError
        Missing start dates, an event or end before the start, a start after the cut-off, an
        event after the end (unless ``event_after_end`` says otherwise), unparseable dates.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"first": ["2023-01-01", "2023-01-01"],
    ...                    "job": ["2023-03-02", None], "left": [None, "2023-02-01"]})
    >>> durations_from_dates(df, start="first", event="job", end="left",
    ...                      cutoff="2024-02-27", end_is_competing=True)[["duration", "event_type"]]
       duration  event_type
    0      60.0           1
    1      31.0           2
    """
    df = as_dataframe(data)
    check_choice("event_after_end", event_after_end, ("error", "censor", "keep"))
    check_columns(df, {"start": start, "event": event, "end": end})
    start_d, event_d, end_d, cut = _read_dates(df, start, event, end, cutoff)
    _refuse(start_d.isna(), f"have no {start!r} date; every row needs a start", df, [start])
    _refuse(event_d < start_d, f"have {event!r} before {start!r}; fix the dates or drop the rows",
            df, [start, event])
    if end is not None:
        _refuse(end_d < start_d, f"have {end!r} before {start!r}; fix the dates or drop the rows",
                df, [start, end])
    _refuse(start_d > cut, f"start after the cut-off ({start!r} later than the end of follow-up); "
            "drop them: they were never followed", df, [start])

    after_end = event_d.notna() & end_d.notna() & (event_d > end_d)
    if after_end.any():
        if event_after_end == "error":
            _refuse(after_end, f"have {event!r} after {end!r}; pass event_after_end='censor' to end "
                    "follow-up at the end date, or 'keep' to count the event", df, [event, end])
        elif event_after_end == "censor":
            event_d = event_d.mask(after_end)
        else:
            end_d = end_d.mask(after_end)

    observed = event_d.notna() & (event_d <= cut)
    ended = end_d.notna() & (end_d <= cut) & ~observed
    stop = cut.where(~ended, end_d).where(~observed, event_d)
    days = (stop - start_d).dt.days.to_numpy(dtype=np.float64)

    out = df.copy()
    out[duration_name] = days
    out[event_name] = observed.to_numpy().astype(np.int64)
    if end is not None:
        code = np.zeros(len(df), dtype=np.int64)
        code[observed.to_numpy()] = EVENT_CODES["event"]
        if end_is_competing:
            code[ended.to_numpy()] = EVENT_CODES["competing"]
        out[event_type_name] = code
    return out


__all__ = ["durations_from_dates", "EVENT_CODES"]
