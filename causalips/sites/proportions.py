"""Proportions and their confidence intervals, and rate tables by group or site.

Two interval methods, both vectorised over groups:

* ``"wilson"`` — the Wilson score interval (inverts the score test; good coverage at small n);
* ``"exact"`` — the Clopper–Pearson interval from beta quantiles (never below nominal coverage).

They agree with ``statsmodels.stats.proportion.proportion_confint`` (methods ``"wilson"`` and
``"beta"``). :func:`rate_columns` builds the per-group rate tables of :class:`~causalips.Reach`
and :class:`~causalips.OutcomeEquity`; :func:`site_counts` turns person-level rows (a pandas
DataFrame, or a file or table an engine holds) into the one-row-per-site table a funnel plot
takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_choice, check_range
from ..errors import DataError
from ._people import Key, count_people, open_data

CI_METHODS = ("wilson", "exact")
CI_NAMES = {"wilson": "Wilson score", "exact": "Clopper-Pearson exact"}


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
        half = z * np.sqrt(p * (1 - p) / m + (z / (2 * m)) ** 2) / denom
        return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = stats.beta.ppf(alpha / 2, x, m - x + 1)
        high = stats.beta.ppf(1 - alpha / 2, x + 1, m - x)
    low = np.where(x <= 0, 0.0, low)
    high = np.where(x >= m, 1.0, high)
    return low, high


def ci_description(method: str, conf_level: float) -> str:
    """How the intervals of a rate table were built, for summaries: '95% Wilson score'."""
    return f"{conf_level:.0%} {CI_NAMES[method]}"


def rate_columns(labels: Sequence, n: np.ndarray, events: np.ndarray, *, method: str,
                 conf_level: float) -> dict:
    """The columns of a rate table: ``group``, ``term``, ``rate`` and the broom statistics."""
    low, high = proportion_ci(events, n, method=method, conf_level=conf_level)
    rate = events / n
    return {"group": list(labels), "term": [str(v) for v in labels], "rate": rate,
            "estimate": rate, "std_error": np.sqrt(rate * (1 - rate) / n),
            "conf_low": low, "conf_high": high}


def as_whole_counts(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Counts that are all whole numbers shown as integers (weighted counts stay decimals)."""
    values = frame[list(columns)].to_numpy(dtype=np.float64)
    if np.allclose(values, np.round(values)):
        frame[list(columns)] = np.round(values).astype(np.int64)
    return frame


def site_counts(
    data,
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
    :class:`~causalips.FunnelPlot`. ``data`` is a pandas DataFrame or anything
    ``causalips.engine.as_table`` reads (a Parquet/CSV path, DuckDB, polars, pyarrow, Spark):
    the sums run where the data are and only the site rows come back.

    Example
    -------
    >>> import pandas as pd
    >>> people = pd.DataFrame({"team": ["A", "A", "B"], "job": [1, 0, 1]})
    >>> site_counts(people, site="team", outcome="job")["denominator"].tolist()
    [2, 1]
    """
    source = open_data(data, {"site": site, "outcome": outcome, "weight": weight})
    counts = count_people(source, keys=[Key(site, "site")], outcome=outcome, weight=weight)
    out = pd.DataFrame({site: counts.keys[site].to_numpy(), numerator: counts.events,
                        denominator: counts.n})
    out = out.sort_values(site, kind="stable", ignore_index=True)
    return as_whole_counts(out, [numerator, denominator])


__all__ = ["proportion_ci", "site_counts", "CI_METHODS"]
