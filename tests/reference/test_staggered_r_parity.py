"""Callaway & Sant'Anna staggered DiD against R did 2.5.1 on mpdta.

ATT(g,t), the four aggregations, the pre-test and the values printed in R did's docs.
"""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from causalips.datasets import load_mpdta
from causalips.did.staggered import StaggeredDiD
from causalips.inference import MultiplierBootstrap


@pytest.fixture(scope="module")
def mpdta():
    return load_mpdta()


def _fit(data, reps=0, **kw):
    boot = MultiplierBootstrap(reps=reps, seed=1) if reps else None
    return StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                        first_treated="first.treat", inference=boot, **kw).fit(data)




SPECS = {
    "nevertreated_nocov_dr": {},
    "nevertreated_lpop_dr": {"covariates": ["lpop"], "method": "dr"},
    "nevertreated_lpop_reg": {"covariates": ["lpop"], "method": "reg"},
    "nevertreated_lpop_ipw": {"covariates": ["lpop"], "method": "ipw"},
    "notyettreated_nocov_dr": {"control": "not_yet_treated"},
}


@pytest.fixture(scope="module")
def ref(reference_data):
    return reference_data.json("did/cs_mpdta.json")


def _oracle(ref, name):
    """R did analytic output where available, else the two Python ports (which agree with R)."""
    r_vals = ref["R_did_analytic_reference_from_csdid_repo"]["values"]
    return r_vals[name] if name in r_vals else ref["results"][name]["csdid"]


def test_bundled_mpdta_is_the_reference_copy(mpdta, reference_data):
    # The bundled file must be byte for byte R did's mpdta as exported for the reference values
    # (its SHA-256 is recorded beside them), so the parity tests below test what R tested.
    bundled = resources.files("causalips.datasets") / "data" / "mpdta.csv"
    digest = hashlib.sha256(bundled.read_bytes()).hexdigest()
    assert digest == reference_data.json("did/mpdta_provenance.json")["sha256"]
    assert mpdta.shape == (2500, 6)


@pytest.mark.parametrize("name", list(SPECS))
def test_att_gt_matches_r_did(ref, mpdta, name):
    res = _fit(mpdta, **SPECS[name])
    tab = res.tidy()
    want = pd.DataFrame(_oracle(ref, name)["att_gt"])
    assert tab["group"].tolist() == want["group"].tolist()
    assert tab["time"].tolist() == want["time"].tolist()
    np.testing.assert_allclose(tab["estimate"], want["att"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(tab["std_error"], want["se"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("agg", ["simple", "group", "calendar", "dynamic"])
def test_aggregations_match_r_aggte(ref, mpdta, name, agg):
    res = _fit(mpdta, **SPECS[name]).aggregate(agg)
    want = _oracle(ref, name)[agg]
    tab = res.tidy()
    overall = res.overall
    assert overall["estimate"] == pytest.approx(want["overall_att"], abs=1e-6)
    assert overall["std_error"] == pytest.approx(want["overall_se"], rel=1e-5)
    if "by" in want:
        by = pd.DataFrame(want["by"])
        levels = tab[tab["term"] != "att"]
        key = {"group": "group", "calendar": "time", "dynamic": "event_time"}[agg]
        assert levels[key].tolist() == by[key].tolist()
        np.testing.assert_allclose(levels["estimate"], by["att"], atol=1e-6)
        np.testing.assert_allclose(levels["std_error"], by["se"], rtol=1e-5)


def test_pretest_matches_r(ref, mpdta):
    res = _fit(mpdta)
    want = ref["results"]["nevertreated_nocov_dr"]["csdid"]["pretest_wald"]
    assert res.pretest[0] == pytest.approx(want["W"], rel=1e-8)
    assert res.pretest[2] == pytest.approx(want["p_value"], abs=1e-5)


def test_published_docs_values_to_their_four_decimals(ref, mpdta):
    pub = ref["published_R_did_docs"]["nevertreated_nocov_dr"]
    res = _fit(mpdta)
    np.testing.assert_allclose(res.tidy()["estimate"], [r["att"] for r in pub["att_gt"]],
                               atol=5.01e-5)
    assert res.aggregate("dynamic").overall["estimate"] == pytest.approx(
        pub["dynamic"]["overall_att"], abs=5.01e-5)


def test_bootstrap_se_close_to_r_published_bootstrap(ref, mpdta):
    # R's docs print multiplier-bootstrap SEs from 1000 draws (4 decimals); ours from 20000.
    # Small cohorts make the IQR-based SE exceed the analytic one, in R and here alike.
    pub = ref["published_R_did_docs"]["nevertreated_nocov_dr"]["att_gt"]
    res = _fit(mpdta, reps=20000)
    ratio = res.tidy()["std_error_bootstrap"] / np.array([r["se_boot"] for r in pub])
    assert np.all(np.abs(ratio - 1) < 0.12), ratio.tolist()
    assert abs(np.mean(ratio) - 1) < 0.04


# -- repeated cross-sections (R did's panel = FALSE) ---------------------------------------------
# Reference: csdid 0.4.3 / drdid 1.1.7 (Python ports of R did 2.5.1 / DRDID) on mpdta with the
# unit id dropped, so each row is its own draw; written by data/did/make_cs_rc_mpdta.py.

RC_SPECS = {
    "nevertreated_nocov_dr": {},
    "nevertreated_lpop_dr": {"covariates": ["lpop"], "method": "dr"},
    "nevertreated_lpop_reg": {"covariates": ["lpop"], "method": "reg"},
    "nevertreated_lpop_ipw": {"covariates": ["lpop"], "method": "ipw"},
    "notyettreated_nocov_dr": {"control": "not_yet_treated"},
    "notyettreated_lpop_dr": {"control": "not_yet_treated", "covariates": ["lpop"]},
    "notyettreated_lpop_ipw": {"control": "not_yet_treated", "covariates": ["lpop"],
                               "method": "ipw"},
}


@pytest.fixture(scope="module")
def rc_ref(reference_data):
    return reference_data.json("did/cs_rc_mpdta.json")


def _fit_rc(data, **kw):
    return StaggeredDiD(outcome="lemp", time="year", first_treated="first.treat", panel=False,
                        inference=None, **kw).fit(data.drop(columns="countyreal"))


def test_rc_reference_is_on_the_bundled_mpdta(rc_ref, reference_data):
    assert rc_ref["data"]["sha256"] == reference_data.json("did/mpdta_provenance.json")["sha256"]
    assert set(rc_ref["results"]) == set(RC_SPECS)


@pytest.mark.parametrize("name", list(RC_SPECS))
def test_rc_att_gt_matches_csdid(rc_ref, mpdta, name):
    res = _fit_rc(mpdta, **RC_SPECS[name])
    want = rc_ref["results"][name]
    tab = res.tidy()
    assert res.n_units == want["n"] == 2500
    assert tab["group"].tolist() == want["att_gt"]["group"]
    assert tab["time"].tolist() == want["att_gt"]["time"]
    np.testing.assert_allclose(tab["estimate"], want["att_gt"]["att"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(tab["std_error"], want["att_gt"]["se"], rtol=1e-9)
    assert res.pretest[0] == pytest.approx(want["pretest_wald"]["W"], rel=1e-8)
    assert res.pretest[2] == pytest.approx(want["pretest_wald"]["p_value"], abs=1e-5)


@pytest.mark.parametrize("name", list(RC_SPECS))
@pytest.mark.parametrize("agg", ["simple", "group", "calendar", "dynamic"])
def test_rc_aggregations_match_csdid(rc_ref, mpdta, name, agg):
    res = _fit_rc(mpdta, **RC_SPECS[name]).aggregate(agg)
    want = rc_ref["results"][name][agg]
    assert res.overall["estimate"] == pytest.approx(want["overall_att"], abs=1e-10)
    assert res.overall["std_error"] == pytest.approx(want["overall_se"], rel=1e-9)
    if "by" in want:
        key = {"group": "group", "calendar": "time", "dynamic": "event_time"}[agg]
        levels = res.tidy().query("term != 'att'")
        assert levels[key].tolist() == want["by"][key]
        np.testing.assert_allclose(levels["estimate"], want["by"]["att"], atol=1e-10)
        np.testing.assert_allclose(levels["std_error"], want["by"]["se"], rtol=1e-9)


def _random_two_by_two(seed, n=400):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(size=n)])
    d = (rng.uniform(size=n) < 1 / (1 + np.exp(-0.5 * X[:, 1]))).astype(float)
    post = (rng.uniform(size=n) < 0.5).astype(float)
    y = X @ [1.0, 0.5, -1.0] + d * (0.3 + post) + post * X[:, 2] + rng.normal(size=n)
    y0 = X @ [1.0, 0.5, -1.0] + rng.normal(size=n)
    return X, d, post, y, y0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_period_estimators_match_drdid_live(seed):
    # Our 2x2 kernels against the drdid package itself (Python port of R's DRDID), on random
    # data with covariates: the ATT and every observation's influence function.
    pytest.importorskip("drdid")
    from drdid import drdid, ipwd_did, reg_did

    from causalips.did import _drdid as ours

    X, d, post, y, y0 = _random_two_by_two(seed)
    y1 = y0 + 0.2 * d + X[:, 2] + np.random.default_rng(seed).normal(size=d.size)
    pairs = [(ours.drdid_rc, drdid.drdid_rc), (ours.reg_did_rc, reg_did.reg_did_rc),
             (ours.std_ipw_did_rc, ipwd_did.std_ipw_did_rc)]
    for mine, peer in pairs:
        a, f = mine(y, post, d, X)
        b, g = peer(y=y, post=post, D=d, covariates=X)
        assert a == pytest.approx(b, abs=1e-12)
        np.testing.assert_allclose(f, g, rtol=1e-9, atol=1e-10)
    pairs = [(ours.drdid_panel, drdid.drdid_panel), (ours.reg_did_panel, reg_did.reg_did_panel),
             (ours.std_ipw_did_panel, ipwd_did.std_ipw_did_panel)]
    for mine, peer in pairs:
        a, f = mine(y1 - y0, d, X)
        b, g = peer(y1=y1, y0=y0, D=d, covariates=X)
        assert a == pytest.approx(b, abs=1e-12)
        np.testing.assert_allclose(f, g, rtol=1e-9, atol=1e-10)


def test_repeated_cross_section_matches_csdid_live():
    # The whole estimator against csdid on a simulated registry extract: different rows each
    # year, a covariate, not-yet-treated controls, every aggregation.
    pytest.importorskip("csdid")
    import contextlib
    import io
    import warnings

    from csdid.att_gt import ATTgt

    from causalips.datasets import simulate_staggered_panel

    df = simulate_staggered_panel(n_municipalities=80, n_years=7, cohorts=(2013, 2015),
                                  effect_start=(2.0, 1.0), effect_growth=(1.0, 0.5), seed=4)
    df = df.sample(frac=0.7, random_state=1).reset_index(drop=True)  # not a balanced panel
    df["g"] = df["first_treated"]
    ours = StaggeredDiD(outcome="workdays", time="year", first_treated="g", panel=False,
                        covariates=["unemployment"], control="not_yet_treated",
                        inference=None).fit(df)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        peer = ATTgt(yname="workdays", tname="year", idname=None, gname="g",
                     data=df[["workdays", "year", "g", "unemployment"]].copy(),
                     xformla="workdays~unemployment", panel=False,
                     control_group="notyettreated").fit(est_method="dr", bstrap=False)
        tab = ours.tidy()
        np.testing.assert_allclose(tab["estimate"], peer.results["att"], atol=1e-10)
        np.testing.assert_allclose(tab["std_error"], peer.results["se"], rtol=1e-9)
        for agg in ("simple", "group", "calendar", "dynamic"):
            peer.aggte(typec=agg, bstrap=False)
            mine = ours.aggregate(agg).overall
            assert mine["estimate"] == pytest.approx(peer.atte["overall_att"], abs=1e-10)
            assert mine["std_error"] == pytest.approx(peer.atte["overall_se"], rel=1e-9)


def test_repeated_cross_section_clustered_matches_csdid_live(mpdta):
    # Clustered influence-function SEs (csdid's analytic cluster-robust SEs, as R did 2.5.1).
    # With balanced data and clusters that hold whole units, the repeated cross-section SE
    # equals the panel SE: the rows of a unit sum to its panel influence function.
    pytest.importorskip("csdid")
    import contextlib
    import io
    import warnings

    from csdid.att_gt import ATTgt

    df = mpdta.assign(state=mpdta["countyreal"] // 1000)
    rc = df.drop(columns="countyreal")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        peer = ATTgt(yname="lemp", tname="year", idname=None, gname="first.treat",
                     data=rc.copy(), panel=False, clustervar="state").fit(bstrap=False)
        ours = StaggeredDiD(outcome="lemp", time="year", first_treated="first.treat",
                            panel=False, cluster="state", inference=None).fit(rc)
        panel = _fit(df, cluster="state")
    np.testing.assert_allclose(ours.tidy()["std_error"], peer.results["se"], rtol=1e-9)
    np.testing.assert_allclose(ours.tidy()["std_error"], panel.tidy()["std_error"], rtol=1e-9)
