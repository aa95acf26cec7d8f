"""Restricted mean survival time: Kaplan–Meier curves with the area up to tau shaded."""

from __future__ import annotations

import numpy as np

from ._common import PALETTE, get_ax
from ._text import plain_text


@plain_text
def plot_rmst(result, *, ax=None, time_label: str = "days", title: str | None = None):
    """Kaplan–Meier curve per group; the area under it up to tau (the RMST) shaded.

    The legend gives each group's restricted mean with its CI. Returns the Axes.
    """
    ax = get_ax(ax, figsize=(7.5, 4.5))
    tau = result.tau
    tidy = result.tidy()
    per_group = tidy[tidy["term"] == result.measure].set_index("group")
    for k, group in enumerate(result.groups):
        times, surv = result.curve(group)
        inside = times <= tau
        x = np.concatenate([[0.0], np.repeat(times[inside], 2), [tau]])
        y_levels = np.concatenate([[1.0], surv[inside]])
        y = np.repeat(y_levels, 2)
        color = PALETTE[k % len(PALETTE)]
        row = per_group.loc[group]
        name = (f"{group}: {row['estimate']:.0f} ({row['conf_low']:.0f}-{row['conf_high']:.0f})"
                if len(result.groups) > 1 else
                f"{result.measure.upper()} {row['estimate']:.0f} "
                f"({row['conf_low']:.0f}-{row['conf_high']:.0f})")
        ax.plot(x, y, color=color, lw=1.8, label=name)
        if result.measure == "rmst":
            ax.fill_between(x, 0, y, color=color, alpha=0.12, lw=0)
        else:
            ax.fill_between(x, y, 1, color=color, alpha=0.12, lw=0)
        after = times > tau
        if after.any():
            xa = np.concatenate([[tau], np.repeat(times[after], 2)])
            ya = np.repeat(np.concatenate([[y_levels[-1]], surv[after]]), 2)[: xa.size]
            ax.plot(xa, ya, color=color, lw=1.0, alpha=0.4)
    ax.axvline(tau, color="0.3", ls="--", lw=1)
    ax.text(tau, 1.01, f" tau = {tau:g}", va="bottom", ha="left", fontsize=8, color="0.3")
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlim(left=0)
    ax.set_xlabel(f"time ({time_label})")
    ax.set_ylabel("probability event-free")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, title=f"restricted mean up to {tau:g}")
    if title:
        ax.set_title(title)
    return ax


__all__ = ["plot_rmst"]
