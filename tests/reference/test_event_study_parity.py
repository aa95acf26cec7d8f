"""TWFE event study with binned endpoints against pyfixest (live)."""

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf  # in the test extra: parity must run in CI, never skip
import pytest
from _did_helpers import person_panel

from causalips.did import EventStudy


def fit_quiet(est, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(df)


def pyfixest_event_study(df, time, window, reference, fixed_effects, cluster):
    """pyfixest on hand-made binned event-time dummies (the reference left out)."""
    e = (df[time] - df["ft"]).clip(*window)
    names = []
    for k in range(window[0], window[1] + 1):
        if k == reference:
            continue
        col = f"e{k + 10}"
        df[col] = ((e == k) & df["ft"].notna()).astype(float)
        names.append(col)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(f"y ~ {' + '.join(names)} | {fixed_effects}", data=df,
                        vcov={"CRV1": cluster}, fixef_tol=1e-13)


def test_twfe_event_study_matches_pyfixest_with_binned_endpoints():
    df = person_panel(seed=11, n_clusters=20, treated_clusters=6)
    res = fit_quiet(EventStudy(outcome="y", unit="id", time="t", first_treated="ft", cluster="m",
                               window=(-3, 2)), df)
    ref = pyfixest_event_study(df, "t", (-3, 2), -1, "id + t", "m")
    tab = res.tidy()
    coefs = tab[tab["term"].str.startswith("event_time::") & tab["std_error"].notna()]
    assert coefs["event_time"].tolist() == [-3, -2, 0, 1, 2]
    np.testing.assert_allclose(coefs["estimate"], ref.coef(), atol=1e-8)
    np.testing.assert_allclose(coefs["std_error"], ref.se(), rtol=1e-6)
    ref_row = tab[tab["event_time"] == -1].iloc[0]
    assert ref_row["estimate"] == 0 and np.isnan(ref_row["std_error"])
    # joint pre-trend Wald test recomputed from the covariance
    vc = res.vcov_matrix().loc[["event_time::-3", "event_time::-2"],
                               ["event_time::-3", "event_time::-2"]].to_numpy()
    b = coefs["estimate"].to_numpy()[:2]
    assert res.pretrend["statistic"] == pytest.approx(b @ np.linalg.solve(vc, b) / 2, rel=1e-10)
    assert res.pretrend["df1"] == 2 and res.pretrend["df2"] == 19
    post = tab[tab["term"] == "post_average"].iloc[0]
    assert post["estimate"] == pytest.approx(coefs["estimate"].to_numpy()[2:].mean())


def test_event_study_on_repeated_cross_sections_matches_pyfixest():
    rng = np.random.default_rng(12)
    cell = rng.integers(0, 25 * 7, 5000)
    df = pd.DataFrame({"m": cell // 7, "t": cell % 7})
    df["ft"] = np.where(df["m"] < 6, 3.0, np.where(df["m"] < 10, 4.0, np.nan))
    df["y"] = 0.3 * df["m"] + 0.1 * df["t"] + rng.normal(size=len(df)) + np.where(
        df["t"] >= df["ft"], 1.0, 0.0)
    res = fit_quiet(EventStudy(outcome="y", unit="m", time="t", first_treated="ft",
                               window=(-2, 2), panel=False), df)
    ref = pyfixest_event_study(df, "t", (-2, 2), -1, "m + t", "m")
    tab = res.tidy()
    coefs = tab[tab["term"].str.startswith("event_time::") & tab["std_error"].notna()]
    np.testing.assert_allclose(coefs["estimate"], ref.coef(), atol=1e-8)
    np.testing.assert_allclose(coefs["std_error"], ref.se(), rtol=1e-6)
