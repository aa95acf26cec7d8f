"""The individual checks behind :func:`causalips.panel.validate_panel`.

Each function reads or codes one part of a long panel (units, periods, clusters, exposure,
weights) and refuses what would silently break a difference-in-differences analysis, with a
count, an example row and what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._checks import MAX_MAGNITUDE, _plain, check_magnitude, numeric_column
from .errors import DataError


def cell_key(outer: np.ndarray, n_inner: int, inner: np.ndarray) -> np.ndarray:
    """``outer * n_inner + inner`` in one buffer (a pair of codes as one code)."""
    key = np.multiply(outer, n_inner)
    key += inner
    return key


def example_row(df: pd.DataFrame, mask: np.ndarray, cols: Sequence[str]) -> str:
    """``row <label>: {column: value}`` for the first row where ``mask`` holds."""
    i = int(np.flatnonzero(mask)[0])
    vals = {c: _plain(df[c].iloc[i]) for c in dict.fromkeys(cols)}
    return f"row {_plain(df.index[i])!r}: {vals}"


def dense_codes(v: np.ndarray):
    """Sorted codes of integer ids without hashing (bincount over the id range)."""
    if v.size == 0:
        return None, None
    lo, hi = int(v.min()), int(v.max())
    if hi - lo > 4 * v.size + 1000:
        return None, None
    off = (v - lo if lo else v).astype(np.int64, copy=False)
    present = np.bincount(off, minlength=hi - lo + 1) > 0
    if present.all():  # ids are consecutive: the offsets are the codes
        return off, np.arange(lo, hi + 1)
    mapping = np.cumsum(present) - 1
    return mapping[off], np.flatnonzero(present) + lo


def label_codes(s: pd.Series, role: str, col: str, *, sort: bool, plain: bool = True):
    """Codes 0..L-1 and labels of an id column (integer ids fast, others factorised)."""
    plain_int = s.dtype.kind in "iu"  # numpy integers cannot be missing
    if not plain_int and s.isna().any():
        bad = s.isna().to_numpy()
        raise DataError(
            f"column {col!r} (the {role}) has {int(bad.sum())} missing values "
            f"(e.g. row {_plain(s.index[np.flatnonzero(bad)[0]])!r}); give them a label or drop "
            "them."
        )
    codes, labels = None, None
    if pd.api.types.is_integer_dtype(s.dtype):
        codes, labels = dense_codes(s.to_numpy())
    if codes is None:
        codes, labels = pd.factorize(s, sort=sort)
    codes = codes.astype(np.int64, copy=False)
    if not plain:
        return codes, np.asarray(labels)
    return codes, tuple(_plain(v) for v in labels)


def period_codes(df: pd.DataFrame, time: str, t: np.ndarray):
    """Codes 0..T-1 of the sorted periods and the periods as floats."""
    codes, periods = (dense_codes(df[time].to_numpy())
                      if pd.api.types.is_integer_dtype(df[time].dtype) else (None, None))
    if codes is None:
        codes, periods = pd.factorize(t, sort=True)
    return codes.astype(np.int64, copy=False), np.asarray(periods, dtype=np.float64)


def bounded(values: np.ndarray, df: pd.DataFrame, col: str, role: str) -> np.ndarray:
    """Refuse values whose squares overflow double precision (:func:`check_magnitude`)."""
    return check_magnitude(values, col, role=role, df=df)


def read_weights(df: pd.DataFrame, weights: str, unit: str, time: str) -> np.ndarray:
    """Non-negative finite weights, not all zero."""
    w = bounded(numeric_column(df, weights, role="weights"), df, weights, "weights")
    neg = w < 0
    if neg.any():
        raise DataError(
            f"column {weights!r} (the weights) has {int(neg.sum())} negative values "
            f"(e.g. {example_row(df, neg, [unit, time, weights])}); weights must be >= 0."
        )
    if not (w > 0).any():
        raise DataError(f"column {weights!r} (the weights) is zero in every row.")
    return w


@dataclass(frozen=True)
class Layout:
    """How units meet periods: unit-period counts (dense table or None) and balance."""

    counts: np.ndarray | None  # (U * T,) rows per unit-period, or None when sparse
    balanced: bool


def check_layout(df, u_codes, n_units, t_codes, n_periods, unit, time, *, panel: bool) -> Layout:
    """Unit-period counts; in a panel each unit appears at most once per period."""
    key = cell_key(u_codes, n_periods, t_codes)
    if n_units * n_periods <= 4 * key.size + 1_000_000:
        counts = np.bincount(key, minlength=n_units * n_periods)
        if not panel:
            return Layout(counts=counts, balanced=False)
        dup = counts[key] > 1 if counts.max() > 1 else None
        balanced = bool(counts.min() == 1 and counts.max() == 1)
    else:  # sparse panel (many units x many periods): sort instead of a dense table
        counts, balanced = None, False
        if not panel:
            return Layout(counts=None, balanced=False)
        uniq, inv, cnt_u = np.unique(key, return_inverse=True, return_counts=True)
        dup = cnt_u[inv] > 1 if uniq.size < key.size else None
    if dup is not None:
        raise DataError(
            f"{int(dup.sum())} rows share the same {unit}/{time} pair (duplicate unit-period "
            f"rows), e.g. {example_row(df, dup, [unit, time])}. Each unit must appear once per "
            "period: aggregate or drop the duplicates first. Repeated cross-sections (different "
            f"people each period, no person id) are fitted with panel=False and {unit}= the "
            "level where treatment timing is set (e.g. the municipality)."
        )
    return Layout(counts=counts, balanced=balanced)


def exposure_from_treatment(df, treatment, t, u_codes, n_units, unit, time, *, panel: bool):
    """(first exposed period per unit, 0/1 exposure per row) from a 0/1 column."""
    d = numeric_column(df, treatment, role="treatment")
    bad = (d != 0) & (d != 1)
    if bad.any():
        raise DataError(
            f"column {treatment!r} (the treatment) must be 0/1; {int(bad.sum())} rows are "
            f"not (e.g. {example_row(df, bad, [unit, time, treatment])}). Code exposure as 1 "
            "and no exposure as 0, or pass first_treated= instead."
        )
    first = np.full(n_units, np.inf)
    np.minimum.at(first, u_codes, np.where(d == 1, t, np.inf))
    off = (d == 0) & (t >= np.take(first, u_codes))
    if off.any():
        where = (f"(e.g. {example_row(df, off, [unit, time, treatment])}; first exposed in "
                 f"{first[u_codes][off][0]:g})")
        if not panel:
            raise DataError(
                f"{int(off.sum())} rows have {treatment}=0 in or after the first exposed period "
                f"of their {unit} {where}. With panel=False the exposure is set per {unit} and "
                f"period: every row of a {unit} is exposed from its first exposed period on."
            )
        raise DataError(
            f"treatment switches off: {int(off.sum())} rows have {treatment}=0 after the "
            f"unit's first exposed period {where}. The estimators assume exposure is absorbing: "
            "code the unit as exposed from its first exposed period on, or drop the unit."
        )
    return first, d


def exposure_from_first_treated(df, first_treated, t, periods, u_codes, n_units, unit, time):
    """(first exposed period per unit, 0/1 exposure per row); NaN/0/inf = never treated."""
    s = df[first_treated]
    ft = (s.to_numpy() if s.dtype == np.float64  # already floats: read without a copy
          else numeric_column(df, first_treated, role="first_treated", allow_missing=True))
    zero = ft == 0
    has_zero = bool(zero.any())
    if has_zero and np.any(periods == 0):
        raise DataError(
            f"column {first_treated!r} is 0 in {int(zero.sum())} rows but 0 is also an "
            f"observed period of {time!r}, so 0 cannot mean 'never treated' "
            f"(e.g. {example_row(df, zero, [unit, time, first_treated])}). Code never-treated "
            "units as missing (NaN) or inf."
        )
    ft_fill = np.fmin(ft, np.inf)  # missing (never treated) -> +inf, in one pass
    if has_zero or (ft_fill.size and ft_fill.min() == -np.inf):
        ft_fill[zero | (ft_fill == -np.inf)] = np.inf  # 0 and -inf also mean never treated
    first = np.empty(n_units)
    first[u_codes] = ft_fill  # one value per unit (the last row's) ...
    of_row = np.take(first, u_codes)
    varies = of_row != ft_fill  # ... which every row of the unit must equal
    if varies.any():
        raise DataError(
            f"column {first_treated!r} (the first_treated period) changes within a unit "
            f"(e.g. {example_row(df, varies, [unit, time, first_treated])}). It must be one "
            "value per unit: the first period the unit is exposed."
        )
    return first, np.greater_equal(t, of_row, out=np.empty(t.size), casting="unsafe")


def always_treated_units(first, u_codes, t, n_units, periods, balanced) -> np.ndarray:
    """Per unit: exposed from its first observed period (no before-after contrast)."""
    if balanced:
        t_min = np.full(n_units, periods[0])
    else:
        t_min = np.full(n_units, np.inf)
        np.minimum.at(t_min, u_codes, t)
    return np.isfinite(first) & (first <= t_min)


def check_groups(first, periods, *, time, timing_col, is_treatment, require_controls) -> None:
    """Treated and (unless not required) never-treated units, and two or more periods."""
    ever = np.isfinite(first)
    if not ever.any():
        raise DataError(
            f"no treated units: {'the treatment' if is_treatment else 'first_treated'} column "
            f"{timing_col!r} marks no unit as exposed in the observed periods "
            f"({periods.min():g}-{periods.max():g}). Check the coding (1 = exposed) and the "
            "period range."
        )
    if require_controls and ever.all():
        raise DataError(
            f"all {first.size} units are treated at some point and none stays untreated: a "
            "single group has no control. Add never-treated units, or use StaggeredDiD with "
            "control='not_yet_treated'."
        )
    if periods.size < 2:
        raise DataError(f"only one period ({periods[0]:g}) in column {time!r}; a DiD needs two "
                        "or more.")


def count_gaps(layout: Layout, u_codes, t_codes, n_units, n_periods, *, panel: bool = True):
    """(unit-periods missing inside units' observed spans, gaps per unit)."""
    if layout.balanced:
        return 0, np.zeros(n_units, dtype=np.int64)
    if layout.counts is None:
        lo_t = np.full(n_units, n_periods)
        hi_t = np.full(n_units, -1)
        np.minimum.at(lo_t, u_codes, t_codes)
        np.maximum.at(hi_t, u_codes, t_codes)
        present_n = (np.bincount(u_codes, minlength=n_units) if panel else  # one row each
                     np.bincount(np.unique(u_codes * n_periods + t_codes) // n_periods,
                                 minlength=n_units))
        gaps = (hi_t - lo_t + 1 - present_n).astype(np.int64)
    else:
        present = layout.counts.reshape(n_units, n_periods) > 0
        first_p = np.argmax(present, axis=1)
        last_p = n_periods - 1 - np.argmax(present[:, ::-1], axis=1)
        gaps = (last_p - first_p + 1 - present.sum(axis=1)).astype(np.int64)
    return int(gaps.sum()), gaps


def cluster_cells(c_codes, n_clusters, t_codes, n_periods, d):
    """(cell stats or None, exposed per cluster, exposure varies within a cell)."""
    cell = cell_key(c_codes, n_periods, t_codes)
    if n_clusters * n_periods <= 4 * cell.size + 1_000_000:
        n_cell = np.bincount(cell, minlength=n_clusters * n_periods)
        d_cell = np.bincount(cell, weights=d, minlength=n_clusters * n_periods)
        stats = (cell, n_cell, d_cell)
        exposed = d_cell.reshape(n_clusters, n_periods).sum(axis=1) > 0
    else:  # many sparse cells: compress by sorting, no dense table
        uniq, inv = np.unique(cell, return_inverse=True)
        n_cell = np.bincount(inv, minlength=uniq.size)
        d_cell = np.bincount(inv, weights=d, minlength=uniq.size)
        stats = None
        exposed = np.bincount(uniq // n_periods, weights=d_cell, minlength=n_clusters) > 0
    within = bool(np.any((d_cell > 0) & (d_cell < n_cell)))
    return stats, exposed, within


__all__ = ["MAX_MAGNITUDE", "Layout", "always_treated_units", "bounded", "cell_key", "check_groups",
           "check_layout", "cluster_cells", "count_gaps", "dense_codes", "example_row",
           "exposure_from_first_treated", "exposure_from_treatment", "label_codes",
           "period_codes", "read_weights"]
