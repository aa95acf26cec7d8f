"""The data of a Callaway–Sant'Anna fit: a balanced panel or repeated cross-sections, as arrays.

Both shapes become one :class:`Sample`; what differs is what a row of ``y`` is (a unit with
its outcome in every period, or one observation in one period) and hence what ``n`` counts.
Notes about dropped or recoded data are issued as warnings here, as they are made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .._checks import (
    check_columns,
    check_magnitude,
    check_not_empty,
    coded_column,
    numeric_column,
)
from ..base import warn_all
from ..errors import DataError, DroppedRowsWarning, StatisticalWarning
from ..panel import validate_panel
from ._callaway_santanna import UnitGroups


@dataclass
class Sample:
    """Outcomes, timing, covariates and clusters of the units (panel) or rows (cross-sections).

    ``y`` is units x periods for a panel and one value per row for repeated cross-sections
    (``time_code`` then gives each row's period); ``first`` is the first treated period of each
    unit / row (inf: never treated); ``X`` is units x periods x k or rows x k.
    """

    y: np.ndarray
    first: np.ndarray
    periods: np.ndarray
    X: np.ndarray | None
    cluster: np.ndarray | None
    time_code: np.ndarray | None = None
    notes: list = field(default_factory=list)

    @property
    def panel(self) -> bool:
        return self.time_code is None

    @property
    def n(self) -> int:
        """Independent draws: units of a panel, rows of repeated cross-sections."""
        return int(self.y.shape[0])

    @property
    def n_obs(self) -> int:
        return self.n * self.periods.size if self.panel else self.n

    # what the estimator reads (the same names as the engine's MomentSample)
    band_n = None  # the influence functions have one row per draw

    @property
    def band_clusters(self) -> np.ndarray | None:
        return self.cluster

    bootstrap_refusal = ""

    @property
    def n_clusters(self) -> int:
        return int(self.cluster.max() + 1) if self.cluster is not None else self.n

    def cohort_values(self) -> np.ndarray:
        return np.unique(self.first)

    def treated_clusters(self, groups) -> tuple[int, int] | None:
        """(clusters, clusters with units of the cohorts ``groups``), or None unclustered."""
        if self.cluster is None:
            return None
        return self.n_clusters, int(np.unique(self.cluster[np.isin(self.first, groups)]).size)

    def unit_groups(self) -> UnitGroups:
        return UnitGroups(np.where(np.isfinite(self.first), self.first, 0.0))

    def keep_periods(self, keep: np.ndarray) -> Sample:
        """The sample restricted to the periods where ``keep`` is true."""
        if self.panel:
            return replace(self, y=self.y[:, keep], periods=self.periods[keep],
                           X=None if self.X is None else self.X[:, keep])
        rows = keep[self.time_code]
        new_code = np.cumsum(keep) - 1
        return replace(self, y=self.y[rows], first=self.first[rows], periods=self.periods[keep],
                       X=None if self.X is None else self.X[rows],
                       cluster=None if self.cluster is None else
                       np.unique(self.cluster[rows], return_inverse=True)[1],
                       time_code=new_code[self.time_code[rows]])


def _never_if_late(first, periods, notes, what):
    late = np.isfinite(first) & (first > periods[-1])
    if late.any():
        msg = (f"{int(late.sum())} {what} first treated after the last period are treated as "
               "never treated")
        notes.append(msg)
        warn_all([msg], StatisticalWarning)
        first = np.where(late, np.inf, first)
    return first


def panel_sample(est, df) -> Sample:
    """A balanced panel: units not observed in every period are dropped, as R's did does."""
    panel = validate_panel(
        df, outcome=est.outcome, unit=est.unit, time=est.time, first_treated=est.first_treated,
        cluster=est.cluster, covariates=est.covariates, always_treated="drop",
        require_controls=est.control == "never_treated")
    # gaps are handled below (units are dropped to balance the panel)
    notes = [m for m in panel.warnings if "missing inside" not in m]
    if panel.dropped_always_treated:
        warn_all([m for m in panel.warnings if "always-treated" in m], DroppedRowsWarning)
    check_magnitude(panel.outcome, est.outcome, role="outcome")
    for j, name in enumerate(est.covariates):
        check_magnitude(panel.covariates[:, j], name, role="covariate")
    n_u, n_t = panel.n_units, panel.n_periods
    Y = np.full((n_u, n_t), np.nan)
    Y[panel.unit_codes, panel.time_codes] = panel.outcome
    X = None
    if panel.covariates is not None:
        X = np.full((n_u, n_t, panel.covariates.shape[1]), np.nan)
        X[panel.unit_codes, panel.time_codes, :] = panel.covariates
    clus = None
    if est.cluster is not None:
        if not panel.unit_in_cluster:
            raise DataError(f"column {est.cluster!r} (the cluster) changes within a unit; "
                            "StaggeredDiD needs each unit in one cluster")
        clus = np.zeros(n_u, dtype=np.int64)
        clus[panel.unit_codes] = panel.cluster_codes
    keep = np.isfinite(Y).all(axis=1)
    if not keep.all():
        msg = (f"{int((~keep).sum())} units not observed in all {n_t} periods "
               f"({int(np.isfinite(Y[~keep]).sum())} rows) dropped to balance the panel, as R's "
               "did does")
        notes.append(msg)
        warn_all([msg], DroppedRowsWarning)
    first = _never_if_late(panel.first_treated[keep], panel.periods, notes, "units")
    if not keep.any():
        raise DataError("no units left after balancing the panel; check the unit and time "
                        "columns, or pass panel=False for repeated cross-sections")
    if X is not None and not np.isfinite(X[keep]).all():
        raise DataError("covariates have missing values in the balanced panel")
    if clus is not None:
        clus = np.unique(clus[keep], return_inverse=True)[1]
    return Sample(y=Y[keep], first=first, periods=panel.periods,
                  X=None if X is None else X[keep], cluster=clus, notes=notes)


def _first_treated_rows(df, col, periods_seen):
    ft = numeric_column(df, col, role="first_treated", allow_missing=True)
    zero = ft == 0
    if zero.any() and np.any(periods_seen == 0):
        raise DataError(
            f"column {col!r} is 0 in {int(zero.sum())} rows but 0 is also an observed period, "
            "so 0 cannot mean 'never treated'. Code never-treated rows as missing (NaN) or inf.")
    return np.where(np.isfinite(ft) & ~zero, ft, np.inf)


def cross_section_sample(est, df) -> Sample:
    """Repeated cross-sections: every row is its own draw (R's ``panel = FALSE``)."""
    check_columns(df, {"outcome": est.outcome, "time": est.time,
                       "first_treated": est.first_treated, "cluster": est.cluster,
                       **{f"covariate {c!r}": c for c in est.covariates}})
    check_not_empty(df)
    t = numeric_column(df, est.time, role="time")
    first = _first_treated_rows(df, est.first_treated, t)
    y = numeric_column(df, est.outcome, role="outcome", allow_missing=True)
    check_magnitude(y, est.outcome, role="outcome")
    X = (np.column_stack([numeric_column(df, c, role="covariate", allow_missing=True)
                          for c in est.covariates]) if est.covariates else None)
    for j, name in enumerate(est.covariates):
        check_magnitude(X[:, j], name, role="covariate")
    clus = None
    if est.cluster is not None:
        coded = coded_column(df, est.cluster)
        if coded.n_missing:
            raise DataError(f"column {est.cluster!r} (the cluster) has {coded.n_missing} missing "
                            "values; give them a label or drop those rows")
        if len(coded.levels) < 2:
            raise DataError(f"column {est.cluster!r} (the cluster) has a single value; "
                            "cluster-robust inference needs two or more clusters")
        clus = coded.codes
    notes: list[str] = []
    missing = ~np.isfinite(y) if X is None else ~(np.isfinite(y) & np.isfinite(X).all(axis=1))
    always = np.isfinite(first) & (first <= t.min())
    for drop, msg in ((missing, "rows with a missing outcome or covariate dropped"),
                      (always & ~missing, "rows of cohorts treated in or before the first period "
                                          f"({t.min():g}) dropped: they have no pre-treatment "
                                          "period (as R's did)")):
        if drop.any():
            notes.append(f"{int(drop.sum())} {msg}")
            warn_all([notes[-1]], DroppedRowsWarning)
    keep = ~(missing | always)
    if not keep.any():
        raise DataError("no rows left after dropping rows with a missing outcome or covariate "
                        "and rows of cohorts treated in or before the first period")
    periods, time_code = np.unique(t[keep], return_inverse=True)
    if periods.size < 2:
        raise DataError(f"column {est.time!r} has {periods.size} period(s) left; a DiD needs "
                        "two or more")
    first = _never_if_late(first[keep], periods, notes, "rows")
    if clus is not None:
        clus = np.unique(clus[keep], return_inverse=True)[1]
    return Sample(y=y[keep], first=first, periods=periods.astype(float),
                  X=None if X is None else X[keep], cluster=clus, time_code=time_code,
                  notes=notes)
