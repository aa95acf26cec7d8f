"""Competing risks: Aalen–Johansen cumulative incidence per cause and Gray's test.

People leave a caseload in more than one way: they start a job (the event of interest) or are
discharged without one (a competing event). One minus Kaplan–Meier, treating discharge as
censoring, overstates the share who get a job, because people who were discharged could not
have got one *on the programme*. The Aalen–Johansen estimator gives the cumulative incidence of
each cause: the probability of leaving by that route by time t.

Numbers match R's ``survfit`` multi-state fit (``Surv(time, factor(status))``): the estimates,
its infinitesimal-jackknife standard errors and its ``conf.type="log"`` intervals. Gray's test
between groups matches ``cmprsk::cuminc(...)$Tests``. Everything is computed from the counts at
distinct times with cumulative sums (no loop over people).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    as_dataframe,
    cause_codes,
    check_columns,
    check_nonnegative,
    check_not_empty,
    check_range,
    group_codes,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError, SpecificationError, StatisticalWarning

#: label of the state "no event yet" (R calls it "(s0)")
EVENT_FREE = "event_free"
FIRST_COLUMNS = ("group", "state", "time", "n_risk", "n_event", "n_censor")


@dataclass(frozen=True)
class _CauseTable:
    """Counts of one group at its distinct times: exits and events by cause (columns)."""

    time: np.ndarray  # (T,)
    exits: np.ndarray  # (T,) everyone leaving at t (events of any cause + censored)
    events: np.ndarray  # (T, K) events of cause k at t

    @property
    def n_risk(self) -> np.ndarray:
        return np.cumsum(self.exits[::-1])[::-1]

    @property
    def total(self) -> int:
        return int(self.exits.sum())


def _aalen_johansen(duration: np.ndarray, cause: np.ndarray, n_causes: int):
    """Aalen–Johansen estimates and infinitesimal-jackknife variances for one group.

    ``cause`` holds 0 (censored) or 1..K. Returns the count table and a dict with, at every
    distinct time, ``surv`` (event-free), ``cif`` (T, K), ``var_surv`` and ``var_cif`` (T, K).

    The influence of person i on the hazard of cause k at t_j is
    (dN_ik(t_j) - Y_i(t_j) λ_kj) / n_j. Written out, the influence on F_k(t_J) of someone who left
    at t_m <= t_J is α_i + β_i F_k(t_J), and that of anyone still at risk after t_J is the same
    for all of them; so the sum of squared influences is a few cumulative sums over the times.
    """
    time, index = np.unique(duration, return_inverse=True)
    t_count = time.size
    exits = np.bincount(index, minlength=t_count).astype(np.float64)
    key = index * (n_causes + 1) + cause
    counts = np.bincount(key, minlength=t_count * (n_causes + 1)).reshape(t_count, n_causes + 1)
    events = counts[:, 1:].astype(np.float64)
    n = np.cumsum(exits[::-1])[::-1]
    lam_k = events / n[:, None]
    lam = lam_k.sum(axis=1)
    surv = np.cumprod(1.0 - lam)
    s_prev = np.concatenate([[1.0], surv[:-1]])
    d_cif = s_prev[:, None] * lam_k
    cif = np.cumsum(d_cif, axis=0)
    full = lam >= 1.0  # everyone at risk has an event: S drops to 0 (only at the last time)
    with np.errstate(divide="ignore"):
        c = np.where(full, 0.0, 1.0 / (n * np.where(full, 1.0, 1.0 - lam)))
    a = np.cumsum(lam * c)
    a_prev = np.concatenate([[0.0], a[:-1]])
    b = np.cumsum(d_cif / n[:, None], axis=0)
    cc = np.cumsum(d_cif * a_prev[:, None], axis=0)

    # per person (vectorised): exit index m, any-event flag, cause
    m = index
    had_event = cause > 0
    beta = a[m] - np.where(had_event, c[m], 0.0)
    own = np.zeros((m.size, n_causes))
    own[had_event, cause[had_event] - 1] = 1.0
    alpha = (own * (s_prev[m] / n[m])[:, None] - b[m] + cc[m] - beta[:, None] * cif[m])

    def by_time(values):
        return np.cumsum(
            np.stack([np.bincount(m, weights=v, minlength=t_count) for v in np.atleast_2d(values)],
                     axis=1), axis=0)

    sum_b2 = by_time(beta**2)[:, 0]
    sum_a2 = by_time(alpha.T**2)
    sum_ab = by_time(alpha.T * beta)
    after = n - exits  # still at risk just after t
    var_cif = (sum_a2 + 2.0 * cif * sum_ab + cif**2 * sum_b2[:, None]
               + after[:, None] * (cc - b) ** 2)
    var_surv = surv**2 * (sum_b2 + after * a**2)
    table = _CauseTable(time=time, exits=exits, events=events)
    return table, {
        "surv": surv,
        "cif": cif,
        "var_surv": np.maximum(var_surv, 0.0),
        "var_cif": np.maximum(var_cif, 0.0),
    }


def _log_limits(p: np.ndarray, se: np.ndarray, z: float):
    """R's conf.type='log' limits on a probability: p·exp(∓z·se/p), upper capped at 1."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        width = z * se / p
        lower = p * np.exp(-width)
        upper = np.minimum(1.0, p * np.exp(width))
    bad = (p <= 0) | ~np.isfinite(width)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def gray_test(tables: Sequence[_CauseTable], cause: int, rho: float = 0.0) -> dict:
    """Gray's (1988) K-sample test of equal cumulative incidence of ``cause`` (index 0..K-1).

    Works on the groups' count tables merged on one time grid; the score and its variance are
    accumulated over the distinct times as cmprsk's ``crstm`` defines them (one stratum), with
    array operations over time and groups.
    """
    g = len(tables)
    times = np.unique(np.concatenate([t.time for t in tables]))
    t_count = times.size
    exits = np.zeros((t_count, g))
    d1 = np.zeros((t_count, g))
    d2 = np.zeros((t_count, g))
    for k, tab in enumerate(tables):
        pos = np.searchsorted(times, tab.time)
        exits[pos, k] = tab.exits
        d1[pos, k] = tab.events[:, cause]
        d2[pos, k] = tab.events.sum(axis=1) - tab.events[:, cause]
    rs_all = np.cumsum(exits[::-1], axis=0)[::-1]
    use = (d1 + d2).sum(axis=1) > 0
    rs, d1, d2 = rs_all[use], d1[use], d2[use]
    live = rs > 0
    safe_rs = np.where(live, rs, 1.0)
    td = d1 + d2
    factor = np.where(live, (safe_rs - td) / safe_rs, 1.0)
    skm = np.cumprod(factor, axis=0)
    skmm = np.vstack([np.ones((1, g)), skm[:-1]])
    f1 = np.cumsum(np.where(live, skmm * d1 / safe_rs, 0.0), axis=0)
    f1m = np.vstack([np.zeros((1, g)), f1[:-1]])
    nd1 = d1.sum(axis=1)
    skmm_safe = np.where(live, skmm, 1.0)
    h = np.where(live, rs / skmm_safe, 0.0)  # \hat h_r: risk set over left-continuous KM
    sub_risk = np.where(live, rs * (1.0 - f1m) / skmm_safe, 0.0)  # Gray's R_r
    tr = h.sum(axis=1)
    tq = sub_risk.sum(axis=1)
    f = np.cumsum(nd1 / tr)
    fm = np.concatenate([[0.0], f[:-1]])
    fb = (1.0 - fm) ** rho

    # a[t, i, j] and the running sum c[t, i, j]
    amat = -fb[:, None, None] * h[:, :, None] * h[:, None, :] / tr[:, None, None]
    diag = np.arange(g)
    amat[:, diag, diag] = fb[:, None] * h * (1.0 - h / tr[:, None])
    cmat = np.cumsum(amat * (nd1 / (tr * (1.0 - fm)))[:, None, None], axis=0)

    score = (fb[:, None] * (d1 - nd1[:, None] * sub_risk / tq[:, None])).sum(axis=0)

    # cause-of-interest part (times with nd1 > 0, groups at risk)
    on1 = (nd1 > 0)[:, None] & live
    with np.errstate(divide="ignore", invalid="ignore"):
        t4 = np.where(skm > 0, 1.0 - (1.0 - f[:, None]) / np.where(skm > 0, skm, 1.0), 1.0)
        t5 = np.where(nd1[:, None] > 1, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * skmm - 1.0),
                      1.0)
        t3 = np.where(on1, t5 * skmm * nd1[:, None] / (tr[:, None] * safe_rs), 0.0)
    t4 = np.where(on1, t4, 0.0)
    t1 = amat - t4[:, None, :] * cmat  # [t, i, k]
    v = np.einsum("tik,tjk,tk->ij", t1, t1, t3)
    v2 = np.einsum("tik,tk->ik", t1, t4 * t3)
    v3 = (t4**2 * t3).sum(axis=0)

    # other-cause part (times with events of other causes in group k, skm > 0)
    on2 = (skm > 0) & (d2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u4 = np.where(on2, (1.0 - f[:, None]) / np.where(skm > 0, skm, 1.0), 0.0)
        u5 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (safe_rs - 1.0), 1.0)
        u3 = np.where(on2, u5 * skmm**2 * d2 / safe_rs**2, 0.0)
    v3 = v3 + (u4**2 * u3).sum(axis=0)
    u1 = u4[:, None, :] * cmat
    v2 = v2 - np.einsum("tik,tk->ik", u1, u4 * u3)
    v = v + np.einsum("tik,tjk,tk->ij", u1, u1, u3)

    c_end = cmat[-1]
    v = v + (c_end * v3) @ c_end.T + c_end @ v2.T + v2 @ c_end.T
    s = score[: g - 1]
    vs = v[: g - 1, : g - 1]
    try:
        stat = float(s @ np.linalg.solve(vs, s))
    except np.linalg.LinAlgError:
        stat = float("nan")
    df = g - 1
    return {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df)),
            "score": s, "var": vs}


class CumulativeIncidenceResult(Result):
    """Fitted Aalen–Johansen cumulative incidence curves, one per cause and group.

    ``tidy()`` has one row per group, state and distinct time: ``n_risk`` (still event-free
    and followed at t), ``n_event`` (events of that cause at t; all causes for the event-free
    state), ``n_censor``, the ``estimate`` (cumulative incidence of the cause, or the
    probability of being event-free for ``state == "event_free"``), its infinitesimal-jackknife
    ``std_error`` and log-transformed ``conf_low``/``conf_high`` (R's ``survfit`` defaults).
    """

    count_columns = ("n_risk", "n_event", "n_censor")

    def __init__(self, *, estimator, table, n_obs, cause_tables, labels, states, codes,
                 warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.groups = tuple(labels)
        self.states = tuple(states)
        self.cause_codes = tuple(codes)
        self.conf_level = estimator.conf_level
        self._cause_tables = tuple(cause_tables)
        self._freeze()

    def _state_label(self, state):
        if state in self.states:
            return state
        if state in self.cause_codes:
            return self.states[self.cause_codes.index(state)]
        raise SpecificationError(
            f"cause must be one of {list(self.states)} (or codes {list(self.cause_codes)}); "
            f"got {state!r}"
        )

    def at(self, times: float | Sequence[float]) -> pd.DataFrame:
        """Cumulative incidence at chosen horizons (R's ``summary(fit, times=, extend=TRUE)``).

        The estimate is the curve at the last distinct time at or before each horizon;
        ``n_risk`` counts people still event-free and followed at the horizon; ``n_event`` counts
        events of the state's cause in the interval since the previous horizon.
        """
        horizons = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if horizons.size == 0 or not np.all(np.isfinite(horizons)) or np.any(horizons < 0):
            raise SpecificationError(f"times must be non-negative numbers; got {times!r}")
        horizons = np.sort(horizons)
        parts = []
        for label, tab in zip(self.groups, self._cause_tables, strict=True):
            pos = np.searchsorted(tab.time, horizons, side="right") - 1
            before = pos < 0
            safe = np.maximum(pos, 0)
            left = np.searchsorted(tab.time, horizons, side="left")
            gone = np.concatenate([[0.0], np.cumsum(tab.exits)])
            n_risk = tab.total - gone[left]
            cum_events = np.vstack([np.zeros((1, tab.events.shape[1])),
                                    np.cumsum(tab.events, axis=0)])[pos + 1]
            for state in (EVENT_FREE, *self.states):
                rows = self._table[(self._table["group"] == label)
                                   & (self._table["state"] == state)]
                est = rows["estimate"].to_numpy()
                se = rows["std_error"].to_numpy()
                if state == EVENT_FREE:
                    ev = cum_events.sum(axis=1)
                    start = 1.0
                else:
                    ev = cum_events[:, self.states.index(state)]
                    start = 0.0
                frame = pd.DataFrame({
                    "group": label, "state": state, "time": horizons,
                    "n_risk": n_risk.astype(np.int64),
                    "n_event": np.diff(np.concatenate([[0.0], ev])).astype(np.int64),
                    "term": state,
                    "estimate": np.where(before, start, est[safe]),
                    "std_error": np.where(before, 0.0, se[safe]),
                })
                parts.append(frame)
        frame = pd.concat(parts, ignore_index=True)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        lo, hi = _log_limits(frame["estimate"].to_numpy(), frame["std_error"].to_numpy(), z)
        frame["conf_low"], frame["conf_high"] = lo, hi
        return tidy_frame(frame, extra_first=("group", "state", "time", "n_risk", "n_event"))

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
        rows = []
        for k, state in enumerate(self.states):
            test = gray_test(self._cause_tables, k, rho)
            rows.append({"state": state, "term": f"gray_test[{state}]", "statistic":
                         test["statistic"], "df": test["df"], "p_value": test["p_value"]})
        return tidy_frame(rows, extra_first=("state",))

    # -- the common interface ----------------------------------------------------------------
    def glance(self) -> pd.DataFrame:
        rows = []
        for label, tab in zip(self.groups, self._cause_tables, strict=True):
            row = {"group": label, "n_obs": tab.total,
                   "n_censored": int(tab.exits.sum() - tab.events.sum())}
            for k, state in enumerate(self.states):
                row[f"n_{state}"] = int(tab.events[:, k].sum())
            rows.append(row)
        frame = pd.DataFrame(rows)
        frame["conf_level"] = self.conf_level
        return frame

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
        tables = [("Counts", self.glance().drop(columns="conf_level")),
                  ("Cumulative incidence at the last time", final)]
        notes = ["Cumulative incidence is the probability of leaving by that route by time t, "
                 "allowing for the other routes; 1 - Kaplan-Meier that censors the other routes "
                 "overstates it."]
        if len(self.groups) >= 2:
            tables.append(("Gray's test between groups", self.gray_test()[
                ["state", "statistic", "df", "p_value"]]))
        return Summary(title="Cumulative incidence (competing risks)", header=header,
                       tables=tuple(tables), notes=tuple(notes) + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.competing import plot_cumulative_incidence

        return plot_cumulative_incidence(self, ax=ax, **style)


def _cause_codes(df: pd.DataFrame, col: str, causes) -> tuple[np.ndarray, list, list[str]]:
    """Map the event column to 0 (censored) / 1..K and return (codes, cause values, labels)."""
    values = cause_codes(df, col)
    present = sorted(v for v in pd.unique(values).tolist() if v != 0)
    if causes is None:
        wanted = present
        labels = [str(_plain(v)) for v in wanted]
    else:
        if isinstance(causes, Mapping):
            wanted, labels = list(causes), [str(v) for v in causes.values()]
        else:
            wanted = list(causes)
            labels = [str(v) for v in wanted]
        if not wanted or any(v == 0 for v in wanted):
            raise SpecificationError(
                f"causes must list the non-zero event codes to report (0 means censored); "
                f"got {causes!r}"
            )
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
    lookup = {v: i + 1 for i, v in enumerate(wanted)}
    codes = np.zeros(values.size, dtype=np.int64)
    for v, i in lookup.items():
        codes[values == v] = i
    return codes, [_plain(v) for v in wanted], labels


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


class CumulativeIncidence(Estimator):
    """Aalen–Johansen cumulative incidence of competing events (e.g. job vs discharge).

    Parameters
    ----------
    duration : str
        Column with the time from start to the first event or censoring (e.g. days).
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

    Returns
    -------
    CumulativeIncidenceResult
        From :meth:`fit`; ``at(times)``, ``gray_test()``, ``restricted_mean(tau)``.

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

    _param_names = ("duration", "event", "group", "conf_level", "causes")

    def __init__(self, *, duration: str, event: str, group: str | None = None,
                 conf_level: float = 0.95, causes: Sequence | Mapping | None = None):
        self.duration, self.event, self.group = duration, event, group
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        if causes is not None and not isinstance(causes, Mapping | list | tuple):
            raise SpecificationError(
                f"causes must be a list of event codes or a dict code -> label; got {causes!r}"
            )
        if causes is not None:
            wanted = list(causes)
            if not wanted or any(v == 0 for v in wanted):
                raise SpecificationError(
                    f"causes must list the non-zero event codes to report (0 means censored); "
                    f"got {causes!r}"
                )
        self.causes = causes

    def fit(self, data) -> CumulativeIncidenceResult:
        df = as_dataframe(data)
        check_columns(df, {"duration": self.duration, "event": self.event, "group": self.group})
        check_not_empty(df)
        duration = numeric_column(df, self.duration, role="duration")
        check_nonnegative(df, duration, self.duration, role="duration")
        codes, cause_values, labels = _cause_codes(df, self.event, self.causes)
        n_causes = len(labels)
        group, group_labels = group_codes(df, self.group)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        parts, tables, warnings = [], [], []
        for g, label in enumerate(group_labels):
            sel = group == g
            tab, est = _aalen_johansen(duration[sel], codes[sel], n_causes)
            tables.append(tab)
            n_risk = tab.n_risk.astype(np.int64)
            n_censor = (tab.exits - tab.events.sum(axis=1)).astype(np.int64)
            curves = [(EVENT_FREE, est["surv"], est["var_surv"], tab.events.sum(axis=1))]
            curves += [(labels[k], est["cif"][:, k], est["var_cif"][:, k], tab.events[:, k])
                       for k in range(n_causes)]
            for state, p, var, ev in curves:
                se = np.sqrt(var)
                lo, hi = _log_limits(p, se, z)
                parts.append(pd.DataFrame({
                    "group": label, "state": state, "time": tab.time, "n_risk": n_risk,
                    "n_event": ev.astype(np.int64), "n_censor": n_censor, "term": state,
                    "estimate": p, "std_error": se, "conf_low": lo, "conf_high": hi,
                }))
            for k in range(n_causes):
                if self.group is not None and tab.events[:, k].sum() == 0:
                    warnings.append(f"group {label!r} has no {labels[k]!r} events")
        table = tidy_frame(pd.concat(parts, ignore_index=True), extra_first=FIRST_COLUMNS)
        if warnings:
            import warnings as _w

            for msg in warnings:
                _w.warn(msg, StatisticalWarning, stacklevel=2)
        return CumulativeIncidenceResult(estimator=self, table=table, n_obs=len(df),
                                         cause_tables=tables, labels=group_labels,
                                         states=labels, codes=cause_values, warnings=warnings)


__all__ = ["CumulativeIncidence", "CumulativeIncidenceResult", "EVENT_FREE", "gray_test"]
