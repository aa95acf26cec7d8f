"""The facts about the units of a panel, as engine queries: balanced, each unit in one cluster,
timing constant within a unit, duplicates, always-treated units and gaps (the pandas path's
checks and notes, :mod:`causalips.panel`)."""

from __future__ import annotations

import narwhals as nw
import numpy as np
import pandas as pd

from .._checks import _plain
from ..errors import DataError
from ._panel_exprs import INF, UNIT_KEY, _count, _Roles, by_unit
from .checks import _example
from .frames import sql_name

#: bit masks of the periods seen are exact in double precision up to this many periods
MAX_MASK_PERIODS = 52
#: unit patterns (cluster x periods seen x rows) summarised; more fall back to a coarser summary
MAX_PATTERNS = 200_000


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
    return by_unit(r).agg(**aggs)


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
    found = r.table.collect(units.filter(condition).select(UNIT_KEY).head(1))
    value = _plain(found.iloc[0, 0])
    return _example(r.table, nw.col(r.plan.unit) == value, cols)


def _seen_or_refuse(r: _Roles, s: pd.DataFrame, bits: np.ndarray) -> np.ndarray:
    """The periods each summary row's units were seen in, as a boolean (rows, T) table; a
    period counted twice (more rows than periods in the mask) is a duplicate unit-period."""
    seen = ((s["mask"].to_numpy(np.int64)[:, None] >> bits[None, :]) & 1).astype(bool)
    if (seen.sum(axis=1) != s["n"].to_numpy()).any():
        refuse_duplicates(r)
    return seen


def _patterns(r: _Roles, units, periods, bits) -> tuple[pd.DataFrame, np.ndarray | None]:
    """(summary, periods seen per summary row as a boolean (rows, T) table, or None).

    Grouped by cluster and mask of periods seen when there are few patterns; otherwise (or
    without masks) by first and last period and rows, with duplicates found by a query.
    """
    if bits is not None:
        s = _unit_summary(r, units, ("cmin", "mask", "n"))
        if len(s) <= MAX_PATTERNS:
            return s, _seen_or_refuse(r, s, bits)
    s = _unit_summary(r, units, ("tmin", "tmax", "n"))
    refuse_duplicates(r)
    return s, None


def person_facts(r: _Roles, periods: np.ndarray, g: pd.DataFrame | None = None) -> dict:
    """The facts about the people of a person panel (see the module docstring).

    With the coded cells ``g`` and timing set per cluster (one first exposed period for all of
    a cluster's cells, exposure absorbing), the per-person query needs no timing aggregates:
    :func:`_lean_person_facts` tries that first; any doubt falls back to the full query.
    """
    if g is not None:
        facts = _lean_person_facts(r, periods, g)
        if facts is not None:
            return facts
    plan = r.plan
    bits = _bit_positions(periods)
    units = _unit_table(r, periods, bits)
    s, seen = _patterns(r, units, periods, bits)
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
    facts = _facts(r, units, s, seen, periods, always=s["always"].to_numpy(),
                   always_rows=s["always_rows"].to_numpy(), treated=s["treated"].to_numpy())
    return {**facts, "person_sq": float(s["person_sq"].sum())}


def _cluster_first(r: _Roles, g: pd.DataFrame) -> np.ndarray | None:
    """Each cluster's first exposed period (inf: never), when it is one value for all of its
    cells and exposure never switches off; else None."""
    by = g.groupby("cluster", sort=True)
    if r.plan.treatment is None:
        first = by["first_min"].agg(["min", "max"])
        if (first["min"] != first["max"]).any() or (g["first_min"] != g["first_max"]).any():
            return None
        return first["min"].to_numpy(float)
    exposed = g["exposed"].to_numpy() > 0
    if (exposed & (g["exposed"].to_numpy() != g["people"].to_numpy())).any():
        return None  # exposure varies within a cell: some person may switch off
    start = pd.Series(np.where(exposed, g["period_value"], INF)).groupby(g["cluster"]).min()
    starts = start.reindex(g["cluster"]).to_numpy()
    if ((g["period_value"].to_numpy() >= starts) != exposed).any():
        return None  # exposure switches off in some cluster: the full query words the error
    return start.sort_index().to_numpy(float)


def _lean_unit_table(r: _Roles, periods: np.ndarray, bits: np.ndarray):
    """Per person: rows, periods seen (mask) and the largest cluster label.

    On DuckDB with whole-number periods the mask is an integer ``bit_or`` (an exact bit per
    period, cheaper than a floating-point sum of powers of two); elsewhere it is the sum.
    """
    plan, table = r.plan, r.table
    consecutive = bits[-1] == periods[-1] - periods[0]
    if table.backend == "duckdb" and consecutive and table.schema[plan.time].is_numeric():
        unit, time, cluster = (sql_name(c) for c in (plan.unit, plan.time, plan.cluster_col))
        if table.schema[plan.time].is_integer():
            bit = f"CAST({time} - {int(periods[0])} AS BIGINT)"
        else:
            bit = f"CAST(CAST({time} AS DOUBLE) - {float(periods[0])!r} AS BIGINT)"
        per_unit = table.frame.to_native().aggregate(
            f"{unit} AS {UNIT_KEY}, count(*) AS n, bit_or(CAST(1 AS BIGINT) << {bit}) AS mask, "
            f"max({cluster}) AS cluster", unit)
        return nw.from_native(per_unit)
    return by_unit(r).agg(n=nw.len(), mask=_period_bit(r, periods, bits).sum(),
                          cluster=nw.col(plan.cluster_col).max())


def _nobody_moves(g: pd.DataFrame, code: np.ndarray, seen: np.ndarray,
                  units: np.ndarray) -> bool:
    """True when no person is seen in two clusters, from each person's largest cluster.

    With each person at most once per period, count the people whose largest cluster is c and
    who were seen in period t; if nobody moves this equals the rows of cell (c, t). If someone
    does, take the largest cluster c* that is a mover's largest: every mover in c* has c* as
    its largest, so the count for (c*, t) can equal the cell only if those movers are in c* in
    every period they are seen, i.e. do not move. So the counts agree for every cell exactly
    when nobody moves.
    """
    n_clusters = len(g.attrs["cluster_values"])
    expected = np.zeros((n_clusters, seen.shape[1]))
    np.add.at(expected, code, seen * units[:, None])
    observed = np.zeros_like(expected)
    observed[g["cluster"].to_numpy(), g["period"].to_numpy()] = g["people"].to_numpy(float)
    return bool(np.array_equal(expected, observed))


def _lean_person_facts(r: _Roles, periods: np.ndarray, g: pd.DataFrame) -> dict | None:
    bits = _bit_positions(periods)
    first_of_cluster = _cluster_first(r, g)
    if bits is None or first_of_cluster is None:
        return None
    plan = r.plan
    units = _lean_unit_table(r, periods, bits)
    s = r.table.collect(units.group_by("cluster", "mask", "n").agg(units=nw.len())
                        .head(MAX_PATTERNS + 1))
    code = pd.Index(g.attrs["cluster_values"]).get_indexer(s["cluster"])
    if len(s) > MAX_PATTERNS or (code < 0).any():
        return None
    for c in ("mask", "n", "units"):
        s[c] = s[c].astype(float)
    seen = _seen_or_refuse(r, s, bits)
    units_n = s["units"].to_numpy()
    if not _nobody_moves(g, code, seen, units_n):
        return None  # people who move may change timing: the full query checks each person
    s = s.rename(columns={"cluster": "cmin"}).assign(moved=0.0)
    first = first_of_cluster[code]
    always = (first < INF) & (first <= periods[np.argmax(seen, axis=1)])
    if plan.treatment is None:  # a first_treated period marks the unit, seen exposed or not
        treated = first < INF
    else:  # a treatment column marks the units seen exposed
        treated = first <= periods[periods.size - 1 - np.argmax(seen[:, ::-1], axis=1)]
    facts = _facts(r, units, s, seen, periods, always=always * units_n,
                   always_rows=always * units_n * s["n"].to_numpy(), treated=treated * units_n)
    return {**facts, "person_sq": deferred_person_sq(r, g)}


def deferred_person_sq(r: _Roles, g: pd.DataFrame) -> _PersonSquares:
    """``sum_u (sum_t y_ut)^2 / T_u``, computed on first request and kept (one more
    ``GROUP BY`` unit: only the within-person R² needs it, not the estimate or its SE)."""
    return _PersonSquares(r, rows=float(g["people"].sum()), total=float(g["sum_y"].sum()),
                          scale=float(np.sqrt(g["people"].sum() * g["sum_y2"].sum())))


class _PersonSquares:
    """The deferred person sum of squares: a callable that queries once, then forgets the table.

    The query also recounts the rows and the outcome total and refuses to answer if they differ
    from the cells', so data changed after the fit cannot give a silently wrong R².
    """

    def __init__(self, r: _Roles, *, rows: float, total: float, scale: float):
        self._roles, self._rows, self._total, self._scale = r, rows, total, scale
        self._value: float | None = None

    def __call__(self) -> float:
        if self._value is None:
            self._value = self._query()
            self._roles = None  # the result no longer holds the data
        return self._value

    def _query(self) -> float:
        r = self._roles
        table = r.table
        units = by_unit(r).agg(n=nw.len(), sy=r.y.sum())
        out = table.collect(units.select(
            rows=nw.col("n").sum(), total=nw.col("sy").sum(),
            person_sq=(nw.col("sy") ** 2 / nw.col("n")).sum())).iloc[0]
        if float(out["rows"]) != self._rows or \
                abs(float(out["total"]) - self._total) > 1e-9 * self._scale:
            raise DataError(
                f"{table.source} changed since the fit ({int(out['rows'])} rows now, "
                f"{int(self._rows)} then): the within-person R² is computed from the data on "
                "first request. Refit on the current data.")
        return float(out["person_sq"])


def _facts(r: _Roles, units, s: pd.DataFrame, seen, periods, *, always, always_rows,
           treated) -> dict:
    """Counts, balance, gaps and notes from the units summarised per pattern."""
    plan = r.plan
    notes = []
    if always.sum():
        notes.append(
            f"{int(always.sum())} units ({int(always_rows.sum())} rows) are never "
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
    return {"n_units": int(s["units"].sum()), "balanced": balanced,
            "cluster_balanced": balanced or shared, "unit_in_cluster": not s["moved"].sum(),
            "n_treated_units": int(treated.sum()), "notes": notes}


def refuse_duplicates(r: _Roles) -> None:
    plan, table = r.plan, r.table
    counts = table.frame.group_by(plan.unit, plan.time).agg(nw.len().alias("__rows"))
    dup = counts.filter(nw.col("__rows") > 1)
    rows = table.collect(dup.select(nw.col("__rows").sum().alias("rows")))["rows"].iloc[0]
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
def keyed_facts(r: _Roles, g: pd.DataFrame, n_periods: int) -> dict:
    """Unit facts from cells keyed by unit (repeated cross-sections, panels of clusters)."""
    plan = r.plan
    if plan.panel and (g["people"] > 1).any():
        refuse_duplicates(r)
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


__all__ = ["keyed_facts", "person_facts", "refuse_duplicates"]
