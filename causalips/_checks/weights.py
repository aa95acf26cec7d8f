"""Weights: case weights of a fit, and weights that count people in the tables of site work.

One rule for zero case weights everywhere (the rows are dropped, with a count), and one for
weights that stand for people (non-negative, a total that can be a number of people).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError, DroppedRowsWarning, warn
from .numbers import check_nonnegative, numeric_column
from .rows import example_rows, plain

#: More people than this in a table is not a count (float64 holds whole numbers exactly to 9e15,
#: and no population is this large): weights this big are a scaling mistake.
MAX_PEOPLE = 1e12


def positive_weights(df: pd.DataFrame, col: str, *, stacklevel: int | None = None,
                     ) -> tuple[pd.DataFrame, np.ndarray, str | None]:
    """Case weights, with zero-weight rows dropped (one rule for every estimator).

    Returns the kept rows, their weights and the message (``None`` when nothing was dropped);
    the message is also issued as a :class:`~causalips.errors.DroppedRowsWarning` carrying the
    count. Negative, missing or non-numeric weights are refused; all-zero weights too.
    (``stacklevel`` is ignored: the warning points at the user's line.)
    """
    w = numeric_column(df, col, role="weights")
    check_nonnegative(df, w, col, role="weights")
    zero = w == 0
    if not zero.any():
        return df, w, None
    n_zero = int(zero.sum())
    msg = warn(f"{n_zero} of {len(df)} rows have zero weight in {col!r} and were dropped "
               f"(e.g. row {plain(df.index[zero][0])!r}); they carry no information",
               DroppedRowsWarning, n_dropped=n_zero)
    if n_zero == len(df):
        raise DataError(f"every weight in {col!r} is zero; nothing to estimate")
    return df.loc[~zero], w[~zero], msg


def weight_column(df: pd.DataFrame, col: str | None) -> np.ndarray:
    """Row weights where a row stands for that many people; ones when ``col`` is None.

    Refuses negative weights and totals that cannot be numbers of people (below one person, or
    above :data:`MAX_PEOPLE`), where the tests of a table would lose all meaning or overflow.
    """
    if col is None:
        return np.ones(len(df))
    w = numeric_column(df, col, role="weight")
    neg = w < 0
    if neg.any():
        raise DataError(
            f"column {col!r} (the weight) has {int(neg.sum())} negative values "
            f"(e.g. row {example_rows(df, neg)}); weights count people and must be >= 0"
        )
    total = float(w.sum())
    if w.size and not 1.0 <= total <= MAX_PEOPLE:
        big = total > MAX_PEOPLE
        at = np.argmax(w) if big else np.argmax(w > 0)
        raise DataError(
            f"column {col!r} (the weight) sums to {total:.4g} people (e.g. row "
            f"{plain(df.index[at])!r}: {w[at]:.4g}); a weight is the number of people a row "
            "stands for, so the total must lie between 1 and "
            f"{MAX_PEOPLE:.0e}. Rescale the weights to counts of people first"
        )
    return w


def non_whole_counts(df: pd.DataFrame, values: np.ndarray, col: str, *, role: str) -> str | None:
    """A message when counts of people are not whole numbers (``None`` when they all are)."""
    frac = np.abs(values - np.round(values)) > 1e-9 * np.maximum(1.0, np.abs(values))
    if not frac.any():
        return None
    return (f"column {col!r} (the {role}) holds {int(frac.sum())} counts that are not whole "
            f"numbers (e.g. row {example_rows(df, frac)}: {values[frac][0]:g}); they are used "
            "as counts of people, so tests and intervals that assume counts are approximate")


__all__ = ["MAX_PEOPLE", "positive_weights", "weight_column", "non_whole_counts"]
