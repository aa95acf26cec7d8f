"""Log-rank (survdiff) against R survival 3.5-3 on veteran."""

from __future__ import annotations

import numpy as np
import pytest

from causalips import KaplanMeier, LogRank

CASES = {
    "veteran_trt": dict(group="trt"),
    "veteran_celltype": dict(group="celltype"),
    "veteran_trt_rho1": dict(group="trt", rho=1.0),
    "veteran_trt_strata_prior": dict(group="trt", strata="prior"),
}


@pytest.fixture(scope="module")
def ref(reference_data):
    return reference_data.json("survival/logrank.json")["tests"]


@pytest.fixture(scope="module")
def veteran(reference_data):
    return reference_data.csv("survival/veteran.csv")


@pytest.mark.parametrize("key", list(CASES))
def test_logrank_matches_survdiff(ref, veteran, key):
    r = ref[key]
    res = LogRank(duration="time", event="status", **CASES[key]).fit(veteran)
    assert res.chisq == pytest.approx(r["chisq"], rel=1e-10)
    assert res.df == r["df"]
    assert res.p_value == pytest.approx(r["p"], rel=1e-8)
    tidy = res.tidy()
    # R names groups "trt=1", "celltype=adeno"; ours are the plain levels (sorted)
    names = [g.split("=", 1)[1] for g in r["groups"]]
    ours = [str(g) for g in tidy["group"]]
    order = [names.index(g) for g in ours]
    np.testing.assert_allclose(tidy["observed"], [r["observed"][r["groups"][i]] for i in order],
                               rtol=1e-10)
    np.testing.assert_allclose(tidy["expected"], [r["expected"][r["groups"][i]] for i in order],
                               rtol=1e-10)
    var = np.array(r["var"]["rows"])[np.ix_(order, order)]
    np.testing.assert_allclose(res.variance, var, rtol=1e-9, atol=1e-12)


def test_result_logrank_equals_estimator(ref, veteran):
    km = KaplanMeier(duration="time", event="status", group="trt", strata="prior").fit(veteran)
    assert km.logrank().chisq == pytest.approx(ref["veteran_trt_strata_prior"]["chisq"], rel=1e-10)
    assert km.logrank(strata=False).chisq == pytest.approx(ref["veteran_trt"]["chisq"], rel=1e-10)
    assert km.logrank(rho=1).chisq == pytest.approx(
        LogRank(duration="time", event="status", group="trt", strata="prior", rho=1)
        .fit(veteran).chisq, rel=1e-12)
