"""The variance a spec asks for from a Cox fit, and what follows from it: the coefficient table
and the global tests.

- ``ModelBased()``: the inverse information.
- ``Robust()``: the Lin–Wei sandwich D'D (D = weighted score residuals times the model
  variance, R's dfbeta), each row its own cluster.
- ``Cluster(col)``: the same with D summed within clusters (R's ``cluster=``). The default is
  R's, no small-sample factor (``correction="CR0"``); ``correction="CR1"`` multiplies by
  G/(G−1) and takes p-values and intervals from t(G−1) (and the Wald test from F(p, G−1)), as
  fixest and Stata do for linear models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..base import tidy_frame
from ..errors import SpecificationError, StatisticalWarning, warn
from ..inference import VARIANCE_SPECS, Cluster, ModelBased, Robust, check_spec
from ._cox_fit import CoxFit, quad

#: Below this many clusters the cluster-robust variance is flagged (coverage falls short).
FEW_CLUSTERS = 50


@dataclass(frozen=True)
class CoxVariance:
    spec: object
    matrix: np.ndarray
    description: str  # for summaries
    n_clusters: int | None
    correction: str | None  # "CR0" / "CR1" for a cluster spec
    t_df: int | None  # degrees of freedom of the t reference (CR1), None: normal
    robust_score: float | None
    cluster: np.ndarray | None  # codes per row (risk-set order), for the concordance SE
    warnings: tuple[str, ...]


def cox_variance(fit: CoxFit, spec, *, where: str = "Cox") -> CoxVariance:
    """The variance ``spec`` asks for, from the fit (no refitting)."""
    check_spec(spec, VARIANCE_SPECS, where=where, argument="vcov")
    if isinstance(spec, ModelBased):
        return CoxVariance(spec, fit.v_model, "model-based (inverse information)", None, None,
                           None, None, None, ())
    meat = fit.meat(None if isinstance(spec, Robust) else spec.cluster, where=where)
    v = fit.v_model_at_beta @ meat.at_beta @ fit.v_model_at_beta
    robust_score = quad(fit.null.score, meat.at_zero)
    if isinstance(spec, Robust):
        return CoxVariance(spec, v, "robust (Lin-Wei sandwich, each row its own cluster; no "
                                    "small-sample factor)", fit.n, None, None, robust_score,
                           None, ())
    g = meat.n_clusters
    correction = spec.correction or "CR0"
    t_df = None
    if correction == "CR1":
        v = v * (g / (g - 1)) if g > 1 else v * np.nan
        t_df = g - 1
        how = f"Lin-Wei sandwich x G/(G-1) (CR1), t({g - 1}) reference"
    else:
        how = "Lin-Wei sandwich, no small-sample factor (CR0, as R's coxph)"
    warnings = _few_clusters(g, spec.cluster, correction)
    return CoxVariance(spec, v, f"cluster-robust by {spec.cluster!r} ({g} clusters; {how})", g,
                       correction, t_df, robust_score, meat.codes, warnings)


def _few_clusters(g: int, column: str, correction: str) -> tuple[str, ...]:
    if g >= FEW_CLUSTERS:
        return ()
    if correction == "CR1":
        msg = (f"only {g} clusters in {column!r}: even with the CR1 correction (G/(G-1), "
               "t(G-1)) cluster-robust intervals cover less than nominal below ~50 clusters "
               "(about 93-94% for a 95% interval at 40 clusters); treat p-values with caution")
    else:
        msg = (f"only {g} clusters in {column!r}: cluster-robust SEs without a small-sample "
               "correction (CR0, as R) are too small below ~50 clusters (about 91-93% coverage "
               f"for a 95% interval at 40 clusters); use Cluster({column!r}, correction='CR1') "
               "(G/(G-1) and t(G-1) reference) and treat p-values with caution")
    warn(msg, StatisticalWarning)
    return (msg,)


def coef_table(fit: CoxFit, var: CoxVariance, conf_level: float) -> pd.DataFrame:
    """One row per coefficient: log HR, SE, z (or t), p, CI, and the hazard-ratio scale."""
    beta = fit.beta
    se = np.sqrt(np.diag(var.matrix))
    if var.t_df is None:
        crit = stats.norm.ppf(0.5 + conf_level / 2)
    else:
        crit = stats.t.ppf(0.5 + conf_level / 2, var.t_df)
    with np.errstate(divide="ignore", invalid="ignore"):
        zstat = beta / se
    ref = stats.norm if var.t_df is None else stats.t(var.t_df)
    pval = 2 * ref.sf(np.abs(zstat))
    with np.errstate(over="ignore"):
        hr_low, hr, hr_high = np.exp(beta - crit * se), np.exp(beta), np.exp(beta + crit * se)
    return tidy_frame({
        "term": fit.names, "estimate": beta, "std_error": se, "statistic": zstat,
        "p_value": pval, "conf_low": beta - crit * se, "conf_high": beta + crit * se,
        "hazard_ratio": hr, "hr_conf_low": hr_low, "hr_conf_high": hr_high,
        "std_error_model": np.sqrt(np.diag(fit.v_model)),
    })


def fit_statistics(fit: CoxFit, var: CoxVariance, conf_level: float) -> dict:
    """The glance() row without the concordance: n, events, log-likelihoods, global tests."""
    p = len(fit.names)
    lr = 2 * (fit.final.loglik - fit.null.loglik)
    wald = quad(fit.beta, var.matrix)
    score = quad(fit.null.score, fit.null.info)
    if var.t_df is None:
        wald_p = float(stats.chi2.sf(wald, p))
    else:  # CR1: W/p against F(p, G-1)
        wald_p = float(stats.f.sf(wald / max(p, 1), p, var.t_df))
    st = {
        "n_obs": fit.n,
        "n_events": fit.n_events,
        "n_events_weighted": fit.n_events_weighted,
        "loglik_null": fit.null.loglik, "loglik": fit.final.loglik, "df": p,
        "lr_stat": lr, "lr_p": float(stats.chi2.sf(lr, p)),
        "wald_stat": wald, "wald_p": wald_p,
        "score_stat": score, "score_p": float(stats.chi2.sf(score, p)),
    }
    if var.robust_score is not None:
        st["robust_score_stat"] = var.robust_score
        st["robust_score_p"] = float(stats.chi2.sf(var.robust_score, p))
    st.update({"concordance": np.nan, "concordance_se": np.nan, "iterations": fit.iterations,
               "converged": fit.converged, "ties": fit.ties, "vcov": var.spec.describe(),
               "correction": var.correction, "n_clusters": var.n_clusters,
               "n_strata": len(fit.strata_labels), "conf_level": conf_level})
    return st


def variance_spec(vcov, *, where: str, aliases: dict, allowed=VARIANCE_SPECS):
    """The variance spec of a plan; deprecated strings (``aliases``: string -> spec, meaning)
    still work for one release, with a FutureWarning naming the spec to use."""
    if isinstance(vcov, str) and vcov in aliases:
        spec, meaning = aliases[vcov]
        warn(f"{where}(vcov={vcov!r}) is deprecated: pass vcov={spec.describe()} "
                       f"({meaning}; from causalips.inference); the string will be removed in "
                       "the next release", FutureWarning)
        return spec
    if not isinstance(vcov, allowed):
        names = ", ".join(f"{a.__name__}()" for a in allowed if a is not Cluster)
        raise SpecificationError(
            f"{where}: vcov must be one of {names} or Cluster('column') (specs from "
            f"causalips.inference); got {vcov!r}")
    return vcov
