"""Equity: who the service reaches (representativeness) and who it serves well (outcomes).

* :class:`Representativeness` — the make-up of the IPS caseload against a reference (e.g. the
  wider community-team caseload) by age band, gender, ethnicity, diagnosis: percentages,
  standardised differences and a chi-squared test on the group × source table.
* :class:`NumericComparison` — a numeric characteristic such as age: a t-test, or a Mann–Whitney U
  test with medians when the data are skewed (the rule is stated).
* :class:`OutcomeEquity` — outcome rates by group with CIs, a chi-squared test and optional
  adjusted odds ratios; :func:`ips_grow_denominator` applies the IPS Grow employment-rate rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    _plain,
    as_dataframe,
    check_choice,
    check_columns,
    check_not_empty,
    check_range,
    numeric_column,
)
from ..base import Estimator, Summary, tidy_frame
from ..errors import DataError, SpecificationError, StatisticalWarning
from ._result import SiteResult
from ._tests import EXACT_CHOICES, contingency_test, design_matrix, fit_logistic, odds_ratio_table
from .rates import CI_METHODS, binary_column, labels_column, proportion_ci, weight_column

IPS_GROW_RULE = (
    "IPS Grow employment rate: only people unemployed at first contact count; people in work at "
    "first contact (job retention) and people supported only in education are excluded"
)


def _ordered_labels(values: np.ndarray) -> list:
    return [_plain(v) for v in sorted(pd.unique(values).tolist(), key=str)]


def _warn(messages):
    import warnings

    for m in messages:
        warnings.warn(m, StatisticalWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------
# Representativeness
# ---------------------------------------------------------------------------------------------
class RepresentativenessResult(SiteResult):
    """Percentages by group and source, standardised differences and the chi-squared test.

    ``tidy()``: one row per group and source with ``group``, ``source``, ``n``, ``percent``,
    ``std_difference`` (against the reference source; missing on the reference rows), the broom
    columns (``term`` = "group | source", ``estimate`` = proportion, Wilson ``conf_low``/
    ``conf_high``).
    """

    count_columns = ("n",)

    def __init__(self, *, estimator, table, n_obs, test, reference, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.test = dict(test)
        self.reference_source = reference
        self._freeze()

    def glance(self) -> pd.DataFrame:
        t = self._table
        return pd.DataFrame([{
            "chisq": self.test["chisq"], "df": self.test["df"], "p_value": self.test["p_value"],
            "test": self.test["test"], "min_expected": self.test["min_expected"],
            "n_obs": self.n_obs, "n_groups": t["group"].nunique(),
            "n_sources": t["source"].nunique(), "reference_source": self.reference_source,
            "max_abs_std_difference": float(np.nanmax(np.abs(t["std_difference"])))
            if t["std_difference"].notna().any() else np.nan,
        }])

    def crosstab(self) -> pd.DataFrame:
        """Counts, one row per group and one column per source."""
        return self._table.pivot(index="group", columns="source", values="n").reset_index()

    def summary(self) -> Summary:
        g = self.glance().iloc[0]
        e = self.estimator
        header = (
            ("group", e.group), ("source", e.source),
            ("reference source", str(self.reference_source)),
            ("test", f"{g['test']}: chi2 = {g['chisq']:.4g}, df = {g['df']}, "
                     f"p = {g['p_value']:.3g}"),
            ("standardised difference", "(p - p_ref) / sqrt((p(1-p) + p_ref(1-p_ref)) / 2)"),
        )
        cols = ["group", "source", "n", "percent", "std_difference"]
        notes = ("|standardised difference| > 0.1 is a common sign of imbalance.",)
        return Summary(title=f"Representativeness by {e.group}", header=header,
                       tables=(("Percent by source", self._table[cols]),),
                       notes=notes + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.sites import plot_representation

        return plot_representation(self, ax=ax, **style)


class Representativeness(Estimator):
    """Compare the make-up of a caseload with a reference population by group.

    Parameters
    ----------
    group : str
        Column with the characteristic (age band, gender, ethnicity, diagnosis).
    source : str
        Column saying which population a row belongs to (e.g. "IPS" / "wider caseload").
    weight : str, optional
        Column of counts: a row stands for that many people (published tables).
    reference_source : optional
        The source others are compared with (default: the first in sorted order).
    correction : bool
        Yates' continuity correction (2 × 2 tables only). Default False, as the published work.
    exact : {"auto", "never", "always"}
        Exact p-value when an expected count is below 5 (auto): Fisher for 2 × 2, Monte Carlo
        with fixed margins otherwise.
    reps : int
        Monte Carlo tables for the exact test of larger tables.
    seed : int, optional
        Seed for the Monte Carlo test.

    Returns
    -------
    RepresentativenessResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import simulate_wider_caseload
    >>> res = ci.Representativeness(group="gender", source="ips_user").fit(
    ...     simulate_wider_caseload(seed=1))
    >>> int(res.glance()["df"].iloc[0])  # 3 genders x 2 sources
    2

    See Also
    --------
    NumericComparison, OutcomeEquity, Reach
    """

    _param_names = ("group", "source", "weight", "reference_source", "correction", "exact",
                    "reps", "seed")

    def __init__(self, *, group: str, source: str, weight: str | None = None,
                 reference_source=None, correction: bool = False,
                 exact: Literal["auto", "never", "always"] = "auto", reps: int = 2000,
                 seed: int | None = None):
        self.group, self.source, self.weight = group, source, weight
        self.reference_source = reference_source
        if not isinstance(correction, bool):
            raise SpecificationError(f"correction must be True or False; got {correction!r}")
        self.correction = correction
        self.exact = check_choice("exact", exact, EXACT_CHOICES)
        self.reps = int(check_range("reps", reps, 99, 1e7, inclusive=(True, True)))
        self.seed = seed

    def fit(self, data) -> RepresentativenessResult:
        df = as_dataframe(data)
        check_columns(df, {"group": self.group, "source": self.source, "weight": self.weight})
        check_not_empty(df)
        g = labels_column(df, self.group, role="group")
        s = labels_column(df, self.source, role="source")
        w = weight_column(df, self.weight)
        sources = _ordered_labels(s)
        if len(sources) < 2:
            raise DataError(f"column {self.source!r} (the source) has one value ({sources[0]!r});"
                            " representativeness needs two populations to compare")
        ref = sources[0] if self.reference_source is None else self.reference_source
        if ref not in sources:
            raise SpecificationError(
                f"reference_source={ref!r} is not a value of {self.source!r}; values: "
                + ", ".join(repr(v) for v in sources))
        groups = _ordered_labels(g)
        counts = (pd.DataFrame({"g": g, "s": s, "w": w})
                  .pivot_table(index="g", columns="s", values="w", aggfunc="sum", fill_value=0)
                  .reindex(index=groups, columns=sources, fill_value=0))
        mat = counts.to_numpy(dtype=np.float64)
        totals = mat.sum(axis=0)
        if np.any(totals <= 0):
            raise DataError("a source has no people (all weights zero)")
        prop = mat / totals
        ref_p = prop[:, sources.index(ref)][:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = (prop - ref_p) / np.sqrt((prop * (1 - prop) + ref_p * (1 - ref_p)) / 2)
        sd[:, sources.index(ref)] = np.nan
        low, high = proportion_ci(mat.ravel(), np.repeat(totals[None, :], len(groups), 0).ravel())
        frame = pd.DataFrame({
            "group": np.repeat(groups, len(sources)).tolist(),
            "source": sources * len(groups),
            "n": mat.ravel(), "source_total": np.tile(totals, len(groups)),
            "percent": 100 * prop.ravel(), "std_difference": sd.ravel(),
        })
        frame["term"] = [f"{a} | {b}" for a, b in zip(frame["group"], frame["source"])]
        frame["estimate"] = prop.ravel()
        frame["std_error"] = np.sqrt(prop * (1 - prop) / totals).ravel()
        frame["conf_low"], frame["conf_high"] = low, high
        if np.allclose(mat, np.round(mat)):
            frame["n"] = frame["n"].round().astype(np.int64)
            frame["source_total"] = frame["source_total"].round().astype(np.int64)
        test = contingency_test(mat, correction=self.correction, exact=self.exact,
                                reps=self.reps, seed=self.seed)
        table = tidy_frame(frame, extra_first=("group", "source", "n", "percent"))
        warnings = []
        if "counts are not whole numbers" in test["test"]:
            warnings.append("small expected counts but non-integer weights: the chi-squared "
                            "p-value may be unreliable")
        _warn(warnings)
        return RepresentativenessResult(estimator=self, table=table, n_obs=int(round(w.sum())),
                                        test=test, reference=ref, warnings=warnings)


# ---------------------------------------------------------------------------------------------
# Numeric comparison (age)
# ---------------------------------------------------------------------------------------------
class NumericComparisonResult(SiteResult):
    """Two groups compared on a number: summaries per group and one test.

    ``tidy()``: a row per source (``n``, ``mean``, ``sd``, ``median``, ``q1``, ``q3``,
    ``skewness``; ``estimate`` is the mean for a t-test, the median for Mann–Whitney) and a
    ``difference`` row (mean difference with Welch CI, or median difference without CI).
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
        header = (("value", self.estimator.value), ("source", self.estimator.source),
                  ("rule", t["rule"]),
                  ("test", f"{t['test']}: statistic = {t['statistic']:.4g}, "
                           f"p = {t['p_value']:.3g}"))
        cols = ["term", "n", "mean", "sd", "median", "q1", "q3", "skewness", "estimate",
                "conf_low", "conf_high"]
        return Summary(title=f"Comparison of {self.estimator.value}", header=header,
                       tables=(("By source", self._table[cols]),), notes=self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.sites import plot_group_rates

        style.setdefault("xlabel", self.estimator.value)
        style.setdefault("title", f"{self.estimator.value}: estimate by source")
        return plot_group_rates(self, ax=ax, **style)


class NumericComparison(Estimator):
    """Compare a numeric characteristic (e.g. age) between two sources with a stated test rule.

    Rule: if the sample skewness (adjusted Fisher–Pearson, ``scipy.stats.skew(bias=False)``) of
    either group exceeds ``skew_threshold`` in absolute value the data count as highly skewed and
    the Mann–Whitney U test (two-sided) with medians is used; otherwise Welch's t-test with means
    (Student's t when ``equal_var=True``).

    Parameters
    ----------
    value : str
        Numeric column (e.g. ``age``).
    source : str
        Column with exactly two populations.
    reference_source : optional
        The group subtracted in the difference (default: first in sorted order).
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
    >>> res = ci.NumericComparison(value="age", source="ips_user").fit(
    ...     simulate_wider_caseload(seed=1))
    >>> bool(res.glance()["p_value"].iloc[0] < 0.05)
    True

    See Also
    --------
    Representativeness
    """

    _param_names = ("value", "source", "reference_source", "skew_threshold", "test", "equal_var")

    def __init__(self, *, value: str, source: str, reference_source=None,
                 skew_threshold: float = 1.0,
                 test: Literal["auto", "t", "mann-whitney"] = "auto", equal_var: bool = False):
        self.value, self.source, self.reference_source = value, source, reference_source
        self.skew_threshold = check_range("skew_threshold", skew_threshold, 0, np.inf)
        self.test = check_choice("test", test, ("auto", "t", "mann-whitney"))
        self.equal_var = bool(equal_var)

    def fit(self, data) -> NumericComparisonResult:
        df = as_dataframe(data)
        check_columns(df, {"value": self.value, "source": self.source})
        check_not_empty(df)
        x = numeric_column(df, self.value, role="value")
        s = labels_column(df, self.source, role="source")
        sources = _ordered_labels(s)
        if len(sources) != 2:
            raise DataError(f"column {self.source!r} must have exactly two values to compare; "
                            f"found {len(sources)}: {sources[:6]}")
        ref = sources[0] if self.reference_source is None else self.reference_source
        if ref not in sources:
            raise SpecificationError(f"reference_source={ref!r} is not a value of "
                                     f"{self.source!r}; values: {sources}")
        other = sources[1] if ref == sources[0] else sources[0]
        a, b = x[s == other], x[s == ref]
        if min(a.size, b.size) < 3:
            raise DataError(f"each group needs at least 3 values of {self.value!r}")
        skew = {src: float(stats.skew(x[s == src], bias=False)) for src in sources}
        max_skew = max(abs(v) for v in skew.values())
        rule = (f"Mann-Whitney U with medians if |skewness| > {self.skew_threshold:g} in either "
                f"group, else {'Student' if self.equal_var else 'Welch'} t-test with means; "
                f"largest |skewness| = {max_skew:.3g}")
        use_mw = self.test == "mann-whitney" or (self.test == "auto"
                                                  and max_skew > self.skew_threshold)
        rows = []
        for src in (other, ref):
            v = x[s == src]
            q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
            mean, sd = float(v.mean()), float(v.std(ddof=1))
            se = sd / np.sqrt(v.size)
            tq = stats.t.ppf(0.975, v.size - 1)
            rows.append({"term": str(src), "n": v.size, "mean": mean, "sd": sd, "median": med,
                         "q1": q1, "q3": q3, "skewness": skew[src],
                         "estimate": med if use_mw else mean,
                         "std_error": np.nan if use_mw else se,
                         "conf_low": np.nan if use_mw else mean - tq * se,
                         "conf_high": np.nan if use_mw else mean + tq * se})
        if use_mw:
            res = stats.mannwhitneyu(a, b, alternative="two-sided")
            name = "Mann-Whitney U (two-sided)"
            diff = {"term": f"difference ({other} - {ref})",
                    "estimate": float(np.median(a) - np.median(b)),
                    "statistic": float(res.statistic), "p_value": float(res.pvalue)}
            statistic, p_value = float(res.statistic), float(res.pvalue)
        else:
            res = stats.ttest_ind(a, b, equal_var=self.equal_var)
            ci = res.confidence_interval(0.95)
            name = "Student t-test" if self.equal_var else "Welch t-test"
            diff = {"term": f"difference ({other} - {ref})",
                    "estimate": float(a.mean() - b.mean()),
                    "std_error": float((a.mean() - b.mean()) / res.statistic)
                    if res.statistic != 0 else np.nan,
                    "statistic": float(res.statistic), "p_value": float(res.pvalue),
                    "conf_low": float(ci.low), "conf_high": float(ci.high)}
            statistic, p_value = float(res.statistic), float(res.pvalue)
        rows.append(diff)
        table = tidy_frame(pd.DataFrame(rows))
        test = {"test": name, "statistic": statistic, "p_value": p_value, "rule": rule,
                "max_abs_skewness": max_skew, "reference_source": ref,
                "median_difference": float(np.median(a) - np.median(b)),
                "mean_difference": float(a.mean() - b.mean())}
        return NumericComparisonResult(estimator=self, table=table, n_obs=x.size, test=test)


# ---------------------------------------------------------------------------------------------
# IPS Grow denominator and outcome equity
# ---------------------------------------------------------------------------------------------
def ips_grow_denominator(
    data: pd.DataFrame,
    *,
    status: str,
    in_work: Sequence = ("in_work",),
    education: Sequence = ("education",),
    weight: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the IPS Grow employment-rate rule: keep only people unemployed at first contact.

    Parameters
    ----------
    data : DataFrame
        One row per person (or a count with ``weight``).
    status : str
        Column with the status at first contact.
    in_work, education : sequence
        Values of ``status`` meaning "in work at first contact" (job retention) and "supported in
        education only"; rows with them are excluded from the employment-rate denominator.

    Returns
    -------
    (kept, record) : the rows that count, and a table of how many were excluded and why.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"status": ["unemployed", "in_work", "education", "unemployed"]})
    >>> kept, record = ips_grow_denominator(df, status="status")
    >>> len(kept), record["n"].tolist()
    (2, [4, 1, 1, 2])
    """
    df = as_dataframe(data)
    check_columns(df, {"status": status, "weight": weight})
    s = df[status]
    in_work, education = tuple(in_work), tuple(education)
    overlap = set(in_work) & set(education)
    if overlap:
        raise SpecificationError(f"values {sorted(overlap)} are in both in_work and education")
    seen = set(pd.unique(s.dropna()).tolist())
    if not seen & (set(in_work) | set(education)) and len(seen) > 1:
        shown = ", ".join(repr(v) for v in sorted(seen, key=str)[:8])
        raise DataError(f"none of in_work={list(in_work)} or education={list(education)} occur in "
                        f"column {status!r} (values: {shown}); name the values that mean "
                        "'in work at first contact' and 'education'")
    w = weight_column(df, weight)
    is_work = s.isin(in_work).to_numpy()
    is_edu = s.isin(education).to_numpy()
    keep = ~(is_work | is_edu)
    total = float(w.sum())
    rows = [("all people", total), ("excluded: in work at first contact", w[is_work].sum()),
            ("excluded: education only", w[is_edu].sum()),
            ("counted (unemployed at first contact)", w[keep].sum())]
    record = pd.DataFrame(rows, columns=["step", "n"])
    record["percent"] = 100 * record["n"] / total if total > 0 else np.nan
    if np.allclose(record["n"], np.round(record["n"])):
        record["n"] = record["n"].round().astype(np.int64)
    return df.loc[keep], record


class OutcomeEquityResult(SiteResult):
    """Outcome rates by group, a test of difference and (optionally) adjusted odds ratios.

    ``tidy()``: one row per group with ``group``, ``n``, ``events``, ``rate``, ``conf_low``,
    ``conf_high`` (``term`` = group, ``estimate`` = rate); with ``adjust=`` also ``odds_ratio``,
    ``or_conf_low``, ``or_conf_high`` (the reference group has 1) and ``statistic``/``p_value``
    of the group's log odds ratio.
    """

    count_columns = ("n", "events")

    def __init__(self, *, estimator, table, n_obs, info, denominator_record, model_table,
                 warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.info = dict(info)
        self.denominator_record = denominator_record
        self.model_table = model_table
        self._freeze()

    def glance(self) -> pd.DataFrame:
        keys = ("chisq", "df", "p_value", "test", "n_obs", "n_events", "rate", "conf_low",
                "conf_high", "denominator_rule", "n_excluded", "reference_group")
        return pd.DataFrame([{k: self.info[k] for k in keys}])

    def summary(self) -> Summary:
        i = self.info
        e = self.estimator
        header = [("outcome", e.outcome), ("group", e.group),
                  ("overall", f"{i['n_events']:g} of {i['n_obs']:g} = {i['rate']:.1%} "
                              f"({i['conf_low']:.1%} to {i['conf_high']:.1%})"),
                  ("test", f"{i['test']}: chi2 = {i['chisq']:.4g}, df = {i['df']}, "
                           f"p = {i['p_value']:.3g}"),
                  ("confidence intervals", i["ci_text"]),
                  ("denominator", i["denominator_rule"])]
        cols = ["group", "n", "events", "rate", "conf_low", "conf_high"]
        tables = []
        if self.denominator_record is not None:
            tables.append(("Employment-rate denominator (IPS Grow rule)", self.denominator_record))
        if self.model_table is not None:
            cols += ["odds_ratio", "or_conf_low", "or_conf_high", "p_value"]
            header.append(("adjusted odds ratios", f"logistic regression on {e.group} + "
                           f"{', '.join(e.adjust)}; Wald 95% CIs; reference group "
                           f"{i['reference_group']!r}"))
        tables.insert(0, (f"{e.outcome} by {e.group}", self._table[cols]))
        if self.model_table is not None:
            tables.append(("Logistic model (odds ratios)", self.model_table))
        return Summary(title=f"Outcomes by {e.group}", header=tuple(header), tables=tuple(tables),
                       notes=self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.sites import plot_group_rates

        style.setdefault("xlabel", f"rate of {self.estimator.outcome}")
        style.setdefault("title", f"{self.estimator.outcome} by {self.estimator.group}")
        ax = plot_group_rates(self, ax=ax, **style)
        ax.axvline(self.info["rate"], color="0.3", ls="--", lw=1)
        return ax


class OutcomeEquity(Estimator):
    """Outcome rates by group with CIs and a chi-squared test; optional adjusted odds ratios.

    Parameters
    ----------
    outcome : str
        0/1 column (e.g. gained employment).
    group : str
        Column with the groups (ethnicity, diagnosis, age band, gender).
    weight : str, optional
        Column of counts: a row stands for that many people.
    adjust : sequence of str, optional
        Covariates for a logistic model ``outcome ~ group + adjust``: adjusted odds ratios.
    reference_group : optional
        Reference level for the odds ratios (default: first in sorted order).
    denominator : {None, "ips_grow"}
        ``"ips_grow"`` applies :func:`ips_grow_denominator` first (needs ``status``).
    status : str, optional
        Status-at-first-contact column for the IPS Grow rule.
    in_work, education : sequence
        Status values excluded by the IPS Grow rule.
    ci : {"wilson", "exact"}
        CI for each group's rate.
    correction, exact, reps, seed
        As :class:`Representativeness` (the test uses the group × outcome table).

    Returns
    -------
    OutcomeEquityResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_caseload
    >>> people = load_caseload().assign(gained_job=lambda d: d["job_start"].notna())
    >>> res = ci.OutcomeEquity(outcome="gained_job", group="ethnicity",
    ...     denominator="ips_grow", status="status_at_contact").fit(people)
    >>> int(res.glance()["n_obs"].iloc[0])
    499

    See Also
    --------
    ips_grow_denominator, Representativeness, Reach
    """

    _param_names = ("outcome", "group", "weight", "adjust", "reference_group", "denominator",
                    "status", "in_work", "education", "ci", "conf_level", "correction", "exact",
                    "reps", "seed")

    def __init__(self, *, outcome: str, group: str, weight: str | None = None,
                 adjust: Sequence[str] | None = None, reference_group=None,
                 denominator: Literal[None, "ips_grow"] = None, status: str | None = None,
                 in_work: Sequence = ("in_work",), education: Sequence = ("education",),
                 ci: Literal["wilson", "exact"] = "wilson", conf_level: float = 0.95,
                 correction: bool = False, exact: Literal["auto", "never", "always"] = "auto",
                 reps: int = 2000, seed: int | None = None):
        self.outcome, self.group, self.weight = outcome, group, weight
        if isinstance(adjust, str):
            adjust = (adjust,)
        self.adjust = tuple(adjust) if adjust else None
        self.reference_group = reference_group
        self.denominator = check_choice("denominator", denominator, (None, "ips_grow"))
        if self.denominator == "ips_grow" and status is None:
            raise SpecificationError("denominator='ips_grow' needs status= (the column with the "
                                     "status at first contact)")
        self.status = status
        self.in_work, self.education = tuple(in_work), tuple(education)
        self.ci = check_choice("ci", ci, CI_METHODS)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        if not isinstance(correction, bool):
            raise SpecificationError(f"correction must be True or False; got {correction!r}")
        self.correction = correction
        self.exact = check_choice("exact", exact, EXACT_CHOICES)
        self.reps = int(check_range("reps", reps, 99, 1e7, inclusive=(True, True)))
        self.seed = seed

    def fit(self, data) -> OutcomeEquityResult:
        df = as_dataframe(data)
        cols = {"outcome": self.outcome, "group": self.group, "weight": self.weight,
                "status": self.status}
        cols.update({f"adjust[{c}]": c for c in (self.adjust or ())})
        check_columns(df, cols)
        check_not_empty(df)
        record = None
        rule = "all rows (no exclusions)"
        n_excluded = 0
        if self.denominator == "ips_grow":
            df, record = ips_grow_denominator(df, status=self.status, in_work=self.in_work,
                                              education=self.education, weight=self.weight)
            rule = IPS_GROW_RULE
            n_excluded = float(record["n"].iloc[1] + record["n"].iloc[2])
            check_not_empty(df, what="data after the IPS Grow exclusions")
        y = binary_column(df, self.outcome, role="outcome")
        g = labels_column(df, self.group, role="group")
        w = weight_column(df, self.weight)
        groups = _ordered_labels(g)
        codes = pd.Index(groups).get_indexer(pd.Series(g).map(_plain))
        n = np.bincount(codes, weights=w, minlength=len(groups))
        events = np.bincount(codes, weights=w * y, minlength=len(groups))
        if np.any(n <= 0):
            raise DataError("a group has no people (all weights zero); drop it")
        low, high = proportion_ci(events, n, method=self.ci, conf_level=self.conf_level)
        rate = events / n
        frame = pd.DataFrame({"group": groups, "n": n, "events": events, "rate": rate,
                              "term": [str(v) for v in groups], "estimate": rate,
                              "std_error": np.sqrt(rate * (1 - rate) / n),
                              "conf_low": low, "conf_high": high})
        test = contingency_test(np.column_stack([events, n - events]),
                                correction=self.correction, exact=self.exact, reps=self.reps,
                                seed=self.seed)
        ref = groups[0] if self.reference_group is None else self.reference_group
        if ref not in groups:
            raise SpecificationError(f"reference_group={ref!r} is not a value of {self.group!r};"
                                     f" values: {groups}")
        model_table = None
        if self.adjust:
            X = design_matrix(df, [self.group, *self.adjust], reference={self.group: ref})
            fit = fit_logistic(y, X, None if self.weight is None else w)
            model_table = odds_ratio_table(fit, self.conf_level)
            prefix = f"{self.group}["
            by_term = model_table.set_index("term")
            keys = [f"{prefix}{v}]" for v in groups]
            frame["odds_ratio"] = [1.0 if v == ref else by_term.at[k, "estimate"]
                                   for v, k in zip(groups, keys)]
            frame["or_conf_low"] = [np.nan if v == ref else by_term.at[k, "conf_low"]
                                    for v, k in zip(groups, keys)]
            frame["or_conf_high"] = [np.nan if v == ref else by_term.at[k, "conf_high"]
                                     for v, k in zip(groups, keys)]
            frame["statistic"] = [np.nan if v == ref else by_term.at[k, "statistic"]
                                  for v, k in zip(groups, keys)]
            frame["p_value"] = [np.nan if v == ref else by_term.at[k, "p_value"]
                                for v, k in zip(groups, keys)]
        if np.allclose(np.r_[n, events], np.round(np.r_[n, events])):
            frame["n"] = frame["n"].round().astype(np.int64)
            frame["events"] = frame["events"].round().astype(np.int64)
        tot_n, tot_e = float(n.sum()), float(events.sum())
        lo, hi = proportion_ci(tot_e, tot_n, method=self.ci, conf_level=self.conf_level)
        info = {**test, "n_obs": tot_n, "n_events": tot_e, "rate": tot_e / tot_n,
                "conf_low": float(lo[0]), "conf_high": float(hi[0]), "denominator_rule": rule,
                "n_excluded": n_excluded, "reference_group": ref,
                "ci_text": f"{self.conf_level:.0%} "
                           + ("Wilson score" if self.ci == "wilson" else "Clopper-Pearson exact")}
        warnings = []
        if np.any(n < 10):
            small = [str(v) for v, k in zip(groups, n) if k < 10]
            warnings.append(f"groups with fewer than 10 people ({', '.join(small)}): their "
                            "rates are imprecise")
        _warn(warnings)
        return OutcomeEquityResult(estimator=self, table=tidy_frame(frame, ("group", "n",
                                   "events", "rate")), n_obs=int(round(tot_n)), info=info,
                                   denominator_record=record, model_table=model_table,
                                   warnings=warnings)


__all__ = ["Representativeness", "RepresentativenessResult", "NumericComparison",
           "NumericComparisonResult", "OutcomeEquity", "OutcomeEquityResult",
           "ips_grow_denominator", "IPS_GROW_RULE"]
