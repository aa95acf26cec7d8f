"""Checks on user input with the project's standard messages.

Each check either returns a clean value or raises a :mod:`causalips.errors` exception whose
message names the column or argument, shows a count and an example, and says what to do.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import ColumnNotFoundError, DataError, SpecificationError


def as_dataframe(data: Any, *, what: str = "data") -> pd.DataFrame:
    """Accept a DataFrame (or a dict of columns) and refuse anything else clearly."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        try:
            return pd.DataFrame(data)
        except ValueError as exc:
            raise DataError(f"{what}: could not build a table from the dict ({exc})") from None
    raise DataError(
        f"{what} must be a pandas DataFrame; got {type(data).__name__}. "
        "Read your file with pandas.read_csv / read_parquet first."
    )


def closest_names(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Column names that look like ``name`` (case-insensitive), best first."""
    cands = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(str(name).lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def check_columns(df: pd.DataFrame, columns: dict[str, str | None]) -> None:
    """Raise if any named column is missing; ``columns`` maps role -> column name."""
    for role, col in columns.items():
        if col is None:
            continue
        if not isinstance(col, Hashable):
            raise SpecificationError(
                f"{role}= must be one column name; got {col!r}. Pass the name itself, "
                f"e.g. {role}={next(iter(col), 'name')!r}" if isinstance(col, list | tuple)
                else f"{role}= must be one column name; got {col!r}")
        if col not in df.columns:
            close = closest_names(col, df.columns)
            hint = f"; closest: {', '.join(repr(c) for c in close)}" if close else ""
            shown = ", ".join(repr(str(c)) for c in list(df.columns)[:12])
            more = " ..." if len(df.columns) > 12 else ""
            raise ColumnNotFoundError(
                f"column {col!r} (the {role}) not found{hint}. "
                f"The data have: {shown}{more}. Pass the right name as {role}=."
            )


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """Refuse a value that is not one of ``allowed``, listing them."""
    if value not in allowed:
        close = (
            difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
            if isinstance(value, str)
            else []
        )
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        choices = ", ".join(repr(a) for a in allowed)
        raise SpecificationError(f"{name} must be one of {{{choices}}}; got {value!r}{hint}")
    return value


def check_range(name: str, value: float, low: float, high: float, *, inclusive=(False, False)):
    """Refuse a number outside (low, high) (ends included as ``inclusive`` says)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SpecificationError(f"{name} must be a number; got {value!r}") from None
    lo_ok = v >= low if inclusive[0] else v > low
    hi_ok = v <= high if inclusive[1] else v < high
    if not (lo_ok and hi_ok and np.isfinite(v)):
        lb = "[" if inclusive[0] else "("
        rb = "]" if inclusive[1] else ")"
        raise SpecificationError(f"{name} must lie in {lb}{low}, {high}{rb}; got {value!r}")
    return v


def _example_rows(df: pd.DataFrame, mask: np.ndarray, k: int = 1) -> str:
    idx = df.index[np.asarray(mask)][:k]
    return ", ".join(repr(_plain(i)) for i in idx)


def numeric_column(df: pd.DataFrame, col: str, *, role: str, allow_missing=False) -> np.ndarray:
    """Return ``df[col]`` as float64, refusing text, dates and (unless allowed) missing values."""
    s = df[col]
    refuse_dates(s, col, role=role)
    if pd.api.types.is_bool_dtype(s):
        values = s.to_numpy(dtype=np.float64)
    elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_timedelta64_dtype(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        converted = pd.to_numeric(s, errors="coerce")
        bad = converted.isna().to_numpy() & s.notna().to_numpy()
        if bad.any():
            raise DataError(
                f"column {col!r} (the {role}) must be numeric; {int(bad.sum())} rows are not "
                f"(e.g. row {_example_rows(df, bad)}: {s[bad].iloc[0]!r}). "
                "Convert it to numbers first (for dates, use causalips.durations_from_dates)."
            )
        values = converted.to_numpy(dtype=np.float64, na_value=np.nan)
    if not allow_missing:
        missing = ~np.isfinite(values)
        if missing.any():
            raise DataError(
                f"column {col!r} (the {role}) has {int(missing.sum())} missing or infinite "
                f"values (e.g. row {_example_rows(df, missing)}); drop or impute those rows first."
            )
    return values


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


def timespan_days(s: pd.Series) -> np.ndarray:
    """Time spans (timedelta64) as float days; missing spans become NaN."""
    return s.dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan) / 86400.0


#: Values beyond this overflow double precision once squared and summed.
MAX_MAGNITUDE = 1e100


def check_magnitude(values: np.ndarray, col: str, *, role: str) -> None:
    """Refuse values whose squares overflow double precision (e.g. 1e300); missing and infinite
    values are left to the missing-value checks."""
    big = np.isfinite(values) & (np.abs(values) > MAX_MAGNITUDE)
    if big.any():
        raise DataError(
            f"column {col!r} (the {role}) has {int(big.sum())} values beyond {MAX_MAGNITUDE:.0e} "
            f"in absolute value (e.g. {values[big][0]:.3g}); their squares overflow. Rescale "
            "the column (e.g. divide by 1e6) and scale the estimate back.")


def duration_column(df: pd.DataFrame, col: str, *, role: str = "duration") -> np.ndarray:
    """A validated non-negative duration array; integer columns stay integer (the fast path).

    Time spans (timedelta64) are read as days (a result should say so);
    dates are refused.
    """
    if pd.api.types.is_timedelta64_dtype(df[col]):
        values = timespan_days(df[col])
        missing = ~np.isfinite(values)
        if missing.any():
            raise DataError(
                f"column {col!r} (the {role}) has {int(missing.sum())} missing values "
                f"(e.g. row {_example_rows(df, missing)}); drop or impute those rows first."
            )
        check_nonnegative(df, values, col, role=role)
        return values
    raw = df[col].to_numpy()
    if raw.dtype.kind in "iu" and raw.size:
        low = raw.min()
        if low < 0:
            check_nonnegative(df, raw, col, role=role)
        return raw
    values = numeric_column(df, col, role=role)
    check_nonnegative(df, values, col, role=role)
    return values


def positive_weights(df: pd.DataFrame, col: str, *, stacklevel: int = 3,
                     ) -> tuple[pd.DataFrame, np.ndarray, str | None]:
    """Case weights, with zero-weight rows dropped (one rule for every estimator).

    Returns the kept rows, their weights and the message (``None`` when nothing was dropped);
    the message is also issued as a :class:`~causalips.errors.DroppedRowsWarning` carrying the
    count. Negative, missing or non-numeric weights are refused; all-zero weights too.
    """
    import warnings

    from .errors import DroppedRowsWarning

    w = numeric_column(df, col, role="weights")
    check_nonnegative(df, w, col, role="weights")
    zero = w == 0
    if not zero.any():
        return df, w, None
    n_zero = int(zero.sum())
    msg = (f"{n_zero} of {len(df)} rows have zero weight in {col!r} and were dropped "
           f"(e.g. row {_plain(df.index[zero][0])!r}); they carry no information")
    warnings.warn(DroppedRowsWarning(msg, n_zero), stacklevel=stacklevel)
    if n_zero == len(df):
        raise DataError(f"every weight in {col!r} is zero; nothing to estimate")
    return df.loc[~zero], w[~zero], msg


def check_nonnegative(df: pd.DataFrame, values: np.ndarray, col: str, *, role: str) -> None:
    neg = values < 0
    if neg.any():
        raise DataError(
            f"column {col!r} (the {role}) has {int(neg.sum())} negative values "
            f"(e.g. row {_example_rows(df, neg)}: {values[neg][0]!r}); durations count days "
            "from the start date, so check the dates that produced them."
        )


def event_indicator(df: pd.DataFrame, col: str, *, event_value: Any = None) -> np.ndarray:
    """Turn an event column into a boolean array.

    Accepts 0/1, booleans, or any coding with ``event_value`` naming the value that means the event.
    """
    s = df[col]
    if s.isna().any():
        missing = s.isna().to_numpy()
        raise DataError(
            f"column {col!r} (the event) has {int(missing.sum())} missing values "
            f"(e.g. row {_example_rows(df, missing)}); code censored rows as 0 or drop them."
        )
    if event_value is not None:
        if not (s == event_value).any():
            seen = ", ".join(repr(v) for v in pd.unique(s)[:6])
            raise DataError(
                f"event_value={event_value!r} never occurs in column {col!r} (values seen: {seen}); "
                "pass the value that marks an event."
            )
        return (s == event_value).to_numpy()
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy()
        if values.size == 0:
            return np.zeros(0, dtype=bool)
        if values.dtype.kind in "iu":
            if values.min() >= 0 and values.max() <= 1:
                # one-byte 0/1 codes already are booleans in memory: no copy
                return values.view(bool) if values.itemsize == 1 else values.astype(bool)
        elif np.all((values == 0) | (values == 1)):
            return values == 1
    seen = ", ".join(repr(v) for v in pd.unique(s)[:6])
    raise DataError(
        f"column {col!r} (the event) must be 0/1 or boolean, or you must say which value means the "
        f"event with event_value=; values seen: {seen}"
    )


def cause_codes(df: pd.DataFrame, col: str) -> np.ndarray:
    """The values of an event column holding a number per cause, 0 meaning censored.

    Refuses missing values and non-numeric or boolean codings (competing risks need to know
    which end each row had, not only whether it had one).
    """
    s = df[col]
    if s.isna().any():
        missing = s.isna().to_numpy()
        raise DataError(
            f"column {col!r} (the event) has {int(missing.sum())} missing values "
            f"(e.g. row {_example_rows(df, missing)}); code censored rows as 0 or drop them."
        )
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        seen = ", ".join(repr(v) for v in pd.unique(s)[:6])
        raise DataError(
            f"column {col!r} (the event) must hold a number per route (one code per cause), "
            "0 = censored "
            f"(e.g. 0 censored, 1 job, 2 discharged); values seen: {seen}"
        )
    return s.to_numpy()


def check_no_duplicates(df: pd.DataFrame, keys: Sequence[str], *, what: str) -> None:
    dup = df.duplicated(subset=list(keys), keep=False).to_numpy()
    if dup.any():
        first = df.loc[dup, list(keys)].iloc[0].to_dict()
        raise DataError(
            f"{int(dup.sum())} rows share the same {'/'.join(keys)} ({what}); e.g. {first}. "
            "Each key must appear once: aggregate or drop the duplicates first."
        )


def check_not_empty(df: pd.DataFrame, *, what: str = "data") -> None:
    if len(df) == 0:
        raise DataError(f"{what} has no rows; nothing to estimate.")


@dataclass(frozen=True)
class CodedColumn:
    """A text or categorical column coded once: integer codes, its levels, and where it is missing.

    ``codes[i]`` indexes ``levels`` (sorted, as R orders factor levels) and is -1 where the
    value is missing; every later step (design matrix, strata, groups, messages) reuses these
    codes instead of reading the strings again.
    """

    name: str
    codes: np.ndarray
    levels: tuple[Any, ...]

    @property
    def missing(self) -> np.ndarray:
        return self.codes < 0

    @property
    def n_missing(self) -> int:
        return int(np.count_nonzero(self.codes < 0))


def coded_column(df: pd.DataFrame, col: str) -> CodedColumn:
    """Code ``df[col]`` in one pass (``pd.factorize`` marks missing values as -1).

    Categoricals keep their own codes (levels in category order, unused categories left out);
    Arrow-backed strings use their dictionary encoding; object strings are hashed once. Other
    columns get sorted levels, as R orders factor levels.
    """
    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return _coded_categorical(col, s)
    codes, uniques = pd.factorize(s, sort=True)
    return CodedColumn(col, codes.astype(np.int64, copy=False),
                       tuple(_plain(v) for v in np.asarray(uniques, dtype=object)))


def numeric_values(df: pd.DataFrame, col: str, *, role: str) -> np.ndarray:
    """``df[col]`` as float64 with NaN where missing, without a copy when it already is float64
    (a read-only view: the user's data cannot be changed through it). Text and dates are refused
    (timedeltas too: read durations with :func:`duration_values`)."""
    s = df[col]
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else ""
    if kind == "f" and s.dtype.itemsize == 8:
        values = s.to_numpy().view()
        values.setflags(write=False)
        return values
    if kind and kind in "iub":
        return s.to_numpy(dtype=np.float64)
    if kind and kind in "mM":
        what = "durations (timedelta)" if kind == "m" else "dates"
        raise DataError(
            f"column {col!r} (the {role}) holds {what}; it must hold numbers. For durations use "
            "the duration or entry column (timedeltas become days), for dates "
            "causalips.durations_from_dates")
    return numeric_column(df, col, role=role, allow_missing=True)


def duration_values(df: pd.DataFrame, col: str, *, role: str = "duration"
                    ) -> tuple[np.ndarray, str | None]:
    """A duration column as float64 (NaN where missing) and the unit it was converted from.

    Timedelta columns become days (unit ``"days"``, to be stated in the result); datetime
    columns are refused (a date is not a duration: ``durations_from_dates`` makes durations
    from dates). Numbers are returned as they are (unit None). Signs are not checked here.
    """
    s = df[col]
    if pd.api.types.is_timedelta64_dtype(s):
        days = s.to_numpy(dtype="timedelta64[ns]").astype(np.int64).astype(np.float64)
        days[s.isna().to_numpy()] = np.nan
        return days / 86_400e9, "days"
    if pd.api.types.is_datetime64_any_dtype(s):
        raise DataError(
            f"column {col!r} (the {role}) holds dates (e.g. {s.dropna().iloc[0]!r} in row "
            f"{_example_rows(df, s.notna().to_numpy())}), not durations; compute the time from "
            "start to event first, e.g. causalips.durations_from_dates(data, start=..., "
            "event=..., cutoff=...)")
    return numeric_values(df, col, role=role), None


def _coded_categorical(col: str, s: pd.Series) -> CodedColumn:
    """A Categorical already is codes: keep its observed categories in category order (what
    ``pd.factorize(sort=True)`` returns) without hashing the values again."""
    raw = s.cat.codes.to_numpy()
    categories = s.cat.categories
    if raw.itemsize == 1:  # int8 codes read as uint8: missing (-1) lands in bin 255
        seen = np.bincount(raw.view(np.uint8), minlength=256)[:len(categories)] > 0
    else:
        seen = np.bincount(raw.astype(np.int64) + 1, minlength=len(categories) + 1)[1:] > 0
    codes = raw.astype(np.int64)
    if not seen.all():
        lookup = np.where(seen, np.cumsum(seen) - 1, -1)
        codes = np.append(lookup, -1)[codes]  # -1 (missing) picks the appended -1
        categories = categories[seen]
    return CodedColumn(col, codes, tuple(_plain(v) for v in np.asarray(categories, dtype=object)))


def group_codes(df: pd.DataFrame, col: str | None, *, role: str = "group",
                ) -> tuple[np.ndarray, list[Any]]:
    """Integer codes 0..k-1 and the sorted labels for an optional grouping column.

    The column is coded once (:func:`coded_column`); its missing values (code -1) are refused.
    """
    if col is None:
        return np.zeros(len(df), dtype=np.int64), ["all"]
    coded = coded_column(df, col)
    if coded.n_missing:
        missing = coded.missing
        raise DataError(
            f"column {col!r} (the {role}) has {coded.n_missing} missing values "
            f"(e.g. row {_example_rows(df, missing)}); give them a label or drop them."
        )
    return coded.codes, list(coded.levels)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so labels are JSON-safe and print cleanly."""
    return value.item() if isinstance(value, np.generic) else value


# -- columns of people: 0/1 outcomes, labels, and weights that count people ---------------------
#: More people than this in a table is not a count (float64 holds whole numbers exactly to 9e15,
#: and no population is this large): weights this big are a scaling mistake.
MAX_PEOPLE = 1e12


def refuse_missing(df: pd.DataFrame, col: str, *, role: str, advice: str) -> None:
    """Stop on missing values in ``df[col]``: how many, an example row, and ``advice``."""
    miss = df[col].isna().to_numpy()
    if miss.any():
        raise DataError(f"column {col!r} (the {role}) has {int(miss.sum())} missing values "
                        f"(e.g. row {_example_rows(df, miss)}); {advice}")


def binary_column(df: pd.DataFrame, col: str, *, role: str) -> np.ndarray:
    """A 0/1 (or boolean) column as float 0/1, refusing other codings and missing values."""
    refuse_missing(df, col, role=role, advice="code them 0/1 or drop the rows")
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=np.float64)
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        raise DataError(
            f"column {col!r} (the {role}) must be 0/1 or boolean; {int(bad.sum())} rows are not "
            f"(e.g. row {_example_rows(df, bad)}: {s[bad].iloc[0]!r})"
        )
    return values


def labels_column(df: pd.DataFrame, col: str, *, role: str) -> np.ndarray:
    """A column of labels (groups, sites, populations) as an array, refusing missing labels."""
    refuse_missing(df, col, role=role,
                   advice="give them a label (e.g. 'not known') or drop the rows")
    return df[col].to_numpy()


def weight_column(df: pd.DataFrame, col: str | None) -> np.ndarray:
    """Row weights where a row stands for that many people; ones when ``col`` is None.

    Refuses negative weights and totals that cannot be numbers of people (below one person, or
    above :data:`MAX_PEOPLE`), where the tests of a table would lose all meaning or overflow.
    """
    if col is None:
        return np.ones(len(df))
    w = numeric_column(df, col, role="weight")
    neg = w < 0
    if neg.any():
        raise DataError(
            f"column {col!r} (the weight) has {int(neg.sum())} negative values "
            f"(e.g. row {_example_rows(df, neg)}); weights count people and must be >= 0"
        )
    total = float(w.sum())
    if w.size and not 1.0 <= total <= MAX_PEOPLE:
        big = total > MAX_PEOPLE
        at = np.argmax(w) if big else np.argmax(w > 0)
        raise DataError(
            f"column {col!r} (the weight) sums to {total:.4g} people (e.g. row "
            f"{_plain(df.index[at])!r}: {w[at]:.4g}); a weight is the number of people a row "
            "stands for, so the total must lie between 1 and "
            f"{MAX_PEOPLE:.0e}. Rescale the weights to counts of people first"
        )
    return w


def non_whole_counts(df: pd.DataFrame, values: np.ndarray, col: str, *, role: str) -> str | None:
    """A message when counts of people are not whole numbers (``None`` when they all are)."""
    frac = np.abs(values - np.round(values)) > 1e-9 * np.maximum(1.0, np.abs(values))
    if not frac.any():
        return None
    return (f"column {col!r} (the {role}) holds {int(frac.sum())} counts that are not whole "
            f"numbers (e.g. row {_example_rows(df, frac)}: {values[frac][0]:g}); they are used "
            "as counts of people, so tests and intervals that assume counts are approximate")
