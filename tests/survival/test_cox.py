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
    with pytest.raises(SpecificationError, match="vcov must be one of"):
        Cox(duration="t", event="e", covariates=["x"], vcov="hc1")
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
    with pytest.warns(DroppedRowsWarning, match="2 of 60 rows dropped: zero weight in 'w'"):
        a = Cox(duration="t", event="e", covariates=["x"], weights="w").fit(df)
    b = Cox(duration="t", event="e", covariates=["x"]).fit(df.drop(index=[0, 5]))
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    df.loc[1, "w"] = -1.0
    with pytest.raises(DataError, match="negative values"):
        Cox(duration="t", event="e", covariates=["x"], weights="w").fit(df)


def test_few_clusters_warn():
    df = _small().assign(site=lambda d: np.arange(len(d)) % 5)
    with pytest.warns(StatisticalWarning, match="only 5 clusters in 'site'"):
        Cox(duration="t", event="e", covariates=["x"], vcov=Cluster("site")).fit(df)


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
    import causalips.survival.cox as cox_module

    for module in (cox_module, swiss):
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
