"""Kaplan–Meier against R survival 3.5-3 (veteran data): estimates 1e-8, SEs and CI limits 1e-6."""

from __future__ import annotations

import re

import numpy as np
import pytest

from causalips import KaplanMeier

EST_TOL = 1e-8
SE_TOL = 1e-6
CONF_TYPES = ["log", "log-log", "plain"]


@pytest.fixture(scope="module")
def ref(reference_data):
    return reference_data.json("survival/km_veteran.json")


@pytest.fixture(scope="module")
def prop_ref(reference_data):
    return reference_data.json("survival/km_veteran_prop_event.json")


@pytest.fixture(scope="module")
def veteran(reference_data):
    return reference_data.csv("survival/veteran.csv")


def _arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _close(ours, theirs, tol):
    ours, theirs = np.asarray(ours, dtype=float), _arr(theirs)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours[~np.isnan(ours)], theirs[~np.isnan(theirs)], rtol=0, atol=tol)


def _fits(veteran, ct):
    return {
        "by_trt": KaplanMeier(duration="time", event="status", group="trt", ci_method=ct).fit(veteran),
        "overall": KaplanMeier(duration="time", event="status", ci_method=ct).fit(veteran),
    }


def _label(key, name):
    return "all" if key == "overall" else int(name.split("=")[1])


@pytest.mark.parametrize("ct", CONF_TYPES)
def test_full_table(ref, veteran, ct):
    for key, res in _fits(veteran, ct).items():
        tidy = res.tidy()
        for name, grp in ref[key]["groups"].items():
            ft = grp["full_table"]
            ours = tidy[tidy["group"] == _label(key, name)]
            np.testing.assert_array_equal(ours["time"], ft["time"])
            np.testing.assert_array_equal(ours["n_risk"], ft["n_risk"])
            np.testing.assert_array_equal(ours["n_event"], ft["n_event"])
            np.testing.assert_array_equal(ours["n_censor"], ft["n_censor"])
            _close(ours["estimate"], ft["surv"], EST_TOL)
            _close(ours["std_error"], ft["std_err_surv"], SE_TOL)
            _close(ours["std_error_log"], ft["std_err_logsurv"], SE_TOL)
            _close(ours["cumulative_hazard"], ft["cumhaz_nelson_aalen"], EST_TOL)
            _close(ours["std_error_cumhaz"], ft["std_err_cumhaz"], SE_TOL)
            _close(ours["conf_low"], ft[f"lower95_{ct}"], SE_TOL)
            _close(ours["conf_high"], ft[f"upper95_{ct}"], SE_TOL)
            assert res.by_group().set_index("group").loc[_label(key, name), "n_events"] == grp["events"]


@pytest.mark.parametrize("ct", CONF_TYPES)
def test_at_times_extend(ref, veteran, ct):
    for key, res in _fits(veteran, ct).items():
        at = res.at([30, 90, 180, 365])
        for name, grp in ref[key]["groups"].items():
            r = grp["at_times"]
            ours = at[at["group"] == _label(key, name)]
            np.testing.assert_array_equal(ours["time"], r["times"])
            np.testing.assert_array_equal(ours["n_risk"], r["n_risk"])
            np.testing.assert_array_equal(ours["n_event"], r["n_event_in_interval"])
            _close(ours["estimate"], r["surv"], EST_TOL)
            _close(ours["std_error"], r["std_err_surv"], SE_TOL)
            _close(ours["cumulative_hazard"], r["cumhaz"], EST_TOL)
            _close(ours["conf_low"], r[f"lower95_{ct}"], SE_TOL)
            _close(ours["conf_high"], r[f"upper95_{ct}"], SE_TOL)


@pytest.mark.parametrize("ct", CONF_TYPES)
def test_quantiles_and_median(ref, veteran, ct):
    for key, res in _fits(veteran, ct).items():
        q = res.quantiles([0.25, 0.5, 0.75])
        med = res.median()
        for name, grp in ref[key]["groups"].items():
            r = grp["quantiles"][ct]
            ours = q[q["group"] == _label(key, name)]
            _close(ours["estimate"], r["quantile"], EST_TOL)
            _close(ours["conf_low"], r["lower95"], EST_TOL)
            _close(ours["conf_high"], r["upper95"], EST_TOL)
            m = med[med["group"] == _label(key, name)].iloc[0]
            rm = grp["median"][ct]
            _close([m["estimate"], m["conf_low"], m["conf_high"]],
                   [rm["median"], rm["lower95"], rm["upper95"]], EST_TOL)


def test_midpoint_rule_on_exact_flat(ref, veteran):
    # veteran trt=2: S is exactly 0.5 on a flat stretch, R reports the midpoint 52.5
    med = KaplanMeier(duration="time", event="status", group="trt").fit(veteran).median()
    assert med.loc[med["group"] == 2, "estimate"].item() == 52.5


@pytest.mark.parametrize("which", ["tau_180", "tau_365", "common"])
def test_rmst(ref, veteran, which):
    r = ref["by_trt"]["rmst"][which]
    res = KaplanMeier(duration="time", event="status", group="trt").fit(veteran)
    out = res.rmst(r["tau"])
    for name, vals in r["groups"].items():
        row = out[out["group"] == _label("by_trt", name)].iloc[0]
        assert row["estimate"] == pytest.approx(vals["rmean"], abs=EST_TOL)
        assert row["std_error"] == pytest.approx(vals["se_rmean"], abs=SE_TOL)


@pytest.mark.parametrize("ct", CONF_TYPES)
def test_share_with_event_is_one_minus_km(prop_ref, veteran, ct):
    for key, group in (("overall", None), ("by_trt", "trt")):
        res = KaplanMeier(duration="time", event="status", group=group, ci_method=ct,
                          curve="incidence").fit(veteran)
        at = res.at([91, 182, 273, 365])
        for name, r in prop_ref[key]["groups"].items():
            ours = at[at["group"] == _label(key, name)]
            np.testing.assert_array_equal(ours["n_risk"], r["n_risk"])
            np.testing.assert_array_equal(np.cumsum(ours["n_event"]), r["n_event_cumulative"])
            _close(ours["estimate"], r["prop_event"], EST_TOL)
            _close(ours["std_error"], r["std_err"], SE_TOL)
            _close(ours["conf_low"], r[f"prop_event_lower95_{ct}"], SE_TOL)
            _close(ours["conf_high"], r[f"prop_event_upper95_{ct}"], SE_TOL)


# -- delayed entry: survfit(Surv(tstart, tstop, status) ~ 1 | treat, data=cgd) -----------------
@pytest.fixture(scope="module")
def entry_ref(reference_data):
    return reference_data.json("survival/km_entry_cgd.json")["kaplan_meier"]


@pytest.fixture(scope="module")
def cgd(reference_data):
    return reference_data.csv("survival/cgd.csv")


def _entry_fits(cgd, ct):
    plan = dict(duration="tstop", event="status", entry="tstart", ci_method=ct)
    return {"overall": KaplanMeier(**plan).fit(cgd),
            "by_treat": KaplanMeier(group="treat", **plan).fit(cgd)}


def _entry_label(key, name):
    return "all" if key == "overall" else name.split("=", 1)[1]


@pytest.mark.parametrize("ct", CONF_TYPES)
def test_delayed_entry_full_table(entry_ref, cgd, ct):
    for key, res in _entry_fits(cgd, ct).items():
        tidy = res.tidy()
        for name, grp in entry_ref[key]["groups"].items():
            ft = grp["full_table"]
            ours = tidy[tidy["group"] == _entry_label(key, name)]
            np.testing.assert_array_equal(ours["time"], ft["time"])
            np.testing.assert_array_equal(ours["n_risk"], ft["n_risk"])
            np.testing.assert_array_equal(ours["n_event"], ft["n_event"])
            np.testing.assert_array_equal(ours["n_censor"], ft["n_censor"])
            _close(ours["estimate"], ft["surv"], EST_TOL)
            _close(ours["std_error"], ft["std_err_surv"], SE_TOL)
            _close(ours["std_error_log"], ft["std_err_logsurv"], SE_TOL)
            _close(ours["cumulative_hazard"], ft["cumhaz"], EST_TOL)
            _close(ours["std_error_cumhaz"], ft["std_err_cumhaz"], SE_TOL)
            _close(ours["conf_low"], ft[f"lower95_{ct}"], SE_TOL)
            _close(ours["conf_high"], ft[f"upper95_{ct}"], SE_TOL)
            row = res.by_group().set_index("group").loc[_entry_label(key, name)]
            assert row["n_events"] == grp["events"]


@pytest.mark.parametrize("ct", CONF_TYPES)
def test_delayed_entry_at_times_quantiles_and_rmst(entry_ref, cgd, ct):
    for key, res in _entry_fits(cgd, ct).items():
        at = res.at(entry_ref[key]["groups"][next(iter(entry_ref[key]["groups"]))]["at_times"]
                    ["times"])
        q = res.quantiles([0.25, 0.5, 0.75])
        for name, grp in entry_ref[key]["groups"].items():
            label = _entry_label(key, name)
            r = grp["at_times"]
            ours = at[at["group"] == label]
            np.testing.assert_array_equal(ours["n_risk"], r["n_risk"])
            np.testing.assert_array_equal(ours["n_event"], r["n_event_in_interval"])
            _close(ours["estimate"], r["surv"], EST_TOL)
            _close(ours["std_error"], r["std_err_surv"], SE_TOL)
            _close(ours["conf_low"], r[f"lower95_{ct}"], SE_TOL)
            _close(ours["conf_high"], r[f"upper95_{ct}"], SE_TOL)
            rq = grp["quantiles"][ct]
            mine = q[q["group"] == label]
            _close(mine["estimate"], rq["quantile"], EST_TOL)
            _close(mine["conf_low"], rq["lower95"], EST_TOL)
            _close(mine["conf_high"], rq["upper95"], EST_TOL)
            rm = res.rmst(grp["rmean"]["tau"])
            row = rm[rm["group"] == label].iloc[0]
            assert row["estimate"] == pytest.approx(grp["rmean"]["rmean"], abs=EST_TOL)
            assert row["std_error"] == pytest.approx(grp["rmean"]["se_rmean"], abs=SE_TOL)


def test_reference_data_stays_small_and_inside_the_repository(reference_data):
    # The repository carries its own oracle values (issue: a clean clone passes its tests with
    # nothing beside it); keep them small enough to travel with every clone and sdist.
    files = [p for p in reference_data.root.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 1_000_000
    # ... and nothing reads a folder beside the repository (e.g. a "shared" folder next to it)
    beside = re.compile(r"\.\./shared|parent\s*/\s*['\"]shared['\"]")
    repo = reference_data.root.resolve().parents[2]
    outside = [str(p.relative_to(repo)) for folder in ("tests", "benchmarks", "examples", "docs",
                                                      "causalips")
               for p in (repo / folder).rglob("*") if p.suffix in (".py", ".md", ".toml", ".R")
               and beside.search(p.read_text(errors="ignore"))]
    assert outside == []
