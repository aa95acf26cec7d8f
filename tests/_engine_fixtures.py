"""Fixtures shared by every test of data held outside pandas: the same data in each engine."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

#: the kinds of data fit() accepts besides a pandas DataFrame
BACKENDS = ("parquet", "csv", "duckdb", "pyarrow", "polars", "polars_lazy", "spark")


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (2 cores) that refuses to send more than 4 MB to the driver.

    Tests that run on it prove the work stays in Spark: a frame that would exceed the limit if
    collected fails loudly instead of being silently pulled into pandas.
    """
    if shutil.which("java") is None:
        pytest.skip("Spark tests need Java 17 (java not found on PATH)")
    pyspark = pytest.importorskip("pyspark.sql", reason="pip install 'causalips[spark]'")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    session = (pyspark.SparkSession.builder.master("local[2]").appName("causalips-tests")
               .config("spark.driver.maxResultSize", "4m")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def to_backend(tmp_path, request):
    """``to_backend(df, kind)``: ``df`` as a path, a DuckDB relation, a polars or Spark frame."""

    def convert(df: pd.DataFrame, kind: str):
        if kind == "pandas":
            return df
        if kind == "parquet":
            path = tmp_path / f"data_{len(list(tmp_path.iterdir()))}.parquet"
            df.to_parquet(path, index=False)
            return str(path)
        if kind == "csv":
            path = tmp_path / f"data_{len(list(tmp_path.iterdir()))}.csv"
            df.to_csv(path, index=False)
            return str(path)
        if kind == "duckdb":
            import duckdb

            return duckdb.connect().from_df(df)
        if kind == "pyarrow":
            import pyarrow as pa

            return pa.Table.from_pandas(df, preserve_index=False)
        if kind in ("polars", "polars_lazy"):
            import polars as pl

            frame = pl.from_pandas(df)
            return frame.lazy() if kind == "polars_lazy" else frame
        if kind == "spark":
            return request.getfixturevalue("spark").createDataFrame(df)
        raise ValueError(kind)

    return convert
