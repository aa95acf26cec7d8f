"""Two-period difference-in-differences estimators with covariates (Sant'Anna & Zhao 2020).

The 2x2 building blocks of Callaway–Sant'Anna: each takes the rows of one comparison (a treated
group and its controls, in a base period and a later period) and returns the ATT and its
influence function, one value per row, as R's ``DRDID`` package defines them. ``X`` always has an
intercept column first.

- panel data (one row per unit, the outcome change ``dy``): doubly robust (``drdid_panel``),
  outcome regression (``reg_did_panel``), normalised inverse probability weighting
  (``std_ipw_did_panel``);
- repeated cross-sections (one row per observation, ``post`` marks the later period): the locally
  efficient doubly robust estimator (``drdid_rc``), outcome regression (``reg_did_rc``) and
  normalised IPW (``std_ipw_did_rc``).
"""

from __future__ import annotations

import numpy as np

from ..errors import EstimationError

TRIM_LEVEL = 0.995  # controls with a propensity score above this get no weight (as DRDID)


def _logit(X, d, max_iter=100, tol=1e-12):
    """Logistic regression by Newton's method; fitted probabilities and (X'WX)^-1."""
    beta = np.zeros(X.shape[1])
    p0 = np.clip(d.mean(), 1e-10, 1 - 1e-10)
    beta[0] = np.log(p0 / (1 - p0))  # first column is the intercept
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        hess = X.T @ (X * (p * (1 - p))[:, None])
        try:
            step = np.linalg.solve(hess, X.T @ (d - p))
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
    p = 1.0 / (1.0 + np.exp(-(X @ beta)))
    return p, np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))


def _propensity(X, d):
    """Trimmed propensity scores, trimming indicator and the logit's linear representation."""
    ps, hess_inv = _logit(X, d)
    ps = np.minimum(ps, 1 - 1e-6)
    trim = np.where(d == 0, ps < TRIM_LEVEL, True).astype(float)
    lin_rep = ((d - ps)[:, None] * X) @ (hess_inv * d.size)
    return ps, trim, lin_rep


def _ols(X, y, rows):
    """OLS of ``y`` on ``X`` among ``rows``: fitted values for every row and the estimator's
    asymptotic linear representation (n x k), as DRDID's weighted-OLS helpers."""
    n = y.size
    w = rows.astype(float)
    xpx = (X * w[:, None]).T @ X / n
    try:
        xpx_inv = np.linalg.inv(xpx)
    except np.linalg.LinAlgError:
        raise EstimationError(
            "an outcome regression within a group-time comparison is singular (a covariate is "
            "constant or collinear among the rows it is fitted on); drop or recode it"
        ) from None
    coef = xpx_inv @ (X.T @ (w * y)) / n
    fitted = X @ coef
    return fitted, (w * (y - fitted))[:, None] * X @ xpx_inv


def _hajek(w, v):
    """Weighted mean mean(w v) / mean(w) and its influence function."""
    mw = np.mean(w)
    m = np.mean(w * v) / mw
    return m, w * (v - m) / mw


# -- panel data -------------------------------------------------------------------------------
def drdid_panel(dy, d, X):
    """Doubly robust DiD for panel data (Sant'Anna & Zhao 2020; DRDID::drdid_panel)."""
    ps, trim, lin_ps = _propensity(X, d)
    fitted, lin_ols = _ols(X, dy, d == 0)
    w_t = trim * d
    w_c = trim * ps * (1 - d) / (1 - ps)
    resid = dy - fitted
    eta_t, inf_t = _hajek(w_t, resid)
    eta_c, inf_c = _hajek(w_c, resid)
    inf_t = inf_t - lin_ols @ np.mean(w_t[:, None] * X, axis=0) / np.mean(w_t)
    m2 = np.mean((w_c * (resid - eta_c))[:, None] * X, axis=0)
    m3 = np.mean(w_c[:, None] * X, axis=0)
    inf_c = inf_c + (lin_ps @ m2 - lin_ols @ m3) / np.mean(w_c)
    return eta_t - eta_c, inf_t - inf_c


def reg_did_panel(dy, d, X):
    """Outcome-regression DiD for panel data (Heckman et al. 1997; DRDID::reg_did_panel)."""
    fitted, lin_ols = _ols(X, dy, d == 0)
    eta_t, inf_t = _hajek(d, dy)
    eta_c, inf_c = _hajek(d, fitted)
    inf_c = inf_c + lin_ols @ np.mean(d[:, None] * X, axis=0) / np.mean(d)
    return eta_t - eta_c, inf_t - inf_c


def std_ipw_did_panel(dy, d, X):
    """Normalised (Hajek) IPW DiD for panel data (Abadie 2005; DRDID::std_ipw_did_panel)."""
    ps, trim, lin_ps = _propensity(X, d)
    w_t = trim * d
    w_c = trim * ps * (1 - d) / (1 - ps)
    eta_t, inf_t = _hajek(w_t, dy)
    eta_c, inf_c = _hajek(w_c, dy)
    m2 = np.mean((w_c * (dy - eta_c))[:, None] * X, axis=0)
    return eta_t - eta_c, inf_t - (inf_c + lin_ps @ m2 / np.mean(w_c))


# -- repeated cross-sections ----------------------------------------------------------------------
def reg_did_rc(y, post, d, X):
    """Outcome-regression DiD for repeated cross-sections (DRDID::reg_did_rc)."""
    fit_pre, lin_pre = _ols(X, y, (d == 0) & (post == 0))
    fit_post, lin_post = _ols(X, y, (d == 0) & (post == 1))
    eta_t1, inf_t1 = _hajek(d * post, y)
    eta_t0, inf_t0 = _hajek(d * (1 - post), y)
    eta_c, inf_c = _hajek(d, fit_post - fit_pre)
    moment = np.mean(d[:, None] * X, axis=0) / np.mean(d)
    inf_c = inf_c + (lin_post - lin_pre) @ moment
    return eta_t1 - eta_t0 - eta_c, (inf_t1 - inf_t0) - inf_c


def std_ipw_did_rc(y, post, d, X):
    """Normalised IPW DiD for repeated cross-sections (Abadie 2005; DRDID::std_ipw_did_rc)."""
    ps, trim, lin_ps = _propensity(X, d)
    odds = trim * ps * (1 - d) / (1 - ps)
    a_t0, i_t0 = _hajek(trim * d * (1 - post), y)
    a_t1, i_t1 = _hajek(trim * d * post, y)
    w_c0, w_c1 = odds * (1 - post), odds * post
    a_c0, i_c0 = _hajek(w_c0, y)
    a_c1, i_c1 = _hajek(w_c1, y)
    m2_pre = np.mean((w_c0 * (y - a_c0))[:, None] * X, axis=0) / np.mean(w_c0)
    m2_post = np.mean((w_c1 * (y - a_c1))[:, None] * X, axis=0) / np.mean(w_c1)
    inf_c = (i_c1 - i_c0) + lin_ps @ (m2_post - m2_pre)
    return (a_t1 - a_t0) - (a_c1 - a_c0), (i_t1 - i_t0) - inf_c


def drdid_rc(y, post, d, X):
    """Locally efficient doubly robust DiD for repeated cross-sections (Sant'Anna & Zhao 2020,
    eq. 3.4; DRDID::drdid_rc, R ``did``'s default for ``panel = FALSE``)."""
    ps, trim, lin_ps = _propensity(X, d)
    c0, c1 = (d == 0) & (post == 0), (d == 0) & (post == 1)
    fit_c0, lin_c0 = _ols(X, y, c0)
    fit_c1, lin_c1 = _ols(X, y, c1)
    fit_t0, lin_t0 = _ols(X, y, (d == 1) & (post == 0))
    fit_t1, lin_t1 = _ols(X, y, (d == 1) & (post == 1))
    fit_c = post * fit_c1 + (1 - post) * fit_c0
    odds = trim * ps * (1 - d) / (1 - ps)
    w_t0, w_t1 = trim * d * (1 - post), trim * d * post
    w_c0, w_c1 = odds * (1 - post), odds * post
    w_d = trim * d
    a_t0, i_t0 = _hajek(w_t0, y - fit_c)
    a_t1, i_t1 = _hajek(w_t1, y - fit_c)
    a_c0, i_c0 = _hajek(w_c0, y - fit_c)
    a_c1, i_c1 = _hajek(w_c1, y - fit_c)
    # the efficiency terms: treated-minus-control regression gaps, among all treated and
    # among the treated of each period
    a_d1, i_d1 = _hajek(w_d, fit_t1 - fit_c1)
    a_dt1, i_dt1 = _hajek(w_t1, fit_t1 - fit_c1)
    a_d0, i_d0 = _hajek(w_d, fit_t0 - fit_c0)
    a_dt0, i_dt0 = _hajek(w_t0, fit_t0 - fit_c0)
    att = (a_t1 - a_t0) - (a_c1 - a_c0) + (a_d1 - a_dt1) - (a_d0 - a_dt0)

    def col_mean(w, v=1.0):
        return np.mean((w * v)[:, None] * X, axis=0)

    inf_treat_or = (lin_c1 @ -col_mean(w_t1, post) / np.mean(w_t1)
                    - lin_c0 @ -col_mean(w_t0, 1 - post) / np.mean(w_t0))
    m2_pre = col_mean(w_c0, y - fit_c - a_c0) / np.mean(w_c0)
    m2_post = col_mean(w_c1, y - fit_c - a_c1) / np.mean(w_c1)
    inf_cont_or = (lin_c1 @ -col_mean(w_c1, post) / np.mean(w_c1)
                   - lin_c0 @ -col_mean(w_c0, 1 - post) / np.mean(w_c0))
    mom_post = col_mean(w_d / np.mean(w_d) - w_t1 / np.mean(w_t1))
    mom_pre = col_mean(w_d / np.mean(w_d) - w_t0 / np.mean(w_t0))
    inf_or = (lin_t1 - lin_c1) @ mom_post - (lin_t0 - lin_c0) @ mom_pre
    inf_treat = i_t1 - i_t0 + inf_treat_or
    inf_cont = i_c1 - i_c0 + lin_ps @ (m2_post - m2_pre) + inf_cont_or
    inf_eff = (i_d1 - i_dt1) - (i_d0 - i_dt0)
    return att, inf_treat - inf_cont + inf_eff + inf_or


PANEL = {"dr": drdid_panel, "reg": reg_did_panel, "ipw": std_ipw_did_panel}
REPEATED_CROSS_SECTION = {"dr": drdid_rc, "reg": reg_did_rc, "ipw": std_ipw_did_rc}
