"""Funnel plots for comparing sites (Spiegelhalter 2005), with over-dispersion adjustment.

A funnel plot shows each site's rate against its size with control limits around a target:
chance alone puts a small site further from the target than a large one, so limits widen as the
size falls. Sites are never ranked; a site outside the limits is *flagged* for a closer look.

The control limits and the over-dispersion adjustment (``method=``, ``overdispersion=``) are
described and computed in :mod:`causalips.sites.control_limits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    _example_rows,
    check_choice,
    check_range,
    non_whole_counts,
    numeric_column,
)
from ..base import Estimator, ReportSection, Result, Summary, tidy_frame, warn_all
from ..errors import DataError, SpecificationError, StatisticalWarning
from ._deprecated import LegacyAttributes
from ._people import site_rows
from .control_limits import (
    dispersion,
    flags,
    funnel_limits,
    level_name,
    limit_columns,
    limits_curve,
)
from .proportions import CI_METHODS, ci_description, proportion_ci

OVERDISPERSION = (None, "multiplicative", "additive")
LIMIT_METHODS = ("exact", "normal")
FIRST_COLUMNS = ("site", "numerator", "denominator", "rate")
ONE_ROW_PER_SITE = ("one row per site is needed; causalips.site_counts(data, site=, outcome=) "
                    "makes it from one row per person, in the engine for files, DuckDB and Spark")


class FunnelPlotResult(Result):
    """A fitted funnel plot: one row per site, sorted by site name (never by rank).

    ``tidy()`` columns: ``site``, ``numerator``, ``denominator``, ``rate`` (or O/E ratio),
    ``conf_low``/``conf_high`` (the site's own CI), ``lower_95``, ``upper_95``, ``lower_998``,
    ``upper_998`` (control limits at the site's size, one pair per level), ``flag``; the broom
    columns ``term`` (= site), ``estimate`` (= rate), ``std_error``, ``statistic`` (z-score
    against the target, over-dispersion-adjusted when asked) and ``p_value``.
    """

    count_columns = ("numerator", "denominator")

    def __init__(self, *, estimator, table, n_obs, info, curve, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.info = dict(info)
        self.target = float(info["target"])
        self.phi = float(info["phi"])
        self.tau2 = float(info["tau2"])
        self.scale = info["scale"]
        self._curve = curve
        self._freeze()

    @property
    def limit_columns(self) -> tuple[tuple[float, str, str], ...]:
        """(level, lower column, upper column) of each control limit, narrowest first: the
        names used in ``tidy()`` and ``limits_curve()`` (e.g. ``(0.95, "lower_95", "upper_95")``).
        """
        return tuple((lv, f"lower_{level_name(lv)}", f"upper_{level_name(lv)}")
                     for lv in self.estimator.limits)

    def limits_curve(self) -> pd.DataFrame:
        """Control limits over a grid of sizes (what the funnel plot draws)."""
        return self._curve.copy()

    def flagged(self) -> pd.DataFrame:
        """Sites outside a control limit, with the limit they cross (sorted by site name)."""
        t = self._table
        cols = ["site", "numerator", "denominator", "rate", "conf_low", "conf_high", "flag"]
        if "expected" in t.columns:
            cols.insert(3, "expected")
        return t.loc[t["flag"] != "within", cols].reset_index(drop=True)

    def glance(self) -> pd.DataFrame:
        keys = ("n_sites", "target", "target_source", "numerator_total", "denominator_total",
                "method", "limits_method", "overdispersion", "phi", "tau2",
                "dispersion_chisq", "dispersion_df", "dispersion_p_value", "n_flagged",
                "ci_method")
        row = {k: self.info[k] for k in keys}
        row["overall_rate"] = self.info["overall_rate"]
        return pd.DataFrame([row])

    def _method_text(self) -> str:
        i = self.info
        what = "binomial" if self.scale == "proportion" else "Poisson (O/E ratio)"
        if i["limits_method"] == "exact":
            return f"Spiegelhalter's interpolated exact {what} limits"
        return f"normal approximation ({what} variance)"

    def summary(self) -> Summary:
        i = self.info
        levels = ", ".join(f"{lv:.4g}" for lv in self.estimator.limits)
        if i["overdispersion"] is None:
            od = (f"not adjusted (phi = {self.phi:.3g}, test chi2 = {i['dispersion_chisq']:.3g} "
                  f"on {i['dispersion_df']} df, p = {i['dispersion_p_value']:.3g})")
        elif i["overdispersion"] == "multiplicative":
            od = (f"multiplicative, phi = {self.phi:.3g} from Winsorised z-scores "
                  f"({self.estimator.winsor:.0%} each tail); phi < 1 taken as 1")
        else:
            od = (f"additive random effects, tau2 = {self.tau2:.3g} (DerSimonian-Laird form on "
                  f"Winsorised z-scores, phi = {self.phi:.3g})")
        target_text = (f"{self.target:.4g} ({i['target_source']})")
        header = (
            ("sites", str(i["n_sites"])),
            ("indicator", "observed/expected ratio" if self.scale == "ratio" else "rate"),
            ("target", target_text),
            ("control limits", f"{levels}; {self._method_text()}"),
            ("over-dispersion", od),
            ("site confidence intervals", i["ci_text"]),
        )
        cols = ["site", "numerator", "denominator", "rate", "conf_low", "conf_high", "flag"]
        if "expected" in self._table.columns:
            cols.insert(3, "expected")
        notes = ["Sites are listed by name, not ranked: a funnel plot separates chance "
                 "variation from a signal; a position in a league table does not."]
        flagged = self.flagged()
        tables = [("Sites (sorted by name)", self._table[cols])]
        if len(flagged):
            tables.append(("Sites outside the control limits", flagged))
        else:
            notes.append("No site lies outside the control limits.")
        adjusted = self.estimator.overdispersion
        title = "Funnel plot: site comparison" + (
            f" ({adjusted} over-dispersion adjustment)" if adjusted else "")
        return Summary(title=title, header=header,
                       tables=tuple(tables), notes=tuple(notes) + self.warnings)

    def plot(self, ax=None, *, kind: Literal["funnel", "caterpillar"] = "funnel", **style):
        from ..plotting.sites import plot_caterpillar, plot_funnel

        check_choice("kind", kind, ("funnel", "caterpillar"))
        if kind == "caterpillar":
            return plot_caterpillar(self, ax=ax, **style)
        return plot_funnel(self, ax=ax, **style)

    def report_section(self) -> ReportSection:
        import matplotlib.pyplot as plt

        summ = self.summary()
        figs = []
        for kind, caption in (("funnel", "Funnel plot"),
                              ("caterpillar", "Site rates with confidence intervals")):
            ax = self.plot(kind=kind)
            figs.append((caption, ax.get_figure()))
        section = ReportSection(
            title=summ.title,
            paragraphs=tuple(f"{k}: {v}" for k, v in summ.header),
            tables=tuple((h, t, self.count_columns) for h, t in summ.tables),
            figures=tuple(figs),
            notes=summ.notes,
        )
        for _, fig in figs:
            plt.close(fig)
        return section


class FunnelPlot(LegacyAttributes, Estimator):
    """Compare sites' rates on a funnel plot with control limits by site size.

    Parameters
    ----------
    site : str
        Column naming the site (one row per site).
    numerator : str
        Column with the number of people with the outcome (e.g. jobs).
    denominator : str
        Column with the number of people (e.g. referrals or people supported).
    overdispersion : {None, "multiplicative", "additive"}
        Widen the limits for between-site variation beyond chance (Spiegelhalter 2005).
    limits : tuple of float
        Control-limit levels (default 95% and 99.8%).
    method : {"exact", "normal"}
        Interpolated exact binomial (Poisson for O/E) limits, or the normal approximation.
    expected : str, optional
        Column of expected numbers of events from a case-mix model: the indicator becomes the
        O/E ratio (target 1, precision E). See :class:`RiskAdjustedComparison`.
    target : float, optional
        A fixed target rate (e.g. a national benchmark) instead of the pooled rate.
    ci_method : {"wilson", "exact"}
        Each site's own CI for its rate (Wilson score or Clopper–Pearson; was ``ci=``). O/E
        ratios always use the exact Poisson interval for O divided by E.
    conf_level : float
        Level of the sites' own CIs (default 0.95).
    winsor : float
        Share Winsorised in each tail when estimating phi (default 0.1).

    Returns
    -------
    FunnelPlotResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_making_ips_work
    >>> res = ci.FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(
    ...     load_making_ips_work())
    >>> round(float(res.glance()["overall_rate"].iloc[0]), 4)
    0.3626

    See Also
    --------
    RiskAdjustedComparison, proportion_ci
    """

    _param_names = ("site", "numerator", "denominator", "overdispersion", "limits", "method",
                    "expected", "target", "ci_method", "conf_level", "winsor")
    _renamed = {"ci": "ci_method"}

    def __init__(
        self,
        *,
        site: str,
        numerator: str,
        denominator: str,
        overdispersion: Literal[None, "multiplicative", "additive"] = None,
        limits: Sequence[float] = (0.95, 0.998),
        method: Literal["exact", "normal"] = "exact",
        expected: str | None = None,
        target: float | None = None,
        ci_method: Literal["wilson", "exact"] = "wilson",
        conf_level: float = 0.95,
        winsor: float = 0.1,
    ):
        self.site, self.numerator, self.denominator = site, numerator, denominator
        self.overdispersion = check_choice("overdispersion", overdispersion, OVERDISPERSION)
        if isinstance(limits, int | float):
            limits = (limits,)
        try:
            levels = tuple(sorted(float(v) for v in limits))
        except (TypeError, ValueError):
            raise SpecificationError(
                f"limits must be levels like (0.95, 0.998); got {limits!r}") from None
        if not levels or len(set(levels)) != len(levels):
            raise SpecificationError(f"limits must be distinct levels like (0.95, 0.998); "
                                     f"got {limits!r}")
        for lv in levels:
            check_range("limits", lv, 0, 1)
        self.limits = levels
        self.method = check_choice("method", method, LIMIT_METHODS)
        self.expected = expected
        if target is not None:
            target = check_range("target", target, 0, 1)
            if expected is not None:
                raise SpecificationError("target= is for rates; with expected= the target of the "
                                         "O/E ratio is 1. Drop one of them.")
        self.target = target
        self.ci_method = check_choice("ci_method", ci_method, CI_METHODS)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.winsor = check_range("winsor", winsor, 0, 0.5, inclusive=(True, False))

    def fit(self, data) -> FunnelPlotResult:
        """Fit on one row per site: a pandas DataFrame or any data ``causalips.engine.as_table``
        reads (files, DuckDB, polars, pyarrow, Spark; the engine checks that no site repeats
        before the site rows come back). For one row per person, :func:`site_counts` sums
        them per site where the data are."""
        df = site_rows(data, {"site": self.site, "numerator": self.numerator,
                              "denominator": self.denominator, "expected": self.expected},
                       site=self.site, what=ONE_ROW_PER_SITE)
        sites, num, den, exp, warnings = self._site_rows(df)
        ind = self._indicator(num, den, exp)
        k = num.size
        z = (ind["y"] - ind["target"]) / np.sqrt(ind["var0"])
        phi_raw, tau2_raw, chisq, dfree, p_disp = dispersion(
            z, 1.0 / ind["var0"], winsor=self.winsor, target_given=self.target is not None)
        phi_used, tau2_used = 1.0, 0.0
        if self.overdispersion == "multiplicative":
            phi_used = max(phi_raw, 1.0)
        elif self.overdispersion == "additive":
            tau2_used = tau2_raw
        if self.overdispersion is None and k > 2 and p_disp < 0.05:
            warnings.append(
                f"the sites vary more than chance allows (phi = {phi_raw:.3g}, p = {p_disp:.2g}); "
                "consider overdispersion='multiplicative' or 'additive'"
            )
        if k < 5 and self.overdispersion is not None:
            warnings.append(f"only {k} sites: the over-dispersion estimate is imprecise")
        limits_method = "exact" if (self.method == "exact" and self.overdispersion is None) \
            else "normal"
        shape = dict(target=ind["target"], method=limits_method, scale=ind["scale"],
                     phi=phi_used, tau2=tau2_used)
        statistic = (ind["y"] - ind["target"]) / np.sqrt(phi_used * ind["var0"] + tau2_used)
        frame = {"site": sites, "numerator": num, "denominator": den}
        if exp is not None:
            frame["expected"] = exp
        frame.update({"rate": ind["y"], "term": [str(s) for s in sites], "estimate": ind["y"],
                      "std_error": ind["std_error"], "statistic": statistic,
                      "p_value": 2 * stats.norm.sf(np.abs(statistic)),
                      "conf_low": ind["low"], "conf_high": ind["high"]})
        frame.update(limit_columns(ind["precision"], self.limits, **shape))
        frame["flag"] = flags(ind["y"], [frame[f"lower_{level_name(lv)}"] for lv in self.limits],
                               [frame[f"upper_{level_name(lv)}"] for lv in self.limits],
                               [f"{lv * 100:.10g}%" for lv in self.limits])
        table = tidy_frame(frame, extra_first=FIRST_COLUMNS)
        if np.allclose(num, np.round(num)) and np.allclose(den, np.round(den)):
            table["numerator"] = np.round(num).astype(np.int64)
            table["denominator"] = np.round(den).astype(np.int64)
        info = {
            "n_sites": k, "target": ind["target"], "target_source": ind["target_source"],
            "overall_rate": float(num.sum() / (exp.sum() if exp is not None else den.sum())),
            "numerator_total": float(num.sum()), "denominator_total": float(den.sum()),
            "method": self.method, "limits_method": limits_method,
            "overdispersion": self.overdispersion, "phi": phi_raw, "tau2": tau2_raw,
            "dispersion_chisq": chisq, "dispersion_df": dfree, "dispersion_p_value": p_disp,
            "n_flagged": int(np.sum(frame["flag"] != "within")), "ci_method": self.ci_method,
            "ci_text": ind["ci_text"], "scale": ind["scale"],
        }
        warn_all(warnings, StatisticalWarning)
        return FunnelPlotResult(estimator=self, table=table, n_obs=k, info=info,
                                curve=limits_curve(ind["precision"], self.limits, **shape),
                                warnings=warnings)

    def _site_rows(self, df: pd.DataFrame):
        """Sites sorted by name with their counts (and expected counts); notes on the counts."""
        if df[self.site].isna().any():
            miss = df[self.site].isna().to_numpy()
            raise DataError(f"column {self.site!r} (the site) has {int(miss.sum())} missing "
                            f"names (e.g. row {_example_rows(df, miss)}); name every site")
        num = numeric_column(df, self.numerator, role="numerator")
        den = numeric_column(df, self.denominator, role="denominator")
        bad = (num < 0) | (den <= 0) | (num > den)
        if bad.any():
            raise DataError(
                f"{int(bad.sum())} sites need 0 <= {self.numerator} <= {self.denominator} and "
                f"{self.denominator} > 0 (e.g. row {_example_rows(df, bad)}: "
                f"{num[bad][0]:g} of {den[bad][0]:g})"
            )
        exp = None
        if self.expected is not None:
            exp = numeric_column(df, self.expected, role="expected")
            if np.any(exp <= 0):
                raise DataError(f"column {self.expected!r} (the expected events) must be > 0 "
                                "for every site")
        elif self.method == "exact" and non_whole_counts(df, den, self.denominator,
                                                          role="denominator"):
            raise DataError(non_whole_counts(df, den, self.denominator, role="denominator")
                            + "; exact binomial limits need whole numbers: use method='normal' "
                            "for weighted counts")
        notes = [m for m in (non_whole_counts(df, num, self.numerator, role="numerator"),
                             non_whole_counts(df, den, self.denominator, role="denominator"))
                 if m]
        order = np.argsort(df[self.site].astype(str).to_numpy(), kind="stable")
        return (df[self.site].to_numpy()[order], num[order], den[order],
                None if exp is None else exp[order], notes)

    def _indicator(self, num, den, exp) -> dict:
        """The indicator (rate, or O/E with ``expected``), its target, precision and CIs."""
        alpha = 1 - self.conf_level
        if exp is not None:
            return {"scale": "ratio", "target": 1.0, "target_source": "observed/expected = 1",
                    "precision": exp, "y": num / exp, "var0": 1.0 / exp,
                    "low": np.where(num > 0, stats.chi2.ppf(alpha / 2, 2 * num) / 2, 0.0) / exp,
                    "high": stats.chi2.ppf(1 - alpha / 2, 2 * num + 2) / 2 / exp,
                    "std_error": np.sqrt(num) / exp,
                    "ci_text": f"{self.conf_level:.0%} exact Poisson interval for O, divided by "
                               "E (E treated as fixed)"}
        if self.target is not None:
            target, source = float(self.target), "given"
        else:
            target, source = float(num.sum() / den.sum()), "pooled rate of all sites"
        if not 0 < target < 1:
            raise DataError(f"the target rate is {target:g}: funnel limits need a rate strictly "
                            "between 0 and 1")
        y = num / den
        low, high = proportion_ci(num, den, method=self.ci_method, conf_level=self.conf_level)
        return {"scale": "proportion", "target": target, "target_source": source,
                "precision": den, "y": y, "var0": target * (1 - target) / den,
                "low": low, "high": high, "std_error": np.sqrt(y * (1 - y) / den),
                "ci_text": ci_description(self.ci_method, self.conf_level)}


__all__ = ["FunnelPlot", "FunnelPlotResult", "funnel_limits", "level_name"]
