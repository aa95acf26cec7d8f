"""Dates -> durations: closed-form cases and impossible orderings."""

from __future__ import annotations

import pandas as pd
import pytest

from causalips import DataError, SpecificationError, durations_from_dates


def _df(**cols):
    return pd.DataFrame(cols)


def test_event_censor_competing_and_cutoff():
    df = _df(
        start=["2023-01-01"] * 5,
        job=["2023-01-31", None, None, "2024-06-01", "2023-03-01"],
        left=[None, "2023-02-15", None, None, "2023-03-01"],
    )
    out = durations_from_dates(df, start="start", event="job", end="left", cutoff="2024-02-27",
                               end_is_competing=True)
    cut_days = (pd.Timestamp("2024-02-27") - pd.Timestamp("2023-01-01")).days
    assert out["duration"].tolist() == [30, 45, cut_days, cut_days, 59]
    assert out["event"].tolist() == [1, 0, 0, 0, 1]
    assert out["event_type"].tolist() == [1, 2, 0, 0, 1]  # job on the discharge day counts
    assert "duration" not in df.columns  # input untouched


def test_end_censors_when_not_competing():
    df = _df(start=["2023-01-01"], job=[None], left=["2023-01-11"])
    out = durations_from_dates(df, start="start", event="job", end="left", cutoff="2024-01-01")
    assert out["duration"].item() == 10 and out["event_type"].item() == 0


def test_cutoff_per_row_column():
    df = _df(start=["2023-01-01", "2023-01-01"], job=[None, "2023-05-01"],
             cut=["2023-02-01", "2023-04-01"])
    out = durations_from_dates(df, start="start", event="job", cutoff="cut")
    assert out["duration"].tolist() == [31, 90] and out["event"].tolist() == [0, 0]


@pytest.mark.parametrize(
    "cols, message",
    [
        (dict(start=["2023-02-01"], job=["2023-01-01"]), "'job' before 'start'"),
        (dict(start=[None], job=["2023-01-01"]), "no 'start' date"),
        (dict(start=["2025-01-01"], job=[None]), "start after the cut-off"),
        (dict(start=["2023-01-01"], job=["not a date"]), "not dates"),
    ],
)
def test_impossible_orderings(cols, message):
    with pytest.raises(DataError, match=message):
        durations_from_dates(_df(**cols), start="start", event="job", cutoff="2024-02-27")


def test_event_after_end_choices():
    df = _df(start=["2023-01-01"], job=["2023-03-01"], left=["2023-02-01"])
    with pytest.raises(DataError, match="event_after_end="):
        durations_from_dates(df, start="start", event="job", end="left", cutoff="2024-01-01")
    censored = durations_from_dates(df, start="start", event="job", end="left",
                                    cutoff="2024-01-01", event_after_end="censor")
    assert censored["event"].item() == 0 and censored["duration"].item() == 31
    kept = durations_from_dates(df, start="start", event="job", end="left",
                                cutoff="2024-01-01", event_after_end="keep")
    assert kept["event"].item() == 1 and kept["duration"].item() == 59


def test_end_before_start_and_bad_cutoff():
    df = _df(start=["2023-02-01"], job=[None], left=["2023-01-01"])
    with pytest.raises(DataError, match="'left' before 'start'"):
        durations_from_dates(df, start="start", event="job", end="left", cutoff="2024-01-01")
    with pytest.raises(SpecificationError, match="cutoff must be a date"):
        durations_from_dates(df, start="start", event="job", cutoff="soon")


def test_integer_dates_are_refused_with_how_to_convert():
    df = _df(start=[20230101, 20230105], job=["2023-02-01", None])
    with pytest.raises(DataError, match=r"holds numbers \(e.g. 20230101\).*format='%Y%m%d'"):
        durations_from_dates(df, start="start", event="job", cutoff="2024-01-01")
    with pytest.raises(SpecificationError, match="got the number 20240101"):
        durations_from_dates(_df(start=["2023-01-01"], job=[None]), start="start",
                             event="job", cutoff=20240101)


def test_time_zones_must_not_be_mixed():
    df = _df(start=["2023-01-01", "2023-01-05"], job=["2023-02-01", None])
    with pytest.raises(DataError, match="mix time zones.*'the cut-off' have a time zone"):
        durations_from_dates(df, start="start", event="job",
                             cutoff=pd.Timestamp("2024-01-01", tz="UTC"))
    offsets = df.assign(start=["2023-01-01T00:00+01:00", "2023-01-01T00:00+00:00"])
    with pytest.raises(DataError, match="different time zones or UTC offsets"):
        durations_from_dates(offsets, start="start", event="job", cutoff="2024-01-01")
    # all with a zone: counted on the start column's calendar
    aware = df.assign(start=pd.to_datetime(df["start"]).dt.tz_localize("Europe/London"),
                      job=pd.to_datetime(df["job"]).dt.tz_localize("UTC"))
    out = durations_from_dates(aware, start="start", event="job",
                               cutoff=pd.Timestamp("2024-01-01", tz="UTC"))
    assert out["duration"].tolist() == [31, 361]
