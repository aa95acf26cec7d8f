"""Survival analysis: Kaplan–Meier, log-rank (and, with later issues, Cox and competing risks)."""

from .kaplan_meier import KaplanMeier, KaplanMeierResult
from .logrank import LogRank, LogRankResult

__all__ = ["KaplanMeier", "KaplanMeierResult", "LogRank", "LogRankResult"]
