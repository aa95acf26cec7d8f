"""Shared statistics for the site/equity estimators: contingency tests and logistic models."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import DataError, EstimationError

EXACT_CHOICES = ("auto", "never", "always")


def pearson_statistic(tables: np.ndarray) -> np.ndarray:
    """Pearson chi-squared for one (r, c) table or a stack (..., r, c), vectorised."""
    t = np.asarray(tables, dtype=np.float64)
    rows = t.sum(axis=-1, keepdims=True)
    cols = t.sum(axis=-2, keepdims=True)
    total = t.sum(axis=(-2, -1), keepdims=True)
    expected = rows * cols / total
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(expected > 0, (t - expected) ** 2 / expected, 0.0)
    return terms.sum(axis=(-2, -1))


def contingency_test(
    table,
    *,
    correction: bool = False,
    exact: str = "auto",
    reps: int = 2000,
    seed=None,
) -> dict:
    """Test independence in an r × c table of counts.

    Pearson chi-squared without continuity correction by default (``correction=True`` applies
    Yates' correction, 2 × 2 tables only, as ``scipy.stats.chi2_contingency``). When an expected
    count is below 5 (``exact="auto"``) or always (``exact="always"``), the p-value is exact:
    Fisher's exact test (two-sided) for a 2 × 2 table, otherwise a Monte Carlo p-value from
    ``reps`` random tables with the same margins, ``(1 + #{X2* >= X2}) / (reps + 1)`` as R's
    ``chisq.test(simulate.p.value=TRUE)``. Exact tests need whole-number counts.
    """
    t = np.asarray(table, dtype=np.float64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    r, c = t.shape
    if r < 2 or c < 2:
        return {"chisq": np.nan, "df": 0, "p_value": np.nan, "min_expected": np.nan,
                "test": "not tested (fewer than two non-empty rows or columns)"}
    chi = stats.chi2_contingency(t, correction=correction)
    chisq, p_value, df, expected = float(chi[0]), float(chi[1]), int(chi[2]), chi[3]
    min_expected = float(expected.min())
    if correction and (r, c) == (2, 2):
        test = "Pearson chi-squared with Yates' continuity correction"
    else:
        test = "Pearson chi-squared (no continuity correction)"
    use_exact = exact == "always" or (exact == "auto" and min_expected < 5)
    integer = np.allclose(t, np.round(t))
    if use_exact and integer:
        ti = np.round(t).astype(np.int64)
        if (r, c) == (2, 2):
            p_value = float(stats.fisher_exact(ti)[1])
            test = "Fisher's exact test (two-sided)"
            test += " (an expected count < 5)" if exact == "auto" else ""
        else:
            rng = np.random.default_rng(seed)
            sims = stats.random_table(ti.sum(axis=1), ti.sum(axis=0), seed=rng).rvs(size=reps)
            sim_stat = pearson_statistic(sims)
            obs = float(pearson_statistic(ti))
            hits = int(np.sum(sim_stat >= obs * (1 - 1e-7)))
            p_value = (1 + hits) / (reps + 1)
            test = (f"Pearson chi-squared with Monte Carlo p-value ({reps} tables with fixed "
                    f"margins, seed={seed})")
            test += " (an expected count < 5)" if exact == "auto" else ""
    elif use_exact:
        test += " (counts are not whole numbers, so no exact test; an expected count < 5)"
    return {"chisq": chisq, "df": df, "p_value": p_value, "min_expected": min_expected,
            "test": test}


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
        try:
            model = sm.GLM(y, X, family=sm.families.Binomial(), freq_weights=weights)
            fit = model.fit()
        except (PerfectSeparationWarning, np.linalg.LinAlgError) as exc:
            raise EstimationError(
                f"the logistic model could not be fitted ({exc}); a group or covariate level "
                "probably has all or none with the outcome: merge small levels"
            ) from None
    return fit


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
