"""Kaplan–Meier curves, Greenwood variances, confidence limits and quantiles (as R's survival)."""

from __future__ import annotations

import numpy as np
from scipy import special

from ..errors import SpecificationError
from ._counts import EventTable

CI_METHODS = ("log", "log-log", "plain")


def check_horizons(times) -> np.ndarray:
    """Sorted non-negative horizons for ``at(times)``, or our error."""
    try:
        horizons = np.atleast_1d(np.asarray(times, dtype=np.float64))
    except (TypeError, ValueError):
        horizons = np.array([np.nan])
    if horizons.size == 0 or not np.all(np.isfinite(horizons)) or np.any(horizons < 0):
        raise SpecificationError(f"times must be non-negative numbers; got {times!r}")
    return np.sort(horizons)


def km_curve(tab: EventTable) -> dict[str, np.ndarray]:
    """Survival, Greenwood SE of -log S, Nelson–Aalen hazard and its SE at each distinct time."""
    n = tab.n_risk.astype(np.float64)
    d = tab.n_event.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n)
        # Greenwood: the term is infinite when everyone at risk has the event (S drops to 0).
        term = np.where(d > 0, d / (n * (n - d)), 0.0)
        se_log = np.sqrt(np.cumsum(term))
        hazard = np.cumsum(d / n)
        se_hazard = np.sqrt(np.cumsum(np.where(d > 0, d / n**2, 0.0)))
    return {"surv": surv, "se_log": se_log, "cumhaz": hazard, "se_cumhaz": se_hazard}


def conf_limits(surv, se_log, ci_method: str, conf_level: float):
    """Pointwise limits for S(t) built from the SE of -log S, exactly as R's survfit does."""
    z = float(special.ndtri(0.5 + conf_level / 2.0))  # the normal quantile, without overhead
    surv = np.asarray(surv, dtype=np.float64)
    se_log = np.asarray(se_log, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if ci_method == "log":
            lower = surv * np.exp(-z * se_log)
            upper = np.minimum(1.0, surv * np.exp(z * se_log))
        elif ci_method == "log-log":
            loglog = np.log(-np.log(surv))
            half = z * se_log / np.abs(np.log(surv))
            lower = np.exp(-np.exp(loglog + half))
            upper = np.exp(-np.exp(loglog - half))
            undefined = surv >= 1.0
            lower = np.where(undefined, np.nan, lower)
            upper = np.where(undefined, np.nan, upper)
        elif ci_method == "plain":
            lower = np.maximum(0.0, surv - z * surv * se_log)
            upper = np.minimum(1.0, surv + z * surv * se_log)
        else:  # pragma: no cover - guarded by the estimator
            raise ValueError(ci_method)
    dead = (surv <= 0) | ~np.isfinite(se_log)
    return np.where(dead, np.nan, lower), np.where(dead, np.nan, upper)


def _crossing(times, curve, p, last_time, tol):
    """R's rule for where 1 - curve first reaches p, with the midpoint rule on exact flats."""
    x = np.concatenate([[0.0], times])
    y = np.concatenate([[0.0], 1.0 - np.asarray(curve, dtype=np.float64)])
    # drop repeated values (censor-only times) keeping the first; missing values count as equal
    keyed = np.where(np.isnan(y), np.inf, y)
    first = np.ones(y.size, dtype=bool)
    _, idx = np.unique(keyed, return_index=True)
    first[:] = False
    first[idx] = True
    x, y = x[first], y[first]
    last_y = y[-1]
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    if y.size == 0 or np.max(y) < p:
        return np.nan
    if p == 0:
        return x[0]
    order = np.argsort(y, kind="stable")

    def smallest_at_least(shift):
        ys = y[order] + shift
        j = np.searchsorted(ys, p, side="left")
        if j >= ys.size:
            return None
        return order[j]

    i1, i2 = smallest_at_least(tol), smallest_at_least(-tol)
    if i1 is None:
        return np.nan
    if not np.isnan(last_y) and abs(p - last_y) < tol:
        return (x[i1] + last_time) / 2.0
    if i2 is None:
        return np.nan
    return (x[i1] + x[i2]) / 2.0


TOLERANCE = float(np.sqrt(np.finfo(float).eps))  # R's quantile.survfit tolerance


def quantile_times(times, surv, lower, upper, probs, tol=TOLERANCE):
    """Quantiles of the time-to-event distribution and their CI (lower curve -> lower limit)."""
    last = times[-1] if len(times) else np.nan
    rows = []
    for p in probs:
        rows.append(
            (
                _crossing(times, surv, p, last, tol),
                _crossing(times, lower, p, last, tol),
                _crossing(times, upper, p, last, tol),
            )
        )
    return np.array(rows, dtype=np.float64).reshape(len(probs), 3)


def restricted_mean(times, surv, n_risk, n_event, tau):
    """Area under the KM step function on [0, tau] and its SE (R's rmean, no n/(n-1) factor)."""
    inside = times <= tau
    t_in = times[inside]
    s_in = surv[inside]
    knots = np.concatenate([[0.0], t_in, [tau]])
    levels = np.concatenate([[1.0], s_in])
    pieces = levels * np.diff(knots)
    area = float(pieces.sum())
    # A_i = area from t_i to tau = sum of the pieces after knot i
    tail = np.cumsum(pieces[::-1])[::-1][1:]
    n = n_risk[inside].astype(np.float64)
    d = n_event[inside].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where((d > 0) & (n > d), tail**2 * d / (n * (n - d)), 0.0)
    return area, float(np.sqrt(term.sum()))
