"""RMST: R's rmean values, contrasts in closed form, coverage, bad inputs."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalips.errors import DataError, SpecificationError, StatisticalWarning
from causalips.survival.rmst import RMST


@pytest.fixture(scope="module")
def ref(reference_dir):
    with open(reference_dir / "survival" / "km_veteran.json") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def veteran(reference_dir):
    return pd.read_csv(reference_dir / "survival" / "veteran.csv")


@pytest.mark.parametrize("key", ["tau_180", "tau_365", "common"])
def test_matches_r_rmean(veteran, ref, key):
    for block, group in (("by_trt", "trt"), ("overall", None)):
        values = ref[block]["rmst"][key]
        tau = "common" if key == "common" else values["tau"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            res = RMST(duration="time", event="status", group=group, tau=tau).fit(veteran)
        assert res.tau == values["tau"]
        tidy = res.tidy()
        for gname, r in values["groups"].items():
            label = "all" if group is None else int(gname.split("=")[1])
            row = tidy[(tidy["term"] == "rmst") & (tidy["group"] == label)].iloc[0]
            assert row["estimate"] == pytest.approx(r["rmean"], rel=1e-8)
            assert row["std_error"] == pytest.approx(r["se_rmean"], rel=1e-8)


def test_differences_and_ratios_closed_form(veteran, ref):
    res = RMST(duration="time", event="status", group="trt", tau=365, reference=2,
               conf_level=0.9).fit(veteran)
    t = res.tidy().set_index("term")
    r = ref["by_trt"]["rmst"]["tau_365"]["groups"]
    m1, s1 = r["trt=1"]["rmean"], r["trt=1"]["se_rmean"]
    m2, s2 = r["trt=2"]["rmean"], r["trt=2"]["se_rmean"]
    z = stats.norm.ppf(0.95)
    diff = t.loc["rmst_difference"]
    se = np.hypot(s1, s2)
    assert diff["contrast"] == "1 vs 2"
    assert diff["estimate"] == pytest.approx(m1 - m2, rel=1e-8)
    assert diff["std_error"] == pytest.approx(se, rel=1e-8)
    assert diff["conf_low"] == pytest.approx(m1 - m2 - z * se, rel=1e-8)
    assert diff["p_value"] == pytest.approx(2 * stats.norm.sf(abs(m1 - m2) / se), rel=1e-8)
    ratio = t.loc["rmst_ratio"]
    se_log = np.hypot(s1 / m1, s2 / m2)
    assert ratio["estimate"] == pytest.approx(m1 / m2, rel=1e-10)
    assert ratio["std_error_log"] == pytest.approx(se_log, rel=1e-8)
    assert ratio["conf_low"] == pytest.approx(m1 / m2 * np.exp(-z * se_log), rel=1e-8)
    assert ratio["conf_high"] == pytest.approx(m1 / m2 * np.exp(z * se_log), rel=1e-8)
    assert ratio["p_value"] == pytest.approx(2 * stats.norm.sf(abs(np.log(m1 / m2)) / se_log))


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
