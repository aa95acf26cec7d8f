"""Difference-in-differences: two-way fixed effects, event studies, staggered adoption, synthetic
control, and inference that stays honest with few clusters."""

from __future__ import annotations

from ..inference import ConleyTaber
from .event_study import EventStudy, EventStudyResult
from .impact import implied_factor, years_of_work
from .size_study import size_study
from .twfe import DiD, DiDResult

__all__ = ["DiD", "DiDResult", "EventStudy", "EventStudyResult", "ConleyTaber", "years_of_work",
           "implied_factor", "size_study"]

# -- other DiD modules append their imports below --
from .staggered import StaggeredAggregateResult, StaggeredDiD, StaggeredDiDResult  # noqa: E402

__all__ += ["StaggeredDiD", "StaggeredDiDResult", "StaggeredAggregateResult"]
from .synthetic import (  # noqa: E402
    SyntheticControl,
    SyntheticControlResult,
    SyntheticDiD,
    SyntheticDiDResult,
)

__all__ += ["SyntheticControl", "SyntheticControlResult", "SyntheticDiD", "SyntheticDiDResult"]
