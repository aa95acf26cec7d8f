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

Uncertainty is a :class:`~causalips.inference.Bootstrap` spec (``inference=``): people are
resampled within groups by multinomial counts on the table of distinct (time, event) cells, so
the replicates of a block are computed at once as arrays. Those cells are all the bootstrap
needs, so data counted in an engine (a Parquet file, Spark) give the same replicates, for the
same seed, as the same rows in pandas. ``result.with_inference(spec)`` redoes
only the bootstrap, from the counts kept in the result.
"""

from __future__ import annotations

import warnings as _w
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .._checks import check_choice, check_range
from .._progress import progress_bar
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError, StatisticalWarning
from ..inference import Bootstrap
from ._cap_math import cap_quantities, curves_many
from ._cap_plan import (
    _UNSET,
    DEFAULT_INFERENCE,
    check_caps,
    check_codes,
    end_codes,
    inference_spec,
)
from ._columns import read_spells

KINDS = ("job_search", "in_work")
CAP_UNITS = {"duration": 1.0, "days": 1.0, "weeks": 7.0, "months": 365.25 / 12.0,
             "hours": 1.0}
TERMS = {
    "job_search": ("people_discharged", "job_starts_lost", "share_of_jobs_lost",
                   "caseload_time_freed", "share_of_caseload_time_freed",
                   "time_freed_per_job_lost"),
    "in_work": ("people_cut_short", "support_time_freed", "share_of_support_time_freed"),
}


@dataclass(frozen=True)
class _Counts:
    """What the what-if needs from the data: per group, counts on the (time x end) grid."""

    time: np.ndarray  # distinct durations
    counts: tuple[np.ndarray, ...]  # per group: (3T,) censored / cause / competing per time
    labels: tuple
    caps: np.ndarray
    cap_labels: tuple[str, ...]
    tau: float


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

    def __init__(self, *, estimator, table, n_obs, counts: _Counts, time_unit, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.kind = estimator.kind
        self.tau = counts.tau
        self.caps = tuple(float(c) for c in counts.caps)
        self.groups = tuple(counts.labels)
        self.conf_level = estimator.conf_level
        self.inference = estimator.inference
        self.time_unit = time_unit
        self._counts = counts
        self._freeze()

    def with_inference(self, spec) -> SupportCapResult:
        """The same what-if with another bootstrap (e.g. more resamples or another seed), or
        ``None`` for estimates without intervals. The counts are kept, the data are not re-read.
        """
        params = {**self.estimator.get_params(), "inference": spec}
        estimator = type(self.estimator)(**params)
        return SupportCapResult(estimator=estimator, table=_what_if_table(estimator, self._counts),
                                n_obs=self.n_obs, counts=self._counts,
                                time_unit=self.time_unit, warnings=self.warnings)

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
        spec = self.inference
        return pd.DataFrame([{
            "n_obs": self.n_obs, "kind": self.kind, "horizon": self.tau,
            "n_caps": len(self.caps), "n_groups": len(self.groups),
            "inference": "none" if spec is None else spec.describe(),
            "reps": 0 if spec is None else spec.reps,
            "seed": None if spec is None else spec.seed,
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
            ("uncertainty", "none (inference=None: estimates only)" if self.inference is None
             else f"{self.inference.reps} bootstrap resamples of people within groups (seed "
                  f"{self.inference.seed}), {self.conf_level:.0%} percentile intervals"),
        )
        if est.cause is None:
            method = ("Kaplan-Meier based: people who left follow-up for other reasons are "
                      "treated as censored (independent censoring).")
        else:
            others = ("every other non-zero code" if est.competing is None
                      else f"codes {list(est.competing)}")
            method = (f"Competing ends: job starts (code {est.cause!r}) by the Aalen-Johansen "
                      f"cumulative incidence; {others} (e.g. discharge without a job) end the "
                      "search anyway, so their later days are not counted as freed; "
                      "0 = censored (independent censoring).")
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
        Time spans (timedelta) are read as days.
    event : str
        Column: 1 when the event (job start; end of in-work support) was observed, 0 when the
        time is censored. With ``cause=``, a code per way of leaving instead (see ``cause``).
    cap : float or sequence of float
        Cap(s) on the length of support, in ``cap_unit``. IPS-LITE's job-search cap was 9 months
        (``cap=[9], cap_unit="months"`` on durations in days).
    group : str, optional
        Column with groups (e.g. teams or arms) to estimate separately.
    inference : Bootstrap or None
        How the intervals are computed: ``Bootstrap(reps=2000, seed=None)`` by default
        (people resampled within groups; percentile intervals). ``None`` gives estimates
        without intervals. ``reps=`` and ``seed=`` are deprecated aliases that build the spec.
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
        With competing ends (e.g. discharged without a job): ``event`` then holds a whole-number
        code per route (0 censored, as ``durations_from_dates(..., end_is_competing=True)``
        writes in ``event_type``) and ``cause`` is the code of the job start. Job starts lost
        are then the Aalen–Johansen cumulative incidence of jobs between the cap and the
        horizon, and the time still searching is the time before any end (job or discharge),
        so people discharged anyway do not count as freed caseload time.
    competing : sequence of int, optional
        With ``cause``: the codes of the other ends. By default every other non-zero code is
        one; when given, a code that is neither 0, ``cause`` nor listed is an error.

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
    ...                     cap_unit="months", inference=ci.Bootstrap(reps=200, seed=1)
    ...                     ).fit(spells)
    >>> res.wide()[["cap_label", "job_starts_lost"]].shape
    (3, 2)

    See Also
    --------
    RMST, KaplanMeier, CumulativeIncidence
    """

    _param_names = ("duration", "event", "cap", "group", "inference", "kind", "cap_unit",
                    "horizon", "conf_level", "cause", "competing")

    def __init__(self, *, duration: str, event: str, cap: float | Sequence[float],
                 group: str | None = None, inference: Bootstrap | None = DEFAULT_INFERENCE,
                 kind: Literal["job_search", "in_work"] = "job_search",
                 cap_unit: Literal["duration", "days", "weeks", "months", "hours"] = "duration",
                 horizon: float | None = None, conf_level: float = 0.95, cause=None,
                 competing: Sequence | None = None, reps=_UNSET, seed=_UNSET):
        self.duration, self.event, self.group = duration, event, group
        self.cause, self.competing = check_codes(cause, competing)
        self.cap = check_caps(cap)
        self.inference = inference_spec(inference, reps, seed)
        self.kind = check_choice("kind", kind, KINDS)
        self.cap_unit = check_choice("cap_unit", cap_unit, tuple(CAP_UNITS))
        #: the unit of the freed time: hours of support for hour caps, else the duration's unit
        self.time_unit = "hours" if cap_unit == "hours" else (
            "days" if cap_unit in ("days", "weeks", "months") else f"units of {duration!r}")
        self.horizon = None if horizon is None else check_range("horizon", horizon, 0, np.inf)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)

    @property
    def reps(self) -> int:
        """Deprecated: the number of bootstrap resamples (``inference.reps``; 0 without)."""
        _w.warn("SupportCap.reps is replaced by SupportCap.inference (a Bootstrap spec)",
                FutureWarning, stacklevel=2)
        return 0 if self.inference is None else self.inference.reps

    @property
    def seed(self) -> int | None:
        """Deprecated: the bootstrap seed (``inference.seed``)."""
        _w.warn("SupportCap.seed is replaced by SupportCap.inference (a Bootstrap spec)",
                FutureWarning, stacklevel=2)
        return None if self.inference is None else self.inference.seed

    def _caps(self) -> tuple[np.ndarray, tuple[str, ...]]:
        values = np.atleast_1d(np.asarray(self.cap, dtype=np.float64))
        unit = {"duration": "", "days": " days", "weeks": " weeks", "months": " months",
                "hours": " hours"}[self.cap_unit]
        return values * CAP_UNITS[self.cap_unit], tuple(f"{v:g}{unit}" for v in values)

    def fit(self, data) -> SupportCapResult:
        """The what-if; ``data`` is a DataFrame or anything ``causalips.engine`` reads (a
        Parquet/CSV path, DuckDB, polars, pyarrow, Spark), counted where it lives (by group,
        time and event code). The bootstrap resamples those counts either way."""
        spells = read_spells(data, roles={"duration": self.duration, "event": self.event,
                                          "group": self.group},
                             duration=self.duration, event=self.event,
                             keys={"group": self.group}, by_code=True)
        duration = spells.duration
        code = end_codes(spells.event.to_frame(self.event), self.event, self.cause,
                         self.competing)
        if not (code > 0).any():
            raise DataError(f"column {self.event!r} has no events; nothing to cap")
        codes, labels = spells.key("group")
        caps, cap_labels = self._caps()
        tau = float(duration.max()) if self.horizon is None else float(self.horizon)
        time, index = np.unique(duration, return_inverse=True)
        cells = np.bincount(codes * (3 * time.size) + index * 3 + code, weights=spells.rows,
                            minlength=len(labels) * 3 * time.size).astype(np.float64)
        counts = _Counts(time=time, counts=tuple(cells.reshape(len(labels), -1)),
                         labels=tuple(labels), caps=caps, cap_labels=cap_labels, tau=tau)
        warnings = list(spells.notes)
        if np.any(caps >= tau):
            warnings.append(f"caps at or beyond the horizon ({tau:g}) change nothing")
        for label, c in zip(labels, counts.counts, strict=True):
            n_events = int(c[1::3].sum() + c[2::3].sum())
            if n_events < 10:
                warnings.append(f"group {label!r} has {n_events} events: the what-if is very "
                                "imprecise")
        table = _what_if_table(self, counts)
        for msg in warnings[len(spells.notes):]:
            _w.warn(msg, StatisticalWarning, stacklevel=2)
        unit = "days" if spells.time_unit and self.cap_unit == "duration" else self.time_unit
        return SupportCapResult(estimator=self, table=table, n_obs=spells.n_obs, counts=counts,
                                time_unit=unit, warnings=warnings)


def _what_if_table(estimator: SupportCap, counts: _Counts) -> pd.DataFrame:
    """Point estimates and (if the plan has a Bootstrap) bootstrap SDs and percentile limits."""
    spec = estimator.inference
    rng = None if spec is None else np.random.default_rng(spec.seed)
    alpha = (1 - estimator.conf_level) / 2
    terms = TERMS[estimator.kind]
    k_caps, k_terms = np.meshgrid(np.arange(counts.caps.size), np.arange(len(terms)),
                                  indexing="ij")
    parts = []
    for label, cells in zip(counts.labels, counts.counts, strict=True):
        point = _quantities(estimator.kind, counts, cells)
        if spec is None:
            se = lo = hi = np.full(point.shape, np.nan)
        else:
            n = int(round(cells.sum()))
            block = max(1, int(4e6 // cells.size))  # replicates in blocks of bounded memory
            parts_boot = []
            with progress_bar(spec.reps, desc=f"bootstrap ({label})", unit="draw",
                              enabled=spec.progress) as bar:
                for start in range(0, spec.reps, block):  # blocks of draws, each one array
                    size = min(block, spec.reps - start)
                    drawn = rng.multinomial(n, cells / n, size=size).astype(np.float64)
                    parts_boot.append(_quantities(estimator.kind, counts, drawn))
                    bar.update(size)
            boot = np.concatenate(parts_boot)
            with np.errstate(invalid="ignore"), _w.catch_warnings():
                _w.simplefilter("ignore", RuntimeWarning)  # all-NaN ratios (no job lost)
                se = np.nanstd(boot, axis=0, ddof=1)
                lo, hi = np.nanquantile(boot, [alpha, 1 - alpha], axis=0)
        parts.append(pd.DataFrame({
            "group": label, "cap": counts.caps[k_caps.ravel()],
            "cap_label": np.asarray(counts.cap_labels)[k_caps.ravel()],
            "term": np.asarray(terms)[k_terms.ravel()], "estimate": point.ravel(),
            "std_error": se.ravel(), "conf_low": lo.ravel(), "conf_high": hi.ravel(),
            "horizon": counts.tau, "n_obs": int(round(cells.sum())),
            "reps": 0 if spec is None else spec.reps,
        }))
    return tidy_frame(pd.concat(parts, ignore_index=True), extra_first=("cap_label",))


def _quantities(kind: str, counts: _Counts, cells: np.ndarray) -> np.ndarray:
    """What-if quantities from (time x {censored, cause, competing}) cell counts (or rows of)."""
    cause = cells[..., 1::3]
    exits = cells[..., 0::3] + cause + cells[..., 2::3]
    surv, incidence = curves_many(cause + cells[..., 2::3], exits, cause)
    return cap_quantities(counts.time, surv, incidence, counts.caps, counts.tau, kind)


__all__ = ["SupportCap", "SupportCapResult", "DEFAULT_INFERENCE"]
