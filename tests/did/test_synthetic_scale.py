"""Synthetic control and synthetic DiD on data held by an engine: the unit x period matrix is
brought in after the engine checks it is one; person rows are refused, never collected."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _engine_fixtures import BACKENDS  # (spark, to_backend: tests/conftest.py)

import causalips as ci
from causalips.errors import DataError


def panel(seed=0, units=12, years=10):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"unit": np.repeat([f"u{i:02d}" for i in range(units)], years),
                       "year": np.tile(np.arange(2010, 2010 + years), units)})
    df["y"] = (rng.normal(size=units)[np.repeat(np.arange(units), years)]
               + 0.3 * (df["year"] - 2010) + rng.normal(scale=0.2, size=len(df)))
    df.loc[(df["unit"] == "u00") & (df["year"] >= 2016), "y"] += 2.0
    df["d"] = ((df["unit"] == "u00") & (df["year"] >= 2016)).astype(int)
    return df


def _quiet(est, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data)


@pytest.mark.parametrize("kind", [k for k in BACKENDS if k != "spark"])
def test_unit_period_tables_in_an_engine_fit_as_in_pandas(kind, to_backend):
    df = panel()
    sc = ci.SyntheticControl(outcome="y", unit="unit", time="year", treated_unit="u00",
                             treatment_start=2016)
    sdid = ci.SyntheticDiD(outcome="y", unit="unit", time="year", treatment="d",
                           inference=ci.Placebo(reps=20, seed=1))
    for est in (sc, sdid):
        want = _quiet(est, df).tidy()
        got = _quiet(est, to_backend(df, kind)).tidy()
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-10)


@pytest.mark.parametrize("kind", ["parquet", "duckdb", "polars"])
def test_person_rows_are_refused_with_the_aggregation_to_do(kind, to_backend):
    people = pd.concat([panel(), panel(seed=1)])  # two people per unit and year
    est = ci.SyntheticControl(outcome="y", unit="unit", time="year", treated_unit="u00",
                              treatment_start=2016)
    with pytest.raises(DataError, match=r"one row per unit and year.*GROUP BY unit, year"):
        est.fit(to_backend(people, kind))
