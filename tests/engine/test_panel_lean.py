"""The lean cell and person queries change speed, never an answer or a message.

On panels that are as the design expects, :mod:`causalips.engine._panel_fast` and the lean
per-person query replace the full queries; on anything else the full queries run. Here both
routes see the same random panels, clean and broken in every way the checks know (values
missing or huge, timing that varies within a unit or a cell, exposure that switches off or is
not 0/1, people who move, two people who trade clusters so that every cell keeps its size,
duplicates, gaps, a period 0 with first_treated 0), and must give
the same cells and facts, or the same error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips.engine import _panel_units
from causalips.engine import panel_cells as pc
from causalips.engine.frames import as_table
from causalips.engine.panel_cells import PanelPlan, panel_cells

BREAKS = ("none", "none", "y_nan", "y_inf", "y_huge", "ft_row", "ft_person", "ft_nan_row",
          "move", "move_all", "duplicate", "gap", "drop_person_rows", "d_off", "d_two",
          "d_nan", "cluster_null", "x_varies", "x_nan", "leaves_before_exposure", "swap")


def random_panel(rng: np.random.Generator) -> pd.DataFrame:
    clusters, people, periods = rng.integers(3, 6), rng.integers(2, 5), rng.integers(3, 6)
    start = int(rng.choice([0, 1, 2010]))
    firsts = rng.choice([np.nan, np.inf, 0.0, start + 1, start + 2, start + periods + 3],
                        size=clusters)
    firsts[0], firsts[1] = np.nan, start + 1  # a control and a treated cluster
    ids = np.arange(clusters * people)
    rows = pd.DataFrame({"id": np.repeat(ids, periods),
                         "t": np.tile(np.arange(start, start + periods), ids.size)})
    rows["m"] = rows["id"] // people
    rows["ft"] = firsts[rows["m"]]
    never = rows["ft"].isna() | ~np.isfinite(rows["ft"]) | (rows["ft"] == 0)
    rows["d"] = ((rows["t"] >= rows["ft"]) & ~never).astype(float)
    rows["y"] = rng.normal(100, 10, len(rows)).round(2)
    rows["x"] = rows["m"] * 0.5 + rows["t"] * 0.1
    if rng.random() < 0.3:  # periods held as floats (the engine's bit of a period differs)
        rows["t"] = rows["t"].astype(float)
    return rows


def broken(rows: pd.DataFrame, how: str, rng: np.random.Generator) -> pd.DataFrame:
    rows = rows.copy()
    i = int(rng.integers(len(rows)))
    person = rows["id"] == rows.loc[i, "id"]
    if how == "y_nan":
        rows.loc[i, "y"] = np.nan
    elif how == "y_inf":
        rows.loc[i, "y"] = np.inf
    elif how == "y_huge":
        rows.loc[i, "y"] = 1e200
    elif how == "ft_row":
        rows.loc[i, "ft"] = rows["t"].max() + 7.0
    elif how == "ft_person":
        rows.loc[person, "ft"] = rows["t"].min() + 2.0
    elif how == "ft_nan_row":
        rows.loc[i, "ft"] = np.nan if np.isfinite(rows.loc[i, "ft"]) else np.inf
    elif how == "move":
        rows.loc[i, "m"] = (rows.loc[i, "m"] + 1) % rows["m"].nunique()
    elif how == "move_all":
        rows.loc[person, "m"] = (rows.loc[i, "m"] + 1) % rows["m"].nunique()
    elif how == "duplicate":
        rows = pd.concat([rows, rows.iloc[[i]]], ignore_index=True)
    elif how == "gap":
        rows = rows.drop(index=i).reset_index(drop=True)
    elif how == "drop_person_rows":
        rows = rows.loc[~person | (rows["t"] != rows["t"].min())].reset_index(drop=True)
    elif how == "d_off":
        exposed = np.flatnonzero(rows["d"].to_numpy() == 1)
        rows.loc[exposed[-1] if exposed.size else i, "d"] = 0.0
    elif how == "d_two":
        rows.loc[i, "d"] = 2.0
    elif how == "d_nan":
        rows.loc[i, "d"] = np.nan
    elif how == "cluster_null":
        rows["m"] = rows["m"].astype(float)
        rows.loc[i, "m"] = np.nan
    elif how == "x_varies":
        rows.loc[i, "x"] += 1.0
    elif how == "leaves_before_exposure":  # seen only before the cluster's exposure starts
        first = rows["id"] == rows.loc[rows["m"] == 1, "id"].min()
        rows = rows.loc[~first | (rows["t"] == rows["t"].min())].reset_index(drop=True)
    elif how == "x_nan":
        rows.loc[i, "x"] = np.nan
    elif how == "swap":  # two people trade clusters from a period on: every cell keeps its size
        a, b = rows.loc[rows["m"] == 0, "id"].min(), rows.loc[rows["m"] == 1, "id"].min()
        later = rows["t"] > rows["t"].min()
        ma, mb = (rows["id"] == a) & later, (rows["id"] == b) & later
        rows.loc[ma, "m"], rows.loc[mb, "m"] = 1, 0
    return rows


def outcome(rows, plan: PanelPlan, kind: str):
    """The cells and facts (or the error) on one route."""
    if kind == "duckdb":
        import duckdb

        data = duckdb.connect().from_df(rows)  # NaN becomes NULL on the way in
    elif kind == "duckdb_nan":  # NaN kept: DuckDB orders it above every number
        import duckdb
        import pyarrow as pa

        table = pa.table({c: pa.array(rows[c].to_numpy(), from_pandas=False) for c in rows})
        data = duckdb.connect().from_arrow(table)
    else:
        import polars as pl

        data = pl.from_pandas(rows, nan_to_null=False).lazy()  # NaN stays NaN, as it may
    try:
        cells = panel_cells(as_table(data), plan)
    except Exception as err:  # the routes must fail alike: same type, same words
        return type(err).__name__, str(err)
    g = cells.groups
    keep = [c for c in ("cluster", "unit", "period", "people", "sum_y", "sum_y2", "exposed",
                        "n_first", "first_min", "first_max", "x::sum", "x::min", "x::max")
            if c in g]
    g = g[keep].sort_values(["cluster", "unit", "period"], ignore_index=True)
    facts = (cells.n_units, cells.n_obs, cells.balanced, cells.cluster_balanced,
             cells.unit_in_cluster, cells.n_treated_units, cells.notes)
    # the lean route leaves the person sums for the R² until they are asked for
    person_sq = cells.person_sq() if callable(cells.person_sq) else cells.person_sq
    return g, facts, person_sq


def full_route(monkeypatch):
    monkeypatch.setattr(pc, "lean_cell_aggregates", lambda r: None)
    monkeypatch.setattr(_panel_units, "_lean_person_facts", lambda r, periods, g: None)


@pytest.mark.parametrize("kind", ["duckdb", "duckdb_nan", "polars"])
def test_lean_and_full_routes_agree_on_random_broken_panels(kind, monkeypatch):
    rng = np.random.default_rng(20261205)
    lean_cells = lean_people = 0
    for case in range(100):
        how = BREAKS[case % len(BREAKS)]
        rows = broken(random_panel(rng), how, rng)
        design = dict(treatment="d") if case % 3 == 0 else dict(first_treated="ft")
        plan = PanelPlan(outcome="y", unit="id", time="t", cluster="m",
                         covariates=("x",) if case % 4 == 1 else (), **design)
        with monkeypatch.context() as m:
            lean, taken = lean_outcome(rows, plan, kind, m)
            lean_cells += "cells" in taken
            lean_people += "people" in taken
        with monkeypatch.context() as m:
            full_route(m)
            full = outcome(rows, plan, kind)
        where = f"case {case} ({how}, {design}, {kind})"
        if isinstance(full[0], str):
            assert isinstance(lean[0], str), f"{where}: only the full route raised {full}"
            assert lean == full, where
            continue
        assert not isinstance(lean[0], str), f"{where}: lean route raised {lean}"
        pd.testing.assert_frame_equal(lean[0], full[0], rtol=1e-12, obj=where)
        assert lean[1] == full[1], where
        np.testing.assert_allclose(lean[2], full[2], rtol=1e-12, err_msg=where)
    # both lean queries answered on many panels (the test is not only of the fallback)
    assert lean_cells >= 30 and lean_people >= 20, (lean_cells, lean_people)


def lean_outcome(rows, plan, kind, patch):
    """The outcome on the lean route, and which lean queries answered (not fell back)."""
    taken = []
    cells_route, people_route = pc.full_columns, _panel_units._lean_person_facts

    def record(route, answer):
        if answer is not None:
            taken.append(route)
        return answer

    patch.setattr(pc, "full_columns", lambda *a: record("cells", cells_route(*a)))
    patch.setattr(_panel_units, "_lean_person_facts",
                  lambda *a: record("people", people_route(*a)))
    return outcome(rows, plan, kind), taken
