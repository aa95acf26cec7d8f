"""Site comparison, reach and equity: funnel plots, risk adjustment, representativeness,
outcome equity, reach, productivity and fidelity."""

from .equity import (
    IPS_GROW_RULE,
    NumericComparison,
    OutcomeEquity,
    Representativeness,
    ips_grow_denominator,
)
from .funnel import FunnelPlot, FunnelPlotResult, funnel_limits
from .productivity import (
    FIDELITY_CASELOAD_MAX,
    IPS_GROW_EXPECTATIONS,
    FidelityOutcome,
    Productivity,
)
from .rates import proportion_ci, site_counts
from .reach import Reach
from .risk import RiskAdjustedComparison

__all__ = [
    "FunnelPlot",
    "FunnelPlotResult",
    "funnel_limits",
    "RiskAdjustedComparison",
    "Representativeness",
    "NumericComparison",
    "OutcomeEquity",
    "ips_grow_denominator",
    "IPS_GROW_RULE",
    "Reach",
    "Productivity",
    "FidelityOutcome",
    "IPS_GROW_EXPECTATIONS",
    "FIDELITY_CASELOAD_MAX",
    "proportion_ci",
    "site_counts",
]
