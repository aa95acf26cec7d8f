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
and reported in ``Panel.warnings``.

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

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._checks import as_dataframe, check_columns, check_not_empty, numeric_column
from .errors import DataError, SpecificationError

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
        Every unit observed in every period.
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


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _example(df: pd.DataFrame, mask: np.ndarray, cols: Sequence[str]) -> str:
    i = int(np.flatnonzero(mask)[0])
    vals = {c: df[c].iloc[i] for c in dict.fromkeys(cols)}
    vals = {c: v.item() if isinstance(v, np.generic) else v for c, v in vals.items()}
    label = df.index[i]
    label = label.item() if isinstance(label, np.generic) else label
    return f"row {label!r}: {vals}"


def _dense_codes(v: np.ndarray):
    """Sorted codes of integer ids without hashing (bincount over the id range)."""
    if v.size == 0:
        return None, None
    lo, hi = int(v.min()), int(v.max())
    if hi - lo > 4 * v.size + 1000:
        return None, None
    off = (v - lo if lo else v).astype(np.int64, copy=False)
    present = np.bincount(off, minlength=hi - lo + 1) > 0
    if present.all():  # ids are consecutive: the offsets are the codes
        return off, np.arange(lo, hi + 1)
    mapping = np.cumsum(present) - 1
    return mapping[off], np.flatnonzero(present) + lo


def _codes(s: pd.Series, role: str, col: str, *, sort: bool, plain: bool = True):
    if s.isna().any():
        bad = s.isna().to_numpy()
        raise DataError(
            f"column {col!r} (the {role}) has {int(bad.sum())} missing values "
            f"(e.g. row {s.index[np.flatnonzero(bad)[0]]!r}); give them a label or drop them."
        )
    codes, labels = None, None
    if pd.api.types.is_integer_dtype(s.dtype):
        codes, labels = _dense_codes(s.to_numpy())
    if codes is None:
        codes, labels = pd.factorize(s, sort=sort)
    if not plain:
        return codes.astype(np.int64), np.asarray(labels)
    return codes.astype(np.int64), tuple(v.item() if isinstance(v, np.generic) else v
                                         for v in labels)


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
) -> Panel:
    """Check a long panel and return it as a :class:`Panel`.

    Parameters
    ----------
    data : DataFrame
        One row per unit and period (person-year or municipality-year).
    outcome, unit, time : str
        Columns with the outcome (numeric), the unit id and the period (numeric, e.g. year).
    treatment : str, optional
        0/1 exposure column (absorbing: once 1, stays 1). Give this or ``first_treated``.
    first_treated : str, optional
        First exposed period per unit; NaN, 0 or inf mean never treated.
    cluster : str, optional
        Cluster column (e.g. municipality); defaults to ``unit``.
    weights : str, optional
        Non-negative row weights.
    covariates : sequence of str
        Numeric time-varying controls.
    always_treated : {"error", "drop", "keep"}
        What to do with units exposed in every period they are observed (no pre-period).
    require_controls : bool
        Refuse a panel where every unit is eventually treated.

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
    if (treatment is None) == (first_treated is None):
        raise SpecificationError(
            "give exactly one of treatment= (a 0/1 exposure column) or first_treated= "
            "(the first exposed period per unit)"
        )
    if always_treated not in ALWAYS_TREATED:
        raise SpecificationError(
            f"always_treated must be one of {set(ALWAYS_TREATED)}; got {always_treated!r}"
        )
    df = as_dataframe(data)
    covariates = tuple(covariates)
    roles = {"outcome": outcome, "unit": unit, "time": time, "treatment": treatment,
             "first_treated": first_treated, "cluster": cluster, "weights": weights}
    roles.update({f"covariate {c!r}": c for c in covariates})
    check_columns(df, roles)
    check_not_empty(df)
    cluster_name = cluster if cluster is not None else unit

    y = numeric_column(df, outcome, role="outcome")
    t = numeric_column(df, time, role="time")
    u_codes, u_labels = _codes(df[unit], "unit", unit, sort=False, plain=False)
    t_codes, periods = (_dense_codes(df[time].to_numpy())
                        if pd.api.types.is_integer_dtype(df[time].dtype) else (None, None))
    if t_codes is None:
        t_codes, periods = pd.factorize(t, sort=True)
    t_codes = t_codes.astype(np.int64, copy=False)
    periods = np.asarray(periods, dtype=np.float64)
    n_units, n_periods = len(u_labels), periods.size

    # duplicate unit-time rows
    key = u_codes * n_periods + t_codes
    dense = n_units * n_periods <= 4 * key.size + 1_000_000
    if dense:
        counts = np.bincount(key, minlength=n_units * n_periods)
        balanced = bool(counts.min() == 1 and counts.max() == 1)
        has_dup = counts.max() > 1
    else:  # sparse panel (many units x many periods): sort instead of a dense table
        uniq, inv, cnt_u = np.unique(key, return_inverse=True, return_counts=True)
        counts = None
        balanced = False
        has_dup = uniq.size < key.size
    if has_dup:
        dup = (counts[key] if dense else cnt_u[inv]) > 1
        raise DataError(
            f"{int(dup.sum())} rows share the same {unit}/{time} pair (duplicate unit-period "
            f"rows), e.g. {_example(df, dup, [unit, time])}. Each unit must appear once per "
            "period: aggregate or drop the duplicates first."
        )

    # treatment timing
    if treatment is not None:
        d = numeric_column(df, treatment, role="treatment")
        bad = (d != 0) & (d != 1)
        if bad.any():
            raise DataError(
                f"column {treatment!r} (the treatment) must be 0/1; {int(bad.sum())} rows are "
                f"not (e.g. {_example(df, bad, [unit, time, treatment])}). Code exposure as 1 "
                "and no exposure as 0, or pass first_treated= instead."
            )
        first = np.full(n_units, np.inf)
        np.minimum.at(first, u_codes, np.where(d == 1, t, np.inf))
        off = (d == 0) & (t >= first[u_codes])
        if off.any():
            raise DataError(
                f"treatment switches off: {int(off.sum())} rows have {treatment}=0 after the "
                f"unit's first exposed period (e.g. {_example(df, off, [unit, time, treatment])}"
                f"; first exposed in {first[u_codes][off][0]:g}). The estimators assume exposure "
                "is absorbing: code the unit as exposed from its first exposed period on, or "
                "drop the unit."
            )
    else:
        ft = numeric_column(df, first_treated, role="first_treated", allow_missing=True)
        if np.any(periods == 0) and np.any(ft == 0):
            zero = ft == 0
            raise DataError(
                f"column {first_treated!r} is 0 in {int(zero.sum())} rows but 0 is also an "
                f"observed period of {time!r}, so 0 cannot mean 'never treated' "
                f"(e.g. {_example(df, zero, [unit, time, first_treated])}). Code never-treated "
                "units as missing (NaN) or inf."
            )
        ft_fill = np.where(np.isfinite(ft) & (ft != 0), ft, -np.inf)  # never treated: -inf
        lo = np.empty(n_units)
        lo[u_codes] = ft_fill  # one value per unit (the last row's) ...
        varies = lo[u_codes] != ft_fill  # ... which every row of the unit must equal
        if varies.any():
            raise DataError(
                f"column {first_treated!r} (the first_treated period) changes within a unit "
                f"(e.g. {_example(df, varies, [unit, time, first_treated])}). It must be one "
                "value per unit: the first period the unit is exposed."
            )
        first = np.where(lo == -np.inf, np.inf, lo)
        d = (t >= first[u_codes]).astype(np.float64)

    # units never observed before treatment
    if balanced:
        t_min = np.full(n_units, periods[0])
    else:
        t_min = np.full(n_units, np.inf)
        np.minimum.at(t_min, u_codes, t)
    always = np.isfinite(first) & (first <= t_min)
    dropped = 0
    notes: list[str] = []
    if always.any():
        rows = always[u_codes]
        if always_treated == "error":
            raise DataError(
                f"{int(always.sum())} units ({int(rows.sum())} rows) are never observed before "
                f"their treatment starts (e.g. {_example(df, rows, [unit, time])}); they carry no "
                "before-after contrast. Drop them (or pass always_treated='drop'), or check that "
                "the panel starts before treatment."
            )
        if always_treated == "drop":
            keep = ~rows
            dropped = int(rows.sum())
            notes.append(f"{int(always.sum())} always-treated units ({dropped} rows) dropped")
            sub = df.loc[keep] if keep.size == len(df) else df
            return _drop_then_validate(sub, dropped, notes, outcome=outcome, unit=unit,
                                       time=time, treatment=treatment,
                                       first_treated=first_treated, cluster=cluster,
                                       weights=weights, covariates=covariates,
                                       require_controls=require_controls)

        notes.append(
            f"{int(always.sum())} units ({int(rows.sum())} rows) are never observed before their "
            "treatment starts (always treated); they inform only the period effects"
        )

    ever = np.isfinite(first)
    if not ever.any():
        raise DataError(
            f"no treated units: {'the treatment' if treatment else 'first_treated'} column "
            f"{(treatment or first_treated)!r} marks no unit as exposed in the observed periods "
            f"({periods.min():g}-{periods.max():g}). Check the coding (1 = exposed) and the "
            "period range."
        )
    if require_controls and ever.all():
        raise DataError(
            f"all {n_units} units are treated at some point and none stays untreated: a single "
            "group has no control. Add never-treated units, or use StaggeredDiD with "
            "control='not_yet_treated'."
        )
    if n_periods < 2:
        raise DataError(f"only one period ({periods[0]:g}) in column {time!r}; a DiD needs two "
                        "or more.")

    if cluster is None:
        c_codes, c_labels = u_codes, tuple(u_labels.tolist())
    else:
        c_codes, c_labels = _codes(df[cluster], "cluster", cluster, sort=True)
    n_clusters = len(c_labels)
    if n_clusters < 2:
        raise DataError(f"column {cluster_name!r} (the cluster) has a single value; "
                        "cluster-robust inference needs two or more clusters.")

    w = None
    if weights is not None:
        w = numeric_column(df, weights, role="weights")
        neg = w < 0
        if neg.any():
            raise DataError(
                f"column {weights!r} (the weights) has {int(neg.sum())} negative values "
                f"(e.g. {_example(df, neg, [unit, time, weights])}); weights must be >= 0."
            )
        if not (w > 0).any():
            raise DataError(f"column {weights!r} (the weights) is zero in every row.")
    x = None
    if covariates:
        x = np.column_stack([numeric_column(df, c, role="covariate") for c in covariates])

    # gaps inside each unit's observed span
    if balanced:
        n_missing = 0
    elif not dense:
        lo_t = np.full(n_units, n_periods)
        hi_t = np.full(n_units, -1)
        np.minimum.at(lo_t, u_codes, t_codes)
        np.maximum.at(hi_t, u_codes, t_codes)
        gaps = (hi_t - lo_t + 1 - np.bincount(u_codes, minlength=n_units)).astype(np.int64)
        n_missing = int(gaps.sum())
    else:
        present = counts.reshape(n_units, n_periods) > 0
        first_p = np.argmax(present, axis=1)
        last_p = n_periods - 1 - np.argmax(present[:, ::-1], axis=1)
        gaps = (last_p - first_p + 1 - present.sum(axis=1)).astype(np.int64)
        n_missing = int(gaps.sum())
    if n_missing:
        notes.append(
            f"{n_missing} unit-periods are missing inside units' observed spans "
            f"({int((gaps > 0).sum())} units have gaps, e.g. unit "
            f"{_plain(u_labels[int(np.flatnonzero(gaps)[0])])!r}); two-way fixed effects use the "
            "observed periods"
        )

    # is each unit in one cluster?
    if cluster is None:
        nested = True
    else:
        c_unit = np.empty(n_units, dtype=np.int64)
        c_unit[u_codes] = c_codes
        nested = bool(np.all(c_unit[u_codes] == c_codes))

    cell = c_codes * n_periods + t_codes
    if n_clusters * n_periods <= 4 * cell.size + 1_000_000:
        n_cell = np.bincount(cell, minlength=n_clusters * n_periods)
        d_cell = np.bincount(cell, weights=d, minlength=n_clusters * n_periods)
        cell_stats = (cell, n_cell, d_cell)
        exposed = d_cell.reshape(n_clusters, n_periods).sum(axis=1) > 0
    else:  # many sparse cells: compress by sorting, no dense table
        uniq, inv = np.unique(cell, return_inverse=True)
        n_cell = np.bincount(inv, minlength=uniq.size)
        d_cell = np.bincount(inv, weights=d, minlength=uniq.size)
        cell_stats = None
        exposed = np.bincount(uniq // n_periods, weights=d_cell, minlength=n_clusters) > 0
    within = bool(np.any((d_cell > 0) & (d_cell < n_cell)))

    return Panel(
        outcome=y, time=t, treat=d, unit_codes=u_codes, time_codes=t_codes,
        cluster_codes=c_codes, unit_labels=u_labels, cluster_labels=c_labels, periods=periods,
        first_treated=first, weights=w, covariates=x, covariate_names=covariates,
        balanced=balanced, n_missing_periods=n_missing, unit_in_cluster=nested,
        treatment_varies_within_cell=within, cluster_name=cluster_name,
        dropped_always_treated=dropped, warnings=tuple(notes), cluster_exposed=exposed,
        cell_stats=cell_stats,
    )


def _drop_then_validate(sub, dropped, notes, **kw) -> Panel:
    panel = validate_panel(sub, always_treated="error", **kw)
    return Panel(**{**panel.__dict__, "dropped_always_treated": dropped,
                    "warnings": tuple(notes) + panel.warnings})


__all__ = ["Panel", "validate_panel"]
