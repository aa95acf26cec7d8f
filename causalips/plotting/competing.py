"""Cumulative incidence of competing events: one curve per cause (and group), or stacked."""

from __future__ import annotations

import numpy as np

from ._common import PALETTE, get_ax, step_xy
from ._text import plain_text

LINESTYLES = ("-", "--", ":", "-.")


@plain_text
def plot_cumulative_incidence(
    result,
    *,
    ax=None,
    kind: str = "curves",
    ci: bool = True,
    causes=None,
    time_label: str = "days",
    title: str | None = None,
):
    """Cumulative incidence per cause (colour) and group (line style), with CI bands.

    ``kind="stacked"`` stacks the causes and the event-free share to 1 for each time (one panel
    for the first group unless there is only one): the picture of where people have gone by t.
    Returns the Axes.
    """
    free_state = result.event_free_state
    if kind not in ("curves", "stacked"):
        raise ValueError(f"kind must be 'curves' or 'stacked'; got {kind!r}")
    ax = get_ax(ax, figsize=(7.5, 4.5))
    table = result.tidy()
    states = list(result.states if causes is None else causes)
    if kind == "stacked":
        group = result.groups[0]
        rows = table[table["group"] == group]
        times = rows.loc[rows["state"] == free_state, "time"].to_numpy()
        lower = np.zeros(times.size + 1)
        for k, state in enumerate([*states, free_state]):
            est = rows.loc[rows["state"] == state, "estimate"].to_numpy()
            x, y = step_xy(times, est, 1.0 if state == free_state else 0.0)
            _, base = step_xy(times, lower[1:], 0.0)
            color = "#d9d9d9" if state == free_state else PALETTE[k % len(PALETTE)]
            name = "no event yet" if state == free_state else str(state)
            ax.fill_between(x, base, base + y, color=color, alpha=0.85, lw=0, label=name)
            lower = np.concatenate([[0.0], lower[1:] + est])
        ax.set_ylabel("share of people")
        if len(result.groups) > 1 and not title:
            title = f"{result.estimator.group} = {group}"
        ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        for g, group in enumerate(result.groups):
            for k, state in enumerate(states):
                rows = table[(table["group"] == group) & (table["state"] == state)]
                color = PALETTE[k % len(PALETTE)]
                style = LINESTYLES[g % len(LINESTYLES)]
                name = str(state) if len(result.groups) == 1 else f"{state}, {group}"
                x, y = step_xy(rows["time"], rows["estimate"], 0.0)
                ax.plot(x, y, color=color, ls=style, lw=1.8, label=name)
                if ci and len(rows):
                    _, lo = step_xy(rows["time"], rows["conf_low"].fillna(0.0), 0.0)
                    _, hi = step_xy(rows["time"], rows["conf_high"].fillna(0.0), 0.0)
                    ax.fill_between(x, lo, hi, color=color, alpha=0.12, lw=0)
        ax.set_ylabel("cumulative incidence")
        ax.legend(frameon=False)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(f"time ({time_label})")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


__all__ = ["plot_cumulative_incidence"]
