"""ParametricSurvival: closed forms, parity with lifelines, Gompertz likelihood, projection,
reproducibility and bad input."""

from __future__ import annotations

import lifelines
import numpy as np
import pandas as pd
import pytest

from causalips import Bootstrap
from causalips.economics import ParametricSurvival
from causalips.economics.extrapolation import survival
from causalips.errors import DataError, SpecificationError


def weibull_data(seed=1, n=400):
    rng = np.random.default_rng(seed)
    t = rng.weibull(1.3, n) * 14.0
    c = rng.uniform(5, 30, n)
    return pd.DataFrame({"months": np.minimum(t, c), "ended": (t <= c).astype(int)})


@pytest.fixture(scope="module")
def fitted():
    return ParametricSurvival(duration="months", event="ended", horizon=60.0,
                              inference=Bootstrap(reps=300, seed=1)).fit(weibull_data())


def test_exponential_mle_closed_form():
    df = weibull_data()
    res = ParametricSurvival(duration="months", event="ended", distributions=["exponential"],
                             horizon=60.0, inference=Bootstrap(reps=50, seed=1)).fit(df)
    scale = df["months"].sum() / df["ended"].sum()  # total time / events
    assert res.params("exponential")["lambda_"] == pytest.approx(scale, rel=1e-5)
    # log-likelihood: d log(1/scale) - T/scale
    d, total = df["ended"].sum(), df["months"].sum()
    ll = -d * np.log(scale) - total / scale
    row = res.tidy().query("term == 'lambda_'").iloc[0]
    assert row["loglik"] == pytest.approx(ll, rel=1e-8)
    assert row["aic"] == pytest.approx(-2 * ll + 2, rel=1e-8)
    assert row["bic"] == pytest.approx(-2 * ll + np.log(len(df)), rel=1e-8)
    # SE of the scale: scale / sqrt(d)
    assert row["std_error"] == pytest.approx(scale / np.sqrt(d), rel=1e-3)


def test_exponential_restricted_mean_closed_form():
    df = weibull_data()
    h = 36.0
    res = ParametricSurvival(duration="months", event="ended", distributions=["exponential"],
                             horizon=h, inference=Bootstrap(reps=50, seed=1)).fit(df)
    lam = res.params("exponential")["lambda_"]
    proj = res.tidy().query("term == 'restricted_mean'").iloc[0]
    assert proj["estimate"] == pytest.approx(lam * (1 - np.exp(-h / lam)), rel=1e-9)
    at_h = res.tidy().query("term == 'survival_at_horizon'").iloc[0]
    assert at_h["estimate"] == pytest.approx(np.exp(-h / lam), rel=1e-12)
    after = ParametricSurvival(duration="months", event="ended", distributions=["exponential"],
                               horizon=h, inference=Bootstrap(reps=50, seed=1),
                               projection="time_after_event").fit(df)
    est = after.tidy().query("term == 'time_after_event'")["estimate"].iloc[0]
    assert est == pytest.approx(h - lam * (1 - np.exp(-h / lam)), rel=1e-9)


@pytest.mark.parametrize("name, fitter", [
    ("exponential", lifelines.ExponentialFitter),
    ("weibull", lifelines.WeibullFitter),
    ("lognormal", lifelines.LogNormalFitter),
    ("loglogistic", lifelines.LogLogisticFitter),
    ("generalized_gamma", lifelines.GeneralizedGammaFitter),
])
def test_parameters_and_curves_equal_lifelines(fitted, name, fitter):
    df = weibull_data()
    f = fitter().fit(df["months"], df["ended"])
    ours = fitted.params(name)
    for key, value in f.params_.items():
        assert ours[key] == pytest.approx(value, rel=1e-8)
    times = np.array([0.5, 3, 10, 25, 60])
    np.testing.assert_allclose(fitted.survival_function(times, [name])["survival"],
                               f.survival_function_at_times(times).to_numpy(), rtol=1e-8,
                               atol=1e-12)
    row = fitted.tidy().query("distribution == @name").iloc[0]
    assert row["loglik"] == pytest.approx(f.log_likelihood_, rel=1e-10)
    assert row["aic"] == pytest.approx(f.AIC_, rel=1e-10)


def test_gompertz_likelihood_and_recovery():
    rng = np.random.default_rng(4)
    n, rate, shape = 3000, 0.02, 0.08
    u = rng.random(n)
    t = np.log1p(-shape / rate * np.log(u)) / shape  # inverse of S(t) = exp(-rate/shape(e^st-1))
    c = rng.uniform(0, 40, n)
    df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int)})
    res = ParametricSurvival(duration="t", event="e", distributions=["gompertz"], horizon=50,
                             inference=Bootstrap(reps=50, seed=1)).fit(df)
    p = res.params("gompertz")
    rows = res.tidy().query("term in ('rate_', 'shape_')").set_index("term")
    assert abs(p["rate_"] - rate) < 4 * rows.loc["rate_", "std_error"]
    assert abs(p["shape_"] - shape) < 4 * rows.loc["shape_", "std_error"]
    tt, ee = df["t"].to_numpy(), df["e"].to_numpy()
    ll = np.sum(ee * (np.log(p["rate_"]) + p["shape_"] * tt)
                - p["rate_"] / p["shape_"] * np.expm1(p["shape_"] * tt))
    assert rows["loglik"].iloc[0] == pytest.approx(ll, rel=1e-8)
    # the MLE: the likelihood is lower nearby
    for dr, ds in ((1.01, 1.0), (0.99, 1.0), (1.0, 1.02), (1.0, 0.98)):
        r2, s2 = p["rate_"] * dr, p["shape_"] * ds
        ll2 = np.sum(ee * (np.log(r2) + s2 * tt) - r2 / s2 * np.expm1(s2 * tt))
        assert ll2 < ll


def test_survival_function_shapes_and_limits():
    t = np.array([0.0, 1.0, 5.0])
    params = np.array([[10.0, 1.5], [12.0, 0.8]])
    s = survival("weibull", params, t)
    assert s.shape == (2, 3)
    np.testing.assert_allclose(s[:, 0], 1.0)
    np.testing.assert_allclose(s[0, 2], np.exp(-(0.5**1.5)))
    gg = survival("generalized_gamma", np.array([[2.0, 0.0, 0.0]]), np.array([np.exp(2.0)]))
    assert gg[0, 0] == pytest.approx(0.5)  # lambda = 0 is log-normal: S(e^mu) = 1/2


def test_comparison_and_best_model(fitted):
    c = fitted.compare()
    assert set(c["distribution"]) == {"exponential", "weibull", "gompertz", "lognormal",
                                      "loglogistic", "generalized_gamma"}
    assert c["aic"].is_monotonic_increasing and c["delta_aic"].iloc[0] == 0
    assert fitted.best() in ("weibull", "generalized_gamma")  # Weibull data
    # fitted curves reproduce the KM area within follow-up for the best models
    best = c.iloc[0]
    assert best["rmst_follow_up_model"] == pytest.approx(best["rmst_follow_up_km"], rel=0.03)
    g = fitted.glance()
    assert g["n_obs"].iloc[0] == 400 and g["horizon"].iloc[0] == 60


def test_projection_interval_reproducible_and_contains_estimate():
    df = weibull_data()
    kw = dict(duration="months", event="ended", distributions=["weibull", "lognormal"],
              horizon=60.0)
    a = ParametricSurvival(**kw, inference=Bootstrap(reps=400, seed=9)).fit(df).tidy()
    b = ParametricSurvival(**kw, inference=Bootstrap(reps=400, seed=9)).fit(df).tidy()
    c = ParametricSurvival(**kw, inference=Bootstrap(reps=400, seed=10)).fit(df).tidy()
    pd.testing.assert_frame_equal(a, b)
    proj = a[a["term"] == "restricted_mean"]
    assert (proj["conf_low"] < proj["estimate"]).all() and (proj["estimate"] < proj["conf_high"]).all()
    assert not np.allclose(proj["conf_low"], c[c["term"] == "restricted_mean"]["conf_low"])


def test_projection_uncertainty_matches_delta_method_exponential():
    df = weibull_data(n=800)
    h = 24.0
    res = ParametricSurvival(duration="months", event="ended", distributions=["exponential"],
                             horizon=h, inference=Bootstrap(reps=4000, seed=2)).fit(df)
    lam = res.params("exponential")["lambda_"]
    se_lam = res.tidy().query("term == 'lambda_'")["std_error"].iloc[0]
    deriv = (1 - np.exp(-h / lam)) - (h / lam) * np.exp(-h / lam)
    se = res.tidy().query("term == 'restricted_mean'")["std_error"].iloc[0]
    assert se == pytest.approx(abs(deriv) * se_lam, rel=0.06)


def test_plot_draws_km_and_models(fitted):
    ax = fitted.plot()
    labels = [ln.get_label() for ln in ax.lines]
    assert "Kaplan-Meier" in labels and "weibull" in labels


def test_bad_input():
    df = weibull_data()
    bad = df.copy()
    bad.loc[3, "months"] = 0.0
    with pytest.raises(DataError, match="values <= 0"):
        ParametricSurvival(duration="months", event="ended", horizon=10).fit(bad)
    with pytest.raises(SpecificationError, match="horizon= is required"):
        ParametricSurvival(duration="months", event="ended")
    with pytest.raises(SpecificationError, match="distributions must be one of"):
        ParametricSurvival(duration="months", event="ended", horizon=10,
                           distributions=["weibul"])
    none = df.assign(ended=0)
    with pytest.raises(DataError, match="at least 2 events"):
        ParametricSurvival(duration="months", event="ended", horizon=10).fit(none)
    with pytest.raises(SpecificationError, match="projection must be one of"):
        ParametricSurvival(duration="months", event="ended", horizon=10, projection="mean")


def test_groups_fit_separately_and_compare_projections():
    a = weibull_data(seed=1, n=300).assign(arm="ips")
    b = weibull_data(seed=2, n=300).assign(arm="usual", months=lambda d: d["months"] * 0.7)
    df = pd.concat([a, b], ignore_index=True)
    kw = dict(duration="months", event="ended", distributions=["exponential", "weibull"],
              horizon=48.0, inference=Bootstrap(reps=300, seed=4))
    res = ParametricSurvival(group="arm", **kw).fit(df)
    assert res.groups == ("ips", "usual")
    alone = ParametricSurvival(**kw).fit(b)
    assert res.params("weibull", group="usual")["rho_"] == pytest.approx(
        alone.params("weibull")["rho_"], rel=1e-8)
    t = res.tidy()
    proj = t[t["term"] == "restricted_mean"].set_index(["group", "distribution"])["estimate"]
    diff = t[t["term"] == "restricted_mean_difference"].set_index("distribution")
    assert diff.loc["weibull", "group"] == "usual - ips"
    assert diff.loc["weibull", "estimate"] == pytest.approx(
        proj[("usual", "weibull")] - proj[("ips", "weibull")], rel=1e-12)
    assert diff.loc["weibull", "conf_high"] < 0  # shorter durations in 'usual'
    with pytest.raises(SpecificationError, match="say which with group="):
        res.best()
    assert res.best(group="ips") in ("weibull", "exponential")
    assert set(res.compare()["group"]) == {"ips", "usual"}
    ax = res.plot()
    assert len(ax.lines) >= 6
    assert "Differences between groups" in str(res.summary())


def test_blocked_projection_draws_equal_one_block(monkeypatch):
    """Draws are integrated in blocks (bounded memory at any reps); blocks change no number."""
    from causalips.economics import parametric_models

    kw = dict(duration="months", event="ended", distributions=["weibull", "lognormal"],
              horizon=60.0, inference=Bootstrap(reps=300, seed=5))
    whole = ParametricSurvival(**kw).fit(weibull_data()).tidy()
    monkeypatch.setattr(parametric_models, "MAX_CELLS", 7 * parametric_models.GRID_POINTS)
    blocked = ParametricSurvival(**kw).fit(weibull_data()).tidy()
    pd.testing.assert_frame_equal(whole, blocked)
