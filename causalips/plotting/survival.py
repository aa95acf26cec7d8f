"""Kaplan–Meier curves with CI bands and an at-risk table; log-rank observed vs expected."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._common import PALETTE, get_ax, step_xy
from ._text import plain_text


@plain_text
def plot_kaplan_meier(
    result,
    *,
    ax=None,
    ci: bool = True,
    at_risk: bool = True,
    risk_times: Sequence[float] | None = None,
    censor_marks: bool = True,
    time_label: str = "days",
    title: str | None = None,
    suppress_below: int = 0,
):
    """Kaplan–Meier (or cumulative incidence) curves per group, CI bands, at-risk numbers.

    The at-risk table sits under the x axis, one row per group, at ``risk_times`` (default: the
    x ticks). ``suppress_below`` shows at-risk numbers from 1 to that threshold minus one as
    ``<threshold`` (reports for publication use 5). Returns the Axes.
    """
    ax = get_ax(ax, figsize=(7.5, 5.0 if at_risk else 4.5))
    table = result.tidy()
    incidence = result.curve == "incidence"
    start = 0.0 if incidence else 1.0
    for k, label in enumerate(result.groups):
        rows = table[table["group"] == label]
        color = PALETTE[k % len(PALETTE)]
        name = str(label) if len(result.groups) > 1 else "all"
        x, y = step_xy(rows["time"], rows["estimate"], start)
        ax.plot(x, y, color=color, lw=1.8, label=name)
        if ci and len(rows):
            lo_start, hi_start = start, start
            xl, lo = step_xy(rows["time"], rows["conf_low"].fillna(np.nan), lo_start)
            _, hi = step_xy(rows["time"], rows["conf_high"].fillna(np.nan), hi_start)
            ax.fill_between(xl, lo, hi, color=color, alpha=0.15, lw=0, step=None)
        if censor_marks:
            cens = rows[rows["n_censor"] > 0]
            ax.plot(cens["time"], cens["estimate"], "|", color=color, ms=6, mew=1)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(f"time ({time_label})")
    ax.set_ylabel("cumulative incidence" if incidence else "survival probability")
    ax.grid(alpha=0.3)
    if len(result.groups) > 1:
        ax.legend(frameon=False, title=result.estimator.group)
    if title:
        ax.set_title(title)
    if at_risk:
        _at_risk_table(ax, result, risk_times, suppress_below)
    return ax


def _at_risk_table(ax, result, risk_times, suppress_below=0):
    fig = ax.get_figure()
    ticks = np.asarray(risk_times if risk_times is not None else ax.get_xticks(), dtype=float)
    lo, hi = ax.get_xlim()
    ticks = ticks[(ticks >= lo) & (ticks <= hi)]
    counts = result.at(ticks)
    n_groups = len(result.groups)
    line = 0.075
    ax.text(-0.06, -0.16, "At risk", transform=ax.transAxes, ha="right", va="top",
            fontsize=8, fontweight="bold")
    for k, label in enumerate(result.groups):
        rows = counts[counts["group"] == label]
        y = -0.16 - line * (k + 1)
        ax.text(-0.06, y, str(label) if n_groups > 1 else "all", transform=ax.transAxes,
                ha="right", va="top", fontsize=8, color=PALETTE[k % len(PALETTE)])
        for t, n in zip(rows["time"], rows["n_risk"], strict=True):
            shown = f"<{suppress_below}" if 0 < n < suppress_below else f"{n:.0f}"
            ax.text(t, y, shown, transform=ax.get_xaxis_transform(), ha="center", va="top",
                    fontsize=8)
    fig.subplots_adjust(bottom=min(0.45, 0.2 + line * n_groups * 0.8), left=0.2)


@plain_text
def plot_observed_expected(result, *, ax=None):
    """Observed against expected events per group (log-rank)."""
    ax = get_ax(ax)
    table = result.tidy()
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["observed"], width=0.4, label="observed", color=PALETTE[0])
    ax.bar(x + 0.2, table["expected"], width=0.4, label="expected", color=PALETTE[1])
    ax.set_xticks(x, [str(g) for g in table["group"]])
    ax.set_ylabel("events")
    ax.set_title(f"chi-squared {result.chisq:.3g} on {result.df} df, p = {result.p_value:.3g}")
    ax.legend(frameon=False)
    return ax
