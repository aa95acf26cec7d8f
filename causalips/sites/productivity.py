"""Capacity: productivity per full-time employment specialist and caseload size.

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
    check_choice,
    check_range,
    non_whole_counts,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame, warn_all
from ..errors import DataError, StatisticalWarning
from ._people import site_rows

#: IPS Grow expectations per FTE specialist per year: (people supported, job outcomes).
IPS_GROW_EXPECTATIONS = {"mature": (45, 24), "first_year": (35, 17)}
#: Fidelity scale maximum caseload per specialist at any one time.
FIDELITY_CASELOAD_MAX = 20

class ProductivityResult(Result):
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
        """Fit on one row per site: a pandas DataFrame or any data ``causalips.engine.as_table``
        reads (the engine checks that no site repeats before the site rows come back)."""
        df = site_rows(data, {"site": self.site, "people": self.people,
                              "outcomes": self.outcomes, "fte": self.fte,
                              "caseload": self.caseload},
                       site=self.site, what="one row per site is needed")
        people = numeric_column(df, self.people, role="people")
        outcomes = numeric_column(df, self.outcomes, role="outcomes")
        fte = numeric_column(df, self.fte, role="fte")
        bad = (fte <= 0) | (people < 0) | (outcomes < 0)
        if bad.any():
            raise DataError(f"{int(bad.sum())} sites have fte <= 0 or negative counts "
                            f"(e.g. row {_example_rows(df, bad)}); fix them first")
        notes = [m for m in (non_whole_counts(df, people, self.people, role="people"),
                             non_whole_counts(df, outcomes, self.outcomes, role="outcomes")) if m]
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
        warnings = notes
        if self.caseload is not None and frame["over_caseload_max"].any():
            over = frame.loc[frame["over_caseload_max"], "term"].tolist()
            warnings.append(f"caseload per specialist above the fidelity maximum of "
                            f"{FIDELITY_CASELOAD_MAX} at: {', '.join(over)}")
        warn_all(warnings, StatisticalWarning)
        return ProductivityResult(estimator=self, table=tidy_frame(frame, ("site",)),
                                  n_obs=len(frame), warnings=warnings)


__all__ = ["Productivity", "ProductivityResult", "IPS_GROW_EXPECTATIONS", "FIDELITY_CASELOAD_MAX"]
