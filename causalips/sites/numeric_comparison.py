"""Two populations compared on a number (e.g. age), with a stated rule for the test."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .. import engine
from .._checks import (
    as_dataframe,
    check_choice,
    check_columns,
    check_not_empty,
    check_range,
    labels_column,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError
from ._deprecated import LegacyAttributes
from ._labels import ordered_labels, reference_level


class NumericComparisonResult(Result):
    """Two groups compared on a number: summaries per group and one test.

    ``tidy()``: a row per group (``group``, ``term``; ``estimate`` is the mean for a t-test, the
    median for Mann–Whitney; ``n``, ``mean``, ``sd``, ``median``, ``q1``, ``q3``, ``skewness``)
    and a difference row (``group`` minus ``reference``: the mean difference with Welch's CI,
    or the median difference without a CI).
    """

    count_columns = ("n",)

    def __init__(self, *, estimator, table, n_obs, test, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.test = dict(test)
        self._freeze()

    def glance(self) -> pd.DataFrame:
        return pd.DataFrame([self.test | {"n_obs": self.n_obs}])

    def summary(self) -> Summary:
        t = self.test
        header = (("value", self.estimator.value), ("group", self.estimator.group),
                  ("rule", t["rule"]),
                  ("test", f"{t['test']}: statistic = {t['statistic']:.4g}, "
                           f"p = {t['p_value']:.3g}"))
        cols = ["term", "n", "mean", "sd", "median", "q1", "q3", "skewness", "estimate",
                "conf_low", "conf_high"]
        return Summary(title=f"Comparison of {self.estimator.value}", header=header,
                       tables=(("By group", self._table[cols]),), notes=self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.sites import plot_group_rates

        style.setdefault("xlabel", self.estimator.value)
        style.setdefault("title", f"{self.estimator.value}: estimate by group")
        return plot_group_rates(self, ax=ax, **style)


class NumericComparison(LegacyAttributes, Estimator):
    """Compare a numeric characteristic (e.g. age) between two groups with a stated test rule.

    Rule: if the sample skewness (adjusted Fisher–Pearson, ``scipy.stats.skew(bias=False)``) of
    either group exceeds ``skew_threshold`` in absolute value the data count as highly skewed and
    the Mann–Whitney U test (two-sided) with medians is used; otherwise Welch's t-test with means
    (Student's t when ``equal_var=True``).

    Parameters
    ----------
    value : str
        Numeric column (e.g. ``age``).
    group : str
        Column with exactly two populations (was ``source=``).
    reference : optional
        The group subtracted in the difference (default: first in sorted order; was
        ``reference_source=``).
    skew_threshold : float
        Absolute skewness above which Mann–Whitney is used (default 1).
    test : {"auto", "t", "mann-whitney"}
        Force a test instead of the rule.
    equal_var : bool
        Student's pooled-variance t-test instead of Welch's.

    Returns
    -------
    NumericComparisonResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import simulate_wider_caseload
    >>> res = ci.NumericComparison(value="age", group="ips_user").fit(
    ...     simulate_wider_caseload(seed=1))
    >>> bool(res.glance()["p_value"].iloc[0] < 0.05)
    True

    See Also
    --------
    Representativeness
    """

    _param_names = ("value", "group", "reference", "skew_threshold", "test", "equal_var")
    _renamed = {"source": "group", "reference_source": "reference"}

    def __init__(self, *, value: str, group: str, reference=None, skew_threshold: float = 1.0,
                 test: Literal["auto", "t", "mann-whitney"] = "auto", equal_var: bool = False):
        self.value, self.group, self.reference = value, group, reference
        self.skew_threshold = check_range("skew_threshold", skew_threshold, 0, np.inf)
        self.test = check_choice("test", test, ("auto", "t", "mann-whitney"))
        self.equal_var = bool(equal_var)

    def fit(self, data) -> NumericComparisonResult:
        if not engine.is_in_memory(data):
            raise DataError(
                f"NumericComparison needs each person's {self.value!r} (medians, skewness and "
                "Mann-Whitney ranks are not sums per group, so they cannot run as grouped "
                "aggregations where the data are); bring the two columns into pandas first, e.g. "
                f"duckdb.sql('SELECT {self.group}, {self.value} FROM ...').df(), or compare "
                f"banded {self.value!r} with Representativeness, which runs in the engine")
        df = as_dataframe(data)
        check_columns(df, {"value": self.value, "group": self.group})
        check_not_empty(df)
        x = numeric_column(df, self.value, role="value")
        g = labels_column(df, self.group, role="group")
        groups = ordered_labels(g)
        if len(groups) != 2:
            raise DataError(f"column {self.group!r} (the group) must have exactly two values to "
                            f"compare; found {len(groups)}: {groups[:6]}")
        ref = reference_level(self.reference, groups, self.group)
        other = groups[1] if ref == groups[0] else groups[0]
        a, b = x[g == other], x[g == ref]
        if min(a.size, b.size) < 3:
            raise DataError(f"each group needs at least 3 values of {self.value!r}")
        skew = {other: float(stats.skew(a, bias=False)), ref: float(stats.skew(b, bias=False))}
        max_skew = max(abs(v) for v in skew.values())
        rule = (f"Mann-Whitney U with medians if |skewness| > {self.skew_threshold:g} in either "
                f"group, else {'Student' if self.equal_var else 'Welch'} t-test with means; "
                f"largest |skewness| = {max_skew:.3g}")
        use_mw = self.test == "mann-whitney" or (self.test == "auto"
                                                  and max_skew > self.skew_threshold)
        rows = [_describe(v, label, skew[label], use_mw) for v, label in ((a, other), (b, ref))]
        name, diff = _difference(a, b, use_mw=use_mw, equal_var=self.equal_var)
        rows.append(diff | {"group": other, "reference": ref,
                            "term": f"difference ({other} - {ref})"})
        table = tidy_frame(pd.DataFrame(rows))
        test = {"test": name, "statistic": diff["statistic"], "p_value": diff["p_value"],
                "rule": rule, "max_abs_skewness": max_skew, "reference": ref,
                "median_difference": float(np.median(a) - np.median(b)),
                "mean_difference": float(a.mean() - b.mean())}
        return NumericComparisonResult(estimator=self, table=table, n_obs=x.size, test=test)


def _describe(v: np.ndarray, label, skewness: float, use_mw: bool) -> dict:
    """One group's row: quartiles, mean and SD; the estimate is the median or the mean."""
    q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
    mean, sd = float(v.mean()), float(v.std(ddof=1))
    se = sd / np.sqrt(v.size)
    tq = stats.t.ppf(0.975, v.size - 1)
    return {"group": label, "term": str(label), "n": v.size, "mean": mean, "sd": sd,
            "median": med, "q1": q1, "q3": q3, "skewness": skewness,
            "estimate": med if use_mw else mean, "std_error": np.nan if use_mw else se,
            "conf_low": np.nan if use_mw else mean - tq * se,
            "conf_high": np.nan if use_mw else mean + tq * se}


def _difference(a: np.ndarray, b: np.ndarray, *, use_mw: bool, equal_var: bool):
    """The test's name and the difference row (a minus b)."""
    if use_mw:
        res = stats.mannwhitneyu(a, b, alternative="two-sided")
        return "Mann-Whitney U (two-sided)", {
            "estimate": float(np.median(a) - np.median(b)),
            "statistic": float(res.statistic), "p_value": float(res.pvalue)}
    res = stats.ttest_ind(a, b, equal_var=equal_var)
    ci = res.confidence_interval(0.95)
    diff = float(a.mean() - b.mean())
    return "Student t-test" if equal_var else "Welch t-test", {
        "estimate": diff, "std_error": diff / float(res.statistic) if res.statistic else np.nan,
        "statistic": float(res.statistic), "p_value": float(res.pvalue),
        "conf_low": float(ci.low), "conf_high": float(ci.high)}


__all__ = ["NumericComparison", "NumericComparisonResult"]
