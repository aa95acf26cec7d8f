"""Parametric survival models for extrapolating beyond follow-up (NICE DSU TSD 14 style).

Fits standard parametric models by maximum likelihood (:mod:`.parametric_models`), compares them
by AIC and BIC and by eye against the Kaplan-Meier curve, and projects the expected time in a
state over a chosen horizon - e.g. expected job-months within five years from job-tenure data -
with uncertainty from draws of the parameters from the asymptotic normal distribution of the MLE
(as a probabilistic sensitivity analysis does), taken as ``inference=Bootstrap(reps=, seed=)``,
seeded and vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.integrate import simpson

from .._checks import (
    _example_rows,
    as_dataframe,
    check_choice,
    check_columns,
    check_not_empty,
    check_range,
    event_indicator,
    group_codes,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame, warn_all
from ..errors import ConvergenceWarning, DataError, EstimationError, SpecificationError
from ..inference import Bootstrap
from ._spec import DeprecatedDrawOptions, bootstrap_spec, redraw_spec
from .parametric_models import (
    DISTRIBUTIONS,
    GRID_POINTS,
    PARAMS,
    fit_model,
    point_projection,
    projection_draws,
    survival,
)

PROJECTIONS = ("restricted_mean", "time_after_event")
WHAT_IS_DRAWN = "model parameters from the asymptotic normal of the MLE"


class ParametricSurvivalResult(Result):
    """Fitted parametric survival models with a projection over the horizon.

    ``tidy()`` has, per ``group`` ("all" without a group column) and ``distribution``: one row
    per parameter (lifelines' names and scale; Wald CIs from the observed information), a
    ``restricted_mean`` (or ``time_after_event``) row - the projected expected time over
    [0, horizon] - and a ``survival_at_horizon`` row, both with simulation SE and percentile CIs.
    With groups, ``<projection>_difference`` rows compare each group with the first (independent
    draws). Every model row carries ``loglik``, ``n_params``, ``aic``, ``bic``. :meth:`compare`
    ranks the models; :meth:`survival_function` evaluates them; :meth:`with_inference` draws
    the parameters again.
    """

    count_columns = ()

    def __init__(self, *, estimator, table, n_obs, n_events, fits, inference, km_tables,
                 follow_up, km_rmst, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.n_events = int(n_events)
        self.horizon = float(estimator.horizon)
        self.groups = tuple(km_tables)
        self.distributions = tuple(d for d in estimator.distributions
                                   if any((g, d) in fits for g in self.groups))
        self.inference = inference
        self._fits = dict(fits)
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
        if (g, distribution) not in self._fits:
            raise SpecificationError(f"{distribution} could not be fitted in group {g!r}")
        names = PARAMS[distribution][0]
        return dict(zip(names, self._fits[(g, distribution)].theta.tolist(), strict=True))

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
                if (g, name) not in self._fits:
                    continue
                s = survival(name, self._fits[(g, name)].theta[None, :], t)[0]
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
            grid = np.linspace(0, self._follow_up[g], GRID_POINTS)
            for _, r in proj[proj["group"] == g].iterrows():  # models (a handful)
                name = r["distribution"]
                curve = survival(name, self._fits[(g, name)].theta[None, :], grid)[0]
                rows.append({"group": g, "distribution": name, "loglik": r["loglik"],
                             "n_params": r["n_params"], "aic": r["aic"], "bic": r["bic"],
                             "rmst_follow_up_model": simpson(curve, x=grid),
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

    def with_inference(self, spec) -> ParametricSurvivalResult:
        """The same fits with another set of parameter draws (``Bootstrap(reps=, seed=)``)."""
        spec = redraw_spec("ParametricSurvival", spec, what=WHAT_IS_DRAWN)
        table = _table(self.estimator, self._fits, self.groups, spec)
        return ParametricSurvivalResult(
            estimator=self.estimator, table=table, n_obs=self.n_obs, n_events=self.n_events,
            fits=self._fits, inference=spec, km_tables=self._km, follow_up=self._follow_up,
            km_rmst=self._km_rmst, warnings=self.warnings)

    def glance(self) -> pd.DataFrame:
        def best_of(criterion):
            if len(self.groups) == 1:
                return self.best(criterion)
            return "; ".join(f"{g}: {self.best(criterion, g)}" for g in self.groups)

        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_events": self.n_events, "n_groups": len(self.groups),
            "horizon": self.horizon, "max_follow_up": self.max_follow_up,
            "best_aic": best_of("aic"), "best_bic": best_of("bic"),
            "reps": self.inference.reps, "seed": self.inference.seed,
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
            ("uncertainty", f"{self.inference.reps} draws of the parameters from the asymptotic "
                            "normal of the MLE (log scale for positive parameters), seed "
                            f"{self.inference.seed}; {est.conf_level:.0%} percentile intervals"),
            ("fit", "maximum likelihood (lifelines); BIC uses n = number of people"),
        )
        tables = [("Model comparison", self.compare())]
        diff = self._table[self._table["term"] == f"{est.projection}_difference"]
        if len(diff):
            tables.append(("Differences between groups", diff[
                ["group", "distribution", "estimate", "std_error", "conf_low", "conf_high"]]))
        notes = ("Choose a model by fit (AIC/BIC) and by plausibility of its extrapolation "
                 "(compare with KM by eye and with external evidence), as NICE DSU TSD 14 "
                 "advises.",)
        return Summary(title="Parametric survival extrapolation", header=header,
                       tables=tuple(tables), notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.economics import plot_extrapolation

        return plot_extrapolation(self, ax=ax, **style)


class ParametricSurvival(DeprecatedDrawOptions, Estimator):
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
    inference : Bootstrap, optional
        The draws behind the projection's uncertainty: ``Bootstrap(reps=1000, seed=None)`` by
        default. What is drawn are the model *parameters*, from the asymptotic normal of the MLE
        (positive parameters on the log scale), not rows of the data, so ``cluster=`` does not
        apply. The loose ``reps=`` / ``seed=`` of earlier releases build this spec (with a
        FutureWarning) for one release.
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
    ...     distributions=["exponential", "weibull"], horizon=60,
    ...     inference=ci.Bootstrap(reps=500, seed=1)).fit(df)
    >>> res.best() in ("exponential", "weibull")
    True

    See Also
    --------
    KaplanMeier, CostEffectiveness
    """

    _param_names = ("duration", "event", "group", "distributions", "horizon", "projection",
                    "inference", "conf_level", "event_value")

    def __init__(
        self,
        *,
        duration: str,
        event: str,
        group: str | None = None,
        distributions: Sequence[str] = DISTRIBUTIONS,
        horizon: float | None = None,
        projection: Literal["restricted_mean", "time_after_event"] = "restricted_mean",
        inference: Bootstrap | None = None,
        conf_level: float = 0.95,
        event_value=None,
        reps: int | None = None,
        seed: int | None = None,
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
        self.inference = bootstrap_spec("ParametricSurvival", inference, reps=reps, seed=seed,
                                        default_reps=1000, what=WHAT_IS_DRAWN)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.event_value = event_value

    def fit(self, data) -> ParametricSurvivalResult:
        t, e, codes, labels = self._read(data)
        fits, km_tables, follow_up, km_rmst, warns = {}, {}, {}, {}, []
        for gi, label in enumerate(labels):  # groups (few), then models (a handful)
            m = codes == gi
            km_tables[label], follow_up[label], km_rmst[label] = _kaplan_meier(t[m], e[m])
            where = f" (group {label!r})" if self.group is not None else ""
            for name in self.distributions:
                try:
                    fits[(label, name)] = fit_model(name, t[m], e[m])
                except Exception as exc:  # noqa: BLE001 - report and drop the model
                    warns.append(f"{name}{where}: the fit failed ({type(exc).__name__}: {exc}); "
                                 "dropped")
        warn_all(warns, ConvergenceWarning)
        if not fits:
            raise EstimationError("no parametric model could be fitted; see the warnings")
        table = _table(self, fits, labels, self.inference)
        return ParametricSurvivalResult(
            estimator=self, table=table, n_obs=t.size, n_events=int(e.sum()), fits=fits,
            inference=self.inference, km_tables=km_tables, follow_up=follow_up,
            km_rmst=km_rmst, warnings=warns)

    def _read(self, data):
        """Durations (> 0), events, group codes and labels, checked."""
        df = as_dataframe(data)
        check_columns(df, {"duration": self.duration, "event": self.event, "group": self.group})
        check_not_empty(df)
        t = numeric_column(df, self.duration, role="duration")
        if np.any(t <= 0):
            bad = t <= 0
            raise DataError(
                f"column {self.duration!r} (the duration) has {int(bad.sum())} values <= 0 (e.g. "
                f"row {_example_rows(df, bad)}: {float(t[bad][0])!r}); parametric models need "
                "positive times. Check the dates, or count a same-day event as half a day.")
        e = event_indicator(df, self.event, event_value=self.event_value)
        codes, labels = group_codes(df, self.group)
        n_events = np.bincount(codes, weights=e.astype(float), minlength=len(labels))
        for label, n_ev in zip(labels, n_events.astype(int), strict=True):
            if n_ev < 2:
                where = f" in group {label!r}" if self.group is not None else ""
                raise DataError(f"column {self.event!r} has {n_ev} events{where}; parametric "
                                "models need at least 2 events (and many more to choose "
                                "between models)")
        return t, e, codes, labels


def _kaplan_meier(t, e):
    """The KM curve the models are compared with, the end of follow-up and KM's area to it."""
    from ..survival import KaplanMeier

    km = KaplanMeier(duration="t", event="e").fit(pd.DataFrame({"t": t, "e": e.astype(int)}))
    table = km.tidy()[["time", "estimate", "conf_low", "conf_high", "n_risk", "n_event"]]
    max_fu = float(t.max())
    return table, max_fu, float(km.rmst(max_fu)["estimate"].iloc[0])


def _table(est, fits, labels, spec) -> pd.DataFrame:
    """Parameter rows, projections with ``spec``'s draws, and differences between groups."""
    alpha = 1 - est.conf_level
    z = stats.norm.ppf(1 - alpha / 2)
    rng = np.random.default_rng(spec.seed)
    rows, projected = [], {}
    for (label, name), model in fits.items():  # in fit order: the draws' order is fixed
        k, ll, n = model.n_params, model.loglik, model.n
        common = {"group": label, "distribution": name, "loglik": ll, "n_params": k,
                  "aic": -2 * ll + 2 * k, "bic": -2 * ll + k * np.log(n)}
        se = np.sqrt(np.clip(np.diag(model.cov), 0, None))
        for p, value, s in zip(PARAMS[name][0], model.theta, se, strict=True):
            rows.append({**common, "term": p, "estimate": value, "std_error": s,
                         "conf_low": value - z * s, "conf_high": value + z * s})
        area, at_horizon = projection_draws(model, spec.reps, rng, est.horizon,
                                            progress=spec.progress)
        area_point, s_point = point_projection(model, est.horizon)
        if est.projection == "time_after_event":
            area, area_point = est.horizon - area, est.horizon - area_point
        projected[(label, name)] = (area_point, area)
        rows.append({**common, "term": est.projection, **_spread(area_point, area, alpha),
                     "horizon": est.horizon})
        rows.append({**common, "term": "survival_at_horizon",
                     **_spread(s_point, at_horizon, alpha), "horizon": est.horizon})
    ref = labels[0]
    for label in labels[1:]:
        for name in est.distributions:
            if (label, name) in projected and (ref, name) in projected:
                (est1, d1), (est0, d0) = projected[(label, name)], projected[(ref, name)]
                rows.append({"group": f"{label} - {ref}", "distribution": name,
                             "term": f"{est.projection}_difference",
                             **_spread(est1 - est0, d1 - d0, alpha), "horizon": est.horizon})
    return tidy_frame(rows, extra_first=("group", "distribution"))


def _spread(estimate, draws, alpha) -> dict:
    """Estimate with the simulation SD and percentile limits of its finite draws."""
    d = draws[np.isfinite(draws)]
    lo, hi = np.quantile(d, [alpha / 2, 1 - alpha / 2]) if d.size else (np.nan, np.nan)
    return {"estimate": float(estimate),
            "std_error": float(np.std(d, ddof=1)) if d.size > 1 else np.nan,
            "conf_low": lo, "conf_high": hi}


__all__ = ["ParametricSurvival", "ParametricSurvivalResult", "survival", "DISTRIBUTIONS"]
