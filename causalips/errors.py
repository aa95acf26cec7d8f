"""Exception and warning types, and the one way a warning is issued.

Every problem caused by the user's data or plan surfaces as one of these, with a message that
says what is wrong, where, and what to do. Catch :class:`CausalipsError` to catch them all.

Warnings go out through :func:`warn` (or :func:`warn_all`): it points the warning at the
user's own line, however deep in causalips it was raised (so Python's "once per location"
filter and the printed location make sense), and records the same words on the result's list of
warnings when given one.
"""

from __future__ import annotations

import os
import sys
import warnings as _warnings
from collections.abc import Iterable


class CausalipsError(Exception):
    """Root of every error raised by causalips on purpose."""


class DataError(CausalipsError, ValueError):
    """The data cannot be analysed as given (missing columns, impossible values, ...)."""


class ColumnNotFoundError(DataError):
    """A column named in the analysis plan is not in the data."""


class SpecificationError(CausalipsError, ValueError):
    """The analysis plan itself is impossible or contradictory (unknown option, bad range)."""


class OptionError(SpecificationError, TypeError):
    """Options given the wrong way: an unknown name, or by position (also a TypeError, as
    Python's own error for a bad call is)."""


class EstimationError(CausalipsError, RuntimeError):
    """The numerics failed (singular matrix, no convergence) in a way the data explain."""


class CausalipsWarning(UserWarning):
    """Root of the warnings causalips issues."""


class StatisticalWarning(CausalipsWarning):
    """The estimate is computed but its inference may be unreliable for this design."""


class ConvergenceWarning(CausalipsWarning):
    """An iterative fit stopped before meeting its convergence criterion."""


class DroppedRowsWarning(CausalipsWarning):
    """Rows were dropped (missing values, outside the window); the message gives the count."""

    def __init__(self, message: str, n_dropped: int = 0):
        super().__init__(message)
        self.n_dropped = int(n_dropped)


#: frames inside this folder are causalips' own: a warning points past them
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning] = StatisticalWarning, *,
         record: list | None = None, n_dropped: int | None = None) -> str:
    """Issue ``message`` as a warning of ``category`` at the user's line; append it to ``record``.

    ``n_dropped`` (for :class:`DroppedRowsWarning`) carries the count of rows dropped. Returns
    the message, so ``notes.append(warn(...))`` reads as one step where a list is built.

    Example
    -------
    >>> import warnings
    >>> notes = []
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = warn("3 rows dropped", DroppedRowsWarning, record=notes, n_dropped=3)
    >>> caught[0].message.n_dropped, notes
    (3, ['3 rows dropped'])
    """
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    issued = category(message, n_dropped) if n_dropped is not None else message
    _warnings.warn(issued, category, stacklevel=level)
    if record is not None:
        record.append(message)
    return message


def warn_all(messages: Iterable[str], category: type[Warning] = StatisticalWarning, *,
             record: list | None = None) -> None:
    """:func:`warn` each of ``messages``."""
    for m in messages:
        warn(m, category, record=record)


__all__ = [
    "CausalipsError",
    "DataError",
    "ColumnNotFoundError",
    "SpecificationError",
    "OptionError",
    "EstimationError",
    "CausalipsWarning",
    "StatisticalWarning",
    "ConvergenceWarning",
    "DroppedRowsWarning",
    "warn",
    "warn_all",
]
