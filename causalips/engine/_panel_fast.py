"""The cells of a DiD plan in one lean query, when the data are as the design expects.

The full cell query (:func:`causalips.engine.panel_cells._cell_query`) counts every kind of bad
value row by row so that its errors can say how many rows are wrong. On a registry panel that
has none, those per-row tests are most of the query's cost. This query asks only for what
proves there are none, per cell: counts of non-missing values, the range of each column, the
share of NaN; when every cell passes (outcome finite, timing constant within the cell, exposure
0/1 and the same for all its rows) the full query's columns follow from these exactly. When any
cell does not pass, the caller runs the full query, which finds the problem and words the error;
so the lean query changes speed, never an answer or a message.
"""

from __future__ import annotations

import narwhals as nw
import numpy as np
import pandas as pd

from .._checks import MAX_MAGNITUDE
from ._panel_exprs import INF, _count, _Roles


def lean_cell_aggregates(r: _Roles) -> dict | None:
    """The lean query's aggregates, or None where it does not apply (an event study with a
    treatment column needs each unit's first exposed period: a window, the full query)."""
    plan = r.plan
    if plan.treatment is not None and plan.event_first:
        return None
    aggs = {"people": nw.len(), "sum_y": r.y.sum(), "sum_y2": (r.y * r.y).sum(),
            "n_y": r.y.count(), "big_y": r.y.abs().max()}
    if plan.treatment is not None:
        d = r.d_raw
        aggs.update(d_sum=d.sum(), d_lo=d.min(), d_hi=d.max(), d_n=d.count())
    else:
        ft = r.ft
        aggs.update(f_lo=ft.min(), f_hi=ft.max(), f_n=ft.count())
        if r.table.backend != "duckdb":  # DuckDB sorts NaN above every number: see _nan_rows
            aggs["f_nan"] = _count(ft.is_nan())
    if not plan.keyed_by_unit:
        aggs["n_unit"] = nw.col(plan.unit).count()
    for c, x in r.x.items():
        aggs.update({f"{c}::n": x.count(), f"{c}::sum": x.sum(), f"{c}::min": x.min(),
                     f"{c}::max": x.max(), f"{c}::big": x.abs().max()})
    return aggs


def _number(cells: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(cells[column], errors="coerce").to_numpy(float)


def _finite_within(cells: pd.DataFrame, n: np.ndarray, count: str, total: str,
                   big: str) -> np.ndarray:
    """No missing value (count equals rows), no NaN (the sum is finite), no huge value."""
    with np.errstate(invalid="ignore"):
        return ((_number(cells, count) == n) & np.isfinite(_number(cells, total))
                & (_number(cells, big) <= MAX_MAGNITUDE))


def full_columns(r: _Roles, cells: pd.DataFrame) -> pd.DataFrame | None:
    """The full query's columns from the lean one's, or None when some cell needs the full
    query (a missing key, a bad value, timing or exposure that varies within the cell)."""
    plan = r.plan
    keys = ["__cluster", "__time"] + (["__unit"] if plan.keyed_by_unit else [])
    if cells.empty or cells[keys].isna().to_numpy().any():
        return None
    t = pd.to_numeric(cells["__time"], errors="coerce").to_numpy(float)
    n = _number(cells, "people")
    ok = np.isfinite(t) & _finite_within(cells, n, "n_y", "sum_y2", "big_y")
    ok &= np.isfinite(_number(cells, "sum_y"))
    if not plan.keyed_by_unit:
        ok &= _number(cells, "n_unit") == n
    for c in r.x:
        ok &= _finite_within(cells, n, f"{c}::n", f"{c}::sum", f"{c}::big")
    out = cells[keys + ["people", "sum_y", "sum_y2", "big_y"]].copy()
    out["bad_y"] = 0
    if plan.treatment is not None:
        lo, hi, total = _number(cells, "d_lo"), _number(cells, "d_hi"), _number(cells, "d_sum")
        ok &= (_number(cells, "d_n") == n) & (lo == hi) & ((lo == 0) | (lo == 1))
        ok &= total == lo * n  # NaN among the values (some engines' min and max skip NaN)
        out["exposed"], out["bad_d"] = total, 0
    else:
        first = _constant_first(cells, n, t)
        if first is None:
            return None
        ok &= ~np.isnan(first)
        first = np.where(np.isnan(first), INF, first)
        out["exposed"] = n * (t >= first)
        out["zero_first"] = 0
        out["n_first"] = n * (first < INF)
        out["first_min"] = out["first_max"] = first
    if not plan.keyed_by_unit:
        out["missing_unit"] = 0
    for c in r.x:
        for part in ("sum", "min", "max", "big"):
            out[f"{c}::{part}"] = cells[f"{c}::{part}"]
        out[f"{c}::bad"] = 0
    return out if bool(ok.all()) else None


def _constant_first(cells: pd.DataFrame, n: np.ndarray, t: np.ndarray) -> np.ndarray | None:
    """Each cell's first exposed period (inf: never) where it is one value in the cell, NaN
    where it is not; None when a 0 would have to mean 'never' although 0 is a period (the full
    query's error)."""
    lo, hi = _number(cells, "f_lo"), _number(cells, "f_hi")
    present = _number(cells, "f_n")
    nans = _number(cells, "f_nan") if "f_nan" in cells else _nan_rows(lo, hi, present)
    all_nan = nans == n
    constant = (nans == 0) & (present == n) & (lo == hi)
    never = all_nan | ((nans == 0) & (present == 0)) | (constant & (~np.isfinite(lo) | (lo == 0)))
    if np.any(constant & (lo == 0)) and np.any(t == 0):
        return None
    return np.where(never, INF, np.where(constant, lo, np.nan))


def _nan_rows(lo: np.ndarray, hi: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The NaN count where the engine orders NaN above every number (DuckDB): all present
    values are NaN when the minimum is, none when the maximum is not; -1 stands for 'some'
    (not all), which no test below takes for 0 or for all."""
    return np.where(np.isnan(lo), present, np.where(np.isnan(hi), -1.0, 0.0))


__all__ = ["full_columns", "lean_cell_aggregates"]
