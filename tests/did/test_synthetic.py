"""Synthetic control and synthetic DiD: published values, exact recovery, invariants, bad input."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causalips.did.staggered import StaggeredDiD
from causalips.did.synthetic import (
    SyntheticControl,
    SyntheticDiD,
    sdid_estimate,
    sdid_weights,
    simplex_least_squares,
)
from causalips.errors import (
    ColumnNotFoundError,
    DataError,
    SpecificationError,
    StatisticalWarning,
)
from causalips.inference import MultiplierBootstrap, Placebo

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def prop99():
    """California Proposition 99 cigarette sales (packs per capita), 39 states, 1970-2000.

    Public data (Abadie, Diamond & Hainmueller 2010, JASA; Orzechowski & Walker) as shipped
    with R's synthdid package (data/california_prop99.csv), stored here wide by year.
    """
    wide = pd.read_csv(DATA / "california_prop99_wide.csv", sep=";")
    return wide.melt(id_vars="year", var_name="state", value_name="packs")


def _long(Y, periods=None):
    n, t = Y.shape
    periods = np.arange(2000, 2000 + t) if periods is None else periods
    return pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(n)], t),
                         "year": np.tile(periods, n), "y": Y.ravel()})


# -- synthetic DiD ---------------------------------------------------------------------------

def test_sdid_reproduces_published_prop99_estimate(prop99):
    # Arkhangelsky et al. (2021), Table 1: SDID -15.6; R synthdid gives -15.60383.
    res = SyntheticDiD(outcome="packs", unit="state", time="year", treated_unit="California",
                       treatment_start=1989, inference=Placebo(reps=100, seed=1)).fit(prop99)
    assert res.att == pytest.approx(-15.6038, abs=5e-4)
    # the time weights put all their mass on 1986-1988, as in the paper's Figure 1
    lam = res.time_weights[res.time_weights > 1e-6]
    assert lam.index.tolist() == [1986.0, 1987.0, 1988.0]
    assert res.unit_weights.sum() == pytest.approx(1.0)
    assert 5 < res.std_error < 15  # placebo SE (paper reports 8.4 with other draws)


def test_uniform_weights_give_did_published_prop99(prop99):
    # Table 1 of the SDID paper: DID -27.3
    Y = prop99.pivot(index="state", columns="year", values="packs")
    order = [s for s in Y.index if s != "California"] + ["California"]
    Y = Y.loc[order].to_numpy()
    n0, t0 = Y.shape[0] - 1, 19
    tau = sdid_estimate(Y, n0, t0, np.full(n0, 1 / n0), np.full(t0, 1 / t0))
    assert tau == pytest.approx(-27.35, abs=0.01)
    did = (Y[-1, t0:].mean() - Y[-1, :t0].mean()) - (Y[:-1, t0:].mean() - Y[:-1, :t0].mean())
    assert tau == pytest.approx(did, abs=1e-10)


def test_sdid_exact_under_two_way_fixed_effects_plus_effect():
    rng = np.random.default_rng(0)
    n, t, t0 = 15, 10, 7
    Y = rng.normal(0, 5, n)[:, None] + np.cumsum(rng.normal(0, 2, t))[None, :]
    Y[-1, t0:] += 4.0
    res = SyntheticDiD(outcome="y", unit="unit", time="year", treated_unit="u14",
                       treatment_start=2000 + t0, inference=None).fit(_long(Y))
    assert res.att == pytest.approx(4.0, abs=1e-9)


def test_sdid_noiseless_factor_model_recovers_effect_and_beats_did():
    # Y = a_i + b_t + g_i f_t with the treated loading (2) above the controls' mean (1).
    # The post-period factor level (2) lies inside the range of the pre-period factor, so the
    # time weights can reproduce it exactly and SDID is unbiased whatever the unit weights;
    # DiD (uniform weights: pre-period factor mean 1) is off by (2 - 1) x (2 - 1) = 1.
    rng = np.random.default_rng(1)
    n0, t0 = 20, 8
    f = np.r_[0, 0, 0, 0, 0, 1, 3, 4, 2, 2, 2, 2].astype(float)
    gamma = np.r_[np.zeros(10), np.full(10, 2.0), 2.0]
    a = rng.normal(0, 3, n0 + 1)
    b = np.cumsum(rng.normal(0, 1, f.size))
    Y = a[:, None] + b[None, :] + gamma[:, None] * f[None, :]
    Y[-1, t0:] += 3.0
    res = SyntheticDiD(outcome="y", unit="unit", time="year", treated_unit="u20",
                       treatment_start=2000 + t0, inference=None).fit(_long(Y))
    did = sdid_estimate(Y, n0, t0, np.full(n0, 1 / n0), np.full(t0, 1 / t0))
    assert did == pytest.approx(4.0, abs=1e-9)
    assert res.att == pytest.approx(3.0, abs=1e-3)
    lam = res.time_weights.to_numpy()
    assert lam @ f[:t0] == pytest.approx(2.0, abs=1e-3)


def test_frank_wolfe_reaches_the_regularised_optimum():
    from scipy.optimize import minimize

    rng = np.random.default_rng(2)
    A = rng.normal(size=(8, 12))
    b = rng.normal(size=8)
    A, b = A - A.mean(0), b - b.mean()
    zeta2 = 0.3
    Y = np.zeros((1, 13, 9))  # use the public weights routine on a tiny problem
    Y[0, :12, :8] = A.T
    Y[0, 12, :8] = b
    om, _ = sdid_weights(Y, 12, 8, np.sqrt(zeta2), 1e-6, 1e-12,
                          np.full((1, 12), 1 / 12), np.full((1, 8), 1 / 8))

    def obj(w):
        return zeta2 * w @ w + np.sum((A @ w - b) ** 2) / 8

    ref = minimize(obj, np.full(12, 1 / 12), method="SLSQP", bounds=[(0, 1)] * 12,
                   constraints={"type": "eq", "fun": lambda w: w.sum() - 1},
                   options={"ftol": 1e-14})
    assert obj(om[0]) == pytest.approx(ref.fun, rel=1e-4)


def _placebo_se_study(sims, reps, seed):
    rng = np.random.default_rng(seed)
    n0, t, t0 = 25, 10, 7
    est, se = [], []
    for _ in range(sims):
        a = rng.normal(0, 3, n0 + 1)
        b = np.cumsum(rng.normal(0, 1, t))
        load = rng.normal(0, 1, n0 + 1)
        f = np.linspace(-1, 1, t)
        Y = a[:, None] + b[None, :] + load[:, None] * f[None, :] + rng.normal(0, 1, (n0 + 1, t))
        r = SyntheticDiD(outcome="y", unit="unit", time="year", treated_unit=f"u{n0}",
                         treatment_start=2000 + t0, inference=Placebo(reps=reps, seed=1)).fit(_long(Y))
        est.append(r.att)
        se.append(r.std_error)
    return np.array(est), np.array(se)


@pytest.mark.slow
@pytest.mark.parametrize("sims, reps", [(24, 25), (300, 100)])
def test_sdid_placebo_se_tracks_sampling_sd_in_simulation(sims, reps):
    # Simulated panels, one treated unit, no effect: the mean placebo SE is close to the SD of
    # the estimates, the estimate is centred on 0 and |t| > 1.96 occurs about 5% of the time.
    est, se = _placebo_se_study(sims, reps, seed=3)
    sd = est.std(ddof=1)
    # relative SD of a sample SD from `sims` draws ~ 1/sqrt(2 sims); allow 3 of those + 5 %
    assert abs(se.mean() / sd - 1) < 3 / np.sqrt(2 * sims) + 0.05, (se.mean(), sd)
    assert abs(est.mean()) < 3 * sd / np.sqrt(sims)
    assert np.mean(np.abs(est / se) > 1.96) < 0.05 + 3 * np.sqrt(0.05 * 0.95 / sims)


def test_sdid_treatment_column_and_multiple_treated(prop99):
    df = prop99.assign(d=((prop99["state"].isin(["California", "Utah"]))
                          & (prop99["year"] >= 1989)).astype(int))
    a = SyntheticDiD(outcome="packs", unit="state", time="year", treatment="d", inference=Placebo(reps=20, seed=2)).fit(df)
    b = SyntheticDiD(outcome="packs", unit="state", time="year",
                     treated_unit=["California", "Utah"], treatment_start=1989, inference=Placebo(reps=20, seed=2)).fit(df)
    assert a.att == pytest.approx(b.att, abs=1e-12)
    assert a.std_error == pytest.approx(b.std_error, abs=1e-12)
    assert a.n_treated == 2


def test_sdid_reproducible_with_seed(prop99):
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989)
    a = SyntheticDiD(inference=Placebo(reps=30, seed=5), **kw).fit(prop99)
    b = SyntheticDiD(inference=Placebo(reps=30, seed=5), **kw).fit(prop99)
    assert a.std_error == b.std_error
    c = a.with_inference(Placebo(reps=30))  # a seed is drawn and recorded
    d = a.with_inference(Placebo(reps=30, seed=int(c.glance()["seed"].iloc[0])))
    assert c.std_error == d.std_error


# -- synthetic control -----------------------------------------------------------------------

def test_simplex_least_squares_recovers_exact_convex_combination():
    rng = np.random.default_rng(4)
    X0 = rng.normal(size=(30, 10))  # 30 pre-period rows, 10 donors
    w = np.zeros(10)
    w[[1, 4, 7]] = [0.5, 0.3, 0.2]
    got = simplex_least_squares(X0, X0 @ w)
    np.testing.assert_allclose(got, w, atol=1e-6)


def test_synthetic_control_noiseless_convex_combination():
    rng = np.random.default_rng(5)
    n0, t, t0 = 12, 20, 14
    Y0 = rng.normal(size=(n0, t)).cumsum(axis=1) + rng.normal(0, 1, (n0, 1))  # full rank
    w = np.zeros(n0)
    w[[0, 5, 9]] = [0.2, 0.5, 0.3]
    y1 = w @ Y0
    y1[t0:] += 2.5
    Y = np.vstack([Y0, y1])
    with pytest.warns(StatisticalWarning) as caught:
        res = SyntheticControl(outcome="y", unit="unit", time="year", treated_unit="u12",
                               treatment_start=2000 + t0).fit(_long(Y))
    text = " ".join(str(w.message) for w in caught)
    # an exact convex combination: the ratio divides by rounding error, and we say so
    assert "smallest attainable p-value is 1/13" in text and "near-perfect" in text
    np.testing.assert_allclose(res.weights.to_numpy(), w, atol=1e-5)
    assert res.att == pytest.approx(2.5, abs=1e-5)
    assert res.rmspe_pre < 1e-5
    # the treated unit fits perfectly before and has a big post gap: top rank, p = 1/(J+1)
    assert res.p_value == pytest.approx(1 / 13)
    assert res.glance()["min_p_value"].iloc[0] == pytest.approx(1 / 13)


def test_synthetic_control_prop99(prop99):
    res = SyntheticControl(outcome="packs", unit="state", time="year",
                           treated_unit="California", treatment_start=1989).fit(prop99)
    # outcome-only Abadie weights: Utah, Montana, Nevada, Connecticut lead (Abadie et al. 2010
    # Table 2, with predictors, has Utah, Nevada, Montana, Colorado, Connecticut)
    top = set(res.weights.sort_values(ascending=False).index[:4])
    assert {"Utah", "Nevada", "Montana"} <= top
    assert -25 < res.att < -15  # ~ -19 packs per capita on average over 1989-2000
    assert res.p_value <= 3 / 39  # among the most extreme of 39 units
    tab = res.tidy()
    assert tab["term"].tolist()[0] == "att" and (tab["term"] == "gap").sum() == 12


def test_synthetic_control_predictors_change_the_fit(prop99):
    df = prop99.assign(lagged=prop99.groupby("state")["packs"].shift(1).bfill())
    a = SyntheticControl(outcome="packs", unit="state", time="year", treated_unit="California",
                         treatment_start=1989, predictors=["lagged"]).fit(df)
    assert a.weights.sum() == pytest.approx(1.0) and (a.weights >= 0).all()


# -- interface, plots and bad input -----------------------------------------------------------

def test_results_interface(prop99):
    sc = SyntheticControl(outcome="packs", unit="state", time="year", treated_unit="California",
                          treatment_start=1989).fit(prop99)
    sd = SyntheticDiD(outcome="packs", unit="state", time="year", treated_unit="California",
                      treatment_start=1989, inference=Placebo(reps=20, seed=1)).fit(prop99)
    for res in (sc, sd):
        json.dumps(res.to_dict())
        assert str(res.summary())
        ax = res.plot()
        assert len(ax.lines) > 0
    ax = sc.plot(kind="placebos", max_ratio=5)
    assert len(ax.lines) > 10
    assert "placebo" in str(sd.summary())
    with pytest.raises(AttributeError):
        sd.seed = 3


def test_bad_input(prop99):
    with pytest.raises(SpecificationError, match="exactly one of treatment="):
        SyntheticDiD(outcome="packs", unit="state", time="year")
    with pytest.raises(SpecificationError, match="treatment_start"):
        SyntheticDiD(outcome="packs", unit="state", time="year", treated_unit="California")
    with pytest.raises(SpecificationError, match="single unit"):
        SyntheticControl(outcome="packs", unit="state", time="year", treated_unit=["a", "b"],
                         treatment_start=1989)
    with pytest.raises(DataError, match="not a value of column 'state'"):
        SyntheticControl(outcome="packs", unit="state", time="year", treated_unit="Calif",
                         treatment_start=1989).fit(prop99)
    with pytest.raises(ColumnNotFoundError, match="closest: 'packs'"):
        SyntheticDiD(outcome="pack", unit="state", time="year", treated_unit="California",
                     treatment_start=1989).fit(prop99)
    with pytest.raises(DataError, match="unbalanced"):
        SyntheticDiD(outcome="packs", unit="state", time="year", treated_unit="California",
                     treatment_start=1989).fit(prop99.iloc[5:])
    with pytest.raises(DataError, match="before treatment"):
        SyntheticControl(outcome="packs", unit="state", time="year", treated_unit="California",
                         treatment_start=1971).fit(prop99)
    with pytest.raises(DataError, match="no post-treatment"):
        SyntheticControl(outcome="packs", unit="state", time="year", treated_unit="California",
                         treatment_start=2001).fit(prop99)
    dup = pd.concat([prop99, prop99.iloc[:1]], ignore_index=True)
    with pytest.raises(DataError, match="duplicate"):
        SyntheticControl(outcome="packs", unit="state", time="year", treated_unit="California",
                         treatment_start=1989).fit(dup)
    stag = prop99.assign(d=((prop99["state"] == "California") & (prop99["year"] >= 1989))
                         | ((prop99["state"] == "Utah") & (prop99["year"] >= 1990)))
    with pytest.raises(DataError, match="block design"):
        SyntheticDiD(outcome="packs", unit="state", time="year", treatment="d").fit(
            stag.assign(d=stag["d"].astype(int)))
    few = prop99[prop99["state"].isin(["California", "Utah"])]
    with pytest.raises(DataError, match="at least 2 control"):
        SyntheticDiD(outcome="packs", unit="state", time="year", treated_unit="California",
                     treatment_start=1989).fit(few)


def test_synthetic_control_without_placebos(prop99):
    res = SyntheticControl(outcome="packs", unit="state", time="year", treated_unit="California",
                           treatment_start=1989, inference=None).fit(prop99)
    assert np.isnan(res.p_value) and res.placebo_gaps.shape[0] == 0
    assert res.att < -15


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(2, 9), st.integers(2, 15))
def test_simplex_least_squares_is_feasible_and_no_worse_than_vertices(seed, k, rows):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(rows, k))
    b = rng.normal(size=rows) * 2
    w = simplex_least_squares(A, b)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0, abs=1e-12)
    f = np.sum((A @ w - b) ** 2)
    candidates = [np.eye(k)[j] for j in range(k)] + [np.full(k, 1 / k)]
    assert all(f <= np.sum((A @ c - b) ** 2) + 1e-9 for c in candidates)


# -- inference specs, warnings, timing arguments (issues 12-14) ---------------------------------

def _many_donors(n_donors=280, n_pre=3, n_post=5, inside=True, seed=3):
    """One treated unit among many donors and few pre-periods (the issue's registry design)."""
    rng = np.random.default_rng(seed)
    n, t = n_donors + 1, n_pre + n_post
    Y = 50 + rng.normal(0, 5, (n, 1)) + np.cumsum(rng.normal(0, 1, (n, t)), axis=1)
    if inside:  # inside the donors' convex hull: an exact pre-period fit exists
        Y[0] = Y[1:6].mean(axis=0)
    Y[0, n_pre:] += 3.0
    return _long(Y), f"u{0:02d}", 2000 + n_pre


def test_synthetic_control_warns_when_weights_not_identified_and_fit_exact():
    import time

    df, treated, start = _many_donors()
    t0 = time.perf_counter()
    with pytest.warns(StatisticalWarning) as caught:
        res = SyntheticControl(outcome="y", unit="unit", time="year", treated_unit=treated,
                               treatment_start=start,
                               inference=Placebo(progress=False)).fit(df)
    assert time.perf_counter() - t0 < 20  # 280 placebo fits (52 s before the support polish)
    text = " | ".join(str(w.message) for w in caught)
    assert "280 donors but only 3 pre-period values" in text and "not identified" in text
    assert "near-perfect" in text and "ratio divides by rounding error" in text
    assert "placebo units fit their pre-period near-perfectly" in text
    assert res.rmspe_pre < 1e-8 * res.glance()["rmspe_post"].iloc[0]
    # a treated unit outside the hull: no exact fit, no identification warning for it
    df, treated, start = _many_donors(n_donors=30, n_pre=12, inside=False, seed=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SyntheticControl(outcome="y", unit="unit", time="year", treated_unit=treated,
                         treatment_start=start).fit(df)
    assert not any("not identified" in str(w.message) or "near-perfect" in str(w.message)
                   for w in caught)


def test_synthetic_control_placebo_spec_samples_and_with_inference(prop99):
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989)
    full = SyntheticControl(**kw).fit(prop99)
    assert len(full.placebo_ratios) == 38 and full.seed is None
    with pytest.warns(StatisticalWarning, match="smallest attainable p-value is 1/11"):
        some = SyntheticControl(inference=Placebo(reps=10, seed=4), **kw).fit(prop99)
    assert len(some.placebo_ratios) == 10 and some.seed == 4
    assert set(some.placebo_ratios.index) <= set(full.placebo_ratios.index)
    # the same placebo units keep their ratios (each placebo fit depends only on its unit)
    pd.testing.assert_series_equal(some.placebo_ratios,
                                   full.placebo_ratios[some.placebo_ratios.index])
    with pytest.warns(StatisticalWarning, match="1/11"):
        again = full.with_inference(Placebo(reps=10, seed=4))
    pd.testing.assert_frame_equal(again.tidy(), some.tidy())
    none = full.with_inference(None)
    assert np.isnan(none.p_value) and none.att == full.att
    assert none.placebo_gaps.shape[0] == 0 and "inference=None" in str(none.summary())
    with pytest.raises(SpecificationError, match="takes Placebo"):
        full.with_inference(MultiplierBootstrap())


def test_deprecated_placebos_keyword_warns_and_still_works(prop99):
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989)
    with pytest.warns(FutureWarning, match=r"placebos=False.*inference=None"):
        est = SyntheticControl(placebos=False, **kw)
    assert est.inference is None
    with pytest.warns(FutureWarning, match="SyntheticControl.placebos is deprecated"):
        assert est.placebos is False
    res = est.fit(prop99)
    assert np.isnan(res.p_value) and res.placebo_gaps.shape[0] == 0
    with pytest.warns(FutureWarning, match=r"placebos=True.*inference=Placebo\(\)"):
        assert SyntheticControl(placebos=True, **kw).inference == Placebo()


def test_sdid_first_treated_is_the_same_design(prop99):
    df = prop99.assign(ft=np.where(prop99["state"].isin(["California", "Utah"]), 1989, 0),
                       d=((prop99["state"].isin(["California", "Utah"]))
                          & (prop99["year"] >= 1989)).astype(int))
    kw = dict(outcome="packs", unit="state", time="year", inference=None)
    a = SyntheticDiD(first_treated="ft", **kw).fit(df)
    b = SyntheticDiD(treatment="d", **kw).fit(df)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    # never treated coded as NaN or inf, and a cohort after the last period (a control)
    df2 = df.assign(ft=df["ft"].replace(0, np.nan))
    df2.loc[df2["state"] == "Texas", "ft"] = 2005
    with pytest.warns(StatisticalWarning, match="1 units first treated after the last period"):
        c = SyntheticDiD(first_treated="ft", **kw).fit(df2)
    assert c.att == pytest.approx(a.att, abs=1e-12) and c.n_control == 37
    stag = df.assign(ft=np.where(df["state"] == "Utah", 1990, df["ft"]))
    with pytest.raises(DataError, match="block design.*several cohorts.*StaggeredDiD"):
        SyntheticDiD(first_treated="ft", **kw).fit(stag)
    with pytest.raises(DataError, match="changes within"):
        SyntheticDiD(first_treated="ft", **kw).fit(
            df.assign(ft=np.where(df["year"] == 1970, 0, df["ft"])))
    with pytest.raises(SpecificationError, match="got treatment=, first_treated="):
        SyntheticDiD(outcome="packs", unit="state", time="year", treatment="d",
                     first_treated="ft")


def test_sdid_placebo_spec_edge_cases_are_clear_errors(prop99):
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989)
    with pytest.raises(SpecificationError, match=r"Placebo\(reps=1\) gives no SE"):
        SyntheticDiD(inference=Placebo(reps=1), **kw)
    with pytest.warns(FutureWarning), pytest.raises(SpecificationError, match="reps >= 2"):
        SyntheticDiD(reps=1, **kw)
    for bad in ("100", -1, 1.5, 10**8):
        with pytest.raises(SpecificationError, match="reps"):
            SyntheticDiD(inference=Placebo(reps=bad), **kw)
    for bad in (-1, "abc"):
        with pytest.raises(SpecificationError, match="seed"):
            SyntheticDiD(inference=Placebo(seed=bad), **kw)
    few = prop99[prop99["state"].isin(["California", "Utah", "Nevada", "Texas"])]
    with pytest.raises(DataError, match="more controls"):
        SyntheticDiD(outcome="packs", unit="state", time="year",
                     treated_unit=["California", "Utah"], treatment_start=1989).fit(few)
    with pytest.raises(SpecificationError, match="sample them instead"):
        SyntheticDiD(outcome="packs", unit="state", time="year",
                     treated_unit=["California", "Utah", "Texas"], treatment_start=1989,
                     inference=Placebo()).fit(prop99)


def test_sdid_every_placebo_assignment_and_with_inference(prop99):
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989)
    res = SyntheticDiD(inference=Placebo(), **kw).fit(prop99)
    assert res.placebo_estimates.size == 38 and res.seed is None  # each control once
    assert res.std_error == pytest.approx(np.std(res.placebo_estimates))
    # deterministic, and random draws are a sample of these assignments (each estimate
    # depends only on which control plays the treated unit)
    again = res.with_inference(Placebo())
    np.testing.assert_array_equal(again.placebo_estimates, res.placebo_estimates)
    drawn = res.with_inference(Placebo(reps=20, seed=3))
    gap = np.abs(drawn.placebo_estimates[:, None] - res.placebo_estimates[None, :]).min(axis=1)
    assert gap.max() < 1e-8 and drawn.seed == 3
    point = res.with_inference(None)
    assert point.att == res.att and np.isnan(point.std_error)
    assert point.glance()["vcov"].iloc[0] == "none"
    pd.testing.assert_frame_equal(point.with_inference(Placebo(reps=20, seed=3)).tidy(),
                                  drawn.tidy())
    with pytest.raises(SpecificationError, match="takes Placebo"):
        res.with_inference(MultiplierBootstrap())
    # two treated units: every pair of controls (C(6, 2) = 15 assignments)
    rng = np.random.default_rng(6)
    Y = rng.normal(size=(8, 9)).cumsum(axis=1)
    both = SyntheticDiD(outcome="y", unit="unit", time="year", treated_unit=["u06", "u07"],
                        treatment_start=2006, inference=Placebo())
    with pytest.warns(StatisticalWarning, match="only 6 control units"):
        assert both.fit(_long(Y)).placebo_estimates.size == 15


def test_deprecated_sdid_reps_and_seed_keywords_warn_and_still_work(prop99):
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989)
    with pytest.warns(FutureWarning, match=r"reps=20, seed=2.*Placebo\(reps=20, seed=2\)"):
        old = SyntheticDiD(reps=20, seed=2, **kw)
    assert old.inference == Placebo(reps=20, seed=2)
    with pytest.warns(FutureWarning, match="SyntheticDiD.reps is deprecated"):
        assert old.reps == 20
    with pytest.warns(FutureWarning, match="SyntheticDiD.seed is deprecated"):
        assert old.seed == 2
    with pytest.warns(FutureWarning, match="inference=None"):
        assert SyntheticDiD(reps=0, **kw).inference is None
    with pytest.raises(SpecificationError, match="pass inference= only"):
        SyntheticDiD(reps=20, inference=Placebo(), **kw)


def test_degenerate_synthetic_inputs_are_clear():
    rng = np.random.default_rng(0)
    flat = np.full((12, 8), 5.0)
    flat[-1, 5:] += 1.0
    with pytest.warns(StatisticalWarning, match="placebo estimates are all equal"):
        res = SyntheticDiD(outcome="y", unit="unit", time="year", treated_unit="u11",
                           treatment_start=2005, inference=Placebo(reps=10, seed=1)).fit(
            _long(flat))
    assert res.att == pytest.approx(1.0) and np.isnan(res.std_error)
    with pytest.warns(StatisticalWarning, match="near-perfect"):
        sc = SyntheticControl(outcome="y", unit="unit", time="year", treated_unit="u11",
                              treatment_start=2005).fit(_long(flat))
    assert sc.att == pytest.approx(1.0) and 0 < sc.p_value <= 1
    with pytest.raises(SpecificationError, match="outcome= must be one column name"):
        SyntheticDiD(outcome=["y"], unit="unit", time="year", treated_unit="u11",
                     treatment_start=2005).fit(_long(flat))
    huge = _long(rng.normal(size=(12, 8)) * 1e300)
    for est in (SyntheticDiD(outcome="y", unit="unit", time="year", treated_unit="u11",
                             treatment_start=2005),
                SyntheticControl(outcome="y", unit="unit", time="year", treated_unit="u11",
                                 treatment_start=2005)):
        with pytest.raises(DataError, match="overflow"):
            est.fit(huge)


@pytest.mark.parametrize("make", [
    lambda p: SyntheticControl(outcome="packs", unit="state", time="year",
                               treated_unit="California", treatment_start=1989,
                               inference=Placebo(progress=p)),
    lambda p: SyntheticDiD(outcome="packs", unit="state", time="year", treated_unit="California",
                           treatment_start=1989, inference=Placebo(reps=5, seed=1, progress=p)),
    lambda p: StaggeredDiD(outcome="packs", unit="state", time="year", first_treated="ft",
                           inference=MultiplierBootstrap(reps=50, seed=1, progress=p)),
])
def test_progress_bar_shows_on_long_runs_and_progress_false_silences_it(prop99, make, capsys,
                                                                       monkeypatch):
    from causalips import _progress

    monkeypatch.setattr(_progress, "DELAY", 0.0)  # as if the run took over two seconds
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = prop99.assign(ft=np.where(prop99["state"] == "California", 1989, 0))
        make(True).fit(data)
        shown = capsys.readouterr().err
        make(False).fit(data)
        silent = capsys.readouterr().err
    assert ("placebos" in shown or "bootstrap" in shown) and "%" in shown
    assert silent == ""


@pytest.mark.parametrize("module", ["synthetic_control", "synthetic_did"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    import causalips

    mod = importlib.import_module(f"causalips.did.{module}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failures, tried = doctest.testmod(mod, extraglobs={"ci": causalips},
                                          optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
