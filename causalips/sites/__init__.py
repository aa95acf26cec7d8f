"""Site comparison, reach and equity: funnel plots, risk adjustment, representativeness,
outcome equity, reach, productivity and fidelity.

One module per question: :mod:`.funnel` and :mod:`.risk` (are sites within chance?),
:mod:`.reach` (who uses the service), :mod:`.representativeness` and
:mod:`.numeric_comparison` (does the caseload look like the wider one?), :mod:`.outcome_equity`
with the IPS Grow denominator of :mod:`.ips_grow` (does it serve every group well?),
:mod:`.productivity` and :mod:`.fidelity` (capacity); :mod:`.proportions` holds the proportion
confidence intervals they share, ``_contingency`` the tests of a table of counts and
``_case_mix`` the logistic case-mix model.
"""

from .fidelity import FIDELITY_CAVEAT, FidelityOutcome, FidelityOutcomeResult
from .funnel import FunnelPlot, FunnelPlotResult, funnel_limits
from .ips_grow import IPS_GROW_RULE, UnknownStatusError, ips_grow_denominator
from .numeric_comparison import NumericComparison, NumericComparisonResult
from .outcome_equity import OutcomeEquity, OutcomeEquityResult
from .productivity import (
    FIDELITY_CASELOAD_MAX,
    IPS_GROW_EXPECTATIONS,
    Productivity,
    ProductivityResult,
)
from .proportions import proportion_ci, site_counts
from .reach import Reach, ReachResult
from .representativeness import Representativeness, RepresentativenessResult
from .risk import RiskAdjustedComparison, RiskAdjustedResult

__all__ = [
    "FunnelPlot",
    "FunnelPlotResult",
    "funnel_limits",
    "RiskAdjustedComparison",
    "RiskAdjustedResult",
    "Representativeness",
    "RepresentativenessResult",
    "NumericComparison",
    "NumericComparisonResult",
    "OutcomeEquity",
    "OutcomeEquityResult",
    "ips_grow_denominator",
    "IPS_GROW_RULE",
    "UnknownStatusError",
    "Reach",
    "ReachResult",
    "Productivity",
    "ProductivityResult",
    "FidelityOutcome",
    "FidelityOutcomeResult",
    "IPS_GROW_EXPECTATIONS",
    "FIDELITY_CASELOAD_MAX",
    "FIDELITY_CAVEAT",
    "proportion_ci",
    "site_counts",
]
