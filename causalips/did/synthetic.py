"""Synthetic control and synthetic difference-in-differences (one module each:
:mod:`.synthetic_control`, :mod:`.synthetic_did`; their solvers in ``_simplex_solvers``).

Kept so that ``from causalips.did.synthetic import SyntheticControl, SyntheticDiD`` goes on
working.
"""

from __future__ import annotations

from ._simplex_solvers import simplex_least_squares
from .synthetic_control import SyntheticControl, SyntheticControlResult
from .synthetic_did import SyntheticDiD, SyntheticDiDResult, sdid_estimate, sdid_weights

__all__ = ["SyntheticControl", "SyntheticControlResult", "SyntheticDiD", "SyntheticDiDResult",
           "simplex_least_squares", "sdid_estimate", "sdid_weights"]
