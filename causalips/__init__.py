"""causalips: causal-impact evaluation of supported-employment programmes (IPS).

Estimators are configured with the analysis plan and fitted with ``fit(data)``; every result
offers ``tidy()``, ``glance()``, ``summary()``, ``plot()``, ``to_dict()`` and ``report_section()``.
"""

from ._version import __version__
from .errors import (
    CausalipsError,
    ColumnNotFoundError,
    ConvergenceWarning,
    DataError,
    DroppedRowsWarning,
    EstimationError,
    SpecificationError,
    StatisticalWarning,
)
from .inference import (
    Bootstrap,
    Cluster,
    ConleyTaber,
    ModelBased,
    MultiplierBootstrap,
    Placebo,
    Randomization,
    Robust,
    WildBootstrap,
)
from .io import read_table
from .spells import durations_from_dates
from .survival import RMST, Cox, CumulativeIncidence, FineGray, KaplanMeier, LogRank, SupportCap
from .workdays import workdays_by_period

__all__ = [
    "__version__",
    "KaplanMeier",
    "LogRank",
    "Cox",
    "durations_from_dates",
    "read_table",
    "workdays_by_period",
    "Cluster",
    "WildBootstrap",
    "Randomization",
    "Bootstrap",
    "ModelBased",
    "Robust",
    "MultiplierBootstrap",
    "ConleyTaber",
    "Placebo",
    "CausalipsError",
    "DataError",
    "ColumnNotFoundError",
    "SpecificationError",
    "EstimationError",
    "StatisticalWarning",
    "ConvergenceWarning",
    "DroppedRowsWarning",
]
__all__ += ["CumulativeIncidence", "FineGray", "RMST", "SupportCap"]
from .economics import CostEffectiveness, ParametricSurvival, ReturnOnInvestment  # noqa: E402

__all__ += ["CostEffectiveness", "ParametricSurvival", "ReturnOnInvestment"]
from .sites import (  # noqa: E402
    FidelityOutcome,
    FunnelPlot,
    NumericComparison,
    OutcomeEquity,
    Productivity,
    Reach,
    Representativeness,
    RiskAdjustedComparison,
    ips_grow_denominator,
    proportion_ci,
    site_counts,
)

__all__ += ["FunnelPlot", "RiskAdjustedComparison", "Representativeness", "NumericComparison",
            "OutcomeEquity", "Reach", "Productivity", "FidelityOutcome", "ips_grow_denominator",
            "proportion_ci", "site_counts"]
from .did import DiD, EventStudy, years_of_work  # noqa: E402
from .panel import validate_panel  # noqa: E402

__all__ += ["DiD", "EventStudy", "years_of_work", "validate_panel"]
from .did import StaggeredDiD, SyntheticControl, SyntheticDiD  # noqa: E402

__all__ += ["StaggeredDiD", "SyntheticControl", "SyntheticDiD"]
from .publish import table  # noqa: E402

__all__ += ["table"]
from .replication import replicate, replications  # noqa: E402

__all__ += ["replicate", "replications"]
