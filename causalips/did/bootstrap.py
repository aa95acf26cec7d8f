"""Wild cluster bootstrap on cell sufficient statistics (no loop over draws).

With the fixed effects partialled out, the regression is ``y = X b + e`` and a cluster's
contribution is summarised by ``g_j = sum w x y`` and ``H_j = sum w x x'`` over its rows. A
bootstrap sample ``y* = X b0 + v_j e_j`` (``b0`` the null-restricted fit for WCR, the estimate for
WCU; ``v_j`` Rademacher or Webb weights per cluster, or per cluster x period cell for the
subcluster variant of MacKinnon & Webb 2018) gives

- ``b*_a - b0_a = v . alpha`` with ``alpha_j = r' c_j``, ``c_j = g_j - H_j b0`` and ``r`` the
  row ``a`` of the bread ``(X'WX)^-1``;
- the bootstrap cluster scores projected on ``r``: ``(A - Gamma) v`` with ``A`` putting
  ``alpha_j`` on its cluster and ``Gamma[h, j] = r' H_h B c_j``.

So all draws are two matrix products ``V @ alpha`` and ``V @ (A - Gamma)'`` with ``V`` the
(draws x J) weight matrix. When ``2^J <= reps`` every Rademacher sign vector is used once (full
enumeration) and the p-value is exact for the bootstrap distribution. The restricted CI is
found by inverting the test: scores are linear in the null value, so each candidate costs one
pass over precomputed (draws x G) arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._progress import progress_bar
from ..errors import SpecificationError
from ._within_ols import LinearFit

#: largest draws x bootstrap-clusters weight matrix built in one piece
MAX_DRAW_CELLS = 200_000_000
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class BootstrapOutcome:
    """What a wild bootstrap run produced for one coefficient."""

    estimate: float
    std_error: float
    statistic: float
    p_value: float
    conf_low: float
    conf_high: float
    reps: int
    enumerated: bool
    restricted: bool
    weights: str
    n_boot_clusters: int
    t_draws: np.ndarray


def draw_weights(n_units: int, reps: int, kind: str, seed) -> tuple[np.ndarray, bool]:
    """(draws x units) weights; all 2^J sign vectors when that is no more than ``reps``."""
    if kind == "rademacher" and 2.0**n_units <= reps:
        grid = (np.arange(2**n_units)[:, None] >> np.arange(n_units)[None, :]) & 1
        return (2.0 * grid - 1.0), True
    rng = np.random.default_rng(seed)
    if kind == "rademacher":
        return rng.integers(0, 2, size=(reps, n_units)).astype(np.float64) * 2 - 1, False
    return WEBB[rng.integers(0, 6, size=(reps, n_units))], False


def _units(fit: LinearFit, subcluster: bool):
    """Resampling units: (g_u, H_u, cluster of each unit)."""
    if subcluster:
        return fit.g_cell, fit.h_cell, fit.cell_cluster
    g, h = fit.cluster_sums()
    return g, h, np.arange(fit.n_clusters)


def _restricted_coef(fit: LinearFit, a: int):
    """b(beta0) = b0 + beta0 * b1 with coefficient a fixed at beta0 (least squares for rest)."""
    g_tot, h_tot = fit.cluster_sums()
    g_tot, h_tot = g_tot.sum(0), h_tot.sum(0)
    k = fit.coef.size
    rest = [i for i in range(k) if i != a]
    b0 = np.zeros(k)
    b1 = np.zeros(k)
    b1[a] = 1.0
    if rest:
        hrr = h_tot[np.ix_(rest, rest)]
        b0[rest] = np.linalg.solve(hrr, g_tot[rest])
        b1[rest] = -np.linalg.solve(hrr, h_tot[rest, a])
    return b0, b1


def _parts(fit, a, b, g_u, h_u, unit_cluster):
    """alpha (J,) and the (G x J) matrix A - Gamma for scores c_j = g_j - H_j b."""
    r = fit.bread[:, a]
    c = g_u - h_u @ b  # (J, k)
    alpha = c @ r
    _, h_cl = fit.cluster_sums()
    rh = h_cl @ r  # (G, k): rows r' H_h (H symmetric)
    gamma = (rh @ fit.bread) @ c.T  # (G, J)
    amat = np.zeros_like(gamma)
    amat[unit_cluster, np.arange(unit_cluster.size)] = alpha
    return alpha, amat - gamma


def wild_bootstrap(
    fit: LinearFit,
    term: str,
    *,
    reps: int = 9999,
    weights: str = "rademacher",
    restricted: bool = True,
    subcluster: bool = False,
    seed=None,
    conf_level: float = 0.95,
    null: float = 0.0,
    correction: str = "CR1",
    progress: bool = False,
) -> BootstrapOutcome:
    """Wild cluster bootstrap-t p-value and CI for one coefficient (see module docstring).

    ``progress`` shows a tqdm bar (on runs over about 2 seconds) counting the passes over the
    draws: one for the p-value, then one per step of the interval's bisection.
    """
    if term not in fit.names:
        raise SpecificationError(f"term {term!r} not in the fit; terms: {list(fit.names)}")
    a = fit.names.index(term)
    g_u, h_u, unit_cluster = _units(fit, subcluster)
    n_units = g_u.shape[0]
    if n_units * min(reps, 2**min(n_units, 62)) > MAX_DRAW_CELLS:
        raise SpecificationError(
            f"{reps} draws x {n_units} bootstrap clusters is too large to hold at once "
            f"(limit {MAX_DRAW_CELLS:.0e} weights); lower reps or bootstrap coarser clusters"
        )
    v, enumerated = draw_weights(n_units, reps, weights, seed)
    bar = progress_bar(desc=f"wild bootstrap ({term})", unit="pass", enabled=progress)
    ssc = fit.ssc(correction)
    vc = fit.vcov(correction)
    se = float(np.sqrt(vc[a, a]))
    est = float(fit.coef[a])
    t_obs = (est - null) / se

    if restricted:
        b0, b1 = _restricted_coef(fit, a)
        al0, m0 = _parts(fit, a, b0, g_u, h_u, unit_cluster)
        # c_j(beta0) = (g_j - H_j b0) - beta0 H_j b1: difference of two parts
        al_b, m_b = _parts(fit, a, b0 + b1, g_u, h_u, unit_cluster)
        al1, m1 = al0 - al_b, m0 - m_b  # parts(beta0) = part0 - beta0 * part1
        num0, num1 = v @ al0, v @ al1
        u0, u1 = v @ m0.T, v @ m1.T

        def t_star(beta0: float) -> np.ndarray:
            u = u0 - beta0 * u1
            s = np.sqrt(ssc * np.einsum("ij,ij->i", u, u))
            with np.errstate(divide="ignore", invalid="ignore"):
                return (num0 - beta0 * num1) / s

        def pval(beta0: float) -> float:
            bar.update(1)
            ts = t_star(beta0)
            t0 = (est - beta0) / se
            return float(np.mean(np.abs(ts) >= abs(t0) - 1e-12 * max(1.0, abs(t0))))

        draws = t_star(null)
        p = pval(null)
        lo, hi = _invert(pval, est, se, 1 - conf_level)
    else:
        alpha, m = _parts(fit, a, fit.coef, g_u, h_u, unit_cluster)
        u = v @ m.T
        s = np.sqrt(ssc * np.einsum("ij,ij->i", u, u))
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = (v @ alpha) / s
        p = float(np.mean(np.abs(draws) >= abs(t_obs) - 1e-12 * max(1.0, abs(t_obs))))
        q = float(np.quantile(np.abs(draws[np.isfinite(draws)]), conf_level))
        lo, hi = est - q * se, est + q * se
    bar.close()
    return BootstrapOutcome(
        estimate=est, std_error=se, statistic=t_obs, p_value=p, conf_low=lo, conf_high=hi,
        reps=int(v.shape[0]), enumerated=enumerated, restricted=restricted, weights=weights,
        n_boot_clusters=int(n_units), t_draws=draws,
    )


def _invert(pval, est: float, se: float, alpha: float) -> tuple[float, float]:
    """Confidence set {b: p(b) > alpha} by bisection on each side of the estimate."""
    if pval(est) <= alpha:  # pragma: no cover - degenerate
        return np.nan, np.nan

    def side(sign: float) -> float:
        inner = est
        step = max(se, 1e-12)
        outer = est + sign * step
        grow = 0
        while pval(outer) > alpha:
            inner, step = outer, step * 2
            outer = est + sign * step
            grow += 1
            if grow > 60:
                return sign * np.inf
        for _ in range(60):
            mid = 0.5 * (inner + outer)
            if pval(mid) > alpha:
                inner = mid
            else:
                outer = mid
            if abs(outer - inner) <= 1e-7 * max(se, 1e-12):
                break
        return 0.5 * (inner + outer)

    return side(-1.0), side(1.0)


__all__ = ["wild_bootstrap", "BootstrapOutcome", "draw_weights"]
