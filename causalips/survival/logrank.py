"""Log-rank and Fleming–Harrington G-rho tests between groups, optionally stratified (R's survdiff)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError, SpecificationError
from ._columns import read_spells
from ._counts import EventTable, merge_on_grid


def _stratum_contribution(tables: list[EventTable], rho: float):
    """Observed, expected and variance of O - E for one stratum's group tables."""
    times, events, at_risk = merge_on_grid(tables)
    d = events.sum(axis=0)
    n = at_risk.sum(axis=0)
    use = d > 0
    d, n, dk, nk = d[use], n[use], events[:, use], at_risk[:, use]
    if rho != 0:
        # weights: pooled Kaplan–Meier just before each event time, to the power rho
        surv = np.cumprod(1.0 - d / n)
        left = np.concatenate([[1.0], surv[:-1]])
        w = left**rho
    else:
        w = np.ones_like(d)
    share = nk / n
    observed = (w * dk).sum(axis=1)
    expected = (w * d * share).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 1, w**2 * d * (n - d) / (n - 1), 0.0)
    var = np.diag((factor * share).sum(axis=1)) - (factor * share) @ share.T
    return observed, expected, var


def logrank_from_tables(by_stratum: list[list[EventTable]], rho: float = 0.0) -> dict:
    """Chi-squared test that the groups' hazards are equal, summed over strata."""
    g = len(by_stratum[0])
    observed = np.zeros(g)
    expected = np.zeros(g)
    var = np.zeros((g, g))
    for tables in by_stratum:
        nonempty = [t for t in tables if t.time.size]
        if len(nonempty) == 0:
            continue
        filled = [t if t.time.size else EventTable(np.zeros(0), np.zeros(0), np.zeros(0)) for t in tables]
        o, e, v = _stratum_contribution(filled, rho)
        observed += o
        expected += e
        var += v
    diff = observed - expected
    # generalised inverse as survdiff: drop groups with no variance, then one more (rank g-1)
    keep = np.flatnonzero(np.diag(var) > 1e-12 * max(1.0, np.abs(var).max()))
    if keep.size < 2:
        raise DataError("the log-rank test needs events in at least two groups at shared risk times")
    sub = keep[:-1]
    chisq = float(diff[sub] @ np.linalg.solve(var[np.ix_(sub, sub)], diff[sub]))
    df = int(sub.size)
    return {
        "chisq": chisq,
        "df": df,
        "p_value": float(stats.chi2.sf(chisq, df)),
        "observed": observed,
        "expected": expected,
        "var": var,
    }


class LogRankResult(Result):
    count_columns = ("n", "observed")

    def __init__(self, *, estimator, table, n_obs, test, groups, rho, stratified, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.chisq = test["chisq"]
        self.df = test["df"]
        self.p_value = test["p_value"]
        self.variance = test["var"]
        self.groups = tuple(groups)
        self.rho = rho
        self.stratified = stratified
        self._freeze()

    def glance(self) -> pd.DataFrame:
        test = "log-rank" if self.rho == 0 else f"Fleming-Harrington G-rho (rho={self.rho:g})"
        if self.stratified:
            test = "stratified " + test
        return pd.DataFrame(
            [{"n_obs": self.n_obs, "chisq": self.chisq, "df": self.df, "p_value": self.p_value,
              "test": test}]
        )

    def summary(self) -> Summary:
        g = self.glance().iloc[0]
        cols = ["group", "n", "observed", "expected", "o_minus_e"]
        return Summary(
            title=f"{g['test'].capitalize()} test",
            header=(("chi-squared", f"{self.chisq:.4g} on {self.df} df"), ("p", f"{self.p_value:.4g}")),
            tables=(("", self._table[cols]),),
            notes=self.warnings,
        )

    def plot(self, ax=None, **style):
        from ..plotting.survival import plot_observed_expected

        return plot_observed_expected(self, ax=ax, **style)


class LogRank(Estimator):
    """Log-rank test (or G-rho family) comparing time-to-event between groups.

    Parameters
    ----------
    duration, event : str
        Columns with the time to event and the event indicator (0/1, boolean, or coded with
        ``event_value``).
    group : str
        Column with the groups to compare (two or more).
    strata : str, optional
        Column whose levels are tested separately and summed (R's ``strata()`` in ``survdiff``).
    rho : float
        0 gives the log-rank test; 1 the Peto–Peto modification of the Gehan–Wilcoxon test.
    event_value : optional
        The value of ``event`` that marks an event when it is not 0/1 or boolean.
    weights : str, optional
        Column of case weights; rows with weight 0 are dropped with a
        :class:`~causalips.errors.DroppedRowsWarning` giving the count.

    Example
    -------
    >>> from causalips.datasets import load_caseload
    >>> import causalips as ci
    >>> spells = ci.durations_from_dates(load_caseload(), start="first_contact",
    ...     event="job_start", end="discharge", cutoff="2024-02-27")
    >>> ci.LogRank(duration="duration", event="event", group="gender").fit(spells).p_value < 1
    True
    """

    _param_names = ("duration", "event", "group", "strata", "rho", "event_value", "weights")

    def __init__(self, *, duration: str, event: str, group: str, strata: str | None = None,
                 rho: float = 0.0, event_value=None, weights: str | None = None):
        if isinstance(rho, bool) or not isinstance(rho, int | float) or not 0 <= rho < np.inf:
            raise SpecificationError(f"rho must be a number >= 0; got {rho!r}")
        self.duration, self.event, self.group, self.strata = duration, event, group, strata
        self.rho, self.event_value, self.weights = float(rho), event_value, weights

    def fit(self, data) -> LogRankResult:
        """Test; ``data`` is a DataFrame or anything ``causalips.engine`` reads (a Parquet/CSV
        path, DuckDB, polars, pyarrow, Spark), counted where it lives."""
        spells = read_spells(data, roles={"duration": self.duration, "event": self.event,
                                          "group": self.group, "strata": self.strata,
                                          "weights": self.weights},
                             duration=self.duration, event=self.event,
                             keys={"group": self.group, "strata": self.strata},
                             weights=self.weights, event_value=self.event_value)
        codes, labels = spells.key("group")
        if len(labels) < 2:
            raise DataError(
                f"column {self.group!r} has a single group ({labels[0]!r}); a log-rank test "
                "compares two or more groups"
            )
        if not spells.event.any():
            raise DataError("no events in the data: the log-rank test has nothing to compare")
        s_codes, s_labels = spells.key("strata")
        g = len(labels)
        tabs = spells.event_tables(s_codes * g + codes, len(s_labels) * g)
        by_stratum = [tabs[s * g:(s + 1) * g] for s in range(len(s_labels))]
        return result_from_tables(self, by_stratum, labels, spells.rows_by(codes, g),
                                  spells.n_obs, self.rho, self.strata is not None,
                                  spells.notes)


def result_from_tables(estimator, by_stratum, labels, n_by_group, n_obs, rho,
                       stratified, notes=()) -> LogRankResult:
    """The log-rank result from event tables by stratum (shared with KaplanMeierResult)."""
    test = logrank_from_tables(by_stratum, rho)
    o_minus_e = test["observed"] - test["expected"]
    table = tidy_frame(
        {
            "group": list(labels),
            "term": [f"o_minus_e[{lab}]" for lab in labels],
            "estimate": o_minus_e,
            "std_error": np.sqrt(np.diag(test["var"])),
            "statistic": test["chisq"],
            "p_value": test["p_value"],
            "n": n_by_group,
            "observed": test["observed"],
            "expected": test["expected"],
            "o_minus_e": o_minus_e,
        },
    )
    return LogRankResult(estimator=estimator, table=table, n_obs=n_obs, test=test,
                         groups=labels, rho=rho, stratified=stratified, warnings=notes)
