"""TWFE DiD against pyfixest (live, fixest conventions), linearmodels and Card & Krueger (1994)."""

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf  # in the test extra: parity must run in CI, never skip
import pytest
from _did_helpers import person_panel

from causalips.did import DiD
from causalips.errors import DroppedRowsWarning
from causalips.inference import Cluster


def quiet_fit(est, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(df)


def assert_matches_pyfixest(res, ref):
    """Coefficients to 1e-8, SEs, p-values and CI limits to 1e-6 (relative), the same N."""
    tab = res.tidy()
    np.testing.assert_allclose(tab["estimate"], ref.coef().to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(tab["std_error"], ref.se().to_numpy(), rtol=1e-6, atol=0)
    np.testing.assert_allclose(tab["p_value"], ref.pvalue().to_numpy(), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(tab["conf_low"], ref.confint().iloc[:, 0].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(tab["conf_high"], ref.confint().iloc[:, 1].to_numpy(), rtol=1e-6)
    assert res.n_obs == ref._N


@pytest.mark.parametrize("drop_frac", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("covariates", [(), ("x1",)])
def test_pyfixest_parity(drop_frac, weighted, covariates):
    df = person_panel(seed=1, drop_frac=drop_frac)
    rhs = " + ".join(("d",) + covariates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols(f"y ~ {rhs} | id + t", data=df, vcov={"CRV1": "m"},
                       weights="w" if weighted else None, fixef_tol=1e-13)
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m",
                        covariates=covariates, weights="w" if weighted else None), df)
    assert_matches_pyfixest(res, ref)


def test_pyfixest_parity_cluster_and_time_fe():
    df = person_panel(seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ d | m + t", data=df, vcov={"CRV1": "m"}, fixef_tol=1e-13)
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m",
                        fixed_effects=("cluster", "time")), df)
    assert res.att == pytest.approx(ref.coef().iloc[0], abs=1e-8)
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(ref.se().iloc[0], rel=1e-6)


def test_three_fixed_effects_alternating_projections():
    df = person_panel(seed=3)
    df["grp"] = df["id"] % 7
    df["tg"] = df["t"] * 10 + df["grp"] % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ d + x1 | id + t + tg", data=df, vcov={"CRV1": "m"},
                       fixef_tol=1e-13)
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m",
                        covariates=["x1"], fixed_effects=("unit", "time", "tg")), df)
    np.testing.assert_allclose(res.tidy()["estimate"], ref.coef(), atol=1e-8)
    np.testing.assert_allclose(res.tidy()["std_error"], ref.se(), rtol=1e-6)


def test_card_krueger_reference(reference_data):
    ref = reference_data.json("did/card_krueger.json")
    stacked = ref["results"]["stacked_regression_all_available"]
    df = reference_data.csv("did/card_krueger_1994_long.csv").dropna(subset=["fte"])
    with pytest.warns(DroppedRowsWarning):
        res = DiD(outcome="fte", unit="sheet", time="post", treatment="treat_post").fit(df)
    assert res.att == pytest.approx(stacked["twfe_store_fe_pyfixest_coef"], abs=1e-8)
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(
        stacked["twfe_store_fe_pyfixest_se_CRV1"], rel=1e-6)
    assert res.att == pytest.approx(ref["results"]["did_row4_balanced"][0], abs=1e-8)
    # K = 1 regressor + 2 wave levels (store FE nested in the store clusters): fixest's rule
    assert res.glance()["k"].iloc[0] == 3


def test_sparse_unit_period_cells_match_pyfixest():
    """Clustering by unit with many periods: cells are compressed, never a dense U x T table."""
    rng = np.random.default_rng(31)
    units, per_unit = 3000, 4
    df = pd.DataFrame({"id": np.repeat(np.arange(units), per_unit)})
    df["t"] = (rng.integers(0, 100, units)[df["id"]] * 5
               + np.tile(np.arange(per_unit), units) * 3)
    df = df.drop_duplicates(["id", "t"])
    first = np.where(rng.random(units) < 0.3, rng.integers(0, 500, units) + 4, np.nan)
    df["ft"] = first[df["id"]]
    df["y"] = rng.normal(size=len(df)) + 1.5 * (df["t"] >= df["ft"])
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", first_treated="ft"), df)
    df["d"] = (df["t"] >= df["ft"]).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ d | id + t", data=df, vcov={"CRV1": "id"}, fixef_tol=1e-13)
    assert res.att == pytest.approx(ref.coef().iloc[0], abs=1e-8)
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(ref.se().iloc[0], rel=1e-6)


def test_linearmodels_coefficients():
    import linearmodels.panel as lm
    df = person_panel(seed=1, drop_frac=0.2)
    p = df.set_index(["id", "t"])
    ref = lm.PanelOLS(p["y"], p[["d", "x1"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", clusters=p["m"])
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m",
                        covariates=["x1"]), df)
    np.testing.assert_allclose(res.tidy()["estimate"], ref.params.to_numpy(), atol=1e-8)
    # linearmodels applies its own small-sample factor; the CR0 sandwiches are proportional

    cr0 = res.with_inference(Cluster("m", correction="CR0")).tidy()["std_error"].to_numpy()
    ratio = ref.std_errors.to_numpy() / cr0
    assert ratio[0] == pytest.approx(ratio[1], rel=1e-8)


def cross_sections(seed=0, n_mun=30, years=6, n_rows=4000, treated=8, start=3):
    """Repeated cross-sections: different people each year, no person id."""
    rng = np.random.default_rng(seed)
    cell = rng.integers(0, n_mun * years, n_rows)
    df = pd.DataFrame({"m": cell // years, "year": 2010 + cell % years})
    df["ft"] = np.where(df["m"] < treated, 2010.0 + start, np.nan)
    df["d"] = (df["year"] >= df["ft"]).astype(float)
    df["x1"] = rng.normal(size=n_rows)
    df["w"] = rng.uniform(0.5, 2.0, n_rows)
    shock = rng.normal(size=(n_mun, years))
    df["y"] = (0.4 * df["m"] + 0.2 * df["year"] + 1.5 * df["d"] + 0.5 * df["x1"]
               + shock[df["m"], df["year"] - 2010] + rng.normal(size=n_rows))
    return df


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("covariates", [(), ("x1",)])
def test_repeated_cross_sections_match_pyfixest(weighted, covariates):
    df = cross_sections(seed=7)
    rhs = " + ".join(("d",) + covariates)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols(f"y ~ {rhs} | m + year", data=df, vcov={"CRV1": "m"},
                       weights="w" if weighted else None, fixef_tol=1e-13)
    res = quiet_fit(DiD(outcome="y", unit="m", time="year", first_treated="ft", panel=False,
                        covariates=covariates, weights="w" if weighted else None), df)
    assert_matches_pyfixest(res, ref)
    assert res.glance()["k"].iloc[0] == len(covariates) + 1 + 6  # regressors + year levels


def test_cells_keep_a_municipality_seen_in_one_period_as_the_person_fit_does():
    """Issue: the cell fit dropped a one-period municipality as a singleton (N 63, G 7)."""
    rng = np.random.default_rng(0)
    rows = [dict(m=m, year=yr, y=rng.normal())
            for m in range(8) for yr in ([2011] if m == 7 else [2010, 2011, 2012])
            for _ in range(3)]
    df = pd.DataFrame(rows)
    df["ft"] = np.where(df["m"] < 2, 2011.0, np.nan)
    df["d"] = (df["year"] >= df["ft"]).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ d | m + year", data=df, vcov={"CRV1": "m"}, fixef_tol=1e-13)
    cells = (df.groupby(["m", "year"], as_index=False)
               .agg(n=("y", "size"), y=("y", "mean"), ft=("ft", "first")))
    agg = quiet_fit(DiD(outcome="y", unit="m", time="year", first_treated="ft", cluster="m",
                        cell_counts="n"), cells)
    rows_fit = quiet_fit(DiD(outcome="y", unit="m", time="year", first_treated="ft",
                             panel=False), df)
    for res in (agg, rows_fit):
        assert res.n_obs == ref._N == 66 and res.n_clusters == 8
        assert res.att == pytest.approx(ref.coef().iloc[0], abs=1e-10)
        assert res.tidy()["std_error"].iloc[0] == pytest.approx(ref.se().iloc[0], rel=1e-8)
