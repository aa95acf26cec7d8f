"""Small tables joined back onto the rows, inside the engine that holds the rows.

Some statistics need a per-row value that depends on a small summary computed in numpy (e.g.
a Cox model's cumulative hazard pieces per distinct time, for its score residuals). The
summary goes to the engine, is joined to the rows there, and the per-row values are then
aggregated again in the engine: the rows never come back. This is the one place that knows
how each engine receives a small table.
"""

from __future__ import annotations

from collections.abc import Sequence

import narwhals as nw
import pandas as pd

from .frames import Table, sql_name


def join_small(table: Table, frame, small: pd.DataFrame, on: Sequence[str]):
    """``frame`` (a LazyFrame built on ``table``) left-joined with the pandas table ``small``
    on the columns ``on``, run by ``table``'s engine.

    ``small`` should be small (it is shipped whole to the engine; Spark broadcasts it) and its
    other columns must not clash with ``frame``'s. The key columns must hold the same values as
    in ``frame`` (typically they were collected from an aggregation of it).
    """
    on = list(on)
    if table.backend == "duckdb":
        return _join_duckdb(frame, small, on)
    if table.backend == "polars":
        import polars as pl

        other = nw.from_native(pl.from_pandas(small).lazy())
        return frame.join(other, on=on, how="left")
    if table.backend == "spark":
        from pyspark.sql import functions as sf

        native = frame.to_native()
        other = sf.broadcast(native.sparkSession.createDataFrame(small))
        return nw.from_native(native.join(other, on=on, how="left"))
    raise NotImplementedError(f"no small-table join for the {table.backend!r} engine")


def _join_duckdb(frame, small: pd.DataFrame, on: list[str]):
    """DuckDB: the rows' relation may belong to any connection (the user's own); its
    ``query`` runs on that connection and sees the local pyarrow table by name (DuckDB's
    replacement scan), so the small table is read where the rows are."""
    import pyarrow as pa

    native = frame.to_native()
    causalips_small = pa.Table.from_pandas(small, preserve_index=False)  # noqa: F841 (scanned)
    keys = ", ".join(sql_name(c) for c in on)
    joined = native.query("causalips_rows",
                          f"SELECT * FROM causalips_rows LEFT JOIN causalips_small USING ({keys})")
    return nw.from_native(joined)

