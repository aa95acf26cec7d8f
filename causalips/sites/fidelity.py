"""Fidelity and outcomes across sites: a correlation, with the caveat that it needs."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    _example_rows,
    check_choice,
    non_whole_counts,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame, warn_all
from ..errors import DataError, StatisticalWarning
from ._deprecated import LegacyAttributes
from ._people import site_rows
from .proportions import CI_METHODS, proportion_ci

FIDELITY_CAVEAT = (
    "A correlation between fidelity and outcomes across sites depends on how far apart the "
    "sites' fidelity scores are: when all sites score alike (a narrow spread, e.g. all 'good' "
    "fidelity) the correlation is weak even if fidelity matters, and a few sites make it very "
    "imprecise. It describes differences between sites, not what raising fidelity at one site "
    "would do."
)


class FidelityOutcomeResult(Result):
    """Fidelity score and outcome rate per site, with their correlation across sites."""

    count_columns = ("numerator", "denominator")

    def __init__(self, *, estimator, table, n_obs, info, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.info = dict(info)
        self._freeze()

    def glance(self) -> pd.DataFrame:
        return pd.DataFrame([self.info])

    def summary(self) -> Summary:
        i = self.info
        header = (("sites", str(i["n_sites"])),
                  ("Pearson correlation", f"r = {i['pearson_r']:.3g} (95% CI {i['conf_low']:.3g} "
                                          f"to {i['conf_high']:.3g}, Fisher z), "
                                          f"p = {i['pearson_p_value']:.3g}"),
                  ("Spearman correlation", f"rho = {i['spearman_rho']:.3g}, "
                                           f"p = {i['spearman_p_value']:.3g}"),
                  ("spread of fidelity scores", f"{i['fidelity_min']:g} to {i['fidelity_max']:g}"
                                                f" (SD {i['fidelity_sd']:.3g})"))
        cols = ["site", "fidelity", "numerator", "denominator", "rate", "conf_low", "conf_high"]
        return Summary(title="Fidelity and outcomes across sites", header=header,
                       tables=(("Sites (sorted by name)", self._table[cols]),),
                       notes=(FIDELITY_CAVEAT,) + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.sites import plot_fidelity

        return plot_fidelity(self, ax=ax, **style)


class FidelityOutcome(LegacyAttributes, Estimator):
    """Fidelity (e.g. IPS-25 score) against outcome rate across sites, with the caveat.

    Parameters
    ----------
    site, fidelity, numerator, denominator : str
        Site name, fidelity score, people with the outcome, people supported.
    ci_method : {"wilson", "exact"}
        Each site's CI (was ``ci=``).

    Returns
    -------
    FidelityOutcomeResult
        ``glance()`` has the Pearson r (Fisher-z CI) and Spearman rho; ``summary()`` states the
        caveat that the correlation depends on the spread of sites.

    Example
    -------
    >>> import pandas as pd
    >>> import causalips as ci
    >>> df = pd.DataFrame({"site": list("ABCD"), "ips25": [90, 100, 105, 115],
    ...                    "jobs": [20, 30, 28, 45], "people": [100, 100, 90, 110]})
    >>> res = ci.FidelityOutcome(site="site", fidelity="ips25", numerator="jobs",
    ...                          denominator="people").fit(df)
    >>> int(res.glance()["n_sites"].iloc[0])
    4

    See Also
    --------
    Productivity, FunnelPlot
    """

    _param_names = ("site", "fidelity", "numerator", "denominator", "ci_method")
    _renamed = {"ci": "ci_method"}

    def __init__(self, *, site: str, fidelity: str, numerator: str, denominator: str,
                 ci_method: Literal["wilson", "exact"] = "wilson"):
        self.site, self.fidelity = site, fidelity
        self.numerator, self.denominator = numerator, denominator
        self.ci_method = check_choice("ci_method", ci_method, CI_METHODS)

    def fit(self, data) -> FidelityOutcomeResult:
        """Fit on one row per site: a pandas DataFrame or any data ``causalips.engine.as_table``
        reads (the engine checks that no site repeats before the site rows come back)."""
        df = site_rows(data, {"site": self.site, "fidelity": self.fidelity,
                              "numerator": self.numerator, "denominator": self.denominator},
                       site=self.site, what="one row per site is needed")
        f = numeric_column(df, self.fidelity, role="fidelity")
        num = numeric_column(df, self.numerator, role="numerator")
        den = numeric_column(df, self.denominator, role="denominator")
        bad = (num < 0) | (den <= 0) | (num > den)
        if bad.any():
            raise DataError(f"{int(bad.sum())} sites need 0 <= numerator <= denominator, "
                            f"denominator > 0 (e.g. row {_example_rows(df, bad)})")
        if f.size < 3:
            raise DataError("a correlation across sites needs at least 3 sites")
        rate = num / den
        low, high = proportion_ci(num, den, method=self.ci_method)
        pr = stats.pearsonr(f, rate)
        sr = stats.spearmanr(f, rate)
        k = f.size
        if k > 3 and abs(pr.statistic) < 1:
            zr, se = np.arctanh(pr.statistic), 1 / np.sqrt(k - 3)
            r_lo, r_hi = np.tanh(zr - 1.959964 * se), np.tanh(zr + 1.959964 * se)
        else:
            r_lo = r_hi = np.nan
        frame = pd.DataFrame({"site": df[self.site].to_numpy(), "fidelity": f, "numerator": num,
                              "denominator": den, "rate": rate,
                              "term": df[self.site].astype(str).to_numpy(), "estimate": rate,
                              "std_error": np.sqrt(rate * (1 - rate) / den), "conf_low": low,
                              "conf_high": high}).sort_values("term", kind="stable")
        info = {"n_sites": k, "pearson_r": float(pr.statistic),
                "pearson_p_value": float(pr.pvalue), "conf_low": float(r_lo),
                "conf_high": float(r_hi), "spearman_rho": float(sr.statistic),
                "spearman_p_value": float(sr.pvalue), "fidelity_min": float(f.min()),
                "fidelity_max": float(f.max()), "fidelity_sd": float(f.std(ddof=1)),
                "caveat": FIDELITY_CAVEAT}
        warnings = [m for m in (non_whole_counts(df, num, self.numerator, role="numerator"),
                                non_whole_counts(df, den, self.denominator, role="denominator"))
                    if m]
        if k < 10:
            warnings.append(f"only {k} sites: the correlation is very imprecise")
        warn_all(warnings, StatisticalWarning)
        return FidelityOutcomeResult(estimator=self, table=tidy_frame(frame, ("site",)),
                                     n_obs=k, info=info, warnings=warnings)


__all__ = ["FidelityOutcome", "FidelityOutcomeResult", "FIDELITY_CAVEAT"]
