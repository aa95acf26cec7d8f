"""Kaplan–Meier: invariants (hypothesis), closed forms, truth and coverage, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from causalips import (
    ColumnNotFoundError,
    DataError,
    KaplanMeier,
    LogRank,
    SpecificationError,
    StatisticalWarning,
)

samples = st.lists(
    st.tuples(st.integers(0, 60), st.booleans(), st.sampled_from(["a", "b"])),
    min_size=1,
    max_size=80,
)


def _frame(rows):
    return pd.DataFrame(rows, columns=["t", "e", "g"])


@settings(max_examples=60, deadline=None)
@given(samples)
def test_survival_non_increasing_within_unit_interval(rows):
    df = _frame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tidy = KaplanMeier(duration="t", event="e", group="g").fit(df).tidy()
    for _, part in tidy.groupby("group"):
        s = part["estimate"].to_numpy()
        assert np.all((s >= 0) & (s <= 1))
        assert np.all(np.diff(s) <= 1e-15)
        lo, hi = part["conf_low"].to_numpy(), part["conf_high"].to_numpy()
        ok = ~np.isnan(lo)
        assert np.all(lo[ok] <= s[ok] + 1e-12) and np.all(hi[ok] >= s[ok] - 1e-12)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_at_risk_bookkeeping(rows):
    df = _frame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tidy = KaplanMeier(duration="t", event="e", group="g").fit(df).tidy()
    for label, part in tidy.groupby("group"):
        n = part["n_risk"].to_numpy()
        exits = (part["n_event"] + part["n_censor"]).to_numpy()
        assert n[0] == (df["g"] == label).sum()
        np.testing.assert_array_equal(n[1:], n[:-1] - exits[:-1])
        assert part["n_event"].sum() == df.loc[df["g"] == label, "e"].sum()


@settings(max_examples=40, deadline=None)
@given(samples)
def test_one_group_equals_no_grouping(rows):
    df = _frame(rows).assign(g="only")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grouped = KaplanMeier(duration="t", event="e", group="g").fit(df).tidy()
        plain = KaplanMeier(duration="t", event="e").fit(df).tidy()
    cols = ["time", "n_risk", "n_event", "estimate", "std_error", "conf_low", "conf_high"]
    pd.testing.assert_frame_equal(grouped[cols], plain[cols])


def test_closed_form_small_example():
    # times 1,2,2,3(censored),4 with events 1,1,1,0,1: S = 4/5, 4/5*1/2, ..., 0
    df = pd.DataFrame({"t": [1, 2, 2, 3, 4], "e": [1, 1, 1, 0, 1]})
    tidy = KaplanMeier(duration="t", event="e").fit(df).tidy()
    np.testing.assert_allclose(tidy["estimate"], [0.8, 0.8 * 2 / 4, 0.4, 0.0])
    green = 0.8 * np.sqrt(1 / (5 * 4))
    assert tidy["std_error"].iloc[0] == pytest.approx(green)
    assert np.isnan(tidy["conf_low"].iloc[-1])  # undefined where S = 0, as R


def test_integer_fast_path_equals_float_path():
    rng = np.random.default_rng(1)
    t = rng.integers(0, 400, 3000).astype(float)
    e = rng.uniform(size=3000) < 0.6
    a = KaplanMeier(duration="t", event="e").fit(pd.DataFrame({"t": t, "e": e})).tidy()
    b = KaplanMeier(duration="t", event="e").fit(pd.DataFrame({"t": t + 0.5, "e": e})).tidy()
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=0, atol=1e-14)
    np.testing.assert_allclose(a["time"] + 0.5, b["time"])


def test_weights_equal_replicated_rows():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"t": rng.integers(1, 50, 200), "e": rng.integers(0, 2, 200),
                       "w": rng.integers(1, 4, 200)})
    weighted = KaplanMeier(duration="t", event="e", weights="w").fit(df).tidy()
    long = df.loc[df.index.repeat(df["w"])]
    plain = KaplanMeier(duration="t", event="e").fit(long).tidy()
    np.testing.assert_allclose(weighted["estimate"], plain["estimate"], rtol=1e-13)
    np.testing.assert_allclose(weighted["std_error"], plain["std_error"], rtol=1e-12)


def test_event_coded_values():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "status": ["job", "none", "job", "none"]})
    res = KaplanMeier(duration="t", event="status", event_value="job").fit(df)
    assert res.tidy()["n_event"].sum() == 2
    with pytest.raises(DataError, match="event_value="):
        KaplanMeier(duration="t", event="status").fit(df)
    with pytest.raises(DataError, match="never occurs"):
        KaplanMeier(duration="t", event="status", event_value="employed").fit(df)


def test_truth_and_coverage_exponential():
    """S(t) = exp(-t/100); 95% log CIs at t=70 cover the truth ~95% (400 replicates)."""
    rng = np.random.default_rng(20261122)
    reps, n, t0 = 400, 150, 70.0
    truth = np.exp(-t0 / 100)
    est, covered = np.empty(reps), np.empty(reps, dtype=bool)
    for r in range(reps):  # each replicate is one vectorised fit
        t = rng.exponential(100, n)
        c = rng.uniform(0, 250, n)
        df = pd.DataFrame({"t": np.minimum(t, c), "e": t <= c})
        row = KaplanMeier(duration="t", event="e").fit(df).at([t0]).iloc[0]
        est[r] = row["estimate"]
        covered[r] = row["conf_low"] <= truth <= row["conf_high"]
    mc_se = est.std() / np.sqrt(reps)
    assert abs(est.mean() - truth) < 4 * mc_se + 0.002
    cover_se = np.sqrt(0.95 * 0.05 / reps)
    assert abs(covered.mean() - 0.95) < 3.5 * cover_se


def test_missing_column_suggests_close_name():
    df = pd.DataFrame({"days_to_job": [1, 2], "got_job": [1, 0]})
    with pytest.raises(ColumnNotFoundError, match="closest: 'days_to_job'"):
        KaplanMeier(duration="days_to_jb", event="got_job").fit(df)


@pytest.mark.parametrize(
    "values, message",
    [([1.0, -2.0, 3.0], "negative values"), ([1.0, np.nan, 3.0], "missing or infinite"),
     (["1", "x", "3"], "must be numeric")],
)
def test_bad_durations(values, message):
    df = pd.DataFrame({"t": values, "e": [1, 0, 1]})
    with pytest.raises(DataError, match=message):
        KaplanMeier(duration="t", event="e").fit(df)


def test_bad_plan_refused():
    with pytest.raises(SpecificationError, match="conf_level"):
        KaplanMeier(duration="t", event="e", conf_level=95)
    with pytest.raises(SpecificationError, match="did you mean 'log-log'"):
        KaplanMeier(duration="t", event="e", ci_method="log-logg")


def test_conf_type_is_a_deprecated_alias_of_ci_method():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 1, 1]})
    with pytest.warns(FutureWarning, match="renamed ci_method"):
        old = KaplanMeier(duration="t", event="e", conf_type="plain")
    new = KaplanMeier(duration="t", event="e", ci_method="plain")
    assert old.get_params() == new.get_params()
    res = old.fit(df)
    pd.testing.assert_frame_equal(res.tidy(), new.fit(df).tidy())
    with pytest.warns(FutureWarning, match="renamed ci_method"):
        assert res.conf_type == "plain"
    with pytest.warns(FutureWarning, match="renamed ci_method"):
        assert old.conf_type == "plain"


def test_not_a_dataframe():
    with pytest.raises(DataError, match="must be a pandas DataFrame"):
        KaplanMeier(duration="t", event="e").fit([1, 2, 3])


def test_no_events_warns_and_quantiles_missing():
    df = pd.DataFrame({"t": [1, 2, 3], "e": [0, 0, 0]})
    with pytest.warns(StatisticalWarning, match="no events"):
        res = KaplanMeier(duration="t", event="e").fit(df)
    assert res.tidy()["estimate"].eq(1).all()
    assert np.isnan(res.median()["estimate"].item())
    assert any("no events" in w for w in res.warnings)


def test_single_group_logrank_refused():
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1], "g": ["a", "a", "a"]})
    with pytest.raises(DataError, match="single group"):
        LogRank(duration="t", event="e", group="g").fit(df)


def test_missing_group_values_refused():
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1], "g": ["a", None, "b"]})
    with pytest.raises(DataError, match="group.*missing"):
        KaplanMeier(duration="t", event="e", group="g").fit(df)


def test_result_is_immutable_and_tidy_is_a_copy():
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1]})
    res = KaplanMeier(duration="t", event="e").fit(df)
    copy = res.tidy()
    copy.loc[0, "estimate"] = 99
    assert res.tidy().loc[0, "estimate"] != 99
    with pytest.raises(AttributeError, match="immutable"):
        res.groups = ()


def test_at_extend_false_drops_late_horizons():
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1]})
    res = KaplanMeier(duration="t", event="e").fit(df)
    assert len(res.at([2, 10], extend=False)) == 1
    row = res.at([10]).iloc[0]
    assert row["n_risk"] == 0 and row["estimate"] == 0


def test_logrank_strata_must_be_planned():
    df = pd.DataFrame({"t": [1, 2, 3, 4], "e": [1, 0, 1, 1], "g": list("abab"), "s": list("xxyy")})
    res = KaplanMeier(duration="t", event="e", group="g").fit(df)
    with pytest.raises(SpecificationError, match="not in the plan"):
        res.logrank(strata="s")


def test_time_spans_are_read_as_days_and_dates_refused():
    days = pd.DataFrame({"t": [3.0, 5, 5, 8, 10.5], "e": [1, 1, 0, 1, 0], "g": list("ababa")})
    spans = days.assign(t=pd.to_timedelta(days["t"], unit="D"))
    plain = KaplanMeier(duration="t", event="e", group="g").fit(days)
    res = KaplanMeier(duration="t", event="e", group="g").fit(spans)
    pd.testing.assert_frame_equal(res.tidy(), plain.tidy())
    assert res.glance()["time_unit"].item() == "days" and plain.time_unit is None
    assert "read as days" in " ".join(res.warnings) and "(days)" in str(res.summary())
    lr = LogRank(duration="t", event="e", group="g").fit(spans)
    assert lr.chisq == pytest.approx(LogRank(duration="t", event="e", group="g").fit(days).chisq)
    dated = days.assign(t=pd.Timestamp("2020-01-01") + spans["t"])
    with pytest.raises(DataError, match="holds dates.*durations_from_dates"):
        KaplanMeier(duration="t", event="e").fit(dated)
    with pytest.raises(DataError, match="holds dates"):
        LogRank(duration="t", event="e", group="g").fit(dated)


def test_zero_weights_are_dropped_with_a_warning_giving_the_count():
    from causalips.errors import DroppedRowsWarning

    df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 0, 1, 1, 0, 1], "g": list("aabbab"),
                       "w": [1.0, 0.0, 2.0, 0.0, 1.0, 3.0]})
    kept = df[df["w"] > 0]
    with pytest.warns(DroppedRowsWarning, match="2 of 6 rows have zero weight") as rec:
        res = KaplanMeier(duration="t", event="e", group="g", weights="w").fit(df)
    assert rec[0].message.n_dropped == 2 and res.n_obs == 4
    pd.testing.assert_frame_equal(
        res.tidy(), KaplanMeier(duration="t", event="e", group="g", weights="w").fit(kept).tidy())
    with pytest.warns(DroppedRowsWarning, match="2 of 6"):
        lr = LogRank(duration="t", event="e", group="g", weights="w").fit(df)
    assert lr.chisq == pytest.approx(
        LogRank(duration="t", event="e", group="g", weights="w").fit(kept).chisq, rel=1e-12)
    with pytest.raises(DataError, match="every weight in 'w' is zero"), \
            pytest.warns(DroppedRowsWarning):
        KaplanMeier(duration="t", event="e", weights="w").fit(df.assign(w=0.0))


def test_empty_data_and_odd_arguments_are_our_errors():
    empty = pd.DataFrame({"t": pd.Series([], dtype=float), "e": pd.Series([], dtype=int),
                          "g": pd.Series([], dtype=object)})
    with pytest.raises(DataError, match="no rows"):
        LogRank(duration="t", event="e", group="g").fit(empty)
    with pytest.raises(DataError, match="no rows"):
        KaplanMeier(duration="t", event="e").fit(empty)
    df = pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1]})
    with pytest.raises(SpecificationError, match="times must be"):
        KaplanMeier(duration="t", event="e").fit(df).at(["soon"])


def test_categorical_and_arrow_text_groups_give_the_same_curves():
    rng = np.random.default_rng(5)
    n = 500
    df = pd.DataFrame({"t": rng.integers(1, 90, n), "e": rng.integers(0, 2, n),
                       "g": rng.choice(["control", "ips", "lite"], n)})
    base = KaplanMeier(duration="t", event="e", group="g").fit(df).tidy()
    for dtype in ("category", "string[pyarrow]", "string[python]"):
        other = KaplanMeier(duration="t", event="e", group="g").fit(
            df.assign(g=df["g"].astype(dtype))).tidy()
        np.testing.assert_allclose(other["estimate"], base["estimate"], rtol=0, atol=1e-15)
        assert other["group"].tolist() == base["group"].tolist()


def test_delayed_entry_checks_and_reduces_to_the_plain_fit():
    df = pd.DataFrame({"t": [4.0, 6, 5, 8, 3, 9], "e": [1, 0, 1, 1, 0, 1],
                       "g": list("aabbab"), "entry": [0.0, 0, 2, 3, 1, 5]})
    zero = KaplanMeier(duration="t", event="e", group="g", entry="z").fit(df.assign(z=0.0))
    plain = KaplanMeier(duration="t", event="e", group="g").fit(df)
    pd.testing.assert_frame_equal(zero.tidy(), plain.tidy())
    with pytest.raises(DataError, match=r"1 rows have 'entry' >= 't' \(e.g. row 2: entry 5"):
        KaplanMeier(duration="t", event="e", entry="entry").fit(df.assign(entry=[0, 0, 5, 3, 1, 5.]))
    with pytest.raises(DataError, match="'entry' .*negative"):
        KaplanMeier(duration="t", event="e", entry="entry").fit(df.assign(entry=-1.0))
    with pytest.raises(DataError, match="both be time spans or both be numbers"):
        KaplanMeier(duration="t", event="e", entry="entry").fit(
            df.assign(entry=pd.to_timedelta(df["entry"], unit="D")))
    res = KaplanMeier(duration="t", event="e", group="g", entry="entry").fit(df)
    assert res.glance()["delayed_entry"].item()
    with pytest.raises(SpecificationError, match="delayed entry"):
        res.logrank()
    assert "delayed entry" in str(res.summary())
    res.report_section()  # no log-rank paragraph, no error


def test_delayed_entry_risk_sets_by_brute_force():
    rng = np.random.default_rng(9)
    n = 300
    entry = rng.integers(0, 40, n).astype(float)
    t = entry + rng.integers(1, 60, n)
    e = rng.integers(0, 2, n)
    w = rng.integers(1, 4, n).astype(float)
    df = pd.DataFrame({"t": t, "e": e, "entry": entry, "w": w})
    tidy = KaplanMeier(duration="t", event="e", entry="entry", weights="w").fit(df).tidy()
    times = np.unique(t)
    risk = np.array([w[(entry < u) & (t >= u)].sum() for u in times])
    d = np.array([w[(t == u) & (e == 1)].sum() for u in times])
    np.testing.assert_allclose(tidy["n_risk"], risk)
    np.testing.assert_allclose(tidy["estimate"], np.cumprod(1 - d / risk), rtol=1e-13)


def test_a_list_as_a_column_name_and_a_nan_rho_are_our_errors():
    df = pd.DataFrame({"t": [1.0, 2, 3], "e": [1, 0, 1], "g": list("aba")})
    with pytest.raises(SpecificationError, match=r"duration= must be one column name; got \['t'\]"):
        KaplanMeier(duration=["t"], event="e").fit(df)
    with pytest.raises(SpecificationError, match="group= must be one column name"):
        LogRank(duration="t", event="e", group=["g"]).fit(df)
    with pytest.raises(SpecificationError, match="rho must be a number >= 0"):
        LogRank(duration="t", event="e", group="g", rho=float("nan"))


def test_with_inference_is_refused_clearly():
    from causalips.inference import Bootstrap

    res = KaplanMeier(duration="t", event="e").fit(pd.DataFrame({"t": [1, 2, 3], "e": [1, 0, 1]}))
    with pytest.raises(SpecificationError, match="KaplanMeier results have one inference"):
        res.with_inference(Bootstrap())
