"""Checks of the plan against the data: the table itself, its column names, option values.

These run before any value is read: is it a table, does it have rows, does every column the
plan names exist (and if not, which names are close), is each option one of its choices or in
its range, is each key unique.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ColumnNotFoundError, DataError, SpecificationError


def as_dataframe(data: Any, *, what: str = "data") -> pd.DataFrame:
    """Accept a DataFrame (or a dict of columns) and refuse anything else clearly."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        try:
            return pd.DataFrame(data)
        except ValueError as exc:
            raise DataError(f"{what}: could not build a table from the dict ({exc})") from None
    raise DataError(
        f"{what} must be a pandas DataFrame; got {type(data).__name__}. "
        "Read your file with pandas.read_csv / read_parquet first."
    )


def closest_names(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Column names that look like ``name`` (case-insensitive), best first."""
    cands = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(str(name).lower(), list(lowered), n=n, cutoff=0.6)
    return [lowered[h] for h in hits]


def check_columns(df: pd.DataFrame, columns: dict[str, str | None]) -> None:
    """Raise if any named column is missing; ``columns`` maps role -> column name.

    Example
    -------
    >>> check_columns(pd.DataFrame({"days": [1]}), {"duration": "dyas"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    causalips.errors.ColumnNotFoundError: column 'dyas' (the duration) not found; closest: 'days'...
    """
    for role, col in columns.items():
        if col is None:
            continue
        if not isinstance(col, Hashable):
            raise SpecificationError(
                f"{role}= must be one column name; got {col!r}. Pass the name itself, "
                f"e.g. {role}={next(iter(col), 'name')!r}" if isinstance(col, list | tuple)
                else f"{role}= must be one column name; got {col!r}")
        if col not in df.columns:
            close = closest_names(col, df.columns)
            hint = f"; closest: {', '.join(repr(c) for c in close)}" if close else ""
            shown = ", ".join(repr(str(c)) for c in list(df.columns)[:12])
            more = " ..." if len(df.columns) > 12 else ""
            # a role is an option name ("duration"), one item of a list option
            # ("covariates[2]"), or a description ("fixed effect 'region'")
            option = role.split("[", 1)[0]
            what = f"one of the {option}" if "[" in role else f"the {role}"
            fix = (f"Pass the right name as {option}=." if option.isidentifier()
                   else "Fix the name in the plan.")
            raise ColumnNotFoundError(
                f"column {col!r} ({what}) not found{hint}. The data have: {shown}{more}. {fix}"
            )


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
    """Refuse a value that is not one of ``allowed``, listing them."""
    if value not in allowed:
        close = (
            difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
            if isinstance(value, str)
            else []
        )
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        choices = ", ".join(repr(a) for a in allowed)
        raise SpecificationError(f"{name} must be one of {{{choices}}}; got {value!r}{hint}")
    return value


def check_range(name: str, value: float, low: float, high: float, *, inclusive=(False, False)):
    """Refuse a number outside (low, high) (ends included as ``inclusive`` says)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SpecificationError(f"{name} must be a number; got {value!r}") from None
    lo_ok = v >= low if inclusive[0] else v > low
    hi_ok = v <= high if inclusive[1] else v < high
    if not (lo_ok and hi_ok and np.isfinite(v)):
        lb = "[" if inclusive[0] else "("
        rb = "]" if inclusive[1] else ")"
        raise SpecificationError(f"{name} must lie in {lb}{low}, {high}{rb}; got {value!r}")
    return v


def check_no_duplicates(df: pd.DataFrame, keys: Sequence[str], *, what: str) -> None:
    """Each combination of ``keys`` appears once (e.g. one row per unit and period)."""
    dup = df.duplicated(subset=list(keys), keep=False).to_numpy()
    if dup.any():
        first = df.loc[dup, list(keys)].iloc[0].to_dict()
        raise DataError(
            f"{int(dup.sum())} rows share the same {'/'.join(keys)} ({what}); e.g. {first}. "
            "Each key must appear once: aggregate or drop the duplicates first."
        )


def check_not_empty(df: pd.DataFrame, *, what: str = "data") -> None:
    """Refuse a table without rows."""
    if len(df) == 0:
        raise DataError(f"{what} has no rows; nothing to estimate.")


__all__ = ["as_dataframe", "closest_names", "check_columns", "check_choice", "check_range",
           "check_no_duplicates", "check_not_empty"]
