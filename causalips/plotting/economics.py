"""Economic evaluation plots: CE plane, CEAC, tornado, Monte Carlo draws, extrapolation vs KM.

Each function takes what it needs from the result it is given (or a table / array of draws) and
imports no estimator module.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._common import PALETTE, get_ax
from ._text import plain_text


@plain_text
def plot_ce_plane(result, *, ax=None, wtp: Sequence[float] | None = None,
                  max_points: int = 2000, title: str | None = None,
                  effect_label: str | None = None, cost_label: str | None = None):
    """Cost-effectiveness plane: bootstrap draws of (incremental effect, incremental cost).

    One cloud per comparison, its point estimate as a larger marker, the axes through the origin
    and one dashed line per willingness-to-pay threshold (slope = wtp; points below a line are
    cost-effective at that threshold). At most ``max_points`` draws per comparison are drawn.
    Returns the Axes.
    """
    ax = get_ax(ax, figsize=(6.5, 5.0))
    draws = result.draws()
    inc = result.incremental()
    for k, (comp, g) in enumerate(draws.groupby("comparison", sort=False)):
        color = PALETTE[k % len(PALETTE)]
        step = max(1, len(g) // max_points)
        ax.scatter(g["incremental_effect"].to_numpy()[::step],
                   g["incremental_cost"].to_numpy()[::step], s=4, alpha=0.25, color=color,
                   label=str(comp), rasterized=True)
        row = inc[inc["comparison"] == comp].iloc[0]
        ax.scatter([row["incremental_effect"]], [row["incremental_cost"]], s=60, color=color,
                   edgecolor="black", zorder=3)
    ax.axhline(0, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8)
    xlo, xhi = ax.get_xlim()
    span = max(abs(xlo), abs(xhi))
    xs = np.array([-span, span])
    for w in (result.wtp if wtp is None else wtp):
        ax.plot(xs, w * xs, ls="--", color="grey", lw=1.0, label=f"WTP {w:,.0f}")
    ax.set_xlim(-span, span)
    est = result.estimator
    ax.set_xlabel(effect_label or f"incremental {est.effect}")
    ax.set_ylabel(cost_label or f"incremental {est.cost}")
    ax.set_title(title or "Cost-effectiveness plane")
    ax.legend(fontsize=8, loc="best")
    return ax


@plain_text
def plot_ceac(result, *, ax=None, thresholds: Sequence[float] | None = None,
              title: str | None = None, all_groups: bool | None = None,
              all_arms: bool | None = None):
    """Cost-effectiveness acceptability curve(s): probability each group is cost-effective.

    With two groups one curve (the intervention vs the reference); with more, one curve per
    group (probability of the highest net benefit) unless ``all_groups=False`` (``all_arms`` is
    its old name). Vertical dotted lines mark the plan's thresholds. Returns the Axes.
    """
    ax = get_ax(ax)
    ce = result.ceac(thresholds)
    groups = list(result.groups)
    if all_arms is not None:
        from ..errors import warn

        warn("plot_ceac(all_arms=) is renamed all_groups=; all_arms= will be removed in the next "
             "release", FutureWarning)
        all_groups = all_arms if all_groups is None else all_groups
    if all_groups is None:
        all_groups = len(groups) > 2
    if all_groups:
        for k, a in enumerate(groups):
            rows = ce[ce["group"] == a]
            ax.plot(rows["wtp"], rows["prob_optimal"], color=PALETTE[k % len(PALETTE)],
                    lw=1.8, label=str(a))
    else:
        for k, a in enumerate(groups[1:]):
            rows = ce[ce["group"] == a]
            ax.plot(rows["wtp"], rows["prob_cost_effective_vs_reference"],
                    color=PALETTE[k % len(PALETTE)], lw=1.8, label=f"{a} vs {groups[0]}")
    for w in result.wtp:
        ax.axvline(w, ls=":", color="grey", lw=1.0)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("willingness to pay per unit of effect")
    ax.set_ylabel("probability cost-effective")
    ax.set_title(title or "Cost-effectiveness acceptability curve")
    ax.legend(fontsize=8, loc="best")
    return ax


@plain_text
def plot_tornado(table, *, ax=None, output: str = "net_benefit", base: float | None = None,
                 title: str | None = None, max_bars: int = 12):
    """Tornado diagram of a one-way sensitivity table.

    ``table`` is a DataFrame with columns ``input``, ``output``, ``low_value``, ``high_value``,
    ``result_low``, ``result_high`` and ``base`` (as :meth:`ReturnOnInvestmentResult.tornado`
    returns), or a result with a ``tornado()`` method. Bars are sorted by swing, widest on top.
    Returns the Axes.
    """
    if hasattr(table, "tornado"):
        table = table.tornado(output=output)
    t = table[table["output"] == output] if "output" in table.columns else table
    t = t.assign(swing=(t["result_high"] - t["result_low"]).abs())
    if (t["swing"] > 0).any():
        t = t[t["swing"] > 0]  # inputs that do not move this output are left out
    t = t.sort_values("swing", ascending=True).tail(max_bars)
    ax = get_ax(ax, figsize=(7.0, 0.45 * len(t) + 1.5))
    centre = float(t["base"].iloc[0]) if base is None else base
    y = np.arange(len(t))
    lo = np.minimum(t["result_low"], t["result_high"]).to_numpy()
    hi = np.maximum(t["result_low"], t["result_high"]).to_numpy()
    ax.barh(y, centre - lo, left=lo, color=PALETTE[1], alpha=0.8, label="lower side")
    ax.barh(y, hi - centre, left=centre, color=PALETTE[0], alpha=0.8, label="upper side")
    ax.axvline(centre, color="black", lw=1.0)
    labels = [f"{i} ({_fmt(a)} to {_fmt(b)})" for i, a, b in
              zip(t["input"], t["low_value"], t["high_value"], strict=True)]
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel(output.replace("_", " "))
    ax.set_title(title or f"One-way sensitivity: {output.replace('_', ' ')}")
    return ax


@plain_text
def plot_draws(draws, *, ax=None, output: str = "net_benefit", reference: float = 0.0,
               title: str | None = None, bins: int = 50):
    """Histogram of Monte Carlo draws of one output (probabilistic sensitivity analysis).

    ``draws`` is an array (e.g. ``ReturnOnInvestmentResult.draws(output)``); non-finite draws
    are left out. A vertical line marks ``reference``, the break-even value (0 for net benefit,
    1 for a benefit-cost ratio). Returns the Axes.
    """
    ax = get_ax(ax)
    d = np.asarray(draws, dtype=float)
    ax.hist(d[np.isfinite(d)], bins=bins, color=PALETTE[0], alpha=0.8)
    ax.axvline(reference, color="black", lw=1.0)
    label = output.replace("_", " ")
    ax.set_xlabel(label)
    ax.set_ylabel("Monte Carlo draws")
    ax.set_title(title or f"Probabilistic sensitivity: {label}")
    return ax


def _fmt(v) -> str:
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _km_steps(times, values):
    x = np.concatenate([[0.0], np.repeat(np.asarray(times, dtype=float), 2)])
    y = np.concatenate([[1.0], np.repeat(np.concatenate([[1.0], np.asarray(values, float)]),
                                         2)[1:-1]])
    return x, y


LINESTYLES = ("-", "--", ":", "-.", (0, (3, 1, 1, 1)), (0, (5, 2)))


@plain_text
def plot_extrapolation(result, *, ax=None, distributions: Sequence[str] | None = None,
                       horizon: float | None = None, km: bool = True, title: str | None = None,
                       time_label: str = "time", group=None):
    """Parametric survival curves extended to the horizon, over the Kaplan–Meier curve.

    Draws the KM step curve with its CI band and each fitted model's S(t) from 0 to the horizon;
    a dotted vertical line marks the end of follow-up. With one group, colours tell the models
    apart; with several, colours tell the groups apart and line styles the models (``group=``
    shows one). Returns the Axes.
    """
    ax = get_ax(ax)
    groups = result.groups if group is None else (group,)
    names = result.distributions if distributions is None else tuple(distributions)
    h = result.horizon if horizon is None else horizon
    grid = np.linspace(0.0, h, 300)
    several = len(groups) > 1
    for gi, g in enumerate(groups):
        gcol = PALETTE[gi % len(PALETTE)] if several else "black"
        tag = f"{g}: " if several else ""
        if km:
            kmt = result.km_table(g)
            x, y = _km_steps(kmt["time"], kmt["estimate"])
            ax.plot(x, y, color=gcol, lw=2.0, alpha=0.6 if several else 1.0,
                    label=f"{tag}Kaplan-Meier", drawstyle="default")
            _, ylo = _km_steps(kmt["time"], kmt["conf_low"])
            _, yhi = _km_steps(kmt["time"], kmt["conf_high"])
            ax.fill_between(x, ylo, yhi, color=gcol, alpha=0.1, lw=0)
        curves = result.survival_function(grid, distributions=names, group=g)
        for k, name in enumerate(names):
            rows = curves[curves["distribution"] == name]
            if rows.empty:
                continue
            if several:
                ax.plot(rows["time"], rows["survival"], color=gcol, lw=1.2,
                        ls=LINESTYLES[k % len(LINESTYLES)], label=f"{tag}{name}")
            else:
                ax.plot(rows["time"], rows["survival"], color=PALETTE[k % len(PALETTE)],
                        lw=1.3, label=name)
    ax.axvline(result.max_follow_up, ls=":", color="grey", lw=1.0)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(time_label)
    ax.set_ylabel("survival")
    ax.set_title(title or "Parametric extrapolation vs Kaplan-Meier")
    ax.legend(fontsize=7, loc="best", ncol=2 if several else 1)
    return ax


__all__ = ["plot_ce_plane", "plot_ceac", "plot_tornado", "plot_draws", "plot_extrapolation"]
