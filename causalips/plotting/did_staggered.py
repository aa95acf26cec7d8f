"""Plots for staggered DiD (group-time ATTs, aggregations) and synthetic control / SDID."""

from __future__ import annotations

import numpy as np

from ._common import PALETTE, get_ax
from ._text import plain_text


def _errorbars(ax, x, table, color, *, band=True, label=None, marker="o", fill="full"):
    est = table["estimate"].to_numpy(dtype=float)
    lo = table["conf_low"].to_numpy(dtype=float)
    hi = table["conf_high"].to_numpy(dtype=float)
    if band and "conf_low_band" in table and np.isfinite(table["conf_low_band"]).any():
        blo = table["conf_low_band"].to_numpy(dtype=float)
        bhi = table["conf_high_band"].to_numpy(dtype=float)
        ax.vlines(x, blo, bhi, color=color, lw=4, alpha=0.25)
    ax.errorbar(x, est, yerr=[est - lo, hi - est], fmt=marker, color=color, ms=5, capsize=2,
                lw=1.2, label=label, fillstyle=fill)


@plain_text
def plot_group_time(result, *, ax=None, band: bool = True, title: str | None = None,
                    ylabel: str | None = None):
    """ATT(g,t) by calendar period, one colour per cohort (group); pre-periods hollow.

    Thin bars are pointwise intervals; wide pale bars the simultaneous band (if bootstrapped).
    """
    ax = get_ax(ax, figsize=(8, 4.5))
    tab = result.tidy()
    groups = list(dict.fromkeys(tab["group"]))
    width = 0.6 / max(len(groups), 1)
    for k, g in enumerate(groups):
        rows = tab[tab["group"] == g]
        x = rows["time"].to_numpy(dtype=float) + (k - (len(groups) - 1) / 2) * width
        color = PALETTE[k % len(PALETTE)]
        post = rows["post"].to_numpy(dtype=bool)
        if (~post).any():
            _errorbars(ax, x[~post], rows[~post], color, band=band, fill="none")
        if post.any():
            _errorbars(ax, x[post], rows[post], color, band=band, label=f"group {g:g}")
    ax.axhline(0.0, color="0.4", lw=0.8, ls="--")
    ax.set_xlabel(result.estimator.time)
    ax.set_ylabel(ylabel or f"ATT(g,t) on {result.estimator.outcome}")
    ax.set_title(title or "Group-time average treatment effects (hollow: pre-treatment)")
    ax.legend(frameon=False, fontsize=8)
    return ax


@plain_text
def plot_aggregate(result, *, ax=None, band: bool = True, title: str | None = None,
                   ylabel: str | None = None):
    """Aggregated effects: event-study plot for ``dynamic``; by group or period otherwise.

    The overall effect is drawn as a horizontal line; shaded bars are the simultaneous band.
    """
    ax = get_ax(ax)
    tab = result.tidy()
    levels = tab[tab["term"] != "att"]
    overall = tab[tab["term"] == "att"].iloc[0]
    col = {"group": "group", "calendar": "time", "dynamic": "event_time"}.get(result.type)
    if col is not None and len(levels):
        x = levels[col].to_numpy(dtype=float)
        if col == "event_time":
            pre = x < 0
            _errorbars(ax, x[pre], levels[pre], PALETTE[0], band=band, label="before")
            _errorbars(ax, x[~pre], levels[~pre], PALETTE[1], band=band, label="after")
            ax.axvline(-0.5, color="0.6", lw=0.8, ls=":")
        else:
            _errorbars(ax, x, levels, PALETTE[0], band=band, label=col)
        ax.set_xlabel({"group": "group (first treated)", "time": result.estimator.time,
                       "event_time": "periods since treatment"}[col])
    else:
        _errorbars(ax, np.array([0.0]), tab[tab["term"] == "att"], PALETTE[0], band=False)
        ax.set_xticks([0.0], ["overall ATT"])
    ax.axhline(overall["estimate"], color=PALETTE[2], lw=1, label="overall ATT")
    ax.axhline(0.0, color="0.4", lw=0.8, ls="--")
    ax.set_ylabel(ylabel or f"ATT on {result.estimator.outcome}")
    ax.set_title(title or f"Aggregated ATT ({result.type})")
    ax.legend(frameon=False, fontsize=8)
    return ax


@plain_text
def plot_synthetic_control(result, *, ax=None, kind: str = "trajectories",
                           title: str | None = None, ylabel: str | None = None,
                           max_ratio: float | None = None):
    """Synthetic control: ``kind="trajectories"`` (treated vs synthetic) or ``"placebos"``.

    The placebo plot shows the treated gap (bold) over the in-space placebo gaps; placebos whose
    pre-period RMSPE exceeds ``max_ratio`` times the treated unit's are left out (e.g. 5, as
    Abadie et al. 2010 do).
    """
    ax = get_ax(ax)
    periods = np.asarray(result.periods, dtype=float)
    start = result.estimator.treatment_start
    if kind == "trajectories":
        ax.plot(periods, result.treated_path, color=PALETTE[1], lw=2,
                label=f"treated ({result.treated_label})")
        ax.plot(periods, result.synthetic_path, color=PALETTE[0], lw=2, ls="--",
                label="synthetic control")
        ax.set_ylabel(ylabel or result.estimator.outcome)
        ax.set_title(title or "Treated unit and its synthetic control")
    elif kind == "placebos":
        gaps = result.placebo_gaps
        keep = np.ones(gaps.shape[0], dtype=bool)
        if max_ratio is not None:
            keep = result.placebo_rmspe_pre <= max_ratio * result.rmspe_pre
        for row in gaps[keep]:
            ax.plot(periods, row, color="0.7", lw=0.8)
        ax.plot(periods, result.treated_path - result.synthetic_path, color=PALETTE[1], lw=2,
                label=f"treated ({result.treated_label})")
        ax.plot([], [], color="0.7", lw=0.8, label="placebos (controls)")
        ax.axhline(0.0, color="0.4", lw=0.8, ls="--")
        ax.set_ylabel(ylabel or f"gap in {result.estimator.outcome}")
        ax.set_title(title or "Gap: treated minus synthetic, with in-space placebos")
    else:
        raise ValueError(f"kind must be 'trajectories' or 'placebos'; got {kind!r}")
    ax.axvline(start, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel(result.estimator.time)
    ax.legend(frameon=False, fontsize=8)
    return ax


@plain_text
def plot_synthetic_did(result, *, ax=None, title: str | None = None, ylabel: str | None = None):
    """SDID: treated mean vs the unit-weighted control mean (shifted by the pre-period gap);
    bars at the bottom show the time weights lambda."""
    ax = get_ax(ax)
    periods = np.asarray(result.periods, dtype=float)
    ax.plot(periods, result.treated_path, color=PALETTE[1], lw=2, label="treated")
    ax.plot(periods, result.control_path + result.pre_gap, color=PALETTE[0], lw=2, ls="--",
            label="synthetic control (unit-weighted, shifted)")
    lam = result.time_weights.to_numpy(dtype=float)
    pre = periods[: lam.size]
    lo, hi = ax.get_ylim()
    if lam.max() > 0:
        ax.bar(pre, lam / lam.max() * 0.15 * (hi - lo), bottom=lo, width=0.6, color="0.75",
               label="time weights (scaled)")
    ax.set_ylim(lo, hi)
    ax.axvline(periods[result.n_pre] - 0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel(result.estimator.time)
    ax.set_ylabel(ylabel or result.estimator.outcome)
    ax.set_title(title or f"Synthetic DiD: ATT = {result.att:.3g}")
    ax.legend(frameon=False, fontsize=8)
    return ax


__all__ = ["plot_group_time", "plot_aggregate", "plot_synthetic_control", "plot_synthetic_did"]
