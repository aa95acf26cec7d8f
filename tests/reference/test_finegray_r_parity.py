"""Fine-Gray: R finegray() data expansion and the weighted Cox fit against R survival 3.5-3 (pbc)."""

from __future__ import annotations

import numpy as np
import pytest

from causalips.inference import Cluster, ModelBased, Robust
from causalips.survival.finegray import ExpandedRowRobust, FineGray, finegray_data


@pytest.fixture(scope="module")
def pbc(reference_data):
    return reference_data.csv("survival/pbc.csv")


TERMS = ["age", "edema", "log(bili)"]


@pytest.fixture(scope="module")
def fg_ref(reference_data):
    return reference_data.csv("survival/pbc_finegray_death.csv")


def test_expansion_equals_r_finegray(pbc, fg_ref):
    fg = finegray_data(pbc, duration="time", event="status", cause=2,
                       keep=["id", "age", "edema", "bili"])
    assert len(fg) == len(fg_ref) == 1525
    np.testing.assert_array_equal(fg["id"], fg_ref["id"])
    np.testing.assert_array_equal(fg["fg_start"], fg_ref["fgstart"])
    np.testing.assert_array_equal(fg["fg_stop"], fg_ref["fgstop"])
    np.testing.assert_array_equal(fg["fg_status"], fg_ref["fgstatus"])
    np.testing.assert_allclose(fg["fg_weight"], fg_ref["fgwt"], rtol=1e-13)
    np.testing.assert_array_equal(fg["age"], fg_ref["age"])


# R's default (each expanded row its own cluster) is ExpandedRowRobust(); our default
# Robust() clusters on the person, R's cluster=id.
FITS = {
    "death_default": (ExpandedRowRobust(), "efron"),
    "death_cluster_id": (Robust(), "efron"),
    "death_model_based": (ModelBased(), "efron"),
    "extra_death_breslow_cluster_id": (Cluster("id"), "breslow"),
}


@pytest.fixture(scope="module")
def fg_json(reference_data):
    return reference_data.json("survival/competing_finegray_pbc.json")


@pytest.mark.parametrize("key", list(FITS))
def test_fine_gray_matches_r(pbc, fg_json, key):
    vcov, ties = FITS[key]
    ref = fg_json["fine_gray"][key]
    res = FineGray(duration="time", event="status", cause=2, covariates=TERMS, vcov=vcov,
                   ties=ties).fit(pbc)
    t = res.tidy().set_index("term")
    assert list(t.index) == ref["coef_names"]
    for term in TERMS:
        assert t.loc[term, "estimate"] == pytest.approx(ref["coef"][term], rel=1e-6)
        assert t.loc[term, "std_error"] == pytest.approx(ref["se"][term], rel=1e-5)
        assert t.loc[term, "std_error_model"] == pytest.approx(ref["se_naive"][term], rel=1e-5)
        assert t.loc[term, "hazard_ratio"] == pytest.approx(ref["hr"][term], rel=1e-6)
        assert t.loc[term, "hr_conf_low"] == pytest.approx(ref["hr_lower95"][term], rel=1e-5)
        assert t.loc[term, "p_value"] == pytest.approx(ref["p"][term], rel=1e-4)
    g = res.glance().iloc[0]
    assert g["n_expanded_rows"] == ref["n"] == 1525
    assert g["n_events"] == ref["nevent"]
    assert g["wald_stat"] == pytest.approx(ref["wald_test"]["statistic"], rel=1e-4)
    assert g["loglik"] == pytest.approx(ref["loglik_fitted"], rel=1e-8)


def test_fine_gray_differs_from_cause_specific_cox(pbc, fg_json):
    """The subdistribution and cause-specific coefficients are different quantities."""
    from causalips.survival.cox import Cox

    cs = Cox(duration="time", event="status", event_value=2, covariates=TERMS).fit(pbc)
    ref = fg_json["cause_specific_death"]
    got = cs.tidy().set_index("term")["estimate"]
    for term in TERMS:
        assert got[term] == pytest.approx(ref["coef"][term], rel=1e-6)
    fg = FineGray(duration="time", event="status", cause=2, covariates=TERMS).fit(pbc)
    assert abs(fg.tidy().set_index("term").loc["age", "estimate"] - got["age"]) > 1e-3
