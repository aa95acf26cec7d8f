"""Counts of people per cell, from pandas rows or from the engine that holds the data.

The person-level site estimators (Reach, Representativeness, OutcomeEquity,
RiskAdjustedComparison, and ``site_counts``) need only weighted sums per cell (site, group,
category, covariate values): people Σw, people with the outcome Σw·y and without it Σw·(1 − y),
and the number of rows. This module computes them where the data are: pandas for a DataFrame,
one grouped query (``engine.aggregate.grouped_at_most``: one pass over the data) for a file,
DuckDB relation, polars, pyarrow or Spark table, so only the cells come back. Both paths check
the columns first and say the same things: pandas through ``_checks``; in the engine the checks ride along in the same query as
counts per cell (missing outcomes, codes other than 0/1, missing labels, bad weights), and only
a problem found costs another query, for an example row. Everything after the counts is one
code path, in the estimators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from .. import engine
from .._checks import (
    MAX_PEOPLE,
    _plain,
    as_dataframe,
    binary_column,
    check_columns,
    check_no_duplicates,
    check_not_empty,
    non_whole_counts,
    refuse_missing,
    weight_column,
)
from ..engine.aggregate import grouped_at_most, one_row_per_key
from ..engine.checks import _is_numeric as numeric_kind
from ..engine.checks import numeric_expr, require_columns
from ..engine.frames import Table
from ..errors import DataError
from ._labels import label_codes

LABEL_ADVICE = "give them a label (e.g. 'not known') or drop the rows"
#: most cells a case-mix model is fitted from when the data are held by an engine: more means a
#: covariate is (nearly) unique per person, and the cells would be the rows, not a summary
MODEL_CELLS = 1_000_000
#: the count columns of a cell table (kept apart from the keys by their names)
COUNTS = ("_n", "_events", "_rows")
FLOAT_KINDS = (nw.Float32, nw.Float64)


@dataclass(frozen=True)
class Key:
    """A column the cells are keyed by, its role in messages, and what to do with a missing
    value (``advice=None``: missing values are a cell of their own, for the caller to judge)."""

    column: str
    role: str
    advice: str | None = LABEL_ADVICE


@dataclass(frozen=True)
class Counts:
    """People per cell: ``keys`` (one column per key), and aligned arrays ``n`` (Σw),
    ``events`` (Σw·y), ``non_events`` (n − events) and ``rows``; ``notes`` are warnings about
    the weights (counts that are not whole numbers)."""

    keys: pd.DataFrame
    n: np.ndarray
    events: np.ndarray
    non_events: np.ndarray
    rows: np.ndarray
    notes: tuple[str, ...] = ()

    def totals(self, column: str) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
        """Labels of ``column`` in order (sorted by text), with n, events and each cell's
        position among them."""
        levels, codes = label_codes(self.keys[column].to_numpy())
        n = np.bincount(codes, weights=self.n, minlength=len(levels))
        events = np.bincount(codes, weights=self.events, minlength=len(levels))
        return levels, n, events, codes


def case_mix_keys(columns: Sequence[str]) -> list[Key]:
    """The covariates of a case-mix model as cell keys (a missing value stops the fit)."""
    return [Key(c, "case-mix covariate", "impute or drop those rows first") for c in columns]


def open_data(data, roles: dict[str, str | None]) -> pd.DataFrame | Table:
    """A pandas DataFrame (in memory) or a lazy engine :class:`Table`, with its columns checked
    (the same ColumnNotFoundError either way)."""
    if engine.is_in_memory(data):
        df = as_dataframe(data)
        check_columns(df, roles)
        return df
    table = engine.as_table(data)
    require_columns(table, roles)
    return table


def site_rows(data, roles: dict[str, str | None], *, site: str, what: str) -> pd.DataFrame:
    """A table with one row per site (counts, scores) as pandas, whatever holds it.

    An engine checks first that no site repeats (the pandas path's message) and only then sends
    the rows, indexed by site name so that messages about a row name its site.
    """
    source = open_data(data, roles)
    if isinstance(source, Table):
        source = one_row_per_key(source, [site], [c for c in roles.values() if c], what=what)
        source.index = pd.Index(source[site].map(_plain).to_numpy(dtype=object), name=None)
    check_not_empty(source)
    check_no_duplicates(source, [site], what=what)
    return source


def count_people(source: pd.DataFrame | Table, *, keys: Sequence[Key] = (),
                 outcome: str | None = None, outcome_role: str = "outcome",
                 weight: str | None = None, what: str = "data",
                 max_cells: int | None = None) -> Counts:
    """Checked counts of people per cell of ``keys`` (all rows in one cell without keys).

    ``max_cells`` bounds the cells an engine may send back (a model fitted from cells): more
    stop the fit with an error naming the aggregation to do first.
    """
    keys = list({k.column: k for k in keys}.values())
    if isinstance(source, Table):
        return _count_in_engine(source, keys, outcome, outcome_role, weight, what, max_cells)
    check_not_empty(source, what=what)
    y = binary_column(source, outcome, role=outcome_role) if outcome else None
    for key in keys:
        if key.advice is not None:
            refuse_missing(source, key.column, role=key.role, advice=key.advice)
    w = weight_column(source, weight)
    columns = [k.column for k in keys]
    frame = pd.DataFrame({c: source[c].array for c in columns}
                         | {"_n": w, "_events": w if y is None else w * y, "_rows": 1})
    if columns:
        cells = frame.groupby(columns, sort=False, observed=True, dropna=False).sum()
        cells = cells.reset_index()
    else:
        cells = frame.sum().to_frame().T
    notes = (non_whole_counts(source, w, weight, role="weight"),) if weight else ()
    return _counts(cells, columns, notes)


def _counts(cells: pd.DataFrame, columns: list[str], notes) -> Counts:
    values = {c: pd.to_numeric(cells[c]).to_numpy(dtype=np.float64) for c in COUNTS}
    # people without the outcome as the difference: exactly 0 in a cell where all have it
    # (Σw and Σw·1 add the same numbers in the same order)
    return Counts(cells[columns].reset_index(drop=True), values["_n"], values["_events"],
                  values["_n"] - values["_events"], values["_rows"].astype(np.int64),
                  tuple(m for m in notes if m))


# -- the engine path: one grouped query carries the counts and the checks ----------------------
def _too_many_cells(table: Table, columns: list[str], limit: int) -> str:
    numeric = [c for c in columns if numeric_kind(table.schema[c])] or columns
    return (f"the model is fitted from counts of people per cell of {', '.join(columns)}, and "
            f"{table.source} has more than {limit:,} such cells: a covariate with a value per "
            f"person ({', '.join(numeric)}?) makes the cells the rows. Band it first, in the "
            "engine (e.g. SELECT *, FLOOR(age / 5) * 5 AS age_band ...), and adjust for the "
            "banded column.")


def _missing(table: Table, column: str):
    """Null (and NaN in a float column) as an expression."""
    missing = nw.col(column).is_null()
    if any(table.schema[column] == kind for kind in FLOAT_KINDS):
        missing = missing | nw.col(column).is_nan()
    return missing


def _not_whole(w):
    """A count that is not a whole number (the tolerance of ``_checks.non_whole_counts``)."""
    scale = nw.when(w.abs() > 1.0).then(w.abs()).otherwise(nw.lit(1.0))
    return (w - w.round(0)).abs() > 1e-9 * scale


def _kind(table: Table, column: str) -> str:
    """"int" (no NaN, whole numbers: cheap checks), "float", "bool", "text" or "other"."""
    dtype = table.schema[column]
    if dtype == nw.Boolean:
        return "bool"
    if dtype == nw.String:
        return "text"
    if any(dtype == kind for kind in FLOAT_KINDS) or dtype == nw.Decimal:
        return "float"
    return "int" if numeric_kind(dtype) else "other"


class _Column:
    """A 0/1 outcome or a weight column in the engine: its value, the rows with each problem
    (``conditions``), and aggregates that screen for them in the counting query itself.

    Integer and boolean columns are screened by count / min / max (as cheap as the sums);
    float and text columns need a flag per row (NaN, infinity, codes, fractions), summed.
    """

    def __init__(self, table: Table, column: str, role: str, *, outcome: bool):
        self.column, self.role, self.kind = column, role, _kind(table, column)
        col = nw.col(column)
        missing = _missing(table, column)
        if not outcome:
            self.value = numeric_expr(table, column, role)  # text refused, as in pandas
            bad = missing | ~(self.value.abs() < float("inf"))
            self.conditions = {"missing": bad, "negative": self.value < 0,
                               "fraction": _not_whole(self.value)}
            flagged = ("missing", "fraction") if self.kind == "float" else ()
        elif self.kind == "bool":
            self.value, self.conditions, flagged = col.cast(nw.Float64), {"missing": missing}, ()
        elif self.kind == "text":
            self.value = (col == "1").cast(nw.Float64)
            self.conditions = {"missing": missing, "other": ~missing & ~col.is_in(["0", "1"])}
            flagged = ("other",)
        elif self.kind in ("int", "float"):
            self.value = col.cast(nw.Float64)
            self.conditions = {"missing": missing,
                               "other": ~missing & ~self.value.is_in([0.0, 1.0])}
            flagged = ("missing", "other") if self.kind == "float" else ()
        else:  # dates and other kinds: every value is a wrong code (the value is a stand-in)
            self.value, flagged = missing.cast(nw.Float64), ("other",)
            self.conditions = {"missing": missing, "other": ~missing}
        self.aggs = {f"{column}::count": col.count()}
        if self.kind in ("int", "float", "bool"):
            self.aggs |= {f"{column}::min": self.value.min(), f"{column}::max": self.value.max()}
        self.aggs |= {f"{column}::{name}": self.conditions[name].cast(nw.Int64).sum()
                      for name in flagged}

    def screened(self, cells: pd.DataFrame, name: str) -> bool:
        """Whether the counting query saw any row with problem ``name``."""
        flag = f"{self.column}::{name}"
        if flag in cells:
            return bool(pd.to_numeric(cells[flag]).fillna(0).sum() > 0)
        if name == "missing":
            return bool((pd.to_numeric(cells[f"{self.column}::count"])
                         < pd.to_numeric(cells["_rows"])).any())
        low = pd.to_numeric(cells[f"{self.column}::min"]).min()
        high = pd.to_numeric(cells[f"{self.column}::max"]).max()
        if name == "negative":
            return bool(low < 0)
        return name == "other" and bool(low < 0 or high > 1)


def _count_in_engine(table: Table, keys: list[Key], outcome, outcome_role, weight, what,
                     max_cells) -> Counts:
    y = _Column(table, outcome, outcome_role, outcome=True) if outcome else None
    w = _Column(table, weight, "weight", outcome=False) if weight else None
    aggs = {"_rows": nw.len()}
    if w is None:
        aggs["_n"] = nw.len()
        if y is not None:
            aggs["_events"] = y.value.sum()
    else:
        aggs |= {"_n": w.value.sum()} | w.aggs
        if y is not None:
            aggs["_events"] = (w.value * y.value).sum()
    if y is not None:
        aggs |= y.aggs
    columns = [k.column for k in keys]
    if max_cells is None:
        cells = grouped_at_most(table, columns, aggs)
    else:
        cells = grouped_at_most(table, columns, aggs, max_groups=max_cells,
                                too_many=_too_many_cells(table, columns, max_cells))
    if y is None:
        cells["_events"] = cells["_n"]
    check = _EngineCheck(table, cells, columns)
    if check.total("_rows") == 0:
        raise DataError(f"{what} has no rows; nothing to estimate.")
    if y is not None:
        check.outcome(y)
    for key in keys:
        if key.advice is not None:
            check.key(key)
    return _counts(cells, columns, check.weight(w) if w is not None else ())


class _EngineCheck:
    """The pandas path's checks, read from the screens of a cell table; the count and an
    example row of a problem are fetched from the engine only when a screen finds one."""

    def __init__(self, table: Table, cells: pd.DataFrame, columns: list[str]):
        self.table, self.cells, self.columns = table, cells, columns

    def total(self, column: str) -> float:
        if not len(self.cells):
            return 0.0
        return float(pd.to_numeric(self.cells[column]).fillna(0).sum())

    def rows(self, condition) -> int:
        query = self.table.frame.select(condition.cast(nw.Int64).sum().alias("n"))
        return int(pd.to_numeric(self.table.collect(query)["n"]).fillna(0).iloc[0])

    def example(self, condition, column: str) -> str:
        """One row where ``condition`` holds, as ``col=value`` pairs of the keys and ``column``."""
        shown = list(dict.fromkeys([*self.columns, column]))[:4]
        rows = self.table.collect(self.table.frame.filter(condition).select(shown).head(1))
        if rows.empty:
            return ""
        return ", ".join(f"{c}={_plain(rows.iloc[0][c])!r}" for c in shown)

    def problem(self, col: _Column, name: str) -> tuple[int, str]:
        """(rows with problem ``name``, an example) — (0, "") when the screen saw none."""
        if not col.screened(self.cells, name):
            return 0, ""
        condition = col.conditions[name]
        return self.rows(condition), self.example(condition, col.column)

    def outcome(self, y: _Column) -> None:
        name = f"column {y.column!r} (the {y.role})"
        n, where = self.problem(y, "missing")
        if n:
            raise DataError(f"{name} has {n} missing values (e.g. the row with {where}); code "
                            "them 0/1 or drop the rows")
        n, where = self.problem(y, "other")
        if n:
            raise DataError(f"{name} must be 0/1 or boolean; {n} rows are not (e.g. the row "
                            f"with {where})")

    def key(self, key: Key) -> None:
        gap = self.cells[key.column].isna().to_numpy()
        if gap.any():
            n = int(pd.to_numeric(self.cells.loc[gap, "_rows"]).sum())
            where = self.example(_missing(self.table, key.column), key.column)
            raise DataError(f"column {key.column!r} (the {key.role}) has {n} missing values "
                            f"(e.g. the row with {where}); {key.advice}")

    def weight(self, w: _Column) -> tuple[str, ...]:
        name = f"column {w.column!r} (the weight)"
        n, where = self.problem(w, "missing")
        if n:
            raise DataError(f"{name} has {n} missing or infinite values (e.g. the row with "
                            f"{where}); drop or impute those rows first.")
        n, where = self.problem(w, "negative")
        if n:
            raise DataError(f"{name} has {n} negative values (e.g. the row with {where}); "
                            "weights count people and must be >= 0")
        total = self.total("_n")
        if not 1.0 <= total <= MAX_PEOPLE:
            largest = float(pd.to_numeric(self.cells[f"{w.column}::max"]).max())
            at = w.value == largest if total > MAX_PEOPLE else w.value > 0
            where = self.example(at, w.column) or self.example(nw.lit(True), w.column)
            raise DataError(
                f"{name} sums to {total:.4g} people (e.g. the row with {where}); a weight is the "
                "number of people a row stands for, so the total must lie between 1 and "
                f"{MAX_PEOPLE:.0e}. Rescale the weights to counts of people first")
        n, where = self.problem(w, "fraction") if w.kind == "float" else (0, "")
        if n:
            return (f"{name} holds {n} counts that are not whole numbers (e.g. the row with "
                    f"{where}); they are used as counts of people, so tests and intervals that "
                    "assume counts are approximate",)
        return ()


def keep_rows(table: Table, condition) -> Table:
    """The rows of ``table`` where ``condition`` holds, still in the engine."""
    return Table(table.frame.filter(condition), table.backend, table.source)


__all__ = ["Counts", "Key", "MODEL_CELLS", "case_mix_keys", "count_people", "keep_rows",
           "open_data", "site_rows"]
