"""Restricted mean survival time (RMST) per group, with differences and ratios between arms.

The RMST up to a horizon tau is the area under the Kaplan–Meier curve on [0, tau]: the mean
number of days, out of the first tau, spent before the event. For time to a job it is the
expected days still searching within tau; ``measure="rmtl"`` reports tau − RMST instead, the
restricted mean time *after* the event (days in work within tau, if work is kept). Unlike a
hazard ratio, neither needs proportional hazards, and both are in days a commissioner can read.
"""

from __future__ import annotations

import datetime
import warnings as _w
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_choice, check_range
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError, SpecificationError, StatisticalWarning
from ._columns import read_spells
from ._curves import km_curve, restricted_mean

MEASURES = ("rmst", "rmtl")


class RMSTResult(Result):
    """Restricted means per group and contrasts with the reference group.

    ``tidy()`` rows: ``term == measure`` (one per group: estimate, SE as R's ``rmean``, Wald CI),
    ``<measure>_difference`` (group − reference; SEs add in quadrature as the groups are
    independent samples) and ``<measure>_ratio`` (group / reference; CI and test on the log
    scale, SE of the log ratio by the delta method in ``std_error_log``; ``std_error`` is that
    SE times the ratio). ``contrast`` names the comparison; ``tau`` the horizon.
    """

    count_columns = ("n_obs", "n_events")

    def __init__(self, *, estimator, table, n_obs, tau, curves, labels, reference,
                 time_unit=None, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.tau = float(tau)
        self.groups = tuple(labels)
        self.reference = reference
        self.measure = estimator.measure
        self.conf_level = estimator.conf_level
        self.time_unit = time_unit
        self._curves = curves  # {label: (time, surv)} Kaplan–Meier steps for the plot
        self._freeze()

    def curve(self, group):
        """Kaplan–Meier step function of one group: (times, survival after each time)."""
        t, s = self._curves[group]
        return t.copy(), s.copy()

    def by_group(self) -> pd.DataFrame:
        """One row per group: people, events, the restricted mean and its SE."""
        rows = self._table[self._table["term"] == self.measure]
        frame = rows[["group", "n_obs", "n_events", "estimate", "std_error"]].copy()
        frame = frame.rename(columns={"estimate": self.measure,
                                      "std_error": f"{self.measure}_std_error"})
        frame["tau"] = self.tau
        frame[["n_obs", "n_events"]] = frame[["n_obs", "n_events"]].astype(np.int64)
        return frame.reset_index(drop=True)

    def glance(self) -> pd.DataFrame:
        """One row: rows used, groups, the horizon, the measure and the reference group."""
        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_events": int(self._table["n_events"].sum()),
            "n_groups": len(self.groups), "tau": self.tau, "measure": self.measure,
            "reference": str(self.reference), "conf_level": self.conf_level,
            "time_unit": self.time_unit, "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        what = ("restricted mean time before the event (RMST)" if self.measure == "rmst"
                else "restricted mean time after the event (RMTL = tau - RMST)")
        header = (
            ("duration", self.estimator.duration),
            ("event", self.estimator.event),
            ("groups", self.estimator.group or "(none)"),
            ("horizon tau", f"{self.tau:g}" + (f" {self.time_unit}" if self.time_unit else "")),
            ("measure", what),
            ("standard errors", "as R's survfit rmean: sqrt(sum A_i^2 d_i / (n_i (n_i - d_i))), "
                                "no n/(n-1) factor"),
            ("confidence intervals", f"{self.conf_level:.0%} Wald; ratios on the log scale "
                                     "(delta method)"),
        )
        t = self._table
        cols = ["group", "estimate", "std_error", "conf_low", "conf_high"]
        tables = [("Per group", t[t["term"] == self.measure][cols + ["n_obs", "n_events"]])]
        diff = t[t["term"] == f"{self.measure}_difference"]
        if len(diff):
            ccols = ["contrast", "estimate", "std_error", "conf_low", "conf_high", "p_value"]
            tables.append((f"Difference vs {self.reference}", diff[ccols]))
            tables.append((f"Ratio vs {self.reference}",
                           t[t["term"] == f"{self.measure}_ratio"][ccols]))
        notes = ("A summary that needs no proportional-hazards assumption; it depends on tau, "
                 "so choose tau before looking at the data.",)
        return Summary(title=f"Restricted mean time up to {self.tau:g}", header=header,
                       tables=tuple(tables), notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.rmst import plot_rmst

        return plot_rmst(self, ax=ax, **style)


class RMST(Estimator):
    """Restricted mean survival time per group, with differences and ratios between arms.

    Parameters
    ----------
    duration : str
        Column with the time to the event or censoring (e.g. days from first contact); time
        spans (timedelta) are read as days.
    event : str
        Column saying whether the event happened (0/1 or boolean).
    tau : float, timedelta or "common"
        Horizon: the restricted mean is over [0, tau]. ``"common"`` uses the largest observed
        time (R's ``rmean="common"``). A timedelta is read as days. Pick it in the analysis
        plan, before seeing results.
    group : str, optional
        Column with arms or groups.
    reference : optional
        The group others are compared with (default: the first in sorted order).
    conf_level : float
        Level of the Wald intervals (default 0.95).
    measure : {"rmst", "rmtl"}
        Time before the event (RMST) or after it (restricted mean time lost, tau − RMST): for
        time to a job, "rmtl" is the expected days in work within tau.

    Returns
    -------
    RMSTResult
        From :meth:`fit`. A ratio whose restricted means include a 0 (e.g. ``measure="rmtl"``
        for an arm with no events before tau) is undefined: its row is NaN, with a note.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_caseload
    >>> spells = ci.durations_from_dates(load_caseload(), start="first_contact",
    ...     event="job_start", end="discharge", cutoff="2024-02-27")
    >>> res = ci.RMST(duration="duration", event="event", tau=365).fit(spells)
    >>> res.tidy()["term"].tolist()
    ['rmst']

    See Also
    --------
    KaplanMeier, Cox, SupportCap
    """

    _param_names = ("duration", "event", "tau", "group", "reference", "conf_level", "measure")

    def __init__(self, *, duration: str, event: str, tau: float | Literal["common"],
                 group: str | None = None, reference=None, conf_level: float = 0.95,
                 measure: Literal["rmst", "rmtl"] = "rmst"):
        self.duration, self.event, self.group = duration, event, group
        if isinstance(tau, str):
            check_choice("tau", tau, ("common",))
        else:
            if isinstance(tau, datetime.timedelta | np.timedelta64):
                tau = pd.Timedelta(tau).total_seconds() / 86400.0
            tau = check_range("tau", tau, 0, np.inf)
        self.tau = tau
        if reference is not None and group is None:
            raise SpecificationError("reference= needs group=: name the column with the arms")
        self.reference = reference
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.measure = check_choice("measure", measure, MEASURES)

    def fit(self, data) -> RMSTResult:
        """Restricted means; ``data`` is a DataFrame or anything ``causalips.engine`` reads (a
        Parquet/CSV path, DuckDB, polars, pyarrow, Spark), counted where it lives."""
        spells = read_spells(data, roles={"duration": self.duration, "event": self.event,
                                          "group": self.group},
                             duration=self.duration, event=self.event,
                             keys={"group": self.group})
        codes, labels = spells.key("group")
        reference = labels[0] if self.reference is None else self.reference
        if reference not in labels:
            raise DataError(
                f"reference={self.reference!r} is not a value of {self.group!r} "
                f"(values: {', '.join(repr(v) for v in labels[:8])})"
            )
        tables = spells.event_tables(codes, len(labels))
        tau = float(spells.duration.max()) if self.tau == "common" else float(self.tau)
        warnings, per_group, curves = list(spells.notes), [], {}
        for label, tab in zip(labels, tables, strict=True):
            surv = km_curve(tab)["surv"]
            curves[label] = (tab.time, surv)
            area, se = restricted_mean(tab.time, surv, tab.n_risk, tab.n_event, tau)
            last = tab.time[-1] if tab.time.size else 0.0
            if tau > last:
                warnings.append(
                    f"tau = {tau:g} is beyond the last follow-up time of group {label!r} "
                    f"({last:g}); the curve is carried flat from there, as R does"
                )
            per_group.append({"group": label, "contrast": str(label), "term": self.measure,
                              "estimate": area if self.measure == "rmst" else tau - area,
                              "std_error": se, "tau": tau, "n_obs": int(tab.total),
                              "n_events": int(tab.n_event.sum())})
        frame, notes = _with_contrasts(per_group, reference, self.measure, self.conf_level)
        warnings += notes
        for msg in warnings[len(spells.notes):]:
            _w.warn(msg, StatisticalWarning, stacklevel=2)
        return RMSTResult(estimator=self, table=tidy_frame(frame, extra_first=("contrast",)),
                          n_obs=spells.n_obs, tau=tau, curves=curves, labels=labels,
                          reference=reference, time_unit=spells.time_unit, warnings=warnings)


def _with_contrasts(per_group: list[dict], reference, measure: str, conf_level: float):
    """Per-group rows plus difference and ratio rows against the reference, with Wald CIs.

    A ratio with a zero restricted mean is undefined (its log-scale SE divides by it): that row
    is NaN and a note says why.
    """
    base = next(r for r in per_group if r["group"] == reference)
    contrasts, notes = [], []
    for row in per_group:
        if row["group"] == reference:
            continue
        name = f"{row['group']} vs {reference}"
        contrasts.append({"group": row["group"], "contrast": name, "term": f"{measure}_difference",
                          "estimate": row["estimate"] - base["estimate"],
                          "std_error": float(np.hypot(row["std_error"], base["std_error"])),
                          "tau": row["tau"]})
        ratio = {"group": row["group"], "contrast": name, "term": f"{measure}_ratio",
                 "estimate": np.nan, "std_error": np.nan, "std_error_log": np.nan,
                 "tau": row["tau"]}
        zero = [r["group"] for r in (row, base) if not r["estimate"] > 0]
        if zero:
            notes.append(f"the {measure} ratio {name} is undefined: the restricted mean of "
                         f"{', '.join(repr(g) for g in zero)} is 0 up to tau = {row['tau']:g}; "
                         "compare the difference instead")
        else:
            se_log = float(np.hypot(row["std_error"] / row["estimate"],
                                    base["std_error"] / base["estimate"]))
            estimate = row["estimate"] / base["estimate"]
            ratio.update(estimate=estimate, std_error=estimate * se_log, std_error_log=se_log)
        contrasts.append(ratio)
    frame = pd.DataFrame(per_group + contrasts)
    if "std_error_log" not in frame.columns:
        frame["std_error_log"] = np.nan
    z = stats.norm.ppf(0.5 + conf_level / 2)
    is_ratio = frame["term"].str.endswith("_ratio").to_numpy()
    is_diff = frame["term"].str.endswith("_difference").to_numpy()
    est = frame["estimate"].to_numpy(dtype=float)
    se = frame["std_error"].to_numpy(dtype=float)
    se_log = frame["std_error_log"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_est = np.log(np.where(is_ratio, est, 1.0))
        frame["statistic"] = np.where(is_ratio, log_est / se_log,
                                      np.where(is_diff & (se > 0), est / se, np.nan))
        frame["conf_low"] = np.where(is_ratio, np.exp(log_est - z * se_log), est - z * se)
        frame["conf_high"] = np.where(is_ratio, np.exp(log_est + z * se_log), est + z * se)
    frame["p_value"] = 2 * stats.norm.sf(np.abs(frame["statistic"]))
    return frame, notes


__all__ = ["RMST", "RMSTResult"]
