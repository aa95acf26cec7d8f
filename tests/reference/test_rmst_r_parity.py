"""RMST against R survival 3.5-3 rmean (veteran), and its contrasts in closed form from R's values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from causalips.errors import StatisticalWarning
from causalips.survival.rmst import RMST


@pytest.fixture(scope="module")
def veteran(reference_data):
    return reference_data.csv("survival/veteran.csv")


@pytest.fixture(scope="module")
def ref(reference_data):
    return reference_data.json("survival/km_veteran.json")


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
