"""Secondary suppression never lets totals reveal a small cell (property tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from causalips.disclosure import (
    SECONDARY_MARKER,
    is_suppressed,
    suppress_small_counts,
    suppress_with_totals,
)

THRESHOLD = 5


def _frame(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(values, columns=[f"c{j}" for j in range(values.shape[1])])


def _hidden(out: pd.DataFrame) -> np.ndarray:
    return out.map(lambda v: isinstance(v, str) and v == SECONDARY_MARKER).to_numpy()


def _range_of_cell(values, hidden, cell, row_totals, withheld=()):
    """Min and max a reader can infer for one hidden cell (all hidden cells >= 1)."""
    idx = [tuple(x) for x in np.argwhere(hidden)]
    k = len(idx)
    a_eq, b_eq = [], []
    lines = [("col", j) for j in range(values.shape[1])]
    if row_totals:
        lines += [("row", i) for i in range(values.shape[0])]
    for kind, n in lines:
        if (f"column c{n}" if kind == "col" else f"row {n}") in withheld:
            continue  # that total is withheld from the report
        members = [p for p, (r, c) in enumerate(idx) if (c if kind == "col" else r) == n]
        if not members:
            continue
        row = np.zeros(k)
        row[members] = 1.0
        a_eq.append(row)
        b_eq.append(sum(values[idx[p]] for p in members))
    goal = np.zeros(k)
    goal[idx.index(cell)] = 1.0
    if not a_eq:
        return 1.0, np.inf
    lo = linprog(goal, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(1, None), method="highs")
    hi = linprog(-goal, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(1, None), method="highs")
    return lo.fun, (-hi.fun if hi.status == 0 else np.inf)


small_heavy = st.one_of(st.integers(0, 6), st.integers(0, 60))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.tuples(st.integers(1, 7), st.integers(1, 4)),
    data=st.data(),
    row_totals=st.booleans(),
)
def test_no_small_cell_can_be_worked_out_from_the_totals(shape, data, row_totals):
    values = np.array(
        data.draw(st.lists(small_heavy, min_size=shape[0] * shape[1],
                           max_size=shape[0] * shape[1])), dtype=float
    ).reshape(shape)
    out = suppress_with_totals(_frame(values), list(_frame(values).columns), THRESHOLD,
                               row_totals=row_totals)
    hidden = _hidden(out)
    small = (values > 0) & (values < THRESHOLD)
    # every small cell is hidden; zeros and shown cells keep their values
    assert np.all(hidden[small])
    assert not np.any(hidden[values == 0])
    shown = ~hidden
    np.testing.assert_array_equal(out.to_numpy()[shown].astype(float), values[shown])
    unprotectable = set(out.attrs["unprotectable_totals"])
    for i, j in np.argwhere(small):
        lo, hi = _range_of_cell(values, hidden, (i, j), row_totals, unprotectable)
        assert hi - lo >= 1 - 1e-9, f"cell {(i, j)} pinned to {lo} by the totals"
    # a total is only unprotectable when its line has no other non-zero cell to hide
    for name in unprotectable:
        kind, n = name.split(" ")
        line = values[:, int(n[1:])] if kind == "column" else values[int(n)]
        line_hidden = hidden[:, int(n[1:])] if kind == "column" else hidden[int(n)]
        assert np.all(line_hidden[line > 0])


def test_one_small_cell_in_a_column_gets_a_complement():
    df = pd.DataFrame({"group": list("abcd"), "n": [40, 3, 25, 12]})
    out = suppress_with_totals(df, ["n"])
    assert out["n"].tolist() == [40, SECONDARY_MARKER, 25, SECONDARY_MARKER]
    assert all(is_suppressed(v) for v in out["n"][[1, 3]])
    assert out["group"].tolist() == list("abcd")


def test_two_ones_are_not_enough():
    df = pd.DataFrame({"n": [1, 1, 30, 50]})
    out = suppress_with_totals(df, ["n"])
    assert out["n"].tolist() == [SECONDARY_MARKER] * 3 + [50]


def test_lonely_small_cell_makes_the_total_unprotectable():
    df = pd.DataFrame({"n": [0, 3, 0]})
    out = suppress_with_totals(df, ["n"])
    assert out.attrs["unprotectable_totals"] == ["column n"]


def test_threshold_off_and_primary_function_unchanged():
    df = pd.DataFrame({"n": [40, 3, 25]})
    assert suppress_with_totals(df, ["n"], 0)["n"].tolist() == [40, 3, 25]
    assert suppress_small_counts(df, ["n"])["n"].tolist() == [40, "<5", 25]


@pytest.mark.parametrize("row_totals", [False, True])
def test_input_not_mutated(row_totals):
    df = pd.DataFrame({"a": [1, 7, 9], "b": [8, 2, 30]})
    before = df.copy()
    suppress_with_totals(df, ["a", "b"], row_totals=row_totals)
    pd.testing.assert_frame_equal(df, before)


def test_line_by_protects_each_part_of_a_long_table():
    df = pd.DataFrame({"group": list("abcabc"), "source": list("xxxyyy"),
                       "n": [30, 2, 40, 10, 20, 30]})
    out = suppress_with_totals(df, ["n"], line_by="source")
    assert out["n"].tolist() == [SECONDARY_MARKER, SECONDARY_MARKER, 40, 10, 20, 30]
