"""DiD and event studies on data held by an engine (Parquet/CSV files, DuckDB, polars, Spark).

The engine computes the cluster x period cell statistics (:mod:`causalips.engine.panel_cells`);
here they become a :class:`CellPanel` — the cells seen as the rows of a small panel, with the
person-level counts beside them — and go through the same cell fit as rows in memory
(:func:`~causalips.did._cell_fit.fit_cell_moments`), so the coefficients, CR1 standard errors
and every resampling method equal the pandas path's. What does not reduce to cells exactly is
refused with an error naming the aggregation to do first; nothing is collected silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from ..engine import as_table
from ..engine.frames import Table
from ..engine.panel_cells import (
    INF,
    MAX_CELLS,
    PanelCells,
    PanelPlan,
    panel_cells,
    timing_expressions,
)
from ..errors import DataError, DroppedRowsWarning, SpecificationError, warn
from ._cell_fit import CellMoments, cell_roles, fit_cell_moments

ROLE_FE = ("unit", "time", "cluster")


@dataclass(frozen=True, eq=False)
class CellPanel:
    """The cells of an engine fit, read by the estimators as the rows of a panel.

    ``treat``, ``event_time``, ``first_treated``, ``covariates`` and ``share_weights`` (people)
    have one entry per cell; ``n_obs``, ``n_units`` count the person-level rows and units.
    """

    cells: pd.DataFrame  # cluster, period (codes), people, sum_y, sum_y2, exposed, ...
    source: PanelCells
    treat: np.ndarray
    first_treated: np.ndarray
    covariates: np.ndarray | None
    covariate_names: tuple[str, ...]
    warnings: tuple[str, ...]
    weights = None

    @property
    def periods(self) -> np.ndarray:
        return self.source.periods

    @property
    def n_periods(self) -> int:
        return self.source.n_periods

    @property
    def n_units(self) -> int:
        return self.source.n_units

    @property
    def n_obs(self) -> int:
        return self.source.n_obs

    @property
    def n_clusters(self) -> int:
        return self.source.n_clusters

    @property
    def cluster_name(self) -> str:
        return self.source.plan.cluster_col

    @property
    def repeated_cross_sections(self) -> bool:
        return not self.source.plan.panel

    @property
    def unit_codes(self) -> np.ndarray:
        return np.arange(len(self.cells))

    @property
    def share_weights(self) -> np.ndarray:
        return self.cells["people"].to_numpy()

    @property
    def event_time(self) -> np.ndarray:
        return self.cells["period_value"].to_numpy() - self.first_treated

    @property
    def cluster_treated(self) -> np.ndarray:
        exposed = np.bincount(self.cells["cluster"], weights=self.treat,
                              minlength=self.n_clusters)
        return exposed > 0

    @property
    def n_treated_clusters(self) -> int:
        return int(self.cluster_treated.sum())


def _cells(g: pd.DataFrame, covariates) -> pd.DataFrame:
    """Groups keyed by unit summed to cluster x period cells (the cells as they are else)."""
    if (g["unit"] < 0).all():
        return g.sort_values(["cluster", "period"], ignore_index=True)
    agg = {"people": "sum", "sum_y": "sum", "sum_y2": "sum", "exposed": "sum",
           "period_value": "first"}
    if "n_first" in g:
        agg.update(n_first="sum", first_min="min", first_max="max")
    for c in covariates:
        agg.update({f"{c}::sum": "sum", f"{c}::min": "min", f"{c}::max": "max"})
    return g.groupby(["cluster", "period"], as_index=False, sort=True).agg(agg)


def _label(source: PanelCells, cells: pd.DataFrame, mask: np.ndarray) -> str:
    row = cells.loc[mask].iloc[0]
    plan = source.plan
    return (f"{plan.cluster_col}={source.cluster_labels[int(row['cluster'])]!r}, "
            f"{plan.time}={row['period_value']:g}")


def _cell_panel(source: PanelCells, event_study: bool) -> CellPanel:
    plan = source.plan
    cells = _cells(source.groups, plan.covariates)
    n = cells["people"].to_numpy()
    share = cells["exposed"].to_numpy() / n
    mixed = (share > 1e-12) & (share < 1 - 1e-12)
    if mixed.any():
        raise DataError(
            f"exposure varies within {plan.cluster_col} x {plan.time} cells (person-level timing, "
            f"e.g. {_label(source, cells, mixed)}: {share[mixed][0]:.0%} exposed). The engine "
            "path fits on cluster x period cells, which is exact only when exposure is set per "
            "cell: pass cluster= the level where exposure is set (e.g. the municipality), or "
            "fit the rows in memory (a pandas DataFrame).")
    first = _first_per_cell(source, cells, share, event_study)
    x, names = None, plan.covariates
    if names:
        x = np.column_stack([_constant_covariate(source, cells, c) for c in names])
    return CellPanel(cells=cells, source=source, treat=np.round(share), first_treated=first,
                     covariates=x, covariate_names=names, warnings=source.notes)


def _first_per_cell(source: PanelCells, cells, share, event_study) -> np.ndarray:
    """The first exposed period of each cell's people (event times need it cell-constant)."""
    plan = source.plan
    if "n_first" not in cells:  # DiD with a treatment column: the cluster's first exposure
        exposed_at = cells["period_value"].where(share > 0.5)
        return exposed_at.groupby(cells["cluster"]).transform("min").fillna(INF).to_numpy()
    first_min = cells["first_min"].to_numpy()
    if event_study:
        n_first, n = cells["n_first"].to_numpy(), cells["people"].to_numpy()
        varies = ((n_first > 0) & (n_first < n)) | (first_min != cells["first_max"].to_numpy())
        if varies.any():
            raise DataError(
                f"the first exposed period varies within {plan.cluster_col} x {plan.time} cells "
                f"(e.g. {_label(source, cells, varies)}), so the event times are not constant "
                "within cells. The engine path fits an event study on cluster x period cells: "
                "give every unit of a cluster the same first_treated (timing set per cluster), "
                "or fit the rows in memory (a pandas DataFrame).")
    return first_min


def _constant_covariate(source: PanelCells, cells: pd.DataFrame, c: str) -> np.ndarray:
    lo, hi = cells[f"{c}::min"].to_numpy(), cells[f"{c}::max"].to_numpy()
    varies = np.abs(hi - lo) > 1e-12 * np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
    if varies.any():
        plan = source.plan
        i = int(np.flatnonzero(varies)[0])
        raise DataError(
            f"covariate {c!r} varies within {plan.cluster_col} x {plan.time} cells (e.g. "
            f"{_label(source, cells, varies)}: {lo[i]:g} to {hi[i]:g}). The engine path fits on "
            "cells and needs covariates constant within them: aggregate it to the cell first "
            f"(e.g. GROUP BY {plan.cluster_col}, {plan.time}: avg({c})) and join it back, or "
            "fit the rows in memory (a pandas DataFrame).")
    return cells[f"{c}::sum"].to_numpy() / cells["people"].to_numpy()


# -- refusals ---------------------------------------------------------------------------------
def refuse_unpushable(est, *, sun_abraham: bool = False) -> None:
    """Options that do not reduce to cell statistics: a clear error, never a silent collect."""
    name = type(est).__name__
    if est.weights is not None:
        raise SpecificationError(
            f"{name}(weights={est.weights!r}) on data held by an engine: a weighted person-level "
            "regression does not reduce to cluster x period cells, so it is not pushed into the "
            "engine. Fit the rows in memory (a pandas DataFrame), or drop weights= (unweighted, "
            "the cells are exact).")
    extra = [f for f in est.fixed_effects if f not in ROLE_FE]
    if extra:
        raise SpecificationError(
            f"{name}(fixed_effects={est.fixed_effects!r}) on data held by an engine: only the "
            "'unit', 'time' and 'cluster' effects are pushed into the engine (as cell sums); "
            f"{extra[0]!r} is not. Fit the rows in memory (a pandas DataFrame), or aggregate to "
            f"cells of {extra[0]!r} x period yourself and fit those with cell_counts=.")
    if not est.fixed_effects:
        raise SpecificationError(
            f"{name}(fixed_effects=()) on data held by an engine: the cell path needs period "
            "and unit (or cluster) effects; use fixed_effects=('unit', 'time').")
    if sun_abraham and est.covariates:
        raise SpecificationError(
            f"{name}(method='sun_abraham', covariates=...) on data held by an engine is not "
            "pushed into the engine; fit the rows in memory (a pandas DataFrame), or drop the "
            "covariates (cohort x event-time effects alone are computed on cells).")


def _refuse_roles(est, source: PanelCells) -> None:
    plan = source.plan
    why = []
    if "unit" in est.fixed_effects and plan.panel and not source.cluster_balanced:
        why.append("the panel is unbalanced (person fixed effects reduce to cluster effects "
                   "only when all people of a cluster are seen in the same periods, at least "
                   "two)")
    if "unit" in est.fixed_effects and not source.unit_in_cluster:
        why.append(f"units move between {plan.cluster_col} clusters")
    if "unit" in est.fixed_effects and not plan.panel:
        why.append(f"the unit ({plan.unit}) is not the cluster ({plan.cluster_col}): unit "
                   "effects vary within cluster x period cells")
    raise SpecificationError(
        f"{type(est).__name__}(fixed_effects={est.fixed_effects!r}) on data held by an engine: "
        f"{'; '.join(why) or 'these fixed effects do not reduce to cluster x period cells'}. "
        "Use fixed_effects=('cluster', 'time') (municipality and period effects: exact on "
        "cells), balance the panel first, or fit the rows in memory (a pandas DataFrame).")


# -- the fit ----------------------------------------------------------------------------------
def plan_of(est, *, event_first: bool) -> PanelPlan:
    return PanelPlan(outcome=est.outcome, unit=est.unit, time=est.time, treatment=est.treatment,
                     first_treated=est.first_treated, cluster=est.cluster,
                     covariates=est.covariates, panel=est.panel, event_first=event_first)


def prepare_in_engine(est, data, build_x, *, event_study: bool = False):
    """The fields of the :class:`~causalips.did._fe_plan.Prepared` fit of ``est`` on engine
    data (panel, fe, fit, row_cell, n_dropped, notes, engine, cells)."""
    table = data if isinstance(data, Table) else as_table(data)
    source = panel_cells(table, plan_of(est, event_first=event_study))
    panel = _cell_panel(source, event_study)
    x, xnames = build_x(panel)
    plan = source.plan
    roles = cell_roles(est.fixed_effects,
                       unit_is_cluster=source.unit_in_cluster
                       and source.n_units == source.n_clusters,
                       balanced=source.cluster_balanced,
                       unit_in_cluster=source.unit_in_cluster)
    if roles is None:
        _refuse_roles(est, source)
    roles, person = roles
    c = panel.cells
    moments = CellMoments(
        cluster=c["cluster"].to_numpy(), period=c["period"].to_numpy(),
        people=c["people"].to_numpy(), sum_y=c["sum_y"].to_numpy(),
        sum_y2=c["sum_y2"].to_numpy(), exposed=c["exposed"].to_numpy(),
        x=np.asarray(x, dtype=np.float64), n_periods=source.n_periods, n_obs=source.n_obs,
        person_sq=source.person_sq if person else None)
    out = fit_cell_moments(moments, roles, xnames)
    if out is None:
        raise DataError(
            f"a {' or '.join(roles)} fixed-effect level holds a single person in {table.source}: "
            "the row engine would drop it as a singleton, which the engine path does not do; "
            f"drop that {plan.cluster_col} or period first.")
    fit, fe, row_cell = out
    cells = (moments.cluster, moments.period, moments.people, moments.sum_y,
             panel.cluster_treated[moments.cluster])
    engine = f"cell sufficient statistics, computed by {table.backend} ({table.source})"
    return dict(panel=panel, fe=fe, fit=fit, row_cell=row_cell, n_dropped=0,
                notes=panel.warnings, engine=engine, cells=cells)


def cell_rows_in_memory(est, data) -> pd.DataFrame:
    """``cell_counts=`` data held by an engine: the rows are already cells, read them."""
    table = as_table(data)
    cols = [c for c in (est.outcome, est.unit, est.time, est.treatment, est.first_treated,
                        est.cluster, est.cell_counts, *est.covariates,
                        *[f for f in est.fixed_effects if f not in ROLE_FE]) if c]
    from ..engine.checks import require_columns

    require_columns(table, {c: c for c in dict.fromkeys(cols)})
    query = table.frame.select(*dict.fromkeys(cols))
    rows = table.collect(query.head(MAX_CELLS + 1))
    if len(rows) > MAX_CELLS:
        raise DataError(
            f"cell_counts= says the rows of {table.source} are aggregated cells, but it has more "
            f"than {MAX_CELLS:,} rows; aggregate by cluster and period first (count(*) and "
            "avg(outcome)), or fit the person rows without cell_counts=.")
    return rows


def drop_outside_window(est, data, window):
    """Event study without binning: rows of treated units outside the window, dropped in the
    engine (with the pandas path's warning)."""
    table = data if isinstance(data, Table) else as_table(data)
    t, first = timing_expressions(table, plan_of(est, event_first=True))
    et = t - first
    outside = (first < INF) & ((et < window[0]) | (et > window[1]))
    flagged = table.frame.with_columns(__outside=outside)
    n = int(table.collect(flagged.select(nw.col("__outside").cast(nw.Int64).sum().alias("n")))
            ["n"].iloc[0] or 0)
    if not n:
        return table
    msg = f"{n} rows of treated units outside the window {window} dropped"
    warn(msg, DroppedRowsWarning)
    kept = flagged.filter(~nw.col("__outside")).drop("__outside")
    return Table(kept, table.backend, table.source)


__all__ = ["CellPanel", "cell_rows_in_memory", "drop_outside_window", "prepare_in_engine",
           "refuse_unpushable"]
