"""How a check points at the data: plain labels, an example row, the missing-values message.

Every message about bad values names the column and its role, gives a count and an example row,
and says what to do; the pieces here keep those messages worded one way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError


def plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so labels are JSON-safe and print cleanly."""
    return value.item() if isinstance(value, np.generic) else value


def example_rows(df: pd.DataFrame, mask: np.ndarray, k: int = 1) -> str:
    """The index labels of the first ``k`` rows where ``mask`` holds, for a message."""
    idx = df.index[np.asarray(mask)][:k]
    return ", ".join(repr(plain(i)) for i in idx)


def missing_message(col: str, role: str, n_missing: int, example: str, advice: str, *,
                    what: str = "missing values") -> str:
    """The one wording of "this column has missing values": count, example, what to do.

    ``example`` says where (``"row 7"``, or the engine's ``"the row with {...}"``); ``what``
    names the kind (``"missing or infinite values"`` for numbers).

    Example
    -------
    >>> missing_message("age", "covariate", 2, "row 7", "drop those rows first.")
    "column 'age' (the covariate) has 2 missing values (e.g. row 7); drop those rows first."
    """
    return f"column {col!r} (the {role}) has {n_missing} {what} (e.g. {example}); {advice}"


def refuse_missing(df: pd.DataFrame, col: str, *, role: str, advice: str,
                   mask: np.ndarray | None = None, what: str = "missing values") -> None:
    """Stop on missing values in ``df[col]`` (or where ``mask`` holds): how many, an example row,
    and ``advice``."""
    miss = df[col].isna().to_numpy() if mask is None else np.asarray(mask)
    if miss.any():
        raise DataError(missing_message(col, role, int(miss.sum()),
                                        f"row {example_rows(df, miss)}", advice, what=what))


__all__ = ["plain", "example_rows", "missing_message", "refuse_missing"]
