"""Competing risks: Aalen–Johansen cumulative incidence per cause and Gray's test.

People leave a caseload in more than one way: they start a job (the event of interest) or are
discharged without one (a competing event). One minus Kaplan–Meier, treating discharge as
censoring, overstates the share who get a job, because people who were discharged could not
have got one *on the programme*. The Aalen–Johansen estimator gives the cumulative incidence of
each cause: the probability of leaving by that route by time t.

Numbers match R's ``survfit`` multi-state fit (``Surv(time, factor(status))``, and
``Surv(entry, time, factor(status))`` with delayed entry): the estimates, its
infinitesimal-jackknife standard errors and its ``conf.type="log"`` intervals. Gray's test
between groups matches ``cmprsk::cuminc(...)$Tests``. The engine (``_aalen_johansen``) works from
the counts at distinct times with cumulative sums (no loop over people).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import _plain, cause_codes, check_range
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError, SpecificationError, StatisticalWarning, warn
from ._aalen_johansen import aalen_johansen, log_limits
from ._columns import read_spells
from ._curves import check_horizons
from ._gray import gray_test

#: label of the state "no event yet" (R calls it "(s0)")
EVENT_FREE = "event_free"
FIRST_COLUMNS = ("n_risk", "n_event", "n_censor")


class CumulativeIncidenceResult(Result):
    """Fitted Aalen–Johansen cumulative incidence curves, one per cause and group.

    ``tidy()`` has one row per group, state and distinct time: ``n_risk`` (still event-free
    and followed at t), ``n_event`` (events of that cause at t; all causes for the event-free
    state), ``n_censor``, the ``estimate`` (cumulative incidence of the cause, or the
    probability of being event-free for ``state == "event_free"``), its infinitesimal-jackknife
    ``std_error`` and log-transformed ``conf_low``/``conf_high`` (R's ``survfit`` defaults).
    """

    count_columns = ("n_risk", "n_event", "n_censor")
    #: the state label of "no event yet" (plots take it from here)
    event_free_state = EVENT_FREE

    def __init__(self, *, estimator, table, n_obs, cause_tables, labels, states, codes,
                 time_unit=None, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.groups = tuple(labels)
        self.states = tuple(states)
        self.cause_codes = tuple(codes)
        self.conf_level = estimator.conf_level
        self.time_unit = time_unit
        self._cause_tables = tuple(cause_tables)
        self._freeze()

    def at(self, times: float | Sequence[float]) -> pd.DataFrame:
        """Cumulative incidence at chosen horizons (R's ``summary(fit, times=, extend=TRUE)``).

        The estimate is the curve at the last distinct time at or before each horizon;
        ``n_risk`` is the risk set of the first distinct time at or after the horizon (as R);
        ``n_event`` counts events of the state's cause in the interval since the previous
        horizon.
        """
        horizons = check_horizons(times)
        parts = []
        for label, tab in zip(self.groups, self._cause_tables, strict=True):
            pos = np.searchsorted(tab.time, horizons, side="right") - 1
            before = pos < 0
            safe = np.maximum(pos, 0)
            n_risk = tab.risk_at(horizons)
            cum_events = np.vstack([np.zeros((1, tab.events.shape[1])),
                                    np.cumsum(tab.events, axis=0)])[pos + 1]
            rows = self._table[self._table["group"] == label]
            for state in (EVENT_FREE, *self.states):
                curve = rows[rows["state"] == state]
                free = state == EVENT_FREE
                ev = cum_events.sum(axis=1) if free else cum_events[:, self.states.index(state)]
                parts.append(pd.DataFrame({
                    "group": label, "state": state, "time": horizons,
                    "n_risk": np.rint(n_risk).astype(np.int64),
                    "n_event": np.diff(np.concatenate([[0.0], ev])).astype(np.int64),
                    "term": state,
                    "estimate": np.where(before, 1.0 if free else 0.0,
                                         curve["estimate"].to_numpy()[safe]),
                    "std_error": np.where(before, 0.0, curve["std_error"].to_numpy()[safe]),
                }))
        frame = pd.concat(parts, ignore_index=True)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        lo, hi = log_limits(frame["estimate"].to_numpy(), frame["std_error"].to_numpy(), z)
        frame["conf_low"], frame["conf_high"] = lo, hi
        return tidy_frame(frame, extra_first=("n_risk", "n_event"))

    def restricted_mean(self, tau: float) -> pd.DataFrame:
        """Expected time spent in each state up to ``tau`` (R's ``summary(fit, rmean=tau)``).

        For a cause, the time already spent after leaving by that route: e.g. days in work
        (counted from the job start) within the first ``tau`` days. No standard errors.
        """
        tau = check_range("tau", tau, 0, np.inf)
        rows = []
        for label in self.groups:
            for state in (EVENT_FREE, *self.states):
                part = self._table[(self._table["group"] == label)
                                   & (self._table["state"] == state)]
                t = part["time"].to_numpy()
                p = part["estimate"].to_numpy()
                inside = t <= tau
                knots = np.concatenate([[0.0], t[inside], [tau]])
                levels = np.concatenate([[1.0 if state == EVENT_FREE else 0.0], p[inside]])
                rows.append({"group": label, "state": state, "term": state, "tau": tau,
                             "estimate": float((levels * np.diff(knots)).sum())})
        return tidy_frame(rows, extra_first=("group", "state"))

    def gray_test(self, rho: float = 0.0) -> pd.DataFrame:
        """Gray's test of equal cumulative incidence across groups, one row per cause.

        Matches ``cmprsk::cuminc(time, status, group=)$Tests`` (``rho=0``, cmprsk's default;
        ``rho`` > 0 weights early differences by (1 − F(t−))^rho).
        """
        if len(self.groups) < 2:
            raise DataError("Gray's test compares groups; the fit has one (pass group=)")
        if self.estimator.entry is not None:
            raise SpecificationError(
                "Gray's test is not available with delayed entry (cmprsk's cuminc has no "
                "entry times either); compare the groups with FineGray or Cox by cause")
        rows = []
        for k, state in enumerate(self.states):
            test = gray_test(self._cause_tables, k, rho)
            rows.append({"state": state, "term": f"gray_test[{state}]", "statistic":
                         test["statistic"], "df": test["df"], "p_value": test["p_value"]})
        return tidy_frame(rows, extra_first=("state",))

    # -- the common interface ----------------------------------------------------------------
    def by_group(self) -> pd.DataFrame:
        """One row per group: people, censored, and events of each cause."""
        rows = []
        for label, tab in zip(self.groups, self._cause_tables, strict=True):
            row = {"group": label, "n_obs": tab.total,
                   "n_censored": int(tab.exits.sum() - tab.events.sum())}
            for k, state in enumerate(self.states):
                row[f"n_{state}"] = int(tab.events[:, k].sum())
            rows.append(row)
        return pd.DataFrame(rows)

    def glance(self) -> pd.DataFrame:
        """One row: rows used, groups, censored, events of each cause, the interval level."""
        totals = self.by_group().drop(columns="group").sum()
        row = {"n_obs": self.n_obs, "n_groups": len(self.groups)}
        row.update({k: int(v) for k, v in totals.items() if k != "n_obs"})
        row.update(conf_level=self.conf_level,
                   delayed_entry=self.estimator.entry is not None, time_unit=self.time_unit,
                   n_warnings=len(self.warnings))
        return pd.DataFrame([row])

    def summary(self) -> Summary:
        last = self._table.groupby(["group", "state"], sort=False).tail(1)
        final = last[last["state"] != EVENT_FREE][
            ["group", "state", "time", "estimate", "conf_low", "conf_high"]
        ].rename(columns={"time": "last_time"})
        header = (
            ("duration", self.estimator.duration),
            ("event", f"{self.estimator.event} (0 = censored; causes: "
                      + ", ".join(f"{c} = {s}" for c, s in zip(self.cause_codes, self.states,
                                                               strict=True)) + ")"),
            ("groups", self.estimator.group or "(none)"),
            ("estimator", "Aalen-Johansen cumulative incidence per cause"),
            ("standard errors", "infinitesimal jackknife (as R survfit, multi-state)"),
            ("confidence intervals", f"{self.conf_level:.0%} pointwise, log transform "
                                     "(R's conf.type='log')"),
        )
        tables = [("Counts", self.by_group()),
                  ("Cumulative incidence at the last time", final)]
        notes = ["Cumulative incidence is the probability of leaving by that route by time t, "
                 "allowing for the other routes; 1 - Kaplan-Meier that censors the other routes "
                 "overstates it."]
        if len(self.groups) >= 2 and self.estimator.entry is None:
            tables.append(("Gray's test between groups", self.gray_test()[
                ["state", "statistic", "df", "p_value"]]))
        return Summary(title="Cumulative incidence (competing risks)", header=header,
                       tables=tuple(tables), notes=tuple(notes) + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.competing import plot_cumulative_incidence

        return plot_cumulative_incidence(self, ax=ax, **style)


def _cause_codes(event: pd.Series, col: str, causes) -> tuple[np.ndarray, list, list[str]]:
    """Map the event column (its rows, or the codes of counted cells) to 0 (censored) / 1..K
    and return (codes, cause values, labels)."""
    values = cause_codes(event.to_frame(col), col)
    present = sorted(v for v in pd.unique(values).tolist() if v != 0)
    if causes is None:
        odd = [v for v in present if v < 0 or v != int(v)]
        if odd:
            raise DataError(
                f"column {col!r} (the event) has codes {odd[:5]} that are not whole numbers "
                f">= 0; codes seen: {[0, *present][:8]}. Code censored rows 0 and each route "
                "1, 2, ..., or list the codes to use in causes= (e.g. causes={1: 'job', "
                "2: 'discharged'})")
        wanted = present
        labels = [str(_plain(v)) for v in wanted]
    else:
        if isinstance(causes, Mapping):
            wanted, labels = list(causes), [str(v) for v in causes.values()]
        else:
            wanted = list(causes)
            labels = [str(v) for v in wanted]
        if len(set(labels)) != len(labels) or EVENT_FREE in labels:
            raise SpecificationError(f"cause labels must be distinct and not {EVENT_FREE!r}")
        unknown = [v for v in present if v not in wanted]
        if unknown:
            raise DataError(
                f"column {col!r} has event codes {unknown} that are not in causes={causes!r}; "
                "list every cause (a competing event cannot be dropped silently)"
            )
    if not wanted:
        raise DataError(f"column {col!r} has no events (every row is 0 = censored)")
    codes = np.zeros(values.size, dtype=np.int64)
    for i, v in enumerate(wanted):
        codes[values == v] = i + 1
    return codes, [_plain(v) for v in wanted], labels


class CumulativeIncidence(Estimator):
    """Aalen–Johansen cumulative incidence of competing events (e.g. job vs discharge).

    Parameters
    ----------
    duration : str
        Column with the time from start to the first event or censoring (e.g. days); time
        spans (timedelta) are read as days.
    event : str
        Column with a numeric code per cause: 0 = censored (still on the caseload at the end of
        follow-up), 1, 2, ... = the route of leaving (e.g. 1 = job start, 2 = discharged
        without a job), as :func:`causalips.durations_from_dates` writes in ``event_type``.
    group : str, optional
        Column with groups to estimate separately (trial arm, site).
    conf_level : float
        Level of the pointwise intervals (default 0.95).
    causes : sequence or dict, optional
        The event codes (all non-zero codes by default), or a dict code -> label, e.g.
        ``{1: "job", 2: "discharged"}``. Every non-zero code in the data must be listed.
    entry : str, optional
        Column with the time each person entered observation (delayed entry), in the unit of
        ``duration``: a person is at risk on (entry, duration], as R's
        ``Surv(entry, time, factor(status))`` with one row per id.

    Returns
    -------
    CumulativeIncidenceResult
        From :meth:`fit`; ``at(times)``, ``gray_test()``, ``restricted_mean(tau)``,
        ``by_group()``.

    Example
    -------
    >>> import pandas as pd
    >>> import causalips as ci
    >>> df = pd.DataFrame({"days": [30, 60, 90, 120, 150, 200],
    ...                    "route": [1, 2, 1, 0, 1, 2]})
    >>> res = ci.CumulativeIncidence(duration="days", event="route",
    ...                              causes={1: "job", 2: "discharged"}).fit(df)
    >>> round(float(res.at(200).query("state == 'job'")["estimate"].iloc[0]), 3)
    0.583

    See Also
    --------
    KaplanMeier, FineGray, durations_from_dates
    """

    _param_names = ("duration", "event", "group", "conf_level", "causes", "entry")

    def __init__(self, *, duration: str, event: str, group: str | None = None,
                 conf_level: float = 0.95, causes: Sequence | Mapping | None = None,
                 entry: str | None = None):
        self.duration, self.event, self.group, self.entry = duration, event, group, entry
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        if causes is not None and not isinstance(causes, Mapping | list | tuple):
            raise SpecificationError(
                f"causes must be a list of event codes or a dict code -> label; got {causes!r}"
            )
        if causes is not None and (not list(causes) or any(v == 0 for v in causes)):
            raise SpecificationError(
                f"causes must list the non-zero event codes to report (0 means censored); "
                f"got {causes!r}"
            )
        self.causes = causes

    def fit(self, data) -> CumulativeIncidenceResult:
        """Fit the curves; ``data`` is a DataFrame or anything ``causalips.engine`` reads (a
        Parquet/CSV path, DuckDB, polars, pyarrow, Spark), counted where it lives (by group,
        entry time, time and event code)."""
        spells = read_spells(data, roles={"duration": self.duration, "event": self.event,
                                          "group": self.group, "entry": self.entry},
                             duration=self.duration, event=self.event,
                             keys={"group": self.group}, entry=self.entry, by_code=True)
        duration, entry, count = spells.duration, spells.entry, spells.rows
        codes, cause_values, labels = _cause_codes(spells.event, self.event, self.causes)
        group, group_labels = spells.key("group")
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        parts, tables, warnings = [], [], list(spells.notes)
        for g, label in enumerate(group_labels):
            sel = group == g
            tab, est = aalen_johansen(duration[sel], codes[sel], len(labels),
                                      None if entry is None else entry[sel],
                                      None if count is None else count[sel])
            tables.append(tab)
            parts += _state_rows(label, tab, est, labels, z)
            if self.group is not None:
                warnings += [f"group {label!r} has no {labels[k]!r} events"
                             for k in range(len(labels)) if tab.events[:, k].sum() == 0]
        table = tidy_frame(pd.concat(parts, ignore_index=True), extra_first=FIRST_COLUMNS)
        for msg in warnings[len(spells.notes):]:
            warn(msg, StatisticalWarning)
        return CumulativeIncidenceResult(estimator=self, table=table, n_obs=spells.n_obs,
                                         cause_tables=tables, labels=group_labels,
                                         states=labels, codes=cause_values,
                                         time_unit=spells.time_unit, warnings=warnings)


def _state_rows(label, tab, est, labels, z) -> list[pd.DataFrame]:
    """Tidy rows of one group: the event-free curve, then one cumulative incidence per cause."""
    n_risk = np.rint(tab.n_risk).astype(np.int64)
    n_censor = (tab.exits - tab.events.sum(axis=1)).astype(np.int64)
    curves = [(EVENT_FREE, est["surv"], est["var_surv"], tab.events.sum(axis=1))]
    curves += [(state, est["cif"][:, k], est["var_cif"][:, k], tab.events[:, k])
               for k, state in enumerate(labels)]
    parts = []
    for state, p, var, ev in curves:
        se = np.sqrt(var)
        lo, hi = log_limits(p, se, z)
        parts.append(pd.DataFrame({
            "group": label, "state": state, "time": tab.time, "n_risk": n_risk,
            "n_event": ev.astype(np.int64), "n_censor": n_censor, "term": state,
            "estimate": p, "std_error": se, "conf_low": lo, "conf_high": hi,
        }))
    return parts


__all__ = ["CumulativeIncidence", "CumulativeIncidenceResult", "EVENT_FREE", "gray_test"]
