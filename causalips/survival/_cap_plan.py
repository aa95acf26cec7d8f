"""Checking a support-cap plan (caps, event codes, the bootstrap spec) and reading its codes.

A value the plan does not know (an event code that is neither censored, the job start nor a
listed other end) is an error that lists the values seen and how to map them.
"""

from __future__ import annotations

import warnings as _w
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, SpecificationError
from ..inference import Bootstrap, check_spec

#: the default uncertainty: 2000 bootstrap resamples of people
DEFAULT_INFERENCE = Bootstrap(reps=2000)
#: marks the deprecated reps= / seed= keywords as not given
_UNSET = object()


def inference_spec(inference, reps, seed) -> Bootstrap | None:
    """The plan's Bootstrap (or None); the old reps=/seed= keywords build it, with a warning."""
    if reps is not _UNSET or seed is not _UNSET:
        if inference is not DEFAULT_INFERENCE:
            raise SpecificationError("SupportCap: pass inference=Bootstrap(reps=, seed=) only "
                                     "(reps= and seed= are its old spelling)")
        _w.warn("SupportCap(reps=, seed=) are replaced by inference=Bootstrap(reps=, seed=) "
                "(inference=None for no intervals); they will be removed in the next release",
                FutureWarning, stacklevel=4)
        reps = DEFAULT_INFERENCE.reps if reps is _UNSET else reps
        seed = None if seed is _UNSET else seed
        if isinstance(reps, int | np.integer) and not isinstance(reps, bool) and reps == 0:
            return None
        return Bootstrap(reps=reps, seed=seed)
    spec = check_spec(inference, (Bootstrap,), where="SupportCap", argument="inference")
    if spec is not None and spec.cluster is not None:
        raise SpecificationError(
            "SupportCap resamples people within groups; Bootstrap(cluster=) is not available "
            "here (use group= for the groups to estimate separately)")
    return spec


def check_caps(cap):
    caps = np.atleast_1d(np.asarray(cap, dtype=object))
    try:
        values = caps.astype(np.float64)
    except (TypeError, ValueError):
        raise SpecificationError(f"cap must be a number or a list of numbers; got {cap!r}"
                                 ) from None
    if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise SpecificationError(f"cap must be non-negative numbers; got {cap!r}")
    if np.unique(values).size != values.size:
        raise SpecificationError(f"cap lists the same value twice; got {cap!r}")
    return cap


def _is_code(value) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int | float | np.integer |
                                                       np.floating) and value == int(value))


def check_codes(cause, competing):
    if cause is not None and (not _is_code(cause) or cause <= 0):
        raise SpecificationError(f"cause must be a whole-number event code > 0 (0 means "
                                 f"censored); got {cause!r}")
    if competing is not None:
        if cause is None:
            raise SpecificationError("competing= needs cause=: name the code of a job start")
        if isinstance(competing, str) or not isinstance(competing, Sequence):
            competing = [competing]
        competing = tuple(competing)
        if not competing or any(not _is_code(c) or c <= 0 or c == cause for c in competing):
            raise SpecificationError(
                f"competing must list whole-number codes > 0 other than cause={cause!r}; "
                f"got {competing!r}")
    return cause, competing


def end_codes(df: pd.DataFrame, col: str, cause, competing) -> np.ndarray:
    """0 censored, 1 the event (job start / end of support), 2 a competing end.

    A value the plan does not know is an error listing the values seen and how to map them.
    """
    s = df[col]
    if s.isna().any():
        raise DataError(f"column {col!r} (the event) has {int(s.isna().sum())} missing values; "
                        "code censored rows 0 or drop them")
    seen = pd.unique(s)
    shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v)
                      for v in sorted(seen, key=str)[:8])
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if cause is None:
        if pd.api.types.is_bool_dtype(s) or (numeric and set(seen.tolist()) <= {0, 1}):
            return s.to_numpy().astype(np.int64)
        raise DataError(
            f"column {col!r} (the event) must be 0/1 or boolean (1 = the event); values seen: "
            f"{shown}. If it holds one code per way of leaving, pass cause= (the code of a job "
            "start) and competing= (the codes of other ends); text labels must be mapped to "
            f"numbers first, e.g. df[{col!r}].map({{'censored': 0, 'job': 1, 'discharged': 2}})")
    known = {0, cause, *(competing or ())}
    codes = s.to_numpy() if numeric else None
    unknown = ([v for v in seen.tolist() if v not in known] if competing is not None else
               [v for v in seen.tolist() if v < 0 or v != int(v)]) if numeric else seen.tolist()
    if unknown or cause not in set(seen.tolist()):
        what = (f"values {unknown[:5]!r} the plan does not know" if unknown
                else f"no rows with cause={cause!r}")
        raise DataError(
            f"column {col!r} (the event) has {what}; values seen: {shown}. The plan reads 0 as "
            f"censored, {cause!r} as the job start and "
            + ("every other whole code > 0" if competing is None else f"{list(competing)}")
            + " as other ends: recode the column (e.g. with .map({...})) or change cause= / "
            "competing=")
    return np.where(codes == 0, 0, np.where(codes == cause, 1, 2)).astype(np.int64)


__all__ = ["DEFAULT_INFERENCE", "check_caps", "check_codes", "end_codes", "inference_spec"]
