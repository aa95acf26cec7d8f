"""Control limits of a funnel plot and the over-dispersion behind them (Spiegelhalter 2005).

Control limits
--------------
* ``method="normal"``: ``target ± z * sqrt(target (1 - target) / n)`` (clipped to [0, 1]).
* ``method="exact"``: Spiegelhalter's interpolated exact binomial limits. For a tail
  probability ``p`` (e.g. 0.975 for the upper 95% limit) let ``r`` be the smallest count with
  ``F(r) >= p`` where ``F`` is the Binomial(n, target) distribution function; then
  ``alpha = (F(r) - p) / (F(r) - F(r - 1))`` and the limit is ``(r - alpha) / n``.
  (Spiegelhalter 2005, Statistics in Medicine 24:1185, appendix.)

For risk-adjusted comparisons (``expected=`` a column of expected events from a case-mix
model) the indicator is the observed/expected ratio O/E with target 1 and precision E; the limits
are the same formulas with a Poisson(E) count: ``1 ± z / sqrt(E)`` or ``(r - alpha) / E``.

Over-dispersion (Spiegelhalter 2005, Quality and Safety in Health Care 14:347)
-------------------------------------------------------------------------------
z-scores ``z_i = (y_i - target) / s_i`` are Winsorised (the lowest and highest 10% set to the
10th and 90th percentiles) and ``phi = mean(z_w**2)``; ``k phi`` is compared with chi-squared on
``k - 1`` degrees of freedom (``k`` when the target is given rather than estimated).

* ``"multiplicative"``: limits ``target ± z * sqrt(phi) * s_i`` (phi below 1 is taken as 1);
* ``"additive"`` (random effects): ``tau2 = max(0, (k phi - (k - 1)) / (sum w - sum w^2 / sum w))``
  with ``w_i = 1 / s_i^2`` (DerSimonian–Laird form on Winsorised z), limits
  ``target ± z * sqrt(s_i^2 + tau2)``.

Over-dispersed limits use the normal form whatever ``method`` says (stated in ``summary()``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def level_name(level: float) -> str:
    """Column suffix of a control-limit level: 0.95 -> '95', 0.998 -> '998'."""
    return f"{level * 100:.10g}".replace(".", "")


def funnel_limits(
    precision,
    target: float,
    level: float,
    *,
    method: str = "exact",
    scale: str = "proportion",
    phi: float = 1.0,
    tau2: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits at each ``precision`` (site size n, or expected count E).

    ``scale="proportion"`` uses the binomial(n, target) distribution; ``scale="ratio"`` uses
    Poisson(E) for an O/E ratio with target 1. ``phi``/``tau2`` widen normal limits (see module
    notes); with ``phi == 1`` and ``tau2 == 0`` and ``method="exact"`` the limits are the
    interpolated exact limits.
    """
    m = np.asarray(precision, dtype=np.float64)
    tail = (1.0 - level) / 2.0
    overdispersed = phi != 1.0 or tau2 != 0.0
    if scale == "proportion":
        var0 = target * (1.0 - target) / m
        upper_bound = 1.0
    else:
        var0 = target / m
        upper_bound = np.inf
    if method == "normal" or overdispersed:
        z = stats.norm.ppf(1.0 - tail)
        half = z * np.sqrt(phi * var0 + tau2)
        return np.clip(target - half, 0.0, upper_bound), np.clip(target + half, 0.0, upper_bound)
    out = []
    for p in (tail, 1.0 - tail):
        if scale == "proportion":
            n_int = np.round(m)
            dist = stats.binom(n_int, target)
        else:
            n_int = m
            dist = stats.poisson(m * target)
        r = dist.ppf(p)
        f_r = dist.cdf(r)
        f_below = dist.cdf(r - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(f_r > f_below, (f_r - p) / (f_r - f_below), 0.0)
            limit = (r - alpha) / n_int
        out.append(np.clip(limit, 0.0, upper_bound))
    return out[0], out[1]


def dispersion(z: np.ndarray, weights: np.ndarray, *, winsor: float, target_given: bool):
    """Spiegelhalter's phi (Winsorised), its chi-squared test and the additive tau2."""
    k = z.size
    if winsor > 0 and k > 2:
        lo, hi = np.quantile(z, [winsor, 1.0 - winsor])
        zw = np.clip(z, lo, hi)
    else:
        zw = z
    phi = float(np.mean(zw**2))
    df = k if target_given else k - 1
    chisq = k * phi
    p_value = float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan
    sw = float(np.sum(weights))
    denom = sw - float(np.sum(weights**2)) / sw
    tau2 = max(0.0, (chisq - (k - 1)) / denom) if denom > 0 else 0.0
    return phi, tau2, chisq, df, p_value


def flags(y, lowers, uppers, names):
    """'above 99.8%' / 'above 95%' / 'within' / ... using the widest limit exceeded."""
    flag = np.full(y.shape, "within", dtype=object)
    for low, up, name in zip(lowers, uppers, names, strict=True):  # narrow to wide
        flag = np.where(y > up, f"above {name}", flag)
        flag = np.where(y < low, f"below {name}", flag)
    return flag


def limit_columns(precision, levels, **shape) -> dict[str, np.ndarray]:
    """``lower_<level>`` and ``upper_<level>`` control limits at each precision."""
    out = {}
    for lv in levels:
        out[f"lower_{level_name(lv)}"], out[f"upper_{level_name(lv)}"] = funnel_limits(
            precision, level=lv, **shape)
    return out


def limits_curve(precision, levels, **shape) -> pd.DataFrame:
    """Control limits over a grid of sizes spanning the sites (what the funnel plot draws)."""
    lo = max(1.0, 0.5 * float(np.min(precision)))
    hi = 1.15 * float(np.max(precision))
    grid = np.geomspace(lo, hi, 200)
    if shape["scale"] == "proportion" and shape["method"] == "exact":
        grid = np.unique(np.round(grid))
    return pd.DataFrame({"precision": grid, "target": np.full(grid.size, shape["target"]),
                         **limit_columns(grid, levels, **shape)})


__all__ = ["funnel_limits", "level_name", "dispersion", "flags", "limit_columns", "limits_curve"]
