"""Survival analysis: curves (Kaplan–Meier, cumulative incidence), tests (log-rank, Gray's),
restricted means, the support-cap what-if, and models (Cox, Fine–Gray).

Public estimators live in one module each (``kaplan_meier``, ``logrank``, ``competing``,
``rmst``, ``caps``, ``cox``, ``finegray``); modules starting with ``_`` are their engines.
"""

from .caps import SupportCap, SupportCapResult
from .competing import CumulativeIncidence, CumulativeIncidenceResult
from .cox import Cox, CoxResult
from .finegray import FineGray, FineGrayResult
from .kaplan_meier import KaplanMeier, KaplanMeierResult
from .logrank import LogRank, LogRankResult
from .rmst import RMST, RMSTResult

__all__ = ["KaplanMeier", "KaplanMeierResult", "LogRank", "LogRankResult", "Cox", "CoxResult",
           "CumulativeIncidence", "CumulativeIncidenceResult", "FineGray", "FineGrayResult",
           "RMST", "RMSTResult", "SupportCap", "SupportCapResult"]
