"""Risk-adjusted site comparison: expected outcomes from a case-mix model, O/E on a funnel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._checks import check_choice
from ..base import Summary
from ..errors import SpecificationError
from ._case_mix import fit_logistic_cells, odds_ratio_table
from ._people import MODEL_CELLS, Counts, Key, case_mix_keys, count_people, open_data
from .funnel import LIMIT_METHODS, OVERDISPERSION, FunnelPlot, FunnelPlotResult


class RiskAdjustedResult(FunnelPlotResult):
    """A funnel plot of observed/expected ratios, plus the case-mix model.

    ``tidy()`` is the funnel table (``estimate`` = O/E ratio, ``expected`` = E) with an extra
    ``adjusted_rate`` = O/E × the overall rate. ``model_table`` holds the case-mix odds ratios.
    """

    def __init__(self, *, funnel: FunnelPlotResult, estimator, model_table, overall_rate):
        table = funnel.tidy()
        table["adjusted_rate"] = table["rate"] * overall_rate
        table["crude_rate"] = table["numerator"] / table["denominator"]
        object.__setattr__(self, "_frozen", False)
        super().__init__(estimator=estimator, table=table, n_obs=funnel.n_obs,
                         info=funnel.info, curve=funnel.limits_curve(), warnings=funnel.warnings)
        object.__setattr__(self, "_frozen", False)
        self.model_table = model_table
        self.overall_rate = float(overall_rate)
        self._freeze()

    def summary(self) -> Summary:
        base = super().summary()
        header = base.header + (("case-mix model", "logistic regression of "
                                 f"{self.estimator.outcome} on {', '.join(self.estimator.case_mix)}"
                                 " (statsmodels GLM); E = sum of predicted probabilities"),)
        return Summary(title="Risk-adjusted site comparison (observed / expected)", header=header,
                       tables=base.tables + (("Case-mix model (odds ratios)", self.model_table),),
                       notes=base.notes)


class RiskAdjustedComparison(FunnelPlot):
    """Compare sites after adjusting for case mix: O/E ratios with CIs on a funnel plot.

    A logistic regression of the outcome on the case-mix covariates (not the site) gives each
    person's expected probability; a site's expected count E is the sum over its people, and
    its indicator is O/E (target 1). Limits are Poisson-based (see :class:`FunnelPlot`).

    Parameters
    ----------
    site : str
        Site column (person-level data: one row per person).
    outcome : str
        0/1 outcome column.
    case_mix : sequence of str
        Covariates (numbers are used as they are; text/categorical columns become dummies).
    weight : str, optional
        Column of counts (frequency weights).
    overdispersion, limits, method, conf_level, winsor
        As :class:`FunnelPlot`.

    Returns
    -------
    RiskAdjustedResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_caseload
    >>> people = load_caseload().assign(gained_job=lambda d: d["job_start"].notna())
    >>> res = ci.RiskAdjustedComparison(site="team", outcome="gained_job",
    ...     case_mix=["age", "diagnosis"]).fit(people)
    >>> "expected" in res.tidy().columns
    True

    See Also
    --------
    FunnelPlot, OutcomeEquity
    """

    _param_names = ("site", "outcome", "case_mix", "weight", "overdispersion", "limits",
                    "method", "conf_level", "winsor")

    def __init__(self, *, site: str, outcome: str, case_mix: Sequence[str],
                 weight: str | None = None,
                 overdispersion: Literal[None, "multiplicative", "additive"] = None,
                 limits: Sequence[float] = (0.95, 0.998),
                 method: Literal["exact", "normal"] = "exact", conf_level: float = 0.95,
                 winsor: float = 0.1):
        if isinstance(case_mix, str):
            case_mix = (case_mix,)
        if not case_mix:
            raise SpecificationError("case_mix must name at least one covariate; without one "
                                     "use FunnelPlot on the crude rates")
        super().__init__(site="site", numerator="observed", denominator="n",
                         overdispersion=overdispersion, limits=limits, method=method,
                         expected="expected", conf_level=conf_level, winsor=winsor)
        self.site, self.outcome, self.case_mix, self.weight = site, outcome, tuple(case_mix), weight
        check_choice("overdispersion", overdispersion, OVERDISPERSION)
        check_choice("method", method, LIMIT_METHODS)

    def fit(self, data) -> RiskAdjustedResult:
        """Fit on a pandas DataFrame or any data ``causalips.engine.as_table`` reads (files,
        DuckDB, polars, pyarrow, Spark): people and events per site × covariate cell are summed
        where the data are; the case-mix model is fitted from those cells (the person-level
        likelihood, so the same estimates), and only they come back."""
        cols = {"site": self.site, "outcome": self.outcome, "weight": self.weight}
        cols.update({f"case_mix[{c}]": c for c in self.case_mix})
        source = open_data(data, cols)
        counts = count_people(source, keys=[Key(self.site, "site"),
                                            *case_mix_keys(self.case_mix)],
                              outcome=self.outcome, weight=self.weight, max_cells=MODEL_CELLS)
        return self._from_counts(counts)

    def _from_counts(self, counts: Counts) -> RiskAdjustedResult:
        """The result from people and events per site × covariate cell (every kind of data)."""
        fit, X = fit_logistic_cells(counts.keys, self.case_mix, counts.events,
                                    counts.non_events)
        p = np.asarray(fit.predict(X), dtype=np.float64)
        sites, n, observed, codes = counts.totals(self.site)
        expected = np.bincount(codes, weights=counts.n * p, minlength=len(sites))
        table = pd.DataFrame({"site": sites, "observed": observed, "n": n,
                              "expected": expected})
        funnel = FunnelPlot(site="site", numerator="observed", denominator="n",
                            expected="expected", overdispersion=self.overdispersion,
                            limits=self.limits, method=self.method, conf_level=self.conf_level,
                            winsor=self.winsor).fit(table)
        overall = float(observed.sum() / n.sum())
        return RiskAdjustedResult(funnel=funnel, estimator=self,
                                  model_table=odds_ratio_table(fit), overall_rate=overall)


__all__ = ["RiskAdjustedComparison", "RiskAdjustedResult"]
