"""Cox proportional-hazards regression (Efron or Breslow ties), as R's ``survival::coxph``.

Strata, case weights, (start, stop] counting-process rows, model-based, robust (Lin–Wei) and
cluster-robust variances (optionally with the CR1 small-sample correction), likelihood-ratio /
Wald / score tests, Harrell's concordance, the proportional-hazards test of R's ``cox.zph`` and
adjusted survival curves.

This module is the plan (:class:`Cox`) and the order of the work; the pieces live in private
modules: ``_model_frame`` (the columns read once), ``_model_matrix`` (terms and the design
matrix), ``_cox_math`` (risk-set sums), ``_cox_fit`` (Newton–Raphson and the fit record),
``_cox_variance`` (variances, tests, the coefficient table), ``_cox_result`` (the result),
``zph`` and ``_adjusted_curves`` (diagnostics and curves). Data held by an engine (files,
DuckDB, polars, Spark) are fitted where they live: ``_cox_engine_columns`` (the columns read
and checked as queries), ``_cox_engine_sums`` (per-time sums) and ``_cox_engine`` (the fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._checks import (
    as_dataframe,
    check_choice,
    check_columns,
    check_nonnegative,
    check_not_empty,
    check_range,
)
from ..base import Estimator
from ..engine import is_in_memory
from ..errors import DataError, EstimationError, SpecificationError
from ..inference import Cluster, ModelBased, Robust
from . import _cox_math as cm
from ._cox_fit import fit_cox
from ._cox_result import CoxResult
from ._cox_variance import variance_spec
from ._model_frame import ModelColumns, combined_codes, read_columns
from ._model_matrix import build_design, factor_columns, parse_term, source_columns

TIES = ("efron", "breslow")
MODEL_BASED = ModelBased()  # the default variance (a frozen spec, safe to share)
#: deprecated vcov strings -> (spec, what it means)
VCOV_ALIASES = {"model": (ModelBased(), "the inverse information"),
                "robust": (Robust(), "the Lin-Wei sandwich, each row its own cluster")}


class Cox(Estimator):
    """Cox proportional-hazards model of time to an event (e.g. a job start).

    Parameters
    ----------
    duration : str
        Column with the follow-up time (the end of the interval when ``entry`` is given);
        timedelta columns are converted to days (the summary says so).
    event : str
        Column with 1/True for an event, 0/False for censoring (or use ``event_value``).
    covariates : list of str
        Terms: column names (text, category and boolean columns are factors with treatment
        contrasts), ``log(x)``/``sqrt(x)``/``exp(x)`` of a numeric column, and interactions
        ``a:b``. Other transforms: precompute a column.
    reference : dict, optional
        Reference level per categorical column, e.g. ``{"budget": "55h"}``; by default the first
        level (first sorted value, or the first category of a pandas Categorical), like R.
    categorical : list of str, optional
        Numeric columns to treat as factors (R's ``factor(stage)``).
    strata : list of str, optional
        Columns defining strata with separate baseline hazards.
    ties : {"efron", "breslow"}
        Handling of tied event times; Efron is R's default.
    entry : str, optional
        Column with the start of each (start, stop] interval: delayed entry, time-varying
        covariates or Fine–Gray expanded data.
    weights : str, optional
        Column of non-negative case weights.
    vcov : ModelBased(), Robust() or Cluster(...)
        A variance spec from :mod:`causalips.inference`: the inverse information (default),
        the Lin–Wei sandwich with each row its own cluster, or clustered on a column,
        ``Cluster("person")``. Clustered SEs have no small-sample factor by default (as R);
        ``Cluster("site", correction="CR1")`` multiplies by G/(G−1) and uses a t(G−1)
        reference (better coverage with few clusters). The strings ``"model"`` and
        ``"robust"`` are deprecated aliases. ``result.with_inference(spec)`` gives another
        variance from the same fit.
    event_value : optional
        Value of ``event`` that marks an event if it is not 0/1.
    conf_level : float
        Confidence level (default 0.95).
    max_iter, tol : Newton–Raphson controls; converged when the relative change in the log
        partial likelihood is below ``tol`` (R's criterion).
    concordance : bool
        Report Harrell's C and its SE (default True). Computed on the first ``glance()`` /
        ``summary()`` and cached (O(n log n), ~1 s at 10⁶ rows); False: never (NaN).
    diagnostics : bool
        Allow :meth:`CoxResult.check_proportional_hazards`, the Schoenfeld-residual plot and
        :meth:`CoxResult.survival_curves` (default True). Their pieces are computed on first
        use and cached, so the fit itself costs the same either way; False refuses them.
    progress : bool
        A progress bar (tqdm, after ~2 s) counting the passes over data held by an engine
        (files, DuckDB, polars, Spark); False silences it. In-memory fits take no bar.

    Returns
    -------
    CoxResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_swiss_trial
    >>> res = ci.Cox(duration="months", event="employed", covariates=["budget"],
    ...              reference={"budget": "40h"}).fit(load_swiss_trial())
    >>> res.tidy()["term"].tolist()
    ['budget[25h]', 'budget[55h]']

    See Also
    --------
    KaplanMeier, LogRank

    Notes
    -----
    ``fit(data)`` takes a pandas DataFrame, or anything :func:`causalips.engine.as_table`
    reads (a Parquet/CSV path or glob, a DuckDB relation, a pyarrow Table, a polars or Spark
    DataFrame). Then the fit runs where the data live: each Newton step is one grouped
    aggregation per distinct (stratum, time) and only those sums come back; robust and
    cluster SEs take one more pass. Coefficients and SEs equal the in-memory fit's
    (docs/scale.md); concordance, Schoenfeld-residual plots and adjusted curves need the rows
    and are then unavailable.
    """

    _param_names = ("duration", "event", "covariates", "reference", "categorical", "strata",
                    "ties", "entry", "weights", "vcov", "event_value", "conf_level", "max_iter",
                    "tol", "concordance", "diagnostics", "progress")
    #: cluster columns coded and kept besides the plan's (FineGray keeps its person id here)
    _keep_clusters: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        duration: str,
        event: str,
        covariates: Sequence[str] = (),
        reference: dict | None = None,
        categorical: Sequence[str] = (),
        strata: Sequence[str] | str | None = None,
        ties: Literal["efron", "breslow"] = "efron",
        entry: str | None = None,
        weights: str | None = None,
        vcov: ModelBased | Robust | Cluster = MODEL_BASED,
        event_value=None,
        conf_level: float = 0.95,
        max_iter: int = 50,
        tol: float = 1e-9,
        concordance: bool = True,
        diagnostics: bool = True,
        progress: bool = True,
    ):
        self.duration, self.event = duration, event
        if isinstance(covariates, str):
            covariates = [covariates]
        self.covariates = list(covariates)
        self._terms = [parse_term(t) for t in self.covariates]
        if reference is not None and not isinstance(reference, dict):
            raise SpecificationError(f"reference must be a dict {{column: level}}; got {reference!r}")
        self.reference = dict(reference or {})
        used = set(source_columns(self._terms))
        unknown = [c for c in self.reference if c not in used]
        if unknown:
            raise SpecificationError(
                f"reference names {unknown}, which are not among the covariates {self.covariates}"
            )
        self.categorical = [categorical] if isinstance(categorical, str) else list(categorical)
        if isinstance(strata, str):
            strata = [strata]
        self.strata = list(strata or [])
        self.ties = check_choice("ties", ties, TIES)
        self.entry, self.weights = entry, weights
        self.vcov = variance_spec(vcov, where="Cox", aliases=VCOV_ALIASES)
        self.event_value = event_value
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        if not isinstance(max_iter, int | np.integer) or max_iter < 1:
            raise SpecificationError(f"max_iter must be a positive integer; got {max_iter!r}")
        self.max_iter = int(max_iter)
        self.tol = check_range("tol", tol, 0, 1)
        self.concordance = bool(concordance)
        self.diagnostics = bool(diagnostics)
        self.progress = bool(progress)

    # ----------------------------------------------------------------------------------------
    def fit(self, data) -> CoxResult:
        if not is_in_memory(data):
            return self._fit_in_engine(data)
        cols, factors = self._read(as_dataframe(data))
        stop, start = self._times(cols)
        event, n = cols.event, cols.n
        w = cols.weights if cols.weights is not None else np.ones(n)
        if self.strata:
            s_codes, s_labels = combined_codes([cols.codes[s] for s in self.strata])
        else:
            s_codes, s_labels = np.zeros(n, dtype=np.int64), ["all"]
        if not event.any():
            raise EstimationError(
                f"there are no events in {self.event!r} among the {n} rows used; a Cox model "
                "needs events"
            )
        rs = cm.build_risk_sets(stop, event, w, s_codes, start=start, ties=self.ties)
        # from here on rows are in the risk-set order rs.order (sorted by last block, event)
        design = build_design(cols, self._terms, factors=factors, reference=self.reference,
                              rows=rs.order)
        if not design.names:
            raise SpecificationError("covariates is empty; a Cox model needs at least one term")
        clusters = {c: _present_codes(cols.codes[c])[rs.order] for c in self._cluster_columns()}
        fit = fit_cox(rs, design, strata_rows=s_codes[rs.order] if self.strata else None,
                      strata_labels=s_labels, clusters=clusters, stop=stop, plan=self)
        return CoxResult(estimator=self, fit=fit, spec=self.vcov,
                         warnings=[*cols.warnings, *fit.warnings], time_unit=cols.time_unit)

    def _fit_in_engine(self, data) -> CoxResult:
        """The same fit from per-time sums computed where the data live (``_cox_engine``)."""
        from ._cox_engine import fit_in_engine
        from ._cox_engine_columns import read_in_engine

        model = read_in_engine(self, data)
        fit = fit_in_engine(self, model)
        return CoxResult(estimator=self, fit=fit, spec=self.vcov,
                         warnings=[*model.warnings, *fit.warnings], time_unit=model.time_unit)

    def _cluster_columns(self) -> list[str]:
        own = [self.vcov.cluster] if isinstance(self.vcov, Cluster) else []
        return list(dict.fromkeys([*own, *self._keep_clusters]))

    def _roles(self) -> dict[str, str | None]:
        """Every column of the plan by role (the messages name the role)."""
        roles = {"duration": self.duration, "event": self.event, "entry": self.entry,
                 "weights": self.weights}
        roles.update({f"cluster ({c})": c for c in self._cluster_columns()})
        roles.update({f"strata ({s})": s for s in self.strata})
        roles.update({f"covariates[{i}]": c
                      for i, c in enumerate(source_columns(self._terms))})
        roles.update({f"categorical ({c})": c for c in self.categorical})
        return roles

    def _read(self, df: pd.DataFrame) -> tuple[ModelColumns, set[str]]:
        """Every column of the plan, read once (incomplete and zero-weight rows dropped), and
        the covariates that are factors."""
        roles = self._roles()
        check_columns(df, roles)
        check_not_empty(df)
        by_column = {}
        for role, col in roles.items():
            if col is not None:
                by_column.setdefault(col, role.split(" (")[0])
        factors = factor_columns(df, self._terms, self.categorical, self.reference)
        numeric = {p.column for t in self._terms for p in t.parts
                   if p.func is not None or p.column not in factors}
        cols = read_columns(df, roles=by_column,
                            coded={*factors, *self.strata, *self._cluster_columns(),
                                   *self.categorical},
                            numeric={*numeric, *([self.weights] if self.weights else [])},
                            durations=(self.duration, self.entry), event=self.event,
                            event_value=self.event_value, weights=self.weights)
        return cols, factors

    def _times(self, cols: ModelColumns) -> tuple[np.ndarray, np.ndarray | None]:
        """(stop, start): entry < duration on every row, or durations >= 0 without entry."""
        stop = cols.numbers[self.duration]
        if self.entry is None:
            check_nonnegative(cols.frame(), stop, self.duration, role="duration")
            return stop, None
        start = cols.numbers[self.entry]
        bad = ~(start < stop)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{int(bad.sum())} rows have {self.entry} >= {self.duration} (e.g. row "
                f"{cols.index[i]!r}: ({start[i]:g}, {stop[i]:g}]); each interval must have "
                "entry < duration"
            )
        return stop, start


def _present_codes(coded) -> np.ndarray:
    """Cluster codes 0..G-1 over the clusters left after dropping rows (G counts only those:
    the CR1 factor G/(G-1) and the t(G-1) reference must not count clusters with no rows)."""
    present = np.bincount(coded.codes, minlength=len(coded.levels)) > 0
    if present.all():
        return coded.codes
    return (np.cumsum(present) - 1)[coded.codes]


__all__ = ["Cox", "CoxResult"]
