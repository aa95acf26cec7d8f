"""Cox proportional-hazards regression (Efron or Breslow ties), as R's ``survival::coxph``.

Strata, case weights, (start, stop] counting-process rows, model-based, robust (Lin–Wei) and
cluster-robust variances, likelihood-ratio / Wald / score tests, Harrell's concordance, the
proportional-hazards test of R's ``cox.zph`` and adjusted survival curves. The numerics live in
``_cox_math`` (risk sets as cumulative sums, no loops over rows or event times).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings as _warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    as_dataframe,
    check_choice,
    check_columns,
    check_nonnegative,
    check_not_empty,
    check_range,
    event_indicator,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import (
    ConvergenceWarning,
    DataError,
    DroppedRowsWarning,
    EstimationError,
    SpecificationError,
    StatisticalWarning,
)
from ..inference import Cluster
from . import _cox_math as cm
from ._concordance import concordance as _concordance
from ._design import build_design, check_collinearity, parse_term, source_columns

TIES = ("efron", "breslow")
VCOV = ("model", "robust")


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def _inv(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


def _quad(v: np.ndarray, m: np.ndarray) -> float:
    """v' m^{-1} v (a Wald or score statistic)."""
    if v.size == 0:
        return 0.0
    return float(v @ _solve(m, v))


class _Deferred:
    """What the lazily computed parts of a result need: the fit's risk-set index (times,
    events, weights in risk-set order), the centred design matrix, the final Newton pieces and
    β̂ (derived arrays only, never the DataFrame). Concordance, the proportional-hazards test
    pieces and the adjusted-curve predictors are computed from these on first use."""

    def __init__(self, *, rs, xc, pieces, stop, beta, names, design, null_s1d, cluster,
                 concordance, diagnostics):
        self.rs, self.xc, self.pieces = rs, xc, pieces
        self.stop, self.beta = stop, beta  # stop in data order
        self.names, self.assign = names, design.assign
        self.indicator = design.indicator
        self.null_s1d, self.cluster = null_s1d, cluster
        self.want_concordance, self.diagnostics = concordance, diagnostics

    def concordance(self) -> tuple[float, float]:
        if not self.want_concordance:
            return np.nan, np.nan
        lp = cm.linear_predictor(self.xc, self.beta)
        c, c_se, _counts = _concordance(self.rs, lp, self.cluster)
        return c, c_se

    def zph(self):
        if not self.diagnostics:
            return None
        from .zph import zph_pieces

        rs = self.rs
        return zph_pieces(rs, self.xc, self.pieces, self.stop[rs.order], rs.event, self.beta,
                          self.names, self.assign, self.null_s1d)

    def lp_other(self) -> dict:
        out = {}
        if not self.diagnostics:
            return out
        for label, idx in self.assign.items():
            if all(self.indicator[i] for i in idx):
                b_other = self.beta.copy()
                b_other[list(idx)] = 0.0
                out[label] = cm.linear_predictor(self.xc, b_other).astype(np.float32)
        return out


class CoxResult(Result):
    """A fitted Cox model.

    ``tidy()`` has one row per coefficient: ``term``, ``estimate`` (log hazard ratio),
    ``std_error``, ``statistic`` (z), ``p_value``, ``conf_low``/``conf_high`` (log scale) and
    ``hazard_ratio``, ``hr_conf_low``, ``hr_conf_high``, plus ``std_error_model`` (the model-based
    SE, equal to ``std_error`` unless a robust variance was asked for).

    Attributes
    ----------
    coef, vcov : the coefficients (Series) and their variance matrix (DataFrame) used for tests.
    vcov_model : the model-based (inverse information) variance.
    converged, iterations : Newton–Raphson outcome.
    factors : the categorical columns with their levels and reference level.
    """

    count_columns = ()

    def __init__(self, *, estimator, table, n_obs, warnings, stats_, extras):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self._stats = dict(stats_)
        names = list(table["term"])
        self.coef = pd.Series(table["estimate"].to_numpy(), index=names, name="log_hazard_ratio")
        self.vcov = pd.DataFrame(extras["vcov"], index=names, columns=names)
        self.vcov_model = pd.DataFrame(extras["vcov_model"], index=names, columns=names)
        self.converged = bool(stats_["converged"])
        self.iterations = int(stats_["iterations"])
        self.factors = extras["factors"]
        self.assign = extras["assign"]
        self._baseline = extras["baseline"]
        self._means = extras["means"]
        self._strata_rows = extras["strata_rows"]
        self._strata_labels = extras["strata_labels"]
        self._deferred = extras["deferred"]
        self._freeze()

    # -- computed on first use, then cached (cached_property writes to __dict__ directly) ----
    @functools.cached_property
    def _concordance(self) -> tuple[float, float]:
        """Harrell's C and its SE (R's concordancefit), computed on first use."""
        return self._deferred.concordance()

    @functools.cached_property
    def _zph(self) -> dict | None:
        """The pieces of the proportional-hazards test (None with diagnostics=False)."""
        return self._deferred.zph()

    @functools.cached_property
    def _lp_other(self) -> dict:
        """Per categorical term: the linear predictor without that term (adjusted curves)."""
        return self._deferred.lp_other()

    def _full_stats(self) -> dict:
        s = dict(self._stats)
        s["concordance"], s["concordance_se"] = self._concordance
        return s

    # -- the common interface ----------------------------------------------------------------
    def glance(self) -> pd.DataFrame:
        """One row: n, events, log-likelihoods, the three global tests, concordance (+ SE).

        Harrell's C and its SE are computed on the first call (O(n log n)) and cached.
        """
        return pd.DataFrame([self._full_stats()])

    def summary(self) -> Summary:
        est = self.estimator
        s = self._full_stats()
        vdesc = {
            "model": "model-based (inverse information)",
            "robust": "robust (Lin-Wei sandwich, each row its own cluster; no small-sample factor)",
        }.get(s["vcov"], f"cluster-robust by {s['vcov'].split(':', 1)[-1]!r} "
              f"({s.get('n_clusters')} clusters; Lin-Wei sandwich, no small-sample factor, as R)")
        header = (
            ("duration", est.duration if est.entry is None else f"({est.entry}, {est.duration}]"),
            ("event", est.event),
            ("ties", f"{est.ties} (R's coxph default is efron)"),
            ("variance", vdesc),
            ("strata", ", ".join(est.strata) if est.strata else "(none)"),
            ("n", f"{self.n_obs} rows, {s['n_events']:g} events"),
            ("converged", f"{s['converged']} after {s['iterations']} iterations"),
        )
        cols = ["term", "hazard_ratio", "hr_conf_low", "hr_conf_high", "estimate", "std_error",
                "statistic", "p_value"]
        tests = pd.DataFrame(
            [
                {"test": "likelihood ratio", "statistic": s["lr_stat"], "df": s["df"],
                 "p_value": s["lr_p"]},
                {"test": "Wald", "statistic": s["wald_stat"], "df": s["df"],
                 "p_value": s["wald_p"]},
                {"test": "score (log-rank)", "statistic": s["score_stat"], "df": s["df"],
                 "p_value": s["score_p"]},
            ]
        )
        if "robust_score_stat" in s:
            tests.loc[len(tests)] = {"test": "robust score", "statistic": s["robust_score_stat"],
                                     "df": s["df"], "p_value": s["robust_score_p"]}
        notes = (
            f"Concordance (Harrell's C) {s['concordance']:.4f} (SE {s['concordance_se']:.4f}).",
            f"Intervals are {est.conf_level:.0%} Wald intervals on the log scale.",
        )
        return Summary(title="Cox proportional hazards", header=header,
                       tables=(("Hazard ratios", self._table[cols]), ("Global tests", tests)),
                       notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        """Forest plot of the hazard ratios with their confidence intervals."""
        from ..plotting.cox import plot_hazard_ratios

        return plot_hazard_ratios(self, ax=ax, **style)

    # -- diagnostics -------------------------------------------------------------------------
    def check_proportional_hazards(self, transform: str = "km", terms: bool = True) -> pd.DataFrame:
        """Test of proportional hazards per term and GLOBAL, as R's ``cox.zph`` (survival >= 3).

        A score test of β(t) = β + θ·g(t) at (β̂, 0), using the information matrix of the model
        extended by all g(t)·x terms (not the older constant-variance approximation).

        Parameters
        ----------
        transform : {"km", "identity", "rank"}
            g(t): 1 − KM(t−) of the pooled data (R's default), t, or the rank of t.
        terms : bool
            True tests each term jointly (a factor gets one test with one df per level);
            False tests each coefficient.

        Returns
        -------
        DataFrame with ``term``, ``chisq``, ``df``, ``p_value``.
        """
        from .zph import zph_table

        check_choice("transform", transform, ("km", "identity", "rank"))
        self._need_diagnostics()
        return zph_table(self, transform, terms)

    def plot_proportional_hazards(self, term: str, transform: str = "km", ax=None, **style):
        """Scaled Schoenfeld residuals for one term against transformed time, with a smooth."""
        from ..plotting.cox import plot_schoenfeld

        check_choice("transform", transform, ("km", "identity", "rank"))
        self._need_diagnostics()
        return plot_schoenfeld(self, term, transform=transform, ax=ax, **style)

    def plot_survival_curves(self, term: str | None = None, *, method: str = "direct",
                             ax=None, **style):
        """Plot :meth:`survival_curves` (adjusted survival per level of ``term``)."""
        from ..plotting.cox import plot_adjusted_curves

        return plot_adjusted_curves(self.survival_curves(term, method=method), ax=ax, **style)

    def _need_diagnostics(self):
        if self._zph is None:
            raise SpecificationError(
                "this fit was run with diagnostics=False; refit with Cox(..., diagnostics=True) "
                "to test proportional hazards"
            )

    def survival_curves(self, term: str | None = None, *, method: str = "direct",
                        times: Sequence[float] | None = None) -> pd.DataFrame:
        """Adjusted survival curves per level of a categorical ``term`` (e.g. the arm).

        ``method="direct"``: direct adjustment (the g-formula): everyone's covariates are kept
        and only ``term`` is set to each level; the curve is the average of the individual
        predicted survival curves. ``method="mean"``: one curve per level with the other
        covariates at their sample means (R's ``survfit(fit, newdata=)`` at the means).
        The baseline hazard is Breslow's (Efron-adjusted when ties="efron", as R); in a stratified
        model each row uses its own stratum's baseline (direct) or the curves are per stratum
        (mean).

        Returns
        -------
        DataFrame with ``level``, (``stratum``,) ``time``, ``estimate`` (survival).
        """
        from .zph import adjusted_curves

        check_choice("method", method, ("direct", "mean"))
        return adjusted_curves(self, term, method, times)


class Cox(Estimator):
    """Cox proportional-hazards model of time to an event (e.g. a job start).

    Parameters
    ----------
    duration : str
        Column with the follow-up time (the end of the interval when ``entry`` is given).
    event : str
        Column with 1/True for an event, 0/False for censoring (or use ``event_value``).
    covariates : list of str
        Terms: column names (text, category and boolean columns are factors with treatment
        contrasts), ``log(x)``/``sqrt(x)``/``exp(x)`` of a numeric column, and interactions
        ``a:b``. Other transforms: precompute a column.
    reference : dict, optional
        Reference level per categorical column, e.g. ``{"budget": "55h"}``; by default the first
        level (first sorted value, or the first category of a pandas Categorical), like R.
    categorical : list of str, optional
        Numeric columns to treat as factors (R's ``factor(stage)``).
    strata : list of str, optional
        Columns defining strata with separate baseline hazards.
    ties : {"efron", "breslow"}
        Handling of tied event times; Efron is R's default.
    entry : str, optional
        Column with the start of each (start, stop] interval: delayed entry, time-varying
        covariates or Fine–Gray expanded data.
    weights : str, optional
        Column of non-negative case weights.
    vcov : {"model", "robust"} or Cluster
        Model-based variance, robust (Lin–Wei sandwich, each row its own cluster) or
        cluster-robust ``Cluster("person")``. No small-sample factor (as R).
    event_value : optional
        Value of ``event`` that marks an event if it is not 0/1.
    conf_level : float
        Confidence level (default 0.95).
    max_iter, tol : Newton–Raphson controls; converged when the relative change in the log
        partial likelihood is below ``tol`` (R's criterion).
    concordance : bool
        Report Harrell's C and its SE (default True). Computed on the first ``glance()`` /
        ``summary()`` and cached (O(n log n), ~1 s at 10⁶ rows); False: never (NaN).
    diagnostics : bool
        Allow :meth:`CoxResult.check_proportional_hazards`, the Schoenfeld-residual plot and
        :meth:`CoxResult.survival_curves` (default True). Their pieces are computed on first
        use and cached, so the fit itself costs the same either way; False refuses them.

    Returns
    -------
    CoxResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_swiss_trial
    >>> res = ci.Cox(duration="months", event="employed", covariates=["budget"],
    ...              reference={"budget": "40h"}).fit(load_swiss_trial())
    >>> res.tidy()["term"].tolist()
    ['budget[25h]', 'budget[55h]']

    See Also
    --------
    KaplanMeier, LogRank
    """

    _param_names = ("duration", "event", "covariates", "reference", "categorical", "strata",
                    "ties", "entry", "weights", "vcov", "event_value", "conf_level", "max_iter",
                    "tol", "concordance", "diagnostics")

    def __init__(
        self,
        *,
        duration: str,
        event: str,
        covariates: Sequence[str] = (),
        reference: dict | None = None,
        categorical: Sequence[str] = (),
        strata: Sequence[str] | str | None = None,
        ties: Literal["efron", "breslow"] = "efron",
        entry: str | None = None,
        weights: str | None = None,
        vcov: Literal["model", "robust"] | Cluster = "model",
        event_value=None,
        conf_level: float = 0.95,
        max_iter: int = 50,
        tol: float = 1e-9,
        concordance: bool = True,
        diagnostics: bool = True,
    ):
        self.duration, self.event = duration, event
        if isinstance(covariates, str):
            covariates = [covariates]
        self.covariates = list(covariates)
        self._terms = [parse_term(t) for t in self.covariates]
        if reference is not None and not isinstance(reference, dict):
            raise SpecificationError(f"reference must be a dict {{column: level}}; got {reference!r}")
        self.reference = dict(reference or {})
        used = set(source_columns(self._terms))
        unknown = [c for c in self.reference if c not in used]
        if unknown:
            raise SpecificationError(
                f"reference names {unknown}, which are not among the covariates {self.covariates}"
            )
        self.categorical = [categorical] if isinstance(categorical, str) else list(categorical)
        if isinstance(strata, str):
            strata = [strata]
        self.strata = list(strata or [])
        self.ties = check_choice("ties", ties, TIES)
        self.entry, self.weights = entry, weights
        if not isinstance(vcov, Cluster) and vcov not in VCOV:
            raise SpecificationError(
                f"vcov must be one of {{'model', 'robust', Cluster(column)}}; got {vcov!r}"
            )
        self.vcov = vcov
        self.event_value = event_value
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        if not isinstance(max_iter, int | np.integer) or max_iter < 1:
            raise SpecificationError(f"max_iter must be a positive integer; got {max_iter!r}")
        self.max_iter = int(max_iter)
        self.tol = check_range("tol", tol, 0, 1)
        self.concordance = bool(concordance)
        self.diagnostics = bool(diagnostics)

    # ----------------------------------------------------------------------------------------
    def fit(self, data) -> CoxResult:
        df = as_dataframe(data)
        cluster_col = self.vcov.cluster if isinstance(self.vcov, Cluster) else None
        roles = {"duration": self.duration, "event": self.event, "entry": self.entry,
                 "weights": self.weights, "cluster": cluster_col}
        roles.update({f"strata ({s})": s for s in self.strata})
        roles.update({f"covariate ({c})": c for c in source_columns(self._terms)})
        roles.update({f"categorical ({c})": c for c in self.categorical})
        check_columns(df, roles)
        check_not_empty(df)
        used_cols = list(dict.fromkeys(c for c in roles.values() if c is not None))
        missing = np.zeros(len(df), dtype=bool)
        for col in used_cols:
            dtype = df[col].dtype
            if isinstance(dtype, np.dtype) and dtype.kind in "iub":
                continue  # numpy integer / boolean columns cannot hold missing values
            missing |= df[col].isna().to_numpy()
        warnings: list[str] = []
        if missing.any():
            n_drop = int(missing.sum())
            example = df.index[missing][:3].tolist()
            msg = (f"{n_drop} of {len(df)} rows dropped for missing values in "
                   f"{[c for c in used_cols if df[c].isna().any()]} (e.g. rows {example})")
            _warnings.warn(DroppedRowsWarning(msg, n_drop), stacklevel=2)
            warnings.append(msg)
            df = df.loc[~missing]
            if len(df) == 0:
                raise DataError("no rows left after dropping rows with missing values")
        if self.weights is not None:
            w_all = numeric_column(df, self.weights, role="weights")
            check_nonnegative(df, w_all, self.weights, role="weights")
            zero = w_all == 0
            if zero.any():
                n_zero = int(zero.sum())
                msg = (f"{n_zero} rows with zero weight in {self.weights!r} dropped "
                       f"(e.g. rows {df.index[zero][:3].tolist()}); they carry no information")
                _warnings.warn(DroppedRowsWarning(msg, n_zero), stacklevel=2)
                warnings.append(msg)
                df = df.loc[~zero]
                if len(df) == 0:
                    raise DataError(f"all weights in {self.weights!r} are zero")
        stop = numeric_column(df, self.duration, role="duration")
        start = None
        if self.entry is not None:
            start = numeric_column(df, self.entry, role="entry")
            bad = ~(start < stop)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"{int(bad.sum())} rows have {self.entry} >= {self.duration} (e.g. row "
                    f"{df.index[i]!r}: ({start[i]:g}, {stop[i]:g}]); each interval must have "
                    "entry < duration"
                )
        else:
            check_nonnegative(df, stop, self.duration, role="duration")
        event = event_indicator(df, self.event, event_value=self.event_value)
        n = len(df)
        if self.weights is not None:
            w = numeric_column(df, self.weights, role="weights")
        else:
            w = np.ones(n)
        if self.strata:
            s_codes = df.groupby(self.strata, sort=True, observed=True).ngroup().to_numpy()
            s_labels = [
                ", ".join(str(v) for v in (k if isinstance(k, tuple) else (k,)))
                for k in df.groupby(self.strata, sort=True, observed=True).groups
            ]
        else:
            s_codes, s_labels = np.zeros(n, dtype=np.int64), ["all"]
        if not event.any():
            raise EstimationError(
                f"there are no events in {self.event!r} among the {n} rows used; a Cox model "
                "needs events"
            )
        rs = cm.build_risk_sets(stop, event, w, s_codes, start=start, ties=self.ties)
        # from here on rows are in the risk-set order rs.order (sorted by last block, event);
        # stop stays in data order (only the lazy proportional-hazards test needs it)
        event = rs.event
        if self.strata:
            s_codes = s_codes[rs.order]
        design = build_design(df, self._terms, categorical=self.categorical,
                              reference=self.reference, rows=rs.order)
        xc = design.matrix
        names = list(design.names)
        if not names:
            raise SpecificationError("covariates is empty; a Cox model needs at least one term")
        means = xc.mean(axis=0)
        xc -= means  # centred in place (our own column-major array)
        sumsq = check_collinearity(xc, names, s_codes if self.strata else None, means)
        x_sd = np.sqrt(sumsq / max(len(xc), 1))  # scale of each column (step criterion)
        p = len(names)

        # -- Newton-Raphson with step halving ----------------------------------------------
        beta = np.zeros(p)
        null = cm.evaluate(rs, xc, beta, None)
        wx_dead = null.wx_dead
        cur = null
        converged = False
        iterations = 0
        halvings = 0
        shortcut = not (isinstance(self.vcov, Cluster) or self.vcov == "robust")
        for it in range(1, self.max_iter + 1):
            iterations = it
            step = _solve(cur.info, cur.score)
            if shortcut and it > 1 and float(np.max(np.abs(step) * x_sd)) <= 1e-6:
                # Quadratic convergence reached: this is R's last step. Take it without
                # re-evaluating; the information (hence the model-based SEs) moves by ~1e-6
                # relative at most over a step this small, the log-likelihood by O(step^3).
                # (Not with a robust variance, whose score residuals need the final beta.)
                beta = beta + step
                cur = dataclasses.replace(cur, loglik=cur.loglik + 0.5 * float(cur.score @ step),
                                          score=cur.score - cur.info @ step)
                converged = True
                break
            new_beta = beta + step
            new = cm.evaluate(rs, xc, new_beta, wx_dead)
            while (not np.isfinite(new.loglik) or new.loglik < cur.loglik - 1e-12 * abs(
                    cur.loglik)) and halvings < 30:
                halvings += 1
                new_beta = (beta + new_beta) / 2
                new = cm.evaluate(rs, xc, new_beta, wx_dead)
            done = abs(1 - cur.loglik / new.loglik) <= self.tol if new.loglik != 0 else True
            beta, cur = new_beta, new
            if done:
                converged = True
                break
        if not converged:
            msg = (f"the Cox fit did not converge in {self.max_iter} iterations (relative change "
                   f"in log-likelihood above tol={self.tol:g}); estimates may be unreliable")
            _warnings.warn(msg, ConvergenceWarning, stacklevel=2)
            warnings.append(msg)

        v_model = _inv(cur.info)
        warnings.extend(self._monotone_check(beta, cur, v_model, wx_dead, means, rs, names, design,
                                             converged))

        # -- variance ------------------------------------------------------------------------
        robust = isinstance(self.vcov, Cluster) or self.vcov == "robust"
        cl_codes = None
        n_clusters = None
        if isinstance(self.vcov, Cluster):
            cl_codes, _u = pd.factorize(df[self.vcov.cluster], sort=True)
            cl_codes = cl_codes[rs.order]
            n_clusters = len(_u)
            if n_clusters < 20:
                msg = (f"only {n_clusters} clusters in {self.vcov.cluster!r}: cluster-robust SEs "
                       "are unreliable with few clusters (no small-sample correction is applied, "
                       "as in R); treat the p-values with caution")
                _warnings.warn(msg, StatisticalWarning, stacklevel=2)
                warnings.append(msg)
        elif self.vcov == "robust":
            n_clusters = n
        if robust:
            resid = cm.score_residuals(rs, xc, cur) * rs.weights[:, None]
            dfb = resid @ v_model
            if cl_codes is not None:
                dfb = np.column_stack(
                    [np.bincount(cl_codes, weights=dfb[:, j]) for j in range(p)]
                )
            v = dfb.T @ dfb
        else:
            v = v_model

        se = np.sqrt(np.diag(v))
        se_model = np.sqrt(np.diag(v_model))
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            zstat = beta / se
        pval = 2 * stats.norm.sf(np.abs(zstat))
        with np.errstate(over="ignore"):
            hr_low, hr, hr_high = np.exp(beta - z * se), np.exp(beta), np.exp(beta + z * se)
        table = tidy_frame(
            {
                "term": names,
                "estimate": beta,
                "std_error": se,
                "statistic": zstat,
                "p_value": pval,
                "conf_low": beta - z * se,
                "conf_high": beta + z * se,
                "hazard_ratio": hr,
                "hr_conf_low": hr_low,
                "hr_conf_high": hr_high,
                "std_error_model": se_model,
            }
        )

        # -- global tests --------------------------------------------------------------------
        lr = 2 * (cur.loglik - null.loglik)
        wald = _quad(beta, v)
        score = _quad(null.score, null.info)
        st = {
            "n_obs": n,
            "n_events": int(np.sum(event)),
            "n_events_weighted": float(rs.death_rows.size if rs.unit_weights
                                       else np.sum(rs.weights[rs.death_rows])),
            "loglik_null": null.loglik,
            "loglik": cur.loglik,
            "df": p,
            "lr_stat": lr,
            "lr_p": float(stats.chi2.sf(lr, p)),
            "wald_stat": wald,
            "wald_p": float(stats.chi2.sf(wald, p)),
            "score_stat": score,
            "score_p": float(stats.chi2.sf(score, p)),
        }
        if robust:
            r0 = cm.score_residuals(rs, xc, null) * rs.weights[:, None]
            if cl_codes is not None:
                r0 = np.column_stack([np.bincount(cl_codes, weights=r0[:, j]) for j in range(p)])
            rscore = _quad(null.score, r0.T @ r0)
            st["robust_score_stat"] = rscore
            st["robust_score_p"] = float(stats.chi2.sf(rscore, p))
        # concordance: computed on first use (glance/summary), see _Deferred
        st.update({"concordance": np.nan, "concordance_se": np.nan, "iterations": iterations,
                   "converged": converged, "ties": self.ties,
                   "vcov": self.vcov if isinstance(self.vcov, str) else
                   f"cluster:{self.vcov.cluster}",
                   "n_clusters": n_clusters, "n_strata": len(s_labels),
                   "conf_level": self.conf_level})

        # -- what the diagnostics and curves need (no raw data) ------------------------------
        dh = cur.c1 * np.exp(-cur.shift)  # baseline hazard increments at centred x = 0
        baseline = {"time": rs.block_time, "stratum": rs.block_stratum, "dhaz": dh}
        rs.__dict__.pop("_buffers", None)  # Newton-step scratch arrays
        deferred = _Deferred(rs=rs, xc=xc, pieces=cur, stop=np.array(stop), beta=beta,
                             names=names, design=design, null_s1d=null.s1d, cluster=cl_codes,
                             concordance=self.concordance, diagnostics=self.diagnostics)
        return CoxResult(
            estimator=self, table=table, n_obs=n, warnings=warnings, stats_=st,
            extras={"vcov": v, "vcov_model": v_model, "factors": design.factors,
                    "assign": design.assign, "baseline": baseline, "deferred": deferred,
                    "means": means, "strata_rows": s_codes.astype(np.int32)
                    if self.strata else None, "strata_labels": s_labels},
        )

    def _monotone_check(self, beta, cur, v_model, wx_dead, means, rs, names, design,
                        converged) -> list[str]:
        """Warn when a coefficient is drifting to ±infinity (monotone likelihood/separation)."""
        out = []
        flagged = set()
        w_dead = float(np.sum(rs.weights[rs.death_rows]))
        # a 0/1 level indicator whose level has no events (or only events)
        for j in range(len(names)):
            if not design.indicator[j]:
                continue
            events_with = wx_dead[j] + means[j] * w_dead  # x was centred
            if events_with <= 1e-9 * w_dead or events_with >= w_dead * (1 - 1e-9):
                flagged.add(j)
        # R's test: the remaining Newton step is large relative to the coefficient
        if converged:
            step = np.abs(v_model @ cur.score)
            eps = np.sqrt(self.tol)
            for j in np.flatnonzero((step > eps) & (step > eps * np.abs(beta))):
                flagged.add(int(j))
        for j in sorted(flagged):
            msg = (f"monotone likelihood: the coefficient of {names[j]!r} is diverging "
                   f"(log HR {beta[j]:.3g}); typically a group with no events (or only events). "
                   "Its hazard ratio, SE and CI are not meaningful: merge or drop that level, or "
                   "use a method for sparse data (e.g. Firth's penalty).")
            _warnings.warn(msg, StatisticalWarning, stacklevel=3)
            out.append(msg)
        return out


__all__ = ["Cox", "CoxResult"]
