"""Synthetic control and synthetic DiD: published values, exact recovery, invariants, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causalips.did.synthetic import (
    SyntheticControl,
    SyntheticDiD,
    _sdid_weights,
    sdid_estimate,
    simplex_least_squares,
)
from causalips.errors import (
    ColumnNotFoundError,
    DataError,
    SpecificationError,
    StatisticalWarning,
)

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
                       treatment_start=1989, reps=100, seed=1).fit(prop99)
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
                       treatment_start=2000 + t0, reps=0).fit(_long(Y))
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
                       treatment_start=2000 + t0, reps=0).fit(_long(Y))
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
    om, _ = _sdid_weights(Y, 12, 8, np.sqrt(zeta2), 1e-6, 1e-12,
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
                         treatment_start=2000 + t0, reps=reps, seed=1).fit(_long(Y))
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
    a = SyntheticDiD(outcome="packs", unit="state", time="year", treatment="d", reps=20,
                     seed=2).fit(df)
    b = SyntheticDiD(outcome="packs", unit="state", time="year",
                     treated_unit=["California", "Utah"], treatment_start=1989, reps=20,
                     seed=2).fit(df)
    assert a.att == pytest.approx(b.att, abs=1e-12)
    assert a.std_error == pytest.approx(b.std_error, abs=1e-12)
    assert a.n_treated == 2


def test_sdid_reproducible_with_seed(prop99):
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989, reps=30)
    a = SyntheticDiD(seed=5, **kw).fit(prop99)
    b = SyntheticDiD(seed=5, **kw).fit(prop99)
    assert a.std_error == b.std_error
    c = SyntheticDiD(**kw).fit(prop99)
    d = SyntheticDiD(seed=int(c.glance()["seed"].iloc[0]), **kw).fit(prop99)
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
    with pytest.warns(StatisticalWarning, match="smallest attainable p-value is 1/13"):
        res = SyntheticControl(outcome="y", unit="unit", time="year", treated_unit="u12",
                               treatment_start=2000 + t0).fit(_long(Y))
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
                      treatment_start=1989, reps=20, seed=1).fit(prop99)
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
    with pytest.raises(SpecificationError, match="exactly one of treated_unit"):
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
                           treatment_start=1989, placebos=False).fit(prop99)
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
