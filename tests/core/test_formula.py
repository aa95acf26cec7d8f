"""Formulas build the same plans as the keyword constructors, and fit identically."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pandas as pd
import pytest

import causalips as ci
from causalips.datasets import load_mpdta, load_norway_panel, load_swiss_trial
from causalips.errors import ColumnNotFoundError, SpecificationError
from causalips.formula import parse


@pytest.fixture(scope="module")
def panel():
    df = load_norway_panel()
    rng = np.random.default_rng(7)
    df["treat"] = (df["year"] >= df["first_treated"].fillna(np.inf)).astype(int)
    df["age"] = 30 + (df["year"] - 2012) + rng.integers(0, 30, df["person"].nunique())[
        df["person"].rank(method="dense").astype(int) - 1] + rng.integers(0, 2, len(df))
    df["health"] = rng.normal(size=len(df))
    return df


@pytest.fixture(scope="module")
def competing():
    rng = np.random.default_rng(11)
    n = 400
    return pd.DataFrame({"days": rng.exponential(200, n).round() + 1,
                         "status": rng.integers(0, 3, n), "age": rng.normal(40, 9, n),
                         "arm": rng.choice(["IPS", "usual"], n), "site": rng.integers(1, 9, n)})


def _quiet_fit(est, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data)


def _same(formula_plan, keyword_plan, data, columns=("term", "estimate", "std_error",
                                                     "p_value", "conf_low", "conf_high")):
    assert formula_plan.get_params() == keyword_plan.get_params()
    a = _quiet_fit(formula_plan, data).tidy()
    b = _quiet_fit(keyword_plan, data).tidy()
    cols = [c for c in columns if c in a.columns]
    pd.testing.assert_frame_equal(a[cols], b[cols], check_exact=True)


# -- panel estimators -------------------------------------------------------------------------
def test_did_treatment_first_covariates_after_fixed_effects_unit_then_time(panel):
    _same(ci.DiD.from_formula("workdays ~ treat + age + health | person + year",
                              cluster="municipality"),
          ci.DiD(outcome="workdays", treatment="treat", covariates=["age", "health"],
                 unit="person", time="year", cluster="municipality"), panel)


def test_did_with_first_treated_option_reads_every_regressor_as_a_covariate(panel):
    _same(ci.DiD.from_formula("workdays ~ health | person + year", first_treated="first_treated",
                              cluster="municipality"),
          ci.DiD(outcome="workdays", first_treated="first_treated", covariates=["health"],
                 unit="person", time="year", cluster="municipality"), panel)


def test_did_third_fixed_effect_and_roles_named_by_option(panel):
    _same(ci.DiD.from_formula("workdays ~ treat | person + year + municipality"),
          ci.DiD(outcome="workdays", treatment="treat", unit="person", time="year",
                 fixed_effects=("unit", "time", "municipality")), panel)
    # person-level rows, municipality x year fixed effects: roles matched by name
    _same(ci.DiD.from_formula("workdays ~ 1 | municipality + year", unit="person", time="year",
                              cluster="municipality", first_treated="first_treated"),
          ci.DiD(outcome="workdays", unit="person", time="year", cluster="municipality",
                 first_treated="first_treated", fixed_effects=("cluster", "time")), panel)


def test_did_without_fixed_effects_part_has_none(panel):
    plan = ci.DiD.from_formula("workdays ~ treat", unit="person", time="year")
    assert plan.fixed_effects == ()


def test_event_study_sun_abraham(panel):
    _same(ci.EventStudy.from_formula("workdays ~ 1 | person + year", method="sun_abraham",
                                     first_treated="first_treated", cluster="municipality",
                                     window=(-3, 3)),
          ci.EventStudy(outcome="workdays", unit="person", time="year", method="sun_abraham",
                        first_treated="first_treated", cluster="municipality", window=(-3, 3)),
          panel)


def test_staggered_did_unit_and_time_after_the_bar_covariates_before():
    plan = ci.StaggeredDiD.from_formula("lemp ~ lpop | countyreal + year",
                                        first_treated="first.treat")
    keywords = ci.StaggeredDiD(outcome="lemp", covariates=["lpop"], unit="countyreal",
                               time="year", first_treated="first.treat")
    # estimate and influence-function SE (the bootstrap columns draw their own seed)
    _same(plan, keywords, load_mpdta(), columns=("group", "time", "term", "estimate",
                                                 "std_error"))


def test_dotted_and_backticked_column_names():
    parsed = parse("lemp ~ first.treat + `first treat`")
    assert [t[0].column for t in parsed.parts[0]] == ["first.treat", "first treat"]
    plan = ci.Cox.from_formula("Surv(`follow up`, job) ~ log(`start.age`)")
    assert (plan.duration, plan.covariates) == ("follow up", ["log(start.age)"])


# -- survival ---------------------------------------------------------------------------------
def test_cox_reference_level_strata_cluster_and_terms():
    trial = load_swiss_trial()
    _same(ci.Cox.from_formula("Surv(months, employed) ~ C(budget, Treatment('55h')) + age "
                              "+ log(age) + sex:age + strata(sex) + cluster(clinic)"),
          ci.Cox(duration="months", event="employed",
                 covariates=["budget", "age", "log(age)", "sex:age"],
                 reference={"budget": "55h"}, strata=["sex"], vcov=ci.Cluster("clinic")),
          trial)


def test_cox_c_without_reference_is_a_factor_and_star_expands():
    plan = ci.Cox.from_formula("Surv(t, e) ~ C(stage) * age")
    assert plan.covariates == ["stage", "age", "stage:age"]
    assert plan.categorical == ["stage"]
    keyword = ci.Cox(duration="t", event="e", covariates=["stage", "age", "stage:age"],
                     categorical=["stage"])
    assert plan.get_params() == keyword.get_params()


def test_cox_counting_process_and_event_value():
    trial = load_swiss_trial().assign(start=0.0, outcome=lambda d: np.where(
        d["employed"] == 1, "job", "censored"))
    _same(ci.Cox.from_formula("Surv(start, months, outcome == 'job') ~ age + "
                              "C(budget, Treatment(reference='40h'))"),
          ci.Cox(entry="start", duration="months", event="outcome", event_value="job",
                 covariates=["age", "budget"], reference={"budget": "40h"}), trial)


def test_fine_gray(competing):
    _same(ci.FineGray.from_formula("Surv(days, status) ~ age + C(arm, Treatment('usual')) "
                                   "+ cluster(site)", cause=1),
          ci.FineGray(duration="days", event="status", cause=1, covariates=["age", "arm"],
                      reference={"arm": "usual"}, vcov=ci.Cluster("site")), competing)


def test_survival_curves_read_the_group():
    trial = load_swiss_trial()
    _same(ci.KaplanMeier.from_formula("Surv(months, employed) ~ budget"),
          ci.KaplanMeier(duration="months", event="employed", group="budget"), trial,
          columns=("group", "time", "estimate"))
    _same(ci.LogRank.from_formula("Surv(months, employed) ~ budget + strata(sex)"),
          ci.LogRank(duration="months", event="employed", group="budget", strata="sex"), trial,
          columns=("term", "statistic", "p_value"))
    assert ci.KaplanMeier.from_formula("Surv(months, employed) ~ 1").group is None


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, formula, options, match", [
    (ci.DiD, "workdays treat", {}, "has no '~'"),
    (ci.DiD, "workdays ~ treat +", {}, "cannot be read: Operator `\\+`"),
    (ci.DiD, "~ treat | person + year", {}, "nothing left of '~'"),
    (ci.DiD, "workdays ~ treat | person", {}, "which column is the time"),
    (ci.DiD, "workdays ~ 1 | person + year", {}, "names no treatment"),
    (ci.DiD, "workdays ~ log(age) + treat | person + year", {}, "'log\\(age\\)' is not a column"),
    (ci.DiD, "workdays ~ treat | person ^ year", {}, "interacted fixed effects"),
    (ci.DiD, "workdays ~ treat | person + year | z", {}, "3 part"),
    (ci.DiD, "workdays ~ treat | person + year", {"outcome": "y"}, "outcome= is set by"),
    (ci.DiD, "workdays ~ treat | person + year", {"fixed_effects": ["unit"]},
     "not both"),
    (ci.StaggeredDiD, "lemp ~ 1 | county + year + state", {"first_treated": "g"},
     "drop state"),
    (ci.Cox, "Surv(days) ~ age", {}, "has 1 argument"),
    (ci.Cox, "days ~ age", {}, "not a survival outcome"),
    (ci.Cox, "Surv(days, job) ~ I(age ** 2)", {}, "not understood; terms can be columns"),
    (ci.Cox, "Surv(days, job) ~ np.log(age)", {}, "not understood"),
    (ci.Cox, "Surv(days, job) ~ strata(site):age", {}, "term of its own"),
    (ci.Cox, "Surv(days, job) ~ C(arm, Sum)", {}, "Treatment\\('level'\\)"),
    (ci.Cox, "Surv(days, job) ~ age + .", {}, "list the columns"),
    (ci.Cox, "Surv(days, job) ~ age | site", {}, "'\\|' has no meaning"),
    (ci.Cox, "Surv(days, job) ~ age + cluster(site)", {"vcov": "robust"}, "vcov= is set by"),
    (ci.FineGray, "Surv(entry, days, job) ~ age", {"cause": 1}, "no delayed entry"),
    (ci.FineGray, "Surv(days, job) ~ age + strata(site)", {"cause": 1}, "takes no strata"),
    (ci.KaplanMeier, "Surv(days, job) ~ arm + age", {}, "optionally \\+ strata"),
    (ci.CostEffectiveness, "cost ~ arm", {}, "no formula interface"),
    (ci.Cox, 42, {}, "non-empty string"),
])
def test_bad_formulas_get_one_line_specification_errors(cls, formula, options, match):
    with pytest.raises(SpecificationError, match=match) as caught:
        cls.from_formula(formula, **options)
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


def test_unknown_column_is_reported_when_fitting(panel):
    plan = ci.DiD.from_formula("workdays ~ treat | person + yeer")
    with pytest.raises(ColumnNotFoundError, match="yeer"):
        _quiet_fit(plan, panel)


def test_unknown_options_still_get_the_constructor_error():
    with pytest.raises(SpecificationError, match="has no option 'clustr'"):
        ci.DiD.from_formula("workdays ~ treat | person + year", clustr="municipality")


def test_from_formula_docstring_example_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(ci.base.Estimator.from_formula, "from_formula",
                            globs={"ci": ci}):
        runner.run(test)
    assert runner.tries > 0 and runner.failures == 0
