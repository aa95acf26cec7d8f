"""Staggered adoption: Callaway & Sant'Anna (2021) group-time ATTs, on panels or repeated
cross-sections (the plan; the numerics are in ``_callaway_santanna`` and ``_drdid``, the results
in ``staggered_results``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .._checks import as_dataframe, check_choice, check_range
from ..base import Estimator, warn_all
from ..engine import is_in_memory
from ..errors import DataError, DroppedRowsWarning, SpecificationError, StatisticalWarning
from ..inference import MultiplierBootstrap, check_spec
from . import _callaway_santanna as core
from ._cs_moments import BOOTSTRAP_REFUSAL, MomentSample, sample_in_engine
from ._legacy_options import DeprecatedAttribute, resampling_from_legacy
from ._staggered_data import cross_section_sample, panel_sample
from .staggered_results import (
    BandTable,
    StaggeredAggregateResult,
    StaggeredDiDResult,
    draw_seed,
    fmt,
)

CONTROLS = ("never_treated", "not_yet_treated")
METHODS = ("dr", "ipw", "reg")
BASE_PERIODS = ("varying", "universal")
DEFAULT_INFERENCE = MultiplierBootstrap()


@dataclass
class _Cells:
    """The estimated cells: ATT(g,t), influence functions and the comparison sizes."""

    cells: list
    att: np.ndarray
    inf: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    notes: list = field(default_factory=list)


def _legacy_bootstrap(reps, bootstrap_weights, seed):
    if reps == 0:
        return None
    return MultiplierBootstrap(reps=999 if reps is None else reps,
                               weights=bootstrap_weights or "mammen", seed=seed)


class StaggeredDiD(Estimator):
    """Callaway & Sant'Anna (2021) difference-in-differences for staggered adoption.

    Estimates every group-time average treatment effect ATT(g,t) — the effect in period t for
    the units first treated in period g — by a 2x2 comparison of the change since a base
    period between group g and a control set that is untreated in both periods. Then
    :meth:`StaggeredDiDResult.aggregate` averages them by cohort, calendar period or event time.
    Unlike two-way fixed effects, no already-treated unit ever serves as a control, so
    effects that change over time or differ between cohorts do not bias the estimate.

    Parameters
    ----------
    outcome, time : str
        Columns with the outcome (e.g. workdays) and the period (e.g. year).
    unit : str, optional
        Unit id column (panel data; not used with ``panel=False``).
    first_treated : str
        First treated period per unit (or per row's group, e.g. municipality, for repeated
        cross-sections); 0, NaN or inf mean never treated (R ``did`` uses 0). Units first
        treated after the last period count as never treated.
    panel : bool
        ``True`` (default): a panel, each unit followed over the periods (unbalanced units are
        dropped, as R's ``did``). ``False``: repeated cross-sections — different people each
        period, every row its own draw (R's ``panel = FALSE``): the 2x2 comparisons use the
        rows of the two periods and each row's own covariates (DRDID's ``*_rc`` estimators).
        Typical registry extracts without a person id are repeated cross-sections; use
        ``cluster=`` (e.g. the municipality) when rows share a cluster.
    control : {"never_treated", "not_yet_treated"}
        Control set: never-treated units only, or also units not yet treated by the later of
        the two periods compared (plus anticipation).
    covariates : sequence of str
        Pre-treatment covariates (panel: values in the base period; repeated cross-sections:
        each row's values). With covariates the comparison is conditional on them, by
        ``method``.
    method : {"dr", "ipw", "reg"}
        Doubly robust (default), normalised inverse probability weighting, or outcome
        regression. Irrelevant without covariates (all three give the same answer).
    anticipation : int
        Number of periods before ``first_treated`` in which units may already react.
    base_period : {"varying", "universal"}
        ``varying`` (R's default): pre-period ATT(g,t) compare t with t-1 (short differences);
        ``universal``: every ATT(g,t) compares with g-1-anticipation (the reference row is 0).
    cluster : str, optional
        Cluster column (constant within unit for panels, e.g. municipality): influence
        functions are summed within clusters for SEs, and the bootstrap multipliers are drawn
        per cluster.
    conf_level : float
        Level of the pointwise intervals and the simultaneous bands.
    inference : MultiplierBootstrap or None
        The multiplier bootstrap of the influence functions (R ``did``'s default; default
        ``MultiplierBootstrap(reps=999, weights="mammen")``, with a seed drawn and recorded in
        ``glance()`` when none is given), which adds bootstrap SEs and simultaneous bands; or
        ``None`` for analytic SEs only. ``result.with_inference(...)`` changes it after the fit.
        Runs over two seconds show a progress bar (``MultiplierBootstrap(progress=False)``
        silences it).
    reps, bootstrap_weights, seed :
        Deprecated: use ``inference=MultiplierBootstrap(reps=, weights=, seed=)`` (``reps=0``:
        ``inference=None``).

    Notes
    -----
    ``fit(data)`` takes a pandas DataFrame, or data held by an engine (a Parquet or CSV path,
    a DuckDB relation, a polars or pyarrow table, a Spark DataFrame): the engine computes
    the cell sums (cohort moments for StaggeredDiD) and the checks, with the same numbers as
    in memory; what does not reduce to them is refused naming the aggregation to do first
    (docs/scale.md).

    Returns
    -------
    StaggeredDiDResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_mpdta
    >>> res = ci.StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
    ...                       first_treated="first.treat",
    ...                       inference=ci.MultiplierBootstrap(seed=1)).fit(load_mpdta())
    >>> round(float(res.aggregate("simple").overall["estimate"]), 4)
    -0.04

    See Also
    --------
    DiD, EventStudy, SyntheticDiD
    """

    _param_names = ("outcome", "unit", "time", "first_treated", "panel", "control", "covariates",
                    "method", "anticipation", "base_period", "cluster", "conf_level", "inference")

    reps = DeprecatedAttribute(lambda self: 0 if self.inference is None else self.inference.reps,
                               "inference.reps")
    bootstrap_weights = DeprecatedAttribute(
        lambda self: getattr(self.inference, "weights", "mammen"), "inference.weights")
    seed = DeprecatedAttribute(lambda self: getattr(self.inference, "seed", None),
                               "inference.seed")

    def __init__(
        self,
        *,
        outcome: str,
        time: str,
        first_treated: str,
        unit: str | None = None,
        panel: bool = True,
        control: Literal["never_treated", "not_yet_treated"] = "never_treated",
        covariates: Sequence[str] = (),
        method: Literal["dr", "ipw", "reg"] = "dr",
        anticipation: int = 0,
        base_period: Literal["varying", "universal"] = "varying",
        cluster: str | None = None,
        conf_level: float = 0.95,
        inference: MultiplierBootstrap | None = DEFAULT_INFERENCE,
        reps: int | None = None,
        bootstrap_weights: Literal["mammen", "rademacher"] | None = None,
        seed: int | None = None,
    ):
        self.outcome, self.unit, self.time, self.first_treated = outcome, unit, time, first_treated
        self.panel = check_choice("panel", panel, (True, False))
        if panel and unit is None:
            raise SpecificationError("StaggeredDiD needs unit= (the unit id column) for panel "
                                     "data; for repeated cross-sections pass panel=False")
        if not panel and unit is not None:
            raise SpecificationError(
                f"panel=False treats every row as its own draw, so unit={unit!r} is not used: "
                "drop it (pass cluster= to cluster on it, e.g. when people recur across years), "
                "or use panel=True for a panel")
        self.control = check_choice("control", control, CONTROLS)
        self.covariates = (covariates,) if isinstance(covariates, str) else tuple(covariates)
        self.method = check_choice("method", method, METHODS)
        if isinstance(anticipation, bool) or not isinstance(anticipation, int | np.integer) \
                or anticipation < 0:
            raise SpecificationError(f"anticipation must be a whole number >= 0; got "
                                     f"{anticipation!r}")
        self.anticipation = int(anticipation)
        self.base_period = check_choice("base_period", base_period, BASE_PERIODS)
        self.cluster = cluster
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        inference = resampling_from_legacy(
            "StaggeredDiD", inference, DEFAULT_INFERENCE, _legacy_bootstrap, reps=reps,
            bootstrap_weights=bootstrap_weights, seed=seed)
        self.inference = check_spec(inference, (MultiplierBootstrap,), where="StaggeredDiD",
                                    argument="inference")

    # -- the steps of a fit ----------------------------------------------------------------
    def _cohorts(self, sample):
        """The cohorts with an ATT(g,t), after R's rules for anticipation and for designs
        without never-treated units (which lose the periods from the last cohort on)."""
        firsts = sample.cohort_values()
        never_treated = bool(np.isinf(firsts).any())
        groups = firsts[np.isfinite(firsts)]
        periods, a = sample.periods, self.anticipation
        if a and np.any(groups <= periods[0] + a):
            early = groups[groups <= periods[0] + a]
            sample.notes.append(
                f"cohorts {', '.join(fmt(g) for g in early)} have no base period before "
                f"treatment minus anticipation ({a}); no ATT(g,t) is estimated for them (their "
                "units stay in the sample, as in R's did)")
            groups = groups[groups > periods[0] + a]
        if groups.size == 0:
            raise DataError(f"no unit in {self.first_treated!r} is treated within the observed "
                            "periods; nothing to estimate")
        if never_treated:
            return groups, sample
        if self.control == "never_treated":
            raise DataError("no never-treated units: use control='not_yet_treated'")
        last = groups.max()
        sample.notes.append(f"no never-treated units: periods from {last - a:g} on and the "
                            f"last cohort ({last:g}) are dropped, as R's did does")
        sample = sample.keep_periods(periods < last - a)
        groups = groups[groups < last]
        if groups.size == 0 or sample.periods.size < 2:
            raise DataError("with no never-treated units and a single cohort there is no "
                            "control group")
        return groups, sample

    def _estimate(self, sample, cells) -> _Cells:
        """ATT(g,t) and influence functions of the cells that have treated and control units."""
        notes = []
        moments = isinstance(sample, MomentSample)
        if moments:
            parts = None
            counts = sample.part_counts(cells, self.control)
        elif sample.panel:
            parts = core.masks(sample.first, cells, self.control)
            counts = [p.sum(axis=0) for p in parts]
        else:
            parts = core.cross_section_parts(sample.time_code, sample.first, cells, self.control)
            counts = [p.sum(axis=0) for p in parts]
        n_g, n_c = ((counts[0], counts[1]) if sample.panel
                    else (counts[0] + counts[1], counts[2] + counts[3]))
        empty = np.any([c == 0 for c in counts], axis=0)
        if empty.any():
            bad = [c for c, e in zip(cells, empty) if e]
            what = "control units" if sample.panel else "treated or control rows in a period"
            notes.append(f"{len(bad)} group-time cells have no {what} and are dropped "
                         f"(e.g. group {bad[0].group:g}, time {bad[0].time:g})")
            cells = [c for c, e in zip(cells, empty) if not e]
            parts = None if moments else [p[:, ~empty] for p in parts]
            n_g, n_c = n_g[~empty], n_c[~empty]
        if not cells:
            raise DataError("no group-time comparison has both treated and control units")
        if moments:
            att, inf = sample.unconditional(cells, self.control)
        elif self.covariates and sample.panel:
            att, inf = core.conditional(sample.y, sample.X, cells, *parts, self.method)
        elif self.covariates:
            att, inf = core.conditional_rc(sample.y, sample.X, cells, parts, self.method)
        elif sample.panel:
            att, inf = core.unconditional(sample.y, cells, *parts)
        else:
            att, inf = core.unconditional_rc(sample.y, cells, parts)
        small = np.minimum(n_g, n_c)
        if np.any(small < 5):
            notes.append(f"{int(np.sum(small < 5))} group-time cells compare fewer than 5 "
                         "treated or control units; their influence-function SEs are unreliable")
        return _Cells(cells, att, inf, n_g, n_c, notes)

    def _cluster_notes(self, sample, groups) -> list[str]:
        counted = sample.treated_clusters(groups)
        if counted is None:
            return []
        n_clusters, n_tc = counted
        notes = []
        if n_clusters < 30:
            notes.append(f"only {n_clusters} clusters: cluster-robust SEs and the bootstrap "
                         "can be unreliable with fewer than ~30")
        if n_tc < 5:
            notes.append(f"only {n_tc} treated cluster(s): influence-function SEs and the "
                         "multiplier bootstrap are unreliable with fewer than ~5; use "
                         "randomization inference (DiD with Randomization), SyntheticDiD or "
                         "SyntheticControl placebos instead")
        return notes

    def _sample(self, data):
        """The fit's data: rows in memory, or cohort moments computed by an engine."""
        if is_in_memory(data):
            df = as_dataframe(data)
            return (panel_sample if self.panel else cross_section_sample)(self, df)
        if self.covariates:
            raise SpecificationError(
                "StaggeredDiD(covariates=...) on data held by an engine: conditional parallel "
                "trends need a regression on each unit's covariates per cell, which is not "
                "pushed into the engine. Fit the rows in memory (a pandas DataFrame), or drop "
                "the covariates (the unconditional ATT(g,t) run on cohort moments).")
        if self.cluster is None and self.inference is not None:
            raise SpecificationError(f"StaggeredDiD: {BOOTSTRAP_REFUSAL}.")
        return sample_in_engine(self, data)

    def fit(self, data) -> StaggeredDiDResult:
        sample = self._sample(data)
        warned = len(sample.notes)  # notes issued as warnings while preparing the data
        groups, sample = self._cohorts(sample)
        cells, cell_notes = core.make_cells(sample.periods, groups, base_period=self.base_period,
                                            anticipation=self.anticipation, control=self.control)
        est = self._estimate(sample, cells)
        notes = sample.notes + cell_notes + est.notes + self._cluster_notes(sample, groups)
        new = notes[warned:]  # warn once for each note not issued while preparing the data
        warn_all([m for m in new if _is_dropped_data(m)], DroppedRowsWarning)
        warn_all([m for m in new if not _is_dropped_data(m)], StatisticalWarning)
        group = np.array([c.group for c in est.cells])
        time = np.array([c.time for c in est.cells])
        frame = pd.DataFrame({
            "group": group, "time": time, "event_time": time - group,
            "post": [c.post for c in est.cells],
            "term": [f"ATT({fmt(g)},{fmt(t)})" for g, t in zip(group, time)],
            "estimate": est.att, "base_period": sample.periods[[c.base_index for c in est.cells]],
            "n_treated": est.n_treated.astype(np.int64),
            "n_control": est.n_control.astype(np.int64),
        })
        clus = sample.band_clusters
        bands = BandTable(conf_level=self.conf_level, spec=self.inference,
                          seed=draw_seed(self.inference), cluster_codes=clus, n=sample.band_n,
                          refusal=sample.bootstrap_refusal)
        return StaggeredDiDResult(
            estimator=self, frame=frame, n_obs=sample.n_obs, warnings=notes, inf=est.inf,
            unit_group=sample.unit_groups(),
            pretest=core.pretest(est.att, est.inf, group, time, clus, sample.band_n),
            inference=self.inference, bands=bands, n_units=sample.n,
            n_periods=int(sample.periods.size), n_clusters=sample.n_clusters,
            groups=[float(g) for g in groups])


def _is_dropped_data(note: str) -> bool:
    return ("dropped" in note or "no ATT(g,t)" in note) and "unreliable" not in note


__all__ = ["StaggeredDiD", "StaggeredDiDResult", "StaggeredAggregateResult"]
