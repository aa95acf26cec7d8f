"""ReturnOnInvestment: closed-form base case, Monte Carlo against analytic moments, tornado,
inputs from results, reproducibility and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips import Bootstrap
from causalips.economics import (
    Benefit,
    Beta,
    CostEffectiveness,
    Gamma,
    LogNormal,
    Normal,
    ReturnOnInvestment,
    Triangular,
    Uniform,
)
from causalips.errors import ColumnNotFoundError, DataError, SpecificationError

SITES = pd.DataFrame({"site": ["A", "B", "C"], "fte": [2.0, 3.0, 1.5],
                      "people": [80, 120, 50], "jobs": [40, 50, 15], "sustained": [20, 30, 6]})


def roi(**kw):
    base = dict(site="site", fte="fte", people="people", job_outcomes="jobs",
                sustained_jobs="sustained", cost_per_fte=75000.0,
                benefits=[Benefit("workdays", amount=(5.6, 1.28), value=150.0, per="person"),
                          Benefit("savings", amount=1.0, value=4000.0, per="job_outcome")],
                inference=Bootstrap(reps=4000, seed=1))
    base.update(kw)
    return ReturnOnInvestment(**base)


def out(res, site, term, col="estimate"):
    t = res.tidy()
    return t[(t["site"] == site) & (t["term"] == term)][col].iloc[0]


def test_base_case_closed_form():
    res = roi().fit(SITES)
    for _, r in SITES.iterrows():
        cost = r["fte"] * 75000.0
        ben = r["people"] * 5.6 * 150.0 + r["jobs"] * 4000.0
        assert out(res, r["site"], "total_cost") == pytest.approx(cost)
        assert out(res, r["site"], "total_benefit") == pytest.approx(ben)
        assert out(res, r["site"], "net_benefit") == pytest.approx(ben - cost)
        assert out(res, r["site"], "benefit_cost_ratio") == pytest.approx(ben / cost)
        assert out(res, r["site"], "roi") == pytest.approx(ben / cost - 1)
        assert out(res, r["site"], "cost_per_job_outcome") == pytest.approx(cost / r["jobs"])
        assert out(res, r["site"], "cost_per_sustained_job") == pytest.approx(
            cost / r["sustained"])
        assert out(res, r["site"], "cost_per_person") == pytest.approx(cost / r["people"])
    total_cost = (SITES["fte"] * 75000).sum()
    assert out(res, "programme", "total_cost") == pytest.approx(total_cost)
    assert out(res, "programme", "cost_per_job_outcome") == pytest.approx(
        total_cost / SITES["jobs"].sum())
    assert out(res, "programme", "total_cost", "people") == 250


def test_monte_carlo_matches_analytic_moments():
    res = roi().fit(SITES)
    # only the workday gain is uncertain: SD of benefit = people * value * se
    sd = 250 * 150.0 * 1.28
    mc_sd = out(res, "programme", "net_benefit", "std_error")
    assert mc_sd == pytest.approx(sd, rel=0.05)  # MC error of an SD from 4000 draws ~1.1%
    draws = res.draws("net_benefit")
    assert draws.mean() == pytest.approx(out(res, "programme", "net_benefit"),
                                         abs=4 * sd / np.sqrt(4000))
    p = out(res, "programme", "net_benefit", "prob_favourable")
    assert p == pytest.approx(np.mean(draws > 0))


def test_tornado_linear_inputs():
    res = roi(cost_per_fte=Normal(75000.0, 5000.0)).fit(SITES)
    t = res.tornado("net_benefit").set_index("input")
    z = 1.959963984540054
    # cost_per_fte low/high are its 2.5/97.5% quantiles; net benefit moves by -total FTE x change
    lo = 75000 - z * 5000
    assert t.loc["cost_per_fte", "low_value"] == pytest.approx(lo)
    assert t.loc["cost_per_fte", "result_low"] - t.loc["cost_per_fte", "base"] == pytest.approx(
        -6.5 * (lo - 75000))
    # a fixed input moves by +-20%
    assert t.loc["savings: value", "low_value"] == pytest.approx(0.8 * 4000)
    assert t.loc["savings: value", "result_high"] - t.loc["savings: value", "base"] == (
        pytest.approx(0.2 * 4000 * 105))
    assert t["swing"].is_monotonic_decreasing
    ax = res.plot(kind="tornado")
    assert len(ax.patches) > 0
    ax = res.plot(kind="distribution")
    assert len(ax.patches) > 0


def test_input_from_a_result_and_pairs():
    rng = np.random.default_rng(0)
    trial = pd.DataFrame({"arm": np.repeat(["usual", "ips"], 100),
                          "cost": rng.gamma(2, 100, 200), "effect": rng.normal(0, 1, 200)})
    ce = CostEffectiveness(group="arm", cost="cost", effect="effect", reference="usual",
                           inference=Bootstrap(reps=100, seed=1)).fit(trial)
    n = Normal.from_result(ce, term="incremental_effect")
    row = ce.tidy().query("term == 'incremental_effect'").iloc[0]
    assert (n.mean, n.sd) == (row["estimate"], row["std_error"])
    with pytest.raises(SpecificationError, match="rows of the result match"):
        roi(benefits=[Benefit("x", amount=ce)])


def test_one_row_programme_and_fixed_counts():
    res = ReturnOnInvestment(fte=1.0, people=36, job_outcomes=17,
                             cost_per_fte=Gamma(75096.0, 7509.6),
                             benefits=[Benefit("per job", value=Gamma(6228.5, 1557.0),
                                               per="job_outcome")],
                             inference=Bootstrap(reps=3000, seed=3)).fit(
        pd.DataFrame({"x": [0]}))
    assert out(res, "programme", "cost_per_person") == pytest.approx(2086.0)
    assert out(res, "programme", "benefit_cost_ratio") == pytest.approx(1.41, rel=1e-4)
    assert 0.5 < out(res, "programme", "net_benefit", "prob_favourable") < 1.0
    assert "cost_per_sustained_job" not in set(res.tidy()["term"])


def test_seed_reproducible():
    a = roi(inference=Bootstrap(reps=4000, seed=5)).fit(SITES).tidy()
    b = roi(inference=Bootstrap(reps=4000, seed=5)).fit(SITES).tidy()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("dist", [Normal(10, 2), Gamma(10, 2), LogNormal(10, 2), Beta(0.4, 0.1),
                                  Uniform(5, 15), Triangular(5, 8, 15)])
def test_distributions_have_the_stated_mean(dist):
    d = dist.sample(np.random.default_rng(0), 200_000)
    assert d.mean() == pytest.approx(dist.mean, rel=0.01)
    assert dist.ppf(0.5) == pytest.approx(np.median(d), rel=0.02)


def test_bad_input():
    bad = SITES.copy()
    bad.loc[1, "jobs"] = -1
    with pytest.raises(DataError, match="negative"):
        roi().fit(bad)
    bad = SITES.copy()
    bad.loc[1, "jobs"] = 500
    with pytest.raises(DataError, match="exceed people"):
        roi().fit(bad)
    with pytest.raises(ColumnNotFoundError):
        roi(fte="staff").fit(SITES)
    with pytest.raises(DataError, match="name each row once"):
        roi().fit(pd.concat([SITES, SITES]))
    with pytest.raises(SpecificationError, match="per must be one of"):
        Benefit("x", per="visit")
    with pytest.raises(SpecificationError, match="sustained_jobs= is not set"):
        roi(sustained_jobs=None, benefits=[Benefit("x", per="sustained_job")])
    with pytest.raises(SpecificationError, match="Beta sd"):
        Beta(0.5, 0.6)
    with pytest.raises(SpecificationError, match="cost_per_fte must be"):
        roi(cost_per_fte=object())


def test_a_one_row_result_is_read_as_normal():
    from causalips.base import Estimator, Result, tidy_frame

    class Stub(Estimator):
        _param_names = ()

    res = Result(estimator=Stub(), table=tidy_frame([{"term": "att", "estimate": 5.6,
                                                      "std_error": 1.28}]), n_obs=10)
    r = roi(benefits=[Benefit("workdays", amount=res, value=150.0)]).fit(SITES)
    assert out(r, "programme", "net_benefit", "std_error") == pytest.approx(
        250 * 150 * 1.28, rel=0.05)


def test_from_result_matches_other_columns():
    from causalips.economics import ParametricSurvival

    rng = np.random.default_rng(2)
    t = rng.exponential(10, 400)
    df = pd.DataFrame({"t": np.minimum(t, 20), "e": (t <= 20).astype(int),
                       "arm": np.repeat(["a", "b"], 200)})
    ps = ParametricSurvival(duration="t", event="e", group="arm",
                            distributions=["exponential", "weibull"], horizon=36,
                            inference=Bootstrap(reps=200, seed=1)).fit(df)
    n = Normal.from_result(ps, term="restricted_mean_difference", distribution="weibull")
    row = ps.tidy().query("term == 'restricted_mean_difference' and distribution == 'weibull'")
    assert n.mean == row["estimate"].iloc[0] and n.sd == row["std_error"].iloc[0]
    with pytest.raises(SpecificationError, match="2 rows of the result match"):
        Normal.from_result(ps, term="restricted_mean_difference")
    with pytest.raises(SpecificationError, match="no column"):
        Normal.from_result(ps, term="restricted_mean_difference", model="weibull")
