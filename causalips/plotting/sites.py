"""Plots for site comparison, reach and equity: pure functions returning the Axes."""

from __future__ import annotations

import numpy as np

from ._common import PALETTE, get_ax
from ._text import plain_text

_LINESTYLES = ("--", ":", "-.", (0, (1, 3)))


@plain_text
def plot_funnel(result, *, ax=None, label_flagged: bool = True, **style):
    """Funnel plot: each site's rate (or O/E) against its size, with the control limits."""
    ax = get_ax(ax)
    table = result.tidy()
    curve = result.limits_curve()
    ratio = result.scale == "ratio"
    x = table["expected"] if ratio else table["denominator"]
    ax.plot(curve["precision"], curve["target"], color="0.3", lw=1, label="target")
    for i, (level, lower, upper) in enumerate(result.limit_columns):
        ls = _LINESTYLES[i % len(_LINESTYLES)]
        ax.plot(curve["precision"], curve[upper], color=PALETTE[1], ls=ls, lw=1,
                label=f"{level * 100:.10g}% limits")
        ax.plot(curve["precision"], curve[lower], color=PALETTE[1], ls=ls, lw=1)
    flagged = (table["flag"] != "within").to_numpy()
    ax.scatter(x[~flagged], table["rate"][~flagged], color=style.get("color", PALETTE[0]),
               zorder=3, label="site")
    if flagged.any():
        ax.scatter(x[flagged], table["rate"][flagged], color=PALETTE[1], marker="D", zorder=3,
                   label="outside limits")
    if label_flagged:
        for xi, yi, name, flag in zip(x, table["rate"], table["site"], table["flag"]):
            if flag != "within":
                ax.annotate(str(name), (xi, yi), textcoords="offset points", xytext=(5, 4),
                            fontsize=8)
    ax.set_xlabel("expected events (E)" if ratio else "site size (denominator)")
    ax.set_ylabel("observed / expected" if ratio else "rate")
    ax.set_title(style.get("title", "Funnel plot"))
    ax.legend(fontsize=8, frameon=True, framealpha=0.85, loc="best")
    return ax


@plain_text
def plot_caterpillar(result, *, ax=None, order: str = "size", **style):
    """Each site's rate with its CI, ordered by size (or name) — never by rank."""
    ax = get_ax(ax, figsize=(7, max(3.0, 0.35 * len(result.tidy()) + 1.5)))
    table = result.tidy()
    key = "expected" if result.scale == "ratio" else "denominator"
    if order == "name":
        table = table.sort_values("site", key=lambda s: s.astype(str))
    else:
        table = table.sort_values(key, kind="stable")
    pos = np.arange(len(table))
    est = table["rate"].to_numpy()
    lo, hi = table["conf_low"].to_numpy(), table["conf_high"].to_numpy()
    ax.errorbar(est, pos, xerr=[est - lo, hi - est], fmt="o", color=style.get("color", PALETTE[0]),
                capsize=3)
    ax.axvline(result.target, color="0.3", lw=1, ls="--", label="target")
    size = table[key].to_numpy()
    ax.set_yticks(pos)
    ax.set_yticklabels([f"{s} (n={v:.0f})" for s, v in zip(table["site"], size)], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("observed / expected" if result.scale == "ratio" else "rate")
    ax.set_title(style.get("title", f"Sites ordered by {'name' if order == 'name' else 'size'}"))
    return ax


@plain_text
def plot_group_rates(result, *, ax=None, **style):
    """Rates (or other estimates) by group with CIs: a dot-and-whisker plot in the table's
    order; rows without an interval are left out."""
    ax = get_ax(ax, figsize=(7, max(3.0, 0.35 * len(result.tidy()) + 1.5)))
    table = result.tidy()
    table = table[table["conf_low"].notna()] if "conf_low" in table else table
    pos = np.arange(len(table))
    est = table["estimate"].to_numpy(dtype=float)
    lo = table["conf_low"].to_numpy(dtype=float)
    hi = table["conf_high"].to_numpy(dtype=float)
    ax.errorbar(est, pos, xerr=[est - lo, hi - est], fmt="o", color=style.get("color", PALETTE[0]),
                capsize=3)
    ax.set_yticks(pos)
    ax.set_yticklabels([str(t) for t in table["term"]], fontsize=8)
    ax.invert_yaxis()  # first row of the table at the top
    ax.set_xlabel(style.get("xlabel", "rate"))
    ax.set_title(style.get("title", ""))
    return ax


@plain_text
def plot_representation(result, *, ax=None, **style):
    """Percent of each group in each category, side-by-side bars (one colour per group)."""
    ax = get_ax(ax)
    table = result.tidy()
    categories = list(dict.fromkeys(table["category"]))
    groups = list(dict.fromkeys(table["group"]))
    width = 0.8 / max(len(groups), 1)
    pos = np.arange(len(categories))
    for j, grp in enumerate(groups):
        rows = table[table["group"] == grp].set_index("category").reindex(categories)
        ax.bar(pos + j * width - 0.4 + width / 2, rows["percent"].to_numpy(dtype=float),
               width=width, color=PALETTE[j % len(PALETTE)], label=str(grp))
    return _bars_finished(ax, pos, categories, "percent", style.get("title", "Representativeness"))


@plain_text
def plot_productivity(result, *, ax=None, **style):
    """Outcomes and people per FTE-year by site against the IPS Grow expectations."""
    ax = get_ax(ax)
    table = result.tidy()
    pos = np.arange(len(table))
    ax.bar(pos - 0.2, table["people_per_fte_year"], width=0.4, color=PALETTE[0],
           label="people supported / FTE-year")
    ax.bar(pos + 0.2, table["outcomes_per_fte_year"], width=0.4, color=PALETTE[2],
           label="job outcomes / FTE-year")
    for j, (col, color) in enumerate((("expected_people", PALETTE[0]),
                                      ("expected_outcomes", PALETTE[2]))):
        for p, v in zip(pos, table[col]):
            ax.hlines(v, p - 0.4 + 0.4 * j, p + 0.4 * j, color=color, ls="--", lw=1.5)
    return _bars_finished(ax, pos, table["site"], "per full-time specialist per year",
                          style.get("title", "Productivity vs IPS Grow expectations (dashed)"))


def _bars_finished(ax, pos, labels, ylabel: str, title: str):
    """Slanted labels under grouped bars, the axis label, the title and a small legend."""
    ax.set_xticks(pos)
    ax.set_xticklabels([str(v) for v in labels], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    return ax


@plain_text
def plot_fidelity(result, *, ax=None, **style):
    """Fidelity score against outcome rate, one point per site."""
    ax = get_ax(ax)
    table = result.tidy()
    ax.scatter(table["fidelity"], table["rate"], color=style.get("color", PALETTE[0]))
    for xi, yi, name in zip(table["fidelity"], table["rate"], table["site"]):
        ax.annotate(str(name), (xi, yi), textcoords="offset points", xytext=(4, 3), fontsize=8)
    ax.set_xlabel("fidelity score")
    ax.set_ylabel("outcome rate")
    ax.set_title(style.get("title", "Fidelity and outcomes"))
    return ax


__all__ = ["plot_funnel", "plot_caterpillar", "plot_group_rates", "plot_representation",
           "plot_productivity", "plot_fidelity"]
