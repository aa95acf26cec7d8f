"""The cohort moments of a Callaway–Sant'Anna fit without covariates, computed in the engine.

Without covariates every ATT(g,t) is a difference of means of outcome changes between cohorts,
and its influence function is linear in each unit's outcomes. So the engine only needs, per
cohort (first treated period), the number of units, the sums of their outcome in each period
and — for the variance without clusters — the T x T cross-products of those outcomes; with
clusters, the counts and sums per cluster x cohort instead (everything the multiplier bootstrap
draws per cluster needs). The outcomes are centred by the period means first, which keeps the
cross-products accurate.

Panels are pivoted per unit in the engine (``GROUP BY unit`` with one conditional sum per
period), checked there (duplicates, timing or cluster changing within a unit, always-treated
units, units missing periods) and summarised per cohort (x cluster) in the same query. Repeated
cross-sections need one ``GROUP BY first treated, period (, cluster)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from .._checks import MAX_MAGNITUDE, _plain
from ..errors import DataError
from ._panel_exprs import INF, UNIT_KEY, PanelPlan, _bad_number, _count, _missing, _Roles, by_unit
from ._panel_units import _bit_positions, _period_bit, refuse_duplicates
from .checks import _example, require_columns
from .frames import Table
from .panel_cells import MAX_CELLS

#: status of a unit in the panel summary
KEPT, ALWAYS, INCOMPLETE, DUPLICATED = 0, 1, 2, 3


@dataclass(frozen=True, eq=False)
class CohortMoments:
    """What the engine returned for a staggered DiD, checked.

    ``groups`` has one row per cohort (x cluster; x period for repeated cross-sections) of the
    kept units/rows: ``first`` (inf = never treated, late cohorts already recoded), ``cluster``
    (code, or -1), ``count`` and the sums: panel ``s::k`` (centred outcome in period k) and,
    without clusters, ``c::j::k`` (cross-products); repeated cross-sections ``period`` (code),
    ``sum`` and ``ss`` (sum of squares around the group's own mean).
    """

    groups: pd.DataFrame
    periods: np.ndarray
    cluster_labels: tuple | None
    n_obs: int
    notes: tuple[str, ...]  # (message, kind) pairs are issued by the estimator
    dropped: tuple[str, ...]


def _light_query(r: _Roles, plan: PanelPlan, by_cluster: bool):
    """One pass by period: the periods, the outcome's mean and the bad-value counts."""
    table = r.table
    aggs = {"n": nw.len(), "good": _count(~_bad_number(r.y)),
            "sum_y": nw.when(~_bad_number(r.y)).then(r.y).otherwise(0.0).sum(),
            "bad_y": _count(_bad_number(r.y)),
            "big_y": nw.when(~_bad_number(r.y)).then(r.y.abs()).otherwise(0.0).max(),
            "zero_first": _count(r.ft == 0)}
    if plan.panel:
        aggs["missing_unit"] = _count(_missing(table, plan.unit))
    if by_cluster:
        aggs["missing_cluster"] = _count(_missing(table, plan.cluster))
    by_time = table.frame.with_columns(__time=nw.col(plan.time)).group_by("__time")
    out = table.collect(by_time.agg(**aggs).head(MAX_CELLS + 1))
    if len(out) > MAX_CELLS:
        raise DataError(f"{table.source} has more than {MAX_CELLS:,} distinct periods in "
                        f"{plan.time!r}; aggregate the time column to periods (e.g. years) first.")
    if out.empty:
        raise DataError("data has no rows; nothing to estimate.")
    for c in out.columns:
        if c != "__time":
            out[c] = out[c].astype(float)
    return out


def _refuse(r: _Roles, plan: PanelPlan, light: pd.DataFrame, *, allow_missing_y: bool):
    table = r.table
    keys = [k for k in (plan.unit if plan.panel else None, plan.time) if k]
    t = pd.to_numeric(light["__time"], errors="coerce").to_numpy(float)
    if not np.isfinite(t).all():
        n = int(light.loc[~np.isfinite(t), "n"].sum())
        ex = _example(table, _bad_number(r.t), keys)
        raise DataError(f"column {plan.time!r} (the time) has {n} missing or infinite values "
                        f"(e.g. the row with {ex}); drop or impute those rows first.")
    for col, role, name in ((plan.unit, "unit", "missing_unit"),
                            (plan.cluster, "cluster", "missing_cluster")):
        if name in light and light[name].sum():
            raise DataError(
                f"column {col!r} (the {role}) has {int(light[name].sum())} missing values (e.g. "
                f"the row with {_example(table, _missing(table, col), [*keys, col])}); give "
                "them a label or drop them.")
    if light["bad_y"].sum() and not allow_missing_y:
        raise DataError(
            f"column {plan.outcome!r} (the outcome) has {int(light['bad_y'].sum())} missing or "
            f"infinite values (e.g. the row with "
            f"{_example(table, _bad_number(r.y), [*keys, plan.outcome])}); drop or impute those "
            "rows first.")
    if light["big_y"].max() > MAX_MAGNITUDE:
        raise DataError(
            f"column {plan.outcome!r} (the outcome) has values beyond {MAX_MAGNITUDE:.0e} in "
            "absolute value; their squares overflow. Rescale the column (e.g. divide by 1e6) "
            "and scale the estimate back.")
    if light["zero_first"].sum() and np.any(t == 0):
        raise DataError(
            f"column {plan.first_treated!r} is 0 in {int(light['zero_first'].sum())} rows but 0 "
            f"is also an observed period of {plan.time!r}, so 0 cannot mean 'never treated'. "
            "Code never-treated units as missing (NaN) or inf.")
    return np.sort(t)


# -- panels -----------------------------------------------------------------------------------
def _panel_query(r: _Roles, plan: PanelPlan, periods, mu, cross: bool):
    """Units pivoted (one centred sum per period), given a status, summed per cohort x
    cluster x status: one heavy query."""
    bits = _bit_positions(periods)
    if bits is None:
        raise DataError(f"{periods.size} periods in {plan.time!r}: StaggeredDiD on data held by "
                        f"an engine handles up to 52; aggregate the periods (e.g. to years).")
    aggs = {"n": nw.len(), "mask": _period_bit(r, periods, bits).sum(), "tmin": r.t.min(),
            "fmin": r.first.min(), "fmax": r.first.max()}
    if plan.cluster:
        aggs.update(cmin=nw.col(plan.cluster).min(), cmax=nw.col(plan.cluster).max())
    for k, p in enumerate(periods):  # one conditional sum per period (a few dozen at most)
        aggs[f"s::{k}"] = nw.when(r.t == float(p)).then(r.y - float(mu[k])).otherwise(0.0).sum()
    units = by_unit(r).agg(**aggs)
    full = float(np.sum(2.0 ** bits))
    popcount = sum((nw.col("mask").cast(nw.Int64) // int(2 ** int(b))) % 2 for b in bits)
    always = (nw.col("fmin") < INF) & (nw.col("fmin") <= nw.col("tmin"))
    status = (nw.when(popcount != nw.col("n")).then(nw.lit(DUPLICATED))
              .otherwise(nw.when(always).then(nw.lit(ALWAYS))
                         .otherwise(nw.when((nw.col("n") == periods.size)
                                            & (nw.col("mask") == full)).then(nw.lit(KEPT))
                                    .otherwise(nw.lit(INCOMPLETE)))))
    keys = {"status": status, "first": nw.col("fmin")}
    if plan.cluster:
        keys["cluster"] = nw.col("cmin")
    out_aggs = {"count": nw.len(), "rows": nw.col("n").sum(),
                "varies": _count(nw.col("fmin") != nw.col("fmax"))}
    if plan.cluster:
        out_aggs["moved"] = _count(nw.col("cmin") != nw.col("cmax"))
    t_n = periods.size
    out_aggs.update({f"s::{k}": nw.col(f"s::{k}").sum() for k in range(t_n)})
    if cross:
        out_aggs.update({f"c::{j}::{k}": (nw.col(f"s::{j}") * nw.col(f"s::{k}")).sum()
                         for j in range(t_n) for k in range(j, t_n)})
    summary = units.with_columns(**keys).group_by(*keys).agg(**out_aggs)
    out = r.table.collect(summary.head(MAX_CELLS + 1))
    for c in out.columns:
        if c != "cluster":
            out[c] = out[c].astype(float)
    return out, units


def panel_moments(table: Table, plan: PanelPlan, *, require_controls: bool) -> CohortMoments:
    """Cohort (x cluster) moments of the balanced panel R's ``did`` estimates on."""
    require_columns(table, {"outcome": plan.outcome, "unit": plan.unit, "time": plan.time,
                            "first_treated": plan.first_treated, "cluster": plan.cluster})
    r = _Roles(table, plan)
    light = _light_query(r, plan, plan.cluster is not None)
    periods = _refuse(r, plan, light, allow_missing_y=False)
    by_period = light.sort_values("__time")
    mu = (by_period["sum_y"] / by_period["good"]).to_numpy()
    g, units = _panel_query(r, plan, periods, mu, cross=plan.cluster is None)
    if (g["status"] == DUPLICATED).any():
        refuse_duplicates(r)
    if g["varies"].sum():
        found = table.collect(units.filter(nw.col("fmin") != nw.col("fmax"))
                              .select(UNIT_KEY).head(1))
        ex = _example(table, nw.col(plan.unit) == _plain(found.iloc[0, 0]),
                      [plan.unit, plan.time, plan.first_treated])
        raise DataError(
            f"column {plan.first_treated!r} (the first_treated period) changes within a unit "
            f"(e.g. the row with {ex}). It must be one value per unit: the first period the "
            "unit is exposed.")
    if "moved" in g and g["moved"].sum():
        raise DataError(f"column {plan.cluster!r} (the cluster) changes within a unit; "
                        "StaggeredDiD needs each unit in one cluster")
    dropped = []
    always = g["status"] == ALWAYS
    if always.any():
        dropped.append(f"{int(g.loc[always, 'count'].sum())} always-treated units "
                       f"({int(g.loc[always, 'rows'].sum())} rows) dropped")
    rest = g.loc[~always]
    treated = rest.loc[rest["first"] < INF, "count"].sum()
    _check_groups(plan, treated, rest["count"].sum(), periods, require_controls)
    incomplete = rest["status"] == INCOMPLETE
    if incomplete.any():
        dropped.append(
            f"{int(rest.loc[incomplete, 'count'].sum())} units not observed in all "
            f"{periods.size} periods ({int(rest.loc[incomplete, 'rows'].sum())} rows) dropped "
            "to balance the panel, as R's did does")
    kept = rest.loc[rest["status"] == KEPT].copy()
    if kept.empty:
        raise DataError("no units left after balancing the panel; check the unit and time "
                        "columns, or pass panel=False for repeated cross-sections")
    return _finish(kept, plan, periods, dropped, "units",
                   n_obs=int(kept["count"].sum()) * periods.size)


def _check_groups(plan, treated, n_units, periods, require_controls) -> None:
    if not treated:
        raise DataError(
            f"no treated units: first_treated column {plan.first_treated!r} marks no unit as "
            f"exposed in the observed periods ({periods.min():g}-{periods.max():g}). Check the "
            "coding (1 = exposed) and the period range.")
    if require_controls and treated == n_units:
        raise DataError(
            f"all {int(n_units)} units are treated at some point and none stays untreated: a "
            "single group has no control. Add never-treated units, or use StaggeredDiD with "
            "control='not_yet_treated'.")
    if periods.size < 2:
        raise DataError(f"only one period ({periods[0]:g}) in column {plan.time!r}; a DiD "
                        "needs two or more.")


def _finish(kept: pd.DataFrame, plan: PanelPlan, periods, dropped, what, *, n_obs):
    """Late cohorts recoded as never treated, clusters coded, the moments summed per key."""
    notes = []
    late = (kept["first"] < INF) & (kept["first"] > periods[-1])
    if late.any():
        notes.append(f"{int(kept.loc[late, 'count'].sum())} {what} first treated after the last "
                     "period are treated as never treated")
        kept.loc[late, "first"] = INF
    labels = None
    if plan.cluster:
        values = np.unique(kept["cluster"].to_numpy())
        labels = tuple(_plain(v) for v in values)
        kept["cluster"] = np.searchsorted(values, kept["cluster"].to_numpy())
    else:
        kept["cluster"] = -1
    keys = ["first", "cluster"] + (["period"] if "period" in kept else [])
    sums = [c for c in kept.columns if c.startswith(("s::", "c::")) or c in ("count", "sum")]
    out = kept.groupby(keys, as_index=False, sort=True)[sums].sum()
    if "ss" in kept:  # sums of squares around each group's mean, merged around the new mean
        mean = kept.groupby(keys)["sum"].transform("sum") / kept.groupby(keys)["count"] \
            .transform("sum")
        part = kept["ss"] + kept["count"] * (kept["sum"] / kept["count"] - mean) ** 2
        out["ss"] = part.groupby([kept[k] for k in keys], sort=True).sum().to_numpy()
    return CohortMoments(groups=out, periods=periods, cluster_labels=labels, n_obs=n_obs,
                         notes=tuple(notes), dropped=tuple(dropped))


# -- repeated cross-sections -----------------------------------------------------------------
def cross_section_moments(table: Table, plan: PanelPlan) -> CohortMoments:
    """Cohort x period (x cluster) counts, sums and sums of squares of the rows R's ``did``
    (``panel = FALSE``) estimates on; rows with a missing outcome are left out (warned)."""
    require_columns(table, {"outcome": plan.outcome, "time": plan.time,
                            "first_treated": plan.first_treated, "cluster": plan.cluster})
    r = _Roles(table, plan)
    light = _light_query(r, plan, plan.cluster is not None)
    all_periods = _refuse(r, plan, light, allow_missing_y=True)
    good = ~_bad_number(r.y)
    keys = {"__first": r.first, "__period": r.t}  # never a user's column name
    if plan.cluster:
        keys["__cluster"] = nw.col(plan.cluster)
    query = (table.frame.filter(good).with_columns(**keys).group_by(*keys)
             .agg(count=nw.len(), sum=r.y.sum(), ss=r.y.var(ddof=0) * nw.len()))
    g = table.collect(query.head(MAX_CELLS + 1)).rename(
        columns={"__first": "first", "__period": "period_value", "__cluster": "cluster"})
    if len(g) > MAX_CELLS:
        raise DataError(f"{table.source} has more than {MAX_CELLS:,} cohort x period x cluster "
                        "cells; cluster at a coarser level or aggregate first.")
    for c in ("first", "period_value", "count", "sum", "ss"):
        g[c] = g[c].astype(float)
    dropped = []
    n_missing = int(light["bad_y"].sum())
    if n_missing:
        dropped.append(f"{n_missing} rows with a missing outcome or covariate dropped")
    always = (g["first"] < INF) & (g["first"] <= all_periods[0])
    if always.any():
        dropped.append(f"{int(g.loc[always, 'count'].sum())} rows of cohorts treated in or "
                       f"before the first period ({all_periods[0]:g}) dropped: they have no "
                       "pre-treatment period (as R's did)")
    kept = g.loc[~always].copy()
    if kept.empty:
        raise DataError("no rows left after dropping rows with a missing outcome or covariate "
                        "and rows of cohorts treated in or before the first period")
    periods = np.unique(kept["period_value"].to_numpy())
    if periods.size < 2:
        raise DataError(f"column {plan.time!r} has {periods.size} period(s) left; a DiD needs "
                        "two or more")
    kept["period"] = np.searchsorted(periods, kept["period_value"].to_numpy())
    kept = kept.drop(columns="period_value")
    return _finish(kept, plan, periods, dropped, "rows", n_obs=int(kept["count"].sum()))


__all__ = ["CohortMoments", "cross_section_moments", "panel_moments"]
