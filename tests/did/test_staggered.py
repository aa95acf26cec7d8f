"""Callaway & Sant'Anna staggered DiD against R did (mpdta), truth, coverage and bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from causalips.datasets import load_mpdta, simulate_staggered_panel
from causalips.did.staggered import StaggeredDiD
from causalips.errors import (
    ColumnNotFoundError,
    DataError,
    DroppedRowsWarning,
    SpecificationError,
    StatisticalWarning,
)
from causalips.inference import MultiplierBootstrap, Placebo


@pytest.fixture(scope="module")
def mpdta():
    return load_mpdta()


def _fit(data, reps=0, **kw):
    boot = MultiplierBootstrap(reps=reps, seed=1) if reps else None
    return StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                        first_treated="first.treat", inference=boot, **kw).fit(data)


def test_bootstrap_se_agrees_with_analytic_within_monte_carlo_error():
    # Large cohorts, so the bootstrap distribution is close to normal and its IQR-based SE
    # estimates the analytic SE; relative MC sd of the IQR-SE ~ 1.17 / sqrt(B) (~0.8 % at
    # B = 20000): allow 4 sd.
    df = simulate_staggered_panel(n_municipalities=1200, n_years=5, cohorts=(2012, 2013),
                                  effect_start=(1.0, 2.0), effect_growth=(0.5, 0.5), seed=11)
    for weights in ("mammen", "rademacher"):
        res = StaggeredDiD(outcome="workdays", unit="municipality", time="year",
                           first_treated="first_treated",
                           inference=MultiplierBootstrap(reps=20000, seed=7,
                                                         weights=weights)).fit(df)
        tab = res.tidy()
        ratio = tab["std_error_bootstrap"] / tab["std_error"]
        assert np.all(np.abs(ratio - 1) < 4 * 1.17 / np.sqrt(20000)), ratio.tolist()
        # sup-t band over 8 ATT(g,t): wider than pointwise, narrower than Bonferroni
        assert 1.96 < res.critical_value < 2.74
        assert np.all(tab["conf_low_band"] < tab["conf_low"])


def test_bootstrap_is_reproducible_and_seed_recorded(mpdta):
    a = _fit(mpdta, reps=199)
    b = _fit(mpdta, reps=199)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    c = StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                     first_treated="first.treat",
                     inference=MultiplierBootstrap(reps=199)).fit(mpdta)
    seed = int(c.glance()["seed"].iloc[0])
    d = StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                     first_treated="first.treat",
                     inference=MultiplierBootstrap(reps=199, seed=seed)).fit(mpdta)
    pd.testing.assert_frame_equal(c.tidy(), d.tidy())


def test_aggregate_dynamic_band_is_simultaneous(mpdta):
    res = _fit(mpdta, reps=4999).aggregate("dynamic")
    lv = res.tidy().query("term != 'att'")
    assert lv["event_time"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert res.critical_value > 1.96
    width_band = lv["conf_high_band"] - lv["conf_low_band"]
    width_point = lv["conf_high"] - lv["conf_low"]
    assert np.all(width_band > width_point * 0.95)


def test_universal_base_period_has_zero_reference_row(mpdta):
    res = _fit(mpdta, base_period="universal")
    tab = res.tidy()
    ref_rows = tab[tab["time"] == tab["group"] - 1]
    assert len(ref_rows) == 3 and np.all(ref_rows["estimate"] == 0)
    # post-treatment cells are the same as with the varying base period
    post_u = tab[tab["post"]]["estimate"].to_numpy()
    post_v = _fit(mpdta).tidy().query("post")["estimate"].to_numpy()
    np.testing.assert_allclose(post_u, post_v, atol=1e-12)
    # the pre-period of the universal design is the long difference Y_t - Y_{g-1}
    row = tab[(tab["group"] == 2007) & (tab["time"] == 2004)].iloc[0]
    y = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.groupby("countyreal")["first.treat"].first()
    d = y[2004] - y[2006]
    manual = d[g == 2007].mean() - d[g == 0].mean()
    assert row["estimate"] == pytest.approx(manual, abs=1e-12)


def test_anticipation_moves_the_base_period(mpdta):
    with pytest.warns(DroppedRowsWarning, match=r"cohorts 2004 have no base period"):
        res = _fit(mpdta, anticipation=1)
    tab = res.tidy()
    assert set(tab["group"]) == {2006, 2007}
    assert res.n_units == 500  # the 2004 cohort's units stay (R's did keeps them)
    y = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.groupby("countyreal")["first.treat"].first()
    d = y[2007] - y[2004]  # cohort 2006: base period 2006 - 1 - 1 = 2004
    manual = d[g == 2006].mean() - d[g == 0].mean()
    row = tab[(tab["group"] == 2006) & (tab["time"] == 2007)].iloc[0]
    assert row["estimate"] == pytest.approx(manual, abs=1e-12)


def test_invariant_to_unit_and_period_effects(mpdta):
    rng = np.random.default_rng(9)
    units = mpdta["countyreal"].unique()
    a = dict(zip(units, rng.normal(0, 5, units.size)))
    b = dict(zip(range(2003, 2008), rng.normal(0, 5, 5)))
    shifted = mpdta.assign(lemp=mpdta["lemp"] + mpdta["countyreal"].map(a)
                           + mpdta["year"].map(b))
    for kw in ({}, {"control": "not_yet_treated"}, {"base_period": "universal"}):
        r0, r1 = _fit(mpdta, **kw).tidy(), _fit(shifted, **kw).tidy()
        np.testing.assert_allclose(r1["estimate"], r0["estimate"], atol=1e-10)
        np.testing.assert_allclose(r1["std_error"], r0["std_error"], rtol=1e-8)


def test_units_treated_in_first_period_dropped_with_warning(mpdta):
    df = mpdta.copy()
    first_ids = df["countyreal"].unique()[:3]
    df.loc[df["countyreal"].isin(first_ids), "first.treat"] = 2003
    with pytest.warns(DroppedRowsWarning, match="always-treated"):
        res = _fit(df)
    assert res.n_units == 497


def test_closed_form_two_by_two():
    # 2 periods, one cohort: ATT = difference of mean changes; IF SE = sqrt(v_g/n_g + v_c/n_c)
    rng = np.random.default_rng(3)
    n_t, n_c = 40, 60
    y0 = rng.normal(size=n_t + n_c)
    y1 = y0 + rng.normal(size=n_t + n_c) + np.r_[np.full(n_t, 2.0), np.zeros(n_c)]
    df = pd.DataFrame({"id": np.repeat(np.arange(n_t + n_c), 2), "t": np.tile([1, 2], n_t + n_c),
                       "y": np.column_stack([y0, y1]).ravel(),
                       "g": np.repeat(np.r_[np.full(n_t, 2), np.zeros(n_c)], 2)})
    res = StaggeredDiD(outcome="y", unit="id", time="t", first_treated="g", inference=None).fit(df)
    dy = y1 - y0
    att = dy[:n_t].mean() - dy[n_t:].mean()
    se = np.sqrt(dy[:n_t].var() / n_t + dy[n_t:].var() / n_c)
    row = res.tidy().iloc[0]
    assert row["estimate"] == pytest.approx(att, abs=1e-12)
    assert row["std_error"] == pytest.approx(se, rel=1e-12)


def test_truth_recovered_in_simulated_staggered_panel():
    # noise-free version: every ATT(g,t) equals the built-in effect exactly
    df = simulate_staggered_panel(n_municipalities=40, noise_sd=0.0, covariate_effect=0.0,
                                  seed=5)
    res = StaggeredDiD(outcome="workdays", unit="municipality", time="year",
                       first_treated="first_treated", inference=None).fit(df)
    tab = res.tidy()
    truth = df.groupby(["first_treated", "year"])["true_effect"].mean()
    want = [truth[(int(g), int(t))] for g, t in zip(tab["group"], tab["time"])]
    np.testing.assert_allclose(tab["estimate"], want, atol=1e-8)


def test_coverage_of_simple_att_in_simulation():
    # 200 replications: the 95% CI of the simple ATT covers the truth 95% +/- MC error.
    reps, hits = 200, 0
    for s in range(reps):
        df = simulate_staggered_panel(n_municipalities=60, n_years=6, cohorts=(2013, 2014),
                                      effect_start=(2.0, 1.0), effect_growth=(1.0, 0.5),
                                      seed=1000 + s)
        res = StaggeredDiD(outcome="workdays", unit="municipality", time="year",
                           first_treated="first_treated", inference=None).fit(df)
        o = res.aggregate("simple").overall
        post = df[df["treated"] == 1]
        # truth: post-treatment cells weighted by group size = mean effect over exposed rows
        # weighted by the number of post periods per group (R's simple aggregation)
        cells = post.groupby(["first_treated", "year"])["true_effect"].agg(["mean", "size"])
        truth = np.average(cells["mean"], weights=cells["size"])
        hits += o["conf_low"] <= truth <= o["conf_high"]
    cover = hits / reps
    mc = np.sqrt(0.95 * 0.05 / reps)
    assert abs(cover - 0.95) < 3.5 * mc + 0.01, cover


def test_cluster_option_sums_influence_within_clusters(mpdta):
    df = mpdta.assign(state=mpdta["countyreal"] // 1000)
    with pytest.warns(StatisticalWarning, match="29 clusters"):
        res = _fit(df, cluster="state")
    plain = _fit(mpdta)
    assert res.n_clusters == df["state"].nunique()
    np.testing.assert_allclose(res.tidy()["estimate"], plain.tidy()["estimate"])
    assert not np.allclose(res.tidy()["std_error"], plain.tidy()["std_error"])
    # clusters of one unit each give the unclustered SE
    one = _fit(mpdta.assign(c=mpdta["countyreal"]), cluster="c")
    np.testing.assert_allclose(one.tidy()["std_error"], plain.tidy()["std_error"], rtol=1e-12)


def test_few_treated_clusters_warns_and_names_alternatives():
    df = simulate_staggered_panel(n_municipalities=40, seed=2)
    df["region"] = df["municipality"].str[-1]  # 10 regions
    first = df.groupby("municipality")["first_treated"].transform("first")
    df = df[(first == 0) | df["municipality"].isin(
        df.loc[first > 0, "municipality"].unique()[:3])]
    with pytest.warns(StatisticalWarning, match="treated cluster.*SyntheticDiD"):
        StaggeredDiD(outcome="workdays", unit="municipality", time="year",
                     first_treated="first_treated", cluster="region", inference=None).fit(df)


def test_unbalanced_units_dropped_with_warning(mpdta):
    df = mpdta.drop(index=[0, 7])  # two units lose a year
    with pytest.warns(DroppedRowsWarning, match="2 units not observed"):
        res = _fit(df)
    assert res.n_units == 498


def test_not_yet_treated_without_never_treated(mpdta):
    df = mpdta[mpdta["first.treat"] > 0]
    with pytest.warns(DroppedRowsWarning, match="no never-treated units"):
        res = _fit(df, control="not_yet_treated")
    tab = res.tidy()
    assert set(tab["group"]) == {2004, 2006}
    assert tab["time"].max() < 2007
    with pytest.raises(DataError, match="not_yet_treated"):
        _fit(df)


def test_bad_input():
    with pytest.raises(SpecificationError, match="control must be one of"):
        StaggeredDiD(outcome="y", unit="u", time="t", first_treated="g", control="never")
    with pytest.raises(SpecificationError, match="method must be one of"):
        StaggeredDiD(outcome="y", unit="u", time="t", first_treated="g", method="aipw")
    with pytest.raises(SpecificationError, match="anticipation"):
        StaggeredDiD(outcome="y", unit="u", time="t", first_treated="g", anticipation=-1)
    with pytest.raises(SpecificationError, match="reps"):
        StaggeredDiD(outcome="y", unit="u", time="t", first_treated="g",
                     inference=MultiplierBootstrap(reps=1.5))
    with pytest.raises(SpecificationError, match="cannot use Placebo"):
        StaggeredDiD(outcome="y", unit="u", time="t", first_treated="g", inference=Placebo())
    with pytest.raises(SpecificationError, match="needs unit="):
        StaggeredDiD(outcome="y", time="t", first_treated="g")
    df = load_mpdta()
    with pytest.raises(ColumnNotFoundError, match="closest: 'lemp'"):
        StaggeredDiD(outcome="lemq", unit="countyreal", time="year",
                     first_treated="first.treat").fit(df)
    dup = pd.concat([df, df.iloc[:1]], ignore_index=True)
    with pytest.raises(DataError, match="duplicate"):
        _fit(dup)
    bad = df.assign(lemp=df["lemp"].astype(object))
    bad.loc[3, "lemp"] = "n/a"
    with pytest.raises(DataError, match="must be numeric"):
        _fit(bad)
    with pytest.raises(SpecificationError, match="type must be one of"):
        _fit(df).aggregate("event")


def test_plots(mpdta):
    res = _fit(mpdta, reps=99)
    ax = res.plot()
    assert len(ax.lines) + len(ax.collections) > 0
    for agg in ("simple", "group", "calendar", "dynamic"):
        ax = res.aggregate(agg).plot()
        assert len(ax.lines) + len(ax.collections) > 0


def test_result_is_immutable_and_json_safe(mpdta):
    res = _fit(mpdta, reps=49)
    with pytest.raises(AttributeError):
        res.pretest = None
    json.dumps(res.to_dict())
    json.dumps(res.aggregate("dynamic").to_dict())
    text = str(res.summary())
    assert "influence function" in text and "Pre-trend" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit(mpdta)


# -- inference specs ------------------------------------------------------------------------------

def test_with_inference_redraws_without_refitting(mpdta):
    res = _fit(mpdta, reps=199)
    again = res.with_inference(MultiplierBootstrap(reps=199, seed=1))
    pd.testing.assert_frame_equal(again.tidy(), res.tidy())
    other = res.with_inference(MultiplierBootstrap(reps=299, weights="rademacher", seed=5))
    np.testing.assert_array_equal(other.tidy()["estimate"], res.tidy()["estimate"])
    np.testing.assert_array_equal(other.tidy()["std_error"], res.tidy()["std_error"])
    assert not np.allclose(other.tidy()["std_error_bootstrap"], res.tidy()["std_error_bootstrap"])
    g = other.glance().iloc[0]
    assert (g["reps"], g["bootstrap_weights"], g["seed"]) == (299, "rademacher", 5)
    analytic = res.with_inference(None)
    assert analytic.tidy()["std_error_bootstrap"].isna().all()
    assert analytic.inference is None and np.isnan(analytic.critical_value)
    pd.testing.assert_frame_equal(analytic.tidy(), _fit(mpdta).tidy())
    # an aggregation follows its parent
    agg = res.aggregate("dynamic").with_inference(other.inference)
    pd.testing.assert_frame_equal(agg.tidy(), other.aggregate("dynamic").tidy())
    with pytest.raises(SpecificationError, match="takes MultiplierBootstrap"):
        res.with_inference(Placebo())


def test_deprecated_reps_keyword_warns_and_still_works(mpdta):
    with pytest.warns(FutureWarning, match=r"reps=199.*inference=MultiplierBootstrap"):
        old = StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                           first_treated="first.treat", reps=199, seed=1)
    assert old.inference == MultiplierBootstrap(reps=199, seed=1)
    pd.testing.assert_frame_equal(old.fit(mpdta).tidy(), _fit(mpdta, reps=199).tidy())
    with pytest.warns(FutureWarning, match="inference=None"):
        off = StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                           first_treated="first.treat", reps=0)
    assert off.inference is None
    with pytest.raises(SpecificationError, match="pass inference= only"):
        StaggeredDiD(outcome="lemp", unit="countyreal", time="year", first_treated="first.treat",
                     reps=9, inference=None)


def test_deprecated_bootstrap_weights_keyword_warns_and_still_works():
    with pytest.warns(FutureWarning, match="bootstrap_weights='rademacher'"):
        est = StaggeredDiD(outcome="y", unit="u", time="t", first_treated="g",
                           bootstrap_weights="rademacher")
    assert est.inference == MultiplierBootstrap(weights="rademacher")


def test_deprecated_seed_keyword_and_attributes_warn_and_still_work():
    with pytest.warns(FutureWarning, match="seed=3"):
        est = StaggeredDiD(outcome="y", unit="u", time="t", first_treated="g", seed=3)
    assert est.inference == MultiplierBootstrap(seed=3)
    with pytest.warns(FutureWarning, match=r"StaggeredDiD.reps is deprecated"):
        assert est.reps == 999
    with pytest.warns(FutureWarning, match=r"StaggeredDiD.seed is deprecated"):
        assert est.seed == 3


# -- repeated cross-sections --------------------------------------------------------------------

def _rc(df, **kw):
    return StaggeredDiD(outcome="y", time="t", first_treated="g", panel=False, inference=None,
                        **kw).fit(df)


def test_repeated_cross_section_closed_form_two_by_two():
    # 2 periods, one cohort, different people each period: ATT = difference of the four mean
    # changes; its IF SE is sqrt(sum over the four cells of var / n).
    rng = np.random.default_rng(8)
    sizes = {(1, 1): 30, (1, 2): 35, (0, 1): 50, (0, 2): 45}  # (treated, period): rows
    parts = []
    for (d, t), m in sizes.items():
        parts.append(pd.DataFrame({"t": t, "g": 2.0 * d, "y": rng.normal(d + t + 2 * d * (t == 2),
                                                                           1 + d, m)}))
    df = pd.concat(parts, ignore_index=True)
    res = _rc(df)
    cell = {k: df.loc[(df["g"] > 0) == bool(k[0])].query(f"t == {k[1]}")["y"] for k in sizes}
    att = (cell[1, 2].mean() - cell[1, 1].mean()) - (cell[0, 2].mean() - cell[0, 1].mean())
    se = np.sqrt(sum(c.var(ddof=0) / c.size for c in cell.values()))
    row = res.tidy().iloc[0]
    assert row["estimate"] == pytest.approx(att, abs=1e-12)
    assert row["std_error"] == pytest.approx(se, rel=1e-12)
    assert (row["n_treated"], row["n_control"]) == (65, 95)
    assert res.n_obs == res.n_units == len(df) and res.glance()["panel"].iloc[0] == False  # noqa: E712
    assert "repeated cross-sections" in str(res.summary())


def test_repeated_cross_section_recovers_truth_without_noise():
    # Noise-free and balanced: each cohort's mean in t minus its mean in the base period is the
    # mean change of its units, so every ATT(g,t) equals the built-in effect exactly, and the
    # point estimates equal the panel estimator's (only the SEs differ: levels vs changes).
    df = simulate_staggered_panel(n_municipalities=40, noise_sd=0.0, covariate_effect=0.0,
                                  seed=5)
    res = StaggeredDiD(outcome="workdays", time="year", first_treated="first_treated",
                       panel=False, inference=None).fit(df.drop(columns="municipality"))
    tab = res.tidy()
    truth = df.groupby(["first_treated", "year"])["true_effect"].mean()
    want = [truth[(int(g), int(t))] for g, t in zip(tab["group"], tab["time"])]
    np.testing.assert_allclose(tab["estimate"], want, atol=1e-8)
    panel = StaggeredDiD(outcome="workdays", unit="municipality", time="year",
                         first_treated="first_treated", inference=None).fit(df)
    np.testing.assert_allclose(tab["estimate"], panel.tidy()["estimate"], atol=1e-10)


def test_repeated_cross_section_drops_rows_with_warnings():
    df = load_mpdta().drop(columns="countyreal")
    df.loc[[3, 10], "lemp"] = np.nan
    df.loc[df.index[:2], "first.treat"] = 2003  # a cohort treated in the first period
    with pytest.warns(DroppedRowsWarning) as caught:
        res = StaggeredDiD(outcome="lemp", time="year", first_treated="first.treat",
                           panel=False, inference=None).fit(df)
    text = " ".join(str(w.message) for w in caught)
    assert "2 rows with a missing outcome" in text and "treated in or before the first" in text
    assert res.n_obs == 2500 - 4


def test_repeated_cross_section_plan_errors(mpdta):
    with pytest.raises(SpecificationError, match="unit='countyreal' is not used"):
        StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                     first_treated="first.treat", panel=False)
    with pytest.raises(SpecificationError, match="panel must be one of"):
        StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                     first_treated="first.treat", panel="no")
    rc = mpdta.drop(columns="countyreal")
    with pytest.raises(ColumnNotFoundError, match="'yr'"):
        StaggeredDiD(outcome="lemp", time="yr", first_treated="first.treat",
                     panel=False).fit(rc)
    with pytest.raises(DataError, match="period"):
        StaggeredDiD(outcome="lemp", time="year", first_treated="first.treat",
                     panel=False).fit(rc[rc["year"] == 2004])


def test_docstring_example_runs():
    import doctest

    import causalips
    from causalips.did import staggered

    failures, tried = doctest.testmod(staggered, extraglobs={"ci": causalips},
                                      optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


def test_degenerate_inputs_are_one_line_errors(mpdta):
    rc = mpdta.drop(columns="countyreal")
    panel_kw = dict(outcome="lemp", unit="countyreal", time="year", first_treated="first.treat",
                    inference=None)
    rc_kw = dict(outcome="lemp", time="year", first_treated="first.treat", panel=False,
                 inference=None)
    with pytest.raises(SpecificationError, match="outcome= must be one column name"):
        StaggeredDiD(**{**panel_kw, "outcome": ["lemp", "lpop"]}).fit(mpdta)
    for kw, data in ((panel_kw, mpdta), (rc_kw, rc)):
        with pytest.raises(DataError, match="beyond 1e\\+100"):
            StaggeredDiD(**kw).fit(data.assign(lemp=data["lemp"] * 1e300))
        with pytest.raises(DataError, match="beyond 1e\\+100"):
            StaggeredDiD(**kw, covariates=["lpop"]).fit(data.assign(lpop=1e300))
    with pytest.raises(DataError, match="single value"):
        StaggeredDiD(**rc_kw, cluster="c").fit(rc.assign(c=1))
    with pytest.raises(DataError, match="no rows left"):
        with pytest.warns(DroppedRowsWarning):
            StaggeredDiD(**rc_kw).fit(rc.assign(lemp=np.nan))
    # a constant outcome: zero effects with undefined (NaN) SEs, not a crash
    flat = _fit(mpdta.assign(lemp=1.0)).tidy()
    assert (flat["estimate"] == 0).all() and flat["std_error"].isna().all()


@pytest.mark.slow
def test_repeated_cross_section_coverage_needs_the_cluster():
    # Registry extracts: ~20 new people per municipality-year, who share their
    # municipality-year's shock. Clustered on municipality the 95% CI of the simple ATT covers
    # at the nominal rate (measured 95.5% in 200 replications); row-level SEs treat the people
    # as independent and under-cover (91%).
    from causalips.datasets import simulate_staggered_cross_sections

    reps = 300
    hits = {"municipality": 0, None: 0}
    for s in range(reps):
        df = simulate_staggered_cross_sections(
            n_municipalities=60, n_years=6, cohorts=(2013, 2014), effect_start=(2.0, 1.0),
            effect_growth=(1.0, 0.5), people_per_year=20, seed=5000 + s)
        for cluster in hits:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = StaggeredDiD(outcome="workdays", time="year", first_treated="first_treated",
                                   panel=False, cluster=cluster, inference=None).fit(df)
            post = res.tidy().query("post")
            cells = np.where(post["group"] == 2013, 2.0 + 1.0 * (post["time"] - 2013),
                             1.0 + 0.5 * (post["time"] - 2014))
            truth = cells.mean()  # two cohorts of equal size
            o = res.aggregate("simple").overall
            hits[cluster] += o["conf_low"] <= truth <= o["conf_high"]
    mc = np.sqrt(0.95 * 0.05 / reps)
    assert abs(hits["municipality"] / reps - 0.95) < 3 * mc + 0.005, hits
    assert hits[None] / reps < 0.95 - 2 * mc, hits


def test_vcov_matrix_from_influence_functions(mpdta):
    res = _fit(mpdta, cluster="countyreal")
    V = res.vcov_matrix()
    assert list(V.index) == list(res.tidy()["term"]) == list(V.columns)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), res.tidy()["std_error"], rtol=1e-12)
    np.testing.assert_allclose(V, V.T, atol=0)
    dyn = res.aggregate("dynamic")
    Vd = dyn.vcov_matrix()
    np.testing.assert_allclose(np.sqrt(np.diag(Vd)), dyn.tidy()["std_error"], rtol=1e-12)
    # the pre-test is the Wald statistic of the pre-period cells under this covariance
    pre = res.tidy()["group"] > res.tidy()["time"]
    a = res.tidy().loc[pre, "estimate"].to_numpy()
    W = a @ np.linalg.solve(V.loc[pre.to_numpy(), pre.to_numpy()].to_numpy(), a)
    assert W == pytest.approx(res.pretest[0], rel=1e-10)
