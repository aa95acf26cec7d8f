"""The sufficient statistics of a difference-in-differences fit, computed in the engine.

A DiD or event study whose exposure is set per cluster x period (e.g. municipality x year)
needs from the person rows only counts, sums and sums of squares of the outcome per cell, and
a few facts about the units: is the panel balanced, does each person stay in one cluster, is
the timing constant within a person. This module asks the engine for them and checks the panel
with the pandas path's messages (:func:`causalips.panel.validate_panel`):

1. the cells: ``GROUP BY cluster, period`` (for repeated cross-sections and panels whose unit
   is the cluster: ``GROUP BY unit, cluster, period``) with the outcome's count, sum and sum of
   squares, the exposed rows, the range of the first exposed period and of each covariate, and
   the missing-value counts;
2. the units of a person panel: ``GROUP BY person`` with the rows, the periods seen (as a bit
   mask), the cluster and timing range and the person's outcome sum, summarised in the engine
   to one row per (first period, last period, rows) pattern.

Only these small tables leave the engine; examples for error messages are fetched one row at a
time, and only when there is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from .._checks import MAX_MAGNITUDE, _plain
from ..errors import DataError
from .checks import _example, numeric_expr, require_columns
from .frames import Table

#: more cells than this means the keys are (nearly) one per row: nothing to summarise
MAX_CELLS = 2_000_000
INF = float("inf")
#: bit masks of the periods seen are exact in double precision up to this many periods
MAX_MASK_PERIODS = 52
#: unit patterns (cluster x periods seen x rows) summarised; more fall back to a coarser summary
MAX_PATTERNS = 200_000


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
    person_sq: float | None
    notes: tuple[str, ...]
    source: str

    @property
    def n_periods(self) -> int:
        return int(self.periods.size)

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_labels)


# -- expressions ------------------------------------------------------------------------------
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


# -- 1. the cells -----------------------------------------------------------------------------
def _cell_query(r: _Roles):
    plan, table = r.plan, r.table
    keys = {"__cluster": nw.col(plan.cluster_col), "__time": nw.col(plan.time)}
    if plan.keyed_by_unit:
        keys["__unit"] = nw.col(plan.unit)
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
    query = frame.group_by(*keys).agg(**aggs)
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


# -- 2. the units of a person panel -----------------------------------------------------------
def _bit_positions(periods: np.ndarray) -> np.ndarray | None:
    """Bit of each period in the mask of periods seen: ``t - t0`` for whole-number periods
    spanning few values, else the period's code; None when there are too many periods."""
    if np.all(periods == np.round(periods)) and periods[-1] - periods[0] <= MAX_MASK_PERIODS:
        return (periods - periods[0]).astype(np.int64)
    if periods.size <= MAX_MASK_PERIODS:
        return np.arange(periods.size)
    return None


def _period_bit(r: _Roles, periods: np.ndarray, bits: np.ndarray):
    """An expression 2^(bit of the row's period)."""
    if bits[-1] == periods[-1] - periods[0]:
        return nw.lit(2.0) ** (r.t - float(periods[0]))
    bit = nw.lit(0.0)
    for k, p in zip(bits, periods):  # a few dozen periods at most
        bit = nw.when(r.t == float(p)).then(nw.lit(float(2 ** int(k)))).otherwise(bit)
    return bit


def _unit_table(r: _Roles, periods: np.ndarray, bits):
    """The per-unit aggregation (lazy): rows, periods seen, cluster and timing range."""
    plan = r.plan
    aggs = {"n": nw.len(), "tmin": r.t.min(), "tmax": r.t.max(), "sy": r.y.sum(),
            "cmin": nw.col(plan.cluster_col).min(), "cmax": nw.col(plan.cluster_col).max()}
    if bits is not None:
        aggs["mask"] = _period_bit(r, periods, bits).sum()
    if plan.treatment is not None:
        aggs["t1"] = nw.when(r.d_raw == 1).then(r.t).otherwise(None).min()
        aggs["t0"] = nw.when(r.d_raw == 0).then(r.t).otherwise(None).max()
    else:
        aggs.update(fmin=r.first.min(), fmax=r.first.max())
    return r.table.frame.group_by(plan.unit).agg(**aggs)


def _unit_summary(r: _Roles, units, keys) -> pd.DataFrame:
    """The units summarised per pattern ``keys`` (e.g. cluster, periods seen, rows)."""
    if r.plan.treatment is not None:
        first = nw.col("t1").fill_null(INF)
        varies = (~nw.col("t0").is_null() & ~nw.col("t1").is_null()
                  & (nw.col("t0") > nw.col("t1")))
    else:
        first = nw.col("fmin")
        varies = nw.col("fmin") != nw.col("fmax")
    always = (first < INF) & (first <= nw.col("tmin"))
    summary = units.group_by(*keys).agg(
        units=nw.len(), moved=_count(nw.col("cmin") != nw.col("cmax")), varies=_count(varies),
        treated=_count(first < INF), always=_count(always),
        always_rows=(always.cast(nw.Int64) * nw.col("n")).sum(),
        person_sq=(nw.col("sy") ** 2 / nw.col("n")).sum())
    out = r.table.collect(summary.head(MAX_PATTERNS + 1))
    for c in out.columns:
        if c != "cmin":
            out[c] = out[c].astype(float)
    return out


def _first_row_of_unit(r: _Roles, units, condition, cols) -> str:
    """An example row of the first unit where ``condition`` (on the unit table) holds."""
    found = r.table.collect(units.filter(condition).select(r.plan.unit).head(1))
    value = _plain(found.iloc[0, 0])
    return _example(r.table, nw.col(r.plan.unit) == value, cols)


def _patterns(r: _Roles, units, periods, bits) -> tuple[pd.DataFrame, np.ndarray | None]:
    """(summary, periods seen per summary row as a boolean (rows, T) table, or None).

    Grouped by cluster and mask of periods seen when there are few patterns; otherwise (or
    without masks) by first and last period and rows, with duplicates found by a query.
    """
    if bits is not None:
        s = _unit_summary(r, units, ("cmin", "mask", "n"))
        if len(s) <= MAX_PATTERNS:
            mask = s["mask"].to_numpy(np.int64)
            seen = ((mask[:, None] >> bits[None, :]) & 1).astype(bool)
            dup = seen.sum(axis=1) != s["n"].to_numpy()  # a period counted twice
            if dup.any():
                _refuse_duplicates(r)
            return s, seen
    s = _unit_summary(r, units, ("tmin", "tmax", "n"))
    _refuse_duplicates(r)
    return s, None


def _person_facts(r: _Roles, periods: np.ndarray) -> dict:
    plan = r.plan
    bits = _bit_positions(periods)
    units = _unit_table(r, periods, bits)
    s, seen = _patterns(r, units, periods, bits)
    n_units = int(s["units"].sum())
    keys = [plan.unit, plan.time]
    if s["varies"].sum():
        if plan.treatment is not None:
            _refuse_switching_off(r)
        ex = _first_row_of_unit(r, units, nw.col("fmin") != nw.col("fmax"),
                                [*keys, plan.first_treated])
        raise DataError(
            f"column {plan.first_treated!r} (the first_treated period) changes within a unit "
            f"(e.g. the row with {ex}). It must be one value per unit: the first period the "
            "unit is exposed.")
    notes = []
    if s["always"].sum():
        notes.append(
            f"{int(s['always'].sum())} units ({int(s['always_rows'].sum())} rows) are never "
            "observed before their treatment starts (always treated); they inform only the "
            "period effects")
    if seen is not None:
        first_p = np.argmax(seen, axis=1)
        last_p = periods.size - 1 - np.argmax(seen[:, ::-1], axis=1)
        span = last_p - first_p + 1 - s["n"].to_numpy()
        # every unit of a cluster seen in the same periods (a balanced panel in each cluster)
        shared = not s.duplicated("cmin").any() and s["n"].min() >= 2
        pattern = ["mask", "n"]
    else:
        code = {float(p): k for k, p in enumerate(periods)}
        span = (s["tmax"].map(code) - s["tmin"].map(code) + 1 - s["n"]).to_numpy()
        shared = False
        pattern = ["tmin", "tmax", "n"]
    balanced = bool((s["n"] == periods.size).all())
    gaps = int((span * s["units"]).sum())
    if gaps:
        row = s.loc[span > 0].iloc[0]
        condition = nw.lit(True)
        for c in pattern:
            condition = condition & (nw.col(c) == float(row[c]))
        ex = _first_row_of_unit(r, units, condition, [plan.unit])
        notes.append(
            f"{gaps} unit-periods are missing inside units' observed spans "
            f"({int(s.loc[span > 0, 'units'].sum())} units have gaps, e.g. the unit with {ex}); "
            "two-way fixed effects use the observed periods")
    return {"n_units": n_units, "balanced": balanced, "cluster_balanced": balanced or shared,
            "unit_in_cluster": not s["moved"].sum(), "n_treated_units": int(s["treated"].sum()),
            "person_sq": float(s["person_sq"].sum()), "notes": notes}


def _refuse_duplicates(r: _Roles) -> None:
    plan, table = r.plan, r.table
    counts = table.frame.group_by(plan.unit, plan.time).agg(nw.len().alias("n_rows"))
    dup = counts.filter(nw.col("n_rows") > 1)
    rows = table.collect(dup.select(nw.col("n_rows").sum().alias("rows")))["rows"].iloc[0]
    if pd.notna(rows) and int(rows) > 0:
        first = table.collect(dup.select(plan.unit, plan.time).head(1)).iloc[0]
        ex = ", ".join(f"{c}={_plain(first[c])!r}" for c in (plan.unit, plan.time))
        raise DataError(
            f"{int(rows)} rows share the same {plan.unit}/{plan.time} pair (duplicate unit-period "
            f"rows), e.g. the rows with {ex}. Each unit must appear once per period: aggregate or "
            "drop the duplicates first. Repeated cross-sections (different people each period, "
            f"no person id) are fitted with panel=False and {plan.unit}= the level where "
            "treatment timing is set (e.g. the municipality).")


def _refuse_switching_off(r: _Roles) -> None:
    plan, table = r.plan, r.table
    first = nw.when(r.d_raw == 1).then(r.t).otherwise(None).min().over(plan.unit)
    flagged = table.frame.with_columns(__first=first)
    off = (r.d_raw == 0) & (r.t >= nw.col("__first"))
    n = int(table.collect(flagged.select(_count(off).alias("n")))["n"].iloc[0])
    row = table.collect(flagged.filter(off).select(plan.unit, plan.time, plan.treatment,
                                                   "__first").head(1)).iloc[0]
    ex = ", ".join(f"{c}={_plain(row[c])!r}" for c in (plan.unit, plan.time, plan.treatment))
    where = f"(e.g. the row with {ex}; first exposed in {float(row['__first']):g})"
    if not plan.panel:
        raise DataError(
            f"{n} rows have {plan.treatment}=0 in or after the first exposed period of their "
            f"{plan.unit} {where}. With panel=False the exposure is set per {plan.unit} and "
            f"period: every row of a {plan.unit} is exposed from its first exposed period on.")
    raise DataError(
        f"treatment switches off: {n} rows have {plan.treatment}=0 after the unit's first "
        f"exposed period {where}. The estimators assume exposure is absorbing: code the unit as "
        "exposed from its first exposed period on, or drop the unit.")


# -- the same facts when the cells carry the unit ---------------------------------------------
def _keyed_facts(r: _Roles, g: pd.DataFrame, n_periods: int) -> dict:
    """Unit facts from cells keyed by unit (repeated cross-sections, panels of clusters)."""
    plan = r.plan
    if plan.panel and (g["people"] > 1).any():
        _refuse_duplicates(r)
    by_unit = g.groupby("unit", sort=True)
    if plan.treatment is not None:
        exposed_at = g["period_value"].where(g["exposed"] > 0)
        first_of_row = exposed_at.groupby(g["unit"]).transform("min").fillna(INF)
        if ((g["period_value"] >= first_of_row) & (g["exposed"] < g["people"])).any():
            _refuse_switching_off(r)
        first = exposed_at.groupby(g["unit"]).min().fillna(INF)
    else:
        varies = by_unit["first_min"].min() != by_unit["first_max"].max()
        if varies.any():
            unit = plan.unit
            label = _unit_label(g, varies)
            ex = _example(r.table, nw.col(unit) == label, [unit, plan.time, plan.first_treated])
            raise DataError(
                f"column {plan.first_treated!r} (the first_treated period) changes within a "
                f"unit (e.g. the row with {ex}). It must be one value per unit: the first "
                "period the unit is exposed.")
        first = by_unit["first_min"].min()
    t_min = by_unit["period_value"].min()
    always = (first < INF) & (first <= t_min)
    rows = by_unit["people"].sum()
    notes = []
    if always.any():
        notes.append(
            f"{int(always.sum())} units ({int(rows[always].sum())} rows) are never observed "
            "before their treatment starts (always treated); they inform only the period "
            "effects")
    seen = by_unit["period"].agg(["min", "max", "nunique"])
    gaps = (seen["max"] - seen["min"] + 1 - seen["nunique"]).to_numpy()
    if gaps.sum():
        label = _unit_label(g, pd.Series(gaps > 0, index=seen.index))
        notes.append(
            f"{int(gaps.sum())} unit-periods are missing inside units' observed spans "
            f"({int((gaps > 0).sum())} units have gaps, e.g. unit {label!r}); two-way fixed "
            "effects use the observed periods")
    moved = g.groupby("unit")["cluster"].nunique() > 1
    n_units = int(seen.shape[0])
    balanced = bool(plan.panel and len(g) == n_units * n_periods)
    return {"n_units": n_units, "balanced": balanced, "cluster_balanced": balanced,
            "unit_in_cluster": not moved.any(),
            "n_treated_units": int((first < INF).sum()), "person_sq": None, "notes": notes}


def _unit_label(g: pd.DataFrame, flagged: pd.Series):
    code = flagged[flagged].index[0]
    return g.attrs["unit_labels"][int(code)]


# -- the whole thing ---------------------------------------------------------------------------
def panel_cells(table: Table, plan: PanelPlan, *, require_controls: bool = True) -> PanelCells:
    """Check the panel in the engine and return its cells (see the module docstring)."""
    roles = {"outcome": plan.outcome, "unit": plan.unit, "time": plan.time,
             "treatment": plan.treatment, "first_treated": plan.first_treated,
             "cluster": plan.cluster}
    roles.update({f"covariate {c!r}": c for c in plan.covariates})
    require_columns(table, roles)
    r = _Roles(table, plan)
    cells = _cell_query(r)
    if cells.empty:
        raise DataError("data has no rows; nothing to estimate.")
    _refuse_missing_keys(table, plan, cells)
    periods = np.unique(cells["__time"].to_numpy(float))
    _refuse_bad_values(r, cells, periods)
    g = _coded_groups(cells, plan, periods)
    facts = (_keyed_facts(r, g, periods.size) if plan.keyed_by_unit
             else _person_facts(r, periods))
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


__all__ = ["MAX_CELLS", "PanelCells", "PanelPlan", "panel_cells", "timing_expressions"]
