"""Outcome equity: does the service serve every group equally well?

Outcome rates by group with confidence intervals, a test of independence on the group × outcome
table and, optionally, odds ratios adjusted for case mix; ``denominator="ips_grow"`` first keeps
only the people an IPS Grow employment rate counts (see :mod:`causalips.sites.ips_grow`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._checks import check_choice, check_not_empty, check_range
from ..base import Estimator, Summary, tidy_frame, warn_all
from ..engine.frames import Table
from ..errors import DataError, SpecificationError, StatisticalWarning
from ..inference import Bootstrap
from ._case_mix import fit_logistic_cells, odds_ratio_table
from ._contingency import ContingencyTestResult, contingency_test, test_options
from ._deprecated import LegacyAttributes
from ._labels import reference_level
from ._people import MODEL_CELLS, Counts, Key, case_mix_keys, count_people, open_data
from .ips_grow import (
    DEFAULT_STATUSES,
    IPS_GROW_RULE,
    ips_grow_denominator,
    ips_grow_in_engine,
    status_sets,
)
from .proportions import (
    CI_METHODS,
    as_whole_counts,
    ci_description,
    proportion_ci,
    rate_columns,
)

#: Groups smaller than this get a warning that their rates are imprecise.
SMALL_GROUP = 10


class OutcomeEquityResult(ContingencyTestResult):
    """Outcome rates by group, a test of difference and (optionally) adjusted odds ratios.

    ``tidy()``: one row per group with ``group``, ``term`` (= group), ``estimate`` (= rate),
    its standard error and CI, then ``n``, ``events``, ``rate``; with ``adjust=`` also
    ``odds_ratio``, ``or_conf_low``, ``or_conf_high`` (the reference group has 1) and the
    ``statistic``/``p_value`` of the group's log odds ratio. ``test`` holds the test of equal
    rates; ``info`` the overall rate and the denominator rule.
    """

    count_columns = ("n", "events")

    def __init__(self, *, estimator, table, n_obs, test, info, counts, denominator_record,
                 model_table, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.test = dict(test)
        self.info = dict(info)
        self.denominator_record = denominator_record
        self.model_table = model_table
        self._counts = counts
        self._freeze()

    def glance(self) -> pd.DataFrame:
        t, i = self.test, self.info
        return pd.DataFrame([{
            "chisq": t["chisq"], "df": t["df"], "p_value": t["p_value"], "test": t["test"],
            **{k: i[k] for k in ("n_obs", "n_events", "rate", "conf_low", "conf_high",
                                 "denominator_rule", "n_excluded", "reference")}}])

    def summary(self) -> Summary:
        i, t = self.info, self.test
        e = self.estimator
        header = [("outcome", e.outcome), ("group", e.group),
                  ("overall", f"{i['n_events']:g} of {i['n_obs']:g} = {i['rate']:.1%} "
                              f"({i['conf_low']:.1%} to {i['conf_high']:.1%})"),
                  ("test", f"{t['test']}: chi2 = {t['chisq']:.4g}, df = {t['df']}, "
                           f"p = {t['p_value']:.3g}"),
                  ("confidence intervals", i["ci_text"]),
                  ("denominator", i["denominator_rule"])]
        cols = ["group", "n", "events", "rate", "conf_low", "conf_high"]
        tables = []
        if self.model_table is not None:
            cols += ["odds_ratio", "or_conf_low", "or_conf_high", "p_value"]
            header.append(("adjusted odds ratios", f"logistic regression on {e.group} + "
                           f"{', '.join(e.adjust)}; Wald {e.conf_level:.0%} CIs; reference "
                           f"group {i['reference']!r}"))
        tables.append((f"{e.outcome} by {e.group}", self._table[cols]))
        if self.denominator_record is not None:
            tables.append(("Employment-rate denominator (IPS Grow rule)", self.denominator_record))
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


class OutcomeEquity(LegacyAttributes, Estimator):
    """Outcome rates by group with CIs and a test of equal rates; optional adjusted odds ratios.

    Parameters
    ----------
    outcome : str
        0/1 column (e.g. gained employment).
    group : str
        Column with the groups compared (ethnicity, diagnosis, age band, gender).
    weight : str, optional
        Column of counts: a row stands for that many people.
    adjust : sequence of str, optional
        Covariates for a logistic model ``outcome ~ group + adjust``: adjusted odds ratios.
    reference : optional
        Reference group of the odds ratios (default: first in sorted order; was
        ``reference_group=``).
    denominator : {None, "ips_grow"}
        ``"ips_grow"`` applies :func:`ips_grow_denominator` first (needs ``status``).
    status : str, optional
        Status-at-first-contact column for the IPS Grow rule.
    in_work, education, unemployed : sequence
        The status values meaning in work at first contact and education only (both excluded)
        and unemployed at first contact (counted). Every value of ``status`` must be in one of
        them: any other value stops the fit with an error listing the values seen.
    ci_method : {"wilson", "exact"}
        CI for each group's rate (was ``ci=``).
    conf_level : float
        Level of the rate CIs and of the odds ratios' Wald CIs.
    correction, exact, inference
        The test of equal rates on the group × outcome table, as :class:`Reach`.

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

    _param_names = ("outcome", "group", "weight", "adjust", "reference", "denominator",
                    "status", "in_work", "education", "unemployed", "ci_method", "conf_level",
                    "correction", "exact", "inference")
    _renamed = {"reference_group": "reference", "ci": "ci_method"}

    def __init__(self, *, outcome: str, group: str, weight: str | None = None,
                 adjust: Sequence[str] | None = None, reference=None,
                 denominator: Literal[None, "ips_grow"] = None, status: str | None = None,
                 in_work: Sequence = DEFAULT_STATUSES["in_work"],
                 education: Sequence = DEFAULT_STATUSES["education"],
                 unemployed: Sequence = DEFAULT_STATUSES["unemployed"],
                 ci_method: Literal["wilson", "exact"] = "wilson", conf_level: float = 0.95,
                 correction: bool = False, exact: Literal["auto", "never", "always"] = "auto",
                 inference: Bootstrap | None = None, reps: int | None = None,
                 seed: int | None = None):
        self.outcome, self.group, self.weight = outcome, group, weight
        if isinstance(adjust, str):
            adjust = (adjust,)
        self.adjust = tuple(adjust) if adjust else None
        self.reference = reference
        self.denominator = check_choice("denominator", denominator, (None, "ips_grow"))
        if self.denominator == "ips_grow" and status is None:
            raise SpecificationError("denominator='ips_grow' needs status= (the column with the "
                                     "status at first contact)")
        self.status = status
        sets = status_sets(in_work=in_work, education=education, unemployed=unemployed)
        self.in_work, self.education, self.unemployed = sets.values()
        self.ci_method = check_choice("ci_method", ci_method, CI_METHODS)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.correction, self.exact, self.inference = test_options(
            "OutcomeEquity", correction=correction, exact=exact, inference=inference, reps=reps,
            seed=seed)

    def fit(self, data) -> OutcomeEquityResult:
        """Fit on a pandas DataFrame or any data ``causalips.engine.as_table`` reads (files,
        DuckDB, polars, pyarrow, Spark): people and events per group (per group × covariate
        cell with ``adjust=``) are summed where the data are, and only those counts come back;
        the IPS Grow rule is a filter there too."""
        cols = {"outcome": self.outcome, "group": self.group, "weight": self.weight,
                "status": self.status}
        cols.update({f"adjust[{c}]": c for c in (self.adjust or ())})
        source = open_data(data, cols)
        record, rule, n_excluded, what = None, "all rows (no exclusions)", 0.0, "data"
        if self.denominator == "ips_grow":
            sets = {"in_work": self.in_work, "education": self.education,
                    "unemployed": self.unemployed}
            if isinstance(source, Table):
                source, record = ips_grow_in_engine(source, status=self.status, sets=sets,
                                                    weight=self.weight)
            else:
                check_not_empty(source)
                source, record = ips_grow_denominator(source, status=self.status,
                                                      weight=self.weight, **sets)
            rule, what = IPS_GROW_RULE, "data after the IPS Grow exclusions"
            n_excluded = float(record["n"].iloc[1] + record["n"].iloc[2])
        keys = [Key(self.group, "group"), *case_mix_keys(self.adjust or ())]
        counts = count_people(source, keys=keys, outcome=self.outcome, weight=self.weight,
                              what=what, max_cells=MODEL_CELLS if self.adjust else None)
        return self._from_counts(counts, record=record, rule=rule, n_excluded=n_excluded)

    def _from_counts(self, counts: Counts, *, record, rule, n_excluded) -> OutcomeEquityResult:
        """The result from people and events per group (× covariate cell), every kind of data."""
        groups, n, events, _ = counts.totals(self.group)
        if np.any(n <= 0):
            empty = [str(v) for v, k in zip(groups, n) if k <= 0]
            raise DataError(f"group {', '.join(empty)} of {self.group!r} has no people (all "
                            "weights zero); drop it")
        ref = reference_level(self.reference, groups, self.group)
        frame = pd.DataFrame(rate_columns(groups, n, events, method=self.ci_method,
                                          conf_level=self.conf_level) | {"n": n, "events": events})
        model_table = None
        if self.adjust:
            model_table = self._odds_ratios(counts, ref, groups, frame)
        table_counts = np.column_stack([events, n - events])
        test = contingency_test(table_counts, correction=self.correction, exact=self.exact,
                                inference=self.inference)
        tot_n, tot_e = float(n.sum()), float(events.sum())
        lo, hi = proportion_ci(tot_e, tot_n, method=self.ci_method, conf_level=self.conf_level)
        info = {"n_obs": tot_n, "n_events": tot_e, "rate": tot_e / tot_n,
                "conf_low": float(lo[0]), "conf_high": float(hi[0]), "denominator_rule": rule,
                "n_excluded": n_excluded, "reference": ref,
                "ci_text": ci_description(self.ci_method, self.conf_level)}
        notes = self._notes(counts.notes, groups, n)
        table = tidy_frame(as_whole_counts(frame, ["n", "events"]),
                           ("n", "events", "rate", "odds_ratio", "or_conf_low", "or_conf_high"))
        return OutcomeEquityResult(estimator=self, table=table, n_obs=int(round(tot_n)),
                                   test=test, info=info, counts=table_counts,
                                   denominator_record=record, model_table=model_table,
                                   warnings=notes)

    def _odds_ratios(self, counts: Counts, ref, groups, frame) -> pd.DataFrame:
        """Fit outcome ~ group + adjust from the cells; add each group's odds ratio to
        ``frame``."""
        fit, _ = fit_logistic_cells(counts.keys, [self.group, *self.adjust], counts.events,
                                    counts.non_events, reference={self.group: ref})
        model_table = odds_ratio_table(fit, self.conf_level)
        terms = model_table.set_index("term").reindex([f"{self.group}[{v}]" for v in groups])
        is_ref = np.array([v == ref for v in groups])
        for col, source, at_ref in (("odds_ratio", "estimate", 1.0),
                                    ("or_conf_low", "conf_low", np.nan),
                                    ("or_conf_high", "conf_high", np.nan),
                                    ("statistic", "statistic", np.nan),
                                    ("p_value", "p_value", np.nan)):
            frame[col] = np.where(is_ref, at_ref, terms[source].to_numpy(dtype=float))
        return model_table

    def _notes(self, weight_notes, groups, n) -> list[str]:
        notes = list(weight_notes)
        small = [str(v) for v, k in zip(groups, n) if k < SMALL_GROUP]
        if small:
            notes.append(f"groups with fewer than {SMALL_GROUP} people ({', '.join(small)}): "
                         "their rates are imprecise")
        warn_all(notes, StatisticalWarning)
        return notes


__all__ = ["OutcomeEquity", "OutcomeEquityResult"]
