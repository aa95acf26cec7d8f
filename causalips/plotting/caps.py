"""Support caps what-if: a trade-off chart a commissioner can read."""

from __future__ import annotations

import numpy as np

from ._common import PALETTE, get_ax
from ._text import plain_text


@plain_text
def plot_support_caps(result, *, ax=None, title: str | None = None):
    """Job search: caseload days freed (x) against job starts lost (y), one point per cap,
    labelled, with bootstrap intervals as cross-hairs. In-work support: support days freed per
    cap as bars with intervals, labelled with the people whose support would be cut short.

    All figures are per 100 people starting support. Returns the Axes.
    """
    ax = get_ax(ax, figsize=(7.5, 4.8))
    t = result.tidy()
    if result.kind == "job_search":
        x_term, y_term = "caseload_time_freed", "job_starts_lost"
        for k, group in enumerate(result.groups):
            rows = t[t["group"] == group]
            xs = rows[rows["term"] == x_term].reset_index(drop=True)
            ys = rows[rows["term"] == y_term].reset_index(drop=True)
            color = PALETTE[k % len(PALETTE)]
            xerr = np.abs(np.vstack([xs["estimate"] - xs["conf_low"],
                                     xs["conf_high"] - xs["estimate"]]))
            yerr = np.abs(np.vstack([ys["estimate"] - ys["conf_low"],
                                     ys["conf_high"] - ys["estimate"]]))
            name = str(group) if len(result.groups) > 1 else None
            ax.errorbar(xs["estimate"], ys["estimate"], xerr=np.nan_to_num(xerr),
                        yerr=np.nan_to_num(yerr), fmt="o-", color=color, ms=6, lw=1.2,
                        capsize=3, label=name)
            for x, y, lab in zip(xs["estimate"], ys["estimate"], xs["cap_label"], strict=True):
                ax.annotate(f"cap {lab}", (x, y), textcoords="offset points", xytext=(6, 6),
                            fontsize=8, color=color)
        ax.set_xlabel(f"caseload time freed ({result.time_unit}) per 100 people starting support")
        ax.set_ylabel("job starts lost per 100 people")
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.set_title(title or "Capping job-search support: time freed vs job starts lost")
    else:
        term = "support_time_freed"
        n_groups = len(result.groups)
        width = 0.8 / n_groups
        labels = None
        for k, group in enumerate(result.groups):
            rows = t[(t["group"] == group) & (t["term"] == term)].reset_index(drop=True)
            cut = t[(t["group"] == group) & (t["term"] == "people_cut_short")]
            labels = rows["cap_label"].tolist()
            pos = np.arange(len(rows)) + (k - (n_groups - 1) / 2) * width
            err = np.abs(np.vstack([rows["estimate"] - rows["conf_low"],
                                    rows["conf_high"] - rows["estimate"]]))
            color = PALETTE[k % len(PALETTE)]
            ax.bar(pos, rows["estimate"], width=width, color=color, alpha=0.8,
                   yerr=np.nan_to_num(err), capsize=3,
                   label=str(group) if n_groups > 1 else None)
            for p, y, c in zip(pos, rows["estimate"], cut["estimate"], strict=True):
                ax.annotate(f"{c:.0f} cut short", (p, y), textcoords="offset points",
                            xytext=(0, 4), ha="center", fontsize=8)
        ax.set_xticks(np.arange(len(labels or [])))
        ax.set_xticklabels([f"cap {lab}" for lab in labels or []])
        ax.set_ylabel(f"in-work support time freed ({result.time_unit}) per 100 people")
        ax.set_title(title or "Capping in-work support: time freed")
    if len(result.groups) > 1:
        ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax


__all__ = ["plot_support_caps"]
