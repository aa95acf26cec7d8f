"""The expressions of a DiD plan over a table held by an engine: outcome, period, exposure,
first exposed period, and the counts of bad values (shared by the panel and cohort queries)."""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw

from .checks import numeric_expr
from .frames import Table

INF = float("inf")


@dataclass(frozen=True)
class PanelPlan:
    """The columns of a DiD plan (the roles of :func:`causalips.panel.validate_panel`)."""

    outcome: str
    unit: str
    time: str
    treatment: str | None = None
    first_treated: str | None = None
    cluster: str | None = None
    covariates: tuple[str, ...] = ()
    panel: bool = True
    event_first: bool = False  # an event study: each row's first exposed period is needed

    @property
    def cluster_col(self) -> str:
        return self.cluster or self.unit

    @property
    def keyed_by_unit(self) -> bool:
        """The cells carry the unit: repeated cross-sections, or a panel of clusters."""
        return not self.panel or self.cluster_col == self.unit


def _missing(table: Table, column: str):
    """Null, or NaN in a float column (pandas' isna)."""
    dtype = table.schema[column]
    if dtype in (nw.Float32, nw.Float64):
        return nw.col(column).is_null() | nw.col(column).is_nan()
    return nw.col(column).is_null()


def _bad_number(value):
    """Missing, NaN or infinite (what the pandas path calls missing or infinite)."""
    return value.is_null() | ~(value.abs() < INF)


def _count(condition):
    return condition.cast(nw.Int64).sum()


#: the unit key of per-unit tables, under a name no aggregate takes (a unit column may be
#: called "n" or "mask")
UNIT_KEY = "__unit"


def by_unit(r: _Roles):
    """The rows grouped by the plan's unit, keyed as :data:`UNIT_KEY`."""
    return r.table.frame.with_columns(**{UNIT_KEY: nw.col(r.plan.unit)}).group_by(UNIT_KEY)


class _Roles:
    """The plan's expressions over one table: outcome, time, exposure, first exposed period."""

    def __init__(self, table: Table, plan: PanelPlan):
        self.table, self.plan = table, plan
        self.y = numeric_expr(table, plan.outcome, "outcome")
        self.t = numeric_expr(table, plan.time, "time")
        self.first = None
        if plan.treatment is not None:
            self.d_raw = numeric_expr(table, plan.treatment, "treatment")
            self.bad_d = self.d_raw.is_null() | ~self.d_raw.is_in([0.0, 1.0])
            self.d = self.d_raw
            if plan.event_first:  # the unit's first exposed period, on every row
                self.first = (nw.when(self.d_raw == 1).then(self.t).otherwise(None).min()
                              .over(plan.unit))
        else:
            ft = numeric_expr(table, plan.first_treated, "first_treated")
            self.ft = ft
            never = ft.is_null() | ~(ft.abs() < INF) | (ft == 0)
            self.first = nw.when(never).then(nw.lit(INF)).otherwise(ft)
            self.d = (self.t >= self.first).cast(nw.Float64)
        self.x = {c: numeric_expr(table, c, "covariate") for c in plan.covariates}


def timing_expressions(table: Table, plan: PanelPlan):
    """(period, first exposed period of the row's unit: inf if never) as expressions."""
    r = _Roles(table, plan)
    return r.t, r.first.fill_null(INF)


__all__ = ["INF", "PanelPlan", "timing_expressions"]
