"""Synthetic Swiss placement-budget trial: generator, bundled file, replication case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips.datasets import load_swiss_trial, simulate_swiss_trial
from causalips.datasets.swiss_trial import BUNDLED_SEED, SHARES_36
from causalips.survival.cox import Cox
from causalips.survival.kaplan_meier import KaplanMeier


def test_bundled_file_is_the_documented_seed_and_labelled_synthetic():
    bundled = load_swiss_trial()
    again = simulate_swiss_trial(seed=BUNDLED_SEED)
    assert bundled.attrs["synthetic"] is True and "SYNTHETIC" in bundled.attrs["description"]
    assert bundled.shape == (116, 7)
    pd.testing.assert_series_equal(bundled["months"], again["months"])
    assert bundled["budget"].value_counts().sort_index().tolist() == [39, 39, 38]
    assert bundled["months"].between(0, 36).all()


def test_generator_is_seeded():
    a, b = simulate_swiss_trial(seed=5), simulate_swiss_trial(seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a["months"].equals(simulate_swiss_trial(seed=6)["months"])


def test_generator_calibration_in_large_samples():
    """With many people the KM shares at 36 months are the published ones (model truth)."""
    df = simulate_swiss_trial(seed=11, n=30_000)
    km = KaplanMeier(duration="months", event="employed", group="budget").fit(df)
    at36 = km.at([36.0]).set_index("group")
    for arm, share in SHARES_36.items():
        se = at36.loc[arm, "std_error"]
        assert abs(1 - at36.loc[arm, "estimate"] - share) < 4 * se
    jobs = df["employed"] == 1
    assert abs((df.loc[jobs, "months"] <= 12).mean() - 0.804) < 0.015
    res = Cox(duration="months", event="employed", covariates=["budget"],
              reference={"budget": "40h"}, concordance=False).fit(df)
    hr = float(np.exp(res.coef["budget[25h]"]))
    assert 1.55 < hr < 1.85  # PH model implied by the shares: log(.449)/log(.622) = 1.69


def test_replication_case_runs_and_is_honest():
    from causalips.replication import cases, replicate

    assert "swiss_trial" in cases() and cases()["swiss_trial"].in_demo
    res = replicate("swiss_trial")
    table = res.table()
    assert "SYNTHETIC" in res.data_note
    hr = table[table["quantity"] == "hazard ratio 25h vs 40h"].iloc[0]
    assert hr["published"] == "1.78 (0.88-3.57)"
    assert float(hr["reproduced"].split()[0]) == pytest.approx(1.78, abs=0.25)
    assert len(res.sections) == 2 and res.sections[0].figures
