"""Reading numbers and durations out of a column, refusing what would silently go wrong.

Text that is not a number, dates (pandas would read them as nanoseconds), missing and infinite
values, negative durations and magnitudes whose squares overflow are refused here, each with a
count, an example row and what to do. There is one way to read a duration:
:func:`duration_values` (float days from time spans, NaN where missing, the unit it converted
from); :func:`duration_column` is the same reading for estimators that take complete,
non-negative durations only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from .rows import example_rows, refuse_missing

#: Values beyond this overflow double precision once squared and summed.
MAX_MAGNITUDE = 1e100
_NS_PER_DAY = 86_400e9


def refuse_dates(s: pd.Series, col: str, *, role: str) -> None:
    """Dates and time spans are not numbers: pandas would read them as nanoseconds."""
    if pd.api.types.is_datetime64_any_dtype(s):
        shown = s.dropna().iloc[0] if s.notna().any() else "NaT"
        raise DataError(
            f"column {col!r} (the {role}) holds dates (e.g. {shown}), not numbers; turn dates "
            "into durations first with causalips.durations_from_dates (or subtract the start "
            "date: (df[end] - df[start]).dt.days)."
        )
    if pd.api.types.is_timedelta64_dtype(s):
        raise DataError(
            f"column {col!r} (the {role}) holds time spans, not numbers; convert them with "
            f"df[{col!r}].dt.days (or .dt.total_seconds() / 3600 for hours)."
        )


def numeric_column(df: pd.DataFrame, col: str, *, role: str, allow_missing=False) -> np.ndarray:
    """Return ``df[col]`` as float64, refusing text, dates and (unless allowed) missing values."""
    s = df[col]
    refuse_dates(s, col, role=role)
    if pd.api.types.is_bool_dtype(s):
        values = s.to_numpy(dtype=np.float64)
    elif pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        converted = pd.to_numeric(s, errors="coerce")
        bad = converted.isna().to_numpy() & s.notna().to_numpy()
        if bad.any():
            raise DataError(
                f"column {col!r} (the {role}) must be numeric; {int(bad.sum())} rows are not "
                f"(e.g. row {example_rows(df, bad)}: {s[bad].iloc[0]!r}). "
                "Convert it to numbers first (for dates, use causalips.durations_from_dates)."
            )
        values = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    if not allow_missing:
        refuse_missing(df, col, role=role, mask=~np.isfinite(values),
                       what="missing or infinite values", advice="drop or impute those rows first.")
    return values


def numeric_values(df: pd.DataFrame, col: str, *, role: str) -> np.ndarray:
    """``df[col]`` as float64 with NaN where missing, without a copy when it already is float64
    (a read-only view: the user's data cannot be changed through it). Text, dates and time
    spans are refused (read durations with :func:`duration_values`)."""
    s = df[col]
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else ""
    if kind == "f" and s.dtype.itemsize == 8:
        values = s.to_numpy().view()
        values.setflags(write=False)
        return values
    if kind and kind in "iub":
        return s.to_numpy(dtype=np.float64)
    return numeric_column(df, col, role=role, allow_missing=True)


def check_magnitude(values: np.ndarray, col: str, *, role: str,
                    df: pd.DataFrame | None = None) -> np.ndarray:
    """Refuse values whose squares overflow double precision (e.g. 1e300); return ``values``.

    Missing and infinite values are left to the missing-value checks. ``df`` (the rows of
    ``values``) lets the message name an example row.
    """
    if values.size == 0 or max(-float(values.min()), float(values.max())) <= MAX_MAGNITUDE:
        return values  # two reductions, no temporary array
    big = np.isfinite(values) & (np.abs(values) > MAX_MAGNITUDE)
    if big.any():
        where = "" if df is None else f"row {example_rows(df, big)}: "
        raise DataError(
            f"column {col!r} (the {role}) has {int(big.sum())} values beyond {MAX_MAGNITUDE:.0e} "
            f"in absolute value (e.g. {where}{values[big][0]:.3g}); their squares overflow "
            "double precision. Rescale the column (e.g. divide by 1e6) and scale the estimate "
            "back.")
    return values


def check_nonnegative(df: pd.DataFrame, values: np.ndarray, col: str, *, role: str) -> None:
    """Refuse negative durations (missing values pass: they are another check's business)."""
    if values.size == 0 or values.min() >= 0:
        return  # one reduction, no temporary array
    neg = values < 0
    if neg.any():
        raise DataError(
            f"column {col!r} (the {role}) has {int(neg.sum())} negative values "
            f"(e.g. row {example_rows(df, neg)}: {values[neg][0]!r}); durations count days "
            "from the start date, so check the dates that produced them."
        )


def duration_values(df: pd.DataFrame, col: str, *, role: str = "duration"
                    ) -> tuple[np.ndarray, str | None]:
    """A duration column as float64 (NaN where missing) and the unit it was converted from.

    Time spans (timedelta64) become days (unit ``"days"``, to be stated in the result); dates
    are refused (a date is not a duration: ``durations_from_dates`` makes durations from dates).
    Numbers are returned as they are (unit None), without a copy when they are float64.
    Signs are not checked here (delayed-entry times may be negative in a counting process).

    Example
    -------
    >>> duration_values(pd.DataFrame({"t": pd.to_timedelta([1.5, None], unit="D")}), "t")
    (array([1.5, nan]), 'days')
    """
    s = df[col]
    if pd.api.types.is_timedelta64_dtype(s):
        days = s.to_numpy(dtype="timedelta64[ns]").astype(np.int64).astype(np.float64)
        days[s.isna().to_numpy()] = np.nan
        return days / _NS_PER_DAY, "days"
    refuse_dates(s, col, role=role)
    return numeric_values(df, col, role=role), None


def duration_column(df: pd.DataFrame, col: str, *, role: str = "duration") -> np.ndarray:
    """:func:`duration_values` for estimators that need every duration known and >= 0.

    Missing and negative durations are refused; integer columns stay integer (the counting
    fast path of the curves).
    """
    s = df[col]
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu":
        values = s.to_numpy()  # numpy integers cannot be missing
    else:
        values, unit = duration_values(df, col, role=role)
        refuse_missing(df, col, role=role, mask=~np.isfinite(values),
                       what="missing values" if unit else "missing or infinite values",
                       advice="drop or impute those rows first.")
    check_nonnegative(df, values, col, role=role)
    return values


__all__ = ["MAX_MAGNITUDE", "refuse_dates", "numeric_column", "numeric_values", "check_magnitude",
           "check_nonnegative", "duration_values", "duration_column"]
