"""Wild cluster bootstrap against wildboottest under full enumeration."""

import warnings

import numpy as np
import pandas as pd
from _did_helpers import person_panel

from causalips.did import DiD
from causalips.inference import WildBootstrap


def quiet(est, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(df)


def test_wild_bootstrap_matches_wildboottest_under_full_enumeration():
    import statsmodels.api as sm
    import wildboottest.wildboottest as wbt

    df = person_panel(seed=21, n_clusters=11, treated_clusters=2, people=15, periods=6,
                      start=3)
    x = pd.concat([df[["d", "x1"]], pd.get_dummies(df["m"], prefix="m", dtype=float)], axis=1)
    res = quiet(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m",
                    fixed_effects=("cluster",), covariates=["x1"]), df)
    for restricted in (True, False):
        ref = wbt.wildboottest(sm.OLS(df["y"], x), B=9999, cluster=df["m"].to_numpy(),
                               param="d", impose_null=restricted, seed=1, show=False)
        out = res.with_inference(WildBootstrap(restricted=restricted)).details["att"]
        assert out.enumerated and out.reps == 2**11
        # the ssc factors cancel in the ratio t*/t. We count ties (|t*| = |t|, the draws
        # v = +-1 under the null) as extreme; wildboottest compares with '<' so whether it counts
        # them depends on rounding noise: its p is one of the two counts.
        t_obs = out.statistic
        p_strict = np.mean(np.abs(out.t_draws) > abs(t_obs) * (1 + 1e-12))
        theirs = float(ref["p-value"].iloc[0])
        assert min(abs(theirs - p_strict), abs(theirs - out.p_value)) < 1e-12
