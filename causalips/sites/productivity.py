"""Capacity: productivity per full-time employment specialist, caseload size, and fidelity.

IPS Grow expectations per full-time-equivalent (FTE) employment specialist per year:
a mature service supports at least 45 people and achieves at least 24 job outcomes; in its first
year at least 35 people and 17 outcomes. The fidelity scale caps a specialist's caseload at 20
people at a time.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    _example_rows,
    as_dataframe,
    check_choice,
    check_columns,
    check_no_duplicates,
    check_not_empty,
    check_range,
    numeric_column,
)
from ..base import Estimator, Summary, tidy_frame
from ..errors import DataError
from ._result import SiteResult
from .rates import proportion_ci

#: IPS Grow expectations per FTE specialist per year: (people supported, job outcomes).
IPS_GROW_EXPECTATIONS = {"mature": (45, 24), "first_year": (35, 17)}
#: Fidelity scale maximum caseload per specialist at any one time.
FIDELITY_CASELOAD_MAX = 20

FIDELITY_CAVEAT = (
    "A correlation between fidelity and outcomes across sites depends on how far apart the "
    "sites' fidelity scores are: when all sites score alike (a narrow spread, e.g. all 'good' "
    "fidelity) the correlation is weak even if fidelity matters, and a few sites make it very "
    "imprecise. It describes differences between sites, not what raising fidelity at one site "
    "would do."
)


class ProductivityResult(SiteResult):
    """Per-site productivity per FTE-year against the IPS Grow expectations.

    ``tidy()``: ``site``, ``fte``, ``people``, ``outcomes``, ``people_per_fte_year``,
    ``outcomes_per_fte_year`` (``estimate``, with an exact Poisson CI), ``expected_people``,
    ``expected_outcomes``, ``meets_people``, ``meets_outcomes`` and, when a caseload column was
    given, ``caseload_per_fte`` and ``over_caseload_max``.
    """

    count_columns = ("people", "outcomes")

    def __init__(self, *, estimator, table, n_obs, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self._freeze()

    def glance(self) -> pd.DataFrame:
        t = self._table
        fte_years = (t["fte"] * self.estimator.months / 12).sum()
        out = {"n_sites": len(t), "stage": self.estimator.stage,
               "expected_people": t["expected_people"].iloc[0],
               "expected_outcomes": t["expected_outcomes"].iloc[0],
               "people_per_fte_year": t["people"].sum() / fte_years,
               "outcomes_per_fte_year": t["outcomes"].sum() / fte_years,
               "n_meeting_people": int(t["meets_people"].sum()),
               "n_meeting_outcomes": int(t["meets_outcomes"].sum())}
        if "over_caseload_max" in t:
            out["n_over_caseload_max"] = int(t["over_caseload_max"].sum())
        return pd.DataFrame([out])

    def summary(self) -> Summary:
        e = self.estimator
        ppl, out = IPS_GROW_EXPECTATIONS[e.stage]
        header = (("stage", f"{e.stage}: IPS Grow expects >= {ppl} people supported and >= "
                            f"{out} job outcomes per FTE specialist per year"),
                  ("period", f"{e.months:g} months (counts scaled to a year)"),
                  ("caseload maximum", f"{FIDELITY_CASELOAD_MAX} people per specialist at a time"),
                  ("intervals", "exact Poisson 95% CI for outcomes per FTE-year"))
        cols = [c for c in ("site", "fte", "people", "outcomes", "people_per_fte_year",
                            "outcomes_per_fte_year", "conf_low", "conf_high", "meets_people",
                            "meets_outcomes", "caseload_per_fte", "over_caseload_max")
                if c in self._table]
        return Summary(title="Productivity per full-time employment specialist", header=header,
                       tables=(("By site (sorted by name)", self._table[cols]),),
                       notes=self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.sites import plot_productivity

        return plot_productivity(self, ax=ax, **style)


class Productivity(Estimator):
    """Productivity per full-time employment specialist per year vs IPS Grow expectations.

    Parameters
    ----------
    site : str
        Site column (one row per site).
    people : str
        People supported in the period.
    outcomes : str
        Job outcomes in the period.
    fte : str
        Full-time-equivalent employment specialists.
    months : float
        Length of the period (counts are scaled to 12 months).
    stage : {"mature", "first_year"}
        Which IPS Grow expectation applies.
    caseload : str, optional
        Column with the current caseload (people at one time) to compare with the fidelity
        maximum of 20 per specialist.

    Returns
    -------
    ProductivityResult

    Example
    -------
    >>> import pandas as pd
    >>> import causalips as ci
    >>> df = pd.DataFrame({"site": ["A", "B"], "people": [100, 60], "jobs": [50, 20],
    ...                    "fte": [2.0, 1.5]})
    >>> res = ci.Productivity(site="site", people="people", outcomes="jobs", fte="fte").fit(df)
    >>> res.tidy()["meets_outcomes"].tolist()
    [True, False]

    See Also
    --------
    FidelityOutcome, FunnelPlot
    """

    _param_names = ("site", "people", "outcomes", "fte", "months", "stage", "caseload")

    def __init__(self, *, site: str, people: str, outcomes: str, fte: str, months: float = 12.0,
                 stage: Literal["mature", "first_year"] = "mature", caseload: str | None = None):
        self.site, self.people, self.outcomes, self.fte = site, people, outcomes, fte
        self.months = check_range("months", months, 0, 1200)
        self.stage = check_choice("stage", stage, tuple(IPS_GROW_EXPECTATIONS))
        self.caseload = caseload

    def fit(self, data) -> ProductivityResult:
        df = as_dataframe(data)
        check_columns(df, {"site": self.site, "people": self.people, "outcomes": self.outcomes,
                           "fte": self.fte, "caseload": self.caseload})
        check_not_empty(df)
        check_no_duplicates(df, [self.site], what="one row per site is needed")
        people = numeric_column(df, self.people, role="people")
        outcomes = numeric_column(df, self.outcomes, role="outcomes")
        fte = numeric_column(df, self.fte, role="fte")
        bad = (fte <= 0) | (people < 0) | (outcomes < 0)
        if bad.any():
            raise DataError(f"{int(bad.sum())} sites have fte <= 0 or negative counts "
                            f"(e.g. row {_example_rows(df, bad)}); fix them first")
        years = fte * self.months / 12.0
        ppl_exp, out_exp = IPS_GROW_EXPECTATIONS[self.stage]
        rate = outcomes / years
        low = np.where(outcomes > 0, stats.chi2.ppf(0.025, 2 * outcomes) / 2, 0.0) / years
        high = stats.chi2.ppf(0.975, 2 * outcomes + 2) / 2 / years
        frame = pd.DataFrame({
            "site": df[self.site].to_numpy(), "fte": fte, "people": people, "outcomes": outcomes,
            "people_per_fte_year": people / years, "outcomes_per_fte_year": rate,
            "term": df[self.site].astype(str).to_numpy(), "estimate": rate,
            "std_error": np.sqrt(outcomes) / years, "conf_low": low, "conf_high": high,
            "expected_people": float(ppl_exp), "expected_outcomes": float(out_exp),
            "meets_people": people / years >= ppl_exp, "meets_outcomes": rate >= out_exp})
        if self.caseload is not None:
            cl = numeric_column(df, self.caseload, role="caseload")
            frame["caseload_per_fte"] = cl / fte
            frame["over_caseload_max"] = cl / fte > FIDELITY_CASELOAD_MAX
        frame = frame.sort_values("term", kind="stable")
        warnings = []
        if self.caseload is not None and frame["over_caseload_max"].any():
            over = frame.loc[frame["over_caseload_max"], "term"].tolist()
            warnings.append(f"caseload per specialist above the fidelity maximum of "
                            f"{FIDELITY_CASELOAD_MAX} at: {', '.join(over)}")
        return ProductivityResult(estimator=self, table=tidy_frame(frame, ("site",)),
                                  n_obs=len(frame), warnings=warnings)


class FidelityOutcomeResult(SiteResult):
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


class FidelityOutcome(Estimator):
    """Fidelity (e.g. IPS-25 score) against outcome rate across sites, with the caveat.

    Parameters
    ----------
    site, fidelity, numerator, denominator : str
        Site name, fidelity score, people with the outcome, people supported.
    ci : {"wilson", "exact"}
        Each site's CI.

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

    _param_names = ("site", "fidelity", "numerator", "denominator", "ci")

    def __init__(self, *, site: str, fidelity: str, numerator: str, denominator: str,
                 ci: Literal["wilson", "exact"] = "wilson"):
        self.site, self.fidelity = site, fidelity
        self.numerator, self.denominator = numerator, denominator
        self.ci = check_choice("ci", ci, ("wilson", "exact"))

    def fit(self, data) -> FidelityOutcomeResult:
        df = as_dataframe(data)
        check_columns(df, {"site": self.site, "fidelity": self.fidelity,
                           "numerator": self.numerator, "denominator": self.denominator})
        check_not_empty(df)
        check_no_duplicates(df, [self.site], what="one row per site is needed")
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
        low, high = proportion_ci(num, den, method=self.ci)
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
        warnings = [f"only {k} sites: the correlation is very imprecise"] if k < 10 else []
        return FidelityOutcomeResult(estimator=self, table=tidy_frame(frame, ("site",)),
                                     n_obs=k, info=info, warnings=warnings)


__all__ = ["Productivity", "ProductivityResult", "FidelityOutcome", "FidelityOutcomeResult",
           "IPS_GROW_EXPECTATIONS", "FIDELITY_CASELOAD_MAX", "FIDELITY_CAVEAT"]
