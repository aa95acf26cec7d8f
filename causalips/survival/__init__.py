"""Survival analysis: Kaplan–Meier, log-rank (and, with later issues, Cox and competing risks)."""

from .cox import Cox, CoxResult
from .kaplan_meier import KaplanMeier, KaplanMeierResult
from .logrank import LogRank, LogRankResult

__all__ = ["KaplanMeier", "KaplanMeierResult", "LogRank", "LogRankResult"]
__all__ += ["Cox", "CoxResult"]
