"""Cox model parity with R survival 3.5-3: coefficients, SEs, tests, concordance (pbc, rotterdam, cgd)."""

from __future__ import annotations

import numpy as np
import pytest

from causalips.errors import (
    DroppedRowsWarning,
)
from causalips.inference import Cluster, ModelBased, Robust
from causalips.survival.cox import Cox, CoxResult

COEF_TOL, SE_TOL, STAT_TOL = 1e-6, 1e-5, 1e-4


MAYO = ["age", "edema", "log(bili)", "log(albumin)", "log(protime)"]


MAYO_R = ["age", "edema", "log(bili)", "log(albumin)", "log(protime)"]


@pytest.fixture(scope="module")
def pbc(reference_data):
    df = reference_data.csv("survival/pbc.csv")
    df["dead"] = (df["status"] == 2).astype(int)
    return df


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))


def check_against_r(res: CoxResult, ref: dict, name_map: dict[str, str]):
    """Compare every quantity R reports; ``name_map`` maps R's coefficient names to ours."""
    tidy = res.tidy().set_index("term")
    ours = [name_map[r] for r in ref["coef_names"]]
    assert list(tidy.index) == ours
    coef = np.array([ref["coef"][r] for r in ref["coef_names"]])
    se = np.array([ref["se"][r] for r in ref["coef_names"]])
    np.testing.assert_allclose(tidy["estimate"], coef, rtol=COEF_TOL, atol=1e-9)
    np.testing.assert_allclose(tidy["std_error"], se, rtol=SE_TOL)
    np.testing.assert_allclose(tidy["std_error_model"],
                               [ref["se_naive"][r] for r in ref["coef_names"]], rtol=SE_TOL)
    np.testing.assert_allclose(tidy["statistic"], [ref["z"][r] for r in ref["coef_names"]],
                               rtol=STAT_TOL)
    np.testing.assert_allclose(tidy["p_value"], [ref["p"][r] for r in ref["coef_names"]],
                               rtol=STAT_TOL)
    np.testing.assert_allclose(tidy["hazard_ratio"], [ref["hr"][r] for r in ref["coef_names"]],
                               rtol=COEF_TOL)
    np.testing.assert_allclose(tidy["hr_conf_low"],
                               [ref["hr_lower95"][r] for r in ref["coef_names"]], rtol=SE_TOL)
    np.testing.assert_allclose(tidy["hr_conf_high"],
                               [ref["hr_upper95"][r] for r in ref["coef_names"]], rtol=SE_TOL)
    np.testing.assert_allclose(res.vcov_matrix().to_numpy(), np.array(ref["var"]["rows"]), rtol=SE_TOL,
                               atol=1e-12)
    g = res.glance().iloc[0]
    assert g["n_obs"] == ref["n"]
    assert g["n_events"] == ref["nevent"]
    assert g["loglik_null"] == pytest.approx(ref["loglik_null"], rel=1e-10)
    assert g["loglik"] == pytest.approx(ref["loglik_fitted"], rel=1e-10)
    for ours_key, r_key in (("lr", "lr_test"), ("wald", "wald_test"), ("score", "score_test")):
        assert g[f"{ours_key}_stat"] == pytest.approx(ref[r_key]["statistic"], rel=STAT_TOL)
        assert g[f"{ours_key}_p"] == pytest.approx(ref[r_key]["p"], rel=STAT_TOL)
        assert g["df"] == ref[r_key]["df"]
    assert g["concordance"] == pytest.approx(ref["concordance"], rel=1e-10)
    assert g["concordance_se"] == pytest.approx(ref["concordance_se"], rel=SE_TOL)
    if ref.get("robust_score_test"):
        assert g["robust_score_stat"] == pytest.approx(ref["robust_score_test"]["statistic"],
                                                       rel=STAT_TOL)
    assert g["converged"]


IDENTITY_MAYO = {n: n for n in MAYO_R}


CATEGORICAL_MAP = {"factor(trt)2": "trt[2]", "factor(stage)2": "stage[2]",
                   "factor(stage)3": "stage[3]", "factor(stage)4": "stage[4]", "sexf": "sex[f]"}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_pbc_mayo_matches_r(reference_data, pbc, ties):
    ref = reference_data.json("survival/cox.json")["models"]["pbc_mayo"][ties]
    res = Cox(duration="time", event="dead", covariates=MAYO, ties=ties).fit(pbc.iloc[:312])
    check_against_r(res, ref, IDENTITY_MAYO)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_pbc_categorical_matches_r(reference_data, pbc, ties):
    ref = reference_data.json("survival/cox.json")["models"]["pbc_categorical"][ties]
    res = Cox(duration="time", event="dead", covariates=["trt", "stage", "sex"],
              categorical=["trt", "stage"], reference={"sex": "m"}, ties=ties).fit(pbc.iloc[:312])
    check_against_r(res, ref, CATEGORICAL_MAP)
    assert dict(res.factors["stage"]) == {"levels": (1, 2, 3, 4), "reference": 1}
    assert res.factors["sex"]["reference"] == "m"


def test_pbc_na_rows_dropped_with_count(reference_data, pbc):
    ref = reference_data.json("survival/cox.json")["models"]["pbc_categorical_all_rows_na_dropped"]["efron"]
    est = Cox(duration="time", event="dead", covariates=["trt", "stage", "sex"],
              categorical=["trt", "stage"], reference={"sex": "m"})
    with pytest.warns(DroppedRowsWarning, match=f"{ref['n_omitted_na']} of 418 rows dropped") as w:
        res = est.fit(pbc)
    dropped = [x.message for x in w if isinstance(x.message, DroppedRowsWarning)]
    assert dropped[0].n_dropped == ref["n_omitted_na"] == 106
    check_against_r(res, ref, CATEGORICAL_MAP)
    assert any("106 of 418" in m for m in res.warnings)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_rotterdam_stratified_matches_r(reference_data, ties):
    ref = reference_data.json("survival/cox_stratified.json")["models"]["rotterdam_strata_grade"][ties]
    rot = reference_data.csv("survival/rotterdam.csv")
    res = Cox(duration="dtime", event="death", covariates=["age", "meno", "size", "nodes"],
              reference={"size": "<=20"}, strata=["grade"], ties=ties).fit(rot)
    check_against_r(res, ref, {"age": "age", "meno": "meno", "size20-50": "size[20-50]",
                               "size>50": "size[>50]", "nodes": "nodes"})
    assert res.glance()["n_strata"].iloc[0] == 2


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cgd_counting_process_cluster_matches_r(reference_data, ties):
    data = reference_data.json("survival/cox_cluster_robust.json")
    ref = data["models"][f"cgd_cluster_id_{ties}"]
    cgd = reference_data.csv("survival/cgd.csv")
    res = Cox(duration="tstop", entry="tstart", event="status",
              covariates=["treat", "inherit", "steroids"], vcov=Cluster("id"), ties=ties).fit(cgd)
    check_against_r(res, ref, {"treatrIFN-g": "treat[rIFN-g]",
                               "inheritautosomal": "inherit[autosomal]", "steroids": "steroids"})
    assert res.glance()["n_clusters"].iloc[0] == 128


def test_pbc_robust_without_cluster_matches_r(reference_data, pbc):
    ref = reference_data.json("survival/cox_cluster_robust.json")["models"]["pbc_mayo_robust_no_cluster_efron"]
    res = Cox(duration="time", event="dead", covariates=MAYO, vcov=Robust()).fit(pbc.iloc[:312])
    check_against_r(res, ref, IDENTITY_MAYO)


@pytest.mark.parametrize(
    "key, vcov, ties",
    [
        ("death_default", Robust(), "efron"),
        ("death_cluster_id", Cluster("id"), "efron"),
        ("death_model_based", ModelBased(), "efron"),
        ("extra_death_breslow_cluster_id", Cluster("id"), "breslow"),
    ],
)
def test_weighted_counting_process_finegray_data_matches_r(reference_data, key, vcov, ties):
    ref = reference_data.json("survival/competing_finegray_pbc.json")["fine_gray"][key]
    fg = reference_data.csv("survival/pbc_finegray_death.csv")
    res = Cox(duration="fgstop", entry="fgstart", event="fgstatus", weights="fgwt",
              covariates=["age", "edema", "log(bili)"], vcov=vcov, ties=ties).fit(fg)
    check_against_r(res, ref, {"age": "age", "edema": "edema", "log(bili)": "log(bili)"})
