"""cox.zph parity: R survival 3.5-3 score test with the full information matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips.errors import SpecificationError
from causalips.survival.cox import Cox

MAYO = ["age", "edema", "log(bili)", "log(albumin)", "log(protime)"]
CATEGORICAL = ["trt", "stage", "sex"]


@pytest.fixture(scope="module")
def pbc(reference_data):
    df = reference_data.csv("survival/pbc.csv").iloc[:312].copy()
    df["dead"] = (df["status"] == 2).astype(int)
    return df


def _fit(pbc, covariates, ties):
    return Cox(duration="time", event="dead", covariates=covariates, ties=ties,
               categorical=["trt", "stage"] if "stage" in covariates else (),
               reference={"sex": "m"} if "sex" in covariates else None).fit(pbc)


def test_zph_bad_transform(pbc):
    res = _fit(pbc, MAYO, "efron")
    with pytest.raises(SpecificationError, match="transform must be one of"):
        res.check_proportional_hazards(transform="log-log")
    with pytest.raises(SpecificationError, match="term must be one of"):
        res.plot_proportional_hazards("bili")


def test_zph_detects_non_proportional_hazards():
    """Crossing hazards (effect reverses half-way) must be flagged; PH data must not be."""
    rng = np.random.default_rng(11)
    n = 3000
    arm = rng.integers(0, 2, n)
    # arm 1: hazard 3x before t=1, 1/3 after (piecewise exponential)
    e1 = rng.exponential(1, n)
    h_early = np.where(arm == 1, 3.0, 1.0)
    h_late = np.where(arm == 1, 1 / 3, 1.0)
    t = np.where(e1 < h_early * 1.0, e1 / h_early, 1.0 + (e1 - h_early) / h_late)
    c = rng.uniform(0, 4, n)
    df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "arm": arm})
    res = Cox(duration="t", event="e", covariates=["arm"]).fit(df)
    assert res.check_proportional_hazards()["p_value"].iloc[0] < 1e-6
    t_ph = rng.exponential(1 / np.where(arm == 1, 2.0, 1.0))
    df_ph = pd.DataFrame({"t": np.minimum(t_ph, c), "e": (t_ph <= c).astype(int), "arm": arm})
    res_ph = Cox(duration="t", event="e", covariates=["arm"]).fit(df_ph)
    assert res_ph.check_proportional_hazards()["p_value"].iloc[0] > 0.001
