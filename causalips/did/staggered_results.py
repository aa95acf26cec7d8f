"""Results of Callaway–Sant'Anna staggered DiD: ATT(g,t) and their aggregations (R ``aggte``).

Both results keep the influence functions of the fit (not the data), so aggregations, other
bootstrap draws (``with_inference``) and SEs need no refit.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_choice
from ..base import Result, Summary, tidy_frame
from ..errors import SpecificationError
from ..inference import MultiplierBootstrap, check_spec
from . import _callaway_santanna as core
from ._cs_aggregation import AGGREGATIONS, aggregate

_METHOD_NAMES = {
    "dr": "doubly robust (Sant'Anna & Zhao 2020, DRDID::drdid_{})",
    "ipw": "normalised inverse probability weighting (Abadie 2005; DRDID::std_ipw_did_{})",
    "reg": "outcome regression (Heckman, Ichimura & Todd 1997; DRDID::reg_did_{})",
}
_LEVEL_COLUMN = {"group": "group", "calendar": "time", "dynamic": "event_time"}


def fmt(v) -> str:
    return f"{v:g}" if isinstance(v, float | int | np.floating | np.integer) else str(v)


def draw_seed(spec) -> int | None:
    """The seed a bootstrap runs with: the spec's, or one drawn now (and recorded)."""
    if spec is None:
        return None
    if spec.seed is not None:
        return spec.seed
    return int(np.random.SeedSequence().generate_state(1)[0])


class BandTable:
    """Turns estimates and influence functions into the tidy statistics: analytic SEs and
    pointwise normal intervals, and with a :class:`MultiplierBootstrap` the bootstrap SEs and
    the simultaneous (sup-t) band."""

    def __init__(self, *, conf_level, spec, seed, cluster_codes, n=None, refusal=""):
        if spec is not None and refusal:
            raise SpecificationError(refusal)
        self.conf_level = conf_level
        self.spec = spec
        self.seed = seed
        self.cluster_codes = cluster_codes
        self.n = n  # draws behind reduced influence functions (engine fits); None: their rows
        self.refusal = refusal  # why the bootstrap cannot run on this fit ("" = it can)

    def like(self, spec) -> BandTable:
        """The same table with another resampling spec (a new seed drawn if it has none)."""
        return BandTable(conf_level=self.conf_level, spec=spec, seed=draw_seed(spec),
                         cluster_codes=self.cluster_codes, n=self.n, refusal=self.refusal)

    def vcov(self, inf) -> np.ndarray:
        return core.influence_vcov(inf, self.cluster_codes, self.n)

    def table(self, est, inf, *, band: bool = True):
        """Columns of the tidy table, and the band's critical value (NaN without a band)."""
        se = core.analytic_se(inf, self.cluster_codes, self.n)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = est / se
        out = {"estimate": est, "std_error": se, "statistic": stat,
               "p_value": 2 * stats.norm.sf(np.abs(stat)), "conf_low": est - z * se,
               "conf_high": est + z * se}
        nan = np.full(est.size, np.nan)
        out["std_error_bootstrap"], out["conf_low_band"], out["conf_high_band"] = nan, nan, nan
        if self.spec is None:
            return out, np.nan
        sig, crit = core.multiplier_bootstrap(
            inf, reps=self.spec.reps, seed=self.seed, kind=self.spec.weights,
            conf_level=self.conf_level, cluster_codes=self.cluster_codes,
            progress=self.spec.progress, n=self.n)
        if not band:  # one estimate: the interval is normal with the bootstrap SE
            crit = np.nan
        half = (z if np.isnan(crit) else crit) * sig
        out["std_error_bootstrap"] = sig
        out["conf_low_band"], out["conf_high_band"] = est - half, est + half
        return out, crit


class StaggeredDiDResult(Result):
    """Group-time average treatment effects ATT(g,t) (Callaway & Sant'Anna 2021).

    ``tidy()`` has one row per (group, time) with ``group`` (first treated period), ``time``,
    ``event_time`` (time - group), ``post`` (time >= group), the ATT ``estimate``, its
    influence-function ``std_error`` with pointwise normal ``conf_low``/``conf_high``, and, with
    ``inference=MultiplierBootstrap(...)``, the bootstrap ``std_error_bootstrap`` and the
    simultaneous band ``conf_low_band``/``conf_high_band`` over all ATT(g,t) (R ``did``'s
    ``cband``). ``n_treated`` / ``n_control`` count the units (rows, for repeated
    cross-sections) in each comparison.

    The result keeps the influence functions (not the data), so :meth:`aggregate` and
    :meth:`with_inference` need no refit.
    """

    count_columns = ("n_treated", "n_control")

    def __init__(self, *, estimator, frame, n_obs, warnings, inf, unit_group, pretest,
                 inference, bands, n_units, n_periods, n_clusters, groups):
        table, crit = _cell_table(frame, inf, bands)
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self._frame = frame
        self._inf = inf
        self._unit_group = unit_group
        self._bands = bands
        self.inference = inference
        self.pretest = pretest
        self.critical_value = crit
        self.n_units = n_units
        self.n_periods = n_periods
        self.n_clusters = n_clusters
        self.groups = tuple(groups)
        self.seed = bands.seed
        self._freeze()

    def with_inference(self, spec) -> StaggeredDiDResult:
        """The same ATT(g,t) with other bootstrap draws (``MultiplierBootstrap(reps=, weights=,
        seed=)``) or analytic SEs only (``None``); the fit is not redone."""
        spec = check_spec(spec, (MultiplierBootstrap,), where="StaggeredDiD results",
                          argument="inference")
        bands = self._bands.like(spec)
        return StaggeredDiDResult(
            estimator=self.estimator, frame=self._frame, n_obs=self.n_obs,
            warnings=self.warnings, inf=self._inf, unit_group=self._unit_group,
            pretest=self.pretest, inference=spec, bands=bands, n_units=self.n_units,
            n_periods=self.n_periods, n_clusters=self.n_clusters, groups=self.groups)

    def vcov_matrix(self) -> pd.DataFrame:
        """Covariance of the ATT(g,t) from their influence functions (clustered if the plan
        clusters), named by term; its diagonal is ``std_error`` squared."""
        terms = list(self._table["term"])
        V = self._bands.vcov(self._inf)
        return pd.DataFrame(V, index=terms, columns=terms)

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
        check_choice("type", type, tuple(AGGREGATIONS))
        t = self._table
        agg = aggregate(type, att=t["estimate"].to_numpy(), group=t["group"].to_numpy(float),
                        time=t["time"].to_numpy(float), inf=self._inf,
                        unit_group=self._unit_group, groups=self.groups, min_e=min_e,
                        max_e=max_e)
        o_tab, _ = self._bands.table(np.array([agg.estimate]), agg.influence[:, None],
                                     band=False)
        rows = [{"term": "att", **{k: v[0] for k, v in o_tab.items()}}]
        crit = np.nan
        if agg.levels.size:
            l_tab, crit = self._bands.table(agg.estimates, agg.influences, band=True)
            col = _LEVEL_COLUMN[type]
            rows += [{"term": f"{col}={fmt(lv)}", col: lv, **{k: v[j] for k, v in l_tab.items()}}
                     for j, lv in enumerate(agg.levels)]
        frame = pd.DataFrame(rows)
        for c in ("group", "time", "event_time"):
            if c not in frame:
                frame[c] = np.nan
        frame["aggregation"] = type
        table = tidy_frame(frame, extra_first=("aggregation", "group", "time", "event_time"))
        return StaggeredAggregateResult(
            estimator=self.estimator, table=table, n_obs=self.n_obs, warnings=self.warnings,
            type=type, crit=crit, parent=self, min_e=min_e, max_e=max_e,
            inf=np.column_stack([agg.influence, agg.influences]))

    # -- the common interface ---------------------------------------------------------------
    def glance(self) -> pd.DataFrame:
        est = self.estimator
        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_units": self.n_units, "n_periods": self.n_periods,
            "n_groups": len(self.groups), "n_clusters": self.n_clusters, "panel": est.panel,
            "control": est.control, "method": est.method if est.covariates else "unconditional",
            "base_period": est.base_period, "anticipation": est.anticipation,
            "conf_level": est.conf_level, **_inference_columns(self.inference),
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


def _cell_table(frame, inf, bands):
    cols, crit = bands.table(frame["estimate"].to_numpy(), inf, band=True)
    out = frame.drop(columns="estimate").assign(**cols)
    return tidy_frame(out, extra_first=("group", "time", "event_time", "post")), crit


def _inference_columns(spec) -> dict:
    if spec is None:
        return {"inference": "analytic", "reps": np.nan, "bootstrap_weights": None}
    return {"inference": spec.describe(), "reps": spec.reps, "bootstrap_weights": spec.weights}


def _header(res) -> tuple[tuple[str, str], ...]:
    est = res.estimator
    design = "panel" if est.panel else "rc"
    method = (_METHOD_NAMES[est.method].format(design) if est.covariates
              else "unconditional (no covariates)")
    level = "unit level" if est.panel else "row level: each row its own draw"
    se = ("influence function, clustered on " + est.cluster) if est.cluster else (
        f"influence function ({level}), sqrt(mean(IF^2)/n), no small-sample correction")
    spec = res.inference
    boot = (f"multiplier bootstrap, {spec.reps} draws, {spec.weights} weights, seed {res.seed}"
            if spec is not None else "none (inference=None: analytic SEs only)")
    units = (f"{res.n_units} ({est.unit})" if est.panel
             else f"{res.n_units} rows (repeated cross-sections)")
    return (
        ("outcome", est.outcome), ("units", units),
        ("periods", str(res.n_periods)), ("groups", ", ".join(fmt(g) for g in res.groups)),
        ("control group", est.control.replace("_", "-")),
        ("estimation", method + (f"; covariates {', '.join(est.covariates)}"
                                 if est.covariates else "")),
        ("base period", est.base_period), ("anticipation", str(est.anticipation)),
        ("standard errors", se), ("bootstrap", boot),
        ("intervals", f"{est.conf_level:.0%} pointwise normal (analytic SE); simultaneous band "
                      "= estimate +/- sup-t critical value x bootstrap SE"),
    )


def _notes(res) -> tuple[str, ...]:
    peer = ("R did::att_gt / aggte" if res.estimator.panel
            else "R did::att_gt(panel = FALSE) / aggte (csdid / drdid in Python)")
    return (f"Matches {peer} (analytic SEs with bstrap=FALSE); R's default SEs come from its "
            "multiplier bootstrap, reported here as std_error_bootstrap.",)


class StaggeredAggregateResult(Result):
    """An aggregation of ATT(g,t) (R ``aggte``): overall effect plus effects by level.

    ``tidy()`` starts with ``aggregation``, ``group``/``time``/``event_time`` (the level), then
    the tidy columns; the row with ``term == "att"`` is the overall effect. Bands
    (``conf_low_band``/``conf_high_band``) are simultaneous over the levels.
    """

    def __init__(self, *, estimator, table, n_obs, warnings, type, crit, parent, min_e, max_e,
                 inf):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self._parent = parent
        self._inf = inf
        self.type = type
        self.critical_value = crit
        self.inference = parent.inference
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

    def vcov_matrix(self) -> pd.DataFrame:
        """Covariance of the overall effect and the levels (rows of ``tidy()``, by term)."""
        terms = list(self._table["term"])
        V = self._parent._bands.vcov(self._inf)
        return pd.DataFrame(V, index=terms, columns=terms)

    def with_inference(self, spec) -> StaggeredAggregateResult:
        """The same aggregation with other bootstrap draws, or analytic SEs only (``None``)."""
        return self._parent.with_inference(spec).aggregate(self.type, min_e=self.min_e,
                                                           max_e=self.max_e)

    def glance(self) -> pd.DataFrame:
        o = self.overall
        est = self.estimator
        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_units": self.n_units, "aggregation": self.type,
            "att": o["estimate"], "std_error": o["std_error"], "conf_low": o["conf_low"],
            "conf_high": o["conf_high"], "control": est.control,
            **_inference_columns(self.inference), "seed": self.seed,
            "critical_value": self.critical_value, "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        col = _LEVEL_COLUMN.get(self.type)
        keep = ([col] if col else []) + ["term", "estimate", "std_error", "conf_low",
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
