"""Deprecated module path: the equity estimators live in their own modules now
(:mod:`.representativeness`, :mod:`.numeric_comparison`, :mod:`.outcome_equity`,
:mod:`.ips_grow`). Import them from :mod:`causalips.sites`; this path goes in the next release."""

from ._deprecated import moved_names

__getattr__ = moved_names(__name__, {
    "Representativeness": "representativeness", "RepresentativenessResult": "representativeness",
    "NumericComparison": "numeric_comparison", "NumericComparisonResult": "numeric_comparison",
    "OutcomeEquity": "outcome_equity", "OutcomeEquityResult": "outcome_equity",
    "ips_grow_denominator": "ips_grow", "IPS_GROW_RULE": "ips_grow"})
