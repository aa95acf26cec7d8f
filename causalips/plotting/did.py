"""Plots for difference-in-differences results (pure functions returning the Axes)."""

from __future__ import annotations

import numpy as np

from ._common import get_ax
from ._text import plain_text


@plain_text
def plot_trends(result, ax=None, **style):
    """Mean outcome by period, treated vs control units, with the first exposure marked."""
    ax = get_ax(ax, figsize=(6.5, 4))
    tr = result.trends
    colors = {"treated": style.pop("treated_color", "C3"), "control": style.pop("control_color",
                                                                                 "C0")}
    for group, rows in tr.groupby("group", sort=False):
        ax.plot(rows["time"], rows["mean"], marker="o", color=colors.get(group), label=group,
                **style)
    first = tr["first_treated"].iloc[0] if len(tr) else np.nan
    if np.isfinite(first):
        ax.axvline(first - 0.5, color="grey", linestyle="--", linewidth=1)
        ax.annotate("first exposure", (first - 0.5, ax.get_ylim()[1]), ha="right", va="top",
                    fontsize=8, color="grey")
    ax.set_xlabel(result.estimator.time)
    ax.set_ylabel(f"mean {result.estimator.outcome}")
    ax.set_title("Outcome trends: treated vs control")
    ax.legend(frameon=False)
    return ax


@plain_text
def plot_event_study(result, ax=None, **style):
    """Coefficients by event time with confidence intervals; reference period at zero."""
    ax = get_ax(ax, figsize=(6.5, 4))
    tab = result.tidy()
    tab = tab[tab["event_time"].notna()].sort_values("event_time")
    color = style.pop("color", "C0")
    x = tab["event_time"].to_numpy(dtype=float)
    est = tab["estimate"].to_numpy(dtype=float)
    lo = tab["conf_low"].to_numpy(dtype=float)
    hi = tab["conf_high"].to_numpy(dtype=float)
    ax.vlines(x, lo, hi, color=color, linewidth=1.5)
    ax.plot(x, est, "o", color=color, **style)
    ref = getattr(result, "reference", None)
    if ref is not None:
        ax.plot([ref], [0.0], "o", mfc="white", color=color)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(-0.5, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("periods since first exposure")
    ax.set_ylabel(f"effect on {result.estimator.outcome}")
    ax.set_title("Event study")
    return ax


@plain_text
def plot_placebo(result, ax=None, **style):
    """Placebo (randomization / Conley-Taber) distribution with the observed estimate."""
    ax = get_ax(ax, figsize=(6.5, 4))
    det = next(iter(result.details.values()), None) if result.details else None
    if det is None or not (hasattr(det, "placebo") or hasattr(det, "placebo_errors")):
        raise ValueError("no placebo distribution: use with_inference(Randomization()) first")
    if hasattr(det, "placebo"):
        values, obs, label = det.placebo, det.estimate, "re-assigned estimates"
    else:
        values, obs, label = det.placebo_errors, det.estimate, "placebo errors (controls)"
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    ax.hist(values, bins=min(30, max(5, values.size // 2)), color=style.pop("color", "C0"),
            alpha=0.7, label=label)
    ax.axvline(obs, color="C3", linewidth=2, label=f"observed {obs:.3g}")
    ax.set_xlabel("coefficient")
    ax.set_ylabel("count")
    ax.set_title(f"Placebo distribution (p = {det.p_value:.3g})")
    ax.legend(frameon=False)
    return ax
