"""Kaplan–Meier curves in the report, the CLI text and ``--json``: as they may be published.

:class:`PublishedCurves` (coarsened so no step reveals a small count) and the section builder
live beside the estimator, so that ``KaplanMeierResult.report_section()`` and the report build
the same section; the report reaches them here, by the threshold it publishes at.
"""

from __future__ import annotations

from .._presentation import ReportSection
from ..survival._km_section import MONTH_HORIZONS, PublishedCurves
from ..survival._km_section import kaplan_meier_section as _section


def kaplan_meier_section(result, *, threshold: int, title: str | None = None,
                         horizons=MONTH_HORIZONS) -> ReportSection:
    """The report section of a Kaplan–Meier result published at ``threshold``: coarsened
    curves with at-risk numbers, estimates at horizons, quartiles, the log-rank test."""
    return _section(result, title=title, horizons=horizons, suppress_below=threshold)


__all__ = ["PublishedCurves", "kaplan_meier_section", "MONTH_HORIZONS"]
