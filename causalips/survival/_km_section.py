"""The Kaplan–Meier section of the HTML report: curves, horizons, quartiles, log-rank test.

The one builder of this section: ``KaplanMeierResult.report_section()`` and the report's
``causalips.report.curves.kaplan_meier_section`` (the CLI, the config report, the demo) both
come here. Everything it shows is read off :class:`PublishedCurves` at the disclosure threshold,
so the figure and the tables publish the same coarsened curves. It lives beside the estimator
(the report imports survival, never the other way round).
"""

from __future__ import annotations

import pandas as pd

from .._presentation import ReportSection
from ..disclosure import DEFAULT_THRESHOLD, check_threshold
from ._published_curves import PublishedCurves

#: horizons for "share with the event by 3, 6, 9, 12 months", in days
MONTH_HORIZONS = {"3 months": 91, "6 months": 182, "9 months": 273, "12 months": 365}
_AT_COLUMNS = ["group", "horizon", "time", "as_of", "n_risk", "estimate", "conf_low", "conf_high"]


def kaplan_meier_section(result, *, title: str | None = None, horizons=None,
                         suppress_below: int | None = None) -> ReportSection:
    """KM plot with at-risk table, estimates at horizons, quartiles, and the log-rank test.

    ``suppress_below`` is the disclosure threshold (default 5; 0 shows the exact curves):
    groups with fewer people or events are left out of the figure, each published step holds at
    least that many events, and the tables read off the published steps. The count columns
    named with each table are suppressed again when the report is rendered.
    """
    import matplotlib.pyplot as plt

    from ..plotting.survival import plot_kaplan_meier

    threshold = check_threshold(DEFAULT_THRESHOLD if suppress_below is None else suppress_below)
    horizons = MONTH_HORIZONS if horizons is None else horizons
    view = PublishedCurves(result, threshold)
    event = result.estimator.event
    figures = ()
    if view.groups:
        ax = plot_kaplan_meier(view, suppress_below=threshold)
        caption = " ".join([f"Kaplan–Meier curves for {event}.", *view.notes()[:-1]])
        figures = ((caption, ax.get_figure()),)
        plt.close(ax.get_figure())
    at = view.at(list(horizons.values()))
    at.insert(1, "horizon", at["time"].map({v: k for k, v in horizons.items()}))
    what = "share with the event" if result.curve == "incidence" else "survival"
    unit = result.time_unit or "days"
    tables = (
        ("Numbers", view.numbers(), ("n_obs", "n_events")),
        (f"Estimated {what} at horizons", pd.DataFrame(at[_AT_COLUMNS]), ("n_risk",)),
        (f"Time by which 25%, 50%, 75% had the event ({unit})", view.quantiles(), ()),
    )
    return ReportSection(title=title or f"Time to {event}", paragraphs=_paragraphs(result),
                         tables=tables, figures=figures,
                         notes=view.notes() + tuple(result.warnings))


def _paragraphs(result) -> tuple[str, ...]:
    """What was estimated, and the log-rank test between groups (a statistic, no counts)."""
    est = result.estimator
    out = [f"Kaplan–Meier estimate of time to '{est.event}' ({result.conf_level:.0%} pointwise "
           f"CIs, '{result.ci_method}' transform of Greenwood's SE)."]
    if len(result.groups) > 1 and est.entry is None:  # no log-rank test under delayed entry
        lr = result.logrank()
        out.append(f"Log-rank test between {est.group} groups: chi-squared {lr.chisq:.3g} on "
                   f"{lr.df} df, p = {lr.p_value:.3g}.")
    return tuple(out)


__all__ = ["kaplan_meier_section", "MONTH_HORIZONS", "PublishedCurves"]
