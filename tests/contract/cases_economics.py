"""Contract cases for the economic evaluation estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalips import Bootstrap
from causalips.datasets.danish_trial import load_danish_trial
from causalips.economics import (
    Benefit,
    CostEffectiveness,
    Gamma,
    ParametricSurvival,
    ReturnOnInvestment,
)


def _tenure():
    rng = np.random.default_rng(3)
    t = rng.weibull(1.2, 200) * 10.0
    c = rng.uniform(3, 24, 200)
    return pd.DataFrame({"months": np.minimum(t, c), "ended": (t <= c).astype(int)})


def _sites():
    return pd.DataFrame({"site": ["A", "B"], "fte": [2.0, 1.5], "people": [80, 55],
                         "jobs": [35, 20]})


CASES = [
    ("CostEffectiveness", lambda: CostEffectiveness(
        group="arm", cost="cost_eur", effect="qaly_gain", reference="usual services",
        wtp=[20000, 35000], inference=Bootstrap(reps=200, seed=1)),
     load_danish_trial),
    ("CostEffectiveness-adjusted", lambda: CostEffectiveness(
        group="arm", cost="cost_eur", effect="qaly_gain", reference="usual services",
        wtp=[35000], inference=Bootstrap(reps=100, seed=1),
        covariates=["age", "prior_admission"],
        adjustment="glm"), load_danish_trial),
    ("ParametricSurvival", lambda: ParametricSurvival(
        duration="months", event="ended", distributions=["exponential", "weibull", "gompertz"],
        horizon=60, inference=Bootstrap(reps=100, seed=1)), _tenure),
    ("ReturnOnInvestment", lambda: ReturnOnInvestment(
        site="site", fte="fte", people="people", job_outcomes="jobs",
        cost_per_fte=Gamma(75000, 7500),
        benefits=[Benefit("savings per job", value=Gamma(6000, 1500), per="job_outcome")],
        inference=Bootstrap(reps=500, seed=1)), _sites),
]
