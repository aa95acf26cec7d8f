"""RMST: R's rmean values, contrasts in closed form, coverage, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
