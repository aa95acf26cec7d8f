"""Monte Carlo size of DiD inference methods with few (treated) clusters — vectorised.

``size_study`` simulates a cluster x period panel under *no effect* (cluster and period fixed
effects plus noise), fits the two-way FE DiD for every replication at once (the outcome is an
(n x reps) matrix) and records how often each method rejects at level ``alpha``:

- ``CR1``: cluster-robust t with G-1 df (the default of fixest and of :class:`DiD`);
- ``WCR`` / ``WCU``: restricted / unrestricted wild cluster bootstrap-t (Rademacher, full
  enumeration when 2^G <= boot_reps);
- ``RI``: randomization inference re-assigning the treated timing across clusters;
- ``CT``: Conley–Taber with p = (1 + #{|placebo error| >= |estimate|}) / (1 + placebos);
- ``CT-FP``: the same with the Ferman–Pinto rescaling for cluster size.

With ``cluster_sizes`` (people per cluster) the cell means carry person-level noise of variance
``person_sd**2 / size`` on top of the common noise: the heteroskedastic design of Ferman & Pinto.

No Python loop runs over replications or bootstrap draws: everything is matrix products.
It lets a user check *their* design (number of clusters and of treated clusters) before trusting
a p-value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ._within_ols import FixedEffects
from .bootstrap import draw_weights
from .randomization import count_assignments, enumerate_assignments

METHODS = ("CR1", "WCR", "WCU", "RI", "CT", "CT-FP")


def k1_bootstrap_t(c: np.ndarray, h: np.ndarray, bread: float, v: np.ndarray,
                   ssc: float) -> np.ndarray:
    """Wild bootstrap t* for a one-regressor model, many replications at once.

    ``c`` (G, R) cluster scores under the bootstrap DGP, ``h`` (G,) cluster ``sum x^2``,
    ``v`` (B, G) weights. Returns (B, R). Uses the closed form of
    ``sum_h (v_h c_h - bread * h_h * (v . c))^2`` expanded into matrix products.
    """
    vc = v @ c  # (B, R)
    s1 = (v**2) @ (c**2)  # sum_h v_h^2 c_h^2
    s2 = v @ (c * h[:, None])  # sum_h v_h c_h h_h
    s3 = float(np.sum(h**2))
    ss = s1 - 2 * bread * s2 * vc + bread**2 * vc**2 * s3
    with np.errstate(divide="ignore", invalid="ignore"):
        return vc / np.sqrt(ssc * np.maximum(ss, 0.0))


def _panel(n_clusters, n_periods):
    unit = np.repeat(np.arange(n_clusters), n_periods)
    time = np.tile(np.arange(n_periods), n_clusters)
    return unit, time


def size_study(*, n_clusters: int = 11, n_treated: int = 1, n_periods: int = 8,
               first_period: int = 4, reps: int = 400, alpha: float = 0.05,
               boot_reps: int = 999, ri_reps: int = 999, cluster_sd: float = 1.0,
               noise_sd: float = 1.0, ar: float = 0.0, cluster_sizes=None,
               person_sd: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Rejection rates under the null for each inference method.

    Parameters
    ----------
    n_clusters, n_treated, n_periods, first_period : int
        Design: clusters (municipalities), treated clusters, periods and the first exposed
        period (0-based) of the treated clusters.
    reps : int
        Monte Carlo replications.
    alpha : float
        Nominal level.
    boot_reps, ri_reps : int
        Bootstrap draws (all 2^G sign vectors when fewer) and randomization assignments (all
        when fewer).
    cluster_sd, noise_sd, ar : float
        SD of cluster effects, of the cluster x period noise, and its AR(1) coefficient.
    cluster_sizes : sequence of float, optional
        People per cluster (treated clusters first); default equal sizes.
    person_sd : float
        SD of person-level noise; cell means get variance ``person_sd**2 / size`` more.
    seed : int
        Seed.

    Returns
    -------
    DataFrame
        One row per method: ``method``, ``rejection_rate``, ``mc_se``, ``alpha``, ``reps``,
        ``n_clusters``, ``n_treated``, ``min_p_value`` (smallest attainable p, RI and CT).

    Example
    -------
    >>> tab = size_study(n_clusters=11, n_treated=1, reps=50, alpha=0.1, seed=1)
    >>> sorted(tab["method"]) == sorted(METHODS)
    True
    """
    rng = np.random.default_rng(seed)
    sim = _Simulated.build(n_clusters, n_treated, n_periods, first_period)
    sizes = np.ones(n_clusters) if cluster_sizes is None else np.asarray(cluster_sizes, float)
    y = _null_outcomes(rng, sim, reps, cluster_sd, noise_sd, ar, sizes, person_sd)
    yd = sim.fe.residualise(y)
    out, beta = _analytic_and_bootstrap(rng, sim, yd, boot_reps, alpha)
    q = sim.fe.residualise(np.eye(sim.unit.size))  # every row is its own cluster x period cell
    out["RI"], min_ri = _randomization(rng, sim, q, yd, ri_reps, alpha)
    out["CT"], out["CT-FP"], min_ct = _conley_taber(rng, sim, q, y, yd, beta, sizes, ri_reps,
                                                    alpha)
    min_p = {"RI": min_ri, "CT": min_ct, "CT-FP": min_ct}
    rows = []
    for m in METHODS:
        rate = float(np.mean(out[m]))
        rows.append({"method": m, "rejection_rate": rate,
                     "mc_se": float(np.sqrt(max(rate * (1 - rate), 1e-12) / reps)),
                     "alpha": alpha, "reps": reps, "n_clusters": n_clusters,
                     "n_treated": n_treated, "min_p_value": min_p.get(m, np.nan)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class _Simulated:
    """The simulated cluster x period design (no outcomes)."""

    unit: np.ndarray
    time: np.ndarray
    first: np.ndarray
    d: np.ndarray
    fe: FixedEffects
    dd: np.ndarray  # exposure with the fixed effects removed
    n_treated: int
    first_period: int

    @classmethod
    def build(cls, g, n_treated, t, first_period):
        unit, time = _panel(g, t)
        first = np.full(g, np.inf)
        first[:n_treated] = first_period
        d = (time >= first[unit]).astype(np.float64)
        fe = FixedEffects.build([unit, time], [g, t], ["unit", "time"], np.ones(unit.size))
        return cls(unit=unit, time=time, first=first, d=d, fe=fe, dd=fe.residualise(d),
                   n_treated=n_treated, first_period=first_period)

    @property
    def g(self) -> int:
        return self.first.size


def _null_outcomes(rng, sim, reps, cluster_sd, noise_sd, ar, sizes, person_sd):
    """Outcomes (rows x reps): cluster effect + AR(1) noise (+ person noise), no effect."""
    g, t = sim.g, sim.unit.size // sim.g
    eps = rng.normal(0, noise_sd, (g, t, reps))
    if ar:
        for s in range(1, t):  # loop over periods (few), not replications
            eps[:, s] = ar * eps[:, s - 1] + np.sqrt(1 - ar**2) * eps[:, s]
    if person_sd:
        eps = eps + rng.normal(0, 1, (g, t, reps)) * (person_sd / np.sqrt(sizes))[:, None, None]
    y = rng.normal(0, cluster_sd, (g, 1, reps)) + eps
    return y.reshape(g * t, reps)


def _analytic_and_bootstrap(rng, sim, yd, boot_reps, alpha):
    """CR1, WCR and WCU rejections; and the estimates."""
    g, n = sim.g, sim.unit.size
    h = np.bincount(sim.unit, weights=sim.dd**2, minlength=g)
    bread = 1.0 / h.sum()
    gsc = np.zeros((g, yd.shape[1]))
    np.add.at(gsc, sim.unit, sim.dd[:, None] * yd)
    beta = bread * gsc.sum(0)
    k = 1 + n // g  # regressor + period levels (cluster FE nested in clusters)
    ssc = g / (g - 1) * (n - 1) / (n - k)
    scores = gsc - h[:, None] * beta[None, :]
    tstat = beta / np.sqrt(ssc * bread**2 * np.sum(scores**2, axis=0))
    out = {"CR1": 2 * stats.t.sf(np.abs(tstat), g - 1) <= alpha}
    v, _ = draw_weights(g, boot_reps, "rademacher", rng.integers(2**31))
    t_wcr = k1_bootstrap_t(gsc, h, bread, v, ssc)  # null beta = 0: scores = g_c
    out["WCR"] = np.mean(np.abs(t_wcr) >= np.abs(tstat)[None, :] - 1e-12, axis=0) <= alpha
    t_wcu = k1_bootstrap_t(scores, h, bread, v, ssc)
    out["WCU"] = np.mean(np.abs(t_wcu) >= np.abs(tstat)[None, :] - 1e-12, axis=0) <= alpha
    return out, beta


def _randomization(rng, sim, q, yd, ri_reps, alpha):
    """Randomization-inference rejections and the smallest attainable p-value."""
    if count_assignments(sim.first) <= ri_reps:
        firsts = enumerate_assignments(sim.first)
    else:
        perm = rng.permuted(np.tile(sim.first, (ri_reps, 1)), axis=1)
        firsts = np.vstack([sim.first[None, :], perm])
    dmat = (sim.time[None, :] >= firsts[:, sim.unit]).astype(np.float64)
    den = np.einsum("aj,aj->a", dmat @ q, dmat)
    ok = den > 1e-12
    b_all = (dmat[ok] @ yd) / den[ok][:, None]
    p_ri = np.mean(np.abs(b_all) >= np.abs(b_all[0])[None, :] - 1e-12, axis=0)
    return p_ri <= alpha, 1 / float(b_all.shape[0])


def _conley_taber(rng, sim, q, y, yd, beta, sizes, ri_reps, alpha):
    """Conley-Taber rejections, plain and with the Ferman-Pinto rescaling."""
    resid = yd - sim.dd[:, None] * beta[None, :]
    controls = np.arange(sim.n_treated, sim.g)
    vals = np.where(np.arange(controls.size) < sim.n_treated, float(sim.first_period), np.inf)
    if count_assignments(vals) <= ri_reps:
        sets = enumerate_assignments(vals)
    else:
        sets = rng.permuted(np.tile(vals, (ri_reps, 1)), axis=1)
    f_ct = np.full((sets.shape[0], sim.g), np.inf)
    f_ct[:, controls] = sets
    dct = (sim.time[None, :] >= f_ct[:, sim.unit]).astype(np.float64)
    den_ct = np.einsum("aj,aj->a", dct @ q, dct)
    errs = (dct @ resid) / den_ct[:, None]
    count = np.sum(np.abs(errs) >= np.abs(beta)[None, :], axis=0)
    plain = (1 + count) / (1 + errs.shape[0]) <= alpha
    # Ferman-Pinto: variance A + B/size from squared residuals, rescale the placebo errors
    d = sim.d
    qd = q @ d
    qres = q - np.outer(qd, qd) / (d @ qd)
    e_full = qres @ y  # unit weights: residuals of the cell means
    pm = qres**2
    inv_size = 1.0 / sizes[sim.unit]
    xv = np.column_stack([pm.sum(axis=1), pm @ inv_size])
    ab = np.maximum(np.linalg.lstsq(xv, e_full**2, rcond=None)[0], 0.0)  # (2, reps)
    a0 = qd / (d @ qd)
    var0 = (a0**2).sum() * ab[0] + (a0**2 * inv_size).sum() * ab[1]  # (reps,)
    bk = (dct @ qres) / den_ct[:, None]
    var_k = np.outer((bk**2).sum(axis=1), ab[0]) + np.outer((bk**2) @ inv_size, ab[1])
    scale = np.sqrt(np.divide(var0[None, :], var_k, out=np.ones_like(var_k), where=var_k > 0))
    count_fp = np.sum(np.abs(errs * scale) >= np.abs(beta)[None, :], axis=0)
    fp = (1 + count_fp) / (1 + errs.shape[0]) <= alpha
    return plain, fp, 1 / float(1 + errs.shape[0])


__all__ = ["size_study", "k1_bootstrap_t", "METHODS"]
