"""Suppression of small numbers in tables meant for publication.

Counts of people between 1 and ``threshold - 1`` could identify someone, so published tables show
them as ``"<threshold"``. Zero is shown: it discloses nothing about a person.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

DEFAULT_THRESHOLD = 5


def suppress_small_counts(
    table: pd.DataFrame, columns: Iterable[str], threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """Replace counts in ``columns`` that are >0 and < ``threshold`` by ``"<threshold"``.

    Returns a new table (object dtype in the affected columns); other columns are unchanged.
    A ``threshold`` of 0 or 1 disables suppression.
    """
    out = table.copy()
    if threshold is None or threshold <= 1:
        return out
    marker = f"<{threshold}"
    for col in columns:
        if col not in out.columns:
            continue
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        small = (values > 0) & (values < threshold)
        if small.any():
            shown = out[col].astype(object)
            shown[small] = marker
            out[col] = shown
    return out


def is_suppressed(value) -> bool:
    return isinstance(value, str) and value.startswith("<")


def count_small(table: pd.DataFrame, columns: Iterable[str], threshold: int) -> int:
    """How many cells in ``columns`` would be suppressed (for tests and notes)."""
    total = 0
    for col in columns:
        if col in table.columns:
            v = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
            total += int(np.sum((v > 0) & (v < threshold)))
    return total
