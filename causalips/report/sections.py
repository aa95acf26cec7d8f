"""Report sections for the foundation's results (Kaplan–Meier)."""

from __future__ import annotations

import pandas as pd

from ..base import ReportSection
from ..disclosure import DEFAULT_THRESHOLD

#: horizons for "share with the event by 3, 6, 9, 12 months", in days
MONTH_HORIZONS = {"3 months": 91, "6 months": 182, "9 months": 273, "12 months": 365}


def kaplan_meier_section(result, *, title: str | None = None, horizons=MONTH_HORIZONS,
                         suppress_below: int = DEFAULT_THRESHOLD) -> ReportSection:
    """KM plot with at-risk table, estimates at horizons, medians, and the log-rank test.

    Small at-risk numbers in the figure are suppressed here (tables are suppressed when the
    report is rendered).
    """
    import matplotlib.pyplot as plt

    ax = result.plot(suppress_below=suppress_below)
    fig = ax.get_figure()
    at = result.at(list(horizons.values()))
    label_of = {v: k for k, v in horizons.items()}
    at.insert(1, "horizon", at["time"].map(label_of))
    at_cols = ["group", "horizon", "time", "n_risk", "estimate", "conf_low", "conf_high"]
    med = result.quantiles([0.25, 0.5, 0.75])[["group", "quantile", "estimate", "conf_low",
                                               "conf_high"]]
    glance = result.glance()[["group", "n_obs", "n_events"]]
    what = "share with the event" if result.curve == "incidence" else "survival"
    tables = [
        ("Numbers", glance, ("n_obs", "n_events")),
        (f"Estimated {what} at horizons", at[at_cols], ("n_risk",)),
        ("Time by which 25%, 50%, 75% had the event (days)", med, ()),
    ]
    paragraphs = [
        f"Kaplan–Meier estimate of time to '{result.estimator.event}' "
        f"({result.conf_level:.0%} pointwise CIs, '{result.conf_type}' transform of Greenwood's SE).",
    ]
    if len(result.groups) > 1:
        lr = result.logrank()
        paragraphs.append(
            f"Log-rank test between {result.estimator.group} groups: chi-squared {lr.chisq:.3g} on "
            f"{lr.df} df, p = {lr.p_value:.3g}."
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
