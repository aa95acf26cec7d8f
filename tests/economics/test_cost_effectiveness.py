"""CostEffectiveness: closed forms, dominance, bootstrap parity and reproducibility, CEAC, EVPI,
discounting, regression adjustment and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips import Bootstrap
from causalips.economics import CostEffectiveness
from causalips.economics.cost_effectiveness import (
    classify,
    discount_factors,
    icer,
    net_monetary_benefit,
)
from causalips.errors import ColumnNotFoundError, DataError, SpecificationError


def small_trial():
    """Reference arm first (rows already in the order the bootstrap uses)."""
    return pd.DataFrame({
        "arm": ["usual"] * 5 + ["ips"] * 7,
        "cost": [100.0, 250, 80, 400, 170, 90, 60, 300, 50, 120, 75, 40],
        "effect": [0.1, 0.0, 0.2, 0.05, 0.1, 0.3, 0.2, 0.0, 0.4, 0.25, 0.1, 0.35],
    })


def simulated(seed=0, n=300, d_cost=-500.0, d_effect=0.05):
    rng = np.random.default_rng(seed)
    arm = np.repeat(["usual", "ips"], n)
    cost = rng.gamma(2.0, 1000.0, 2 * n) + np.where(arm == "ips", 1000.0 + d_cost, 1000.0)
    effect = rng.normal(0.1, 0.2, 2 * n) + np.where(arm == "ips", d_effect, 0.0)
    age = rng.normal(40, 10, 2 * n)
    return pd.DataFrame({"arm": arm, "cost": cost, "effect": effect, "age": age})


def est(reps=200, seed=1, cluster=None, **kw):
    base = dict(group="arm", cost="cost", effect="effect", reference="usual", wtp=[1000.0],
                inference=Bootstrap(reps=reps, seed=seed, cluster=cluster))
    base.update(kw)
    return CostEffectiveness(**base)


# -- closed forms -------------------------------------------------------------------------------
def test_incremental_cost_effect_icer_nmb_closed_form():
    df = small_trial()
    res = est(wtp=[0.0, 1000.0, 5000.0]).fit(df)
    t = res.tidy()
    g = df.groupby("arm")[["cost", "effect"]].mean()
    dc = g.loc["ips", "cost"] - g.loc["usual", "cost"]
    de = g.loc["ips", "effect"] - g.loc["usual", "effect"]
    got = dict(zip(t["term"], t["estimate"], strict=False))
    assert got["incremental_cost"] == pytest.approx(dc, rel=1e-12)
    assert got["incremental_effect"] == pytest.approx(de, rel=1e-12)
    nb = t[t["term"] == "net_benefit"]
    np.testing.assert_allclose(nb["estimate"], nb["wtp"] * de - dc, rtol=1e-12)
    assert dc < 0 and de > 0
    assert (t["dominance"] == "dominant").all()
    assert t["icer"].isna().all()  # no ratio for a dominant arm


def test_icer_reported_in_north_east_quadrant():
    df = small_trial()
    df.loc[df["arm"] == "ips", "cost"] += 500.0
    res = est().fit(df)
    inc = res.incremental().iloc[0]
    assert inc["dominance"] == "ICER"
    assert inc["icer"] == pytest.approx(inc["incremental_cost"] / inc["incremental_effect"])
    assert inc["icer"] > 0
    row = res.tidy().query("term == 'icer'").iloc[0]
    assert row["estimate"] == pytest.approx(inc["icer"])


@pytest.mark.parametrize("dc, de, kind", [
    (-10.0, 0.1, "dominant"),   # south-east
    (10.0, -0.1, "dominated"),  # north-west
    (10.0, 0.1, "ICER"),        # north-east
    (-10.0, -0.1, "ICER_SW"),   # south-west
    (0.0, 0.1, "dominant"),     # same cost, better
    (-10.0, 0.0, "dominant"),   # same effect, cheaper
    (10.0, 0.0, "dominated"),   # same effect, dearer
    (0.0, -0.1, "dominated"),
    (0.0, 0.0, "equivalent"),
])
def test_dominance_quadrants_and_axes(dc, de, kind):
    assert classify(dc, de) == kind
    ratio = icer(dc, de)
    if kind in ("ICER", "ICER_SW"):
        assert ratio == pytest.approx(dc / de) and ratio > 0
    else:
        assert np.isnan(ratio)  # never a negative or infinite ratio


def test_net_monetary_benefit_formula():
    assert net_monetary_benefit(100.0, 0.01, 20000.0) == pytest.approx(100.0)
    np.testing.assert_allclose(net_monetary_benefit(-50.0, 0.0, [0, 1e6]), [50.0, 50.0])


def test_zero_incremental_effect_has_no_ratio():
    df = small_trial()
    m = df["arm"] == "ips"
    df.loc[m, "effect"] = df.loc[~m, "effect"].mean()
    res = est().fit(df)
    inc = res.incremental().iloc[0]
    assert inc["incremental_effect"] == pytest.approx(0.0, abs=1e-15)
    assert np.isnan(inc["icer"])


# -- the bootstrap ---------------------------------------------------------------------------
def reference_loop(df, reps, seed):
    """A plain loop over draws, defining the draws: n uniforms per draw, rows ordered by arm."""
    rng = np.random.default_rng(seed)
    sizes = df.groupby("arm", sort=False).size()
    arms = list(sizes.index)
    out_c = np.empty((reps, len(arms)))
    out_e = np.empty((reps, len(arms)))
    cost, effect = df["cost"].to_numpy(), df["effect"].to_numpy()
    for b in range(reps):
        u = rng.random(len(df))
        start = 0
        for a, n_a in enumerate(sizes):
            idx = start + np.floor(u[start:start + n_a] * n_a).astype(int)
            out_c[b, a] = cost[idx].mean()
            out_e[b, a] = effect[idx].mean()
            start += n_a
    return out_c, out_e


def test_vectorised_bootstrap_equals_reference_loop():
    df = small_trial()
    res = est(reps=300, seed=42).fit(df)
    c, e = reference_loop(df, 300, 42)
    d = res.draws()
    np.testing.assert_allclose(d["incremental_cost"], c[:, 1] - c[:, 0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(d["incremental_effect"], e[:, 1] - e[:, 0], rtol=0, atol=1e-10)


def test_blocked_draws_equal_one_block(monkeypatch):
    from causalips.economics import _bootstrap

    df = small_trial()
    whole = est(reps=100, seed=7).fit(df).draws()
    monkeypatch.setattr(_bootstrap, "MAX_CELLS", 36)  # 3 draws per block
    blocked = est(reps=100, seed=7).fit(df).draws()
    pd.testing.assert_frame_equal(whole, blocked)


def test_adjusted_ols_bootstrap_equals_reference_loop():
    df = simulated(n=15).iloc[np.r_[0:15, 15:30]].reset_index(drop=True)
    res = est(reps=40, seed=3, covariates=["age"]).fit(df)
    rng = np.random.default_rng(3)
    n = len(df)
    starts, sizes = (0, 15), (15, 15)
    x_full = np.column_stack([np.ones(n), (df["arm"] == "ips").astype(float), df["age"]])
    ref = []
    for _ in range(40):
        u = rng.random(n)
        idx = np.concatenate([s + np.floor(u[s:s + m] * m).astype(int)
                              for s, m in zip(starts, sizes, strict=True)])
        x, y = x_full[idx], df["cost"].to_numpy()[idx]
        beta = np.linalg.lstsq(x, y, rcond=None)[0]
        ref.append(beta[1])  # linear model: adjusted difference = arm coefficient
    np.testing.assert_allclose(res.draws()["incremental_cost"], ref, rtol=1e-8, atol=1e-6)


def test_same_seed_same_result_other_seed_differs():
    df = simulated()
    a = est(seed=11).fit(df).tidy()
    b = est(seed=11).fit(df).tidy()
    c = est(seed=12).fit(df).tidy()
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["conf_low"].dropna(), c["conf_low"].dropna())


def test_bootstrap_se_matches_analytic_se():
    df = simulated(seed=5, n=400)
    res = est(reps=4000, seed=5).fit(df)
    g = df.groupby("arm")["cost"]
    analytic = np.sqrt((g.var(ddof=0) / g.size()).sum())
    boot = res.tidy().query("term == 'incremental_cost'")["std_error"].iloc[0]
    # Monte Carlo error of an SD from 4000 draws is about 1.1%
    assert boot == pytest.approx(analytic, rel=0.05)


def test_percentile_and_normal_intervals():
    df = simulated()
    p = est(reps=1000).fit(df).tidy().query("term == 'incremental_cost'").iloc[0]
    n = est(reps=1000, ci_method="normal").fit(df).tidy().query(
        "term == 'incremental_cost'").iloc[0]
    assert n["conf_low"] == pytest.approx(n["estimate"] - 1.959964 * n["std_error"], rel=1e-6)
    assert p["conf_low"] < p["estimate"] < p["conf_high"]
    assert p["std_error"] == n["std_error"]


def test_three_arms_give_two_comparisons():
    df = simulated()
    extra = df[df["arm"] == "ips"].assign(arm="ips_cr", cost=lambda d: d["cost"] + 300)
    res = est().fit(pd.concat([df, extra], ignore_index=True))
    inc = res.incremental()
    assert list(inc["comparison"]) == ["ips vs usual", "ips_cr vs usual"]
    ce = res.ceac([0, 1000, 1e9])
    sums = ce.groupby("wtp")["prob_optimal"].sum()
    np.testing.assert_allclose(sums, 1.0)


# -- CEAC and EVPI ---------------------------------------------------------------------------
def test_ceac_limits():
    df = simulated(d_cost=100.0, d_effect=0.01)
    res = est(reps=1000).fit(df)
    d = res.draws()
    ce = res.ceac([0.0, 1e12]).query("group == 'ips'")
    assert ce["prob_cost_effective_vs_reference"].iloc[0] == pytest.approx(
        np.mean(d["incremental_cost"] < 0))
    assert ce["prob_cost_effective_vs_reference"].iloc[1] == pytest.approx(
        np.mean(d["incremental_effect"] > 0))
    assert 0 < ce["prob_cost_effective_vs_reference"].iloc[1] < 1


def test_ceac_monotone_when_every_draw_gains():
    df = simulated(d_cost=800.0, d_effect=0.3)
    res = est(reps=500).fit(df)
    assert (res.draws()["incremental_effect"] > 0).all()
    ce = res.ceac(np.linspace(0, 20000, 60)).query("group == 'ips'")
    p = ce["prob_cost_effective_vs_reference"].to_numpy()
    assert np.all(np.diff(p) >= 0)
    assert p[0] < 0.5 and p[-1] > 0.99
    np.testing.assert_allclose(ce["prob_optimal"], p)  # two arms: the same curve


def test_tidy_probability_matches_ceac():
    df = simulated()
    res = est(wtp=[500.0, 3000.0]).fit(df)
    nb = res.tidy().query("term == 'net_benefit'")
    ce = res.ceac([500.0, 3000.0]).query("group == 'ips'")
    np.testing.assert_allclose(nb["prob_cost_effective"], ce["prob_cost_effective_vs_reference"])


def test_evpi_definition_and_bounds():
    df = simulated()
    res = est(reps=500).fit(df)
    d = res.draws()
    lam = 2000.0
    inb = lam * d["incremental_effect"] - d["incremental_cost"]
    # with two arms EVPI = E[max(INB, 0)] - max(E[INB], 0)
    expect = np.mean(np.maximum(inb, 0)) - max(np.mean(inb), 0)
    got = res.evpi([lam])["evpi"].iloc[0]
    assert got == pytest.approx(expect, rel=1e-9)
    assert got >= 0
    sure = est(reps=300).fit(simulated(d_cost=-900.0, d_effect=0.3))
    assert sure.evpi([lam])["evpi"].iloc[0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_evpi_is_exactly_zero_when_no_draw_changes_the_decision(seed):
    # issue 12 item 11: E[max NB] - max E[NB] left round-off such as 2.3e-11 or 7.6e-10 here
    res = est(reps=5000, seed=seed, wtp=[20000.0, 35000.0]).fit(
        simulated(d_cost=-900.0, d_effect=0.3))
    d = res.draws()
    lam = np.array([20000.0, 35000.0, 1e6])
    assert all((w * d["incremental_effect"] - d["incremental_cost"] > 0).all() for w in lam)
    assert (res.evpi(lam)["evpi"] == 0.0).all()
    nb = res.tidy().query("term == 'net_benefit'")
    assert (nb["evpi"] == 0.0).all() and (nb["prob_cost_effective"] == 1.0).all()
    assert "e-1" not in str(res.summary())  # nothing printed as 2.3e-10


def test_evpi_equals_the_textbook_formula_on_three_groups():
    from causalips.economics.decision import expected_value_of_perfect_information

    rng = np.random.default_rng(8)
    c, e = rng.normal(1000, 300, (2000, 3)), rng.normal(0.5, 0.1, (2000, 3))
    lam = np.array([0.0, 2000.0, 5000.0, 1e5])
    nb = lam[:, None, None] * e[None] - c[None]
    textbook = nb.max(axis=2).mean(axis=1) - nb.mean(axis=1).max(axis=1)
    got = expected_value_of_perfect_information(c, e, lam)
    np.testing.assert_allclose(got, textbook, rtol=1e-9)
    assert (got > 0).all()


# -- discounting -------------------------------------------------------------------------------
def test_discount_factors_closed_form():
    np.testing.assert_allclose(discount_factors([1, 2, 3], 0.035), [1, 1 / 1.035, 1 / 1.035**2])


def test_discounting_person_years():
    df = pd.DataFrame({
        "id": ["a", "a", "a", "b", "b", "c", "c", "d", "d"],
        "year": [1, 2, 3, 1, 2, 1, 2, 1, 2],
        "arm": ["usual"] * 5 + ["ips"] * 4,
        "cost": [100.0, 100, 100, 200, 0, 50, 50, 60, 60],
        "effect": [0.5, 0.5, 0.5, 0.4, 0.4, 0.6, 0.6, 0.7, 0.7],
    })
    res = est(year="year", id="id", discount_rate=(0.035, 0.015)).fit(df)
    fc = 1 / 1.035
    fe = 1 / 1.015
    usual_cost = (100 * (1 + fc + fc**2) + 200) / 2
    ips_cost = (50 * (1 + fc) + 60 * (1 + fc)) / 2
    usual_eff = (0.5 * (1 + fe + fe**2) + 0.4 * (1 + fe)) / 2
    ips_eff = (0.6 * (1 + fe) + 0.7 * (1 + fe)) / 2
    m = res.group_means().set_index("group")
    assert m.loc["usual", "mean_cost"] == pytest.approx(usual_cost, rel=1e-12)
    assert m.loc["ips", "mean_cost"] == pytest.approx(ips_cost, rel=1e-12)
    assert m.loc["usual", "mean_effect"] == pytest.approx(usual_eff, rel=1e-12)
    assert m.loc["ips", "mean_effect"] == pytest.approx(ips_eff, rel=1e-12)
    assert res.n_obs == 4  # people, not rows
    assert "3.5%" in res.glance()["discounting"].iloc[0]


def test_no_year_no_discounting():
    df = small_trial()
    a = est(discount_rate=0.0).fit(df).tidy()
    b = est(discount_rate=0.06).fit(df).tidy()
    pd.testing.assert_frame_equal(a, b)


# -- regression adjustment -------------------------------------------------------------------
def test_ols_adjustment_equals_arm_coefficient():
    import statsmodels.api as sm

    df = simulated(n=200)
    res = est(covariates=["age"]).fit(df)
    x = sm.add_constant(np.column_stack([(df["arm"] == "ips").astype(float), df["age"]]))
    for col, term in (("cost", "incremental_cost"), ("effect", "incremental_effect")):
        beta = sm.OLS(df[col].to_numpy(), x).fit().params
        tidy = res.tidy()
        got = tidy.loc[tidy["term"] == term, "estimate"].iloc[0]
        assert got == pytest.approx(beta[1], rel=1e-9)


def test_glm_adjustment_matches_statsmodels_recycled_predictions():
    import statsmodels.api as sm

    df = simulated(n=200)
    res = est(covariates=["age"], adjustment="glm", reps=100).fit(df)
    treat = (df["arm"] == "ips").astype(float).to_numpy()
    age = df["age"].to_numpy()
    x = np.column_stack([np.ones(len(df)), treat, age])
    glm = sm.GLM(df["cost"].to_numpy(), x,
                 family=sm.families.Gamma(sm.families.links.Log())).fit()
    x1, x0 = x.copy(), x.copy()
    x1[:, 1], x0[:, 1] = 1.0, 0.0
    expect = glm.predict(x1).mean() - glm.predict(x0).mean()
    got = res.tidy().query("term == 'incremental_cost'")["estimate"].iloc[0]
    assert got == pytest.approx(expect, rel=1e-7)
    assert "gamma GLM" in str(res.summary())


# -- plots and interface ---------------------------------------------------------------------
def test_plots():
    res = est().fit(simulated())
    ax = res.plot()
    assert ax.collections and ax.lines
    ax2 = res.plot(kind="ceac")
    assert len(ax2.lines) >= 1
    with pytest.raises(SpecificationError, match="kind must be one of"):
        res.plot(kind="tornado")


def test_result_is_immutable_and_json_safe():
    import json

    res = est().fit(small_trial())
    with pytest.raises(AttributeError):
        res.reps = 3
    json.dumps(res.to_dict())
    assert res.glance()["reps"].iloc[0] == 200


# -- bad input ------------------------------------------------------------------------------
def test_negative_costs_refused_unless_allowed():
    df = small_trial()
    df.loc[3, "cost"] = -5.0
    with pytest.raises(DataError, match="negative values"):
        est().fit(df)
    res = est(allow_negative_costs=True).fit(df)
    assert np.isfinite(res.tidy()["estimate"].iloc[0])


def test_missing_reference_group():
    with pytest.raises(DataError, match="is not a group"):
        est(reference="control").fit(small_trial())


def test_single_group():
    df = small_trial().query("arm == 'usual'")
    with pytest.raises(DataError, match="single group"):
        est().fit(df)


def test_group_with_one_person():
    df = pd.concat([small_trial().query("arm == 'usual'"),
                    small_trial().query("arm == 'ips'").head(1)])
    with pytest.raises(DataError, match="at least 2 people"):
        est().fit(df)


def test_missing_values_and_columns():
    df = small_trial()
    df.loc[2, "effect"] = np.nan
    with pytest.raises(DataError, match="missing"):
        est().fit(df)
    with pytest.raises(ColumnNotFoundError, match="closest: 'cost'"):
        est(cost="costs").fit(small_trial())
    df = small_trial()
    df.loc[0, "arm"] = None
    with pytest.raises(DataError, match="the group"):
        est().fit(df)


def test_bad_plan():
    with pytest.raises(SpecificationError, match="reference= is required"):
        CostEffectiveness(group="a", cost="c", effect="e")
    with pytest.raises(SpecificationError, match="wtp must lie"):
        est(wtp=[-1.0])
    with pytest.raises(SpecificationError, match="reps"):
        est(reps=1)
    with pytest.raises(SpecificationError, match="adjustment must be one of"):
        est(adjustment="sur")
    with pytest.raises(SpecificationError, match="discount_rate"):
        est(discount_rate=(0.1, 0.2, 0.3))


def test_bad_years_and_ids():
    df = small_trial().assign(year=1, id=range(12))
    df.loc[0, "year"] = 0
    with pytest.raises(DataError, match="whole years"):
        est(year="year").fit(df)
    df = small_trial().assign(id=[0] * 12)
    with pytest.raises(DataError, match="more than one group"):
        est(id="id").fit(df)


def test_collinear_covariate():
    df = simulated(n=50).assign(const=1.0)
    with pytest.raises(DataError, match="collinear"):
        est(covariates=["const"]).fit(df)


def test_icer_interval_only_when_draws_stay_in_the_quadrant():
    sure = est(reps=500).fit(simulated(d_cost=800.0, d_effect=0.3))
    d = sure.draws()
    assert ((d["incremental_cost"] > 0) & (d["incremental_effect"] > 0)).all()
    row = sure.tidy().query("term == 'icer'").iloc[0]
    ratios = d["incremental_cost"] / d["incremental_effect"]
    assert row["conf_low"] == pytest.approx(np.quantile(ratios, 0.025))
    assert row["conf_low"] < row["estimate"] < row["conf_high"]
    unsure = est(reps=500).fit(simulated(d_cost=30.0, d_effect=0.01)).tidy()
    assert unsure.query("term == 'icer'")[["conf_low", "conf_high"]].isna().all(axis=None)


def test_evpi_population_scales():
    res = est(reps=300).fit(simulated())
    e = res.evpi([1000.0, 5000.0], population=2000)
    np.testing.assert_allclose(e["evpi_population"], 2000 * e["evpi"])
