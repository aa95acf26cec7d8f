"""The panel data contract: unit, time, outcome, treatment timing, clusters.

:func:`validate_panel` turns a long person-year (or municipality-year) table into a
:class:`Panel`: a small frozen record of integer codes and float arrays that every
difference-in-differences estimator works on. It refuses, with a count, an example row and what
to do, the problems that silently break a DiD analysis:

- duplicate unit-time rows;
- treatment that switches off again (an absorbing treatment is assumed);
- ``first_treated`` that changes within a unit;
- units never observed before their treatment starts ("always treated");
- non-numeric or missing outcomes, times, weights, covariates;
- no treated units, no untreated (control) units, a single period or a single cluster.

Gaps in a unit's periods (missing periods) are allowed by two-way fixed effects; they are counted
and reported in ``Panel.warnings``. Rows with zero weight are dropped (``DroppedRowsWarning`` with
the count), as they carry no information and fixest refuses them.

**Repeated cross-sections** (different people each period, no person id: the common registry
extract) are validated with ``panel=False``: ``unit`` is then the level where treatment timing is
set (e.g. the municipality), rows need not be unique per unit and period, and exposure must be the
same for every row of a unit in a period.

Treatment timing can be given either way:

``treatment``
    a 0/1 column, 1 in the periods a unit is exposed; ``first_treated`` is derived as the first
    period with 1.
``first_treated``
    the first exposed period per unit (constant within unit). **Never treated is coded as missing
    (NaN), 0 or +inf** (0 is R ``did``'s convention); 0 is refused as ambiguous when 0 is itself an
    observed period. The 0/1 exposure is then ``time >= first_treated``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _panel_checks as pc
from ._checks import _plain, as_dataframe, check_columns, check_not_empty, numeric_column
from .errors import DataError, DroppedRowsWarning, SpecificationError, warn

ALWAYS_TREATED = ("error", "drop", "keep")


@dataclass(frozen=True, eq=False)
class Panel:
    """A validated long panel as arrays (one entry per row unless said otherwise).

    Attributes
    ----------
    outcome, time, treat : ndarray of float64
        Outcome, calendar period and the 0/1 exposure indicator per row.
    unit_codes, time_codes, cluster_codes : ndarray of int64
        Codes 0..U-1 (sorted integer ids, else order of first appearance), 0..T-1 (sorted
        periods), 0..G-1 (sorted).
    unit_labels : ndarray; cluster_labels : tuple
        Labels behind the codes.
    periods : ndarray of float64
        The sorted distinct periods (``periods[time_codes] == time``).
    first_treated : ndarray of float64, one per unit
        First exposed period; ``inf`` for never-treated units.
    weights : ndarray or None
        Row weights.
    covariates : ndarray (n, k) or None, with ``covariate_names``.
    balanced : bool
        Every unit observed once in every period (always False for repeated cross-sections).
    n_missing_periods : int
        Unit-periods missing inside a unit's own span (gaps), summed over units.
    unit_in_cluster : bool
        Every unit stays in one cluster (unit fixed effects are then nested in clusters).
    treatment_varies_within_cell : bool
        Exposure differs between rows of the same cluster x period cell (person-level timing).
    dropped_always_treated : int
        Rows dropped because their unit was never observed before treatment (``"drop"``).
    warnings : tuple of str
        Notes to carry into the result (missing periods, dropped rows).
    cluster_exposed : ndarray of bool, one per cluster
        The cluster has exposed rows.
    repeated_cross_sections : bool
        Validated with ``panel=False``: rows are people seen once, ``unit`` the timing level.
    dropped_zero_weight : int
        Rows dropped because their weight was zero.
    """

    outcome: np.ndarray
    time: np.ndarray
    treat: np.ndarray
    unit_codes: np.ndarray
    time_codes: np.ndarray
    cluster_codes: np.ndarray
    unit_labels: np.ndarray
    cluster_labels: tuple
    periods: np.ndarray
    first_treated: np.ndarray
    weights: np.ndarray | None
    covariates: np.ndarray | None
    covariate_names: tuple[str, ...]
    balanced: bool
    n_missing_periods: int
    unit_in_cluster: bool
    treatment_varies_within_cell: bool
    cluster_name: str
    dropped_always_treated: int = 0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    cluster_exposed: np.ndarray | None = None
    cell_stats: tuple | None = None  # (cell code per row, rows per cell, exposed rows per cell)
    repeated_cross_sections: bool = False
    dropped_zero_weight: int = 0

    @property
    def n_obs(self) -> int:
        return int(self.outcome.size)

    @property
    def n_units(self) -> int:
        return len(self.unit_labels)

    @property
    def n_periods(self) -> int:
        return int(self.periods.size)

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_labels)

    @property
    def share_weights(self) -> np.ndarray:
        """Weight of each row in group shares (e.g. Sun-Abraham's cohort shares)."""
        return self.weights if self.weights is not None else np.ones(self.n_obs)

    @property
    def treated_units(self) -> np.ndarray:
        """Boolean per unit: ever treated in the panel."""
        return np.isfinite(self.first_treated)

    @property
    def cluster_treated(self) -> np.ndarray:
        """Boolean per cluster: some row of the cluster is ever exposed."""
        if self.cluster_exposed is not None:
            return self.cluster_exposed
        ever = self.treat
        return np.bincount(self.cluster_codes, weights=ever, minlength=self.n_clusters) > 0

    @property
    def n_treated_clusters(self) -> int:
        return int(self.cluster_treated.sum())

    @property
    def event_time(self) -> np.ndarray:
        """Periods since first exposure per row (``time - first_treated``; -inf if never)."""
        return self.time - self.first_treated[self.unit_codes]

    def cell_codes(self) -> np.ndarray:
        """Codes of the cluster x period cells (``cluster * T + period``)."""
        if self.cell_stats is not None:
            return self.cell_stats[0]
        return self.cluster_codes * self.n_periods + self.time_codes


def validate_panel(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment: str | None = None,
    first_treated: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    covariates: Sequence[str] = (),
    always_treated: str = "error",
    require_controls: bool = True,
    panel: bool = True,
) -> Panel:
    """Check a long panel and return it as a :class:`Panel`.

    Parameters
    ----------
    data : DataFrame
        One row per unit and period (person-year or municipality-year); with ``panel=False``
        any number of rows per unit and period (repeated cross-sections).
    outcome, unit, time : str
        Columns with the outcome (numeric), the unit id and the period (numeric, e.g. year).
    treatment : str, optional
        0/1 exposure column (absorbing: once 1, stays 1). Give this or ``first_treated``.
    first_treated : str, optional
        First exposed period per unit; NaN, 0 or inf mean never treated.
    cluster : str, optional
        Cluster column (e.g. municipality); defaults to ``unit``.
    weights : str, optional
        Non-negative row weights; rows with weight 0 are dropped with a warning.
    covariates : sequence of str
        Numeric time-varying controls.
    always_treated : {"error", "drop", "keep"}
        What to do with units exposed in every period they are observed (no pre-period).
    require_controls : bool
        Refuse a panel where every unit is eventually treated.
    panel : bool
        ``False`` for repeated cross-sections: ``unit`` is the level where timing is set and
        rows need not be unique per unit and period.

    Returns
    -------
    Panel

    Raises
    ------
    DataError
        With a count, an example row and what to do.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 1, 2, 2], "year": [1, 2, 1, 2], "y": [1.0, 2, 1, 1],
    ...                    "d": [0, 1, 0, 0]})
    >>> p = validate_panel(df, outcome="y", unit="id", time="year", treatment="d")
    >>> p.n_units, p.n_periods, p.first_treated.tolist()
    (2, 2, [2.0, inf])

    See Also
    --------
    causalips.DiD, causalips.EventStudy
    """
    plan = dict(outcome=outcome, unit=unit, time=time, treatment=treatment,
                first_treated=first_treated, cluster=cluster, weights=weights,
                covariates=tuple(covariates), require_controls=require_controls, panel=panel)
    _check_plan(treatment, first_treated, always_treated)
    df = as_dataframe(data)
    roles = {"outcome": outcome, "unit": unit, "time": time, "treatment": treatment,
             "first_treated": first_treated, "cluster": cluster, "weights": weights}
    roles.update({f"covariate {c!r}": c for c in plan["covariates"]})
    check_columns(df, roles)
    check_not_empty(df)
    w = None
    if weights is not None:
        w = pc.read_weights(df, weights, unit, time)
        zero = w == 0
        if zero.any():
            return _drop_zero_weights(df, zero, always_treated, plan)
    return _validated(df, w, always_treated, plan)


def _check_plan(treatment, first_treated, always_treated) -> None:
    if (treatment is None) == (first_treated is None):
        raise SpecificationError(
            "give exactly one of treatment= (a 0/1 exposure column) or first_treated= "
            "(the first exposed period per unit)"
        )
    if always_treated not in ALWAYS_TREATED:
        raise SpecificationError(
            f"always_treated must be one of {set(ALWAYS_TREATED)}; got {always_treated!r}"
        )


def _validated(df: pd.DataFrame, w, always_treated: str, plan: dict) -> Panel:
    """The checks in order, on rows whose weights (if any) are all positive."""
    unit, time, panel = plan["unit"], plan["time"], plan["panel"]
    y = pc.bounded(numeric_column(df, plan["outcome"], role="outcome"), df, plan["outcome"],
                   "outcome")
    t = numeric_column(df, time, role="time")
    u_codes, u_labels = pc.label_codes(df[unit], "unit", unit, sort=False, plain=False)
    t_codes, periods = pc.period_codes(df, time, t)
    n_units, n_periods = len(u_labels), periods.size
    layout = pc.check_layout(df, u_codes, n_units, t_codes, n_periods, unit, time, panel=panel)
    if plan["treatment"] is not None:
        first, d = pc.exposure_from_treatment(df, plan["treatment"], t, u_codes, n_units, unit,
                                              time, panel=panel)
    else:
        first, d = pc.exposure_from_first_treated(df, plan["first_treated"], t, periods,
                                                  u_codes, n_units, unit, time)
    always = pc.always_treated_units(first, u_codes, t, n_units, periods, layout.balanced)
    notes: list[str] = []
    if always.any():
        rows = always[u_codes]
        if always_treated == "drop":
            return _drop_always_treated(df, always, rows, plan)
        _check_always_treated(df, always, rows, always_treated, unit, time)
        notes.append(
            f"{int(always.sum())} units ({int(rows.sum())} rows) are never observed before their "
            "treatment starts (always treated); they inform only the period effects"
        )
    pc.check_groups(first, periods, time=time,
                    timing_col=plan["treatment"] or plan["first_treated"],
                    is_treatment=plan["treatment"] is not None,
                    require_controls=plan["require_controls"])
    c_codes, c_labels, nested = _clusters(df, plan["cluster"], unit, u_codes, u_labels, n_units)
    x = None
    if plan["covariates"]:
        x = np.column_stack([pc.bounded(numeric_column(df, c, role="covariate"), df, c,
                                        "covariate") for c in plan["covariates"]])
    n_missing, gaps = pc.count_gaps(layout, u_codes, t_codes, n_units, n_periods, panel=panel)
    if n_missing:
        notes.append(
            f"{n_missing} unit-periods are missing inside units' observed spans "
            f"({int((gaps > 0).sum())} units have gaps, e.g. unit "
            f"{_plain(u_labels[int(np.flatnonzero(gaps)[0])])!r}); two-way fixed effects use the "
            "observed periods"
        )
    stats, exposed, within = pc.cluster_cells(c_codes, len(c_labels), t_codes, n_periods, d)
    return Panel(
        outcome=y, time=t, treat=d, unit_codes=u_codes, time_codes=t_codes,
        cluster_codes=c_codes, unit_labels=u_labels, cluster_labels=c_labels, periods=periods,
        first_treated=first, weights=w, covariates=x, covariate_names=plan["covariates"],
        balanced=layout.balanced, n_missing_periods=n_missing, unit_in_cluster=nested,
        treatment_varies_within_cell=within,
        cluster_name=plan["cluster"] if plan["cluster"] is not None else unit,
        warnings=tuple(notes), cluster_exposed=exposed, cell_stats=stats,
        repeated_cross_sections=not panel,
    )


def _check_always_treated(df, always, rows, always_treated, unit, time) -> None:
    if always_treated == "error":
        raise DataError(
            f"{int(always.sum())} units ({int(rows.sum())} rows) are never observed before "
            f"their treatment starts (e.g. {pc.example_row(df, rows, [unit, time])}); they "
            "carry no before-after contrast. Drop them (or pass always_treated='drop'), or "
            "check that the panel starts before treatment."
        )


def _clusters(df, cluster, unit, u_codes, u_labels, n_units):
    """(cluster codes, labels, every unit stays in one cluster)."""
    if cluster is None:  # the units are the clusters, numbered in sorted order like clusters
        c_codes, c_labels = _sorted_codes(u_codes, u_labels)
        nested = True
    else:
        c_codes, c_labels = pc.label_codes(df[cluster], "cluster", cluster, sort=True)
        c_unit = np.empty(n_units, dtype=np.int64)
        c_unit[u_codes] = c_codes
        nested = bool(np.array_equal(np.take(c_unit, u_codes), c_codes))
    if len(c_labels) < 2:
        raise DataError(f"column {cluster or unit!r} (the cluster) has a single value; "
                        "cluster-robust inference needs two or more clusters.")
    return c_codes, c_labels, nested


def _sorted_codes(codes: np.ndarray, labels: np.ndarray):
    """Codes renumbered so that their labels are in sorted order (as an engine sorts keys)."""
    try:
        order = np.argsort(labels, kind="stable")
    except TypeError:  # labels of mixed types: keep the order of first appearance
        return codes, tuple(_plain(v) for v in labels)
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[codes], tuple(_plain(v) for v in labels[order])


def _drop_always_treated(df, always, rows, plan) -> Panel:
    dropped = int(rows.sum())
    note = f"{int(always.sum())} always-treated units ({dropped} rows) dropped"
    panel = validate_panel(df.loc[~rows], always_treated="error", **plan)
    return dataclasses.replace(panel, dropped_always_treated=dropped,
                               warnings=(note,) + panel.warnings)


def _drop_zero_weights(df, zero, always_treated, plan) -> Panel:
    n = int(zero.sum())
    note = (f"{n} rows with zero weight in {plan['weights']!r} dropped (they carry no "
            "information; N, K and the clusters count the remaining rows, as in fixest)")
    warn(note, DroppedRowsWarning, n_dropped=n)
    panel = validate_panel(df.loc[~zero], always_treated=always_treated, **plan)
    return dataclasses.replace(panel, dropped_zero_weight=n, warnings=(note,) + panel.warnings)


__all__ = ["Panel", "validate_panel"]
