"""Difference-in-differences: two-way fixed effects, event studies, staggered adoption, synthetic
control, and inference that stays honest with few clusters."""

from __future__ import annotations
from .staggered import StaggeredAggregateResult, StaggeredDiD, StaggeredDiDResult  # noqa: E402
