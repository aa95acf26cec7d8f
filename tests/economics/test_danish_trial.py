"""The synthetic Danish trial and its replication case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips.datasets.danish_trial import (
    cost_sd_for_probability,
    load_danish_trial,
    simulate_danish_trial,
)


def test_bundled_file_is_the_seeded_simulation():
    pd.testing.assert_frame_equal(load_danish_trial(), simulate_danish_trial(2021),
                                  check_exact=False, rtol=1e-12)


def test_calibrated_to_published_figures():
    df = load_danish_trial()
    assert df["synthetic"].all() and df.attrs["synthetic"]
    sizes = df["arm"].value_counts()
    assert sizes["IPS"] == 243 and sizes["usual services"] == 239
    m = df.groupby("arm")[["cost_eur", "qaly_gain"]].mean()
    assert m.loc["IPS", "cost_eur"] - m.loc["usual services", "cost_eur"] == pytest.approx(
        -9543.0, abs=0.01)
    assert m.loc["IPS", "qaly_gain"] == pytest.approx(0.0329, abs=1e-6)
    assert m.loc["usual services", "qaly_gain"] == pytest.approx(0.0074, abs=1e-6)
    # skewed, non-negative costs; many zeros in days worked
    assert (df["cost_eur"] >= 0).all()
    assert (df["cost_eur"].mean() - df["cost_eur"].median()) > 0.1 * df["cost_eur"].mean()
    assert (df["days_worked"] == 0).mean() > 0.5
    sd = df.groupby("arm")["cost_eur"].std()
    np.testing.assert_allclose(sd, cost_sd_for_probability(), rtol=1e-6)


def test_other_seeds_differ_but_keep_calibration():
    a, b = simulate_danish_trial(1), simulate_danish_trial(2)
    assert not a["cost_eur"].equals(b["cost_eur"])
    m = b.groupby("arm")["qaly_gain"].mean()
    assert m["IPS"] == pytest.approx(0.0329, abs=1e-6)


def test_cost_sd_gives_the_published_probability():
    from scipy import stats

    sd = cost_sd_for_probability()
    k = np.sqrt(1 / 243 + 1 / 239)
    se = np.hypot(sd * k, 35000 * 0.08 * k)
    assert stats.norm.cdf((35000 * 0.0255 + 9543) / se) == pytest.approx(0.956, abs=1e-9)


def test_replication_case():
    from causalips.replication import cases, replicate

    case = cases()["danish_trial"]
    assert case.in_demo
    res = replicate("danish_trial", reps=2000)
    table = res.table().set_index("quantity")
    assert table.loc["cost difference, IPS vs usual services (EUR)", "reproduced"] == (
        pytest.approx(-9543.0, abs=0.1))
    assert table.loc["dominance", "reproduced"] == "dominant"
    prob = table.loc["probability cost-effective at EUR 35,000/QALY", "reproduced"]
    # calibrated by a normal approximation; the bootstrap's MC error with 2000 draws is ~0.005
    assert prob == pytest.approx(0.956, abs=0.02)
    assert table.loc["UK benefit-cost ratio (GBP saved per GBP 1)", "reproduced"] == (
        pytest.approx(1.41, abs=1e-3))
    assert table.loc["UK cost per client, IPS (GBP)", "reproduced"] == pytest.approx(2086.0)
    assert len(res.sections) == 3 and all(s.figures for s in res.sections)
    assert "SYNTHETIC" in res.data_note
