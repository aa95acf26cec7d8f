"""Contract cases for the Cox model."""

import numpy as np
import pandas as pd

from causalips.inference import Cluster
from causalips.survival.cox import Cox


def _data():
    rng = np.random.default_rng(3)
    n = 80
    arm = rng.choice(["25h", "40h", "55h"], n)
    x = rng.normal(size=n)
    t = np.ceil(rng.exponential(10 / np.exp(0.5 * (arm == "25h") + 0.3 * x)))
    c = rng.integers(5, 40, n)
    return pd.DataFrame({"months": np.minimum(t, c), "job": (t <= c).astype(int), "budget": arm,
                         "x": x, "site": rng.integers(0, 25, n), "w": rng.uniform(0.5, 2, n)})


CASES = [
    ("cox_efron", lambda: Cox(duration="months", event="job", covariates=["budget", "x"],
                              reference={"budget": "40h"}), _data),
    ("cox_breslow_cluster", lambda: Cox(duration="months", event="job", covariates=["budget"],
                                        ties="breslow", vcov=Cluster("site")), _data),
    ("cox_weights_cluster_cr1", lambda: Cox(duration="months", event="job", covariates=["budget", "x"],
                                            weights="w",
                                            vcov=Cluster("site", correction="CR1")), _data),
]
