"""Survival analysis: Kaplan–Meier, log-rank (and, with later issues, Cox and competing risks)."""

from .caps import SupportCap, SupportCapResult
from .competing import CumulativeIncidence, CumulativeIncidenceResult
from .cox import Cox, CoxResult
from .finegray import FineGray, FineGrayResult
from .kaplan_meier import KaplanMeier, KaplanMeierResult
from .logrank import LogRank, LogRankResult
from .rmst import RMST, RMSTResult

__all__ = ["KaplanMeier", "KaplanMeierResult", "LogRank", "LogRankResult"]
__all__ += ["Cox", "CoxResult"]
__all__ += ["CumulativeIncidence", "CumulativeIncidenceResult", "FineGray", "FineGrayResult",
            "RMST", "RMSTResult", "SupportCap", "SupportCapResult"]
