"""The columns a survival regression uses, each read once (R's ``model.frame``).

Every column of the plan is read a single time: text, categorical and boolean columns are coded
(integer codes + levels, missing as -1, from one ``pd.factorize`` pass, see
``_checks.coded_column``), numeric columns are taken as float64 without a copy when they already
are. Rows with a missing value in any of them are dropped (one warning with the count, the
columns and example rows), then rows with zero case weight (another warning with the count).
Everything later (design matrix, strata, clusters, messages) reuses these arrays and codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._checks import (
    CodedColumn,
    check_nonnegative,
    coded_column,
    duration_values,
    event_indicator,
    numeric_values,
)
from ..errors import DataError, DroppedRowsWarning, warn


@dataclass
class ModelColumns:
    """The columns of one fit, on the rows kept (all arrays in data order)."""

    index: pd.Index  # labels of the rows kept (for messages)
    numbers: dict[str, np.ndarray]  # float64 per numeric column (durations in days if converted)
    codes: dict[str, CodedColumn]  # per text / categorical / boolean column
    event: np.ndarray | None = None  # bool per row
    weights: np.ndarray | None = None
    time_unit: str | None = None  # "days" when timedelta durations were converted
    warnings: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.index)

    def frame(self) -> pd.DataFrame:
        """An empty frame with the kept row labels (what the _checks messages read)."""
        return pd.DataFrame(index=self.index)


def read_columns(df: pd.DataFrame, *, roles: dict[str, str], coded: set[str],
                 numeric: set[str], durations: tuple[str | None, ...] = (),
                 event: str | None = None, event_value=None,
                 weights: str | None = None) -> ModelColumns:
    """Read the plan's columns once and drop incomplete and zero-weight rows (with warnings).

    ``roles`` maps each column to its role (for messages); columns in ``coded`` are coded,
    columns in ``numeric`` read as float64 (both, for a column used both ways), ``durations``
    with :func:`duration_values` (timedeltas become days); the ``event`` column becomes a
    boolean array.
    """
    numbers: dict[str, np.ndarray] = {}
    codes: dict[str, CodedColumn] = {}
    units = set()
    missing = np.zeros(len(df), dtype=bool)
    with_missing = []
    for col, role in roles.items():
        holes = []
        if col == event:
            holes.append(_missing_of(df[col]))
        if col in coded:
            codes[col] = coded_column(df, col)
            holes.append(codes[col].missing if codes[col].n_missing else None)
        if col in numeric or col in durations:
            if col in durations:
                values, unit = duration_values(df, col, role=role)
                units.add(unit)
            else:
                values = numeric_values(df, col, role=role)
            numbers[col] = values
            holes.append(np.isnan(values) if values.dtype.kind == "f" else None)
        holes = [h for h in holes if h is not None and h.any()]
        if holes:
            for hole in holes:
                missing |= hole
            with_missing.append(col)
    if len(units) > 1:
        raise DataError(f"columns {[c for c in durations if c]} mix timedeltas and numbers; "
                        "give both as timedeltas or both as numbers of days")
    cols = ModelColumns(index=df.index, numbers=numbers, codes=codes,
                        time_unit=next(iter(units)) if units else None)
    if missing.any():
        _drop(cols, missing, f"for missing values in {with_missing}", "",
              empty="no rows left after dropping rows with missing values")
    if event is not None:
        src = df if not missing.any() else df[[event]].iloc[np.flatnonzero(~missing)]
        cols.event = event_indicator(src, event, event_value=event_value)
    if weights is not None:
        _drop_zero_weights(cols, weights)
    return cols


def _missing_of(s: pd.Series) -> np.ndarray | None:
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iub":
        return None  # numpy integer / boolean columns cannot hold missing values
    return s.isna().to_numpy()


def _drop(cols: ModelColumns, drop: np.ndarray, reason: str, tail: str, *, empty: str) -> None:
    """Drop the rows ``drop`` (a mask) from every array, warn with the count and examples, and
    refuse when nothing is left."""
    n_drop = int(drop.sum())
    message = (f"{n_drop} of {len(drop)} rows dropped {reason} (e.g. rows "
               f"{cols.index[drop][:3].tolist()}){tail}")
    keep = ~drop
    cols.index = cols.index[keep]
    cols.numbers = {k: v[keep] for k, v in cols.numbers.items()}
    cols.codes = {k: CodedColumn(c.name, c.codes[keep], c.levels) for k, c in cols.codes.items()}
    if cols.event is not None:
        cols.event = cols.event[keep]
    if cols.weights is not None:
        cols.weights = cols.weights[keep]
    warn(message, DroppedRowsWarning, n_dropped=n_drop)
    cols.warnings.append(message)
    if cols.n == 0:
        raise DataError(empty)


def _drop_zero_weights(cols: ModelColumns, col: str) -> None:
    """Negative weights are an error; rows of weight 0 carry no information and are dropped
    (one rule for every estimator: drop them and say how many)."""
    w = cols.numbers[col]
    check_nonnegative(cols.frame(), w, col, role="weights")
    cols.weights = w
    zero = w == 0
    if zero.any():
        _drop(cols, zero, f"with zero weight in {col!r}", "; they carry no information",
              empty=f"all weights in {col!r} are zero")


def combined_codes(parts: list[CodedColumn]) -> tuple[np.ndarray, list[str]]:
    """Codes 0..k-1 of the distinct combinations of several coded columns (sorted as the
    levels, the first column most significant) and their labels ("a, b")."""
    if not parts:
        raise ValueError("no columns to combine")
    key = np.zeros(parts[0].codes.size, dtype=np.int64)
    size = 1
    for p in parts:
        key *= len(p.levels)
        key += p.codes
        size *= len(p.levels)
    if size <= 4 * key.size + 1024:
        present = np.bincount(key, minlength=size) > 0
        used = np.flatnonzero(present)
        codes = (np.cumsum(present) - 1)[key]
    else:
        used, codes = np.unique(key, return_inverse=True)
    labels = []
    for k in used.tolist():
        values = []
        for p in reversed(parts):
            k, r = divmod(k, len(p.levels))
            values.append(p.levels[r])
        labels.append(", ".join(str(v) for v in reversed(values)))
    return codes.astype(np.int64), labels
