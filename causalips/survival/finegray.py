"""Fine–Gray subdistribution-hazard regression for one cause among competing causes.

The Fine–Gray model keeps people who left by a competing route (discharged without a job) in
the risk set for the cause of interest (a job start), with a weight that falls as the chance
of still being under observation falls. As R's ``survival::finegray`` does, we build that
weighted data explicitly: each person with a competing event gets extra (start, stop] rows over
the censoring intervals in which events of interest happen, weighted by G(t)/G(T) with G the
Kaplan–Meier curve of the censoring times. A weighted Cox model with counting-process data on
the expanded rows then gives the subdistribution hazard ratios (R:
``coxph(Surv(fgstart, fgstop, fgstatus) ~ x, weight=fgwt, data=finegray(...))``).
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from typing import Any, Literal

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
    numeric_column,
)
from ..base import Estimator, Result, Summary
from ..errors import DataError, DroppedRowsWarning, SpecificationError
from ..inference import Cluster

#: names of the columns the expansion adds (R's finegray prefix "fg")
FG_COLUMNS = ("fg_start", "fg_stop", "fg_status", "fg_weight")


def finegray_expand(duration: np.ndarray, status: np.ndarray, cause: Any) -> dict[str, np.ndarray]:
    """The Fine–Gray expanded data for right-censored competing-risks data (R's ``finegray``).

    Parameters
    ----------
    duration : array
        Time of the first event or censoring, one per person.
    status : array
        0 = censored, ``cause`` = the event of interest, any other value = a competing event.
    cause : scalar
        The code of the event of interest.

    Returns
    -------
    dict with ``row`` (index of the person each new row belongs to), ``start``, ``stop``,
    ``status`` (1 for an event of interest) and ``weight``. Rows of one person are together, in
    the input order; the first row of a person with a competing event runs to the end of the
    censoring interval holding their event time, and each extra row covers a later censoring
    interval in which an event of interest happens, weighted by G(interval)/G(own interval).
    """
    duration = np.asarray(duration, dtype=np.float64)
    status = np.asarray(status)
    n = duration.size
    censored = status == 0
    interest = status == cause
    competing = ~censored & ~interest

    # Kaplan–Meier of the censoring times; at a tie, events leave before censorings.
    c_times, c_count = np.unique(duration[censored], return_counts=True)
    order = np.sort(duration)
    n_after = n - np.searchsorted(order, c_times, side="right")  # time > c
    g = np.cumprod(1.0 - c_count / (n_after + c_count)) if c_times.size else np.zeros(0)
    cut = np.concatenate([c_times, [duration.max()]])  # interval j = (cut[j-1], cut[j]]
    prob = np.concatenate([[1.0], g])  # G just before the end of interval j
    n_cut = cut.size

    # intervals holding at least one event-of-interest time (left-open: #cut < t)
    event_times = np.unique(duration[interest])
    keep = np.zeros(n_cut, dtype=bool)
    keep[0] = True
    seen = np.searchsorted(cut, event_times, side="left")
    keep[seen[seen < n_cut]] = True
    kept = np.flatnonzero(keep[1:]) + 1  # intervals that can be added (j >= 1)

    own = np.searchsorted(cut, duration, side="left")  # first j with cut[j] >= time
    first_extra = np.searchsorted(kept, own, side="right")
    extra = np.where(competing, kept.size - first_extra, 0)
    sizes = 1 + extra
    row = np.repeat(np.arange(n), sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos = np.arange(row.size) - np.repeat(offsets, sizes)  # 0 = the original row
    zero = 0.0 if n == 0 or duration.min() > 0 else 2.0 * duration.min() - 1.0
    start = np.full(row.size, zero)
    stop = duration[row].copy()
    weight = np.ones(row.size)
    base = pos == 0
    comp_base = base & competing[row]
    stop[comp_base] = cut[own[row[comp_base]]]
    add = ~base
    j = kept[first_extra[row[add]] + pos[add] - 1]
    start[add] = cut[j - 1]
    stop[add] = cut[j]
    weight[add] = prob[j] / prob[own[row[add]]]
    return {
        "row": row,
        "start": start,
        "stop": stop,
        "status": (interest[row] & base).astype(np.int64),
        "weight": weight,
    }


def finegray_data(data: pd.DataFrame, *, duration: str, event: str, cause: Any,
                  keep: Sequence[str] | None = None) -> pd.DataFrame:
    """Expanded data for a Fine–Gray fit as a DataFrame (R's ``finegray()`` output).

    Keeps the columns ``keep`` (all by default) and adds ``fg_start``, ``fg_stop``,
    ``fg_status`` and ``fg_weight``; ``fg_row`` says which input row each new row comes from.
    """
    df = as_dataframe(data)
    check_columns(df, {"duration": duration, "event": event})
    t = numeric_column(df, duration, role="duration")
    check_nonnegative(df, t, duration, role="duration")
    status = _status(df, event, cause)
    out = finegray_expand(t, status, cause)
    cols = list(df.columns) if keep is None else list(keep)
    frame = df[cols].iloc[out["row"]].reset_index(drop=True)
    frame["fg_row"] = out["row"]
    frame["fg_start"] = out["start"]
    frame["fg_stop"] = out["stop"]
    frame["fg_status"] = out["status"]
    frame["fg_weight"] = out["weight"]
    return frame


def _status(df: pd.DataFrame, event: str, cause: Any) -> np.ndarray:
    values = cause_codes(df, event)
    if not (values == cause).any():
        seen = ", ".join(repr(v) for v in sorted(pd.unique(values).tolist())[:6])
        raise DataError(
            f"cause={cause!r} never occurs in column {event!r} (codes seen: {seen}); "
            "pass the code of the event of interest"
        )
    return values


VCOV = ("robust", "subject", "model")
_START, _STOP, _STATUS, _WEIGHT, _ROW = ("__fg_start", "__fg_stop", "__fg_status",
                                          "__fg_weight", "__fg_subject")


class FineGrayResult(Result):
    """A fitted Fine–Gray model: subdistribution hazard ratios for one cause.

    ``tidy()`` has the same columns as :class:`CoxResult` (``estimate`` is the log
    subdistribution hazard ratio; ``hazard_ratio``, ``hr_conf_low``, ``hr_conf_high`` are the
    subdistribution hazard ratio and its CI; ``std_error_model`` the model-based SE).
    ``cox_result`` is the weighted Cox fit on the expanded data.
    """

    def __init__(self, *, estimator, cox_result, n_obs, n_rows, counts, warnings=()):
        super().__init__(estimator=estimator, table=cox_result.tidy(), n_obs=n_obs,
                         warnings=warnings)
        self.cox_result = cox_result
        self.coef = cox_result.coef
        self.vcov = cox_result.vcov
        self.vcov_model = cox_result.vcov_model
        self.n_rows = int(n_rows)
        self.counts = dict(counts)
        self._freeze()

    def glance(self) -> pd.DataFrame:
        g = self.cox_result.glance().iloc[0].to_dict()
        keep = ("n_events", "loglik_null", "loglik", "wald_stat", "wald_p", "converged",
                "iterations", "vcov", "n_clusters", "concordance", "concordance_se")
        row = {"n_obs": self.n_obs, "n_expanded_rows": self.n_rows,
               "cause": str(self.estimator.cause), **self.counts}
        row.update({k: g[k] for k in keep if k in g})
        vcov = self.estimator.vcov
        row["vcov"] = vcov if isinstance(vcov, str) else f"cluster:{vcov.cluster}"
        return pd.DataFrame([row])

    def summary(self) -> Summary:
        est = self.estimator
        vdesc = {
            "robust": "robust sandwich with each expanded row its own cluster (R's default for "
                      "finegray + weighted coxph)",
            "subject": "robust sandwich clustered on the person (R's cluster=id)",
            "model": "model-based (inverse weighted information)",
        }.get(est.vcov if isinstance(est.vcov, str) else "",
              f"cluster-robust by {getattr(est.vcov, 'column', '')!r}")
        header = (
            ("duration", est.duration),
            ("event", f"{est.event}: cause of interest {est.cause!r}, other non-zero codes "
                      "competing, 0 censored"),
            ("model", "Fine-Gray subdistribution hazards: R's finegray() expansion + weighted "
                      "Cox model on (start, stop] rows"),
            ("ties", est.ties),
            ("variance", vdesc + "; it does not include the variance from estimating the "
                                 "censoring weights (cmprsk::crr's does)"),
            ("n", f"{self.n_obs} people, {self.n_rows} expanded rows, "
                  f"{self.counts['n_events']} events of interest, "
                  f"{self.counts['n_competing']} competing events"),
        )
        cols = ["term", "hazard_ratio", "hr_conf_low", "hr_conf_high", "estimate", "std_error",
                "statistic", "p_value"]
        table = self._table[cols].rename(columns={
            "hazard_ratio": "subdistribution_hazard_ratio", "hr_conf_low": "shr_conf_low",
            "hr_conf_high": "shr_conf_high"})
        notes = (
            "A subdistribution hazard ratio describes how a covariate shifts the cumulative "
            "incidence of this cause (e.g. the share who get a job by t); it is not a rate "
            "among people still searching. For effects on the rate itself, fit a "
            "cause-specific Cox model (Cox with the competing event as censoring).",
        )
        return Summary(title="Fine-Gray subdistribution hazard ratios", header=header,
                       tables=(("Subdistribution hazard ratios", table),),
                       notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.cox import plot_hazard_ratios

        style.setdefault("title", "Fine-Gray: subdistribution hazard ratios "
                                  f"(cause {self.estimator.cause})")
        ax = plot_hazard_ratios(self, ax=ax, **style)
        ax.set_xlabel(f"subdistribution hazard ratio ({self.estimator.conf_level:.0%} CI, "
                      "log scale)")
        return ax


class FineGray(Estimator):
    """Fine–Gray regression of the cumulative incidence of one cause (e.g. a job start).

    Parameters
    ----------
    duration : str
        Column with the time to the first event or censoring.
    event : str
        Column with a numeric code per cause: 0 censored, ``cause`` the event of interest, any
        other value a competing event (e.g. discharged without a job).
    cause : scalar
        Code of the event of interest.
    covariates : list of str
        Terms as for :class:`Cox` (columns, factors, ``log(x)``, interactions ``a:b``).
    reference, categorical : optional
        As for :class:`Cox`: reference level per factor; numeric columns to treat as factors.
    ties : {"efron", "breslow"}
        Tie handling of the weighted Cox fit (Efron is R's default).
    vcov : {"robust", "subject", "model"} or Cluster
        "robust": sandwich with each expanded row its own cluster (what R reports by default);
        "subject": clustered on the person (R's ``cluster=id``; recommended when people
        contribute several rows); "model": inverse information; ``Cluster("team")``: clustered
        on a column of the data.
    conf_level : float
        Confidence level (default 0.95).

    Returns
    -------
    FineGrayResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_caseload
    >>> spells = ci.durations_from_dates(load_caseload(), start="first_contact",
    ...     event="job_start", end="discharge", cutoff="2024-02-27", end_is_competing=True)
    >>> res = ci.FineGray(duration="duration", event="event_type", cause=1,
    ...                   covariates=["age"]).fit(spells)
    >>> res.tidy()["term"].tolist()
    ['age']

    See Also
    --------
    CumulativeIncidence, Cox
    """

    _param_names = ("duration", "event", "cause", "covariates", "reference", "categorical",
                    "ties", "vcov", "conf_level")

    def __init__(self, *, duration: str, event: str, cause: Any, covariates: Sequence[str],
                 reference: dict | None = None, categorical: Sequence[str] = (),
                 ties: Literal["efron", "breslow"] = "efron",
                 vcov: Literal["robust", "subject", "model"] | Cluster = "robust",
                 conf_level: float = 0.95):
        from .cox import Cox

        self.duration, self.event, self.cause = duration, event, cause
        if cause is None or (isinstance(cause, int | float) and cause == 0):
            raise SpecificationError(f"cause must be a non-zero event code; got {cause!r}")
        if isinstance(covariates, str):
            covariates = [covariates]
        self.covariates = list(covariates)
        if not self.covariates:
            raise SpecificationError("covariates must name at least one term")
        self.reference = reference
        self.categorical = categorical
        self.ties = check_choice("ties", ties, ("efron", "breslow"))
        if not isinstance(vcov, Cluster):
            check_choice("vcov", vcov, VCOV + ("Cluster(column)",))
        self.vcov = vcov
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        cox_vcov = {"robust": "robust", "model": "model", "subject": Cluster(_ROW)}.get(
            vcov if isinstance(vcov, str) else "", vcov)
        # the plan of the weighted Cox fit (validates the terms and options now)
        self._cox = Cox(duration=_STOP, event=_STATUS, entry=_START, weights=_WEIGHT,
                        covariates=self.covariates, reference=reference,
                        categorical=categorical, ties=ties, vcov=cox_vcov,
                        conf_level=conf_level)

    def fit(self, data) -> FineGrayResult:
        from ._model_matrix import source_columns

        df = as_dataframe(data)
        cluster_col = self.vcov.cluster if isinstance(self.vcov, Cluster) else None
        used = list(dict.fromkeys(source_columns(self._cox._terms)))
        roles = {"duration": self.duration, "event": self.event, "cluster": cluster_col}
        roles.update({f"covariate ({c})": c for c in used})
        check_columns(df, roles)
        check_not_empty(df)
        keep = list(dict.fromkeys([*used, *([cluster_col] if cluster_col else [])]))
        warnings: list[str] = []
        missing = df[keep].isna().any(axis=1).to_numpy() if keep else np.zeros(len(df), bool)
        if missing.any():
            n_drop = int(missing.sum())
            msg = (f"{n_drop} of {len(df)} rows dropped for missing covariate values (before "
                   f"the censoring weights were computed; e.g. rows "
                   f"{df.index[missing][:3].tolist()})")
            _warnings.warn(DroppedRowsWarning(msg, n_drop), stacklevel=2)
            warnings.append(msg)
            df = df.loc[~missing]
            check_not_empty(df, what="data after dropping rows with missing covariates")
        t = numeric_column(df, self.duration, role="duration")
        check_nonnegative(df, t, self.duration, role="duration")
        status = _status(df, self.event, self.cause)
        out = finegray_expand(t, status, self.cause)
        expanded = df[keep].iloc[out["row"]].reset_index(drop=True)
        expanded[_START] = out["start"]
        expanded[_STOP] = out["stop"]
        expanded[_STATUS] = out["status"]
        expanded[_WEIGHT] = out["weight"]
        expanded[_ROW] = out["row"]
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            cox_result = self._cox.fit(expanded)
        for w in caught:
            _warnings.warn(w.message, w.category, stacklevel=2)
        warnings.extend(cox_result.warnings)
        counts = {"n_events": int((status == self.cause).sum()),
                  "n_competing": int(((status != 0) & (status != self.cause)).sum()),
                  "n_censored": int((status == 0).sum())}
        return FineGrayResult(estimator=self, cox_result=cox_result, n_obs=len(df),
                              n_rows=len(expanded), counts=counts, warnings=warnings)


__all__ = ["FineGray", "FineGrayResult", "finegray_expand", "finegray_data", "FG_COLUMNS"]
