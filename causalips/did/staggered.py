"""Staggered adoption: Callaway & Sant'Anna (2021) group-time ATTs and their aggregations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import as_dataframe, check_choice, check_range
from ..base import Estimator, Result, Summary, tidy_frame, warn_all
from ..errors import DataError, DroppedRowsWarning, SpecificationError, StatisticalWarning
from ..panel import validate_panel
from . import _cs_core as core

CONTROLS = ("never_treated", "not_yet_treated")
METHODS = ("dr", "ipw", "reg")
BASE_PERIODS = ("varying", "universal")
AGGREGATIONS = ("simple", "group", "calendar", "dynamic")
BOOT_WEIGHTS = ("mammen", "rademacher")

_METHOD_NAMES = {
    "dr": "doubly robust (Sant'Anna & Zhao 2020, DRDID::drdid_panel)",
    "ipw": "normalised inverse probability weighting (Abadie 2005)",
    "reg": "outcome regression (Heckman, Ichimura & Todd 1997)",
}


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float | int | np.floating | np.integer) else str(v)


def _normal_table(est, se, conf_level):
    z = stats.norm.ppf(0.5 + conf_level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = est / se
    p = 2 * stats.norm.sf(np.abs(stat))
    return stat, p, est - z * se, est + z * se


class _Inference:
    """What every CS result needs to compute SEs and bootstrap bands from influence functions."""

    def __init__(self, *, n_units, conf_level, reps, seed, weights, cluster_codes):
        self.n_units = n_units
        self.conf_level = conf_level
        self.reps = reps
        self.seed = seed
        self.weights = weights
        self.cluster_codes = cluster_codes

    def table(self, est, inf, *, band: bool = True):
        """std_error, statistic, p_value, CIs, and (when reps > 0) bootstrap SE and band."""
        se = core.analytic_se(inf, self.cluster_codes)
        stat, p, lo, hi = _normal_table(est, se, self.conf_level)
        out = {"estimate": est, "std_error": se, "statistic": stat, "p_value": p,
               "conf_low": lo, "conf_high": hi}
        nan = np.full(est.size, np.nan)
        out["std_error_bootstrap"], out["conf_low_band"], out["conf_high_band"] = nan, nan, nan
        crit = np.nan
        if self.reps > 0:
            sig, crit = core.multiplier_bootstrap(
                inf, reps=self.reps, seed=self.seed, kind=self.weights,
                conf_level=self.conf_level, cluster_codes=self.cluster_codes)
            out["std_error_bootstrap"] = sig
            if band:
                out["conf_low_band"] = est - crit * sig
                out["conf_high_band"] = est + crit * sig
            else:
                z = stats.norm.ppf(0.5 + self.conf_level / 2)
                out["conf_low_band"] = est - z * sig
                out["conf_high_band"] = est + z * sig
                crit = np.nan
        return out, crit


class StaggeredDiDResult(Result):
    """Group-time average treatment effects ATT(g,t) (Callaway & Sant'Anna 2021).

    ``tidy()`` has one row per (group, time) with ``group`` (first treated period), ``time``,
    ``event_time`` (time - group), ``post`` (time >= group), the ATT ``estimate``, its
    influence-function ``std_error`` with pointwise normal ``conf_low``/``conf_high``, and, when
    the plan has ``reps > 0``, the multiplier-bootstrap ``std_error_bootstrap`` and the
    simultaneous band ``conf_low_band``/``conf_high_band`` over all ATT(g,t) (R ``did``'s
    ``cband``). ``n_treated`` / ``n_control`` count the units in each comparison.

    The result keeps the units x cells matrix of influence functions (not the data), so that
    :meth:`aggregate` gives SEs and bands without refitting.
    """

    count_columns = ("n_treated", "n_control")

    def __init__(self, *, estimator, table, n_obs, warnings, inf, unit_group, pretest, crit,
                 inference, n_units, n_periods, n_clusters, groups, seed):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self._inf = inf
        self._unit_group = unit_group
        self._infer = inference
        self.pretest = pretest
        self.critical_value = crit
        self.n_units = n_units
        self.n_periods = n_periods
        self.n_clusters = n_clusters
        self.groups = tuple(groups)
        self.seed = seed
        self._freeze()

    # -- aggregation ------------------------------------------------------------------------
    def aggregate(self, type: Literal["simple", "group", "calendar", "dynamic"] = "simple", *,
                  min_e: float = -np.inf, max_e: float = np.inf) -> StaggeredAggregateResult:
        """Aggregate the ATT(g,t) as R's ``aggte``: a new result with its own SEs and bands.

        Parameters
        ----------
        type : {"simple", "group", "calendar", "dynamic"}
            ``simple``: post-treatment ATT(g,t) averaged with weights proportional to group
            size; ``group``: average effect per cohort, and their size-weighted average;
            ``calendar``: average effect per calendar period among the groups treated by then,
            and the average over periods; ``dynamic``: event-study effects by time since
            treatment, and the average over event times >= 0.
        min_e, max_e : float
            Event-time window (``dynamic``; ``max_e`` also limits ``simple`` and ``group``).

        Returns
        -------
        StaggeredAggregateResult
            Row ``term == "att"`` is the overall effect; other rows are the levels. The
            uncertainty from estimating the group-size weights enters the influence function.
        """
        check_choice("type", type, AGGREGATIONS)
        t = self._table
        att = t["estimate"].to_numpy()
        group = t["group"].to_numpy(dtype=float)
        time = t["time"].to_numpy(dtype=float)
        inf = self._inf
        ug = self._unit_group
        groups = np.array(self.groups, dtype=float)
        pg_group = np.array([np.mean(ug == g) for g in groups])
        pg = pg_group[np.searchsorted(groups, group)]
        e = time - group

        def combine(which, weights, wif):
            f = inf[:, which] @ weights
            if wif is not None:
                f = f + wif @ att[which]
            return float(np.sum(att[which] * weights)), f

        levels, estimates, infs = [], [], []
        if type == "simple":
            keep = np.flatnonzero((group <= time) & (e <= max_e))
            w = pg[keep] / pg[keep].sum()
            est, f = combine(keep, w, core.weights_if(keep, pg, ug, group))
            overall = (est, f)
        elif type == "group":
            for g in groups:
                which = np.flatnonzero((group == g) & (g <= time) & (e <= max_e))
                if which.size == 0:
                    continue
                w = pg[which] / pg[which].sum()
                est, f = combine(which, w, None)
                levels.append(g)
                estimates.append(est)
                infs.append(f)
            lev = np.array(levels)
            p = pg_group[np.searchsorted(groups, lev)]
            est_g = np.array(estimates)
            inf_g = np.column_stack(infs)
            wif = core.weights_if(np.arange(lev.size), p, ug, lev)
            f = inf_g @ (p / p.sum()) + wif @ est_g
            overall = (float(np.sum(est_g * p / p.sum())), f)
        elif type == "calendar":
            for s in np.unique(time[time >= group.min()]):
                which = np.flatnonzero((time == s) & (group <= time))
                if which.size == 0:
                    continue
                w = pg[which] / pg[which].sum()
                est, f = combine(which, w, core.weights_if(which, pg, ug, group))
                levels.append(s)
                estimates.append(est)
                infs.append(f)
            est_t = np.array(estimates)
            overall = (float(est_t.mean()), np.column_stack(infs).mean(axis=1))
        else:
            for ev in np.unique(e):
                if ev < min_e or ev > max_e:
                    continue
                which = np.flatnonzero(e == ev)
                w = pg[which] / pg[which].sum()
                est, f = combine(which, w, core.weights_if(which, pg, ug, group))
                levels.append(ev)
                estimates.append(est)
                infs.append(f)
            lev = np.array(levels)
            pos = lev >= 0
            if not pos.any():
                raise SpecificationError("no event times >= 0 in the window; widen max_e")
            est_e = np.array(estimates)
            overall = (float(est_e[pos].mean()), np.column_stack(infs)[:, pos].mean(axis=1))

        infer = self._infer
        o_tab, _ = infer.table(np.array([overall[0]]), overall[1][:, None], band=False)
        rows = [{"term": "att", **{k: v[0] for k, v in o_tab.items()}}]
        crit = np.nan
        if levels:
            l_tab, crit = infer.table(np.array(estimates), np.column_stack(infs), band=True)
            col = {"group": "group", "calendar": "time", "dynamic": "event_time"}[type]
            for j, lv in enumerate(levels):
                rows.append({"term": f"{col}={_fmt(lv)}", col: lv,
                             **{k: v[j] for k, v in l_tab.items()}})
        frame = pd.DataFrame(rows)
        for c in ("group", "time", "event_time"):
            if c not in frame:
                frame[c] = np.nan
        frame["aggregation"] = type
        table = tidy_frame(frame, extra_first=("aggregation", "group", "time", "event_time"))
        return StaggeredAggregateResult(
            estimator=self.estimator, table=table, n_obs=self.n_obs, warnings=self.warnings,
            type=type, crit=crit, parent=self, min_e=min_e, max_e=max_e)

    # -- the common interface ---------------------------------------------------------------
    def glance(self) -> pd.DataFrame:
        est = self.estimator
        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_units": self.n_units, "n_periods": self.n_periods,
            "n_groups": len(self.groups), "n_clusters": self.n_clusters,
            "control": est.control, "method": est.method if est.covariates else "unconditional",
            "base_period": est.base_period, "anticipation": est.anticipation,
            "conf_level": est.conf_level, "reps": est.reps, "bootstrap_weights": est.bootstrap_weights,
            "seed": self.seed, "critical_value": self.critical_value,
            "pretest_statistic": self.pretest[0], "pretest_df": self.pretest[1],
            "pretest_p_value": self.pretest[2], "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        tab = self._table[["group", "time", "estimate", "std_error", "conf_low", "conf_high",
                           "conf_low_band", "conf_high_band", "n_treated", "n_control"]]
        return Summary(
            title="Group-time average treatment effects (Callaway & Sant'Anna 2021)",
            header=_header(self),
            tables=(("ATT(g,t)", tab),),
            notes=_notes(self) + (
                f"Pre-trend Wald test over {self.pretest[1]} pre-period ATT(g,t): "
                f"W = {self.pretest[0]:.3f}, p = {self.pretest[2]:.4f}.",) + self.warnings,
        )

    def plot(self, ax=None, **style):
        from ..plotting.did_staggered import plot_group_time

        return plot_group_time(self, ax=ax, **style)


def _header(res) -> tuple[tuple[str, str], ...]:
    est = res.estimator
    method = _METHOD_NAMES[est.method] if est.covariates else "unconditional (no covariates)"
    se = ("influence function, clustered on " + est.cluster) if est.cluster else (
        "influence function (unit level), sqrt(mean(IF^2)/n), no small-sample correction")
    boot = (f"multiplier bootstrap, {est.reps} draws, {est.bootstrap_weights} weights, "
            f"seed {res.seed}" if est.reps else "none (reps=0)")
    return (
        ("outcome", est.outcome), ("units", f"{res.n_units} ({est.unit})"),
        ("periods", str(res.n_periods)), ("groups", ", ".join(_fmt(g) for g in res.groups)),
        ("control group", est.control.replace("_", "-")),
        ("estimation", method + (f"; covariates {', '.join(est.covariates)}"
                                 if est.covariates else "")),
        ("base period", est.base_period), ("anticipation", str(est.anticipation)),
        ("standard errors", se), ("bootstrap", boot),
        ("intervals", f"{est.conf_level:.0%} pointwise normal (analytic SE); simultaneous band "
                      "= estimate +/- sup-t critical value x bootstrap SE"),
    )


def _notes(res) -> tuple[str, ...]:
    return ("Matches R did::att_gt / aggte (analytic SEs with bstrap=FALSE); R's default SEs "
            "come from its multiplier bootstrap, reported here as std_error_bootstrap.",)


class StaggeredAggregateResult(Result):
    """An aggregation of ATT(g,t) (R ``aggte``): overall effect plus effects by level.

    ``tidy()`` starts with ``aggregation``, ``group``/``time``/``event_time`` (the level), then
    the tidy columns; the row with ``term == "att"`` is the overall effect. Bands
    (``conf_low_band``/``conf_high_band``) are simultaneous over the levels.
    """

    def __init__(self, *, estimator, table, n_obs, warnings, type, crit, parent, min_e, max_e):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.type = type
        self.critical_value = crit
        self.n_units = parent.n_units
        self.n_periods = parent.n_periods
        self.n_clusters = parent.n_clusters
        self.groups = parent.groups
        self.seed = parent.seed
        self.min_e, self.max_e = min_e, max_e
        self._freeze()

    @property
    def overall(self) -> pd.Series:
        """The overall row (term 'att')."""
        return self._table[self._table["term"] == "att"].iloc[0]

    def glance(self) -> pd.DataFrame:
        o = self.overall
        est = self.estimator
        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_units": self.n_units, "aggregation": self.type,
            "att": o["estimate"], "std_error": o["std_error"], "conf_low": o["conf_low"],
            "conf_high": o["conf_high"], "control": est.control, "reps": est.reps,
            "seed": self.seed, "critical_value": self.critical_value,
            "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        cols = {"group": "group", "calendar": "time", "dynamic": "event_time",
                "simple": None}[self.type]
        keep = ([cols] if cols else []) + ["term", "estimate", "std_error", "conf_low",
                                           "conf_high", "conf_low_band", "conf_high_band"]
        what = {"simple": "overall (group-size weighted)", "group": "by cohort",
                "calendar": "by calendar period", "dynamic": "by event time"}[self.type]
        return Summary(
            title=f"Aggregated ATT {what} (Callaway & Sant'Anna 2021)",
            header=_header(self),
            tables=(("Aggregated effects", self._table[keep]),),
            notes=_notes(self) + self.warnings,
        )

    def plot(self, ax=None, **style):
        from ..plotting.did_staggered import plot_aggregate

        return plot_aggregate(self, ax=ax, **style)


class StaggeredDiD(Estimator):
    """Callaway & Sant'Anna (2021) difference-in-differences for staggered adoption.

    Estimates every group-time average treatment effect ATT(g,t) — the effect in period t for
    the units first treated in period g — by a 2x2 comparison of the change since a base
    period between group g and a control set that is untreated in both periods. Then
    :meth:`StaggeredDiDResult.aggregate` averages them by cohort, calendar period or event time.
    Unlike two-way fixed effects, no already-treated unit ever serves as a control, so
    effects that change over time or differ between cohorts do not bias the estimate.

    Parameters
    ----------
    outcome, unit, time : str
        Columns with the outcome (e.g. workdays), the unit id and the period (e.g. year).
    first_treated : str
        First treated period per unit; 0, NaN or inf mean never treated (R ``did`` uses 0).
        Units first treated after the last period count as never treated.
    control : {"never_treated", "not_yet_treated"}
        Control set: never-treated units only, or also units not yet treated by the later of
        the two periods compared (plus anticipation).
    covariates : sequence of str
        Pre-treatment covariates (values in the base period are used). With covariates the
        comparison is conditional on them, by ``method``.
    method : {"dr", "ipw", "reg"}
        Doubly robust (default), normalised inverse probability weighting, or outcome
        regression. Irrelevant without covariates (all three give the same answer).
    anticipation : int
        Number of periods before ``first_treated`` in which units may already react.
    base_period : {"varying", "universal"}
        ``varying`` (R's default): pre-period ATT(g,t) compare t with t-1 (short differences);
        ``universal``: every ATT(g,t) compares with g-1-anticipation (the reference row is 0).
    cluster : str, optional
        Column constant within unit (e.g. municipality): influence functions are summed within
        clusters for SEs, and the bootstrap multipliers are drawn per cluster.
    conf_level : float
        Level of the pointwise intervals and the simultaneous bands.
    reps : int
        Multiplier-bootstrap draws (0 switches the bootstrap and the bands off).
    bootstrap_weights : {"mammen", "rademacher"}
        Multiplier distribution (R ``did`` uses Mammen).
    seed : int, optional
        Seed of the bootstrap; when None one is drawn and recorded in ``glance()``.

    Returns
    -------
    StaggeredDiDResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_mpdta
    >>> res = ci.StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
    ...                       first_treated="first.treat", seed=1).fit(load_mpdta())
    >>> round(float(res.aggregate("simple").overall["estimate"]), 4)
    -0.04

    See Also
    --------
    DiD, EventStudy, SyntheticDiD
    """

    _param_names = ("outcome", "unit", "time", "first_treated", "control", "covariates",
                    "method", "anticipation", "base_period", "cluster", "conf_level", "reps",
                    "bootstrap_weights", "seed")

    def __init__(
        self,
        *,
        outcome: str,
        unit: str,
        time: str,
        first_treated: str,
        control: Literal["never_treated", "not_yet_treated"] = "never_treated",
        covariates: Sequence[str] = (),
        method: Literal["dr", "ipw", "reg"] = "dr",
        anticipation: int = 0,
        base_period: Literal["varying", "universal"] = "varying",
        cluster: str | None = None,
        conf_level: float = 0.95,
        reps: int = 999,
        bootstrap_weights: Literal["mammen", "rademacher"] = "mammen",
        seed: int | None = None,
    ):
        self.outcome, self.unit, self.time, self.first_treated = outcome, unit, time, first_treated
        self.control = check_choice("control", control, CONTROLS)
        if isinstance(covariates, str):
            covariates = (covariates,)
        self.covariates = tuple(covariates)
        self.method = check_choice("method", method, METHODS)
        if not isinstance(anticipation, int | np.integer) or anticipation < 0:
            raise SpecificationError(f"anticipation must be a whole number >= 0; got "
                                     f"{anticipation!r}")
        self.anticipation = int(anticipation)
        self.base_period = check_choice("base_period", base_period, BASE_PERIODS)
        self.cluster = cluster
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        if not isinstance(reps, int | np.integer) or reps < 0:
            raise SpecificationError(f"reps must be a whole number >= 0; got {reps!r}")
        self.reps = int(reps)
        self.bootstrap_weights = check_choice("bootstrap_weights", bootstrap_weights,
                                              BOOT_WEIGHTS)
        if seed is not None and not isinstance(seed, int | np.integer):
            raise SpecificationError(f"seed must be an integer or None; got {seed!r}")
        self.seed = seed

    # -- data preparation -------------------------------------------------------------------
    def _prepare(self, df):
        panel = validate_panel(
            df, outcome=self.outcome, unit=self.unit, time=self.time,
            first_treated=self.first_treated, cluster=self.cluster,
            covariates=self.covariates, always_treated="drop",
            require_controls=self.control == "never_treated")
        # gaps are handled below (units are dropped to balance the panel, as R's did)
        notes = [m for m in panel.warnings if "missing inside" not in m]
        if panel.dropped_always_treated:
            warn_all([m for m in panel.warnings if "always-treated" in m], DroppedRowsWarning)
        periods = panel.periods
        n_u, n_t = panel.n_units, panel.n_periods
        Y = np.full((n_u, n_t), np.nan)
        Y[panel.unit_codes, panel.time_codes] = panel.outcome
        first = panel.first_treated.copy()
        X = None
        if panel.covariates is not None:
            X = np.full((n_u, n_t, panel.covariates.shape[1]), np.nan)
            X[panel.unit_codes, panel.time_codes, :] = panel.covariates
        clus = None
        if self.cluster is not None:
            if not panel.unit_in_cluster:
                raise DataError(f"column {self.cluster!r} (the cluster) changes within a unit; "
                                "StaggeredDiD needs each unit in one cluster")
            clus = np.zeros(n_u, dtype=np.int64)
            clus[panel.unit_codes] = panel.cluster_codes
        keep = np.isfinite(Y).all(axis=1)
        if not keep.all():
            n_drop = int((~keep).sum())
            rows = int(np.isfinite(Y[~keep]).sum())
            msg = (f"{n_drop} units not observed in all {n_t} periods ({rows} rows) dropped to "
                   "balance the panel, as R's did does")
            notes.append(msg)
            warn_all([msg], DroppedRowsWarning)
        late = np.isfinite(first) & (first > periods[-1])
        if late.any():
            notes.append(f"{int(late.sum())} units first treated after the last period are "
                         "treated as never treated")
            first[late] = np.inf
        Y, first = Y[keep], first[keep]
        if X is not None:
            X = X[keep]
        if clus is not None:
            _, clus = np.unique(clus[keep], return_inverse=True)
        if Y.shape[0] == 0:
            raise DataError("no units left after balancing the panel; check the unit and time "
                            "columns")
        return Y, X, first, periods, clus, notes

    def fit(self, data) -> StaggeredDiDResult:
        df = as_dataframe(data)
        Y, X, first, periods, clus, notes = self._prepare(df)
        prep_warned = {m for m in notes if "always-treated" in m or "balance the panel" in m}
        n = Y.shape[0]
        never = ~np.isfinite(first)
        groups = np.unique(first[~never])
        if self.anticipation and np.any(groups <= periods[0] + self.anticipation):
            early = groups[groups <= periods[0] + self.anticipation]
            notes.append(f"cohorts {', '.join(_fmt(g) for g in early)} have no base period "
                         f"before treatment minus anticipation ({self.anticipation}); no ATT(g,t) "
                         "is estimated for them (their units stay in the sample, as in R's did)")
            groups = groups[groups > periods[0] + self.anticipation]
        if groups.size == 0:
            raise DataError(f"no unit in {self.first_treated!r} is treated within the observed "
                            "periods; nothing to estimate")
        if self.control == "never_treated" and not never.any():
            raise DataError("no never-treated units: use control='not_yet_treated'")
        if self.control == "not_yet_treated" and not never.any():
            last = groups.max()
            notes.append(f"no never-treated units: periods from {last - self.anticipation:g} "
                         f"on and the last cohort ({last:g}) are dropped, as R's did does")
            keep_t = periods < last - self.anticipation
            Y = Y[:, keep_t]
            if X is not None:
                X = X[:, keep_t]
            periods = periods[keep_t]
            groups = groups[groups < last]
            if groups.size == 0 or periods.size < 2:
                raise DataError("with no never-treated units and a single cohort there is no "
                                "control group")
        cells, cnotes = core.make_cells(periods, groups, base_period=self.base_period,
                                        anticipation=self.anticipation, control=self.control)
        notes += cnotes
        treated, ctrl = core.masks(first, cells, self.control)
        n_g, n_c = treated.sum(axis=0), ctrl.sum(axis=0)
        empty = (n_c == 0) | (n_g == 0)
        if empty.any():
            bad = [c for c, e in zip(cells, empty) if e]
            notes.append(f"{len(bad)} group-time cells have no control units and are dropped "
                         f"(e.g. group {bad[0].group:g}, time {bad[0].time:g})")
            cells = [c for c, e in zip(cells, empty) if not e]
            treated, ctrl, n_g, n_c = treated[:, ~empty], ctrl[:, ~empty], n_g[~empty], n_c[~empty]
        if not cells:
            raise DataError("no group-time comparison has both treated and control units")
        small = np.minimum(n_g, n_c)
        if self.covariates:
            if X is None or not np.isfinite(X).all():
                raise DataError("covariates have missing values in the balanced panel")
            att, inf = core.conditional(Y, X, cells, treated, ctrl, self.method)
        else:
            att, inf = core.unconditional(Y, cells, treated, ctrl)
        if np.any(small < 5):
            notes.append(f"{int(np.sum(small < 5))} group-time cells compare fewer than 5 "
                         "treated or control units; their influence-function SEs are unreliable")
        if clus is not None and clus.max() + 1 < 30:
            notes.append(f"only {clus.max() + 1} clusters: cluster-robust SEs and the bootstrap "
                         "can be unreliable with fewer than ~30")
        if clus is not None:
            n_tc = np.unique(clus[np.isin(first, groups)]).size
            if n_tc < 5:
                notes.append(f"only {n_tc} treated cluster(s): influence-function SEs and the "
                             "multiplier bootstrap are unreliable with fewer than ~5; use "
                             "randomization inference (DiD with Randomization), SyntheticDiD or "
                             "SyntheticControl placebos instead")
        seed = self.seed
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        infer = _Inference(n_units=n, conf_level=self.conf_level, reps=self.reps, seed=seed,
                           weights=self.bootstrap_weights, cluster_codes=clus)
        cols, crit = infer.table(att, inf, band=True)
        group = np.array([c.group for c in cells])
        time = np.array([c.time for c in cells])
        frame = pd.DataFrame({
            "group": group, "time": time, "event_time": time - group,
            "post": [c.post for c in cells],
            "term": [f"ATT({_fmt(g)},{_fmt(t)})" for g, t in zip(group, time)],
            **cols,
            "base_period": periods[[c.base_index for c in cells]],
            "n_treated": n_g.astype(np.int64), "n_control": n_c.astype(np.int64),
        })
        table = tidy_frame(frame, extra_first=("group", "time", "event_time", "post"))
        pretest = _pretest(att, inf, group, time, n, clus)
        unit_group = np.where(np.isfinite(first), first, 0.0)
        # warn once for every note not already issued while preparing the data
        pending = [m for m in notes if m not in prep_warned]
        warn_all([m for m in pending if ("dropped" in m or "no ATT(g,t)" in m)
                  and "unreliable" not in m], DroppedRowsWarning)
        warn_all([m for m in pending if not ("dropped" in m or "no ATT(g,t)" in m)
                  or "unreliable" in m], StatisticalWarning)
        return StaggeredDiDResult(
            estimator=self, table=table, n_obs=n * periods.size, warnings=notes, inf=inf,
            unit_group=unit_group, pretest=pretest, crit=crit, inference=infer, n_units=n,
            n_periods=int(periods.size), n_clusters=int(clus.max() + 1) if clus is not None
            else n, groups=[float(g) for g in groups], seed=seed)


def _pretest(att, inf, group, time, n, clus):
    """Wald test that all pre-treatment ATT(g,t) are zero (R att_gt's pre-test)."""
    pre = np.flatnonzero(group > time)
    se = core.analytic_se(inf[:, pre], clus) if pre.size else np.array([])
    pre = pre[np.isfinite(se)]
    if pre.size == 0:
        return (np.nan, 0, np.nan)
    f = inf[:, pre]
    if clus is not None:
        sums = np.zeros((int(clus.max()) + 1, pre.size))
        np.add.at(sums, clus, f)
        f = sums
    V = f.T @ f / n**2
    a = att[pre]
    try:
        W = float(a @ np.linalg.solve(V, a))
    except np.linalg.LinAlgError:
        return (np.nan, int(pre.size), np.nan)
    return (W, int(pre.size), float(stats.chi2.sf(W, pre.size)))


__all__ = ["StaggeredDiD", "StaggeredDiDResult", "StaggeredAggregateResult"]
