"""Coverage of difference-in-differences intervals: TWFE with CR1, Callaway–Sant'Anna.

People live in municipalities (the clusters); every municipality-year has a shock shared by its
people, autocorrelated over years (AR(1), rho = 0.5), so the errors are correlated within a
municipality both across people and across years, the case cluster-robust SEs exist for.
Parallel trends hold by construction, so the estimands are the built-in effects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _coverage_check import CoverageChecks, covers, replications

from causalips import DiD, MultiplierBootstrap, StaggeredDiD

FIRST_YEAR, N_YEARS = 2015, 6


def _people_in_municipalities(rng, first_by_municipality: np.ndarray, per: int,
                              effect_by_exposure) -> pd.DataFrame:
    """A balanced person-year panel; ``first_by_municipality`` holds adoption years (0 never)."""
    n_m = first_by_municipality.size
    years = FIRST_YEAR + np.arange(N_YEARS)
    shock = np.empty((n_m, N_YEARS))
    shock[:, 0] = rng.normal(size=n_m)
    for k in range(1, N_YEARS):  # AR(1) over the 6 years (a loop over years, not rows)
        shock[:, k] = 0.5 * shock[:, k - 1] + np.sqrt(1 - 0.25) * rng.normal(size=n_m)
    m = np.repeat(np.arange(n_m), per * N_YEARS)
    person = np.repeat(np.arange(n_m * per), N_YEARS)
    year = np.tile(years, n_m * per)
    first = first_by_municipality[m]
    exposure = np.where((first > 0) & (year >= first), year - first, -1)
    y = (rng.normal(0, 2, n_m * per)[person] + 0.4 * (year - FIRST_YEAR)
         + shock[m, year - FIRST_YEAR] + effect_by_exposure(first, exposure)
         + rng.normal(0, 2, m.size))
    return pd.DataFrame({"workdays": y, "person": person, "year": year, "municipality": m,
                         "first_treated": first})


@pytest.mark.slow
def test_twfe_cr1_with_50_municipalities_half_treated():
    """50 municipalities x 20 people x 6 years; 25 (drawn at random) adopt in 2018 with a
    constant effect of 1 workday. DiD's default CR1 interval with t(49)."""
    reps, n_m, effect = replications(2000), 50, 1.0
    rng = np.random.default_rng(20261210)
    est = DiD(outcome="workdays", unit="person", time="year", first_treated="first_treated",
              cluster="municipality")
    hits = np.empty(reps, dtype=bool)
    for r in range(reps):
        first = np.where(rng.permutation(n_m) < n_m // 2, 2018, 0)
        df = _people_in_municipalities(rng, first, 20,
                                       lambda f, e: np.where(e >= 0, effect, 0.0))
        row = est.fit(df).tidy().query("term == 'att'").iloc[0]
        hits[r] = covers(row["conf_low"], row["conf_high"], effect)
    with CoverageChecks() as check:
        check.nominal("DiD TWFE 50 municipalities (25 treated) x 20 x 6: att = 1",
                      "Cluster(CR1), t(49) (default)", hits)


#: Callaway–Sant'Anna design: adoption cohorts, their probabilities and effects by exposure e.
COHORTS = np.array([2017, 2019])
COHORT_PROB = np.array([0.3, 0.3])  # and 0.4 never treated
EFFECT_START, EFFECT_GROWTH = np.array([1.0, 2.0]), np.array([0.5, 0.25])


def _cs_simple_truth() -> float:
    """The simple aggregation: post-period ATT(g,t) averaged with weights P(G = g)."""
    last = FIRST_YEAR + N_YEARS - 1
    num = den = 0.0
    for g, p, a, b in zip(COHORTS, COHORT_PROB, EFFECT_START, EFFECT_GROWTH):
        e = np.arange(last - g + 1)
        num += p * (a + b * e).sum()
        den += p * e.size
    return num / den


def _cs_effect(first, exposure):
    k = np.searchsorted(COHORTS, first).clip(0, COHORTS.size - 1)
    return np.where(exposure >= 0, EFFECT_START[k] + EFFECT_GROWTH[k] * exposure, 0.0)


@pytest.mark.slow
def test_callaway_santanna_simple_att_clustered():
    """60 municipalities x 10 people x 6 years; each municipality adopts in 2017 or 2019 (p =
    0.3 each) or never (0.4), drawn per replication; the effect grows with exposure e
    (1 + 0.5 e for 2017, 2 + 0.25 e for 2019), so the simple ATT is 11.25 / 6 = 1.875.
    Influence functions are summed within municipalities (analytic SE) and the multipliers
    are drawn per municipality (bootstrap SE, 999 draws)."""
    reps, n_m = replications(2000), 60
    truth = _cs_simple_truth()
    rng = np.random.default_rng(20261211)
    hits = np.empty((reps, 2), dtype=bool)
    for r in range(reps):
        cohort = rng.choice(3, size=n_m, p=[*COHORT_PROB, 1 - COHORT_PROB.sum()])
        first = np.append(COHORTS, 0)[cohort]
        df = _people_in_municipalities(rng, first, 10, _cs_effect)
        res = StaggeredDiD(outcome="workdays", unit="person", time="year",
                           first_treated="first_treated", cluster="municipality",
                           inference=MultiplierBootstrap(reps=999, seed=r, progress=False)
                           ).fit(df)
        o = res.aggregate("simple").overall
        hits[r] = [covers(o["conf_low"], o["conf_high"], truth),
                   covers(o["conf_low_band"], o["conf_high_band"], truth)]
    design = f"Callaway-Sant'Anna 60 municipalities x 10 x 6: simple ATT = {truth:g}"
    with CoverageChecks() as check:
        check.nominal(design, "analytic SE (clustered IF)", hits[:, 0])
        check.nominal(design, "MultiplierBootstrap SE (by cluster)", hits[:, 1])
