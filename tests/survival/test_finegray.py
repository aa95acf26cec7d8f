"""Fine–Gray: the finegray() data expansion and the weighted Cox fit against R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips.errors import DataError
from causalips.survival.finegray import finegray_data, finegray_expand


@pytest.fixture(scope="module")
def pbc(reference_dir):
    return pd.read_csv(reference_dir / "survival" / "pbc.csv")


@pytest.fixture(scope="module")
def fg_ref(reference_dir):
    return pd.read_csv(reference_dir / "survival" / "pbc_finegray_death.csv")


def test_expansion_equals_r_finegray(pbc, fg_ref):
    fg = finegray_data(pbc, duration="time", event="status", cause=2,
                       keep=["id", "age", "edema", "bili"])
    assert len(fg) == len(fg_ref) == 1525
    np.testing.assert_array_equal(fg["id"], fg_ref["id"])
    np.testing.assert_array_equal(fg["fg_start"], fg_ref["fgstart"])
    np.testing.assert_array_equal(fg["fg_stop"], fg_ref["fgstop"])
    np.testing.assert_array_equal(fg["fg_status"], fg_ref["fgstatus"])
    np.testing.assert_allclose(fg["fg_weight"], fg_ref["fgwt"], rtol=1e-13)
    np.testing.assert_array_equal(fg["age"], fg_ref["age"])


def test_expansion_small_closed_form():
    # times 1..6; censored at 2 and 5; cause 1 at 3 and 6; competing event at 1
    t = np.array([1.0, 2, 3, 4, 5, 6])
    s = np.array([2, 0, 1, 2, 0, 1])
    out = finegray_expand(t, s, 1)
    # censoring KM: G(2) = 1 - 1/5 = 0.8 (at risk 5 after the competing event at 1),
    # G(5) = 0.8 * (1 - 1/2) = 0.4. Intervals (.,2], (2,5], (5,6]: events of interest in 2nd, 3rd
    np.testing.assert_array_equal(out["row"], [0, 0, 0, 1, 2, 3, 3, 4, 5])
    np.testing.assert_array_equal(out["start"], [0, 2, 5, 0, 0, 0, 5, 0, 0])
    np.testing.assert_array_equal(out["stop"], [2, 5, 6, 2, 3, 5, 6, 5, 6])
    np.testing.assert_allclose(out["weight"], [1, 0.8, 0.4, 1, 1, 1, 0.5, 1, 1])
    np.testing.assert_array_equal(out["status"], [0, 0, 0, 0, 1, 0, 0, 0, 1])


def test_no_competing_events_changes_nothing():
    t = np.array([3.0, 1, 2, 5])
    s = np.array([1, 0, 1, 0])
    out = finegray_expand(t, s, 1)
    np.testing.assert_array_equal(out["stop"], t)
    np.testing.assert_array_equal(out["weight"], 1.0)
    np.testing.assert_array_equal(out["status"], [1, 0, 1, 0])


def test_expansion_bad_inputs(pbc):
    with pytest.raises(DataError, match="never occurs"):
        finegray_data(pbc, duration="time", event="status", cause=3)
    with pytest.raises(DataError, match="0 = censored"):
        finegray_data(pbc.assign(status=pbc["status"].astype(str)), duration="time",
                      event="status", cause=2)
