"""Proportions with confidence intervals, and person-level data turned into site counts.

Two interval methods, both vectorised over sites:

* ``"wilson"`` — the Wilson score interval (inverts the score test; good coverage at small n);
* ``"exact"`` — the Clopper–Pearson interval from beta quantiles (never below nominal coverage).

They agree with ``statsmodels.stats.proportion.proportion_confint`` (methods ``"wilson"`` and
``"beta"``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    _example_rows,
    as_dataframe,
    check_choice,
    check_columns,
    check_not_empty,
    check_range,
    numeric_column,
)
from ..errors import DataError

CI_METHODS = ("wilson", "exact")


def proportion_ci(
    events,
    n,
    *,
    method: Literal["wilson", "exact"] = "wilson",
    conf_level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for ``events / n`` (arrays broadcast; counts may be weighted).

    Parameters
    ----------
    events, n : array-like
        Numbers of events and of people (``0 <= events <= n``, ``n > 0``).
    method : {"wilson", "exact"}
        Wilson score interval, or Clopper–Pearson exact interval
        ``[B(a/2; x, n-x+1), B(1-a/2; x+1, n-x)]`` with B the beta quantile (0 and 1 at the ends).
    conf_level : float
        Confidence level (default 0.95).

    Returns
    -------
    (low, high) : tuple of numpy arrays

    Example
    -------
    >>> low, high = proportion_ci([74], [240], method="exact")
    >>> round(float(low[0]), 4), round(float(high[0]), 4)
    (0.2505, 0.371)
    """
    check_choice("method", method, CI_METHODS)
    conf_level = check_range("conf_level", conf_level, 0, 1)
    x = np.atleast_1d(np.asarray(events, dtype=np.float64))
    m = np.atleast_1d(np.asarray(n, dtype=np.float64))
    x, m = np.broadcast_arrays(x, m)
    if np.any(m <= 0) or np.any(x < 0) or np.any(x > m) or not np.all(np.isfinite(x + m)):
        raise DataError("proportion_ci needs 0 <= events <= n and n > 0 for every entry")
    alpha = 1.0 - conf_level
    if method == "wilson":
        z = stats.norm.ppf(1 - alpha / 2)
        p = x / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
        return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = stats.beta.ppf(alpha / 2, x, m - x + 1)
        high = stats.beta.ppf(1 - alpha / 2, x + 1, m - x)
    low = np.where(x <= 0, 0.0, low)
    high = np.where(x >= m, 1.0, high)
    return low, high


def site_counts(
    data: pd.DataFrame,
    *,
    site: str,
    outcome: str,
    weight: str | None = None,
    numerator: str = "numerator",
    denominator: str = "denominator",
) -> pd.DataFrame:
    """Aggregate person-level rows (one per person, ``outcome`` 0/1) into one row per site.

    Returns a DataFrame with ``site``, ``numerator`` (sum of the outcome) and ``denominator``
    (number of rows, or the sum of ``weight``), sorted by site name — ready for
    :class:`~causalips.FunnelPlot`.
    """
    df = as_dataframe(data)
    check_columns(df, {"site": site, "outcome": outcome, "weight": weight})
    check_not_empty(df)
    y = binary_column(df, outcome, role="outcome")
    w = weight_column(df, weight)
    missing = df[site].isna().to_numpy()
    if missing.any():
        raise DataError(
            f"column {site!r} (the site) has {int(missing.sum())} missing values "
            f"(e.g. row {_example_rows(df, missing)}); label or drop them"
        )
    frame = pd.DataFrame({site: df[site].to_numpy(), numerator: y * w, denominator: w})
    out = frame.groupby(site, sort=True, observed=True).sum().reset_index()
    if weight is None or np.allclose(out[[numerator, denominator]] % 1, 0):
        out[[numerator, denominator]] = out[[numerator, denominator]].round().astype(np.int64)
    return out


def binary_column(df: pd.DataFrame, col: str, *, role: str) -> np.ndarray:
    """A 0/1 (or boolean) column as float 0/1, refusing other codings and missing values."""
    s = df[col]
    if s.isna().any():
        miss = s.isna().to_numpy()
        raise DataError(
            f"column {col!r} (the {role}) has {int(miss.sum())} missing values "
            f"(e.g. row {_example_rows(df, miss)}); code them 0/1 or drop the rows"
        )
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


def weight_column(df: pd.DataFrame, col: str | None) -> np.ndarray:
    """Row weights (a row standing for a count of people); ones when ``col`` is None."""
    if col is None:
        return np.ones(len(df))
    w = numeric_column(df, col, role="weight")
    neg = w < 0
    if neg.any():
        raise DataError(
            f"column {col!r} (the weight) has {int(neg.sum())} negative values "
            f"(e.g. row {_example_rows(df, neg)}); weights count people and must be >= 0"
        )
    return w


def labels_column(df: pd.DataFrame, col: str, *, role: str) -> np.ndarray:
    """A grouping column as an array, refusing missing labels."""
    s = df[col]
    miss = s.isna().to_numpy()
    if miss.any():
        raise DataError(
            f"column {col!r} (the {role}) has {int(miss.sum())} missing values "
            f"(e.g. row {_example_rows(df, miss)}); give them a label (e.g. 'not known') or "
            "drop the rows"
        )
    return s.to_numpy()


__all__ = ["proportion_ci", "site_counts", "CI_METHODS"]
