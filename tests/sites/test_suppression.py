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


# -- published curves: no step, at-risk number or event count below the threshold ---------------
@st.composite
def survival_data(draw):
    n = draw(st.integers(1, 60))
    times = draw(st.lists(st.integers(1, 25), min_size=n, max_size=n))
    events = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    groups = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    return pd.DataFrame({"t": times, "e": np.array(events, dtype=int), "g": groups})


@pytest.mark.filterwarnings("ignore::causalips.errors.StatisticalWarning")
@settings(max_examples=200, deadline=None)
@given(data=survival_data(), threshold=st.integers(2, 10),
       horizons=st.lists(st.floats(0, 30), min_size=1, max_size=6), incidence=st.booleans())
def test_published_curves_reveal_no_small_count(data, threshold, horizons, incidence):
    from causalips import KaplanMeier
    from causalips.report.curves import PublishedCurves

    res = KaplanMeier(duration="t", event="e", group="g",
                      curve="incidence" if incidence else "survival").fit(data)
    view = PublishedCurves(res, threshold)
    sizes = data.groupby("g").size()
    events = data.groupby("g")["e"].sum()
    for g in view.groups:  # drawn groups have enough people and enough events for one step
        assert sizes[g] >= threshold and events[g] >= threshold
    for g in set(sizes.index) - set(view.groups):
        assert sizes[g] < threshold or events[g] < threshold
    table = view.tidy()
    exact = res.tidy()
    for g in view.groups:
        rows = table[table["group"] == g]
        surv = rows["estimate"].to_numpy()
        surv = 1 - surv if incidence else surv
        # the reader's reconstruction: events in a step = people at risk x relative drop
        before = np.concatenate([[1.0], surv[:-1]])
        risk = rows["n_risk"].to_numpy(dtype=float)
        steps = before > surv + 1e-12
        implied = risk[steps] * (1 - surv[steps] / before[steps])
        assert np.all(implied >= threshold - 1e-9)
        assert np.all((rows["n_event"] == 0) | (rows["n_event"] >= threshold))
        assert np.all((risk == 0) | (risk >= threshold))
        # what is shown is exact at the times shown
        truth = exact[exact["group"] == g].set_index("time")["estimate"]
        np.testing.assert_allclose(rows["estimate"], truth.loc[rows["time"]].to_numpy())
    at = view.at(horizons)
    for col in ("n_risk", "n_event"):
        values = at[col].to_numpy(dtype=float)
        assert np.all((values == 0) | (values >= threshold))
    # events between any two published horizons are 0 or at least the threshold
    for g in view.groups:
        rows = at[at["group"] == g]
        cum = np.cumsum(rows["n_event"].to_numpy(dtype=float))
        gaps = np.abs(cum[:, None] - cum[None, :])
        assert np.all((gaps == 0) | (gaps >= threshold))


def test_release_points_rules():
    from causalips.disclosure import release_points

    # a group of 12 with 12 single events and a threshold of 10: one step at the end
    assert release_points([1] * 12, [0] * 12, 12, 10).tolist() == [11]
    # too few events: nothing to publish
    assert release_points([1, 1], [0, 10], 12, 10).size == 0
    # events after the last step join it; censorings after it close a step-less block
    assert release_points([5, 1], [0, 0], 30, 5).tolist() == [1]
    assert release_points([5, 0], [0, 3], 30, 5).tolist() == [0, 1]
    # the threshold off: every time is shown
    assert release_points([1, 2], [0, 0], 3, 0).tolist() == [0, 1]


# -- figures of site results leave out what the tables hide --------------------------------------
def test_site_chart_does_not_plot_a_small_site():
    import matplotlib.pyplot as plt

    from causalips import FunnelPlot
    from causalips.report.protect import protected_section

    sites = pd.DataFrame({"site": ["Smallbrook", "North", "South", "East", "West"],
                          "jobs": [2, 30, 41, 25, 60], "referrals": [10, 80, 95, 70, 120]})
    res = FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(sites)
    section = protected_section(res.report_section(), 5, result=res)
    captions = [c for c, _ in section.figures]
    assert all("2 sites not drawn" in c for c in captions)  # Smallbrook and one complement
    labels = [t.get_text() for _, fig in section.figures for ax in fig.axes
              for t in ax.get_yticklabels() + ax.texts]
    assert not any("Smallbrook" in lab for lab in labels)
    points = [fig.axes[0].collections for _, fig in section.figures][0]
    plotted = np.concatenate([c.get_offsets() for c in points])
    assert not np.any(np.isclose(plotted[:, 1], 0.2))  # 2 of 10
    for _, fig in section.figures:
        plt.close(fig)


@settings(max_examples=100, deadline=None)
@given(counts=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=2,
                       max_size=8), threshold=st.integers(2, 10))
def test_rate_rows_left_visible_hold_no_small_count(counts, threshold):
    from causalips.report.protect import hidden_rows, protect_table

    table = pd.DataFrame({"site": [f"s{i}" for i in range(len(counts))],
                          "numerator": [a for a, _ in counts],
                          "denominator": [a + b for a, b in counts]})
    table["rate"] = table["numerator"] / table["denominator"].where(table["denominator"] > 0)
    out = protect_table(table, ["numerator", "denominator"], threshold)
    shown = ~hidden_rows(out, ["numerator", "denominator"])
    for col in ("numerator", "denominator"):
        v = table.loc[shown, col]
        assert ((v == 0) | (v >= threshold)).all()
    rest = (table["denominator"] - table["numerator"])[shown]
    assert ((rest == 0) | (rest >= threshold)).all()  # 9 of 10 would tell that 1 did not
