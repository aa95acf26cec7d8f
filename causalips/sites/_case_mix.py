"""Logistic case-mix models of a 0/1 outcome: the design, the fit, the odds-ratio table.

The models are fitted from counts per covariate cell (:func:`fit_logistic_cells`): each cell
enters as two rows, outcome 1 weighted by its people with the outcome and outcome 0 weighted by
the others. Those frequency weights give the person-level likelihood term for term, so the
estimates and standard errors are the person-level fit's, while the cells can be counted where
the data are (a Parquet file, DuckDB, Spark) and only they come back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, EstimationError


def design_matrix(df: pd.DataFrame, columns, *, reference: dict | None = None) -> pd.DataFrame:
    """Numeric design with dummies for text/categorical columns (first sorted level dropped)."""
    parts = []
    for col in columns:
        s = df[col]
        if s.isna().any():
            raise DataError(f"column {col!r} (a case-mix covariate) has {int(s.isna().sum())} "
                            "missing values; impute or drop those rows first")
        if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_numeric_dtype(s)
                                             and not isinstance(s.dtype, pd.CategoricalDtype)):
            parts.append(pd.DataFrame({col: s.to_numpy(dtype=np.float64)}, index=df.index))
            continue
        levels = sorted(pd.unique(s).tolist(), key=str)
        ref = (reference or {}).get(col, levels[0])
        for lv in levels:
            if lv == ref:
                continue
            parts.append(pd.DataFrame({f"{col}[{lv}]": (s == lv).to_numpy(dtype=np.float64)},
                                      index=df.index))
    X = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)
    X.insert(0, "(intercept)", 1.0)
    return X


def fit_logistic(y: np.ndarray, X: pd.DataFrame, weights: np.ndarray | None = None):
    """Logistic regression (statsmodels GLM, binomial, logit); weights as frequency weights."""
    import warnings

    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    rank = np.linalg.matrix_rank(X.to_numpy())
    if rank < X.shape[1]:
        raise EstimationError(
            f"the case-mix model has {X.shape[1]} terms but rank {rank}: some covariates are "
            "collinear or a level is empty; drop or merge them"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow is judged from the fit below
        try:
            model = sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=weights)
            fit = model.fit()
        except (PerfectSeparationWarning, np.linalg.LinAlgError, ValueError) as exc:
            raise EstimationError(
                f"the logistic model could not be fitted ({exc}); a group or covariate level "
                "probably has all or none with the outcome: merge small levels"
            ) from None
    if not (np.all(np.isfinite(fit.params)) and np.all(np.isfinite(fit.bse))):
        raise EstimationError(
            "the logistic model gave non-finite estimates: a group or covariate level has all or "
            "none with the outcome, or the weights span too many orders of magnitude; merge "
            "small levels or rescale the weights")
    return fit


def fit_logistic_cells(cells: pd.DataFrame, columns, events: np.ndarray,
                       non_events: np.ndarray, *, reference: dict | None = None):
    """The logistic model of the outcome on ``columns`` from counts per cell of them.

    ``cells`` holds one row per distinct combination of ``columns``; ``events`` and
    ``non_events`` are its people with and without the outcome. Returns the fit and the cells'
    design matrix (for their predicted probabilities).
    """
    X = design_matrix(cells, columns, reference=reference)
    with_outcome, without = events > 0, non_events > 0
    rows = pd.concat([X[with_outcome], X[without]], ignore_index=True)
    y = np.r_[np.ones(with_outcome.sum()), np.zeros(without.sum())]
    weights = np.r_[events[with_outcome], non_events[without]]
    return fit_logistic(y, rows, weights), X


def odds_ratio_table(fit, conf_level: float = 0.95) -> pd.DataFrame:
    """Odds ratios with Wald CIs from a fitted logistic GLM (intercept dropped)."""
    z = stats.norm.ppf(0.5 + conf_level / 2)
    b, se = fit.params, fit.bse
    out = pd.DataFrame({
        "term": b.index, "estimate": np.exp(b.to_numpy()), "std_error": se.to_numpy(),
        "statistic": (b / se).to_numpy(), "p_value": fit.pvalues.to_numpy(),
        "conf_low": np.exp(b - z * se).to_numpy(), "conf_high": np.exp(b + z * se).to_numpy(),
        "log_odds": b.to_numpy()})
    return out[out["term"] != "(intercept)"].reset_index(drop=True)
