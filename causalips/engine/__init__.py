"""Data where they live: one data-frame-agnostic layer between the data and the estimators.

Estimators state the sufficient statistics they need as grouped aggregations; this layer runs
them where the data are (DuckDB for files, and whatever engine holds a DuckDB relation, polars
frame, pyarrow table or Spark DataFrame) and hands back only the small aggregated table. The
layer is written once, on narwhals (see docs/architecture.md for why), not per engine.
"""

from .frames import Table, as_table, connection, is_in_memory, set_connection

__all__ = ["Table", "as_table", "connection", "set_connection", "is_in_memory"]
