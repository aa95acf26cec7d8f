"""Policy what-if: what would capping the length of support cost and free?

Services must decide how long to offer job-search support (IPS-LITE withdrew it from people
still unemployed at 9 months) and in-work support. From time-to-job (or time-on-in-work-support)
data, this estimates, per 100 people starting support, what a cap at ``c`` would cost and free.

Assumptions (stated in every summary):

* The Kaplan–Meier curve S(t) of the observed durations is what happens *without* a cap (people
  who left for other reasons are treated as censored: independent censoring).
* Job search (``kind="job_search"``): under a cap at c, everyone still searching at c is
  discharged and finds no job through the service, so every job start after c (up to the horizon
  tau) is lost: 100·(S(c) − S(tau)) job starts. While searching a person is on the caseload, so the
  caseload days freed are 100·∫_c^tau S(t) dt, the difference of restricted means RMST(tau) −
  RMST(c). People discharged at the cap: 100·S(c). This is an upper bound on the jobs lost: some
  people would find work without the service (IPS-LITE found no clear loss of jobs).
* With competing ends (``cause=``: the event column holds 0 censored, the job-start code, or
  another code such as discharge without a job), S is the share still searching (no end of any
  kind) and the job starts lost are F(tau) − F(c) with F the Aalen–Johansen cumulative
  incidence of job starts: people who would have been discharged anyway free no extra days.
* In-work support (``kind="in_work"``): the duration is the length of in-work support; a cap at c
  ends it for the 100·S(c) people still supported at c and frees 100·∫_c^tau S(t) dt support days.
  Effects on job retention are not in these data and are not estimated.

Bootstrap CIs resample people (within groups) by multinomial counts on the table of distinct
(time, event) cells, so all replicates are computed at once as arrays.
"""

from __future__ import annotations

import warnings as _w
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._checks import (
    as_dataframe,
    cause_codes,
    check_choice,
    check_columns,
    check_nonnegative,
    check_not_empty,
    check_range,
    event_indicator,
    group_codes,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError, SpecificationError, StatisticalWarning

KINDS = ("job_search", "in_work")
CAP_UNITS = {"duration": 1.0, "days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0,
             "hours": 1.0}
TERMS = {
    "job_search": ("people_discharged", "job_starts_lost", "share_of_jobs_lost",
                   "caseload_time_freed", "share_of_caseload_time_freed",
                   "time_freed_per_job_lost"),
    "in_work": ("people_cut_short", "support_time_freed", "share_of_support_time_freed"),
}
PER = 100.0


def _curves_many(events: np.ndarray, exits: np.ndarray, cause_events: np.ndarray):
    """Event-free curve S (Kaplan–Meier of any event) and the cumulative incidence F of the
    cause (Aalen–Johansen) after each grid time, for many count tables at once (rows).

    ``events`` counts events of any kind, ``cause_events`` those of the cause of interest
    (the same array when there are no competing events, so F = 1 − S). Where nobody is at risk
    the curves stay flat (R's convention beyond the last time).
    """
    n_risk = np.cumsum(exits[..., ::-1], axis=-1)[..., ::-1]
    live = n_risk > 0
    safe = np.where(live, n_risk, 1.0)
    surv = np.cumprod(np.where(live, 1.0 - events / safe, 1.0), axis=-1)
    s_prev = np.concatenate([np.ones(surv.shape[:-1] + (1,)), surv[..., :-1]], axis=-1)
    incidence = np.cumsum(np.where(live, s_prev * cause_events / safe, 0.0), axis=-1)
    return surv, incidence


def _cap_quantities(time: np.ndarray, surv: np.ndarray, incidence: np.ndarray,
                    caps: np.ndarray, tau: float, kind: str) -> np.ndarray:
    """The what-if quantities for each cap: array [..., n_caps, n_terms].

    ``surv`` (still searching / supported) and ``incidence`` (cumulative share with a job
    start) are [..., T] on the grid ``time``, right-continuous, 1 and 0 before time[0].
    """
    lead = surv.shape[:-1]
    s_full = np.concatenate([np.ones(lead + (1,)), surv], axis=-1)  # S on [t_{j-1}, t_j)
    knots = np.concatenate([[0.0], time])
    widths = np.diff(knots)
    area = np.concatenate([np.zeros(lead + (1,)), np.cumsum(s_full[..., :-1] * widths, axis=-1)],
                          axis=-1)  # ∫_0^{knot_j} S

    def at(x):
        x = np.asarray(x, dtype=np.float64)
        k = np.searchsorted(knots, x, side="right") - 1  # last knot <= x
        s = s_full[..., k]
        a = area[..., k] + s * (x - knots[k])
        return s, a

    c = np.minimum(caps, tau)
    s_c, a_c = at(c)
    s_tau, a_tau = at(np.array([tau]))
    f_full = np.concatenate([np.zeros(lead + (1,)), incidence], axis=-1)
    f_c = f_full[..., np.searchsorted(knots, c, side="right") - 1]
    f_tau = f_full[..., np.searchsorted(knots, [tau], side="right") - 1]
    freed = PER * (a_tau - a_c)
    total_area = PER * a_tau
    with np.errstate(divide="ignore", invalid="ignore"):
        share_freed = np.where(total_area > 0, freed / total_area, 0.0)
        if kind == "job_search":
            lost = PER * (f_tau - f_c)
            jobs = PER * f_tau
            share_lost = np.where(jobs > 0, lost / jobs, 0.0)
            per_job = np.where(lost > 0, freed / lost, np.nan)
            parts = (PER * s_c, lost, share_lost, freed, share_freed, per_job)
        else:
            parts = (PER * s_c, freed, share_freed)
    return np.stack([np.broadcast_to(p, lead + (caps.size,)) for p in parts], axis=-1)


class SupportCapResult(Result):
    """What capping support at each length would cost and free, per 100 people.

    ``tidy()`` has one row per group, cap and quantity (``term``): for job search
    ``people_discharged``, ``job_starts_lost``, ``share_of_jobs_lost`` (of the jobs found by the
    horizon), ``caseload_time_freed``, ``share_of_caseload_time_freed`` and
    ``time_freed_per_job_lost``; for in-work support ``people_cut_short``,
    ``support_time_freed`` and ``share_of_support_time_freed``. Counts and days are per 100
    people starting support; ``std_error`` is the bootstrap SD and ``conf_low``/``conf_high`` the
    percentile interval.
    """

    def __init__(self, *, estimator, table, n_obs, tau, caps, labels, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.kind = estimator.kind
        self.tau = float(tau)
        self.caps = tuple(float(c) for c in caps)
        self.groups = tuple(labels)
        self.conf_level = estimator.conf_level
        self.time_unit = estimator.time_unit
        self._freeze()

    def wide(self) -> pd.DataFrame:
        """One row per group and cap, one column per quantity (estimates only): a policy table."""
        t = self._table
        keys = t[["group", "cap", "cap_label"]].drop_duplicates().reset_index(drop=True)
        n_terms = len(TERMS[self.kind])
        values = t["estimate"].to_numpy().reshape(len(keys), n_terms)
        frame = keys.copy()
        for k, term in enumerate(TERMS[self.kind]):
            frame[term] = values[:, k]
        return frame[["group", "cap", "cap_label", *TERMS[self.kind]]]

    def glance(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "n_obs": self.n_obs, "kind": self.kind, "horizon": self.tau,
            "n_caps": len(self.caps), "n_groups": len(self.groups),
            "reps": self.estimator.reps, "seed": self.estimator.seed,
            "cause": self.estimator.cause, "time_unit": self.time_unit,
            "conf_level": self.conf_level,
        }])

    def summary(self) -> Summary:
        est = self.estimator
        if self.kind == "job_search":
            assumptions = (
                "Under a cap at c everyone still searching at c is discharged and finds no job "
                "through the service: job starts after c (up to the horizon) are lost. This is "
                "an upper bound; some would find work without the service.",
                f"Caseload time freed ({self.time_unit}) = 100 x the area under the "
                "still-searching curve from c to the horizon (RMST(horizon) - RMST(c)).",
            )
            what = "job-search support"
        else:
            assumptions = (
                "A cap at c ends in-work support for everyone still supported at c; support "
                f"time freed ({self.time_unit}) = 100 x the area under the support-duration "
                "curve from c to the horizon. Effects on keeping the job are not estimated.",
            )
            what = "in-work support"
        header = (
            ("what", f"capping {what} (time column {est.duration!r}, event column "
                     f"{est.event!r})"),
            ("caps", ", ".join(dict.fromkeys(self._table["cap_label"]))),
            ("horizon", f"{self.tau:g} (same unit as {est.duration})"),
            ("per", "100 people starting support"),
            ("uncertainty", f"{est.reps} bootstrap resamples of people (seed {est.seed}), "
                            f"{self.conf_level:.0%} percentile intervals"),
        )
        if est.cause is None:
            method = ("Kaplan-Meier based: people who left follow-up for other reasons are "
                      "treated as censored (independent censoring).")
        else:
            method = (f"Competing ends: job starts (code {est.cause!r}) by the Aalen-Johansen "
                      "cumulative incidence; other non-zero codes (e.g. discharge without a "
                      "job) end the search anyway, so their later days are not counted as "
                      "freed; 0 = censored (independent censoring).")
        notes = assumptions + (method,)
        table = self._table[["group", "cap_label", "term", "estimate", "conf_low", "conf_high"]]
        return Summary(title=f"Capping {what}: what-if per 100 people", header=header,
                       tables=(("Estimates", table),), notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.caps import plot_support_caps

        return plot_support_caps(self, ax=ax, **style)


class SupportCap(Estimator):
    """What-if for capping the length of job-search or in-work support.

    Parameters
    ----------
    duration : str
        Column with the time from the start of support to the event or censoring: time to a
        job start (``kind="job_search"``) or length of in-work support (``kind="in_work"``).
    event : str
        Column: 1 when the event (job start; end of in-work support) was observed, 0 when the
        time is censored.
    cap : float or sequence of float
        Cap(s) on the length of support, in ``cap_unit``. IPS-LITE's job-search cap was 9 months
        (``cap=[9], cap_unit="months"`` on durations in days).
    group : str, optional
        Column with groups (e.g. teams or arms) to estimate separately.
    reps : int
        Bootstrap resamples (default 2000); 0 for estimates without intervals.
    seed : int, optional
        Seed of the bootstrap (numpy Generator): same seed, same intervals.
    kind : {"job_search", "in_work"}
        Which support is capped (see the module notes for what each estimates).
    cap_unit : {"duration", "days", "weeks", "months", "hours"}
        Unit of ``cap``: "duration" means the unit of the duration column; "weeks" and
        "months" (365.25/12 days) assume durations in days. "hours" is for placement budgets:
        ``duration`` must then hold the hours of support used until the job start (or
        censoring), e.g. ``cap=[25, 40, 55], cap_unit="hours"``, and the time freed is in
        hours of support.
    horizon : float, optional
        End of the period the cap is evaluated over (default: the largest observed duration).
    conf_level : float
        Level of the percentile intervals (default 0.95).
    cause : int, optional
        With competing ends (e.g. discharged without a job): ``event`` then holds a code per
        route (0 censored, as ``durations_from_dates(..., end_is_competing=True)`` writes in
        ``event_type``) and ``cause`` is the code of the job start. Job starts lost are then
        the Aalen–Johansen cumulative incidence of jobs between the cap and the horizon, and
        the time still searching is the time before any end (job or discharge), so people
        discharged anyway do not count as freed caseload time.

    Returns
    -------
    SupportCapResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_caseload
    >>> spells = ci.durations_from_dates(load_caseload(), start="first_contact",
    ...     event="job_start", end="discharge", cutoff="2024-02-27")
    >>> res = ci.SupportCap(duration="duration", event="event", cap=[6, 9, 12],
    ...                     cap_unit="months", reps=200, seed=1).fit(spells)
    >>> res.wide()[["cap_label", "job_starts_lost"]].shape
    (3, 2)

    See Also
    --------
    RMST, KaplanMeier, CumulativeIncidence
    """

    _param_names = ("duration", "event", "cap", "group", "reps", "seed", "kind", "cap_unit",
                    "horizon", "conf_level", "cause")

    def __init__(self, *, duration: str, event: str, cap: float | Sequence[float],
                 group: str | None = None, reps: int = 2000, seed: int | None = None,
                 kind: Literal["job_search", "in_work"] = "job_search",
                 cap_unit: Literal["duration", "days", "weeks", "months", "hours"] = "duration",
                 horizon: float | None = None, conf_level: float = 0.95, cause=None):
        self.duration, self.event, self.group = duration, event, group
        if cause is not None and (isinstance(cause, bool) or not isinstance(
                cause, int | float | np.integer | np.floating) or cause == 0):
            raise SpecificationError(f"cause must be a non-zero event code; got {cause!r}")
        self.cause = cause
        caps = np.atleast_1d(np.asarray(cap, dtype=object))
        try:
            values = caps.astype(np.float64)
        except (TypeError, ValueError):
            raise SpecificationError(f"cap must be a number or a list of numbers; got {cap!r}"
                                     ) from None
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise SpecificationError(f"cap must be non-negative numbers; got {cap!r}")
        if np.unique(values).size != values.size:
            raise SpecificationError(f"cap lists the same value twice; got {cap!r}")
        self.cap = cap
        if not isinstance(reps, int | np.integer) or isinstance(reps, bool) or reps < 0:
            raise SpecificationError(f"reps must be a non-negative integer; got {reps!r}")
        self.reps = int(reps)
        self.seed = seed
        self.kind = check_choice("kind", kind, KINDS)
        self.cap_unit = check_choice("cap_unit", cap_unit, tuple(CAP_UNITS))
        #: the unit of the freed time: hours of support for hour caps, else the duration's unit
        self.time_unit = "hours" if cap_unit == "hours" else (
            "days" if cap_unit in ("days", "weeks", "months") else f"units of {duration!r}")
        self.horizon = None if horizon is None else check_range("horizon", horizon, 0, np.inf)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)

    def _caps(self) -> tuple[np.ndarray, list[str]]:
        values = np.atleast_1d(np.asarray(self.cap, dtype=np.float64))
        factor = CAP_UNITS[self.cap_unit]
        unit = {"duration": "", "days": " days", "weeks": " weeks", "months": " months",
                "hours": " hours"}
        labels = [f"{v:g}{unit[self.cap_unit]}" for v in values]
        return values * factor, labels

    def _codes(self, df: pd.DataFrame) -> np.ndarray:
        """0 censored, 1 the event (job start / end of support), 2 a competing end."""
        if self.cause is None:
            return event_indicator(df, self.event).astype(np.int64)
        values = cause_codes(df, self.event)
        return np.where(values == 0, 0, np.where(values == self.cause, 1, 2)).astype(np.int64)

    def _quantities(self, time, counts, caps, tau):
        """Curves and what-if quantities from (time x {censored, cause, competing}) counts."""
        cause = counts[..., 1::3]
        exits = counts[..., 0::3] + cause + counts[..., 2::3]
        surv, incidence = _curves_many(cause + counts[..., 2::3], exits, cause)
        return _cap_quantities(time, surv, incidence, caps, tau, self.kind)

    def fit(self, data) -> SupportCapResult:
        df = as_dataframe(data)
        check_columns(df, {"duration": self.duration, "event": self.event, "group": self.group})
        check_not_empty(df)
        duration = numeric_column(df, self.duration, role="duration")
        check_nonnegative(df, duration, self.duration, role="duration")
        code = self._codes(df)
        event = code > 0
        codes, labels = group_codes(df, self.group)
        caps, cap_labels = self._caps()
        tau = float(duration.max()) if self.horizon is None else float(self.horizon)
        warnings = []
        if np.any(caps >= tau):
            warnings.append(f"caps at or beyond the horizon ({tau:g}) change nothing")
        if not event.any():
            raise DataError(f"column {self.event!r} has no events; nothing to cap")
        rng = np.random.default_rng(self.seed)
        time, index = np.unique(duration, return_inverse=True)
        t_count = time.size
        z_lo, z_hi = (1 - self.conf_level) / 2, 1 - (1 - self.conf_level) / 2
        terms = TERMS[self.kind]
        parts = []
        for g, label in enumerate(labels):
            sel = codes == g
            cell = index[sel] * 3 + code[sel]  # (time, censored / cause / competing)
            counts = np.bincount(cell, minlength=3 * t_count).astype(np.float64)
            n = int(sel.sum())
            point = self._quantities(time, counts, caps, tau)
            events = counts[1::3] + counts[2::3]
            if self.reps > 0:
                # replicates in blocks of bounded memory (~4e6 cells); arrays within a block
                block = max(1, int(4e6 // counts.size))
                boot = np.concatenate([
                    self._quantities(time, rng.multinomial(
                        n, counts / n, size=min(block, self.reps - start)).astype(np.float64),
                        caps, tau)
                    for start in range(0, self.reps, block)
                ])
                with np.errstate(invalid="ignore"), _w.catch_warnings():
                    _w.simplefilter("ignore", RuntimeWarning)  # all-NaN ratios (no job lost)
                    se = np.nanstd(boot, axis=0, ddof=1)
                    lo = np.nanquantile(boot, z_lo, axis=0)
                    hi = np.nanquantile(boot, z_hi, axis=0)
            else:
                se = lo = hi = np.full(point.shape, np.nan)
            if events.sum() < 10:
                warnings.append(f"group {label!r} has {int(events.sum())} events: the what-if "
                                "is very imprecise")
            k_caps, k_terms = np.meshgrid(np.arange(caps.size), np.arange(len(terms)),
                                          indexing="ij")
            parts.append(pd.DataFrame({
                "group": label,
                "cap": caps[k_caps.ravel()],
                "cap_label": np.asarray(cap_labels)[k_caps.ravel()],
                "term": np.asarray(terms)[k_terms.ravel()],
                "estimate": point.ravel(),
                "std_error": se.ravel(),
                "conf_low": lo.ravel(),
                "conf_high": hi.ravel(),
                "horizon": tau,
                "n_obs": n,
                "reps": self.reps,
            }))
        table = tidy_frame(pd.concat(parts, ignore_index=True),
                           extra_first=("group", "cap", "cap_label"))
        if warnings:
            for msg in warnings:
                _w.warn(msg, StatisticalWarning, stacklevel=2)
        return SupportCapResult(estimator=self, table=table, n_obs=len(df), tau=tau, caps=caps,
                                labels=labels, warnings=warnings)


__all__ = ["SupportCap", "SupportCapResult"]
