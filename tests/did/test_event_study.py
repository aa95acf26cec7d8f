import warnings

import numpy as np
import pandas as pd
import pytest
from _did_helpers import person_panel

from causalips.did import EventStudy
from causalips.errors import DroppedRowsWarning, SpecificationError
from causalips.inference import Randomization, WildBootstrap


def fit_quiet(est, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(df)


def staggered(seed=0, noise=1.0):
    """Three cohorts (3, 5, never) with cohort-specific dynamic effects."""
    rng = np.random.default_rng(seed)
    n, periods = 300, 9
    df = pd.DataFrame({"id": np.repeat(np.arange(n), periods),
                       "t": np.tile(np.arange(periods), n)})
    df["m"] = df["id"] // 10
    cohort = np.where(df["m"] % 3 == 0, 3.0, np.where(df["m"] % 3 == 1, 5.0, np.nan))
    df["ft"] = cohort
    e = df["t"] - df["ft"]
    tau = np.where(e >= 0, np.where(df["ft"] == 3, 1.0 + e, 4.0 * (1 + e)), 0.0)
    df["y"] = (0.2 * df["id"] + 0.5 * df["t"] + np.nan_to_num(tau)
               + noise * rng.normal(size=len(df)))
    df["tau"] = np.nan_to_num(tau)
    return df


def test_sun_abraham_recovers_cohort_weighted_effects_exactly_without_noise():
    df = staggered(noise=0.0)
    sa = fit_quiet(EventStudy(outcome="y", unit="id", time="t", first_treated="ft", cluster="m",
                              method="sun_abraham"), df)
    tw = fit_quiet(EventStudy(outcome="y", unit="id", time="t", first_treated="ft", cluster="m",
                              method="twfe"), df)
    d = df[df["ft"].notna()].assign(e=lambda x: x["t"] - x["ft"])
    truth = d.groupby("e")["tau"].mean()
    for tab, exact in ((sa.tidy(), True), (tw.tidy(), False)):
        rows = tab[tab["event_time"].notna()].set_index("event_time")["estimate"]
        err = np.max(np.abs(rows.to_numpy() - truth.loc[rows.index].to_numpy()))
        if exact:
            assert err < 1e-8
        else:  # TWFE mixes cohorts: contaminated under heterogeneous dynamic effects
            assert err > 0.1


def test_sun_abraham_single_cohort_equals_twfe():
    df = person_panel(seed=12)
    a = fit_quiet(EventStudy(outcome="y", unit="id", time="t", first_treated="ft", cluster="m",
                             method="sun_abraham"), df)
    b = fit_quiet(EventStudy(outcome="y", unit="id", time="t", first_treated="ft", cluster="m"),
                  df)
    np.testing.assert_allclose(a.tidy()["estimate"], b.tidy()["estimate"], atol=1e-10)
    np.testing.assert_allclose(a.tidy()["std_error"], b.tidy()["std_error"], rtol=1e-8)


def test_no_binning_drops_rows_outside_window():
    df = person_panel(seed=13)
    with pytest.warns(DroppedRowsWarning, match="outside the window"):
        res = EventStudy(outcome="y", unit="id", time="t", first_treated="ft", cluster="m",
                         window=(-2, 1), bin_endpoints=False).fit(df)
    assert res.tidy()["event_time"].dropna().tolist() == [-2, -1, 0, 1]
    assert res.n_obs < len(df)


def test_wild_bootstrap_per_event_time_and_plot():
    df = person_panel(seed=14, n_clusters=11, treated_clusters=2)
    res = fit_quiet(EventStudy(outcome="y", unit="id", time="t", first_treated="ft",
                               cluster="m", window=(-3, 3)), df)
    boot = res.with_inference(WildBootstrap(reps=499, seed=3))
    tab = boot.tidy()
    est_rows = tab[tab["std_error"].notna() & tab["event_time"].notna()]
    assert est_rows["inference"].str.startswith("wild cluster bootstrap").all()
    assert set(boot.details) == set(est_rows["term"])
    ax = res.plot()
    assert len(ax.collections) >= 1 and len(ax.lines) >= 1
    sa = fit_quiet(EventStudy(outcome="y", unit="id", time="t", first_treated="ft",
                              cluster="m", window=(-3, 3), method="sun_abraham"), df)
    with pytest.raises(SpecificationError, match="not available for Sun-Abraham"):
        sa.with_inference(Randomization())


def test_plan_errors():
    kw = dict(outcome="y", unit="id", time="t", first_treated="ft")
    with pytest.raises(SpecificationError, match="first <= reference"):
        EventStudy(**kw, window=(0, 3))
    with pytest.raises(SpecificationError, match="method must be one of"):
        EventStudy(**kw, method="sunab")
    with pytest.raises(SpecificationError, match="integer event time"):
        EventStudy(**kw, reference=-1.5)
    with pytest.raises(SpecificationError, match="not available for Sun-Abraham"):
        EventStudy(**kw, method="sun_abraham", inference=WildBootstrap())
