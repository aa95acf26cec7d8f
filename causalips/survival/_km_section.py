"""The Kaplan–Meier section of the HTML report: curves, horizons, quartiles, log-rank test.

It lives beside the estimator (the report imports survival, never the other way round); the
disclosure threshold comes from :mod:`causalips.disclosure`, the rules every output shares.
"""

from __future__ import annotations

import pandas as pd

from ..base import ReportSection
from ..disclosure import DEFAULT_THRESHOLD

#: horizons for "share with the event by 3, 6, 9, 12 months", in days
MONTH_HORIZONS = {"3 months": 91, "6 months": 182, "9 months": 273, "12 months": 365}


def kaplan_meier_section(result, *, title: str | None = None, horizons=None,
                         suppress_below: int | None = None) -> ReportSection:
    """KM plot with at-risk table, estimates at horizons, medians, and the log-rank test.

    Small at-risk numbers in the figure are suppressed here (tables are suppressed when the
    report is rendered, from the count columns named with each table).
    """
    import matplotlib.pyplot as plt

    horizons = MONTH_HORIZONS if horizons is None else horizons
    threshold = DEFAULT_THRESHOLD if suppress_below is None else suppress_below
    ax = result.plot(suppress_below=threshold)
    fig = ax.get_figure()
    at = result.at(list(horizons.values()))
    label_of = {v: k for k, v in horizons.items()}
    at.insert(1, "horizon", at["time"].map(label_of))
    at_cols = ["group", "horizon", "time", "n_risk", "estimate", "conf_low", "conf_high"]
    med = result.quantiles([0.25, 0.5, 0.75])[["group", "quantile", "estimate", "conf_low",
                                               "conf_high"]]
    numbers = result.by_group()[["group", "n_obs", "n_events"]]
    what = "share with the event" if result.curve == "incidence" else "survival"
    unit = result.time_unit or "days"
    tables = [
        ("Numbers", numbers, ("n_obs", "n_events")),
        (f"Estimated {what} at horizons", at[at_cols], ("n_risk",)),
        (f"Time by which 25%, 50%, 75% had the event ({unit})", med, ()),
    ]
    paragraphs = [
        f"Kaplan–Meier estimate of time to '{result.estimator.event}' "
        f"({result.conf_level:.0%} pointwise CIs, '{result.ci_method}' transform of "
        "Greenwood's SE).",
    ]
    if len(result.groups) > 1 and result.estimator.entry is None:
        lr = result.logrank()
        paragraphs.append(
            f"Log-rank test between {result.estimator.group} groups: chi-squared "
            f"{lr.chisq:.3g} on {lr.df} df, p = {lr.p_value:.3g}."
        )
    section = ReportSection(
        title=title or f"Time to {result.estimator.event}",
        paragraphs=tuple(paragraphs),
        tables=tuple((c, pd.DataFrame(t), counts) for c, t, counts in tables),
        figures=((f"Kaplan–Meier curves for {result.estimator.event}", fig),),
        notes=result.warnings,
    )
    plt.close(fig)
    return section


__all__ = ["kaplan_meier_section", "MONTH_HORIZONS"]
