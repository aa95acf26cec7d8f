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

import numbers
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._checks import as_dataframe, check_choice, check_columns, check_not_empty, check_range
from ..base import Estimator, Result, Summary
from ..engine import is_in_memory
from ..errors import DataError, DroppedRowsWarning, SpecificationError, warn
from ..inference import Cluster, ModelBased, Robust, check_spec
from ._cox_variance import variance_spec
from ._finegray_expansion import (
    FG_COLUMNS,
    _durations,
    _status,
    finegray_data,
    finegray_expand,
)


@dataclass(frozen=True)
class ExpandedRowRobust(Robust):
    """Fine–Gray only: the sandwich with each *expanded* row its own cluster.

    This is what R reports by default for ``coxph(..., weight=fgwt)`` on ``finegray()`` data.
    It ignores that the rows made for one person are correlated and its intervals cover about
    93% for a nominal 95% (coverage study of issue 13); ``Robust()``, each person a cluster,
    is the default. Use this one to reproduce R's numbers.
    """


_START, _STOP, _STATUS, _WEIGHT, _ROW = ("__fg_start", "__fg_stop", "__fg_status",
                                          "__fg_weight", "__fg_subject")
VARIANCE_SPECS = (ModelBased, Robust, Cluster)  # ExpandedRowRobust is a Robust
PER_PERSON = Robust()  # the default variance: each person a cluster (a frozen spec)
#: deprecated vcov strings -> (spec, what it means)
VCOV_ALIASES = {
    "robust": (ExpandedRowRobust(), "each expanded row its own cluster, R's default; the new "
                                    "default Robust() clusters on the person"),
    "subject": (Robust(), "the sandwich clustered on the person, now the default"),
    "model": (ModelBased(), "the inverse weighted information"),
}


def _cox_spec(spec):
    """The variance spec of the weighted Cox fit on the expanded rows."""
    if isinstance(spec, ExpandedRowRobust):
        return Robust()  # each row of the Cox fit's data is an expanded row
    if isinstance(spec, Robust):
        return Cluster(_ROW)  # each person of the user's data
    return spec


def _describe(spec, cox_result) -> str:
    if isinstance(spec, ExpandedRowRobust):
        return ("robust sandwich with each expanded row its own cluster (R's default for "
                "finegray + weighted coxph; it ignores that one person's rows are correlated)")
    if isinstance(spec, Robust):
        return ("robust sandwich clustered on the person (each row of your data one cluster; "
                "R's cluster=id)")
    if isinstance(spec, ModelBased):
        return "model-based (inverse weighted information)"
    return cox_result._var.description


def _quietly(fn):
    """Run ``fn`` and re-issue its warnings with the internal person column named plainly."""
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        out = fn()
    for w in caught:
        warn(_plain_names(str(w.message)), w.category,
             n_dropped=getattr(w.message, "n_dropped", None))
    return out


def _plain_names(text: str) -> str:
    return text.replace(repr(_ROW), "the person (each row of your data)")


class FineGrayResult(Result):
    """A fitted Fine–Gray model: subdistribution hazard ratios for one cause.

    ``tidy()`` has the same columns as :class:`CoxResult` (``estimate`` is the log
    subdistribution hazard ratio; ``hazard_ratio``, ``hr_conf_low``, ``hr_conf_high`` are the
    subdistribution hazard ratio and its CI; ``std_error_model`` the model-based SE).
    ``cox_result`` is the weighted Cox fit on the expanded data; ``vcov_matrix()`` the variance
    of the coefficients; ``with_inference(spec)`` the same fit with another variance.
    """

    def __init__(self, *, estimator, cox_result, n_obs, n_rows, counts, spec, warnings=(),
                 time_unit=None):
        own = tuple(warnings)
        super().__init__(estimator=estimator, table=cox_result.tidy(), n_obs=n_obs,
                         warnings=(*own, *(_plain_names(w) for w in cox_result.warnings)))
        self._own_warnings = own
        self.cox_result = cox_result
        self.coef = cox_result.coef
        self.vcov_model = cox_result.vcov_model
        self.inference = spec
        self.n_rows = int(n_rows)
        self.counts = dict(counts)
        self.time_unit = time_unit
        self._freeze()

    def vcov_matrix(self) -> pd.DataFrame:
        """The variance–covariance matrix of the coefficients used for the tests (by term)."""
        return self.cox_result.vcov_matrix()

    @property
    def vcov(self) -> pd.DataFrame:
        """Deprecated: use :meth:`vcov_matrix`."""
        warn("FineGrayResult.vcov is deprecated; use .vcov_matrix() (it will be removed in the "
             "next release)", FutureWarning)
        return self.vcov_matrix()

    def with_inference(self, spec) -> FineGrayResult:
        """The same fit with another variance: ``Robust()`` (per person), ``ModelBased()``,
        ``ExpandedRowRobust()`` (R's default) or ``Cluster(col)`` (the fit's cluster column)."""
        check_spec(spec, VARIANCE_SPECS, where="FineGray", argument="vcov")
        cox = _quietly(lambda: self.cox_result.with_inference(_cox_spec(spec)))
        return FineGrayResult(estimator=self.estimator, cox_result=cox, n_obs=self.n_obs,
                              n_rows=self.n_rows, counts=self.counts, spec=spec,
                              warnings=self._own_warnings, time_unit=self.time_unit)

    def glance(self) -> pd.DataFrame:
        g = self.cox_result.glance().iloc[0].to_dict()
        keep = ("n_events", "loglik_null", "loglik", "wald_stat", "wald_p", "converged",
                "iterations", "n_clusters", "correction", "concordance", "concordance_se")
        row = {"n_obs": self.n_obs, "n_expanded_rows": self.n_rows,
               "cause": str(self.estimator.cause), **self.counts}
        row.update({k: g[k] for k in keep if k in g})
        row["vcov"] = self.inference.describe()
        row["time_unit"] = self.time_unit
        return pd.DataFrame([row])

    def summary(self) -> Summary:
        est = self.estimator
        unit = f" (timedeltas converted to {self.time_unit})" if self.time_unit else ""
        header = (
            ("duration", est.duration + unit),
            ("event", f"{est.event}: cause of interest {est.cause!r}, other non-zero codes "
                      "competing, 0 censored"),
            ("model", "Fine-Gray subdistribution hazards: R's finegray() expansion + weighted "
                      "Cox model on (start, stop] rows"),
            ("ties", est.ties),
            ("variance", _describe(self.inference, self.cox_result) + "; it does not include "
             "the variance from estimating the censoring weights (cmprsk::crr's does)"),
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
        Column with the time to the first event or censoring (timedeltas become days).
    event : str
        Column with a whole-number code per route: 0 censored, ``cause`` the event of
        interest, any other code a competing event (e.g. discharged without a job).
    cause : int
        Code of the event of interest (a whole number > 0).
    covariates : list of str
        Terms as for :class:`Cox` (columns, factors, ``log(x)``, interactions ``a:b``).
    reference, categorical : optional
        As for :class:`Cox`: reference level per factor; numeric columns to treat as factors.
    ties : {"efron", "breslow"}
        Tie handling of the weighted Cox fit (Efron is R's default).
    vcov : Robust(), ModelBased(), Cluster(...) or ExpandedRowRobust()
        ``Robust()`` (default): the sandwich with each person (row of your data) one cluster;
        ``ModelBased()``: inverse information; ``Cluster("team")``: clustered on a column
        (``correction="CR1"`` for G/(G−1) and t(G−1)); ``ExpandedRowRobust()``: each expanded
        row its own cluster, R's default, which under-covers (see docs/competing_risks.md).
        The strings ``"robust"`` (= ExpandedRowRobust), ``"subject"`` (= Robust) and
        ``"model"`` are deprecated aliases.
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
                 vcov: Robust | ModelBased | Cluster = PER_PERSON,
                 conf_level: float = 0.95):
        from .cox import Cox

        self.duration, self.event, self.cause = duration, event, _check_cause(cause)
        if isinstance(covariates, str):
            covariates = [covariates]
        self.covariates = list(covariates)
        if not self.covariates:
            raise SpecificationError("covariates must name at least one term")
        self.reference = reference
        self.categorical = categorical
        self.ties = check_choice("ties", ties, ("efron", "breslow"))
        self.vcov = variance_spec(vcov, where="FineGray", aliases=VCOV_ALIASES,
                                  allowed=VARIANCE_SPECS)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        # the plan of the weighted Cox fit (validates the terms and options now)
        self._cox = Cox(duration=_STOP, event=_STATUS, entry=_START, weights=_WEIGHT,
                        covariates=self.covariates, reference=reference,
                        categorical=categorical, ties=ties, vcov=_cox_spec(self.vcov),
                        conf_level=conf_level)
        self._cox._keep_clusters = (_ROW,)  # Robust() is reachable from any fit

    def fit(self, data) -> FineGrayResult:
        from ._model_matrix import source_columns

        if not is_in_memory(data):
            raise DataError(
                "FineGray needs the Fine–Gray expansion of the data (extra (start, stop] rows "
                "for people with a competing event, weighted by the censoring curve), which "
                "runs in memory; it is not pushed into data engines. For data held by an "
                "engine: build the expanded rows first (finegray_data() on a pandas extract, "
                "or the same expansion as a query: fg_start, fg_stop, fg_status, fg_weight), "
                "then fit Cox(duration='fg_stop', entry='fg_start', event='fg_status', "
                "weights='fg_weight', vcov=Cluster('fg_row')) on them (fg_row: the person's "
                "input row, or cluster on your person id): that Cox fit runs in the engine. "
                f"Got {type(data).__name__}.")
        df = as_dataframe(data)
        cluster_col = self.vcov.cluster if isinstance(self.vcov, Cluster) else None
        used = list(dict.fromkeys(source_columns(self._cox._terms)))
        roles = {"duration": self.duration, "event": self.event, "cluster": cluster_col}
        roles.update({f"covariates[{i}]": c for i, c in enumerate(used)})
        check_columns(df, roles)
        check_not_empty(df)
        keep = list(dict.fromkeys([*used, *([cluster_col] if cluster_col else [])]))
        warnings: list[str] = []
        missing = df[keep].isna().any(axis=1).to_numpy() if keep else np.zeros(len(df), bool)
        if missing.any():
            n_drop = int(missing.sum())
            warn(f"{n_drop} of {len(df)} rows dropped for missing covariate values (before the "
                 f"censoring weights were computed; e.g. rows {df.index[missing][:3].tolist()})",
                 DroppedRowsWarning, record=warnings, n_dropped=n_drop)
            df = df.loc[~missing]
            check_not_empty(df, what="data after dropping rows with missing covariates")
        t = _durations(df, self.duration)
        status = _status(df, self.event, self.cause)
        out = finegray_expand(t, status, self.cause)
        expanded = df[keep].iloc[out["row"]].reset_index(drop=True)
        expanded[_START] = out["start"]
        expanded[_STOP] = out["stop"]
        expanded[_STATUS] = out["status"]
        expanded[_WEIGHT] = out["weight"]
        expanded[_ROW] = out["row"]
        cox_result = _quietly(lambda: self._cox.fit(expanded))
        counts = {"n_events": int((status == self.cause).sum()),
                  "n_competing": int(((status != 0) & (status != self.cause)).sum()),
                  "n_censored": int((status == 0).sum())}
        unit = "days" if pd.api.types.is_timedelta64_dtype(df[self.duration]) else None
        return FineGrayResult(estimator=self, cox_result=cox_result, n_obs=len(df),
                              n_rows=len(expanded), counts=counts, spec=self.vcov,
                              warnings=warnings, time_unit=unit)


def _check_cause(cause: Any):
    """The code of the event of interest: a whole number > 0 (event codes are numbers)."""
    whole = (isinstance(cause, numbers.Real) and not isinstance(cause, bool)
             and float(cause).is_integer())
    if not whole or cause <= 0:
        raise SpecificationError(
            f"cause must be the whole-number code (> 0) of the event of interest, e.g. cause=1; "
            f"got {cause!r}")
    return cause


__all__ = ["FineGray", "FineGrayResult", "ExpandedRowRobust", "finegray_expand",
           "finegray_data", "FG_COLUMNS"]
