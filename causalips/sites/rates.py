"""Deprecated module path: proportion intervals and site counts are in :mod:`.proportions`
(import them from :mod:`causalips.sites`); this path goes in the next release."""

from ._deprecated import moved_names

__getattr__ = moved_names(__name__, {"proportion_ci": "proportions",
                                     "site_counts": "proportions", "CI_METHODS": "proportions"})
