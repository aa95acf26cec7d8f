"""Support-cap what-if: closed forms, bootstrap reproducibility, edge cases, bad inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips.errors import DataError, SpecificationError, StatisticalWarning
from causalips.inference import Bootstrap, WildBootstrap
from causalips.survival.caps import SupportCap


def _wide(res):
    return res.wide().set_index("cap_label")


def test_closed_form_without_censoring():
    df = pd.DataFrame({"t": [1.0, 2, 3, 4], "e": 1})
    res = SupportCap(duration="t", event="e", cap=[2], inference=None).fit(df)
    row = _wide(res).loc["2"]
    assert row["people_discharged"] == pytest.approx(50)
    assert row["job_starts_lost"] == pytest.approx(50)
    assert row["share_of_jobs_lost"] == pytest.approx(0.5)
    # mean of max(T - 2, 0) = 0.75 days per person -> 75 per 100
    assert row["caseload_time_freed"] == pytest.approx(75)
    assert row["share_of_caseload_time_freed"] == pytest.approx(75 / 250)
    assert row["time_freed_per_job_lost"] == pytest.approx(1.5)


def test_closed_form_with_censoring_and_cap_between_times():
    # KM: S = 1 until 2; at 2: 3/4 at risk... times 1(c), 2(e), 3(e), 5(c); tau = 5
    df = pd.DataFrame({"t": [1.0, 2, 3, 5], "e": [0, 1, 1, 0]})
    res = SupportCap(duration="t", event="e", cap=[2.5], inference=None).fit(df)
    row = _wide(res).loc["2.5"]
    s2, s3 = 2 / 3, 1 / 3
    assert row["people_discharged"] == pytest.approx(100 * s2)
    assert row["job_starts_lost"] == pytest.approx(100 * (s2 - s3))
    assert row["caseload_time_freed"] == pytest.approx(100 * (s2 * 0.5 + s3 * 2))


def test_in_work_kind_and_units():
    df = pd.DataFrame({"t": [30.0, 60, 91, 200, 400], "e": 1})
    res = SupportCap(duration="t", event="e", cap=[1, 3], cap_unit="months", kind="in_work",
                     inference=None).fit(df)
    w = _wide(res)
    assert list(w.columns[-3:]) == ["people_cut_short", "support_time_freed",
                                    "share_of_support_time_freed"]
    c1 = 365.25 / 12
    assert w.loc["1 months", "people_cut_short"] == pytest.approx(80)
    expected = 100 * np.maximum(df["t"] - c1, 0).mean()
    assert w.loc["1 months", "support_time_freed"] == pytest.approx(expected)
    assert w.loc["3 months", "support_time_freed"] == pytest.approx(
        100 * np.maximum(df["t"] - 3 * c1, 0).mean())


def test_cap_beyond_follow_up_changes_nothing():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"t": rng.integers(1, 300, 200).astype(float),
                       "e": rng.integers(0, 2, 200)})
    with pytest.warns(StatisticalWarning, match="change nothing"):
        res = SupportCap(duration="t", event="e", cap=[400],
                         inference=Bootstrap(reps=50, seed=2)).fit(df)
    row = _wide(res).loc["400"]
    assert row["job_starts_lost"] == 0 and row["caseload_time_freed"] == 0
    tidy = res.tidy()
    lost = tidy[tidy["term"] == "job_starts_lost"].iloc[0]
    assert lost["conf_low"] == 0 and lost["conf_high"] == 0


def test_bootstrap_reproducible_and_consistent_with_greenwood():
    rng = np.random.default_rng(7)
    n = 800
    t = rng.exponential(200, n).round() + 1
    c = rng.uniform(0, 900, n).round() + 1
    df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int)})
    plan = SupportCap(duration="t", event="e", cap=[100, 270],
                      inference=Bootstrap(reps=1000, seed=5))
    fitted = plan.fit(df)
    a = fitted.tidy()
    b = plan.fit(df).tidy()
    pd.testing.assert_frame_equal(a, b)
    other = fitted.with_inference(Bootstrap(reps=1000, seed=6))
    pd.testing.assert_frame_equal(
        other.tidy(), SupportCap(duration="t", event="e", cap=[100, 270],
                                 inference=Bootstrap(reps=1000, seed=6)).fit(df).tidy())
    assert not np.allclose(other.tidy()["conf_low"], a["conf_low"])
    # bootstrap SD of 100 S(c) ~ Greenwood SE (MC error of an SD with 1000 reps ~ 2.2%)
    times = np.unique(df["t"])
    n_risk = np.array([(df["t"] >= u).sum() for u in times])
    d = np.array([((df["t"] == u) & (df["e"] == 1)).sum() for u in times])
    surv = np.cumprod(1 - d / n_risk)
    green = surv * np.sqrt(np.cumsum(d / (n_risk * (n_risk - d))))
    for cap in (100, 270):
        k = np.searchsorted(times, cap, side="right") - 1
        row = a[(a["term"] == "people_discharged") & (a["cap"] == cap)].iloc[0]
        assert row["estimate"] == pytest.approx(100 * surv[k])
        assert row["std_error"] == pytest.approx(100 * green[k], rel=0.1)
        assert row["conf_low"] < row["estimate"] < row["conf_high"]


def test_groups_are_estimated_separately():
    df = pd.DataFrame({"t": [1.0, 2, 3, 4, 1, 1, 1, 4], "e": 1,
                       "team": ["a"] * 4 + ["b"] * 4})
    res = SupportCap(duration="t", event="e", cap=[2], group="team",
                     inference=Bootstrap(reps=20, seed=1)).fit(df)
    w = res.wide().set_index("group")
    assert w.loc["a", "job_starts_lost"] == pytest.approx(50)
    assert w.loc["b", "job_starts_lost"] == pytest.approx(25)


def test_bad_inputs():
    df = pd.DataFrame({"t": [1.0, 2], "e": [1, 0]})
    with pytest.raises(SpecificationError, match="cap must be non-negative"):
        SupportCap(duration="t", event="e", cap=[-1])
    with pytest.raises(SpecificationError, match="cap must be a number"):
        SupportCap(duration="t", event="e", cap=["nine months"])
    with pytest.raises(SpecificationError, match="twice"):
        SupportCap(duration="t", event="e", cap=[9, 9])
    with pytest.raises(SpecificationError, match="kind must be one of"):
        SupportCap(duration="t", event="e", cap=1, kind="jobsearch")
    with pytest.raises(SpecificationError, match="reps"):
        SupportCap(duration="t", event="e", cap=1, inference=Bootstrap(reps=-5))
    with pytest.raises(SpecificationError, match="reps must be between"):
        SupportCap(duration="t", event="e", cap=1, inference=Bootstrap(reps=10**8))
    with pytest.raises(SpecificationError, match="seed"):
        SupportCap(duration="t", event="e", cap=1, inference=Bootstrap(seed=-1))
    with pytest.raises(SpecificationError, match="cannot use WildBootstrap"):
        SupportCap(duration="t", event="e", cap=1, inference=WildBootstrap())
    with pytest.raises(SpecificationError, match="cluster"):
        SupportCap(duration="t", event="e", cap=1, inference=Bootstrap(cluster="team"))
    with pytest.raises(SpecificationError, match="cap_unit"):
        SupportCap(duration="t", event="e", cap=1, cap_unit="years")
    with pytest.raises(DataError, match="no events"):
        SupportCap(duration="t", event="e", cap=1).fit(df.assign(e=0))
    with pytest.raises(DataError, match="negative"):
        SupportCap(duration="t", event="e", cap=1).fit(df.assign(t=[-1.0, 2]))


def test_plots():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"t": rng.integers(1, 400, 100).astype(float),
                       "e": rng.integers(0, 2, 100)})
    res = SupportCap(duration="t", event="e", cap=[90, 180],
                     inference=Bootstrap(reps=50, seed=1)).fit(df)
    ax = res.plot()
    assert len(ax.lines) >= 1 and ax.get_xlabel().startswith("caseload time freed")
    res2 = SupportCap(duration="t", event="e", cap=[90, 180], inference=Bootstrap(reps=50, seed=1),
                      kind="in_work").fit(df)
    ax2 = res2.plot()
    assert len(ax2.patches) == 2
    assert "upper bound" in str(res.summary())


def test_competing_ends_closed_form():
    # times 1..4: job at 1, discharged at 2, job at 3, still searching (censored) at 4
    df = pd.DataFrame({"t": [1.0, 2, 3, 4], "route": [1, 2, 1, 0]})
    res = SupportCap(duration="t", event="route", cause=1, cap=[1.5], inference=None).fit(df)
    row = _wide(res).loc["1.5"]
    # S (no end yet): 3/4 after 1, 2/4 after 2, 1/4 after 3; F_job: 1/4, 1/4, 2/4
    assert row["people_discharged"] == pytest.approx(75)
    assert row["job_starts_lost"] == pytest.approx(25)  # F(4) - F(1.5) = 1/2 - 1/4
    assert row["share_of_jobs_lost"] == pytest.approx(0.5)
    # ∫_1.5^4 S = 0.75 * 0.5 + 0.5 * 1 + 0.25 * 1
    assert row["caseload_time_freed"] == pytest.approx(100 * (0.375 + 0.5 + 0.25))
    # the same data with discharge as censoring (KM) loses more jobs
    km = SupportCap(duration="t", event="job", cap=[1.5], inference=None).fit(
        df.assign(job=(df["route"] == 1).astype(int)))
    assert _wide(km).loc["1.5", "job_starts_lost"] > row["job_starts_lost"]


def test_competing_bootstrap_runs_and_bad_cause():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"t": rng.integers(1, 300, 150).astype(float),
                       "route": rng.choice([0, 1, 2], 150)})
    res = SupportCap(duration="t", event="route", cause=1, cap=[60, 120],
                     inference=Bootstrap(reps=200, seed=3)).fit(df)
    lost = res.tidy().query("term == 'job_starts_lost'")
    assert (lost["conf_low"] <= lost["estimate"]).all()
    assert (lost["estimate"] <= lost["conf_high"]).all()
    with pytest.raises(SpecificationError, match="cause"):
        SupportCap(duration="t", event="route", cause=0, cap=[60])
    with pytest.raises(DataError, match="the plan does not know.*'1'"):
        SupportCap(duration="t", event="route", cause=1, cap=[60]).fit(
            df.assign(route=df["route"].astype(str)))


def test_placement_budget_in_hours():
    """Hours of support used until a job: a 2-hour cap loses the jobs found after 2 hours."""
    df = pd.DataFrame({"hours": [1.0, 1.5, 3.0, 4.0, 5.0], "job": [1, 1, 1, 1, 0]})
    res = SupportCap(duration="hours", event="job", cap=[2], cap_unit="hours", inference=None).fit(df)
    wide = res.wide().iloc[0]
    assert wide["cap_label"] == "2 hours"
    # KM: S(2) = 3/5; jobs after 2 h up to the horizon (5 h): 2 of 5 -> 40 per 100
    assert wide["job_starts_lost"] == pytest.approx(40.0)
    # time freed: 100 x area under S from 2 to 5 = 100 x (0.6*1 + 0.4*1 + 0.2*1) = 120 hours
    assert wide["caseload_time_freed"] == pytest.approx(120.0)
    assert res.glance()["time_unit"].item() == "hours"
    assert "hours" in str(res.summary())


def test_reps_and_seed_are_deprecated_aliases_that_build_the_bootstrap():
    df = pd.DataFrame({"t": np.arange(1.0, 41), "e": np.tile([1, 0, 1, 1], 10)})
    with pytest.warns(FutureWarning, match="inference=Bootstrap"):
        old = SupportCap(duration="t", event="e", cap=[10], reps=30, seed=4)
    assert old.inference == Bootstrap(reps=30, seed=4)
    new = SupportCap(duration="t", event="e", cap=[10], inference=Bootstrap(reps=30, seed=4))
    pd.testing.assert_frame_equal(old.fit(df).tidy(), new.fit(df).tidy())
    with pytest.warns(FutureWarning):
        assert SupportCap(duration="t", event="e", cap=[10], reps=0).inference is None
    with pytest.warns(FutureWarning, match="replaced by SupportCap.inference"):
        assert new.reps == 30
    with pytest.raises(SpecificationError, match="inference=Bootstrap"):
        SupportCap(duration="t", event="e", cap=[10], reps=30, inference=Bootstrap())


def test_with_inference_none_and_glance_states_the_spec():
    df = pd.DataFrame({"t": np.arange(1.0, 41), "e": np.tile([1, 0, 1, 1], 10)})
    res = SupportCap(duration="t", event="e", cap=[10], inference=Bootstrap(reps=40, seed=1)
                     ).fit(df)
    bare = res.with_inference(None)
    assert bare.tidy()["conf_low"].isna().all()
    pd.testing.assert_series_equal(bare.tidy()["estimate"], res.tidy()["estimate"])
    g = res.glance().iloc[0]
    assert g["reps"] == 40 and g["seed"] == 1 and "Bootstrap" in g["inference"]
    assert bare.glance()["reps"].item() == 0
    with pytest.raises(SpecificationError, match="cannot use"):
        res.with_inference(WildBootstrap())


def test_event_values_the_plan_does_not_know_are_errors_listing_them():
    df = pd.DataFrame({"t": [1.0, 2, 3, 4, 5], "route": [1, 2, 3, 0, 1]})
    with pytest.raises(DataError, match=r"values \[3\] the plan does not know.*values seen"):
        SupportCap(duration="t", event="route", cause=1, competing=[2], cap=[2]).fit(df)
    with pytest.raises(DataError, match="must be 0/1.*values seen: 0, 1, 2, 3.*cause="):
        SupportCap(duration="t", event="route", cap=[2]).fit(df)
    with pytest.raises(DataError, match="no rows with cause=4"):
        SupportCap(duration="t", event="route", cause=4, cap=[2]).fit(df)
    text = df.assign(route=["job", "gone", "gone", "open", "job"])
    with pytest.raises(DataError, match=r"values seen: 'gone', 'job', 'open'.*\.map"):
        SupportCap(duration="t", event="route", cap=[2]).fit(text)
    # every other whole code is a competing end when competing= is not given
    res = SupportCap(duration="t", event="route", cause=1, cap=[2], inference=None).fit(df)
    listed = SupportCap(duration="t", event="route", cause=1, competing=[2, 3], cap=[2],
                        inference=None).fit(df)
    pd.testing.assert_frame_equal(res.tidy(), listed.tidy())
    with pytest.raises(SpecificationError, match="competing= needs cause="):
        SupportCap(duration="t", event="route", competing=[2], cap=[2])
