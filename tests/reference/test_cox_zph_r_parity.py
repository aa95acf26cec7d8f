"""cox.zph parity: R survival 3.5-3 score test with the full information matrix."""

from __future__ import annotations

import numpy as np
import pytest

from causalips.survival.cox import Cox

MAYO = ["age", "edema", "log(bili)", "log(albumin)", "log(protime)"]


CATEGORICAL = ["trt", "stage", "sex"]


@pytest.fixture(scope="module")
def pbc(reference_data):
    df = reference_data.csv("survival/pbc.csv").iloc[:312].copy()
    df["dead"] = (df["status"] == 2).astype(int)
    return df


def _fit(pbc, covariates, ties):
    return Cox(duration="time", event="dead", covariates=covariates, ties=ties,
               categorical=["trt", "stage"] if "stage" in covariates else (),
               reference={"sex": "m"} if "sex" in covariates else None).fit(pbc)


R_TERM = {"factor(trt)": "trt", "factor(stage)": "stage", "sex": "sex", "factor(trt)2": "trt[2]",
          "factor(stage)2": "stage[2]", "factor(stage)3": "stage[3]",
          "factor(stage)4": "stage[4]", "sexf": "sex[f]", "GLOBAL": "GLOBAL"}


CASES = [
    ("pbc_mayo_km", "efron", "km", MAYO, True),
    ("pbc_mayo_identity", "efron", "identity", MAYO, True),
    ("extra_pbc_mayo_rank", "efron", "rank", MAYO, True),
    ("extra_pbc_mayo_breslow_km", "breslow", "km", MAYO, True),
    ("extra_pbc_categorical_km", "efron", "km", CATEGORICAL, True),
    ("extra_pbc_categorical_km_terms_false", "efron", "km", CATEGORICAL, False),
]


@pytest.fixture(scope="module")
def zph_ref(reference_data):
    return reference_data.json("survival/coxzph.json")["tests"]


@pytest.mark.parametrize("key, ties, transform, covariates, terms", CASES)
def test_cox_zph_matches_r(zph_ref, pbc, key, ties, transform, covariates, terms):
    ref = zph_ref[key]["tests"]
    res = _fit(pbc, covariates, ties)
    table = res.check_proportional_hazards(transform=transform, terms=terms)
    expected_terms = [R_TERM.get(k, k) for k in ref]
    assert table["term"].tolist() == expected_terms
    np.testing.assert_allclose(table["chisq"], [v["chisq"] for v in ref.values()], rtol=1e-4)
    np.testing.assert_allclose(table["p_value"], [v["p"] for v in ref.values()], rtol=1e-4)
    assert table["df"].tolist() == [v["df"] for v in ref.values()]
