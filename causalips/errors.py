"""Exception and warning types.

Every problem caused by the user's data or plan surfaces as one of these, with a message that
says what is wrong, where, and what to do. Catch :class:`CausalipsError` to catch them all.
"""

from __future__ import annotations


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
]
