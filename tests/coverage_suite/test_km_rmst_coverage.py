"""Coverage of the Kaplan–Meier and RMST-difference intervals (truths in closed form)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _coverage_check import CoverageChecks, covers, replications

from causalips import RMST, KaplanMeier

RATE = 0.1  # exponential event times, mean 10 (e.g. months to a job start)
CENSOR_MAX = 30.0  # uniform administrative censoring on (0, 30)


def _exponential_spells(rng, rates: np.ndarray) -> pd.DataFrame:
    t = rng.exponential(1 / rates)
    c = rng.uniform(0, CENSOR_MAX, rates.size)
    return pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int)})


@pytest.mark.slow
def test_kaplan_meier_log_interval_at_two_horizons():
    """n = 500, T ~ Exp(0.1), C ~ U(0, 30): S(5) = exp(-0.5) = 0.607 (about 250 at risk) and
    S(15) = exp(-1.5) = 0.223 (about 55 at risk), R's default log-transformed Greenwood CI."""
    reps, n, horizons = replications(2000), 500, np.array([5.0, 15.0])
    truth = np.exp(-RATE * horizons)
    rng = np.random.default_rng(20261201)
    est = KaplanMeier(duration="time", event="event", ci_method="log")
    hits = np.empty((reps, horizons.size), dtype=bool)
    for r in range(reps):
        at = est.fit(_exponential_spells(rng, np.full(n, RATE))).at(horizons)
        hits[r] = covers(at["conf_low"], at["conf_high"], truth)
    with CoverageChecks() as check:
        for k, h in enumerate(horizons):
            check.nominal(f"KM n=500: S({h:g}) = {truth[k]:.3f}", "log CI (Greenwood)",
                          hits[:, k])


@pytest.mark.slow
def test_rmst_difference_between_two_arms():
    """Two arms of 250, Exp(0.1) (reference) and Exp(0.07), C ~ U(0, 30), tau = 12:
    RMST = (1 - exp(-rate tau)) / rate, so the difference is 8.118 - 6.988 = 1.131."""
    reps, n, tau = replications(2000), 250, 12.0
    rates = np.repeat([RATE, 0.07], n)
    arm = np.repeat(["usual", "ips"], n)
    rmst = (1 - np.exp(-np.array([RATE, 0.07]) * tau)) / np.array([RATE, 0.07])
    truth = rmst[1] - rmst[0]
    rng = np.random.default_rng(20261202)
    est = RMST(duration="time", event="event", tau=tau, group="arm", reference="usual")
    hits = np.empty(reps, dtype=bool)
    for r in range(reps):
        tidy = est.fit(_exponential_spells(rng, rates).assign(arm=arm)).tidy()
        row = tidy[tidy["term"] == "rmst_difference"].iloc[0]
        hits[r] = covers(row["conf_low"], row["conf_high"], truth)
    with CoverageChecks() as check:
        check.nominal(f"RMST difference 2x250, tau=12: {truth:.3f}", "Wald CI (KM-based SE)",
                      hits)
