"""RMST: R's rmean values, contrasts in closed form, coverage, bad inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causalips.errors import DataError, SpecificationError, StatisticalWarning
from causalips.survival.rmst import RMST


@pytest.fixture(scope="module")
def veteran(reference_data):
    return reference_data.csv("survival/veteran.csv")


def test_rmtl_is_tau_minus_rmst(veteran):
    a = RMST(duration="time", event="status", group="trt", tau=365).fit(veteran).tidy()
    b = RMST(duration="time", event="status", group="trt", tau=365,
             measure="rmtl").fit(veteran).tidy()
    np.testing.assert_allclose(b[b.term == "rmtl"]["estimate"],
                               365 - a[a.term == "rmst"]["estimate"], rtol=1e-12)
    np.testing.assert_allclose(b[b.term == "rmtl_difference"]["estimate"],
                               -a[a.term == "rmst_difference"]["estimate"], rtol=1e-12)


def test_no_censoring_equals_mean_of_truncated_times():
    t = np.array([1.0, 3, 4, 4, 8, 10, 12])
    res = RMST(duration="t", event="e", tau=9).fit(pd.DataFrame({"t": t, "e": 1}))
    assert res.tidy()["estimate"].iloc[0] == pytest.approx(np.minimum(t, 9).mean(), rel=1e-12)


def test_coverage_of_difference_ci():
    """Exponential arms with independent censoring; true RMST = (1 - exp(-lam tau)) / lam."""
    rng = np.random.default_rng(2024)
    reps, n, tau = 300, 120, 2.0
    lam = np.array([1.0, 0.6])
    true = (1 - np.exp(-lam * tau)) / lam
    cover = 0
    for _ in range(reps):
        arm = np.repeat([0, 1], n)
        t = rng.exponential(1 / lam[arm])
        c = rng.uniform(0, 4, 2 * n)
        df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "arm": arm})
        d = RMST(duration="t", event="e", group="arm", tau=tau).fit(df).tidy()
        row = d[d["term"] == "rmst_difference"].iloc[0]
        cover += row["conf_low"] <= true[1] - true[0] <= row["conf_high"]
    share = cover / reps
    mc = 3 * np.sqrt(0.95 * 0.05 / reps)
    assert abs(share - 0.95) < mc + 0.01


def test_tau_beyond_follow_up_warns():
    df = pd.DataFrame({"t": [1.0, 2, 3], "e": [1, 0, 1], "g": ["a", "a", "b"]})
    with pytest.warns(StatisticalWarning, match="beyond the last follow-up"):
        RMST(duration="t", event="e", group="g", tau=10).fit(df)


def test_bad_inputs(veteran):
    with pytest.raises(SpecificationError, match="tau"):
        RMST(duration="time", event="status", tau=-1)
    with pytest.raises(SpecificationError, match="tau must be one of"):
        RMST(duration="time", event="status", tau="max")
    with pytest.raises(SpecificationError, match="measure"):
        RMST(duration="time", event="status", tau=1, measure="rmsd")
    with pytest.raises(SpecificationError, match="needs group"):
        RMST(duration="time", event="status", tau=1, reference=1)
    with pytest.raises(DataError, match="reference=3"):
        RMST(duration="time", event="status", tau=100, group="trt", reference=3).fit(veteran)
    with pytest.raises(DataError, match="event"):
        RMST(duration="time", event="celltype", tau=100).fit(veteran)


def test_plot_and_summary(veteran):
    res = RMST(duration="time", event="status", group="trt", tau=365).fit(veteran)
    ax = res.plot()
    assert len(ax.collections) == 2 and len(ax.lines) >= 3
    text = str(res.summary())
    assert "Ratio vs 1" in text and "proportional" in text


def test_zero_restricted_mean_gives_an_undefined_ratio_not_a_crash():
    # issue 12 item 4: measure="rmtl" with an arm without events before tau
    df = pd.DataFrame({"t": [1, 2, 5, 6, 7, 8], "e": [1, 1, 0, 1, 1, 0], "g": list("aaabbb")})
    with pytest.warns(StatisticalWarning, match="ratio b vs a is undefined.*'b' is 0"):
        res = RMST(duration="t", event="e", tau=4, group="g", measure="rmtl").fit(df)
    t = res.tidy().set_index("term")
    assert t.loc["rmtl_ratio", ["estimate", "std_error", "conf_low", "p_value"]].isna().all()
    assert t.loc["rmtl_difference", "estimate"] == pytest.approx(-5 / 3)
    # all events at time 0: the RMST is 0, the RMTL is tau
    zero = pd.DataFrame({"t": [0.0, 0, 3, 4], "e": [1, 1, 1, 0], "g": list("aabb")})
    with pytest.warns(StatisticalWarning, match="undefined"):
        out = RMST(duration="t", event="e", tau=2, group="g").fit(zero).by_group()
    assert out["rmst"].tolist() == [0.0, 2.0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.booleans(), st.sampled_from("abc")),
                min_size=1, max_size=30),
       st.integers(1, 15), st.sampled_from(["rmst", "rmtl"]))
def test_nothing_crashes_on_valid_random_inputs(rows, tau, measure):
    df = pd.DataFrame(rows, columns=["t", "e", "g"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = RMST(duration="t", event="e", tau=tau, group="g", measure=measure).fit(df)
    tidy = res.tidy()
    per = tidy[tidy["term"] == measure]["estimate"]
    assert ((per >= -1e-12) & (per <= tau + 1e-12)).all()
    ratio = tidy[tidy["term"] == f"{measure}_ratio"]
    assert (ratio["estimate"].isna() | (ratio["estimate"] >= 0)).all()
    assert len(res.glance()) == 1 and len(res.by_group()) == df["g"].nunique()


def test_time_spans_in_days_and_tau_as_a_timedelta():
    # issue 12 item 7: RMST on timedelta durations gave tau (nanoseconds) instead of days
    rng = np.random.default_rng(3)
    days = pd.DataFrame({"t": rng.integers(1, 60, 80).astype(float), "e": rng.integers(0, 2, 80)})
    spans = days.assign(t=pd.to_timedelta(days["t"], unit="D"))
    plain = RMST(duration="t", event="e", tau=30).fit(days)
    res = RMST(duration="t", event="e", tau=pd.Timedelta(days=30)).fit(spans)
    assert res.tau == 30.0 and res.glance()["time_unit"].item() == "days"
    est = res.tidy()["estimate"].item()
    assert est == pytest.approx(plain.tidy()["estimate"].item(), rel=1e-14)
    assert 0 < est < 30
