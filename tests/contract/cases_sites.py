"""Contract cases for the site comparison, reach and equity estimators."""

from __future__ import annotations

import pandas as pd

from causalips.datasets import load_caseload
from causalips.datasets.sites import load_making_ips_work, simulate_wider_caseload
from causalips.sites import (
    FidelityOutcome,
    FunnelPlot,
    NumericComparison,
    OutcomeEquity,
    Productivity,
    Reach,
    Representativeness,
    RiskAdjustedComparison,
)


def _caseload():
    return load_caseload().assign(gained_job=lambda d: d["job_start"].notna().astype(int))


def _sites():
    return pd.DataFrame({"site": list("ABCDE"), "people": [120, 60, 90, 45, 150],
                         "jobs": [60, 20, 40, 10, 70], "fte": [2.5, 1.5, 2.0, 1.0, 3.0],
                         "ips25": [100, 92, 110, 85, 105]})


CASES = [
    ("funnel_exact", lambda: FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                                        overdispersion="additive"), load_making_ips_work),
    ("funnel_normal", lambda: FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                                         method="normal", overdispersion="multiplicative",
                                         ci_method="exact"), load_making_ips_work),
    ("risk_adjusted", lambda: RiskAdjustedComparison(site="team", outcome="gained_job",
                                                     case_mix=["age", "diagnosis"]), _caseload),
    ("representativeness", lambda: Representativeness(category="ethnicity", group="source",
                                                      reference="rest of caseload"),
     lambda: simulate_wider_caseload(seed=1)),
    ("numeric_comparison", lambda: NumericComparison(value="age", group="source"),
     lambda: simulate_wider_caseload(seed=1)),
    ("outcome_equity", lambda: OutcomeEquity(outcome="gained_job", group="diagnosis",
                                             adjust=["age"], denominator="ips_grow",
                                             status="status_at_contact"), _caseload),
    ("reach", lambda: Reach(participant="ips_user", group="age_band"),
     lambda: simulate_wider_caseload(seed=1)),
    ("productivity", lambda: Productivity(site="site", people="people", outcomes="jobs",
                                          fte="fte"), _sites),
    ("fidelity_outcome", lambda: FidelityOutcome(site="site", fidelity="ips25", numerator="jobs",
                                                 denominator="people"), _sites),
]
