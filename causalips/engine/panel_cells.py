"""The sufficient statistics of a difference-in-differences fit, computed in the engine.

A DiD or event study whose exposure is set per cluster x period (e.g. municipality x year)
needs from the person rows only counts, sums and sums of squares of the outcome per cell, and
a few facts about the units: is the panel balanced, does each person stay in one cluster, is
the timing constant within a person. This module asks the engine for them and checks the panel
with the pandas path's messages (:func:`causalips.panel.validate_panel`):

1. the cells: ``GROUP BY cluster, period`` (for repeated cross-sections and panels whose unit
   is the cluster: ``GROUP BY unit, cluster, period``) with the outcome's count, sum and sum of
   squares, the exposed rows, the range of the first exposed period and of each covariate, and
   the missing-value counts (first a lean version that only proves there is nothing to count,
   :mod:`causalips.engine._panel_fast`; the full one runs when it cannot);
2. the units of a person panel: ``GROUP BY person`` with the rows, the periods seen (as a bit
   mask), the cluster range and the person's outcome sum, summarised in the engine to one row
   per (cluster, periods seen, rows) pattern; the timing range of each person too. When the
   cells show the timing set per cluster, a lean version asks only for the rows, the periods
   seen and the largest cluster of each person (the cells then prove that nobody moves), and
   the outcome sums, which only the within-person R² needs, wait until it is asked for.

Only these small tables leave the engine; examples for error messages are fetched one row at a
time, and only when there is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from .._checks import MAX_MAGNITUDE, _plain
from ..errors import DataError
from ._panel_exprs import INF, PanelPlan, _bad_number, _count, _missing, _Roles, timing_expressions
from ._panel_fast import full_columns, lean_cell_aggregates
from ._panel_units import keyed_facts, person_facts
from .checks import _example, require_columns
from .frames import Table

#: more cells than this means the keys are (nearly) one per row: nothing to summarise
MAX_CELLS = 2_000_000


@dataclass(frozen=True, eq=False)
class PanelCells:
    """What the engine returned, checked: the cells and the facts about the units.

    ``groups`` has one row per cell (per unit x cluster x period when ``plan.keyed_by_unit``)
    with codes ``cluster``, ``unit`` (or -1), ``period`` and ``people``, ``sum_y``,
    ``sum_y2``, ``exposed``, ``n_first`` (rows with a finite first exposed period),
    ``first_min``, ``first_max`` and, per covariate ``c``, ``c::sum``, ``c::min``, ``c::max``.
    """

    plan: PanelPlan
    groups: pd.DataFrame
    periods: np.ndarray
    cluster_labels: tuple
    n_units: int
    n_obs: int
    balanced: bool
    cluster_balanced: bool  # every unit of a cluster is seen in the same periods
    unit_in_cluster: bool
    n_treated_units: int
    person_sq: float | Callable[[], float] | None  # a function: computed on request
    notes: tuple[str, ...]
    source: str

    @property
    def n_periods(self) -> int:
        return int(self.periods.size)

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_labels)


# -- the cells -----------------------------------------------------------------------------
def _cell_keys(plan: PanelPlan) -> dict:
    keys = {"__cluster": nw.col(plan.cluster_col), "__time": nw.col(plan.time)}
    if plan.keyed_by_unit:
        keys["__unit"] = nw.col(plan.unit)
    return keys


def _cell_query(r: _Roles):
    plan, table = r.plan, r.table
    keys = _cell_keys(plan)
    frame = table.frame.with_columns(**keys)
    if r.first is not None:
        frame = frame.with_columns(__first=r.first.fill_null(INF))
    aggs = {"people": nw.len(), "sum_y": r.y.sum(), "sum_y2": (r.y * r.y).sum(),
            "bad_y": _count(_bad_number(r.y)), "big_y": r.y.abs().max(),
            "exposed": r.d.sum()}
    if plan.treatment is not None:
        aggs["bad_d"] = _count(r.bad_d)
    else:
        aggs["zero_first"] = _count(r.ft == 0)
    if r.first is not None:
        first = nw.col("__first")
        aggs.update(n_first=_count(first < INF), first_min=first.min(), first_max=first.max())
    if not plan.keyed_by_unit:
        aggs["missing_unit"] = _count(_missing(table, plan.unit))
    for c, x in r.x.items():
        aggs.update({f"{c}::bad": _count(_bad_number(x)), f"{c}::sum": x.sum(),
                     f"{c}::min": x.min(), f"{c}::max": x.max(), f"{c}::big": x.abs().max()})
    return _collect_cells(r, frame.group_by(*keys).agg(**aggs))


def _cells_or_lean(r: _Roles) -> pd.DataFrame:
    """The cells: by the lean query when the data pass it, else by the full one."""
    lean = lean_cell_aggregates(r)
    if lean is not None:
        keys = _cell_keys(r.plan)
        frame = r.table.frame.with_columns(**keys)
        cells = full_columns(r, _collect_cells(r, frame.group_by(*keys).agg(**lean)))
        if cells is not None:
            return cells
    return _cell_query(r)


def _collect_cells(r: _Roles, query) -> pd.DataFrame:
    plan, table = r.plan, r.table
    cells = table.collect(query.head(MAX_CELLS + 1))
    if len(cells) > MAX_CELLS:
        raise DataError(
            f"{table.source} has more than {MAX_CELLS:,} {plan.cluster_col} x {plan.time} cells: "
            "the engine path summarises the rows by cluster and period, and here there is about "
            f"one row per cell. Cluster at the level where exposure is set (cluster=, e.g. the "
            "municipality), or aggregate the rows first.")
    return cells


def _refuse_missing_keys(table: Table, plan: PanelPlan, cells: pd.DataFrame) -> None:
    roles = [("cluster", plan.cluster_col, "__cluster")]
    if plan.keyed_by_unit:
        roles.insert(0, ("unit", plan.unit, "__unit"))
    for role, col, key in roles:
        bad = cells[key].isna().to_numpy()
        if bad.any():
            n = int(cells.loc[bad, "people"].sum())
            ex = _example(table, _missing(table, col), [plan.unit, plan.time, col])
            raise DataError(f"column {col!r} (the {role}) has {n} missing values (e.g. the row "
                            f"with {ex}); give them a label or drop them.")
    if "missing_unit" in cells and cells["missing_unit"].astype(float).sum() > 0:
        n = int(cells["missing_unit"].astype(float).sum())
        ex = _example(table, _missing(table, plan.unit), [plan.unit, plan.time])
        raise DataError(f"column {plan.unit!r} (the unit) has {n} missing values (e.g. the row "
                        f"with {ex}); give them a label or drop them.")
    t = pd.to_numeric(cells["__time"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(t)
    if bad.any():
        n = int(cells.loc[bad, "people"].sum())
        ex = _example(table, _bad_number(nw.col(plan.time).cast(nw.Float64)),
                      [plan.unit, plan.time])
        raise DataError(f"column {plan.time!r} (the time) has {n} missing or infinite values "
                        f"(e.g. the row with {ex}); drop or impute those rows first.")


def _refuse_bad_values(r: _Roles, cells: pd.DataFrame, periods: np.ndarray) -> None:
    plan, table = r.plan, r.table
    keys = [plan.unit, plan.time]
    checks = [("bad_y", plan.outcome, "outcome", _bad_number(r.y))]
    checks += [(f"{c}::bad", c, "covariate", _bad_number(x)) for c, x in r.x.items()]
    for name, col, role, condition in checks:
        n = int(cells[name].astype(float).sum())
        if n:
            raise DataError(
                f"column {col!r} (the {role}) has {n} missing or infinite values (e.g. the row "
                f"with {_example(table, condition, [*keys, col])}); drop or impute those rows "
                "first.")
    for name, col, role, value in [("big_y", plan.outcome, "outcome", r.y)] + [
            (f"{c}::big", c, "covariate", x) for c, x in r.x.items()]:
        if cells[name].astype(float).max() > MAX_MAGNITUDE:
            big = value.abs() > MAX_MAGNITUDE
            n = int(table.collect(table.frame.select(_count(big).alias("n")))["n"].iloc[0])
            raise DataError(
                f"column {col!r} (the {role}) has {n} values beyond {MAX_MAGNITUDE:.0e} in "
                f"absolute value (e.g. the row with {_example(table, big, [*keys, col])}); their "
                "squares overflow double precision. Rescale the column (e.g. divide by 1e6) and "
                "scale the estimate back.")
    if plan.treatment is not None and cells["bad_d"].astype(float).sum():
        n = int(cells["bad_d"].astype(float).sum())
        raise DataError(
            f"column {plan.treatment!r} (the treatment) must be 0/1; {n} rows are not (e.g. the "
            f"row with {_example(table, r.bad_d, [*keys, plan.treatment])}). Code exposure as 1 "
            "and no exposure as 0, or pass first_treated= instead.")
    if plan.first_treated is not None and np.any(periods == 0) \
            and cells["zero_first"].astype(float).sum():
        n = int(cells["zero_first"].astype(float).sum())
        raise DataError(
            f"column {plan.first_treated!r} is 0 in {n} rows but 0 is also an observed period of "
            f"{plan.time!r}, so 0 cannot mean 'never treated' (e.g. the row with "
            f"{_example(table, r.ft == 0, [*keys, plan.first_treated])}). Code never-treated "
            "units as missing (NaN) or inf.")


def _codes(values: pd.Series):
    """Sorted labels and the code of each value."""
    labels, codes = np.unique(values.to_numpy(), return_inverse=True)
    return tuple(_plain(v) for v in labels), codes.astype(np.int64)


# -- the whole thing ---------------------------------------------------------------------------
def panel_cells(table: Table, plan: PanelPlan, *, require_controls: bool = True) -> PanelCells:
    """Check the panel in the engine and return its cells (see the module docstring)."""
    roles = {"outcome": plan.outcome, "unit": plan.unit, "time": plan.time,
             "treatment": plan.treatment, "first_treated": plan.first_treated,
             "cluster": plan.cluster}
    roles.update({f"covariate {c!r}": c for c in plan.covariates})
    require_columns(table, roles)
    r = _Roles(table, plan)
    cells = _cells_or_lean(r)
    if cells.empty:
        raise DataError("data has no rows; nothing to estimate.")
    _refuse_missing_keys(table, plan, cells)
    periods = np.unique(cells["__time"].to_numpy(float))
    _refuse_bad_values(r, cells, periods)
    g = _coded_groups(cells, plan, periods)
    facts = (keyed_facts(r, g, periods.size) if plan.keyed_by_unit
             else person_facts(r, periods, g))
    _check_groups(plan, facts, periods, require_controls)
    cluster_labels = g.attrs["cluster_labels"]
    if len(cluster_labels) < 2:
        raise DataError(f"column {plan.cluster_col!r} (the cluster) has a single value; "
                        "cluster-robust inference needs two or more clusters.")
    return PanelCells(plan=plan, groups=g, periods=periods, cluster_labels=cluster_labels,
                      n_units=facts["n_units"], n_obs=int(g["people"].sum()),
                      balanced=facts["balanced"], cluster_balanced=facts["cluster_balanced"],
                      unit_in_cluster=facts["unit_in_cluster"],
                      n_treated_units=facts["n_treated_units"], person_sq=facts["person_sq"],
                      notes=tuple(facts["notes"]), source=table.source)


def _coded_groups(cells: pd.DataFrame, plan: PanelPlan, periods: np.ndarray) -> pd.DataFrame:
    g = pd.DataFrame({"period_value": cells["__time"].to_numpy(float)})
    g["period"] = np.searchsorted(periods, g["period_value"].to_numpy())
    cluster_labels, g["cluster"] = _codes(cells["__cluster"])
    g.attrs["cluster_labels"] = cluster_labels
    g.attrs["cluster_values"] = tuple(np.unique(cells["__cluster"].to_numpy()).tolist())
    if plan.keyed_by_unit:
        unit_labels, g["unit"] = _codes(cells["__unit"])
        g.attrs["unit_labels"] = unit_labels
    else:
        g["unit"] = -1
    for c in cells.columns:
        if not c.startswith("__") and not c.endswith(("::bad", "::big")) and c not in (
                "bad_y", "big_y", "bad_d", "zero_first", "missing_unit"):
            g[c] = cells[c].to_numpy(float)
    if plan.cluster is None:  # the unit is the cluster: one label set
        g["cluster"] = g["unit"]
        g.attrs["cluster_labels"] = g.attrs["unit_labels"]
    return g


def _check_groups(plan, facts, periods, require_controls) -> None:
    col = plan.treatment or plan.first_treated
    if not facts["n_treated_units"]:
        raise DataError(
            f"no treated units: {'the treatment' if plan.treatment else 'first_treated'} column "
            f"{col!r} marks no unit as exposed in the observed periods "
            f"({periods.min():g}-{periods.max():g}). Check the coding (1 = exposed) and the "
            "period range.")
    if require_controls and facts["n_treated_units"] == facts["n_units"]:
        raise DataError(
            f"all {facts['n_units']} units are treated at some point and none stays untreated: a "
            "single group has no control. Add never-treated units, or use StaggeredDiD with "
            "control='not_yet_treated'.")
    if periods.size < 2:
        raise DataError(f"only one period ({periods[0]:g}) in column {plan.time!r}; a DiD "
                        "needs two or more.")


__all__ = ["INF", "MAX_CELLS", "PanelCells", "PanelPlan", "panel_cells", "timing_expressions"]
