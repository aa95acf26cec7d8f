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
