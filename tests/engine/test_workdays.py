"""workdays_by_period against a day-by-day brute force, on every engine."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import BACKENDS
from hypothesis import given, settings
from hypothesis import strategies as st

from causalips import workdays_by_period
from causalips.errors import DataError


def brute_force(spells: pd.DataFrame, until=None) -> pd.DataFrame:
    """Expand every spell to its days; a day's work is min(1, sum of shares); sum per year."""
    rows = []
    for r in spells.itertuples(index=False):
        end = r.end if pd.notna(r.end) else pd.Timestamp(until)
        if until is not None:
            end = min(end, pd.Timestamp(until))
        for day in pd.date_range(r.start, end, freq="D"):
            rows.append((r.person, day, r.share))
    days = pd.DataFrame(rows, columns=["person", "day", "share"])
    if days.empty:
        return pd.DataFrame(columns=["person", "year", "workdays"])
    per_day = days.groupby(["person", "day"])["share"].sum().clip(upper=1).reset_index()
    per_day["year"] = per_day["day"].dt.year
    out = per_day.groupby(["person", "year"])["share"].sum().rename("workdays").reset_index()
    return out[out["workdays"] > 0].reset_index(drop=True)


def random_spells(seed: int, n_people: int = 6, n_spells: int = 15) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2009-10-01") + pd.to_timedelta(rng.integers(0, 1500, n_spells), "D")
    length = rng.integers(0, 600, n_spells)
    return pd.DataFrame({
        "person": rng.integers(1, n_people + 1, n_spells),
        "start": start,
        "end": start + pd.to_timedelta(length, "D"),
        "share": rng.choice([1.0, 0.5, 0.2, 0.8], n_spells),
    })


def _as_pandas(result) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        return result
    import narwhals as nw

    frame = nw.from_native(result)
    frame = frame.collect() if hasattr(frame, "collect") else frame
    return frame.to_pandas()


def _same(got, want):
    got = _as_pandas(got).sort_values(["person", "year"]).reset_index(drop=True)
    np.testing.assert_array_equal(got["person"], want["person"])
    np.testing.assert_array_equal(got["year"], want["year"])
    np.testing.assert_allclose(got["workdays"], want["workdays"], rtol=1e-12, atol=1e-9)


def test_overlaps_part_time_and_year_boundaries_by_hand():
    spells = pd.DataFrame({
        "person": [1, 1, 1, 2],
        "start": pd.to_datetime(["2010-03-01", "2010-06-01", "2011-12-20", "2011-07-01"]),
        "end": pd.to_datetime(["2010-07-01", "2010-08-01", "2012-01-10", "2013-06-30"]),
        "share": [1.0, 0.5, 1.0, 0.5],
    })
    out = workdays_by_period(spells, person="person", start="start", end="end",
                             fraction="share")
    # person 1, 2010: Mar 1 - Jul 1 full (123 days, the June overlap capped at one day),
    # Jul 2 - Aug 1 half (31 days) = 138.5; Dec 20-31 2011 = 12; Jan 1-10 2012 = 10.
    # person 2: half of Jul 1 - Dec 31 2011 (184), of 2012 (366, a leap year), of H1 2013 (181)
    assert out["workdays"].tolist() == [138.5, 12.0, 10.0, 92.0, 183.0, 90.5]
    assert out["year"].tolist() == [2010, 2011, 2012, 2011, 2012, 2013]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_equals_day_by_day_brute_force(seed):
    spells = random_spells(seed)
    got = workdays_by_period(spells, person="person", start="start", end="end",
                             fraction="share")
    _same(got, brute_force(spells))


def test_open_spells_closed_at_the_cut_off():
    spells = random_spells(3)
    spells.loc[[0, 4], "end"] = pd.NaT
    until = "2012-06-30"
    got = workdays_by_period(spells, person="person", start="start", end="end",
                             fraction="share", until=until)
    _same(got, brute_force(spells, until=until))
    with pytest.raises(DataError, match="2 spells have no end date.*until="):
        workdays_by_period(spells, person="person", start="start", end="end")


@pytest.mark.parametrize("kind", BACKENDS)
def test_every_engine_gives_the_same_panel(kind, to_backend):
    spells = random_spells(11, n_people=20, n_spells=60)
    got = workdays_by_period(to_backend(spells, kind), person="person", start="start",
                             end="end", fraction="share")
    assert not isinstance(got, pd.DataFrame)  # stays in the engine
    _same(got, brute_force(spells))


def test_bad_spells_are_clear_errors():
    spells = random_spells(5)
    with pytest.raises(DataError, match="end before they start"):
        workdays_by_period(spells.assign(end=spells["start"] - dt.timedelta(days=3)),
                           person="person", start="start", end="end")
    with pytest.raises(DataError, match=r"outside \(0, 1\]"):
        workdays_by_period(spells.assign(share=1.5), person="person", start="start",
                           end="end", fraction="share")
    with pytest.raises(DataError, match="must hold dates"):
        workdays_by_period(spells.assign(start=1), person="person", start="start", end="end")
    from causalips.errors import ColumnNotFoundError

    with pytest.raises(ColumnNotFoundError, match="'strat'"):
        workdays_by_period(spells, person="person", start="strat", end="end")
