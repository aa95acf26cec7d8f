"""Numerical core of the Callaway–Sant'Anna estimator (no pandas, no user-facing checks).

Everything works on a balanced panel pivoted once into a units x periods array ``Y``. Each
group-time ATT(g,t) is a 2x2 comparison of the change ``Y[:, t] - Y[:, base]`` between the units
first treated in ``g`` and a control set; its influence function is a length-n vector (zero for
units in neither set), as in R's ``did`` (``att_gt``) and ``DRDID`` (``drdid_panel``,
``reg_did_panel``, ``std_ipw_did_panel``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import EstimationError

_EPS_SE = np.sqrt(np.finfo(float).eps) * 10  # R's did: SEs below this are reported as NA


@dataclass(frozen=True)
class Cell:
    group: float
    time: float
    t_index: int
    base_index: int
    post: bool
    reference: bool  # universal base period: the base period itself (ATT fixed at 0)
    control_cut: float  # controls: never treated, or first treated after this period


def make_cells(periods, groups, *, base_period, anticipation, control):
    """The list of (g, t) cells R's ``att_gt`` estimates, with their base period.

    Returns the cells and notes about cells that could not be formed.
    """
    cells, notes = [], []
    n_t = periods.size
    start = 1 if base_period == "varying" else 0
    for g in groups:
        before = np.flatnonzero(periods + anticipation < g)
        if before.size == 0:
            notes.append(f"group {g:g} has no period before treatment (minus anticipation); "
                         "dropped")
            continue
        last_pre = int(before[-1])
        for s in range(start, n_t):
            t = periods[s]
            base = s - 1 if base_period == "varying" else last_pre
            post = bool(g <= t)
            if post:
                base = last_pre
            reference = base_period == "universal" and base == s
            cut_index = max(s, base)
            cut = periods[cut_index] + anticipation
            cells.append(Cell(float(g), float(t), s, base, post, reference,
                              float(cut) if control == "not_yet_treated" else np.inf))
    return cells, notes


def masks(first_treated, cells, control):
    """Boolean n x K arrays: treated group and control set of each cell."""
    g = np.array([c.group for c in cells])
    treated = first_treated[:, None] == g[None, :]
    never = ~np.isfinite(first_treated)
    if control == "never_treated":
        ctrl = np.repeat(never[:, None], len(cells), axis=1)
    else:
        cut = np.array([c.control_cut for c in cells])
        ctrl = never[:, None] | ((first_treated[:, None] > cut[None, :]) & ~treated)
    return treated, ctrl


def unconditional(Y, cells, treated, ctrl):
    """ATT(g,t) and influence functions for all cells at once (no covariates).

    ATT = mean change of the group minus mean change of the controls; the influence function
    of unit i is ``n * [G_i (dY_i - m_G) / n_G - C_i (dY_i - m_C) / n_C]`` (R ``did`` with
    ``xformla = ~1``, whichever of dr / ipw / reg).
    """
    n = Y.shape[0]
    t_idx = np.array([c.t_index for c in cells])
    b_idx = np.array([c.base_index for c in cells])
    dy = Y[:, t_idx] - Y[:, b_idx]
    gw = treated.astype(float)
    cw = ctrl.astype(float)
    n_g = gw.sum(axis=0)
    n_c = cw.sum(axis=0)
    m_g = (gw * dy).sum(axis=0) / n_g
    m_c = (cw * dy).sum(axis=0) / n_c
    att = m_g - m_c
    inf = n * (gw * (dy - m_g) / n_g - cw * (dy - m_c) / n_c)
    ref = np.array([c.reference for c in cells])
    att[ref] = 0.0
    inf[:, ref] = 0.0
    return att, inf


def _logit(X, d, max_iter=100, tol=1e-12):
    """Logistic regression by Newton's method; fitted probabilities and (X'WX)^-1."""
    beta = np.zeros(X.shape[1])
    p0 = np.clip(d.mean(), 1e-10, 1 - 1e-10)
    beta[0] = np.log(p0 / (1 - p0))  # first column is the intercept
    for _ in range(max_iter):
        eta = X @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p)
        hess = X.T @ (X * w[:, None])
        grad = X.T @ (d - p)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            raise EstimationError(
                "the propensity-score logit is singular (a covariate is constant or collinear "
                "within a group-time comparison); drop or recode that covariate"
            ) from None
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    else:
        raise EstimationError(
            "the propensity-score logit did not converge (covariates may separate the treated "
            "group from its controls perfectly); use method='reg' or fewer covariates"
        )
    eta = X @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    w = p * (1 - p)
    return p, np.linalg.inv(X.T @ (X * w[:, None]))


def _wls_control(X, dy, d):
    """Outcome regression of the change on covariates among the controls."""
    c = d == 0
    coef, *_ = np.linalg.lstsq(X[c], dy[c], rcond=None)
    return X @ coef


def _ols_lin_rep(X, dy, d, fitted):
    n = d.size
    w_ols = 1.0 - d
    xpx = (X * w_ols[:, None]).T @ X / n
    return (w_ols * (dy - fitted))[:, None] * X @ np.linalg.inv(xpx)


def drdid_panel(dy, d, X, trim_level=0.995):
    """Doubly robust DiD for panel data (Sant'Anna & Zhao 2020; DRDID::drdid_panel)."""
    n = d.size
    ps, hess_inv = _logit(X, d)
    ps = np.minimum(ps, 1 - 1e-6)
    trim = np.where(d == 0, ps < trim_level, True).astype(float)
    fitted = _wls_control(X, dy, d)
    w_t = trim * d
    w_c = trim * ps * (1 - d) / (1 - ps)
    resid = dy - fitted
    eta_t = np.mean(w_t * resid) / np.mean(w_t)
    eta_c = np.mean(w_c * resid) / np.mean(w_c)
    att = eta_t - eta_c
    lin_ols = _ols_lin_rep(X, dy, d, fitted)
    lin_ps = ((d - ps)[:, None] * X) @ (hess_inv * n)
    inf_t = (w_t * resid - w_t * eta_t) - lin_ols @ np.mean(w_t[:, None] * X, axis=0)
    inf_t = inf_t / np.mean(w_t)
    m2 = np.mean((w_c * (resid - eta_c))[:, None] * X, axis=0)
    m3 = np.mean(w_c[:, None] * X, axis=0)
    inf_c = (w_c * resid - w_c * eta_c) + lin_ps @ m2 - lin_ols @ m3
    inf_c = inf_c / np.mean(w_c)
    return att, inf_t - inf_c


def reg_did_panel(dy, d, X):
    """Outcome-regression DiD for panel data (Heckman et al. 1997; DRDID::reg_did_panel)."""
    fitted = _wls_control(X, dy, d)
    w_t = d
    eta_t = np.mean(w_t * dy) / np.mean(w_t)
    eta_c = np.mean(w_t * fitted) / np.mean(w_t)
    att = eta_t - eta_c
    lin_ols = _ols_lin_rep(X, dy, d, fitted)
    inf_t = (w_t * dy - w_t * eta_t) / np.mean(w_t)
    inf_c = (w_t * fitted - w_t * eta_c) + lin_ols @ np.mean(w_t[:, None] * X, axis=0)
    inf_c = inf_c / np.mean(w_t)
    return att, inf_t - inf_c


def std_ipw_did_panel(dy, d, X, trim_level=0.995):
    """Normalised (Hajek) IPW DiD for panel data (Abadie 2005; DRDID::std_ipw_did_panel)."""
    n = d.size
    ps, hess_inv = _logit(X, d)
    ps = np.minimum(ps, 1 - 1e-6)
    trim = np.where(d == 0, ps < trim_level, True).astype(float)
    w_t = trim * d
    w_c = trim * ps * (1 - d) / (1 - ps)
    eta_t = np.mean(w_t * dy) / np.mean(w_t)
    eta_c = np.mean(w_c * dy) / np.mean(w_c)
    att = eta_t - eta_c
    lin_ps = ((d - ps)[:, None] * X) @ (hess_inv * n)
    inf_t = (w_t * dy - w_t * eta_t) / np.mean(w_t)
    m2 = np.mean((w_c * (dy - eta_c))[:, None] * X, axis=0)
    inf_c = (w_c * dy - w_c * eta_c) + lin_ps @ m2
    inf_c = inf_c / np.mean(w_c)
    return att, inf_t - inf_c


METHODS = {"dr": drdid_panel, "reg": reg_did_panel, "ipw": std_ipw_did_panel}


def conditional(Y, X, cells, treated, ctrl, method):
    """ATT(g,t) and influence functions with covariates (one small regression per cell).

    ``X`` is units x periods x k (without intercept); the covariates of the base period are used.
    """
    n = Y.shape[0]
    k = len(cells)
    att = np.zeros(k)
    inf = np.zeros((n, k))
    fn = METHODS[method]
    for j, c in enumerate(cells):
        if c.reference:
            continue
        keep = treated[:, j] | ctrl[:, j]
        dy = Y[keep, c.t_index] - Y[keep, c.base_index]
        d = treated[keep, j].astype(float)
        Xc = np.column_stack([np.ones(dy.size), X[keep, min(c.base_index, c.t_index), :]])
        a, f = fn(dy, d, Xc)
        att[j] = a
        inf[keep, j] = f * (n / dy.size)
    return att, inf


def analytic_se(inf, cluster_codes=None):
    """SE of each column's estimate from its influence function (sqrt(mean(IF^2)/n)).

    With ``cluster_codes``, the influence function is summed within clusters first.
    """
    n = inf.shape[0]
    if cluster_codes is None:
        se = np.sqrt(np.sum(inf**2, axis=0)) / n
    else:
        g = int(cluster_codes.max()) + 1
        sums = np.zeros((g,) + inf.shape[1:])
        np.add.at(sums, cluster_codes, inf)
        se = np.sqrt(np.sum(sums**2, axis=0)) / n
    se = np.asarray(se, dtype=float)
    se[se <= _EPS_SE] = np.nan
    return se


def multiplier_weights(rng, size, kind):
    """Mammen (two-point, skewness 1) or Rademacher multiplier weights."""
    if kind == "rademacher":
        return rng.integers(0, 2, size=size).astype(np.float64) * 2.0 - 1.0
    kappa = (np.sqrt(5.0) + 1.0) / 2.0
    low = rng.random(size) < kappa / np.sqrt(5.0)
    return np.where(low, 1.0 - kappa, kappa)


def multiplier_bootstrap(inf, *, reps, seed, kind, conf_level, cluster_codes=None,
                         block_elems=20_000_000):
    """R ``did``'s multiplier bootstrap on an n x k influence-function matrix.

    Each draw perturbs the influence function with i.i.d. multipliers (one per unit, or per
    cluster): the draws are ``(V @ IF) / n`` for a reps x n multiplier matrix V (built in blocks
    of draws to bound memory). Returns the bootstrap SEs (interquartile range / 1.349, as R) and
    the critical value of the simultaneous (sup-t) band over the k columns.
    """
    inf = np.atleast_2d(inf.T).T
    n, k = inf.shape
    if cluster_codes is not None:
        g = int(cluster_codes.max()) + 1
        sums = np.zeros((g, k))
        np.add.at(sums, cluster_codes, inf)
        base = sums
    else:
        base = inf
    m = base.shape[0]
    rng = np.random.default_rng(seed)
    per_block = max(1, block_elems // max(m, 1))
    draws = np.empty((reps, k))
    done = 0
    while done < reps:
        b = min(per_block, reps - done)
        v = multiplier_weights(rng, (b, m), kind)
        draws[done:done + b] = v @ base / n
        done += b
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    sigma = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    sigma = np.where(sigma <= _EPS_SE / np.sqrt(n), np.nan, sigma)
    ok = np.isfinite(sigma)
    if ok.any():
        t_max = np.max(np.abs(draws[:, ok] / sigma[ok]), axis=1)
        crit = float(np.quantile(t_max, conf_level, method="inverted_cdf"))
    else:
        crit = np.nan
    return sigma, crit


def weights_if(keepers, pg, unit_group, groups_of_cells):
    """Influence function of the estimated aggregation weights P(G=g)/sum P(G=g) (R's ``wif``).

    ``keepers`` index the cells combined; ``pg`` is P(G = group of cell) per cell; returns the
    n x len(keepers) matrix.
    """
    pk = pg[keepers]
    ind = (unit_group[:, None] == groups_of_cells[keepers][None, :]).astype(float) - pk[None, :]
    if1 = ind / pk.sum()
    if2 = ind.sum(axis=1)[:, None] * (pk / pk.sum() ** 2)[None, :]
    return if1 - if2
