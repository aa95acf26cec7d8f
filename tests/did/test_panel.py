import numpy as np
import pandas as pd
import pytest

from causalips.errors import ColumnNotFoundError, DataError, SpecificationError
from causalips.panel import validate_panel


def small():
    return pd.DataFrame({"id": [1, 1, 1, 2, 2, 2, 3, 3], "year": [1, 2, 3, 1, 2, 3, 1, 3],
                         "y": [1.0, 2, 3, 1, 1, 1, 0, 0], "d": [0, 1, 1, 0, 0, 0, 0, 0],
                         "m": ["a", "a", "a", "b", "b", "b", "b", "b"]})


def test_codes_first_treated_and_flags():
    p = validate_panel(small(), outcome="y", unit="id", time="year", treatment="d", cluster="m")
    assert p.n_units == 3 and p.n_periods == 3 and p.n_clusters == 2
    assert p.first_treated.tolist() == [2.0, np.inf, np.inf]
    assert p.n_treated_clusters == 1
    assert p.unit_in_cluster and not p.balanced
    assert p.n_missing_periods == 1
    assert "1 unit-periods are missing" in p.warnings[0]
    np.testing.assert_array_equal(p.event_time[:3], [-1, 0, 1])
    assert not p.treatment_varies_within_cell


def test_first_treated_coding_equivalent_to_treatment():
    df = small()
    df["ft"] = [2, 2, 2, 0, 0, 0, np.nan, np.nan]
    a = validate_panel(df, outcome="y", unit="id", time="year", treatment="d")
    b = validate_panel(df, outcome="y", unit="id", time="year", first_treated="ft")
    np.testing.assert_array_equal(a.treat, b.treat)
    np.testing.assert_array_equal(a.first_treated, b.first_treated)
    df["ft"] = df["ft"].replace(0, np.inf)
    c = validate_panel(df, outcome="y", unit="id", time="year", first_treated="ft")
    np.testing.assert_array_equal(c.first_treated, a.first_treated)


def test_duplicates():
    df = pd.concat([small(), small().iloc[[0]]])
    with pytest.raises(DataError, match=r"2 rows share the same id/year.*aggregate or drop"):
        validate_panel(df, outcome="y", unit="id", time="year", treatment="d")


def test_switching_off():
    df = small()
    df.loc[2, "d"] = 0
    with pytest.raises(DataError, match="treatment switches off: 1 rows"):
        validate_panel(df, outcome="y", unit="id", time="year", treatment="d")


def test_always_treated_error_and_drop():
    df = small()
    df.loc[0, "d"] = 1
    with pytest.raises(DataError, match=r"1 units \(3 rows\) are never observed before"):
        validate_panel(df, outcome="y", unit="id", time="year", treatment="d")
    df2 = pd.concat([small(), pd.DataFrame({"id": [9, 9], "year": [1, 2], "y": [1.0, 1],
                                            "d": [1, 1], "m": ["a", "a"]})])
    p = validate_panel(df2, outcome="y", unit="id", time="year", treatment="d",
                       always_treated="drop")
    assert p.n_obs == 8 and p.dropped_always_treated == 2
    assert "always-treated" in p.warnings[0]


def test_non_numeric_outcome_and_missing():
    df = small()
    df["y"] = df["y"].astype(object)
    df.loc[3, "y"] = "n/a"
    with pytest.raises(DataError, match="must be numeric; 1 rows"):
        validate_panel(df, outcome="y", unit="id", time="year", treatment="d")
    df = small()
    df.loc[3, "y"] = np.nan
    with pytest.raises(DataError, match="1 missing or infinite"):
        validate_panel(df, outcome="y", unit="id", time="year", treatment="d")


def test_no_treated_single_group_single_cluster():
    df = small()
    df["d"] = 0
    with pytest.raises(DataError, match="no treated units"):
        validate_panel(df, outcome="y", unit="id", time="year", treatment="d")
    df = small()
    df["d"] = (df["year"] >= 2).astype(int)
    with pytest.raises(DataError, match="single group has no control"):
        validate_panel(df, outcome="y", unit="id", time="year", treatment="d")
    with pytest.raises(DataError, match="single value"):
        validate_panel(small().assign(m="a"), outcome="y", unit="id", time="year",
                       treatment="d", cluster="m")


def test_treatment_not_binary_first_treated_varies_and_zero_period():
    with pytest.raises(DataError, match="must be 0/1"):
        validate_panel(small().assign(d=[0, 2, 2, 0, 0, 0, 0, 0]), outcome="y", unit="id",
                       time="year", treatment="d")
    df = small()
    df["ft"] = [2, 3, 2, np.nan, np.nan, np.nan, np.nan, np.nan]
    with pytest.raises(DataError, match="changes within a unit"):
        validate_panel(df, outcome="y", unit="id", time="year", first_treated="ft")
    df = small()
    df["year"] = df["year"] - 1
    df["ft"] = [1, 1, 1, 0, 0, 0, 0, 0]
    with pytest.raises(DataError, match="0 is also an observed period"):
        validate_panel(df, outcome="y", unit="id", time="year", first_treated="ft")


def test_plan_errors():
    with pytest.raises(SpecificationError, match="exactly one"):
        validate_panel(small(), outcome="y", unit="id", time="year")
    with pytest.raises(ColumnNotFoundError, match="closest: 'year'"):
        validate_panel(small(), outcome="y", unit="id", time="yaer", treatment="d")


def test_person_level_timing_flag():
    df = small()
    df["m"] = "a"
    df.loc[[6, 7], "m"] = "b"
    p = validate_panel(df, outcome="y", unit="id", time="year", treatment="d", cluster="m")
    assert p.treatment_varies_within_cell


def test_sparse_unit_period_table_still_finds_duplicates():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": np.arange(3000) % 1500 * 7919, "day": rng.integers(0, 10**6, 3000)})
    df["y"] = 1.0
    df["d"] = ((df["id"] < 50_000) & (df["day"] > 900_000)).astype(int)
    df = df.drop_duplicates(["id", "day"])
    bad = pd.concat([df, df.iloc[[5]]])
    with pytest.raises(DataError, match="2 rows share the same id/day"):
        validate_panel(bad, outcome="y", unit="id", time="day", treatment="d",
                       always_treated="keep")
    p = validate_panel(df, outcome="y", unit="id", time="day", treatment="d",
                       always_treated="keep")
    assert p.n_missing_periods > 0 and not p.balanced
