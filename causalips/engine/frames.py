"""What ``fit(data)`` accepts, and how each kind of data becomes one lazy table.

A pandas DataFrame stays on the estimators' own numpy path (it is already in memory, and that path
is the fastest there is). Everything else becomes a :class:`Table`: a narwhals ``LazyFrame`` over
the engine that holds the data, so that estimators can ask it for grouped aggregations without
collecting rows:

- a path to a Parquet or CSV file, a glob of them, or a list of paths: read by DuckDB, lazily (a
  Parquet file larger than memory is scanned, never loaded);
- a DuckDB relation (``con.sql(...)``, ``con.table("name")``, ``duckdb.read_parquet(...)``);
- a pyarrow Table (scanned by DuckDB without a copy);
- a polars DataFrame or LazyFrame (polars runs the aggregations);
- a PySpark DataFrame (Spark runs them; only the aggregated rows reach the driver).
"""

from __future__ import annotations

import glob as _glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import narwhals as nw
import pandas as pd

from ..errors import DataError

_CONNECTION = None

#: file endings DuckDB reads for us, by reader
PARQUET_ENDINGS = (".parquet", ".pq", ".parq")
CSV_ENDINGS = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")


def connection():
    """The DuckDB connection causalips uses for files and pyarrow tables (made on first use)."""
    global _CONNECTION
    if _CONNECTION is None:
        import duckdb

        _CONNECTION = duckdb.connect()
    return _CONNECTION


def set_connection(con) -> None:
    """Use ``con`` (a ``duckdb.DuckDBPyConnection``) for files, e.g. one with a memory limit or
    a temporary directory for spilling: ``duckdb.connect(config={"memory_limit": "2GB"})``."""
    global _CONNECTION
    _CONNECTION = con


@dataclass(frozen=True)
class Table:
    """Data held by an engine, seen through narwhals.

    ``frame`` is a narwhals LazyFrame; ``backend`` names the engine (``"duckdb"``, ``"polars"``,
    ``"spark"``); ``source`` describes the data in messages ("file 'panel.parquet'").
    """

    frame: Any
    backend: str
    source: str

    @property
    def columns(self) -> list[str]:
        return list(self.frame.collect_schema().names())

    @property
    def schema(self):
        return self.frame.collect_schema()

    def collect(self, query) -> pd.DataFrame:
        """Run ``query`` (a LazyFrame built on ``frame``) and return its rows as pandas.

        Only aggregated, small results pass through here; estimators never collect ``frame``.
        """
        return query.collect().to_pandas()


def sql_name(column: str) -> str:
    """``column`` as a quoted SQL identifier (for the few queries written in DuckDB's SQL)."""
    return '"' + column.replace('"', '""') + '"'


def is_in_memory(data: Any) -> bool:
    """True for data the estimators read directly: a pandas DataFrame or a dict of columns."""
    return isinstance(data, pd.DataFrame | dict)


def as_table(data: Any, *, what: str = "data") -> Table:
    """Wrap any supported input as a lazy :class:`Table`; refuse anything else clearly."""
    if isinstance(data, Table):
        return data
    if isinstance(data, str | Path) or (
            isinstance(data, Sequence) and not isinstance(data, str) and data
            and all(isinstance(p, str | Path) for p in data)):
        return _from_paths(data, what=what)
    module = type(data).__module__.split(".")[0]
    if isinstance(data, pd.DataFrame | dict):
        frame = pd.DataFrame(data) if isinstance(data, dict) else data
        return Table(nw.from_native(connection().from_df(frame)), "duckdb", "a pandas DataFrame")
    if module == "duckdb":
        return Table(nw.from_native(data), "duckdb", "a DuckDB relation")
    if module == "pyarrow" and hasattr(data, "schema") and hasattr(data, "num_rows"):
        return Table(nw.from_native(connection().from_arrow(data)), "duckdb", "a pyarrow Table")
    if module == "polars":
        frame = nw.from_native(data)
        lazy = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
        return Table(lazy, "polars", f"a polars {type(data).__name__}")
    if module == "pyspark":
        return Table(nw.from_native(data), "spark", "a Spark DataFrame")
    raise DataError(
        f"{what} must be a pandas DataFrame, a path to a Parquet or CSV file (or a glob of them), "
        "a DuckDB relation, a polars DataFrame or LazyFrame, a pyarrow Table or a Spark "
        f"DataFrame; got {type(data).__name__}. For Stata, SAS, SPSS or Excel files use "
        "causalips.io.read_table first.")


def _from_paths(data, *, what: str) -> Table:
    paths = [str(p) for p in ([data] if isinstance(data, str | Path) else data)]
    found = [p for p in paths if any(ch in p for ch in "*?[") and _glob.glob(p)
             or Path(p).exists()]
    if len(found) < len(paths):
        missing = next(p for p in paths if p not in found)
        raise DataError(f"{what}: no file matches {missing!r}; check the path (a glob such as "
                        "'panel/*.parquet' reads several files as one table)")
    lowered = [p.lower() for p in paths]
    con = connection()
    if all(p.endswith(PARQUET_ENDINGS) for p in lowered):
        relation = con.read_parquet(paths if len(paths) > 1 else paths[0])
    elif all(p.endswith(CSV_ENDINGS) for p in lowered):
        relation = con.read_csv(paths if len(paths) > 1 else paths[0])
    else:
        raise DataError(
            f"{what}: {paths[0]!r} is neither Parquet nor CSV. The engine reads .parquet and "
            ".csv/.tsv files in place; read other formats (Stata, SAS, SPSS, Excel) with "
            "causalips.io.read_table and pass the DataFrame.")
    shown = paths[0] if len(paths) == 1 else f"{paths[0]} and {len(paths) - 1} more"
    return Table(nw.from_native(relation), "duckdb", f"file {shown!r}")
