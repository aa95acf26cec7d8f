"""The data of the synthetic estimators: a balanced units x periods matrix and who is treated when.

Synthetic control and synthetic DiD need every unit in every period. The treated units and the
first treated period come from ``treated_unit`` + ``treatment_start``, from a 0/1 ``treatment``
column, or from a ``first_treated`` column (as ``DiD`` takes them); all treated units must start
together (a block design).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._checks import as_dataframe, check_columns, check_magnitude, check_not_empty, numeric_column
from ..errors import DataError


def unit_period_frame(data, *, unit: str, time: str, columns: Sequence[str], estimator: str):
    """The data as a pandas table of one row per unit and period.

    A synthetic control works on the unit x period outcome matrix, so data held by an engine
    (a Parquet path, DuckDB, polars, pyarrow, Spark) are brought in only when they already are
    that matrix: the engine checks that no unit-period repeats, then sends those rows. Person
    rows are refused with the aggregation to do first, never collected.
    """
    from ..engine import as_table, is_in_memory
    from ..engine.aggregate import one_row_per_key
    from ..engine.checks import require_columns

    if is_in_memory(data):
        return as_dataframe(data)
    table = as_table(data)
    require_columns(table, {"unit": unit, "time": time}
                    | {f"column {c!r}": c for c in columns if c not in (unit, time)})
    try:
        return one_row_per_key(table, [unit, time], list(columns), what="one per unit and period")
    except DataError as exc:
        raise DataError(
            f"{estimator} works on one row per {unit} and {time} (the outcome matrix); {exc} "
            f"For person rows, aggregate in the engine first, e.g. SELECT {unit}, {time}, "
            f"avg(outcome) ... GROUP BY {unit}, {time}, and fit on that table.") from None


def balanced_matrix(df, outcome, unit, time, extra: Sequence[str] = (), *,
                    extra_role: str = "predictor", allow_missing: Sequence[str] = ()):
    """Pivot a long panel to units x periods; refuse duplicates and missing unit-periods.

    Returns the outcome matrix, the unit labels (sorted), the sorted periods and a dict of
    matrices for the ``extra`` columns (NaN allowed in those named in ``allow_missing``).
    """
    check_columns(df, {"outcome": outcome, "unit": unit, "time": time,
                       **{f"{extra_role} {c!r}": c for c in extra}})
    check_not_empty(df)
    y = numeric_column(df, outcome, role="outcome")
    t = numeric_column(df, time, role="time")
    check_magnitude(y, outcome, role="outcome")
    if df[unit].isna().any():
        raise DataError(f"column {unit!r} (the unit) has {int(df[unit].isna().sum())} missing "
                        "values; give them a label or drop them")
    u_codes, u_labels = pd.factorize(df[unit], sort=True)
    periods, t_codes = np.unique(t, return_inverse=True)
    n_u, n_t = len(u_labels), periods.size
    key = u_codes * n_t + t_codes
    counts = np.bincount(key, minlength=n_u * n_t)
    if counts.max() > 1:
        dup = counts[key] > 1
        first = df.iloc[int(np.flatnonzero(dup)[0])][[unit, time]].to_dict()
        raise DataError(f"{int(dup.sum())} rows share the same {unit}/{time} pair (duplicate "
                        f"unit-period rows), e.g. {first}. Aggregate or drop the duplicates.")
    if (counts == 0).any():
        miss = int((counts == 0).sum())
        bad_u = u_labels[int(np.flatnonzero((counts == 0).reshape(n_u, n_t).any(axis=1))[0])]
        raise DataError(f"the panel is unbalanced: {miss} unit-periods are missing (e.g. unit "
                        f"{bad_u!r}); synthetic estimators need every unit in every period. "
                        "Drop incomplete units or fill the gaps first.")

    def matrix(values):
        M = np.empty((n_u, n_t))
        M[u_codes, t_codes] = values
        return M

    extras = {c: matrix(numeric_column(df, c, role=extra_role,
                                       allow_missing=c in allow_missing)) for c in extra}
    labels = [v.item() if isinstance(v, np.generic) else v for v in u_labels]
    return matrix(y), labels, periods, extras


def find_units(labels, wanted, unit):
    """Positions of the ``wanted`` unit labels (compared as given, then as text)."""
    wanted = list(wanted) if isinstance(wanted, list | tuple | set | np.ndarray) else [wanted]
    idx = []
    lookup = {str(v): i for i, v in enumerate(labels)}
    for w in wanted:
        if w in labels:
            idx.append(labels.index(w))
        elif str(w) in lookup:
            idx.append(lookup[str(w)])
        else:
            shown = ", ".join(repr(v) for v in labels[:8])
            raise DataError(f"treated_unit {w!r} is not a value of column {unit!r} (values: "
                            f"{shown}{' ...' if len(labels) > 8 else ''})")
    return np.array(sorted(set(idx)), dtype=np.int64)


def split_periods(periods, start, time):
    """Boolean mask of the pre-treatment periods (at least two, and at least one after)."""
    pre = periods < start
    if pre.sum() < 2:
        raise DataError(f"treatment starts in {start:g}, which leaves {int(pre.sum())} "
                        f"period(s) of {time!r} before treatment; at least 2 are needed")
    if pre.all():
        raise DataError(f"treatment starts in {start:g}, after the last period "
                        f"({periods[-1]:g}); no post-treatment period")
    return pre


def _block_start(first, column, what):
    """The common first treated period of the treated units, or a block-design error."""
    start = first.min()
    if not (first == start).all():
        starts = ", ".join(f"{v:g}" for v in np.unique(first)[:5])
        raise DataError(
            f"SyntheticDiD needs a block design: every treated unit exposed from the same "
            f"period to the end; column {column!r} {what} (first treated in {starts}). "
            "For staggered adoption use StaggeredDiD.")
    return float(start)


def timing_from_treatment(D, periods, column):
    """Treated units, start and notes from a units x periods 0/1 exposure matrix."""
    if not np.isin(D, (0.0, 1.0)).all():
        raise DataError(f"column {column!r} (the treatment) must be 0/1; "
                        f"{int((~np.isin(D, (0.0, 1.0))).sum())} unit-periods are not")
    ever = D.any(axis=1)
    if not ever.any():
        raise DataError(f"column {column!r} marks no unit as treated")
    first = periods[np.argmax(D[ever], axis=1)]
    start = _block_start(first, column, "has different starts")
    if not (D[ever] == (periods[None, :] >= start)).all():
        raise DataError(f"SyntheticDiD needs a block design: column {column!r} switches "
                        "exposure off again for some treated unit. For staggered adoption use "
                        "StaggeredDiD.")
    return np.flatnonzero(ever), start, []


def timing_from_first_treated(F, periods, column):
    """Treated units, start and notes from a units x periods matrix of the first treated
    period (0, NaN or inf: never treated; after the last period: not treated in the window)."""
    F = np.where(np.isfinite(F) & (F != 0), F, np.inf)
    varies = (F != F[:, :1]).any(axis=1)
    if varies.any():
        raise DataError(f"column {column!r} (the first_treated period) changes within "
                        f"{int(varies.sum())} unit(s); it must be one value per unit")
    first = F[:, 0]
    late = np.isfinite(first) & (first > periods[-1])
    notes = [f"{int(late.sum())} units first treated after the last period serve as controls "
             "(untreated within the observed periods)"] if late.any() else []
    ever = np.isfinite(first) & ~late
    if not ever.any():
        raise DataError(f"column {column!r} marks no unit as treated within the observed "
                        "periods")
    return np.flatnonzero(ever), _block_start(first[ever], column, "has several cohorts"), notes
