"""Coverage of the Aalen–Johansen cumulative incidence and the Fine–Gray coefficient intervals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _coverage_check import CoverageChecks, covers, replications

from causalips import CumulativeIncidence, FineGray
from causalips.errors import StatisticalWarning
from causalips.survival.finegray import ExpandedRowRobust


@pytest.mark.slow
def test_aalen_johansen_cumulative_incidence_at_a_horizon():
    """n = 500, constant cause-specific hazards 0.06 (job, code 1) and 0.04 (discharge, 2),
    C ~ U(0, 30): F_k(t) = (h_k / 0.1)(1 - exp(-0.1 t)), so F_1(10) = 0.379, F_2(10) = 0.253."""
    reps, n, horizon = replications(2000), 500, 10.0
    hazards = np.array([0.06, 0.04])
    truth = hazards / hazards.sum() * (1 - np.exp(-hazards.sum() * horizon))
    rng = np.random.default_rng(20261208)
    est = CumulativeIncidence(duration="time", event="route", causes={1: "job", 2: "discharged"})
    hits = np.empty((reps, 2), dtype=bool)
    for r in range(reps):
        t = rng.exponential(1 / hazards.sum(), n)
        cause = np.where(rng.uniform(size=n) < hazards[0] / hazards.sum(), 1, 2)
        c = rng.uniform(0, 30, n)
        df = pd.DataFrame({"time": np.minimum(t, c), "route": np.where(t <= c, cause, 0)})
        at = est.fit(df).at(horizon).set_index("state")
        hits[r] = covers(at.loc[["job", "discharged"], "conf_low"],
                         at.loc[["job", "discharged"], "conf_high"], truth)
    with CoverageChecks() as check:
        for k, state in enumerate(("job", "discharged")):
            check.nominal(f"Aalen-Johansen n=500: F_{state}(10) = {truth[k]:.3f}",
                          "log CI (delta method)", hits[:, k])


def _fine_gray_mixture(rng, n: int, beta: np.ndarray, p: float) -> pd.DataFrame:
    """Fine & Gray (1999) design: F_1(t | z) = 1 - (1 - p (1 - exp(-t)))^exp(z'beta), a
    proportional subdistribution hazard with coefficients beta; cause 2 takes the rest of the
    probability, with exponential times of rate exp(z'(0.5, 0.5)). C ~ U(0, 3)."""
    z = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n)])
    scale = np.exp(z @ beta)
    f1_max = 1 - (1 - p) ** scale  # P(cause 1 | z)
    first = rng.uniform(size=n) < f1_max
    u = rng.uniform(size=n)  # cause-1 time: invert F_1(t | z) / F_1(inf | z) at u
    t1 = -np.log(1 - (1 - (1 - u * f1_max) ** (1 / scale)) / p)
    t2 = rng.exponential(1 / np.exp(z @ np.array([0.5, 0.5])))
    t = np.where(first, t1, t2)
    c = rng.uniform(0, 3, n)
    return pd.DataFrame({"time": np.minimum(t, c), "event": np.where(t <= c, 2 - first, 0),
                         "z1": z[:, 0], "z2": z[:, 1]})


@pytest.mark.slow
def test_fine_gray_per_person_robust_default():
    """n = 500 from the Fine & Gray (1999) mixture with p = 0.4, beta = (0.5, -0.5): the
    subdistribution coefficients are beta exactly. The default Robust() (per-person sandwich)
    should cover; R's expanded-row sandwich is the documented short control (92.7-93.0% in the
    issue-13 study)."""
    reps, n = replications(2000), 500
    beta = np.array([0.5, -0.5])
    rng = np.random.default_rng(20261209)
    est = FineGray(duration="time", event="event", cause=1, covariates=["z1", "z2"])
    hits = np.empty((reps, 2, 2), dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        for r in range(reps):
            fit = est.fit(_fine_gray_mixture(rng, n, beta, 0.4))
            for k, res in enumerate((fit, fit.with_inference(ExpandedRowRobust()))):
                t = res.tidy()
                hits[r, k] = covers(t["conf_low"], t["conf_high"], beta)
    with CoverageChecks() as check:
        for j, term in enumerate(("z1", "z2")):
            design = f"Fine-Gray n=500, FG 1999 mixture: {term} = {beta[j]:g}"
            check.nominal(design, "Robust() (per person, default)", hits[:, 0, j])
            check.under(design, "ExpandedRowRobust() (R's default)", hits[:, 1, j],
                        why="each expanded row its own cluster (docs/competing_risks.md)")
