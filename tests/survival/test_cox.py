"""Cox model: parity with R survival 3.5-3, simulation truth/coverage, bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from causalips.errors import (
    ColumnNotFoundError,
    ConvergenceWarning,
    DataError,
    DroppedRowsWarning,
    EstimationError,
    SpecificationError,
    StatisticalWarning,
)
from causalips.inference import Cluster, ModelBased, Robust
from causalips.survival.cox import Cox

COEF_TOL, SE_TOL, STAT_TOL = 1e-6, 1e-5, 1e-4
MAYO = ["age", "edema", "log(bili)", "log(albumin)", "log(protime)"]
MAYO_R = ["age", "edema", "log(bili)", "log(albumin)", "log(protime)"]


@pytest.fixture(scope="module")
def pbc(reference_data):
    df = reference_data.csv("survival/pbc.csv")
    df["dead"] = (df["status"] == 2).astype(int)
    return df


def test_robust_equals_cluster_on_row_id(pbc):
    df = pbc.iloc[:312].assign(row=np.arange(312))
    a = Cox(duration="time", event="dead", covariates=MAYO, vcov=Robust()).fit(df)
    b = Cox(duration="time", event="dead", covariates=MAYO, vcov=Cluster("row")).fit(df)
    np.testing.assert_allclose(a.tidy()["std_error"], b.tidy()["std_error"], rtol=1e-12)


def test_integer_weights_equal_replicated_rows(pbc):
    df = pbc.iloc[:100].copy()
    df["w"] = np.arange(100) % 3 + 1
    rep = df.loc[df.index.repeat(df["w"])]
    # Breslow: replicating a row is the same as weighting it (Efron would differ, since the
    # copies of an event become tied events)
    a = Cox(duration="time", event="dead", covariates=["age", "log(bili)"], weights="w",
            ties="breslow").fit(df)
    b = Cox(duration="time", event="dead", covariates=["age", "log(bili)"],
            ties="breslow").fit(rep)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-8)
    np.testing.assert_allclose(a.tidy()["std_error"], b.tidy()["std_error"], rtol=1e-8)


def test_interaction_and_transform_terms(pbc):
    df = pbc.iloc[:312].copy()
    df["lbili"] = np.log(df["bili"])
    df["age_x_lbili"] = df["age"] * df["lbili"]
    a = Cox(duration="time", event="dead", covariates=["age", "log(bili)", "age:log(bili)"]).fit(df)
    b = Cox(duration="time", event="dead", covariates=["age", "lbili", "age_x_lbili"]).fit(df)
    assert list(a.coef.index) == ["age", "log(bili)", "age:log(bili)"]
    np.testing.assert_allclose(a.coef.to_numpy(), b.coef.to_numpy(), rtol=1e-9)


def test_factor_interaction_names(pbc):
    df = pbc.iloc[:312]
    res = Cox(duration="time", event="dead", covariates=["sex", "age", "sex:age"],
              reference={"sex": "m"}).fit(df)
    assert list(res.coef.index) == ["sex[f]", "age", "sex[f]:age"]


def test_survival_curves_and_plots(pbc):
    df = pbc.iloc[:312].assign(arm=lambda d: d["trt"].map({1: "drug", 2: "placebo"}))
    res = Cox(duration="time", event="dead", covariates=["arm", "age", "log(bili)"]).fit(df)
    direct = res.survival_curves("arm")
    mean = res.survival_curves("arm", method="mean", times=[365, 1826])
    assert set(direct["level"]) == {"drug", "placebo"}
    assert direct["estimate"].between(0, 1).all()
    # curves decrease over time
    for _, part in direct.groupby("level"):
        assert np.all(np.diff(part["estimate"].to_numpy()) <= 1e-12)
    assert len(mean) == 4
    ax = res.plot()
    assert ax.lines or ax.collections
    ax2 = res.plot_proportional_hazards("age")
    assert ax2.collections
    ax3 = res.plot_survival_curves("arm")
    assert len(ax3.lines) == 2
    s = str(res.summary())
    assert "efron" in s and "model-based" in s


def test_diagnostics_off_gives_clear_error(pbc):
    res = Cox(duration="time", event="dead", covariates=["age"], diagnostics=False,
              concordance=False).fit(pbc.iloc[:312])
    assert np.isnan(res.glance()["concordance"].iloc[0])
    with pytest.raises(SpecificationError, match="diagnostics=False"):
        res.check_proportional_hazards()


def test_stratified_direct_adjusted_curves(reference_data):
    rot = reference_data.csv("survival/rotterdam.csv")
    res = Cox(duration="dtime", event="death", covariates=["size", "age"], strata=["grade"],
              reference={"size": "<=20"}).fit(rot)
    curves = res.survival_curves("size", times=[1000, 3000])
    wide = curves.pivot(index="time", columns="level", values="estimate")
    # bigger tumours, lower survival (HRs > 1), at every time
    assert (wide["<=20"] > wide["20-50"]).all() and (wide["20-50"] > wide[">50"]).all()
    per_stratum = res.survival_curves("size", method="mean", times=[1000])
    assert set(per_stratum["stratum"]) == {"2", "3"}


def test_summary_names_variance(reference_data):
    cgd = reference_data.csv("survival/cgd.csv")
    res = Cox(duration="tstop", entry="tstart", event="status", covariates=["treat"],
              vcov=Cluster("id")).fit(cgd)
    text = str(res.summary())
    assert "cluster-robust by 'id'" in text and "128 clusters" in text
    assert "robust score" in text


# -- simulation: truth and coverage ---------------------------------------------------------
def _simulate(rng, n, beta):
    arm = rng.integers(0, 3, n)
    age = rng.normal(0, 1, n)
    lp = beta[0] * (arm == 1) + beta[1] * (arm == 2) + beta[2] * age
    t = rng.exponential(1 / (0.1 * np.exp(lp)))
    c = rng.uniform(0, 15, n)
    time = np.ceil(np.minimum(t, c) * 4) / 4  # ties, as day/week-rounded data have
    return pd.DataFrame({"time": time, "event": (t <= c).astype(int),
                         "arm": np.array(["a", "b", "c"])[arm], "age": age})


def _coverage(reps, n, seed):
    rng = np.random.default_rng(seed)
    beta = np.array([0.5, -0.3, 0.4])
    est = Cox(duration="time", event="event", covariates=["arm", "age"], concordance=False)
    estimates = np.empty((reps, 3))
    covered = np.empty((reps, 3), dtype=bool)
    for r in range(reps):
        t = est.fit(_simulate(rng, n, beta)).tidy()
        estimates[r] = t["estimate"]
        covered[r] = (t["conf_low"] <= beta) & (beta <= t["conf_high"])
    return beta, estimates, covered


def test_simulation_recovers_log_hr_and_covers():
    reps, n = 200, 400
    beta, estimates, covered = _coverage(reps, n, seed=20240501)
    mean = estimates.mean(axis=0)
    mc_se = estimates.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(mean - beta) < 4 * mc_se + 0.02)  # small finite-sample bias allowed
    cover = covered.mean(axis=0)
    # 95% ± 4 Monte Carlo SEs (sqrt(.95·.05/200) = 0.0154)
    assert np.all(np.abs(cover - 0.95) < 4 * np.sqrt(0.95 * 0.05 / reps))


@pytest.mark.slow
def test_simulation_coverage_long():
    reps, n = 2000, 500
    beta, estimates, covered = _coverage(reps, n, seed=7)
    mc_se = estimates.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(estimates.mean(axis=0) - beta) < 4 * mc_se + 0.01)
    assert np.all(np.abs(covered.mean(axis=0) - 0.95) < 4 * np.sqrt(0.95 * 0.05 / reps))


# -- bad input ----------------------------------------------------------------------------
def _small():
    rng = np.random.default_rng(1)
    n = 60
    return pd.DataFrame({"t": rng.integers(1, 30, n).astype(float),
                         "e": rng.integers(0, 2, n), "x": rng.normal(size=n),
                         "g": rng.choice(["a", "b"], n)})


def test_missing_column_suggests_name():
    with pytest.raises(ColumnNotFoundError, match="closest: 'x'"):
        Cox(duration="t", event="e", covariates=["xx"]).fit(_small())


def test_bad_options_refused():
    with pytest.raises(SpecificationError, match="ties must be one of"):
        Cox(duration="t", event="e", covariates=["x"], ties="efrom")
    with pytest.raises(SpecificationError, match="vcov must be one of ModelBased"):
        Cox(duration="t", event="e", covariates=["x"], vcov="hc1")
    from causalips.inference import Bootstrap

    with pytest.raises(SpecificationError, match="vcov must be one of"):
        Cox(duration="t", event="e", covariates=["x"], vcov=Bootstrap())
    with pytest.raises(SpecificationError, match="only log\\(\\), sqrt\\(\\) and exp\\(\\)"):
        Cox(duration="t", event="e", covariates=["poly(x)"])
    with pytest.raises(SpecificationError, match="not among the covariates"):
        Cox(duration="t", event="e", covariates=["x"], reference={"g": "a"})
    with pytest.raises(SpecificationError, match="vcov must be one of"):
        Cox(duration="t", event="e", covariates=["x"], vcov="Cluster(column)")
    with pytest.raises(TypeError):
        Cox("t", "e")  # keyword-only


def test_bad_reference_level_lists_levels():
    with pytest.raises(SpecificationError, match="levels: 'a', 'b'"):
        Cox(duration="t", event="e", covariates=["g"], reference={"g": "z"}).fit(_small())


def test_collinear_columns_named():
    df = _small().assign(x2=lambda d: 2 * d["x"] + 1)
    with pytest.raises(DataError, match="'x2' is a linear combination of \\['x'\\]"):
        Cox(duration="t", event="e", covariates=["x", "x2"]).fit(df)
    with pytest.raises(DataError, match="do not vary"):
        Cox(duration="t", event="e", covariates=["x", "k"]).fit(df.assign(k=1.0))


def test_negative_durations_and_bad_intervals():
    df = _small()
    df.loc[3, "t"] = -1
    with pytest.raises(DataError, match="negative values"):
        Cox(duration="t", event="e", covariates=["x"]).fit(df)
    df = _small().assign(s=lambda d: d["t"] + 1)
    with pytest.raises(DataError, match="entry < duration"):
        Cox(duration="t", event="e", entry="s", covariates=["x"]).fit(df)


def test_zero_weights_dropped_and_negative_refused():
    df = _small().assign(w=1.0)
    df.loc[[0, 5], "w"] = 0.0
    with pytest.warns(DroppedRowsWarning, match="2 of 60 rows dropped with zero weight in 'w'"):
        a = Cox(duration="t", event="e", covariates=["x"], weights="w").fit(df)
    b = Cox(duration="t", event="e", covariates=["x"]).fit(df.drop(index=[0, 5]))
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    df.loc[1, "w"] = -1.0
    with pytest.raises(DataError, match="negative values"):
        Cox(duration="t", event="e", covariates=["x"], weights="w").fit(df)


def test_few_clusters_warn_and_name_the_correction():
    df = _small().assign(site=lambda d: np.arange(len(d)) % 45)
    with pytest.warns(StatisticalWarning, match="only 45 clusters in 'site'.*correction='CR1'"):
        Cox(duration="t", event="e", covariates=["x"], vcov=Cluster("site")).fit(df)
    with pytest.warns(StatisticalWarning, match="only 45 clusters in 'site': even with the CR1"):
        Cox(duration="t", event="e", covariates=["x"],
            vcov=Cluster("site", correction="CR1")).fit(df)


def test_no_events_is_an_error():
    with pytest.raises(EstimationError, match="no events"):
        Cox(duration="t", event="e", covariates=["x"]).fit(_small().assign(e=0))


def test_log_of_nonpositive_values():
    df = _small()
    with pytest.raises(DataError, match="log\\(x\\) is not finite"):
        Cox(duration="t", event="e", covariates=["log(x)"]).fit(df)


def test_arm_without_events_warns_monotone_likelihood():
    df = _small()
    df.loc[df["g"] == "b", "e"] = 0
    with pytest.warns(StatisticalWarning, match="monotone likelihood: the coefficient of 'g\\[b\\]'"):
        res = Cox(duration="t", event="e", covariates=["g", "x"]).fit(df)
    assert any("monotone likelihood" in w for w in res.warnings)


def test_non_convergence_warns():
    df = _small()
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 iterations"):
        Cox(duration="t", event="e", covariates=["x", "g"], max_iter=1).fit(df)


def test_input_not_mutated_and_result_frozen():
    df = _small()
    before = df.copy()
    res = Cox(duration="t", event="e", covariates=["x", "g"]).fit(df)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(AttributeError):
        res.coef = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        json.dumps(res.to_dict())


# -- invariances and edge cases -------------------------------------------------------------
def test_invariant_to_row_order_and_monotone_time_transform(pbc):
    df = pbc.iloc[:312]
    base = Cox(duration="time", event="dead", covariates=MAYO).fit(df)
    rng = np.random.default_rng(0)
    shuffled = df.iloc[rng.permutation(len(df))]
    a = Cox(duration="time", event="dead", covariates=MAYO).fit(shuffled)
    b = Cox(duration="time", event="dead", covariates=MAYO).fit(
        df.assign(time=np.sqrt(df["time"]) * 3.7))  # ranks of times unchanged
    for other in (a, b):
        np.testing.assert_allclose(other.coef, base.coef, rtol=1e-10)
        np.testing.assert_allclose(other.tidy()["std_error"], base.tidy()["std_error"],
                                   rtol=1e-10)
        assert other.glance()["concordance"].iloc[0] == pytest.approx(
            base.glance()["concordance"].iloc[0], rel=1e-12)


def test_stratum_without_events_and_event_value(pbc):
    df = pbc.iloc[:312].copy()
    df["grp"] = np.where(np.arange(312) < 20, "none", "rest")
    df.loc[df["grp"] == "none", "dead"] = 0
    df["status_txt"] = np.where(df["dead"] == 1, "died", "alive")
    a = Cox(duration="time", event="status_txt", event_value="died", covariates=["age"],
            strata=["grp"]).fit(df)
    b = Cox(duration="time", event="dead", covariates=["age"]).fit(df[df["grp"] == "rest"])
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)


def test_boolean_and_two_factor_interaction():
    rng = np.random.default_rng(4)
    n = 400
    df = pd.DataFrame({"t": rng.exponential(10, n).round(1) + 0.1, "e": rng.integers(0, 2, n),
                       "flag": rng.integers(0, 2, n).astype(bool),
                       "arm": rng.choice(["a", "b", "c"], n)})
    res = Cox(duration="t", event="e", covariates=["flag", "arm", "flag:arm"]).fit(df)
    assert list(res.coef.index) == ["flag[True]", "arm[b]", "arm[c]", "flag[True]:arm[b]",
                                    "flag[True]:arm[c]"]
    table = res.check_proportional_hazards()
    assert table["term"].tolist() == ["flag", "arm", "flag:arm", "GLOBAL"]
    assert table["df"].tolist() == [1, 2, 2, 5]


def test_docstring_examples_run():
    import doctest

    import causalips
    import causalips.datasets.swiss_trial as swiss
    import causalips.survival._cox_result as result_module
    import causalips.survival.cox as cox_module
    import causalips.survival.finegray as finegray_module

    for module in (cox_module, result_module, finegray_module, swiss):
        failures, tried = doctest.testmod(module, extraglobs={"ci": causalips},
                                          optionflags=doctest.NORMALIZE_WHITESPACE)
        assert tried > 0 and failures == 0


@pytest.mark.parametrize("weights", [None, "w"])
def test_efron_series_sums_equal_term_by_term(monkeypatch, weights):
    """Blocks with many tied deaths use power-series tie sums: same fit as summing term by term."""
    from causalips.survival import _cox_math as cm

    rng = np.random.default_rng(11)
    n = 6000
    x = rng.normal(size=(n, 2))
    t = np.ceil(rng.exponential(20 / np.exp(x @ [0.5, -0.3])))
    c = np.ceil(rng.uniform(1, 60, n))
    df = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int), "a": x[:, 0],
                       "b": x[:, 1], "w": rng.uniform(0.5, 2, n)})
    rs = cm.build_risk_sets(df["time"].to_numpy(float), df["event"].to_numpy(bool), np.ones(n),
                            np.zeros(n, dtype=int))
    assert (rs.n_death >= cm._SER_MIN_D).sum() > 10  # the series path is exercised
    fits = {}
    for label, min_d in (("series", cm._SER_MIN_D), ("terms", 10**9)):
        monkeypatch.setattr(cm, "_SER_MIN_D", min_d)
        fits[label] = Cox(duration="time", event="event", covariates=["a", "b"], weights=weights,
                          diagnostics=False).fit(df)
    a, b = fits["series"], fits["terms"]
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    np.testing.assert_allclose(a.vcov_matrix(), b.vcov_matrix(), rtol=1e-11)
    ga, gb = a.glance().iloc[0], b.glance().iloc[0]
    for key in ("loglik", "loglik_null", "lr_stat", "score_stat", "concordance"):
        assert ga[key] == pytest.approx(gb[key], rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_concordance_pair_counts_equal_brute_force(seed):
    """Weighted concordant / discordant / tied pair counts against an all-pairs computation,
    with tied times, tied predictors, weights, strata and (start, stop] rows."""
    from causalips.survival import _cox_math as cm
    from causalips.survival._concordance import concordance

    rng = np.random.default_rng(seed)
    n = 80
    stop = rng.integers(1, 15, n).astype(float)
    start = np.maximum(stop - rng.integers(1, 8, n), 0.0) if seed % 2 else None
    event = rng.random(n) < 0.6
    w = rng.uniform(0.5, 2.0, n) if seed % 3 else np.ones(n)
    strata = rng.integers(0, 2, n) if seed >= 3 else np.zeros(n, dtype=int)
    event[:2] = True
    strata[:2] = [0, strata.max()]
    lp = rng.integers(0, 5, n).astype(float)
    rs = cm.build_risk_sets(stop, event, w, strata, start=start)
    c, se, (n_conc, n_disc, n_tie) = concordance(rs, lp[rs.order])
    # all pairs (i event, k at risk just after t_i in the same stratum)
    t_i, t_k = stop[:, None], stop[None, :]
    at_risk = (t_k > t_i) | ((t_k == t_i) & ~event[None, :])
    if start is not None:
        at_risk &= start[None, :] < t_i
    ok = event[:, None] & at_risk & (strata[:, None] == strata[None, :])
    np.fill_diagonal(ok, False)
    ww = w[:, None] * w[None, :] * ok
    assert n_conc == pytest.approx(float(np.sum(ww * (lp[:, None] > lp[None, :]))), rel=1e-12)
    assert n_disc == pytest.approx(float(np.sum(ww * (lp[:, None] < lp[None, :]))), rel=1e-12)
    assert n_tie == pytest.approx(float(np.sum(ww * (lp[:, None] == lp[None, :]))), rel=1e-12)
    assert c == pytest.approx((n_conc + n_tie / 2) / (n_conc + n_disc + n_tie), rel=1e-12)
    assert 0 < se < 1


def test_direct_curves_binned_sums_equal_exact(monkeypatch, pbc):
    """Large data sum the direct-adjusted curves over 0.01-wide predictor bins with a
    third-order expansion; it must equal the exact sum over distinct predictor values."""
    from causalips.survival import _adjusted_curves

    df = pbc.iloc[:312].assign(arm=lambda d: d["trt"].map({1: "drug", 2: "placebo"}))
    res = Cox(duration="time", event="dead", covariates=["arm", "age", "log(bili)"]).fit(df)
    exact = res.survival_curves("arm")["estimate"].to_numpy()
    monkeypatch.setattr(_adjusted_curves, "_EXACT_BUDGET", 0)
    binned = res.survival_curves("arm")["estimate"].to_numpy()
    np.testing.assert_allclose(binned, exact, rtol=0, atol=1e-9)
    assert np.max(np.abs(binned - exact)) > 0  # the binned path was taken


# -- the variance vocabulary (issue 14) and the CR1 correction (issue 13) -----------------------
@pytest.mark.parametrize("alias, spec", [("model", ModelBased()), ("robust", Robust())])
def test_deprecated_vcov_strings_still_work(pbc, alias, spec):
    with pytest.warns(FutureWarning, match=f"vcov='{alias}'.*vcov={type(spec).__name__}"):
        old = Cox(duration="time", event="dead", covariates=MAYO, vcov=alias)
    assert old.vcov == spec
    new = Cox(duration="time", event="dead", covariates=MAYO, vcov=spec)
    pd.testing.assert_frame_equal(old.fit(pbc.iloc[:312]).tidy(), new.fit(pbc.iloc[:312]).tidy())


def test_vcov_attribute_deprecated_for_vcov_matrix(pbc):
    res = Cox(duration="time", event="dead", covariates=MAYO).fit(pbc.iloc[:312])
    matrix = res.vcov_matrix()
    assert list(matrix.index) == list(matrix.columns) == list(res.coef.index)
    with pytest.warns(FutureWarning, match="vcov_matrix"):
        old = res.vcov
    pd.testing.assert_frame_equal(old, matrix)
    matrix.iloc[0, 0] = -1.0  # a copy: the result is unchanged
    assert res.vcov_matrix().iloc[0, 0] > 0


def test_with_inference_equals_a_fit_with_that_variance(reference_data):
    cgd = reference_data.csv("survival/cgd.csv")
    kw = dict(duration="tstop", entry="tstart", event="status",
              covariates=["treat", "inherit", "steroids"])
    base = Cox(**kw, vcov=Cluster("id")).fit(cgd)
    for spec in (ModelBased(), Robust(), Cluster("id"), Cluster("id", correction="CR1")):
        direct = Cox(**kw, vcov=spec).fit(cgd)
        switched = base.with_inference(spec)
        assert switched.inference == spec
        # a model-based fit stops one evaluation early (its information is ~1e-6 from the
        # one at the final beta, well inside R parity's 1e-5): compare at that tolerance
        pd.testing.assert_frame_equal(switched.tidy(), direct.tidy(), rtol=1e-5)
        ga, gb = switched.glance().iloc[0], direct.glance().iloc[0]
        for key in ("wald_stat", "wald_p", "concordance_se"):
            assert ga[key] == pytest.approx(gb[key], rel=1e-5)
        assert ga["n_clusters"] == gb["n_clusters"] and ga["vcov"] == gb["vcov"]
    # from a model-based fit (which skips the last re-evaluation) to the sandwich
    model = Cox(**kw).fit(cgd)
    pd.testing.assert_frame_equal(model.with_inference(Robust()).tidy(),
                                  Cox(**kw, vcov=Robust()).fit(cgd).tidy(), rtol=1e-5)
    # the CR0 -> CR1 switch changes only the variance: exact
    cr1 = Cox(**kw, vcov=Cluster("id", correction="CR1")).fit(cgd)
    pd.testing.assert_frame_equal(base.with_inference(Cluster("id", correction="CR1")).tidy(),
                                  cr1.tidy(), rtol=1e-13)


def test_with_inference_refuses_what_the_fit_cannot_give(pbc):
    from causalips.inference import Bootstrap

    res = Cox(duration="time", event="dead", covariates=MAYO).fit(pbc.iloc[:312])
    with pytest.raises(SpecificationError, match="did not keep the cluster column 'id'.*"
                                                 "refit with vcov=Cluster\\('id'\\)"):
        res.with_inference(Cluster("id"))
    with pytest.raises(SpecificationError, match="cannot use Bootstrap"):
        res.with_inference(Bootstrap(reps=99))


def test_cr1_correction_factor_t_reference_and_summary(reference_data):
    from scipy import stats

    cgd = reference_data.csv("survival/cgd.csv")
    kw = dict(duration="tstop", entry="tstart", event="status", covariates=["treat", "steroids"])
    cr0 = Cox(**kw, vcov=Cluster("id")).fit(cgd)
    cr1 = cr0.with_inference(Cluster("id", correction="CR1"))
    g = 128
    a, b = cr0.tidy(), cr1.tidy()
    np.testing.assert_allclose(b["std_error"], a["std_error"] * np.sqrt(g / (g - 1)), rtol=1e-12)
    np.testing.assert_allclose(b["p_value"], 2 * stats.t.sf(np.abs(b["statistic"]), g - 1),
                               rtol=1e-12)
    crit = stats.t.ppf(0.975, g - 1)
    np.testing.assert_allclose(b["conf_high"], b["estimate"] + crit * b["std_error"], rtol=1e-12)
    np.testing.assert_allclose(cr1.vcov_matrix(), cr0.vcov_matrix() * g / (g - 1), rtol=1e-12)
    assert "no small-sample factor (CR0" in str(cr0.summary())
    text = str(cr1.summary())
    assert "G/(G-1) (CR1), t(127) reference" in text and "t(127) reference (CR1)" in text
    assert cr1.glance()["correction"].iloc[0] == "CR1"


def _clustered(rng, n_clusters, per, beta=0.5, rho=0.2):
    """Clustered Cox data whose marginal model is exactly Cox with log HR ``beta``.

    Times share a Gaussian copula within a cluster (correlation ``rho``), so each time given
    its x is exponential with hazard 0.1·exp(beta·x) (a shared frailty would attenuate the
    marginal hazard ratio instead); x varies mostly between clusters.
    """
    from scipy import stats

    g = np.repeat(np.arange(n_clusters), per)
    x = rng.normal(size=n_clusters)[g] + 0.5 * rng.normal(size=g.size)
    z = np.sqrt(rho) * rng.normal(size=n_clusters)[g] + np.sqrt(1 - rho) * rng.normal(size=g.size)
    t = -np.log(stats.norm.sf(z)) / (0.1 * np.exp(beta * x))
    c = rng.uniform(0, 20, g.size)
    return pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "x": x, "g": g})


@pytest.mark.slow
def test_cr1_covers_closer_to_nominal_with_40_clusters():
    """With 40 clusters the CR0 interval under-covers; CR1 (G/(G-1), t(39)) is closer to 95%."""
    rng = np.random.default_rng(20240613)
    reps, beta = 1000, 0.5
    est = Cox(duration="t", event="e", covariates=["x"], vcov=Cluster("g"), concordance=False,
              diagnostics=False)
    cover = np.zeros((reps, 2), dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        for r in range(reps):
            res = est.fit(_clustered(rng, 40, 15))
            for k, fit in enumerate((res, res.with_inference(Cluster("g", correction="CR1")))):
                row = fit.tidy().iloc[0]
                cover[r, k] = row["conf_low"] <= beta <= row["conf_high"]
    cr0, cr1 = cover.mean(axis=0)
    mc_se = np.sqrt(0.95 * 0.05 / reps)
    # seed 20240613: CR0 0.919, CR1 0.936 (paired data sets: CR1 can only widen intervals)
    assert cr0 < 0.95 - 2 * mc_se, "the uncorrected interval should under-cover here"
    assert cr1 >= cr0 + 0.004, (cr0, cr1)
    assert abs(cr1 - 0.95) < abs(cr0 - 0.95)


# -- bad input of issue 12 ----------------------------------------------------------------------
def test_factor_with_a_level_per_row_refused_before_the_fit():
    import time

    rng = np.random.default_rng(2)
    n = 100_000
    df = pd.DataFrame({"t": rng.integers(1, 100, n), "e": rng.integers(0, 2, n),
                       "person": [f"p{i}" for i in range(n)]})
    start = time.perf_counter()
    with pytest.raises(DataError, match="'person' \\(a covariate\\) has 100,000 distinct values"
                                        " in 100,000 rows.*vcov=Cluster\\('person'\\)"):
        Cox(duration="t", event="e", covariates=["person"]).fit(df)
    assert time.perf_counter() - start < 5
    small = _small().assign(code=lambda d: np.arange(len(d)))
    with pytest.raises(DataError, match="60 distinct values in 60 rows"):
        Cox(duration="t", event="e", covariates=["code"], categorical=["code"]).fit(small)


def test_timedelta_durations_are_days_and_dates_are_refused(pbc):
    df = pbc.iloc[:312]
    days = Cox(duration="time", event="dead", covariates=MAYO).fit(df)
    td = df.assign(time=pd.to_timedelta(df["time"], unit="D"))
    res = Cox(duration="time", event="dead", covariates=MAYO).fit(td)
    pd.testing.assert_frame_equal(res.tidy(), days.tidy(), rtol=1e-12)
    assert res.time_unit == "days" and days.time_unit is None
    assert "timedeltas converted to days" in str(res.summary())
    assert res.glance()["time_unit"].iloc[0] == "days"
    dated = df.assign(time=pd.Timestamp("2020-01-01") + pd.to_timedelta(df["time"], unit="D"))
    with pytest.raises(DataError, match="'time' \\(the duration\\) holds dates.*"
                                        "durations_from_dates"):
        Cox(duration="time", event="dead", covariates=MAYO).fit(dated)


@pytest.mark.parametrize("kind", ["category", "string[pyarrow]", "string[python]"])
def test_text_arm_in_any_pandas_dtype_gives_the_same_fit(kind):
    rng = np.random.default_rng(9)
    n = 3000
    df = pd.DataFrame({"t": rng.integers(1, 200, n), "e": rng.integers(0, 2, n).astype(np.int8),
                       "arm": rng.choice(["25h", "40h", "55h"], n).astype(object),
                       "x": rng.normal(size=n)})
    df.loc[[3, 50], "arm"] = None
    with pytest.warns(DroppedRowsWarning, match="2 of 3000 rows dropped.*\\['arm'\\]"):
        text = Cox(duration="t", event="e", covariates=["arm", "x"], strata=None).fit(df)
    with pytest.warns(DroppedRowsWarning, match="2 of 3000"):
        other = Cox(duration="t", event="e", covariates=["arm", "x"]).fit(
            df.assign(arm=df["arm"].astype(kind)))
    pd.testing.assert_frame_equal(other.tidy(), text.tidy(), rtol=1e-13)
    assert list(text.coef.index) == ["arm[40h]", "arm[55h]", "x"]


def test_a_column_in_two_roles_is_read_both_ways():
    """A numeric covariate that is also the cluster column: a number in the model, codes for
    the clusters (one read of each kind)."""
    df = _small().assign(site=lambda d: np.arange(len(d)) % 6)
    with pytest.warns(StatisticalWarning, match="only 6 clusters"):
        both = Cox(duration="t", event="e", covariates=["x", "site"],
                   vcov=Cluster("site")).fit(df)
    assert list(both.coef.index) == ["x", "site"]
    plain = Cox(duration="t", event="e", covariates=["x", "site"]).fit(df)
    pd.testing.assert_series_equal(both.coef, plain.coef)
