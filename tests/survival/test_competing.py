"""Aalen–Johansen cumulative incidence and Gray's test against R survival / cmprsk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips.errors import ColumnNotFoundError, DataError, SpecificationError
from causalips.survival.competing import EVENT_FREE, CumulativeIncidence

CAUSES = {1: "transplant", 2: "death"}


@pytest.fixture(scope="module")
def pbc(reference_data):
    return reference_data.csv("survival/pbc.csv")


def _fit(pbc, key):
    if key == "overall":
        return CumulativeIncidence(duration="time", event="status", causes=CAUSES).fit(pbc)
    return CumulativeIncidence(duration="time", event="status", group="trt",
                               causes=CAUSES).fit(pbc.iloc[:312])


def test_one_cause_reduces_to_one_minus_kaplan_meier():
    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame({"t": rng.integers(1, 60, n).astype(float),
                       "e": rng.integers(0, 2, n)})
    res = CumulativeIncidence(duration="t", event="e").fit(df)
    tab = res.tidy()
    cif = tab[tab["state"] == "1"]
    free = tab[tab["state"] == EVENT_FREE]
    # KM by hand
    times = np.unique(df["t"])
    n_risk = np.array([(df["t"] >= t).sum() for t in times])
    d = np.array([((df["t"] == t) & (df["e"] == 1)).sum() for t in times])
    km = np.cumprod(1 - d / n_risk)
    np.testing.assert_allclose(free["estimate"], km, rtol=1e-12)
    np.testing.assert_allclose(cif["estimate"], 1 - km, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cif["std_error"], free["std_error"], rtol=1e-10)


def test_ij_variance_equals_brute_force_jackknife_derivative():
    """Numerical derivative of the estimate w.r.t. each person's weight, squared and summed."""
    rng = np.random.default_rng(11)
    n = 40
    t = rng.integers(1, 15, n).astype(float)
    e = rng.integers(0, 3, n)

    def cif_weighted(w):
        times = np.unique(t)
        out = np.zeros((times.size, 2))
        s = 1.0
        f = np.zeros(2)
        for j, tj in enumerate(times):
            at_risk = w[t >= tj].sum()
            dk = np.array([w[(t == tj) & (e == k)].sum() for k in (1, 2)])
            f = f + s * dk / at_risk
            s = s * (1 - dk.sum() / at_risk)
            out[j] = f
        return out

    base = cif_weighted(np.ones(n))
    h = 1e-6
    infl = np.stack([(cif_weighted(np.ones(n) + h * np.eye(n)[i]) - base) / h for i in range(n)])
    var = (infl**2).sum(axis=0)
    res = CumulativeIncidence(duration="t", event="e").fit(pd.DataFrame({"t": t, "e": e}))
    tab = res.tidy()
    for k, state in enumerate(("1", "2")):
        se = tab[tab["state"] == state]["std_error"].to_numpy()
        np.testing.assert_allclose(se, np.sqrt(var[:, k]), rtol=1e-4, atol=1e-7)


def test_everyone_fails_at_last_time_gives_finite_values():
    df = pd.DataFrame({"t": [1.0, 2, 3, 3], "e": [1, 0, 2, 1]})
    tab = CumulativeIncidence(duration="t", event="e").fit(df).tidy()
    assert np.isfinite(tab["estimate"]).all() and np.isfinite(tab["std_error"]).all()
    last = tab[tab["time"] == 3].set_index("state")["estimate"]
    assert last[EVENT_FREE] == 0.0
    assert last["1"] + last["2"] == pytest.approx(1.0)


def test_gray_test_three_groups_runs_and_is_null_like():
    rng = np.random.default_rng(5)
    n = 600
    df = pd.DataFrame({"t": rng.exponential(100, n).round() + 1, "e": rng.integers(0, 3, n),
                       "g": rng.choice(["a", "b", "c"], n)})
    tests = CumulativeIncidence(duration="t", event="e", group="g").fit(df).gray_test()
    assert (tests["df"] == 2).all()
    assert ((tests["p_value"] > 0) & (tests["p_value"] <= 1)).all()


def test_gray_test_detects_a_real_difference():
    rng = np.random.default_rng(8)
    n = 400
    g = np.repeat([0, 1], n // 2)
    t = rng.exponential(np.where(g == 1, 50, 100))
    e = np.where(rng.uniform(size=n) < np.where(g == 1, 0.8, 0.4), 1, 2)
    df = pd.DataFrame({"t": t.round(1), "e": e, "g": g})
    tests = CumulativeIncidence(duration="t", event="e", group="g").fit(df).gray_test()
    assert tests.set_index("state").loc["1", "p_value"] < 1e-4


def test_at_before_first_time_and_order():
    df = pd.DataFrame({"t": [5.0, 6, 7], "e": [1, 2, 0]})
    at = CumulativeIncidence(duration="t", event="e").fit(df).at([0, 100])
    free = at[at["state"] == EVENT_FREE]
    assert free["estimate"].tolist()[0] == 1.0
    assert at[at["state"] == "1"]["estimate"].tolist() == [0.0, pytest.approx(1 / 3)]


def test_bad_inputs():
    df = pd.DataFrame({"t": [1.0, 2, 3], "e": [1, 2, 0]})
    with pytest.raises(ColumnNotFoundError, match="closest"):
        CumulativeIncidence(duration="tt", event="e").fit(df)
    with pytest.raises(DataError, match="0 = censored"):
        CumulativeIncidence(duration="t", event="e").fit(df.assign(e=["a", "b", "c"]))
    with pytest.raises(DataError, match="not in causes"):
        CumulativeIncidence(duration="t", event="e", causes=[1]).fit(df)
    with pytest.raises(DataError, match="negative"):
        CumulativeIncidence(duration="t", event="e").fit(df.assign(t=[-1.0, 2, 3]))
    with pytest.raises(DataError, match="no events"):
        CumulativeIncidence(duration="t", event="e").fit(df.assign(e=0))
    with pytest.raises(SpecificationError, match="conf_level"):
        CumulativeIncidence(duration="t", event="e", conf_level=95)
    with pytest.raises(SpecificationError, match="0 means censored"):
        CumulativeIncidence(duration="t", event="e", causes=[0, 1])
    with pytest.raises(DataError, match="one"):
        CumulativeIncidence(duration="t", event="e").fit(df).gray_test()
    with pytest.raises(SpecificationError, match="times"):
        CumulativeIncidence(duration="t", event="e").fit(df).at([-1])


def test_plot_curves_and_stacked(pbc):
    res = _fit(pbc, "by_trt")
    ax = res.plot()
    assert len(ax.lines) == 4 and len(ax.collections) == 4
    ax2 = res.plot(kind="stacked")
    assert len(ax2.collections) == 3
    assert "Gray" in str(res.summary())


def test_gray_test_three_groups_holds_its_size_under_the_null():
    rng = np.random.default_rng(21)
    reps, m = 200, 150
    rejected = 0
    for _ in range(reps):
        df = pd.DataFrame({"t": rng.exponential(100, m).round(1) + 0.1,
                           "e": rng.choice([0, 1, 2], m, p=[0.3, 0.4, 0.3]),
                           "g": rng.choice(["a", "b", "c"], m)})
        tests = CumulativeIncidence(duration="t", event="e", group="g").fit(df).gray_test()
        rejected += tests["p_value"].iloc[0] < 0.05
    # 5% +- 3 Monte Carlo SEs
    assert abs(rejected / reps - 0.05) < 3 * np.sqrt(0.05 * 0.95 / reps)


def test_log_ci_coverage_of_cumulative_incidence():
    """Exponential competing causes with rates 1 and 0.5, uniform censoring: at t = 0.7
    F_1(t) = (1 / 1.5) * (1 - exp(-1.5 t)). Pointwise 95% CIs cover it about 95% of the time."""
    rng = np.random.default_rng(99)
    reps, n, t0 = 300, 200, 0.7
    truth = (1 - np.exp(-1.5 * t0)) / 1.5
    cover = 0
    for _ in range(reps):
        time = rng.exponential(1 / 1.5, n)
        cause = np.where(rng.uniform(size=n) < 1 / 1.5, 1, 2)
        cens = rng.uniform(0, 3, n)
        df = pd.DataFrame({"t": np.minimum(time, cens), "e": np.where(time <= cens, cause, 0)})
        at = CumulativeIncidence(duration="t", event="e").fit(df).at([t0])
        row = at[at["state"] == "1"].iloc[0]
        cover += row["conf_low"] <= truth <= row["conf_high"]
    assert abs(cover / reps - 0.95) < 3 * np.sqrt(0.95 * 0.05 / reps) + 0.01


def test_delayed_entry_ij_variance_equals_brute_force_derivative():
    """The IJ variance with delayed entry: numerical derivative w.r.t. each person's weight."""
    rng = np.random.default_rng(12)
    n = 40
    entry = rng.integers(0, 8, n).astype(float)
    t = entry + rng.integers(1, 10, n)
    e = rng.integers(0, 3, n)

    def cif_weighted(w):
        times = np.unique(t)
        out = np.zeros((times.size, 3))
        s, f = 1.0, np.zeros(2)
        for j, tj in enumerate(times):
            at_risk = w[(entry < tj) & (t >= tj)].sum()
            dk = np.array([w[(t == tj) & (e == k)].sum() for k in (1, 2)])
            f = f + s * dk / at_risk
            s = s * (1 - dk.sum() / at_risk)
            out[j] = (s, *f)
        return out

    base = cif_weighted(np.ones(n))
    h = 1e-6
    infl = np.stack([(cif_weighted(np.ones(n) + h * np.eye(n)[i]) - base) / h for i in range(n)])
    var = (infl**2).sum(axis=0)
    tab = CumulativeIncidence(duration="t", event="e", entry="entry").fit(
        pd.DataFrame({"t": t, "e": e, "entry": entry})).tidy()
    for k, state in enumerate((EVENT_FREE, "1", "2")):
        rows = tab[tab["state"] == state]
        np.testing.assert_allclose(rows["estimate"], base[:, k], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(rows["std_error"], np.sqrt(var[:, k]), rtol=1e-4, atol=1e-7)


def test_delayed_entry_refuses_bad_entries_and_gray_test():
    df = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": [1, 2, 0, 1], "g": list("abab"),
                       "entry": [0.0, 1, 3, 0]})
    with pytest.raises(DataError, match="'entry' >= 't'"):
        CumulativeIncidence(duration="t", event="e", entry="entry").fit(df)
    ok = df.assign(entry=[0.0, 1, 2, 0])
    res = CumulativeIncidence(duration="t", event="e", group="g", entry="entry").fit(ok)
    with pytest.raises(SpecificationError, match="delayed entry"):
        res.gray_test()
    assert len(res.glance()) == 1 and res.by_group()["n_obs"].tolist() == [2, 2]
    assert "Gray" not in str(res.summary())
