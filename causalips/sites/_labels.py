"""Labels of groups, sites and categories: their one order, and the reference level."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._checks import _plain
from ..errors import SpecificationError


def ordered_labels(values: np.ndarray) -> list:
    """The distinct labels of a column, sorted by their text (the order of every table)."""
    return [_plain(v) for v in sorted(pd.unique(values).tolist(), key=str)]


def reference_level(reference, levels: Sequence, column: str):
    """The level others are compared with: ``reference``, or the first level when it is None."""
    if reference is None:
        return levels[0]
    if reference not in levels:
        raise SpecificationError(f"reference={reference!r} is not a value of {column!r}; "
                                 "values: " + ", ".join(repr(v) for v in levels))
    return reference


def label_codes(values: np.ndarray) -> tuple[list, np.ndarray]:
    """The labels in order (:func:`ordered_labels`) and each row's position among them."""
    levels = ordered_labels(values)
    return levels, pd.Index(levels).get_indexer(pd.Series(values).map(_plain))


__all__ = ["label_codes", "ordered_labels", "reference_level"]
