"""Columns of codes: labels coded once, event indicators, causes, 0/1 outcomes.

A text or categorical column is coded once (:func:`coded_column`): integer codes into sorted
levels, -1 where missing; every later step reuses the codes. Event and outcome columns are read
into booleans or cause numbers, and a coding the plan cannot read is refused with the values
seen and how to say what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .rows import example_rows, plain, refuse_missing

_CENSORED_ADVICE = "code censored rows as 0 or drop them."


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

    Example
    -------
    >>> c = coded_column(pd.DataFrame({"arm": ["b", "a", None, "b"]}), "arm")
    >>> c.codes.tolist(), c.levels
    ([1, 0, -1, 1], ('a', 'b'))
    """
    s = df[col]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return _coded_categorical(col, s)
    codes, uniques = pd.factorize(s, sort=True)
    return CodedColumn(col, codes.astype(np.int64, copy=False),
                       tuple(plain(v) for v in np.asarray(uniques, dtype=object)))


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
    return CodedColumn(col, codes, tuple(plain(v) for v in np.asarray(categories, dtype=object)))


def group_codes(df: pd.DataFrame, col: str | None, *, role: str = "group",
                ) -> tuple[np.ndarray, list[Any]]:
    """Integer codes 0..k-1 and the sorted labels for an optional grouping column.

    The column is coded once (:func:`coded_column`); its missing values (code -1) are refused.
    """
    if col is None:
        return np.zeros(len(df), dtype=np.int64), ["all"]
    coded = coded_column(df, col)
    if coded.n_missing:
        refuse_missing(df, col, role=role, mask=coded.missing,
                       advice="give them a label or drop them.")
    return coded.codes, list(coded.levels)


def labels_column(df: pd.DataFrame, col: str, *, role: str) -> np.ndarray:
    """A column of labels (groups, sites, populations) as an array, refusing missing labels."""
    refuse_missing(df, col, role=role,
                   advice="give them a label (e.g. 'not known') or drop the rows")
    return df[col].to_numpy()


def _values_seen(s: pd.Series) -> str:
    return ", ".join(repr(plain(v)) for v in pd.unique(s)[:6])


def event_indicator(df: pd.DataFrame, col: str, *, event_value: Any = None) -> np.ndarray:
    """Turn an event column into a boolean array.

    Accepts 0/1, booleans, or any coding with ``event_value`` naming the value that means the event.
    """
    s = df[col]
    refuse_missing(df, col, role="event", advice=_CENSORED_ADVICE)
    if event_value is not None:
        if not (s == event_value).any():
            raise DataError(
                f"event_value={event_value!r} never occurs in column {col!r} (values seen: "
                f"{_values_seen(s)}); pass the value that marks an event."
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
    raise DataError(
        f"column {col!r} (the event) must be 0/1 or boolean, or you must say which value means the "
        f"event with event_value=; values seen: {_values_seen(s)}"
    )


def cause_codes(df: pd.DataFrame, col: str) -> np.ndarray:
    """The values of an event column holding a number per cause, 0 meaning censored.

    Refuses missing values and non-numeric or boolean codings (competing risks need to know
    which end each row had, not only whether it had one).
    """
    s = df[col]
    refuse_missing(df, col, role="event", advice=_CENSORED_ADVICE)
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raise DataError(
            f"column {col!r} (the event) must hold a number per route (one code per cause), "
            "0 = censored "
            f"(e.g. 0 censored, 1 job, 2 discharged); values seen: {_values_seen(s)}"
        )
    return s.to_numpy()


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
            f"(e.g. row {example_rows(df, bad)}: {s[bad].iloc[0]!r})"
        )
    return values


__all__ = ["CodedColumn", "coded_column", "group_codes", "labels_column", "event_indicator",
           "cause_codes", "binary_column"]
