"""The economics estimators take one Bootstrap spec (issue 14), checked in inference.py (issue 12
item 8); the old reps=/seed=/arm= spellings still work for one release, with a FutureWarning;
with_inference re-draws from the same fit."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalips import Bootstrap, WildBootstrap
from causalips.economics import (
    Benefit,
    CostEffectiveness,
    Gamma,
    Normal,
    ParametricSurvival,
    ReturnOnInvestment,
    Uniform,
)
from causalips.errors import DataError, SpecificationError


def trial(n=60, seed=0):
    rng = np.random.default_rng(seed)
    arm = np.repeat(["usual", "ips"], n)
    return pd.DataFrame({"arm": arm, "cost": rng.gamma(2.0, 500.0, 2 * n),
                         "effect": rng.normal(0.1, 0.2, 2 * n)})


def tenure(n=200, seed=3):
    rng = np.random.default_rng(seed)
    t, c = rng.weibull(1.2, n) * 10.0, rng.uniform(3, 24, n)
    return pd.DataFrame({"months": np.minimum(t, c), "ended": (t <= c).astype(int)})


SITES = pd.DataFrame({"site": ["A", "B"], "fte": [2.0, 1.5], "people": [80, 55],
                      "jobs": [35, 20]})


def ce(**kw):
    return CostEffectiveness(group="arm", cost="cost", effect="effect", reference="usual",
                             wtp=[1000.0], **kw)


def ps(**kw):
    return ParametricSurvival(duration="months", event="ended",
                              distributions=["exponential", "weibull"], horizon=36, **kw)


def roi(**kw):
    plan = dict(site="site", fte="fte", people="people", job_outcomes="jobs",
                cost_per_fte=Gamma(75000, 7500),
                benefits=[Benefit("per job", value=Gamma(6000, 1500), per="job_outcome")])
    return ReturnOnInvestment(**{**plan, **kw})


MAKERS = {"CostEffectiveness": (ce, trial), "ParametricSurvival": (ps, tenure),
          "ReturnOnInvestment": (roi, lambda: SITES)}


@pytest.mark.parametrize("name", MAKERS)
def test_old_reps_and_seed_build_the_spec_with_a_future_warning(name):
    make, data = MAKERS[name]
    with pytest.warns(FutureWarning, match=r"inference=Bootstrap\(reps=300, seed=4\)"):
        old = make(reps=300, seed=4)
    new = make(inference=Bootstrap(reps=300, seed=4))
    assert old.get_params() == new.get_params()
    assert old.inference == Bootstrap(reps=300, seed=4)
    with pytest.warns(FutureWarning, match="reps is renamed inference.reps"):
        assert old.reps == 300
    with pytest.warns(FutureWarning, match="seed is renamed inference.seed"):
        assert old.seed == 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.testing.assert_frame_equal(old.fit(data()).tidy(), new.fit(data()).tidy())


def test_arm_is_the_old_name_of_group():
    with pytest.warns(FutureWarning, match=r"CostEffectiveness\(arm=\) is renamed group="):
        old = CostEffectiveness(arm="arm", cost="cost", effect="effect", reference="usual",
                                inference=Bootstrap(reps=50, seed=1))
    assert old.group == "arm"
    with pytest.warns(FutureWarning, match="CostEffectiveness.arm is renamed group"):
        assert old.arm == "arm"
    res = old.fit(trial())
    with pytest.warns(FutureWarning, match="renamed groups"):
        assert res.arms == res.groups == ("usual", "ips")
    with pytest.warns(FutureWarning, match="renamed group_sizes"):
        assert res.arm_sizes == (60, 60)
    with pytest.warns(FutureWarning, match="arm_means is renamed group_means"):
        pd.testing.assert_frame_equal(res.arm_means(), res.group_means())
    with pytest.raises(SpecificationError, match="pass group= only"):
        CostEffectiveness(arm="arm", group="arm", cost="cost", effect="effect",
                          reference="usual")


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("bad, message", [
    (dict(reps="100"), r"reps must be a whole number of draws .*got '100'"),
    (dict(reps=1), "reps must be between 2 and 1,000,000; got 1"),
    (dict(reps=10**8), "reps must be between 2 and 1,000,000; got 100000000"),
    (dict(seed=-1), r"seed must be None or a whole number >= 0 .*got -1"),
    (dict(seed="abc"), r"seed must be None or a whole number >= 0 .*got 'abc'"),
])
def test_bad_draws_are_one_line_errors_from_inference_py(name, bad, message):
    make, _ = MAKERS[name]
    with pytest.raises(SpecificationError, match=message) as spec_error:
        make(inference=Bootstrap(**bad))
    with pytest.raises(SpecificationError, match=message) as old_error:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            make(**bad)
    assert str(spec_error.value) == str(old_error.value)
    assert "\n" not in str(old_error.value)


@pytest.mark.parametrize("name", MAKERS)
def test_other_specs_and_doubled_draws_are_refused(name):
    make, _ = MAKERS[name]
    with pytest.raises(SpecificationError, match=f"{name} cannot use WildBootstrap as "
                                                 r"inference=; it takes Bootstrap\(\)"):
        make(inference=WildBootstrap(cluster="site"))
    with pytest.raises(SpecificationError, match="pass inference= only"):
        make(inference=Bootstrap(reps=10), reps=10)


@pytest.mark.parametrize("name", ["ParametricSurvival", "ReturnOnInvestment"])
def test_cluster_does_not_apply_where_no_rows_are_drawn(name):
    make, _ = MAKERS[name]
    with pytest.raises(SpecificationError, match=r"not rows of the data, so Bootstrap\(cluster="):
        make(inference=Bootstrap(cluster="site"))


@pytest.mark.parametrize("name", MAKERS)
def test_with_inference_redraws_from_the_same_fit(name):
    make, data = MAKERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = make(inference=Bootstrap(reps=200, seed=1)).fit(data())
        direct = make(inference=Bootstrap(reps=400, seed=9)).fit(data())
        again = first.with_inference(Bootstrap(reps=400, seed=9))
    assert type(again) is type(first) and again is not first
    pd.testing.assert_frame_equal(again.tidy(), direct.tidy())  # as if fitted with that spec
    assert again.inference == Bootstrap(reps=400, seed=9)
    assert again.glance()["reps"].iloc[0] == 400 and again.glance()["seed"].iloc[0] == 9
    assert first.glance()["reps"].iloc[0] == 200  # the first result is unchanged
    assert "400 draws" in str(again.summary())
    with pytest.raises(SpecificationError, match="cannot use WildBootstrap"):
        first.with_inference(WildBootstrap(cluster="site"))
    with pytest.raises(SpecificationError, match="needs a spec"):
        first.with_inference(None)


def test_cost_effectiveness_with_inference_keeps_the_fitted_clusters_only():
    df = trial().assign(site=np.tile(np.arange(12), 10))
    rows = ce(inference=Bootstrap(reps=50, seed=1)).fit(df)
    with pytest.raises(SpecificationError, match="did not keep cluster ids"):
        rows.with_inference(Bootstrap(reps=50, cluster="site"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clustered = ce(inference=Bootstrap(reps=50, seed=1, cluster="site")).fit(df)
        people = clustered.with_inference(Bootstrap(reps=50, seed=1))
    pd.testing.assert_frame_equal(people.tidy(), rows.tidy())
    with pytest.raises(SpecificationError, match="kept the clusters of 'site' only"):
        clustered.with_inference(Bootstrap(reps=50, cluster="region"))


# -- ReturnOnInvestment: costs cannot be negative (issue 12 item 8) ----------------------------
def test_negative_fixed_cost_is_refused():
    with pytest.raises(SpecificationError, match="cost_per_fte is a cost and cannot be negative"):
        ReturnOnInvestment(cost_per_fte=-75000.0)
    with pytest.raises(SpecificationError, match="other_costs is a cost and cannot be negative"):
        ReturnOnInvestment(other_costs=Normal(-10.0, 5.0))


def test_negative_cost_column_is_refused_naming_it():
    df = SITES.assign(other=[1000.0, -500.0])
    with pytest.raises(DataError, match=r"column 'other' \(the other_costs\) has 1 negative "
                                        r"values \(e.g. row 1: -500.0\).*Savings are benefits"):
        roi(other_costs="other").fit(df)


def test_cost_distribution_with_negative_draws_is_warned():
    from causalips.errors import StatisticalWarning

    est = roi(cost_per_fte=Uniform(-1000.0, 90000.0), inference=Bootstrap(reps=2000, seed=1))
    with pytest.warns(StatisticalWarning, match=r"\d+ of 2000 Monte Carlo draws of cost_per_fte "
                                                r"\(Uniform.*\) are negative costs"):
        res = est.fit(SITES)
    assert any("negative costs" in w for w in res.warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        roi(inference=Bootstrap(reps=2000, seed=1)).fit(SITES)  # Gamma costs: no warning
