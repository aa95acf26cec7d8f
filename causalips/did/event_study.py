"""Event study: effects by period relative to first exposure, pre-trend test, Sun–Abraham.

``EventStudy`` regresses the outcome on event-time indicators (periods since first exposure,
one left out as the reference, default -1) with unit and period fixed effects, using the same
exact engine and CR1 inference as :class:`~causalips.DiD`. Periods outside ``window`` are
binned into the end points (``bin_endpoints=True``, the default) or dropped. The joint Wald test
of the pre-period coefficients (F with G-1 denominator degrees of freedom, as fixest's
``wald``) checks parallel pre-trends.

Under staggered timing the ordinary TWFE event study mixes cohorts with weights that can be
negative; ``method="sun_abraham"`` estimates cohort x event-time effects against never-treated
units (or the last-treated cohort when none is never treated) and averages them with the
cohorts' shares at each event time (Sun & Abraham 2021). Its standard errors treat the shares as
fixed, as fixest's ``sunab`` aggregation does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_choice
from ..base import Summary, tidy_frame
from ..engine import is_in_memory
from ..errors import DataError, DroppedRowsWarning, SpecificationError, warn
from ..inference import Cluster
from ..panel import Panel
from ._assignment import DesignSource, Timing
from ._engine_panel import drop_outside_window
from ._fe_plan import FEPlan
from ._fe_result import FEResult, design_getter, fit_record, trends_table
from ._inference_rows import inference_table, reassignment_label
from .randomization import Combination, single_terms

METHODS = ("twfe", "sun_abraham")


def _term(e: int) -> str:
    return f"event_time::{e}"


def _event_times(panel: Panel) -> np.ndarray:
    et = panel.event_time
    finite = np.isfinite(et)
    if finite.any() and not np.allclose(et[finite], np.round(et[finite])):
        raise DataError(
            "event times (time - first_treated) are not whole numbers; an event study needs "
            "integer periods (e.g. years). Recode the time column as consecutive integers."
        )
    return np.where(finite, np.round(np.where(finite, et, 0)), np.nan)


def pretrend_test(coef: np.ndarray, vcov: np.ndarray, n_clusters: int) -> dict:
    """Joint Wald test that all given (pre-period) coefficients are zero: F(q, G-1)."""
    q = coef.size
    if q == 0:
        return {"statistic": np.nan, "df1": 0, "df2": n_clusters - 1, "p_value": np.nan}
    w = float(coef @ np.linalg.pinv(vcov) @ coef) / q
    df2 = n_clusters - 1
    return {"statistic": w, "df1": q, "df2": df2, "p_value": float(stats.f.sf(w, q, df2))}


class EventStudyResult(FEResult):
    """A fitted event study.

    ``tidy()`` has one row per event time (term ``event_time::e``, extra column ``event_time``),
    the reference period with estimate 0, and a row ``post_average`` (mean of the post-period
    coefficients). ``pretrend`` holds the joint Wald test of the pre-period coefficients (with
    the analytic variance, whatever the resampling).
    """

    def __init__(self, *, estimator, fit, source, variance, inference, info, trends,
                 base_warnings, agg, cache=None):
        cache = {} if cache is None else cache
        table, details, notes, pre, warns = build_table(
            estimator, fit, variance, inference, agg, info, design_getter(cache, source))
        super().__init__(estimator=estimator, table=table, n_obs=fit.n_obs,
                         warnings=tuple(base_warnings) + tuple(warns))
        self._init_common(fit=fit, source=source, variance=variance, inference=inference,
                          details=details, notes=notes, info=info, trends=trends,
                          base_warnings=base_warnings, cache=cache)
        self.pretrend = pre
        self.reference = estimator.reference
        self._agg = agg  # (weights matrix rows=event times over fit coefs, event times)
        self._freeze()

    def _check_resampling(self, spec) -> None:
        if self.estimator.method == "sun_abraham":
            raise SpecificationError(
                f"{type(spec).__name__} is not available for Sun-Abraham aggregates (their "
                "weights are cohort shares; re-drawing changes them): use method='twfe', or "
                "Cluster(...)")

    def _rebuild(self, variance, inference):
        return EventStudyResult(estimator=self.estimator, fit=self.fit, source=self._source,
                                variance=variance, inference=inference, info=self.info,
                                trends=self.trends, base_warnings=self._base_warnings,
                                agg=self._agg, cache=self._cache)

    def glance(self) -> pd.DataFrame:
        g = super().glance()
        g["pretrend_F"] = self.pretrend["statistic"]
        g["pretrend_p_value"] = self.pretrend["p_value"]
        g["method"] = self.estimator.method
        return g

    def summary(self) -> Summary:
        e = self.estimator
        pre = self.pretrend
        header = (
            ("outcome", e.outcome),
            ("design", self._design_line()),
            ("method", "TWFE event study" if e.method == "twfe"
             else "Sun-Abraham interaction-weighted"),
            ("reference period", str(e.reference)),
            ("pre-trend test", f"F({pre['df1']}, {pre['df2']}) = {pre['statistic']:.3g}, "
                               f"p = {pre['p_value']:.3g}" if pre["df1"] else "no pre-periods"),
        )
        cols = ["term", "event_time", "estimate", "std_error", "p_value", "conf_low",
                "conf_high"]
        return Summary(title="Event study", header=header,
                       tables=(("Effects by period since first exposure", self._table[cols]),),
                       notes=self.inference_notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.did import plot_event_study

        return plot_event_study(self, ax=ax, **style)


def _combinations(times) -> list[Combination]:
    """Each event-time coefficient, and the average of the post-period ones."""
    combos = single_terms([_term(e) for e in times])
    post = np.asarray(times) >= 0
    if post.any():
        combos.append(Combination("post_average", post / post.sum(), post.astype(float)))
    return combos


def _sun_abraham_rows(fit, agg, correction, conf, info):
    weights, times = agg
    df = fit.n_clusters - 1
    q = stats.t.ppf(0.5 + conf / 2, df)
    est = weights @ fit.coef
    vc = weights @ fit.vcov(correction) @ weights.T
    se = np.sqrt(np.diag(vc))
    t = est / se
    table = pd.DataFrame({"term": [_term(e) for e in times], "estimate": est,
                          "std_error": se, "statistic": t,
                          "p_value": 2 * stats.t.sf(np.abs(t), df),
                          "conf_low": est - q * se, "conf_high": est + q * se,
                          "df": float(df), "inference": f"cluster-robust {correction}, t({df})"})
    notes = [f"Sun-Abraham: cohort x event-time effects averaged with cohort shares; "
             f"{correction} clustered by {info['cluster']} ({fit.n_clusters} clusters), shares "
             "fixed"]
    return table, est, vc, notes


def build_table(plan, fit, variance, resampling, agg, info, design):
    """(tidy table, details, notes, pre-trend test, warnings) of an event study."""
    weights, times = agg
    conf = plan.conf_level
    correction = variance.correction or "CR1"
    df = fit.n_clusters - 1
    q = stats.t.ppf(0.5 + conf / 2, df)
    n_ev = len(times)
    warns: list[str] = []
    details: dict = {}
    if weights is None:  # TWFE: the coefficients themselves
        table, details, notes, warns = inference_table(
            fit, variance, resampling, conf, _combinations(times), design=design,
            cluster_name=info["cluster"], time_name=plan.time)
        table = table.iloc[:n_ev].copy()
        vc = fit.vcov(correction)[:n_ev, :n_ev]
        est = fit.coef[:n_ev]
    else:
        table, est, vc, notes = _sun_abraham_rows(fit, agg, correction, conf, info)
    table["event_time"] = np.asarray(times, dtype=float)
    times_arr = np.asarray(times)
    pre = times_arr < 0
    pre_test = pretrend_test(est[pre], vc[np.ix_(pre, pre)], fit.n_clusters)
    post = times_arr >= 0
    rows = [{"term": _term(plan.reference), "estimate": 0.0, "std_error": np.nan,
             "statistic": np.nan, "p_value": np.nan, "conf_low": np.nan, "conf_high": np.nan,
             "df": np.nan, "inference": "reference period (fixed at 0)",
             "event_time": float(plan.reference)}]
    table = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)
    table = table.sort_values("event_time", kind="stable")
    if post.any():
        a = post / post.sum()
        pe, ps = float(a @ est), float(np.sqrt(a @ vc @ a))
        row = {"term": "post_average", "estimate": pe, "std_error": ps,
               "statistic": pe / ps, "p_value": 2 * stats.t.sf(abs(pe / ps), df),
               "conf_low": pe - q * ps, "conf_high": pe + q * ps, "df": float(df),
               "inference": f"cluster-robust {correction}, t({df})", "event_time": np.nan}
        out = details.get("post_average")
        if out is not None:  # randomization inference / Conley-Taber on the average too
            row.update(p_value=out.p_value, conf_low=out.conf_low, conf_high=out.conf_high,
                       statistic=np.nan, df=np.nan, inference=reassignment_label(resampling))
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    return tidy_frame(table), details, notes, pre_test, warns


class EventStudy(FEPlan):
    """Event-study DiD: effects by period since first exposure.

    Parameters
    ----------
    outcome, unit, time, treatment, first_treated, cluster, fixed_effects, covariates, weights
        As :class:`~causalips.DiD`.
    window : (int, int), optional
        First and last event time estimated, e.g. ``(-4, 3)``; default all observed.
    reference : int
        Event time left out (normalised to 0); default -1.
    bin_endpoints : bool
        Bin event times beyond the window into its end points (default) or drop those rows.
    method : {"twfe", "sun_abraham"}
        Ordinary TWFE event study or the Sun–Abraham interaction-weighted estimator.
    vcov : Cluster, optional
        The variance; default CR1 clustered on ``cluster``.
    inference : WildBootstrap, Randomization or ConleyTaber, optional
        Resampling inference for each event-time coefficient (randomization inference and
        Conley–Taber also for ``post_average``; they need ``method="twfe"`` and binned end
        points). Also later through ``result.with_inference(spec)``.
    conf_level : float
        Confidence level (default 0.95).
    cell_counts : str, optional
        Rows are aggregated cluster x period cells with this many people (see
        :class:`~causalips.DiD`).
    panel : bool
        ``False`` for repeated cross-sections (see :class:`~causalips.DiD`).

    Notes
    -----
    ``fit(data)`` takes a pandas DataFrame, or data held by an engine (a Parquet or CSV path,
    a DuckDB relation, a polars or pyarrow table, a Spark DataFrame): the engine computes
    the cell sums (cohort moments for StaggeredDiD) and the checks, with the same numbers as
    in memory; what does not reduce to them is refused naming the aggregation to do first
    (docs/scale.md).

    Returns
    -------
    EventStudyResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_norway_panel
    >>> es = ci.EventStudy(outcome="workdays", unit="person", time="year",
    ...                    first_treated="first_treated", cluster="municipality",
    ...                    window=(-4, 3)).fit(load_norway_panel())
    >>> es.pretrend["df1"]
    3

    See Also
    --------
    DiD, causalips.StaggeredDiD
    """

    _param_names = ("outcome", "unit", "time", "treatment", "first_treated", "cluster",
                    "fixed_effects", "covariates", "weights", "window", "reference",
                    "bin_endpoints", "method", "vcov", "inference", "conf_level", "cell_counts",
                    "panel")

    def __init__(self, *, outcome: str, unit: str, time: str, treatment: str | None = None,
                 first_treated: str | None = None, cluster: str | None = None,
                 fixed_effects: Sequence[str] = ("unit", "time"), covariates: Sequence[str] = (),
                 weights: str | None = None, window: tuple[int, int] | None = None,
                 reference: int = -1, bin_endpoints: bool = True, method: str = "twfe",
                 vcov=None, inference=None, conf_level: float = 0.95,
                 cell_counts: str | None = None, panel: bool = True):
        self._validate_common(outcome=outcome, unit=unit, time=time, treatment=treatment,
                              first_treated=first_treated, cluster=cluster,
                              fixed_effects=fixed_effects, covariates=covariates, weights=weights,
                              vcov=vcov, inference=inference, conf_level=conf_level,
                              cell_counts=cell_counts, panel=panel)
        self.method = check_choice("method", method, METHODS)
        if method == "sun_abraham" and self.inference is not None:
            raise SpecificationError(
                f"{type(self.inference).__name__} is not available for Sun-Abraham aggregates; "
                "use method='twfe', or Cluster")
        if not isinstance(reference, int | np.integer):
            raise SpecificationError(f"reference must be an integer event time; got {reference!r}")
        self.reference = int(reference)
        if window is not None:
            try:
                lo, hi = (int(window[0]), int(window[1]))
            except (TypeError, ValueError, IndexError):
                raise SpecificationError(f"window must be (first, last) integers; got {window!r}"
                                         ) from None
            if not lo <= self.reference <= hi or lo >= hi:
                raise SpecificationError(
                    f"window {window!r} must satisfy first <= reference ({reference}) <= last "
                    "and first < last"
                )
            window = (lo, hi)
        self.window = window
        self.bin_endpoints = bool(bin_endpoints)

    _event_study = True

    def fit(self, data) -> EventStudyResult:
        holder = {}

        def build_x(panel: Panel):
            et = _event_times(panel)
            treated = np.isfinite(et)
            if not treated.any():
                raise DataError("no treated rows: an event study needs exposed units")
            lo = int(np.nanmin(et)) if self.window is None else self.window[0]
            hi = int(np.nanmax(et)) if self.window is None else self.window[1]
            if not lo <= self.reference <= hi:
                raise DataError(f"reference period {self.reference} is outside the observed "
                                f"event times {lo}..{hi}; choose another reference")
            outside = treated & ((et < lo) | (et > hi))
            if self.bin_endpoints:
                e = np.clip(np.where(treated, et, 0), lo, hi)
            else:
                e = np.where(treated, et, 0)
            times = [t for t in range(lo, hi + 1) if t != self.reference]
            present = set(np.unique(e[treated & ~outside if not self.bin_endpoints else treated]
                                    ).astype(int).tolist())
            times = [t for t in times if t in present]
            holder["timing"] = Timing(tuple(times), lo, hi)
            if self.method == "twfe":
                x = np.column_stack([(treated & (e == t)).astype(np.float64) for t in times])
                names = tuple(_term(t) for t in times)
                holder["agg"] = (None, times)
            else:
                x, names = self._sun_abraham_x(panel, treated, e, times, holder)
            if panel.covariates is not None:
                x = np.column_stack([x, panel.covariates])
                names += panel.covariate_names
            return x, names

        if not self.bin_endpoints and self.window:
            data = (self._drop_outside(data) if is_in_memory(data)
                    else drop_outside_window(self, data, self.window))
        prep = self._prepare(data, build_x)
        info, warns = fit_record(prep)
        times = holder["agg"][1]
        source = DesignSource(fit=prep.fit, fe=prep.fe, row_cell=prep.row_cell,
                              periods=prep.panel.periods,
                              treat_terms=tuple(_term(t) for t in times),
                              timing=holder["timing"], refusal=self._reassignment_refusal())
        return EventStudyResult(estimator=self, fit=prep.fit, source=source,
                                variance=self.vcov or Cluster(prep.panel.cluster_name),
                                inference=self.inference, info=info,
                                trends=trends_table(prep.panel, prep.cells),
                                base_warnings=warns, agg=holder["agg"])

    def _reassignment_refusal(self) -> str:
        if self.method == "sun_abraham":
            return ("randomization inference and Conley-Taber are not available for "
                    "Sun-Abraham aggregates: use method='twfe'")
        if not self.bin_endpoints and self.window is not None:
            return ("randomization inference and Conley-Taber re-assign timing, which would move "
                    "the rows dropped outside the window: use bin_endpoints=True")
        return ""

    def _drop_outside(self, data):
        """Without binning, drop rows of treated units outside the window (with a warning)."""
        from ..panel import validate_panel

        panel = validate_panel(data, outcome=self.outcome, unit=self.unit, time=self.time,
                               treatment=self.treatment, first_treated=self.first_treated,
                               cluster=self.cluster, always_treated="keep", panel=self.panel)
        et = panel.event_time
        lo, hi = self.window
        out = np.isfinite(et) & ((et < lo) | (et > hi))
        if out.any():
            msg = f"{int(out.sum())} rows of treated units outside the window {self.window} dropped"
            warn(msg, DroppedRowsWarning)
            return data.loc[~out]
        return data

    def _sun_abraham_x(self, panel, treated, e, times, holder):
        f_row = panel.first_treated[panel.unit_codes]
        cohorts = np.unique(f_row[treated])
        never = ~np.isfinite(panel.first_treated)
        if not never.any():  # pragma: no cover - validate_panel requires controls
            raise DataError("Sun-Abraham needs never-treated units as controls")
        w = panel.share_weights
        cols, names, keys = [], [], []
        for g in cohorts:
            in_g = treated & (f_row == g)
            for t in times:
                col = in_g & (e == t)
                if col.any():
                    cols.append(col.astype(np.float64))
                    names.append(f"cohort::{g:g}:{_term(t)}")
                    keys.append((g, t, float(np.sum(w[col]))))
        x = np.column_stack(cols)
        k_extra = len(panel.covariate_names)
        weights = np.zeros((len(times), len(cols) + k_extra))
        for j, (_, t, share) in enumerate(keys):
            weights[times.index(t), j] = share
        weights = weights / weights.sum(axis=1, keepdims=True)
        holder["agg"] = (weights, times)
        return x, tuple(names)


__all__ = ["EventStudy", "EventStudyResult", "pretrend_test"]
