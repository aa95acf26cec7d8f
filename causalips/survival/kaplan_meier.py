"""Kaplan–Meier estimator with Greenwood SEs, R-compatible CIs, quantiles, horizons and RMST."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_choice, check_range
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError, SpecificationError, StatisticalWarning, warn
from ._columns import read_spells
from ._counts import EventTable
from ._curves import (
    CI_METHODS,
    check_horizons,
    conf_limits,
    km_curve,
    quantile_times,
    restricted_mean,
)
from .logrank import LogRankResult, result_from_tables

FIRST_COLUMNS = ("group", "time", "n_risk", "n_event", "n_censor")


class KaplanMeierResult(Result):
    """A fitted Kaplan–Meier curve (one per group).

    ``tidy()`` has one row per group and distinct time (event or censoring) with the survival
    ``estimate`` (or 1 − S when the plan asked for ``curve="incidence"``), its Greenwood
    ``std_error`` (SE of S, as R's ``summary.survfit``), ``conf_low``/``conf_high``, then
    ``n_risk``, ``n_event``, ``n_censor``, and extras ``std_error_log`` (SE of −log S),
    ``cumulative_hazard`` (Nelson–Aalen) and ``std_error_cumhaz``. ``glance()`` is one row for
    the fit; ``by_group()`` has the numbers and medians per group.
    """

    count_columns = ("n_risk", "n_event", "n_censor")

    def __init__(self, *, estimator, table, n_obs, tables, labels, strata_tables,
                 time_unit=None, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.groups = tuple(labels)
        self.ci_method = estimator.ci_method
        self.conf_level = estimator.conf_level
        self.curve = estimator.curve
        self.time_unit = time_unit
        self._event_tables = tuple(tables)
        self._strata_tables = strata_tables
        self._freeze()

    @property
    def conf_type(self) -> str:
        """Deprecated name of :attr:`ci_method`."""
        warn("KaplanMeierResult.conf_type is renamed ci_method; conf_type will be "
                       "removed in the next release", FutureWarning)
        return self.ci_method

    # -- accessors ---------------------------------------------------------------------------
    def _group_rows(self, label) -> pd.DataFrame:
        return self._table[self._table["group"] == label]

    def _survival(self, label):
        """Survival (not incidence) columns for one group, whatever the plan's curve."""
        rows = self._group_rows(label)
        surv = rows["estimate"].to_numpy()
        lower, upper = rows["conf_low"].to_numpy(), rows["conf_high"].to_numpy()
        if self.curve == "incidence":
            surv, lower, upper = 1.0 - surv, 1.0 - upper, 1.0 - lower
        return rows, surv, lower, upper

    def at(self, times: float | Sequence[float], *, extend: bool = True) -> pd.DataFrame:
        """Estimates at chosen horizons (e.g. share employed by 91, 182, 273, 365 days).

        As R's ``summary(fit, times=, extend=)``: the estimate is the curve at the last time at
        or before each horizon; ``n_risk`` is the risk set of the first distinct time at or after
        the horizon (people still followed there); ``n_event``/``n_censor`` count those in the
        interval since the previous horizon. With ``extend=False`` horizons after a group's last
        observed time are dropped.
        """
        horizons = check_horizons(times)
        frame = pd.concat([self._at_group(label, tab, horizons, extend)
                           for label, tab in zip(self.groups, self._event_tables, strict=True)],
                          ignore_index=True)
        frame["term"] = self.curve
        lo, hi = conf_limits(frame["surv"], frame["std_error_log"], self.ci_method,
                             self.conf_level)
        before = frame.pop("before_first_time").to_numpy()
        lo, hi = np.where(before, 1.0, lo), np.where(before, 1.0, hi)  # R: S = 1, limits 1
        if self.curve == "incidence":
            frame["estimate"], frame["conf_low"], frame["conf_high"] = (
                1.0 - frame["surv"], 1.0 - hi, 1.0 - lo)
        else:
            frame["estimate"], frame["conf_low"], frame["conf_high"] = frame["surv"], lo, hi
        frame = frame.drop(columns="surv")
        if self.estimator.weights is None:
            for col in ("n_risk", "n_event", "n_censor"):
                frame[col] = frame[col].round().astype(np.int64)
        return tidy_frame(frame, extra_first=FIRST_COLUMNS)

    def _at_group(self, label, tab: EventTable, horizons, extend) -> pd.DataFrame:
        rows, surv, _, _ = self._survival(label)
        pos = np.searchsorted(tab.time, horizons, side="right") - 1
        before = pos < 0
        safe = np.maximum(pos, 0)

        def step(values, start):
            return np.where(before, start, np.asarray(values)[safe])

        ev_upto = np.concatenate([[0], np.cumsum(tab.n_event)])[pos + 1]
        ce_upto = np.concatenate([[0], np.cumsum(tab.n_censor)])[pos + 1]
        frame = pd.DataFrame({
            "group": label, "time": horizons, "n_risk": tab.risk_at(horizons),
            "n_event": np.diff(np.concatenate([[0], ev_upto])),
            "n_censor": np.diff(np.concatenate([[0], ce_upto])),
            "surv": step(surv, 1.0),
            "std_error": step(rows["std_error"].to_numpy(), 0.0),
            "std_error_log": step(rows["std_error_log"].to_numpy(), 0.0),
            "cumulative_hazard": step(rows["cumulative_hazard"].to_numpy(), 0.0),
            "before_first_time": before,
        })
        if not extend:
            last = tab.time[-1] if tab.time.size else -np.inf
            frame = frame[frame["time"] <= last]
        return frame

    def quantiles(self, probs: Sequence[float] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Times by which a share ``p`` had the event, with CIs, as R's ``quantile.survfit``.

        A quantile or limit the curve never reaches is missing (NaN), as in R.
        """
        probs = [check_range("probs", p, 0, 1, inclusive=(True, True)) for p in np.atleast_1d(probs)]
        rows = []
        for label in self.groups:
            g_rows, surv, lower, upper = self._survival(label)
            q = quantile_times(g_rows["time"].to_numpy(), surv, lower, upper, probs)
            for p, (est, lo, hi) in zip(probs, q, strict=True):
                rows.append({"group": label, "quantile": p, "term": f"q{p:g}", "estimate": est,
                             "conf_low": lo, "conf_high": hi})
        return tidy_frame(rows, extra_first=("group", "quantile"))

    def median(self) -> pd.DataFrame:
        """Median time to event with its CI (see :meth:`quantiles`)."""
        return self.quantiles([0.5])

    def rmst(self, tau: float) -> pd.DataFrame:
        """Restricted mean time free of the event up to ``tau``, with SE and CI.

        The area under the Kaplan–Meier curve on [0, tau]; SE as R's ``rmean`` (no n/(n−1)
        factor). When there are two or more groups, rows ``difference`` compare each group with
        the first (SEs add in quadrature: the groups are independent samples).
        """
        tau = check_range("tau", tau, 0, np.inf)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        rows = []
        for label, tab in zip(self.groups, self._event_tables, strict=True):
            curve = km_curve(tab)
            area, se = restricted_mean(tab.time, curve["surv"], tab.n_risk, tab.n_event, tau)
            rows.append({"group": label, "term": "rmst", "tau": tau, "estimate": area,
                         "std_error": se})
        base = rows[0]
        for row in rows[1:]:
            se = float(np.hypot(row["std_error"], base["std_error"]))
            rows.append({"group": f"{row['group']} - {base['group']}", "term": "rmst_difference",
                         "tau": tau, "estimate": row["estimate"] - base["estimate"],
                         "std_error": se})
        frame = pd.DataFrame(rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["statistic"] = np.where(frame["term"] == "rmst_difference",
                                          frame["estimate"] / frame["std_error"], np.nan)
        frame["p_value"] = 2 * stats.norm.sf(np.abs(frame["statistic"]))
        frame["conf_low"] = frame["estimate"] - z * frame["std_error"]
        frame["conf_high"] = frame["estimate"] + z * frame["std_error"]
        return tidy_frame(frame, extra_first=("group",))

    def logrank(self, strata: str | bool | None = None, *, rho: float = 0.0) -> LogRankResult:
        """Log-rank test between the groups (stratified when the plan named ``strata``).

        ``strata=None`` follows the plan; ``False`` forces the unstratified test; a column name
        must be the plan's ``strata`` (the result keeps counts, not the data).
        """
        planned = self.estimator.strata
        if isinstance(strata, str) and strata != planned:
            raise SpecificationError(
                f"strata={strata!r} was not in the plan; fit KaplanMeier(..., strata={strata!r}) "
                "so the counts by stratum are kept"
            )
        if self.estimator.entry is not None:
            raise SpecificationError(
                "a log-rank test is not available for a fit with delayed entry (R's survdiff "
                "refuses (start, stop] data too); compare the groups with "
                "Cox(entry=..., covariates=[group]) and its score test")
        if len(self.groups) < 2:
            raise DataError("a log-rank test needs two or more groups; the fit has one")
        use_strata = strata is not False and planned is not None
        by_stratum = self._strata_tables if use_strata else [list(self._event_tables)]
        n = np.array([t.total for t in self._event_tables])
        return result_from_tables(self.estimator, by_stratum, self.groups, n, self.n_obs, rho,
                                  use_strata)

    # -- the common interface ----------------------------------------------------------------
    def by_group(self) -> pd.DataFrame:
        """One row per group: people, events, and the median time with its CI."""
        med = self.median()
        frame = pd.DataFrame({
            "group": list(self.groups),
            "n_obs": [t.total for t in self._event_tables],
            "n_events": [float(t.n_event.sum()) for t in self._event_tables],
            "median": med["estimate"].to_numpy(),
            "median_conf_low": med["conf_low"].to_numpy(),
            "median_conf_high": med["conf_high"].to_numpy(),
        })
        if self.estimator.weights is None:
            frame["n_obs"] = frame["n_obs"].astype(np.int64)
            frame["n_events"] = frame["n_events"].astype(np.int64)
        return frame

    def glance(self) -> pd.DataFrame:
        """One row: rows used, events, groups, and how the intervals were built."""
        events = sum(float(t.n_event.sum()) for t in self._event_tables)
        return pd.DataFrame([{
            "n_obs": self.n_obs,
            "n_events": int(events) if self.estimator.weights is None else events,
            "n_groups": len(self.groups), "curve": self.curve, "ci_method": self.ci_method,
            "conf_level": self.conf_level, "delayed_entry": self.estimator.entry is not None,
            "time_unit": self.time_unit, "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        what = ("Cumulative incidence (1 - Kaplan-Meier)" if self.curve == "incidence"
                else "Kaplan-Meier survival")
        header = [
            ("duration", self.estimator.duration + (f" ({self.time_unit})" if self.time_unit
                                                     else "")),
            ("event", self.estimator.event),
            ("groups", self.estimator.group or "(none)"),
            ("confidence intervals",
             f"{self.conf_level:.0%} pointwise, '{self.ci_method}' transform of the Greenwood SE"),
        ]
        if self.estimator.entry is not None:
            header.append(("delayed entry", f"{self.estimator.entry} (at risk on (entry, "
                                            "duration], as R's Surv(entry, time, event))"))
        notes = ("Median CIs use R's rule: where the lower/upper CI curve crosses 0.5.",)
        return Summary(title=what, header=tuple(header),
                       tables=(("Events and medians", self.by_group()),),
                       notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.survival import plot_kaplan_meier

        return plot_kaplan_meier(self, ax=ax, **style)

    def report_section(self, *, title: str | None = None, horizons=None,
                       suppress_below: int | None = None):
        """Report section: curves with at-risk table, horizons, quartiles, log-rank test.

        ``horizons`` maps labels to times (default 3, 6, 9 and 12 months in days);
        ``suppress_below`` is the disclosure threshold for the figure's at-risk numbers.
        """
        from ._km_section import kaplan_meier_section

        return kaplan_meier_section(self, title=title, horizons=horizons,
                                    suppress_below=suppress_below)


class KaplanMeier(Estimator):
    """Kaplan–Meier estimate of time to an event (a job start, a job ending, discharge).

    Parameters
    ----------
    duration : str
        Column with the time from start to event or censoring (e.g. days). Non-negative numbers,
        or time spans (timedelta), which are read as days.
    event : str
        Column saying whether the event happened (1/True) or the time is censored (0/False).
        Any other coding works with ``event_value`` naming the value that means the event.
    group : str, optional
        Column with groups to estimate separately (e.g. trial arm, site).
    ci_method : {"log", "log-log", "plain"}
        Transform for the pointwise CIs; "log" is R's default. (Was ``conf_type``.)
    conf_level : float
        Confidence level of all intervals (default 0.95).
    curve : {"survival", "incidence"}
        Report S(t) or the cumulative share with the event, 1 − S(t) (e.g. share employed).
    strata : str, optional
        Column for a stratified log-rank test from :meth:`KaplanMeierResult.logrank`.
    event_value : optional
        The value of ``event`` that marks an event when it is not 0/1 or boolean.
    weights : str, optional
        Column of case weights (e.g. a row standing for a count of people). Rows with weight 0
        are dropped with a :class:`~causalips.errors.DroppedRowsWarning` giving the count.
    entry : str, optional
        Column with the time each person entered observation (delayed entry, left truncation),
        in the unit of ``duration``: a person is at risk on (entry, duration], as R's
        ``Surv(entry, time, event)``. Job-tenure spells seen from a cut-in date need it: a
        spell already 200 days old at the cut-in enters at 200.

    Returns
    -------
    KaplanMeierResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_caseload
    >>> spells = ci.durations_from_dates(load_caseload(), start="first_contact",
    ...     event="job_start", end="discharge", cutoff="2024-02-27")
    >>> res = ci.KaplanMeier(duration="duration", event="event").fit(spells)
    >>> res.at([91, 182, 273, 365])[["time", "estimate"]].shape
    (4, 2)

    See Also
    --------
    LogRank, durations_from_dates
    """

    _param_names = ("duration", "event", "group", "ci_method", "conf_level", "curve", "strata",
                    "event_value", "weights", "entry")
    _renamed = {"conf_type": "ci_method"}

    def __init__(
        self,
        *,
        duration: str,
        event: str,
        group: str | None = None,
        ci_method: Literal["log", "log-log", "plain"] = "log",
        conf_level: float = 0.95,
        curve: Literal["survival", "incidence"] = "survival",
        strata: str | None = None,
        event_value=None,
        weights: str | None = None,
        entry: str | None = None,
    ):
        self.duration, self.event, self.group = duration, event, group
        self.ci_method = check_choice("ci_method", ci_method, CI_METHODS)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.curve = check_choice("curve", curve, ("survival", "incidence"))
        self.strata, self.event_value, self.weights = strata, event_value, weights
        self.entry = entry

    @property
    def conf_type(self) -> str:
        """Deprecated name of :attr:`ci_method`."""
        warn("KaplanMeier.conf_type is renamed ci_method; conf_type will be removed "
                       "in the next release", FutureWarning)
        return self.ci_method

    def fit(self, data) -> KaplanMeierResult:
        """Fit the curves; ``data`` is a DataFrame or anything ``causalips.engine`` reads (a
        Parquet/CSV path, DuckDB, polars, pyarrow, Spark), counted where it lives."""
        spells = read_spells(data, roles={"duration": self.duration, "event": self.event,
                                          "group": self.group, "strata": self.strata,
                                          "weights": self.weights, "entry": self.entry},
                             duration=self.duration, event=self.event,
                             keys={"group": self.group, "strata": self.strata},
                             weights=self.weights, entry=self.entry,
                             event_value=self.event_value)
        codes, labels = spells.key("group")
        tables = spells.event_tables(codes, len(labels))
        warnings = list(spells.notes)
        if not spells.event.any():
            warnings.append("no events: the curve stays at 1 and quantiles are not reached")
        elif self.group is not None:
            warnings += [f"group {label!r} has no events"
                         for label, tab in zip(labels, tables, strict=True)
                         if tab.n_event.sum() == 0]
        strata_tables = None
        if self.strata is not None:
            s_codes, s_labels = spells.key("strata")
            g = len(labels)
            flat = spells.event_tables(s_codes * g + codes, len(s_labels) * g,
                                       with_entry=False)
            strata_tables = [flat[s * g:(s + 1) * g] for s in range(len(s_labels))]
        table = _tidy_table(tables, labels, self.ci_method, self.conf_level, self.curve)
        for m in warnings[len(spells.notes):]:
            warn(m, StatisticalWarning)
        return KaplanMeierResult(estimator=self, table=table, n_obs=spells.n_obs,
                                 tables=tables, labels=labels, strata_tables=strata_tables,
                                 time_unit=spells.time_unit, warnings=warnings)


def _tidy_table(tables: list[EventTable], labels, ci_method, conf_level, curve) -> pd.DataFrame:
    """One row per group and distinct time, in the one tidy order."""
    columns = [_curve_columns(tab, ci_method, conf_level, curve == "incidence")
               for tab in tables]
    sizes = [tab.time.size for tab in tables]
    data = {"group": pd.Series(labels, dtype=object).repeat(sizes).to_numpy(),
            "term": np.full(sum(sizes), curve, dtype=object)}
    for name in list(columns[0]):
        # pop as we go: a million distinct times make a big table, hold one copy at a time
        data[name] = np.concatenate([c.pop(name) for c in columns])
    frame = pd.DataFrame(data, copy=False)
    del data
    return tidy_frame(frame, extra_first=("n_risk", "n_event", "n_censor"))


def _curve_columns(tab: EventTable, ci_method, conf_level, incidence: bool) -> dict:
    c = km_curve(tab)
    lower, upper = conf_limits(c["surv"], c["se_log"], ci_method, conf_level)
    with np.errstate(invalid="ignore"):
        se_surv = np.where(c["surv"] <= 0, np.nan, c["surv"] * c["se_log"])
    return {
        "time": tab.time, "estimate": 1.0 - c["surv"] if incidence else c["surv"],
        "std_error": se_surv, "conf_low": 1.0 - upper if incidence else lower,
        "conf_high": 1.0 - lower if incidence else upper, "n_risk": tab.n_risk,
        "n_event": tab.n_event, "n_censor": tab.n_censor, "std_error_log": c["se_log"],
        "cumulative_hazard": c["cumhaz"], "std_error_cumhaz": c["se_cumhaz"],
    }


__all__ = ["KaplanMeier", "KaplanMeierResult"]
