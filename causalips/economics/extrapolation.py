"""Parametric survival models for extrapolating beyond follow-up (NICE DSU TSD 14 style).

Fits standard parametric models by maximum likelihood (lifelines' fitters; Gompertz through a
small lifelines fitter defined here), compares them by AIC and BIC and by eye against the
Kaplan-Meier curve, and projects the expected time in a state over a chosen horizon - e.g.
expected job-months within five years from job-tenure data - with uncertainty from draws of the
parameters from the asymptotic normal distribution of the MLE (as a probabilistic sensitivity
analysis does), seeded and vectorised.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import special, stats
from scipy.integrate import simpson

from .._checks import (
    as_dataframe,
    check_choice,
    check_columns,
    check_not_empty,
    check_range,
    event_indicator,
    group_codes,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import ConvergenceWarning, DataError, EstimationError, SpecificationError

DISTRIBUTIONS = ("exponential", "weibull", "gompertz", "lognormal", "loglogistic",
                 "generalized_gamma")
PROJECTIONS = ("restricted_mean", "time_after_event")
#: parameter names (lifelines' where lifelines fits the model) and which are positive
PARAMS = {
    "exponential": (("lambda_",), (True,)),
    "weibull": (("lambda_", "rho_"), (True, True)),
    "gompertz": (("rate_", "shape_"), (True, False)),
    "lognormal": (("mu_", "sigma_"), (False, True)),
    "loglogistic": (("alpha_", "beta_"), (True, True)),
    "generalized_gamma": (("mu_", "ln_sigma_", "lambda_"), (False, False, False)),
}
GRID_POINTS = 2001


def survival(distribution: str, params: np.ndarray, t: np.ndarray) -> np.ndarray:
    """S(t) for parameter rows ``params`` (draws x p) at times ``t``; returns draws x len(t).

    Parametrisations (lifelines'): exponential S = exp(-t/lambda); Weibull
    S = exp(-(t/lambda)^rho); Gompertz hazard rate*exp(shape*t), S = exp(-rate/shape*(e^{shape t}
    - 1)); log-normal S = 1 - Phi((log t - mu)/sigma); log-logistic S = 1/(1 + (t/alpha)^beta);
    generalised gamma with Z = (log t - mu)/sigma, sigma = exp(ln_sigma), k = 1/lambda^2,
    u = k e^{lambda Z}: S = Q(k, u) (lambda > 0), P(k, u) (lambda < 0), 1 - Phi(Z) (lambda = 0).
    """
    p = np.atleast_2d(np.asarray(params, dtype=float))
    t = np.asarray(t, dtype=float)[None, :]
    col = [p[:, i:i + 1] for i in range(p.shape[1])]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if distribution == "exponential":
            return np.exp(-t / col[0])
        if distribution == "weibull":
            return np.exp(-((t / col[0]) ** col[1]))
        if distribution == "gompertz":
            rate, shape = col
            small = np.abs(shape) < 1e-12
            safe = np.where(small, 1.0, shape)
            cum = np.where(small, rate * t, rate / safe * np.expm1(safe * t))
            return np.exp(-cum)
        if distribution == "lognormal":
            logt = np.log(np.where(t > 0, t, np.nan))
            return np.where(t > 0, stats.norm.sf((logt - col[0]) / col[1]), 1.0)
        if distribution == "loglogistic":
            return 1.0 / (1.0 + (t / col[0]) ** col[1])
        if distribution == "generalized_gamma":
            mu, ln_sigma, lam = col
            logt = np.log(np.where(t > 0, t, np.nan))
            z = (logt - mu) / np.exp(ln_sigma)
            lam_safe = np.where(lam == 0, 1.0, lam)
            k = 1.0 / lam_safe**2
            u = np.clip(k * np.exp(lam_safe * z), 1e-300, 1e300)
            s = np.where(lam > 0, special.gammaincc(k, u), special.gammainc(k, u))
            s = np.where(lam == 0, stats.norm.sf(z), s)
            return np.where(t > 0, s, 1.0)
    raise SpecificationError(f"unknown distribution {distribution!r}")


def _gompertz_fitter():
    """A lifelines univariate fitter for the Gompertz model (hazard rate * exp(shape * t))."""
    import autograd.numpy as anp
    from lifelines.fitters import ParametricUnivariateFitter

    class GompertzFitter(ParametricUnivariateFitter):
        _fitted_parameter_names = ["rate_", "shape_"]
        _bounds = [(0, None), (None, None)]

        def _create_initial_point(self, Ts, E, *args):
            t = Ts[0]
            return np.array([max(E.sum(), 1) / t.sum(), 1e-3 / max(np.median(t), 1e-9)])

        def _cumulative_hazard(self, params, times):
            rate, shape = params
            return rate / shape * (anp.exp(shape * times) - 1.0)

    return GompertzFitter()


def _fitter(name: str):
    import lifelines

    return {
        "exponential": lifelines.ExponentialFitter,
        "weibull": lifelines.WeibullFitter,
        "lognormal": lifelines.LogNormalFitter,
        "loglogistic": lifelines.LogLogisticFitter,
        "generalized_gamma": lifelines.GeneralizedGammaFitter,
    }[name]() if name != "gompertz" else _gompertz_fitter()


class ParametricSurvivalResult(Result):
    """Fitted parametric survival models with a projection over the horizon.

    ``tidy()`` has, per ``group`` ("all" without a group column) and ``distribution``: one row
    per parameter (lifelines' names and scale; Wald CIs from the observed information), a
    ``restricted_mean`` (or ``time_after_event``) row - the projected expected time over
    [0, horizon] - and a ``survival_at_horizon`` row, both with simulation SE and percentile CIs.
    With groups, ``<projection>_difference`` rows compare each group with the first (independent
    draws). Every model row carries ``loglik``, ``n_params``, ``aic``, ``bic``. :meth:`compare`
    ranks the models; :meth:`survival_function` evaluates them.
    """

    count_columns = ()

    def __init__(self, *, estimator, table, n_obs, n_events, params, km_tables, follow_up,
                 km_rmst, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.n_events = int(n_events)
        self.horizon = float(estimator.horizon)
        self.groups = tuple(km_tables)
        self.distributions = tuple(d for d in estimator.distributions
                                   if any((g, d) in params for g in self.groups))
        self._params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        self._km = dict(km_tables)
        self._follow_up = dict(follow_up)
        self.max_follow_up = float(max(follow_up.values()))
        self._km_rmst = dict(km_rmst)
        self._freeze()

    def _group(self, group):
        if group is None:
            if len(self.groups) > 1:
                raise SpecificationError(
                    f"the fit has groups {list(self.groups)}; say which with group=")
            return self.groups[0]
        check_choice("group", group, self.groups)
        return group

    def params(self, distribution: str, group=None) -> dict:
        """The fitted parameters of one model (lifelines' names)."""
        g = self._group(group)
        check_choice("distribution", distribution, self.distributions)
        if (g, distribution) not in self._params:
            raise SpecificationError(f"{distribution} could not be fitted in group {g!r}")
        names = PARAMS[distribution][0]
        return dict(zip(names, self._params[(g, distribution)].tolist(), strict=True))

    def km_table(self, group=None) -> pd.DataFrame:
        """The Kaplan-Meier curve(s) the models are compared with (group, time, estimate, CI)."""
        groups = self.groups if group is None else (self._group(group),)
        return pd.concat([self._km[g].assign(group=g) for g in groups], ignore_index=True)

    def survival_function(self, times, distributions: Sequence[str] | None = None, group=None):
        """Fitted S(t) at ``times`` (long table: group, distribution, time, survival)."""
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise SpecificationError("times must be non-negative finite numbers")
        names = self.distributions if distributions is None else tuple(distributions)
        groups = self.groups if group is None else (self._group(group),)
        parts = []
        for g in groups:
            for name in names:
                check_choice("distribution", name, self.distributions)
                if (g, name) not in self._params:
                    continue
                s = survival(name, self._params[(g, name)][None, :], t)[0]
                parts.append(pd.DataFrame({"group": g, "distribution": name, "time": t,
                                           "survival": s}))
        return pd.concat(parts, ignore_index=True)

    def compare(self, group=None) -> pd.DataFrame:
        """Models ranked by AIC (within group): log-likelihood, AIC, BIC, differences from the
        best, the area under the curve within follow-up beside Kaplan-Meier's, and the
        projection with its CI."""
        t = self._table
        proj = t[t["term"] == self.estimator.projection]
        groups = self.groups if group is None else (self._group(group),)
        frames = []
        for g in groups:
            rows = []
            fu = self._follow_up[g]
            grid = np.linspace(0, fu, GRID_POINTS)
            for _, r in proj[proj["group"] == g].iterrows():
                name = r["distribution"]
                within = simpson(survival(name, self._params[(g, name)][None, :], grid)[0],
                                 x=grid)
                rows.append({"group": g, "distribution": name, "loglik": r["loglik"],
                             "n_params": r["n_params"], "aic": r["aic"], "bic": r["bic"],
                             "rmst_follow_up_model": within,
                             "rmst_follow_up_km": self._km_rmst[g],
                             "projection": r["estimate"], "conf_low": r["conf_low"],
                             "conf_high": r["conf_high"]})
            out = pd.DataFrame(rows).sort_values("aic").reset_index(drop=True)
            out.insert(5, "delta_aic", out["aic"] - out["aic"].min())
            out.insert(7, "delta_bic", out["bic"] - out["bic"].min())
            frames.append(out)
        return pd.concat(frames, ignore_index=True)

    def best(self, criterion: Literal["aic", "bic"] = "aic", group=None) -> str:
        """The distribution with the lowest AIC (or BIC) in a group."""
        check_choice("criterion", criterion, ("aic", "bic"))
        c = self.compare(self._group(group))
        return str(c.loc[c[criterion].idxmin(), "distribution"])

    def glance(self) -> pd.DataFrame:
        def best_of(criterion):
            if len(self.groups) == 1:
                return self.best(criterion)
            return "; ".join(f"{g}: {self.best(criterion, g)}" for g in self.groups)

        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_events": self.n_events, "n_groups": len(self.groups),
            "horizon": self.horizon, "max_follow_up": self.max_follow_up,
            "best_aic": best_of("aic"), "best_bic": best_of("bic"),
            "reps": self.estimator.reps, "seed": self.estimator.seed,
            "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        est = self.estimator
        what = ("expected time without the event (restricted mean of S) over [0, horizon]"
                if est.projection == "restricted_mean" else
                "expected time after the event over [0, horizon] (horizon minus restricted mean)")
        header = (
            ("duration", est.duration), ("event", est.event),
            ("groups", est.group or "(none)"),
            ("horizon", f"{self.horizon:g} (follow-up ends at {self.max_follow_up:g})"),
            ("projection", what),
            ("uncertainty", f"{est.reps} draws of the parameters from the asymptotic normal of "
                            f"the MLE (log scale for positive parameters), seed {est.seed}; "
                            f"{est.conf_level:.0%} percentile intervals"),
            ("fit", "maximum likelihood (lifelines); BIC uses n = number of people"),
        )
        tables = [("Model comparison", self.compare())]
        diff = self._table[self._table["term"] == f"{est.projection}_difference"]
        if len(diff):
            tables.append(("Differences between groups", diff[
                ["group", "distribution", "estimate", "std_error", "conf_low", "conf_high"]]))
        notes = ("Choose a model by fit (AIC/BIC) and by plausibility of its extrapolation "
                 "(compare with KM by eye and with external evidence), as NICE DSU TSD 14 advises.",)
        return Summary(title="Parametric survival extrapolation", header=header,
                       tables=tuple(tables), notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.economics import plot_extrapolation

        return plot_extrapolation(self, ax=ax, **style)


class ParametricSurvival(Estimator):
    """Parametric survival models fitted to time-to-event data and projected to a horizon.

    Parameters
    ----------
    duration : str
        Column of times (> 0) to event or censoring, e.g. job tenure in months.
    event : str
        Column saying whether the event happened (1/True) or the time is censored.
    group : str, optional
        Column of groups (e.g. trial arm) fitted separately; projections of each group are
        compared with the first (sorted) group.
    distributions : sequence of str
        Any of "exponential", "weibull", "gompertz", "lognormal", "loglogistic",
        "generalized_gamma" (default: all).
    horizon : float
        End of the projection window, in the units of ``duration`` (required).
    projection : {"restricted_mean", "time_after_event"}
        "restricted_mean": integral of S(t) over [0, horizon], the expected time without the
        event (job tenure data -> expected time in the job within the horizon);
        "time_after_event": horizon minus that, the expected time after the event (time-to-job
        data -> expected time since the first job start, an upper bound for time employed).
    reps : int
        Parameter draws for the projection's uncertainty (default 1000).
    seed : int, optional
        Seed of the draws.
    conf_level : float
        Level of the intervals (default 0.95).
    event_value : optional
        The value of ``event`` meaning the event when it is not 0/1 or boolean.

    Returns
    -------
    ParametricSurvivalResult
        From :meth:`fit`.

    Example
    -------
    >>> import numpy as np, pandas as pd
    >>> import causalips as ci
    >>> rng = np.random.default_rng(1)
    >>> t = rng.exponential(12.0, 300)
    >>> df = pd.DataFrame({"months": np.minimum(t, 24), "ended": (t <= 24).astype(int)})
    >>> res = ci.ParametricSurvival(duration="months", event="ended",
    ...     distributions=["exponential", "weibull"], horizon=60, seed=1).fit(df)
    >>> res.best() in ("exponential", "weibull")
    True

    See Also
    --------
    KaplanMeier, CostEffectiveness
    """

    _param_names = ("duration", "event", "group", "distributions", "horizon", "projection",
                    "reps", "seed", "conf_level", "event_value")

    def __init__(
        self,
        *,
        duration: str,
        event: str,
        group: str | None = None,
        distributions: Sequence[str] = DISTRIBUTIONS,
        horizon: float | None = None,
        projection: Literal["restricted_mean", "time_after_event"] = "restricted_mean",
        reps: int = 1000,
        seed: int | None = None,
        conf_level: float = 0.95,
        event_value=None,
    ):
        self.duration, self.event, self.group = duration, event, group
        if isinstance(distributions, str):
            distributions = [distributions]
        dists = tuple(distributions)
        if not dists:
            raise SpecificationError("distributions must name at least one model")
        for d in dists:
            check_choice("distributions", d, DISTRIBUTIONS)
        if len(set(dists)) != len(dists):
            raise SpecificationError(f"distributions are repeated: {list(dists)}")
        self.distributions = dists
        if horizon is None:
            raise SpecificationError("horizon= is required: the end of the projection window, "
                                     "in the units of the duration column")
        self.horizon = check_range("horizon", horizon, 0, np.inf)
        self.projection = check_choice("projection", projection, PROJECTIONS)
        if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 2:
            raise SpecificationError(f"reps must be an integer >= 2; got {reps!r}")
        self.reps = int(reps)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise SpecificationError(f"seed must be an integer or None; got {seed!r}")
        self.seed = seed
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.event_value = event_value

    def fit(self, data) -> ParametricSurvivalResult:
        df = as_dataframe(data)
        check_columns(df, {"duration": self.duration, "event": self.event, "group": self.group})
        check_not_empty(df)
        t = numeric_column(df, self.duration, role="duration")
        if np.any(t <= 0):
            bad = t <= 0
            raise DataError(
                f"column {self.duration!r} (the duration) has {int(bad.sum())} values <= 0 (e.g. "
                f"row {df.index[bad][0]}: {float(t[bad][0])!r}); parametric models need positive "
                "times. Check the dates, or count a same-day event as half a day.")
        e = event_indicator(df, self.event, event_value=self.event_value)
        codes, labels = group_codes(df, self.group)
        if self.group is None:
            labels = ["all"]
        for gi, label in enumerate(labels):
            n_ev = int(e[codes == gi].sum())
            if n_ev < 2:
                where = f" in group {label!r}" if self.group is not None else ""
                raise DataError(f"column {self.event!r} has {n_ev} events{where}; parametric "
                                "models need at least 2 events (and many more to choose "
                                "between models)")
        rng = np.random.default_rng(self.seed)
        rows, params, warns = [], {}, []
        km_tables, follow_up, km_rmst = {}, {}, {}
        proj_draws = {}
        for gi, label in enumerate(labels):  # groups (few), then models (a handful)
            m = codes == gi
            g_rows, g_params, g_km, g_draws = self._fit_group(t[m], e[m], label, rng, warns)
            rows.extend(g_rows)
            params.update({(label, k): v for k, v in g_params.items()})
            km_tables[label], follow_up[label], km_rmst[label] = g_km
            proj_draws[label] = g_draws
        if not params:
            raise EstimationError("no parametric model could be fitted; see the warnings")
        alpha = 1 - self.conf_level
        ref = labels[0]
        for label in labels[1:]:
            for name in self.distributions:
                if name not in proj_draws[label] or name not in proj_draws[ref]:
                    continue
                (est1, d1), (est0, d0) = proj_draws[label][name], proj_draws[ref][name]
                d = d1 - d0
                d = d[np.isfinite(d)]
                lo, hi = np.quantile(d, [alpha / 2, 1 - alpha / 2])
                rows.append({"group": f"{label} - {ref}", "distribution": name,
                             "term": f"{self.projection}_difference", "estimate": est1 - est0,
                             "std_error": float(np.std(d, ddof=1)), "conf_low": lo,
                             "conf_high": hi, "horizon": self.horizon})
        table = tidy_frame(rows, extra_first=("group", "distribution"))
        return ParametricSurvivalResult(
            estimator=self, table=table, n_obs=t.size, n_events=int(e.sum()), params=params,
            km_tables=km_tables, follow_up=follow_up, km_rmst=km_rmst, warnings=warns)

    def _fit_group(self, t, e, label, rng, warns):
        from ..survival import KaplanMeier

        frame = pd.DataFrame({"t": t, "e": e.astype(int)})
        km = KaplanMeier(duration="t", event="e").fit(frame)
        km_t = km.tidy()[["time", "estimate", "conf_low", "conf_high", "n_risk", "n_event"]]
        max_fu = float(t.max())
        km_area = float(km.rmst(max_fu)["estimate"].iloc[0])
        alpha = 1 - self.conf_level
        z = stats.norm.ppf(1 - alpha / 2)
        grid = np.linspace(0.0, self.horizon, GRID_POINTS)
        rows, params, proj = [], {}, {}
        n = t.size
        where = f" (group {label!r})" if self.group is not None else ""
        for name in self.distributions:
            names, positive = PARAMS[name]
            fitter = _fitter(name)
            try:
                with _warnings.catch_warnings():
                    _warnings.simplefilter("ignore")
                    fitter.fit(t, e.astype(int))
                theta = np.array([getattr(fitter, p) for p in names], dtype=float)
                cov = np.asarray(fitter.variance_matrix_, dtype=float)
                ll = float(fitter.log_likelihood_)
                if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(cov))
                        and np.isfinite(ll)):
                    raise ValueError("non-finite estimates or variance")
            except Exception as exc:  # noqa: BLE001 - report and drop the model
                msg = f"{name}{where}: the fit failed ({type(exc).__name__}: {exc}); dropped"
                warns.append(msg)
                _warnings.warn(msg, ConvergenceWarning, stacklevel=3)
                continue
            params[name] = theta
            k = theta.size
            aic = -2 * ll + 2 * k
            bic = -2 * ll + k * np.log(n)
            se = np.sqrt(np.clip(np.diag(cov), 0, None))
            common = {"group": label, "distribution": name, "loglik": ll, "n_params": k,
                      "aic": aic, "bic": bic}
            for p, est, s in zip(names, theta, se, strict=True):
                rows.append({**common, "term": p, "estimate": est, "std_error": s,
                             "conf_low": est - z * s, "conf_high": est + z * s})
            draws = _draw_params(theta, cov, np.array(positive), self.reps, rng)
            s_grid = survival(name, draws, grid)
            s_point = survival(name, theta[None, :], grid)[0]
            area = simpson(s_grid, x=grid, axis=1)
            area_point = float(simpson(s_point, x=grid))
            if self.projection == "time_after_event":
                area, area_point = self.horizon - area, self.horizon - area_point
            proj[name] = (area_point, area)
            for term, est, d in ((self.projection, area_point, area),
                                 ("survival_at_horizon", float(s_point[-1]), s_grid[:, -1])):
                d = d[np.isfinite(d)]
                lo, hi = np.quantile(d, [alpha / 2, 1 - alpha / 2]) if d.size else (np.nan,) * 2
                rows.append({**common, "term": term, "estimate": est,
                             "std_error": float(np.std(d, ddof=1)) if d.size > 1 else np.nan,
                             "conf_low": lo, "conf_high": hi, "horizon": self.horizon})
        return rows, params, (km_t, max_fu, km_area), proj


def _draw_params(theta, cov, positive, reps, rng) -> np.ndarray:
    """Draws from the asymptotic normal of the MLE; positive parameters on the log scale."""
    scale = np.where(positive, theta, 1.0)
    centre = np.where(positive, np.log(np.where(positive, theta, 1.0)), theta)
    cov_t = cov / np.outer(scale, scale)  # delta method: var(log x) = var(x) / x^2
    cov_t = (cov_t + cov_t.T) / 2
    d = rng.multivariate_normal(centre, cov_t, size=reps, method="eigh")
    return np.where(positive, np.exp(d), d)


__all__ = ["ParametricSurvival", "ParametricSurvivalResult", "survival", "DISTRIBUTIONS"]
