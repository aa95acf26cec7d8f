"""Simulation checks: intervals cover the truth about as often as they claim."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips import Bootstrap
from causalips.economics import CostEffectiveness, ParametricSurvival


def _ce_coverage(n_sims, seed):
    rng = np.random.default_rng(seed)
    n, true_dc, true_de = 150, -400.0, 0.05
    hits_c = hits_nb = 0
    for s in range(n_sims):  # simulations (not bootstrap draws)
        arm = np.repeat(["usual", "ips"], n)
        cost = rng.gamma(2.0, 1000.0, 2 * n) + np.where(arm == "ips", 1000 + true_dc, 1000)
        eff = rng.normal(0.1, 0.2, 2 * n) + np.where(arm == "ips", true_de, 0)
        df = pd.DataFrame({"arm": arm, "cost": cost, "effect": eff})
        t = CostEffectiveness(group="arm", cost="cost", effect="effect", reference="usual",
                              wtp=[10000.0],
                              inference=Bootstrap(reps=400, seed=s)).fit(df).tidy()
        c = t[t["term"] == "incremental_cost"].iloc[0]
        nb = t[t["term"] == "net_benefit"].iloc[0]
        hits_c += c["conf_low"] <= true_dc <= c["conf_high"]
        hits_nb += nb["conf_low"] <= 10000 * true_de - true_dc <= nb["conf_high"]
    return hits_c / n_sims, hits_nb / n_sims


def test_bootstrap_interval_coverage_fast():
    n_sims = 200
    cov_c, cov_nb = _ce_coverage(n_sims, 1)
    mc = 3 * np.sqrt(0.95 * 0.05 / n_sims)  # 3 Monte Carlo SEs (~4.6 points)
    assert abs(cov_c - 0.95) < mc + 0.01  # percentile bootstrap: small known under-coverage
    assert abs(cov_nb - 0.95) < mc + 0.01


@pytest.mark.slow
def test_bootstrap_interval_coverage_slow():
    n_sims = 1500
    cov_c, cov_nb = _ce_coverage(n_sims, 2)
    mc = 3 * np.sqrt(0.95 * 0.05 / n_sims)
    assert abs(cov_c - 0.95) < mc + 0.01
    assert abs(cov_nb - 0.95) < mc + 0.01


def test_extrapolation_interval_coverage_exponential():
    rng = np.random.default_rng(3)
    scale, horizon, n_sims = 12.0, 36.0, 100
    truth = scale * (1 - np.exp(-horizon / scale))
    hits = 0
    for s in range(n_sims):
        t = rng.exponential(scale, 200)
        c = rng.uniform(6, 24, 200)
        df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int)})
        row = ParametricSurvival(duration="t", event="e", distributions=["exponential"],
                                 horizon=horizon,
                                 inference=Bootstrap(reps=400, seed=s)).fit(df).tidy()
        row = row[row["term"] == "restricted_mean"].iloc[0]
        hits += row["conf_low"] <= truth <= row["conf_high"]
    cov = hits / n_sims
    assert abs(cov - 0.95) < 3 * np.sqrt(0.95 * 0.05 / n_sims) + 0.01
