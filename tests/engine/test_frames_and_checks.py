"""What fit() accepts, and validation run as queries with the pandas path's messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BACKENDS

from causalips import engine
from causalips._checks import check_columns, check_no_duplicates, numeric_column
from causalips.engine.checks import check_unique, check_values, require_columns
from causalips.errors import ColumnNotFoundError, DataError


def panel(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"person": np.repeat(np.arange(n // 4), 4),
                         "year": np.tile(np.arange(2010, 2014), n // 4),
                         "days": rng.integers(0, 365, n).astype(float),
                         "group": rng.choice(["a", "b"], n)})


@pytest.mark.parametrize("kind", BACKENDS)
def test_every_kind_becomes_a_lazy_table_with_the_columns(kind, to_backend):
    df = panel()
    table = engine.as_table(to_backend(df, kind))
    assert table.columns == list(df.columns)
    got = table.collect(table.frame.select(table.frame.collect_schema().names()[2:3]))
    assert got["days"].sum() == pytest.approx(df["days"].sum())


def test_globs_and_lists_of_files_read_as_one_table(tmp_path):
    df = panel()
    df.iloc[:20].to_parquet(tmp_path / "part1.parquet")
    df.iloc[20:].to_parquet(tmp_path / "part2.parquet")
    for source in (str(tmp_path / "part*.parquet"),
                   [tmp_path / "part1.parquet", tmp_path / "part2.parquet"]):
        table = engine.as_table(source)
        import narwhals as nw

        assert table.collect(table.frame.select(nw.len()))["len"].iloc[0] == len(df)


def test_unknown_inputs_and_missing_files_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="must be a pandas DataFrame, a path"):
        engine.as_table(42)
    with pytest.raises(DataError, match="no file matches"):
        engine.as_table(str(tmp_path / "nothere.parquet"))
    (tmp_path / "x.dta").write_bytes(b"")
    with pytest.raises(DataError, match="read_table"):
        engine.as_table(str(tmp_path / "x.dta"))


def _message(fn, *args, **kw):
    with pytest.raises(DataError) as info:
        fn(*args, **kw)
    return str(info.value)


@pytest.mark.parametrize("kind", ["parquet", "duckdb", "polars", "spark"])
def test_checks_in_the_engine_say_what_the_pandas_path_says(kind, to_backend):
    df = panel()
    missing_col = _message(check_columns, df, {"outcome": "dyas"})
    table = engine.as_table(to_backend(df, kind))
    with pytest.raises(ColumnNotFoundError) as info:
        require_columns(table, {"outcome": "dyas"})
    assert str(info.value) == missing_col  # word for word

    bad = df.copy()
    bad.loc[[3, 7, 9], "days"] = np.nan
    pandas_msg = _message(numeric_column, bad, "days", role="outcome")
    engine_msg = _message(check_values, engine.as_table(to_backend(bad, kind)),
                          {"outcome": "days"}, keys=["person", "year"])
    assert pandas_msg.split(" (e.g.")[0] == engine_msg.split(" (e.g.")[0]
    assert "3 missing or infinite values" in engine_msg and "person=" in engine_msg

    neg = df.assign(days=df["days"] - 100)
    n_neg = int((neg["days"] < 0).sum())
    msg = _message(check_values, engine.as_table(to_backend(neg, kind)), {"duration": "days"},
                   nonnegative=["days"])
    assert f"has {n_neg} negative values" in msg

    dup = pd.concat([df, df.iloc[[5]]])
    pandas_msg = _message(check_no_duplicates, dup, ["person", "year"], what="one row each")
    engine_msg = _message(check_unique, engine.as_table(to_backend(dup, kind)),
                          ["person", "year"], what="one row each")
    assert pandas_msg == engine_msg


@pytest.mark.parametrize("kind", ["parquet", "duckdb", "polars"])
def test_text_and_dates_in_numeric_roles_are_refused(kind, to_backend):
    df = panel().assign(days=lambda d: d["days"].astype(str))
    df.loc[2, "days"] = "n/a"
    with pytest.raises(DataError, match="'days' \\(the outcome\\) must be numeric"):
        check_values(engine.as_table(to_backend(df, kind)), {"outcome": "days"})
    dated = panel().assign(days=pd.Timestamp("2020-01-01"))
    with pytest.raises(DataError, match="holds dates"):
        check_values(engine.as_table(to_backend(dated, kind)), {"outcome": "days"})


def test_durations_in_timedelta_become_days(to_backend):
    df = panel().assign(days=pd.to_timedelta(panel()["days"], unit="D"))
    table = engine.as_table(to_backend(df, "duckdb"))
    from causalips.engine.checks import numeric_expr

    got = table.collect(table.frame.select(numeric_expr(table, "days", "duration")))
    np.testing.assert_allclose(got["days"], panel()["days"])
