"""Cox model plots: hazard-ratio forest plot, scaled Schoenfeld residuals, adjusted curves."""

from __future__ import annotations

import numpy as np

from ._common import PALETTE, get_ax
from ._text import plain_text


@plain_text
def plot_hazard_ratios(result, *, ax=None, title: str | None = None, color: str = PALETTE[0],
                       reference_line: bool = True):
    """Forest plot: one row per coefficient, hazard ratio with its CI on a log axis."""
    tidy = result.tidy()
    n = len(tidy)
    ax = get_ax(ax, figsize=(7, 1.2 + 0.45 * n))
    y = np.arange(n)[::-1]
    hr = tidy["hazard_ratio"].to_numpy()
    lo = tidy["hr_conf_low"].to_numpy()
    hi = tidy["hr_conf_high"].to_numpy()
    ax.hlines(y, lo, hi, color=color, lw=2)
    ax.plot(hr, y, "s", color=color, ms=7)
    if reference_line:
        ax.axvline(1.0, color="0.5", ls="--", lw=1)
    ax.set_xscale("log")
    _ratio_ticks(ax, np.concatenate([lo, hi, [1.0]]))
    ax.set_yticks(y)
    ax.set_yticklabels(tidy["term"].tolist())
    level = result.estimator.conf_level
    ax.set_xlabel(f"hazard ratio ({level:.0%} CI, log scale)")
    for yi, h, l_, u in zip(y, hr, lo, hi, strict=True):
        ax.annotate(f"{h:.2f} ({l_:.2f}-{u:.2f})", (1.0, yi), xycoords=("axes fraction", "data"),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_title(title or "Cox model: hazard ratios")
    ax.set_ylim(-0.7, n - 0.3)
    return ax


def _ratio_ticks(ax, values) -> None:
    """Plain-number ticks (0.5, 1, 2, ...) on a log axis: easier to read than powers of ten."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    finite = values[np.isfinite(values) & (values > 0)]
    if finite.size == 0:
        return
    nice = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50, 100])
    shown = nice[(nice >= finite.min() / 1.05) & (nice <= finite.max() * 1.05)]
    ax.xaxis.set_major_locator(FixedLocator(shown))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


@plain_text
def plot_schoenfeld(result, term: str, *, transform: str = "km", ax=None, color=PALETTE[0],
                    title: str | None = None):
    """Scaled Schoenfeld residuals of one coefficient against g(t), with a lowess-type smooth.

    A flat smooth (at the estimated log HR) supports proportional hazards; a trend means the
    effect changes over follow-up time.
    """
    z = result._zph
    names = list(z["names"])
    if term not in names:
        from ..errors import SpecificationError

        raise SpecificationError(f"term must be one of {names}; got {term!r}")
    j = names.index(term)
    g = z["tests"][transform]["g"].astype(float)
    r = z["scaled"][:, j].astype(float)
    ax = get_ax(ax)
    ax.scatter(g, r, s=10, alpha=0.5, color=color, label="scaled Schoenfeld residual")
    order = np.argsort(g)
    gs, rs = g[order], r[order]
    if gs.size >= 4:
        # running mean over a window of ~1/5 of the events: a simple, dependency-free smooth
        k = max(3, gs.size // 5)
        kernel = np.ones(k) / k
        smooth = np.convolve(rs, kernel, mode="valid")
        xs = np.convolve(gs, kernel, mode="valid")
        ax.plot(xs, smooth, color=PALETTE[1], lw=2, label="running mean")
    ax.axhline(float(result.coef.iloc[j]), color="0.4", ls="--", lw=1, label="log HR (fitted)")
    xlabel = {"km": "1 - KM(t-)", "identity": "time", "rank": "rank of time"}[transform]
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"beta(t) for {term}")
    ax.set_title(title or f"Proportional hazards check: {term}")
    ax.legend(fontsize=8)
    return ax


@plain_text
def plot_adjusted_curves(curves, *, ax=None, time_label: str = "time", title: str | None = None):
    """Step plot of the frame returned by ``CoxResult.survival_curves``."""
    ax = get_ax(ax)
    for i, (lv, part) in enumerate(curves.groupby("level", sort=False)):
        t = np.concatenate([[0.0], part["time"].to_numpy()])
        s = np.concatenate([[1.0], part["estimate"].to_numpy()])
        ax.step(t, s, where="post", color=PALETTE[i % len(PALETTE)], label=str(lv))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(time_label)
    ax.set_ylabel("adjusted survival")
    ax.legend(title=str(curves["term"].iloc[0]) if len(curves) else None)
    ax.set_title(title or "Adjusted survival curves")
    return ax
