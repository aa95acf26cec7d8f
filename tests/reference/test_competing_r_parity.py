"""Aalen-Johansen cumulative incidence and Gray's test against R survival 3.5-3 / cmprsk 2.2-11 (pbc)."""

from __future__ import annotations

import numpy as np
import pytest

from causalips.survival.competing import EVENT_FREE, CumulativeIncidence

CAUSES = {1: "transplant", 2: "death"}


@pytest.fixture(scope="module")
def pbc(reference_data):
    return reference_data.csv("survival/pbc.csv")


def _fit(pbc, key):
    if key == "overall":
        return CumulativeIncidence(duration="time", event="status", causes=CAUSES).fit(pbc)
    return CumulativeIncidence(duration="time", event="status", group="trt",
                               causes=CAUSES).fit(pbc.iloc[:312])


TIMES = [365, 730, 1826, 3652]


@pytest.fixture(scope="module")
def ref(reference_data):
    return reference_data.json("survival/competing_aj_pbc.json")["aalen_johansen"]


@pytest.mark.parametrize("key", ["overall", "by_trt"])
def test_matches_r_survfit_multistate(pbc, ref, key):
    res = _fit(pbc, key)
    at = res.at(TIMES)
    for gname, block in ref[key]["groups"].items():
        label = "all" if key == "overall" else float(gname.split("=")[1])
        assert block["times"] == TIMES
        for r_state, values in block["states"].items():
            state = EVENT_FREE if r_state == "(s0)" else r_state
            rows = at[(at["group"] == label) & (at["state"] == state)]
            assert len(rows) == 4
            np.testing.assert_allclose(rows["estimate"], values["pstate"], rtol=1e-8, atol=1e-12)
            np.testing.assert_allclose(rows["std_error"], values["std_err"], rtol=1e-6, atol=1e-12)
            for ours, theirs in (("conf_low", "lower95"), ("conf_high", "upper95")):
                expected = np.array([np.nan if v is None else v for v in values[theirs]])
                np.testing.assert_allclose(rows[ours], expected, rtol=1e-6)
            if state != EVENT_FREE:
                np.testing.assert_array_equal(rows["n_event"],
                                              block["n_event_in_interval"][state])
            np.testing.assert_array_equal(rows["n_risk"], block["n_risk"])


@pytest.mark.parametrize("key", ["overall", "by_trt"])
def test_restricted_mean_time_in_state_matches_r(pbc, ref, key):
    rm = _fit(pbc, key).restricted_mean(3652)
    for item in ref[key]["rmean"]["values"]:
        parts = item["row"].split(", ")
        state = EVENT_FREE if parts[-1] == "(s0)" else parts[-1]
        label = "all" if key == "overall" else float(parts[0].split("=")[1])
        got = rm[(rm["group"] == label) & (rm["state"] == state)]["estimate"].iloc[0]
        assert got == pytest.approx(item["rmean"], rel=1e-8)


def test_gray_test_matches_cmprsk(pbc, ref):
    tests = _fit(pbc, "by_trt").gray_test()
    for state in ("transplant", "death"):
        row = tests[tests["state"] == state].iloc[0]
        expected = ref["by_trt"]["gray_test_cmprsk"][state]
        assert row["statistic"] == pytest.approx(expected["stat"], rel=1e-4)
        assert row["p_value"] == pytest.approx(expected["p"], rel=1e-4)
        assert row["df"] == expected["df"]


def test_estimates_equal_cmprsk_cross_check(pbc, ref):
    at = _fit(pbc, "overall").at(TIMES)
    xc = ref["overall"]["cross_check_cmprsk_cuminc"]
    for state in ("transplant", "death"):
        got = at[at["state"] == state]["estimate"].to_numpy()
        np.testing.assert_allclose(got, xc[state]["est"], rtol=1e-10, atol=1e-14)


# -- delayed entry: survfit(Surv(entry, time, factor(status)) ~ 1 | trt, id=id) ----------------
@pytest.fixture(scope="module")
def entry_ref(reference_data):
    return reference_data.json("survival/competing_entry_pbc.json")["aalen_johansen"]


@pytest.fixture(scope="module")
def pbc_entry(reference_data):
    return reference_data.csv("survival/pbc_entry.csv")


def _entry_fit(pbc_entry, key):
    plan = dict(duration="time", event="status", entry="entry", causes=CAUSES)
    if key == "overall":
        return CumulativeIncidence(**plan).fit(pbc_entry)
    return CumulativeIncidence(group="trt", **plan).fit(pbc_entry.iloc[:312])


def _state(r_state):
    return EVENT_FREE if r_state == "(s0)" else r_state


@pytest.mark.parametrize("key", ["overall", "by_trt"])
def test_delayed_entry_every_time_matches_r(pbc_entry, entry_ref, key):
    tidy = _entry_fit(pbc_entry, key).tidy()
    for gname, block in entry_ref[key]["groups"].items():
        label = "all" if key == "overall" else float(gname.split("=")[1])
        ft = block["full_table"]
        for r_state in entry_ref[key]["states"]:
            rows = tidy[(tidy["group"] == label) & (tidy["state"] == _state(r_state))]
            np.testing.assert_array_equal(rows["time"], ft["time"])
            np.testing.assert_array_equal(rows["n_risk"], ft["n_risk"])
            np.testing.assert_allclose(rows["estimate"], ft[r_state]["pstate"], rtol=1e-8,
                                       atol=1e-12)
            np.testing.assert_allclose(rows["std_error"], ft[r_state]["std_err"], rtol=1e-6,
                                       atol=1e-12)
            if r_state != "(s0)":
                np.testing.assert_array_equal(rows["n_event"], ft[r_state]["n_event"])


@pytest.mark.parametrize("key", ["overall", "by_trt"])
def test_delayed_entry_at_horizons_matches_r(pbc_entry, entry_ref, key):
    at = _entry_fit(pbc_entry, key).at(TIMES)
    for gname, block in entry_ref[key]["groups"].items():
        label = "all" if key == "overall" else float(gname.split("=")[1])
        r = block["at_times"]
        assert r["times"] == TIMES
        for r_state in entry_ref[key]["states"]:
            rows = at[(at["group"] == label) & (at["state"] == _state(r_state))]
            np.testing.assert_array_equal(rows["n_risk"], r["n_risk"])
            np.testing.assert_allclose(rows["estimate"], r[r_state]["pstate"], rtol=1e-8,
                                       atol=1e-12)
            np.testing.assert_allclose(rows["std_error"], r[r_state]["std_err"], rtol=1e-6,
                                       atol=1e-12)
            for ours, theirs in (("conf_low", "lower95"), ("conf_high", "upper95")):
                expected = np.array([np.nan if v is None else v for v in r[r_state][theirs]])
                np.testing.assert_allclose(rows[ours], expected, rtol=1e-6)
            if r_state != "(s0)":
                np.testing.assert_array_equal(rows["n_event"], r[r_state]["n_event_in_interval"])
