"""Representativeness, numeric comparison, outcome equity, reach, productivity, fidelity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalips.datasets import load_caseload
from causalips.datasets.sites import simulate_wider_caseload
from causalips.errors import ColumnNotFoundError, DataError, SpecificationError
from causalips.inference import Bootstrap
from causalips.sites import (
    FidelityOutcome,
    NumericComparison,
    OutcomeEquity,
    Productivity,
    Reach,
    Representativeness,
    RiskAdjustedComparison,
    UnknownStatusError,
    ips_grow_denominator,
)
from causalips.sites._contingency import contingency_test, pearson_statistic

pytestmark = pytest.mark.filterwarnings("ignore::causalips.errors.StatisticalWarning")


@pytest.fixture(scope="module")
def wider():
    return simulate_wider_caseload(seed=7)


@pytest.fixture(scope="module")
def caseload():
    return load_caseload().assign(gained_job=lambda d: d["job_start"].notna().astype(int))


@pytest.mark.parametrize("group", ["ethnicity", "diagnosis", "age_band"])
def test_representativeness_chisq_matches_scipy(wider, group):
    res = Representativeness(category=group, group="source",
                             reference="rest of caseload").fit(wider)
    ct = pd.crosstab(wider[group], wider["source"])
    chi = stats.chi2_contingency(ct.to_numpy(), correction=False)
    g = res.glance().iloc[0]
    assert g["chisq"] == pytest.approx(chi[0], rel=1e-10)
    assert g["p_value"] == pytest.approx(chi[1], rel=1e-8)
    assert g["df"] == chi[2]
    assert g["test"] == "Pearson chi-squared (no continuity correction)"
    t = res.tidy()
    # percentages and standardised differences by hand
    ips = t[t["group"] == "IPS caseload"].set_index("category")
    ref = t[t["group"] == "rest of caseload"].set_index("category")
    p1 = ct["IPS caseload"] / ct["IPS caseload"].sum()
    p0 = ct["rest of caseload"] / ct["rest of caseload"].sum()
    np.testing.assert_allclose(ips["percent"], 100 * p1.reindex(ips.index), rtol=1e-12)
    sd = (p1 - p0) / np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    np.testing.assert_allclose(ips["std_difference"], sd.reindex(ips.index), rtol=1e-10)
    assert ref["std_difference"].isna().all()


def test_calibration_users_younger_ethnicity_differs_gender_diagnosis_alike(wider):
    def p(group):
        return Representativeness(category=group, group="source").fit(wider).glance()["p_value"][0]

    assert p("ethnicity") < 0.001 and p("age_band") < 0.001
    assert p("diagnosis") > 0.01 and p("gender") > 0.01
    assert len(wider) == 6165 and wider["ips_user"].sum() == 539


def test_weights_stand_for_counts(wider):
    rows = Representativeness(category="ethnicity", group="source").fit(wider)
    counts = wider.groupby(["ethnicity", "source"]).size().rename("k").reset_index()
    agg = Representativeness(category="ethnicity", group="source", weight="k").fit(counts)
    pd.testing.assert_frame_equal(rows.tidy(), agg.tidy())
    assert rows.glance()["chisq"][0] == pytest.approx(agg.glance()["chisq"][0])


def test_yates_correction_and_fisher_for_small_tables():
    table = pd.DataFrame({"g": ["a", "a", "b", "b"], "s": ["x", "y", "x", "y"],
                          "k": [12, 5, 3, 9]})
    res = Representativeness(category="g", group="s", weight="k", correction=True,
                             exact="never").fit(table)
    chi = stats.chi2_contingency([[12, 5], [3, 9]], correction=True)
    assert res.glance()["chisq"][0] == pytest.approx(chi[0], rel=1e-12)
    assert "Yates" in res.glance()["test"][0]
    small = table.assign(k=[6, 1, 2, 7])
    res2 = Representativeness(category="g", group="s", weight="k").fit(small)
    assert res2.glance()["test"][0].startswith("Fisher's exact test")
    assert res2.glance()["p_value"][0] == pytest.approx(
        stats.fisher_exact([[6, 1], [2, 7]])[1], rel=1e-12)


def test_monte_carlo_exact_test_is_seeded_and_close_to_the_exact_p():
    t = np.array([[3, 1, 0], [1, 4, 2], [0, 2, 5]])
    a = contingency_test(t, inference=Bootstrap(reps=4000, seed=3))
    b = contingency_test(t, inference=Bootstrap(reps=4000, seed=3))
    assert a["p_value"] == b["p_value"] and "Monte Carlo" in a["test"]
    # exact permutation p-value by brute force is unavailable in scipy; compare with a large run
    big = contingency_test(t, inference=Bootstrap(reps=40000, seed=11))
    se = np.sqrt(big["p_value"] * (1 - big["p_value"]) / 4000)
    assert abs(a["p_value"] - big["p_value"]) < 4 * se + 1e-3
    assert pearson_statistic(t) == pytest.approx(stats.chi2_contingency(t)[0])


def test_numeric_comparison_rule(wider):
    res = NumericComparison(value="age", group="source").fit(wider)
    g = res.glance().iloc[0]
    ips = wider.loc[wider.source == "IPS caseload", "age"]
    rest = wider.loc[wider.source == "rest of caseload", "age"]
    assert g["test"] == "Welch t-test"
    assert g["p_value"] == pytest.approx(stats.ttest_ind(rest, ips, equal_var=False).pvalue)
    assert "|skewness| > 1" in g["rule"]
    skewed = pd.DataFrame({"v": np.r_[np.exp(np.linspace(0, 5, 60)), np.linspace(1, 9, 40)],
                           "s": ["a"] * 60 + ["b"] * 40})
    res2 = NumericComparison(value="v", group="s").fit(skewed)
    g2 = res2.glance().iloc[0]
    assert g2["test"].startswith("Mann-Whitney")
    mw = stats.mannwhitneyu(skewed.v[skewed.s == "b"], skewed.v[skewed.s == "a"])
    assert g2["p_value"] == pytest.approx(mw.pvalue)
    t = res2.tidy()
    assert t.loc[t.term == "a", "estimate"].iloc[0] == pytest.approx(
        np.median(skewed.v[skewed.s == "a"]))
    with pytest.raises(DataError, match="exactly two values"):
        NumericComparison(value="age", group="ethnicity").fit(wider)


def test_ips_grow_rule_on_the_caseload(caseload):
    kept, record = ips_grow_denominator(caseload, status="status_at_contact")
    assert len(kept) == 499
    assert record["n"].tolist() == [539, 33, 7, 499]
    res = OutcomeEquity(outcome="gained_job", group="ethnicity", denominator="ips_grow",
                        status="status_at_contact").fit(caseload)
    g = res.glance().iloc[0]
    assert g["n_obs"] == 499 and g["n_events"] == 209
    assert g["rate"] == pytest.approx(209 / 499)
    assert "IPS Grow" in str(res.summary())
    with pytest.raises(SpecificationError, match="needs status="):
        OutcomeEquity(outcome="gained_job", group="ethnicity", denominator="ips_grow")
    with pytest.raises(UnknownStatusError, match="'Female'"):
        ips_grow_denominator(caseload, status="gender")


def test_outcome_equity_rates_chisq_and_adjusted_odds_ratios(caseload):
    import statsmodels.formula.api as smf

    df = caseload[caseload.status_at_contact == "unemployed"]
    res = OutcomeEquity(outcome="gained_job", group="diagnosis", adjust=["age"]).fit(df)
    t = res.tidy()
    ct = pd.crosstab(df["diagnosis"], df["gained_job"])
    chi = stats.chi2_contingency(ct.to_numpy(), correction=False)
    assert res.glance()["chisq"][0] == pytest.approx(chi[0], rel=1e-10)
    np.testing.assert_array_equal(t["n"], ct.sum(axis=1).to_numpy())
    np.testing.assert_array_equal(t["events"], ct[1].to_numpy())
    fit = smf.logit("gained_job ~ C(diagnosis) + age", data=df).fit(disp=0)
    ors = np.exp(fit.params.filter(like="diagnosis")).to_numpy()
    np.testing.assert_allclose(t["odds_ratio"].to_numpy()[1:], ors, rtol=1e-6)
    assert t["odds_ratio"].iloc[0] == 1.0


def test_outcome_equity_bad_input(caseload):
    with pytest.raises(ColumnNotFoundError, match="closest: 'ethnicity'"):
        OutcomeEquity(outcome="gained_job", group="ethnicty").fit(caseload)
    with pytest.raises(DataError, match="must be 0/1"):
        OutcomeEquity(outcome="age", group="ethnicity").fit(caseload)
    with pytest.raises(SpecificationError, match="exact must be one of"):
        OutcomeEquity(outcome="gained_job", group="ethnicity", exact="fisher")


def test_reach_published_counts_and_groups(wider):
    table = pd.DataFrame({"ips": [1, 0], "people": [539, 6165 - 539]})
    res = Reach(participant="ips", weight="people").fit(table)
    g = res.glance().iloc[0]
    assert g["rate"] == pytest.approx(539 / 6165) and round(100 * g["rate"], 1) == 8.7
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(539, 6165, method="wilson")
    assert g["conf_low"] == pytest.approx(lo) and g["conf_high"] == pytest.approx(hi)
    by = Reach(participant="ips_user", group="ethnicity").fit(wider)
    t = by.tidy()
    assert t["eligible"].iloc[1:].sum() == 6165 and t["participants"].iloc[0] == 539
    assert by.glance()["p_value"][0] < 0.001


def test_productivity_against_ips_grow():
    df = pd.DataFrame({"site": ["B", "A"], "people": [60, 135], "jobs": [20, 72],
                       "fte": [1.5, 2.0], "caseload": [36, 30]})
    res = Productivity(site="site", people="people", outcomes="jobs", fte="fte", months=18,
                       caseload="caseload").fit(df)
    t = res.tidy()
    assert list(t["site"]) == ["A", "B"]
    np.testing.assert_allclose(t["outcomes_per_fte_year"], [72 / 3.0, 20 / 2.25])
    np.testing.assert_allclose(t["people_per_fte_year"], [135 / 3.0, 60 / 2.25])
    assert t["meets_outcomes"].tolist() == [True, False]
    assert t["meets_people"].tolist() == [True, False]
    assert t["over_caseload_max"].tolist() == [False, True]
    first = Productivity(site="site", people="people", outcomes="jobs", fte="fte",
                         stage="first_year").fit(df)
    assert first.tidy()["expected_outcomes"].iloc[0] == 17
    with pytest.raises(DataError, match="fte <= 0"):
        Productivity(site="site", people="people", outcomes="jobs", fte="fte").fit(
            df.assign(fte=[0, 1]))


def test_fidelity_outcome_correlation_and_caveat():
    df = pd.DataFrame({"site": list("ABCDE"), "ips25": [90, 100, 105, 115, 96],
                       "jobs": [20, 30, 28, 45, 33], "people": [100, 100, 90, 110, 95]})
    res = FidelityOutcome(site="site", fidelity="ips25", numerator="jobs",
                          denominator="people").fit(df)
    g = res.glance().iloc[0]
    assert g["pearson_r"] == pytest.approx(stats.pearsonr(df.ips25, df.jobs / df.people)[0])
    assert "spread" in str(res.summary())


def test_risk_adjusted_expected_counts(caseload):
    df = caseload[caseload.status_at_contact == "unemployed"]
    res = RiskAdjustedComparison(site="team", outcome="gained_job",
                                 case_mix=["age", "diagnosis"]).fit(df)
    t = res.tidy()
    # logistic MLE with an intercept: total expected = total observed
    assert t["expected"].sum() == pytest.approx(t["numerator"].sum(), rel=1e-6)
    np.testing.assert_allclose(t["estimate"], t["numerator"] / t["expected"])
    assert res.target == 1.0 and len(t) == df["team"].nunique()
    assert "Case-mix model" in str(res.summary())


# -- issue 12 item 1: every status value is mapped, none falls into a default -------------------
def _employed_label_caseload():
    """969 people: 74 in work at first contact, labelled "employed" (not the default
    "in_work"); 320 of the 895 unemployed gained a job."""
    status = ["employed"] * 74 + ["unemployed"] * 895
    job = [0] * 74 + [1] * 320 + [0] * 575
    return pd.DataFrame({"status": status, "job": job, "team": ["a", "b"] * 484 + ["a"]})


def test_an_unmapped_in_work_label_stops_the_ips_grow_rate_instead_of_lowering_it():
    people = _employed_label_caseload()
    plan = dict(outcome="job", group="team", denominator="ips_grow", status="status")
    with pytest.raises(UnknownStatusError) as err:
        OutcomeEquity(**plan).fit(people)  # would be 320/969 = 33.0% if 'employed' were kept
    msg = str(err.value)
    assert "'employed' (74 rows)" in msg and "Values seen: 'employed', 'unemployed'" in msg
    assert all(f"{name}=" in msg for name in ("in_work", "education", "unemployed"))
    assert err.value.unmapped == {"employed": 74} and err.value.column == "status"
    res = OutcomeEquity(**plan, in_work=["employed"]).fit(people)
    g = res.glance().iloc[0]
    assert (g["n_events"], g["n_obs"]) == (320, 895)
    assert round(100 * g["rate"], 1) == 35.8
    with pytest.raises(UnknownStatusError, match="'employed'"):
        ips_grow_denominator(people, status="status")


def test_status_sets_name_every_value_explicitly():
    df = pd.DataFrame({"s": ["jobless", "working", "student", "jobless", None]})
    with pytest.raises(UnknownStatusError, match=r"missing \(1 row\).*record it or drop them"):
        ips_grow_denominator(df, status="s", in_work=["working"], education=["student"],
                             unemployed=["jobless"])
    kept, record = ips_grow_denominator(df.dropna(), status="s", in_work=["working"],
                                        education=["student"], unemployed=["jobless"])
    assert len(kept) == 2 and record["n"].tolist() == [4, 1, 1, 2]
    with pytest.raises(SpecificationError, match="in both in_work= and unemployed="):
        ips_grow_denominator(df, status="s", in_work=["working"], unemployed=["working"])
    with pytest.raises(SpecificationError, match="must be a list of status values"):
        OutcomeEquity(outcome="y", group="g", denominator="ips_grow", status="s",
                      unemployed="jobless")
    # the report can spell the options as its config keys
    try:
        ips_grow_denominator(df.dropna(), status="s")
    except UnknownStatusError as err:
        text = err.explain(lambda name: f"{name} = [...]")
    assert "in_work = [...] (in work at first contact" in text and "in_work=" not in text


# -- issue 14: inference=Bootstrap for the Monte Carlo test, with_inference ---------------------
SMALL = pd.DataFrame({"g": list("abc") * 3, "s": list("xxxyyyzzz"), "k": [3, 1, 0, 1, 4, 2, 0, 2, 5]})


def test_monte_carlo_test_takes_a_bootstrap_spec_and_with_inference_recomputes_it():
    spec = Bootstrap(reps=999, seed=5)
    res = Representativeness(category="g", group="s", weight="k", inference=spec).fit(SMALL)
    table = SMALL.pivot(index="g", columns="s", values="k").to_numpy()
    assert res.test["p_value"] == contingency_test(table, inference=spec)["p_value"]
    assert "999 tables with fixed margins, seed=5" in res.test["test"]
    again = res.with_inference(Bootstrap(reps=4999, seed=2))
    direct = Representativeness(category="g", group="s", weight="k",
                                inference=Bootstrap(reps=4999, seed=2)).fit(SMALL)
    assert again.test == direct.test and again.estimator.inference.reps == 4999
    pd.testing.assert_frame_equal(again.tidy(), res.tidy())
    assert res.test["p_value"] == contingency_test(table, inference=spec)["p_value"]  # unchanged
    people = SMALL.loc[SMALL.index.repeat(SMALL["k"])].assign(y=lambda d: (d.s == "z") * 1)
    for est in (Reach(participant="y", group="g"), OutcomeEquity(outcome="y", group="g")):
        moved = est.fit(people).with_inference(Bootstrap(reps=199, seed=1))
        assert moved.estimator.inference == Bootstrap(reps=199, seed=1)


def test_monte_carlo_spec_is_checked_in_one_place():
    from causalips.inference import Randomization

    with pytest.raises(SpecificationError, match="between 99 and"):
        Reach(participant="y", inference=Bootstrap(reps=50))
    with pytest.raises(SpecificationError, match="no clusters to resample"):
        OutcomeEquity(outcome="y", group="g", inference=Bootstrap(cluster="team"))
    with pytest.raises(SpecificationError, match="cannot use Randomization"):
        Representativeness(category="g", group="s", inference=Randomization())
    with pytest.raises(SpecificationError, match="whole number of draws"):
        Bootstrap(reps="100")
    with pytest.raises(SpecificationError, match="between 2 and 1,000,000"):
        Bootstrap(reps=10**8)
    res = NumericComparison(value="age", group="source").fit(simulate_wider_caseload(seed=1))
    with pytest.raises(SpecificationError, match="one inference method"):
        res.with_inference(Bootstrap())


def test_tidy_leads_with_group_and_term_and_glance_is_one_row(wider):
    rep = Representativeness(category="gender", group="source").fit(wider)
    assert list(rep.tidy().columns[:3]) == ["group", "term", "estimate"]
    assert len(rep.glance()) == 1 and rep.glance()["n_groups"][0] == 2
    # one summary table per group, so each group's small counts are protected against its total
    tables = rep.summary().tables
    assert [h for h, _ in tables] == ["IPS caseload: percent by gender",
                                      "rest of caseload: percent by gender"]
    assert tables[0][1]["n"].sum() == 539 and list(tables[0][1].columns)[0] == "gender"
    num = NumericComparison(value="age", group="source").fit(wider).tidy()
    assert list(num.columns[:3]) == ["group", "reference", "term"]
    assert num["reference"].iloc[2] == "IPS caseload" and num["group"].iloc[2] == "rest of caseload"


# -- issue 12 item 8: extreme and fractional weights ---------------------------------------------
@pytest.mark.parametrize("w", [1e300, 1e-300, 1e13, 0.0])
def test_weights_that_cannot_count_people_are_refused(caseload, w):
    for est in (OutcomeEquity(outcome="gained_job", group="ethnicity", weight="w"),
                Reach(participant="gained_job", group="ethnicity", weight="w"),
                Representativeness(category="ethnicity", group="gender", weight="w")):
        with pytest.raises(DataError, match="'w' .the weight. sums to .* people"):
            est.fit(caseload.assign(w=w))


def test_tiny_weights_beside_ordinary_ones_give_the_ordinary_answer(caseload):
    w = np.where(np.arange(len(caseload)) == 0, 1e-300, 1.0)
    res = OutcomeEquity(outcome="gained_job", group="ethnicity", weight="w",
                        adjust=["age"]).fit(caseload.assign(w=w))
    plain = OutcomeEquity(outcome="gained_job", group="ethnicity",
                          adjust=["age"]).fit(caseload.iloc[1:])
    assert res.test["chisq"] == pytest.approx(plain.test["chisq"], rel=1e-12)
    np.testing.assert_allclose(res.tidy()["odds_ratio"], plain.tidy()["odds_ratio"], rtol=1e-6)


def test_fractional_counts_are_used_with_a_warning(wider):
    from causalips.errors import StatisticalWarning

    counts = wider.groupby(["ethnicity", "source"]).size().rename("k").reset_index()
    counts["k"] = counts["k"] * 1.5 + 0.25
    for est in (Representativeness(category="ethnicity", group="source", weight="k"),
                Reach(participant="ips_user", weight="k"),
                OutcomeEquity(outcome="ips_user", group="ethnicity", weight="k")):
        data = counts.assign(ips_user=(counts.source == "IPS caseload").astype(int))
        with pytest.warns(StatisticalWarning, match="'k' .the weight. holds 10 counts that are "
                                                    "not whole numbers"):
            res = est.fit(data)
        assert any("not whole numbers" in w for w in res.warnings)
    sites = pd.DataFrame({"site": ["A", "B"], "people": [60.5, 100], "jobs": [20, 30],
                          "fte": [1.0, 2.0]})
    with pytest.warns(StatisticalWarning, match="'people' .the people. holds 1 counts"):
        Productivity(site="site", people="people", outcomes="jobs", fte="fte").fit(sites)


# -- deprecated names: one test each, they still work and warn ----------------------------------
def test_old_representativeness_roles_still_work(wider):
    with pytest.warns(FutureWarning, match=r"is now Representativeness\(category="):
        old = Representativeness(group="gender", source="source")
    assert (old.category, old.group) == ("gender", "source")
    new = Representativeness(category="gender", group="source")
    pd.testing.assert_frame_equal(old.fit(wider).tidy(), new.fit(wider).tidy())
    with pytest.warns(FutureWarning, match="source is renamed group"):
        assert old.source == "source"
    with pytest.raises(SpecificationError, match="needs category="):
        Representativeness(group="source")


@pytest.mark.parametrize("make, old, new", [
    (lambda **kw: Representativeness(category="gender", group="source", **kw),
     "reference_source", "reference"),
    (lambda **kw: NumericComparison(value="age", group="source", **kw),
     "reference_source", "reference"),
    (lambda **kw: OutcomeEquity(outcome="ips_user", group="gender", **kw),
     "reference_group", "reference"),
])
def test_old_reference_names_still_work(make, old, new):
    with pytest.warns(FutureWarning, match=f"{old}=.* is renamed {new}="):
        est = make(**{old: "rest of caseload"})
    assert getattr(est, new) == "rest of caseload"
    with pytest.warns(FutureWarning, match=f"{old} is renamed {new}"):
        assert getattr(est, old) == getattr(est, new)


def test_numeric_comparison_source_is_renamed_group():
    with pytest.warns(FutureWarning, match=r"NumericComparison\(source=\) is renamed group="):
        est = NumericComparison(value="age", source="source")
    assert est.group == "source"


@pytest.mark.parametrize("make", [
    lambda **kw: OutcomeEquity(outcome="y", group="g", **kw),
    lambda **kw: Reach(participant="y", **kw),
    lambda **kw: FidelityOutcome(site="s", fidelity="f", numerator="x", denominator="n", **kw),
])
def test_ci_is_renamed_ci_method(make):
    with pytest.warns(FutureWarning, match=r"\(ci=\) is renamed ci_method="):
        est = make(ci="exact")
    assert est.ci_method == "exact"
    with pytest.warns(FutureWarning, match="ci is renamed ci_method"):
        assert est.ci == "exact"


@pytest.mark.parametrize("make", [
    lambda **kw: OutcomeEquity(outcome="y", group="g", **kw),
    lambda **kw: Reach(participant="y", **kw),
    lambda **kw: Representativeness(category="g", group="s", **kw),
])
def test_reps_and_seed_become_a_bootstrap_spec(make):
    with pytest.warns(FutureWarning,
                      match=r"\(reps=999, seed=3\) is replaced by inference=Bootstrap"):
        est = make(reps=999, seed=3)
    assert est.inference == Bootstrap(reps=999, seed=3)
    with pytest.warns(FutureWarning, match="reps is renamed inference.reps"):
        assert est.reps == 999
    with pytest.raises(SpecificationError, match="pass inference= only"):
        make(reps=999, inference=Bootstrap())
    with pytest.raises(SpecificationError, match="seed must be None or a whole number"), \
            pytest.warns(FutureWarning):
        make(seed=-1)


def test_old_result_attribute_and_module_paths(wider):
    res = Representativeness(category="gender", group="source").fit(wider)
    with pytest.warns(FutureWarning, match="reference_source is renamed reference"):
        assert res.reference_source == res.reference == "IPS caseload"
    import causalips.sites.equity as equity
    import causalips.sites.rates as rates

    with pytest.warns(FutureWarning, match="causalips.sites.equity is a deprecated module path"):
        assert equity.OutcomeEquity is OutcomeEquity
    with pytest.warns(FutureWarning, match="causalips.sites.rates is a deprecated module path"):
        assert rates.proportion_ci(1, 2)[0][0] < 0.5
