"""Representativeness: does the make-up of a caseload match a reference population?

Percentages of each category (age band, gender, ethnicity, diagnosis) in each group (e.g. the
IPS caseload and the rest of the community teams' caseload), standardised differences against
the reference group and a test of independence on the category × group table.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..base import Estimator, Summary, tidy_frame, warn_all
from ..errors import DataError, SpecificationError, StatisticalWarning, warn
from ..inference import Bootstrap
from ._contingency import ContingencyTestResult, contingency_test, test_options
from ._deprecated import LegacyAttributes
from ._labels import label_codes, reference_level
from ._people import Counts, Key, count_people, open_data
from .proportions import as_whole_counts, proportion_ci


class RepresentativenessResult(ContingencyTestResult):
    """Percentages by category and group, standardised differences and the test.

    ``tidy()``: one row per group and category: ``group``, ``term`` (the category), the broom
    columns (``estimate`` = the category's share of the group, its standard error and Wilson
    ``conf_low``/``conf_high``), then ``category``, ``n``, ``percent``, ``std_difference``
    (against the reference group; missing on its own rows) and ``group_total``.
    """

    count_columns = ("n",)

    def __init__(self, *, estimator, table, n_obs, test, reference, counts, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.test = dict(test)
        self.reference = reference
        self._counts = counts
        self._freeze()

    @property
    def reference_source(self):
        warn("RepresentativenessResult.reference_source is renamed reference; the old "
                      "name will be removed in the next release", FutureWarning)
        return self.reference

    def glance(self) -> pd.DataFrame:
        t = self._table
        sd = t["std_difference"]
        return pd.DataFrame([{
            "chisq": self.test["chisq"], "df": self.test["df"], "p_value": self.test["p_value"],
            "test": self.test["test"], "min_expected": self.test["min_expected"],
            "n_obs": self.n_obs, "n_categories": t["category"].nunique(),
            "n_groups": t["group"].nunique(), "reference": self.reference,
            "max_abs_std_difference": float(np.nanmax(np.abs(sd))) if sd.notna().any()
            else np.nan,
        }])

    def crosstab(self) -> pd.DataFrame:
        """Counts, one row per category and one column per group."""
        return self._table.pivot(index="category", columns="group", values="n").reset_index()

    def summary(self) -> Summary:
        g = self.glance().iloc[0]
        e = self.estimator
        header = (
            ("category", e.category), ("group", e.group),
            ("reference group", str(self.reference)),
            ("test", f"{g['test']}: chi2 = {g['chisq']:.4g}, df = {g['df']}, "
                     f"p = {g['p_value']:.3g}"),
            ("standardised difference", "(p - p_ref) / sqrt((p(1-p) + p_ref(1-p_ref)) / 2)"),
        )
        cols = ["category", "n", "percent", "std_difference"]
        t = self._table
        # one table per group: each has its own total, so small counts are protected per group
        named = {"category": str(e.category)} if str(e.category) not in cols else {}
        tables = tuple((f"{grp}: percent by {e.category}",
                        t.loc[t["group"] == grp, cols].rename(columns=named))
                       for grp in dict.fromkeys(t["group"]))
        notes = ("|standardised difference| > 0.1 is a common sign of imbalance.",)
        return Summary(title=f"Representativeness by {e.category}", header=header,
                       tables=tables, notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.sites import plot_representation

        return plot_representation(self, ax=ax, **style)


class Representativeness(LegacyAttributes, Estimator):
    """Compare the make-up of a caseload with a reference population, category by category.

    Parameters
    ----------
    category : str
        Column with the characteristic described (age band, gender, ethnicity, diagnosis).
    group : str
        Column saying which population a row belongs to (e.g. "IPS caseload" / "rest of
        caseload"); its levels are compared.
    weight : str, optional
        Column of counts: a row stands for that many people (published tables). Counts that are
        not whole numbers are used, with a warning (the tests assume counts of people).
    reference : optional
        The group the others are compared with (default: the first in sorted order).
    correction : bool
        Yates' continuity correction (2 × 2 tables only). Default False, as the published work.
    exact : {"auto", "never", "always"}
        Exact p-value when an expected count is below 5 (auto): Fisher for 2 × 2, a Monte Carlo
        p-value otherwise.
    inference : Bootstrap, optional
        The Monte Carlo test: ``Bootstrap(reps=, seed=)`` simulates ``reps`` tables with the
        observed margins (no rows are resampled); default ``Bootstrap(reps=2000)``, at least 99.
    source, reps, seed
        Deprecated: ``Representativeness(group=<characteristic>, source=<population>)`` is now
        ``(category=<characteristic>, group=<population>)``; ``reps``/``seed`` are
        ``inference=Bootstrap(reps=, seed=)``.

    Returns
    -------
    RepresentativenessResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import simulate_wider_caseload
    >>> res = ci.Representativeness(category="gender", group="ips_user").fit(
    ...     simulate_wider_caseload(seed=1))
    >>> int(res.glance()["df"].iloc[0])  # 3 genders x 2 groups
    2

    See Also
    --------
    NumericComparison, OutcomeEquity, Reach
    """

    _param_names = ("category", "group", "weight", "reference", "correction", "exact",
                    "inference")
    _renamed = {"reference_source": "reference"}
    _old_attributes = {"source": "group"}

    def __init__(self, *, group: str, category: str | None = None, weight: str | None = None,
                 reference=None, correction: bool = False,
                 exact: Literal["auto", "never", "always"] = "auto",
                 inference: Bootstrap | None = None, source: str | None = None,
                 reps: int | None = None, seed: int | None = None):
        if source is not None:
            if category is not None:
                raise SpecificationError("Representativeness: pass category= and group= (source= "
                                         "is the old name of group=)")
            warn("Representativeness(group=<characteristic>, source=<population>) is now "
                          "Representativeness(category=<characteristic>, group=<population>); "
                          "source= will be removed in the next release", FutureWarning)
            category, group = group, source
        if category is None:
            raise SpecificationError(
                "Representativeness needs category= (the characteristic described, e.g. "
                "'ethnicity') and group= (the column saying which population a row belongs to)")
        self.category, self.group, self.weight = category, group, weight
        self.reference = reference
        self.correction, self.exact, self.inference = test_options(
            "Representativeness", correction=correction, exact=exact, inference=inference, reps=reps,
            seed=seed)

    def fit(self, data) -> RepresentativenessResult:
        """Fit on a pandas DataFrame or any data ``causalips.engine.as_table`` reads (files,
        DuckDB, polars, pyarrow, Spark): people per category × group are summed where the
        data are, and only that table comes back."""
        source = open_data(data, {"category": self.category, "group": self.group,
                                  "weight": self.weight})
        counts = count_people(source, keys=[Key(self.category, "category"),
                                            Key(self.group, "group")], weight=self.weight)
        return self._from_counts(counts)

    def _from_counts(self, counts: Counts) -> RepresentativenessResult:
        """The result from people per category × group (every kind of data)."""
        categories, cat = label_codes(counts.keys[self.category].to_numpy())
        groups, grp = label_codes(counts.keys[self.group].to_numpy())
        if len(groups) < 2:
            raise DataError(f"column {self.group!r} (the group) has one value ({groups[0]!r}); "
                            "representativeness needs two populations to compare")
        ref = reference_level(self.reference, groups, self.group)
        k, m = len(categories), len(groups)
        mat = np.bincount(cat * m + grp, weights=counts.n, minlength=k * m).reshape(k, m)
        totals = mat.sum(axis=0)
        if np.any(totals <= 0):
            empty = [str(v) for v, t in zip(groups, totals) if t <= 0]
            raise DataError(f"group {', '.join(empty)} of {self.group!r} has no people (all "
                            "weights zero); drop it")
        table = _share_table(mat, totals, categories, groups, groups.index(ref))
        test = contingency_test(mat, correction=self.correction, exact=self.exact,
                                inference=self.inference)
        warn_all(counts.notes, StatisticalWarning)
        return RepresentativenessResult(estimator=self, table=table,
                                        n_obs=int(round(counts.n.sum())), test=test,
                                        reference=ref, counts=mat, warnings=list(counts.notes))


def _share_table(mat, totals, categories, groups, ref_col) -> pd.DataFrame:
    """Shares, their Wilson CIs and standardised differences, one row per group and category."""
    k, m = mat.shape
    prop = mat / totals
    ref_p = prop[:, [ref_col]]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = (prop - ref_p) / np.sqrt((prop * (1 - prop) + ref_p * (1 - ref_p)) / 2)
    sd[:, ref_col] = np.nan

    def order(a):  # rows run group by group, so each group's counts and total sit together
        return a.T.ravel()

    low, high = proportion_ci(order(mat), np.repeat(totals, k))
    frame = pd.DataFrame({
        "group": np.repeat(np.asarray(groups, dtype=object), k),
        "term": [str(c) for c in categories] * m,
        "estimate": order(prop), "std_error": order(np.sqrt(prop * (1 - prop) / totals)),
        "conf_low": low, "conf_high": high,
        "category": list(categories) * m, "n": order(mat), "percent": 100 * order(prop),
        "std_difference": order(sd), "group_total": np.repeat(totals, k),
    })
    frame = as_whole_counts(frame, ["n", "group_total"])
    return tidy_frame(frame, extra_first=("category", "n", "percent", "std_difference"))


__all__ = ["Representativeness", "RepresentativenessResult"]
