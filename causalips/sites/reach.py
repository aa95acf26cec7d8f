"""Reach (RE-AIM): the share of the eligible caseload that takes part, overall and by group."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .._checks import check_choice, check_range
from ..base import Estimator, Summary, tidy_frame, warn_all
from ..errors import StatisticalWarning
from ..inference import Bootstrap
from ._contingency import ContingencyTestResult, contingency_test, test_options
from ._deprecated import LegacyAttributes
from ._people import Counts, Key, count_people, open_data
from .proportions import CI_METHODS, as_whole_counts, ci_description, rate_columns


class ReachResult(ContingencyTestResult):
    """Participation rates with CIs.

    ``tidy()``: a row ``overall`` and one per group with ``group``, ``term`` (= group),
    ``estimate`` (= rate) with its standard error and CI, then ``eligible``, ``participants``,
    ``rate``. With a group, ``test`` holds the test of equal reach.
    """

    count_columns = ("eligible", "participants")

    def __init__(self, *, estimator, table, n_obs, test, counts, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.test = dict(test) if test else None
        self._counts = counts
        self._freeze()

    def glance(self) -> pd.DataFrame:
        row = self._table.iloc[0]
        out = {"eligible": row["eligible"], "participants": row["participants"],
               "rate": row["rate"], "conf_low": row["conf_low"], "conf_high": row["conf_high"]}
        if self.test:
            out.update({k: self.test[k] for k in ("chisq", "df", "p_value", "test")})
        return pd.DataFrame([out])

    def summary(self) -> Summary:
        g = self.glance().iloc[0]
        e = self.estimator
        header = [("participant", e.participant),
                  ("reach", f"{g['participants']:g} of {g['eligible']:g} eligible = "
                            f"{g['rate']:.1%} ({g['conf_low']:.1%} to {g['conf_high']:.1%})"),
                  ("confidence intervals", ci_description(e.ci_method, e.conf_level))]
        if self.test:
            header.append(("difference between groups", f"{g['test']}: chi2 = {g['chisq']:.4g}"
                                                         f", df = {g['df']}, p = {g['p_value']:.3g}"))
        cols = ["group", "eligible", "participants", "rate", "conf_low", "conf_high"]
        return Summary(title="Reach (RE-AIM)", header=tuple(header),
                       tables=(("Participation of the eligible caseload", self._table[cols]),),
                       notes=("Reach = people who used the service / people eligible for it.",)
                       + self.warnings)

    def plot(self, ax=None, **style):
        from ..plotting.sites import plot_group_rates

        style.setdefault("xlabel", "share of the eligible caseload reached")
        style.setdefault("title", "Reach")
        return plot_group_rates(self, ax=ax, **style)


class Reach(LegacyAttributes, Estimator):
    """Reach: participation rate of the eligible caseload, with CI, overall and by group.

    Parameters
    ----------
    participant : str
        0/1 column: did the person use the service (e.g. ``ips_user``)? One row per eligible
        person, or per count with ``weight``.
    group : str, optional
        Column for rates by group (team, ethnicity, age band ...), with a test of equal reach.
    weight : str, optional
        Column of counts: a row stands for that many people (e.g. 539 users, 5,626 not).
    ci_method : {"wilson", "exact"}
        Interval for each rate (was ``ci=``).
    conf_level : float
        Confidence level.
    correction, exact
        Test options, as :class:`Representativeness`.
    inference : Bootstrap, optional
        The Monte Carlo test of a table with small expected counts: ``Bootstrap(reps=, seed=)``
        simulates ``reps`` tables with the observed margins; default ``Bootstrap(reps=2000)``.
        ``reps=``/``seed=`` are its deprecated old form.

    Returns
    -------
    ReachResult

    Example
    -------
    >>> import pandas as pd
    >>> import causalips as ci
    >>> table = pd.DataFrame({"ips": [1, 0], "people": [539, 6165 - 539]})
    >>> res = ci.Reach(participant="ips", weight="people").fit(table)
    >>> round(float(res.glance()["rate"].iloc[0]), 3)
    0.087

    See Also
    --------
    Representativeness, OutcomeEquity
    """

    _param_names = ("participant", "group", "weight", "ci_method", "conf_level", "correction",
                    "exact", "inference")
    _renamed = {"ci": "ci_method"}

    def __init__(self, *, participant: str, group: str | None = None, weight: str | None = None,
                 ci_method: Literal["wilson", "exact"] = "wilson", conf_level: float = 0.95,
                 correction: bool = False, exact: Literal["auto", "never", "always"] = "auto",
                 inference: Bootstrap | None = None, reps: int | None = None,
                 seed: int | None = None):
        self.participant, self.group, self.weight = participant, group, weight
        self.ci_method = check_choice("ci_method", ci_method, CI_METHODS)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.correction, self.exact, self.inference = test_options(
            "Reach", correction=correction, exact=exact, inference=inference, reps=reps,
            seed=seed)

    def fit(self, data) -> ReachResult:
        """Fit on a pandas DataFrame, a Parquet/CSV path, a DuckDB relation, a polars or Spark
        frame or a pyarrow Table: the people and participants per group are summed where the
        data are, and only those counts come back."""
        source = open_data(data, {"participant": self.participant, "group": self.group,
                                  "weight": self.weight})
        keys = [Key(self.group, "group")] if self.group is not None else []
        counts = count_people(source, keys=keys, outcome=self.participant,
                              outcome_role="participant", weight=self.weight)
        return self._from_counts(counts)

    def _from_counts(self, counts: Counts) -> ReachResult:
        """The result from people and participants per group (every kind of data)."""
        labels = ["overall"]
        eligible, parts = np.array([counts.n.sum()]), np.array([counts.events.sum()])
        test = table_counts = None
        if self.group is not None:
            groups, n, e, _ = counts.totals(self.group)
            labels += groups
            eligible, parts = np.r_[eligible, n], np.r_[parts, e]
            table_counts = np.column_stack([e, n - e])
            test = contingency_test(table_counts, correction=self.correction, exact=self.exact,
                                    inference=self.inference)
        keep = eligible > 0  # a group whose weights are all zero has no rate
        labels = [lab for lab, k in zip(labels, keep) if k]
        eligible, parts = eligible[keep], parts[keep]
        frame = pd.DataFrame(rate_columns(labels, eligible, parts, method=self.ci_method,
                                          conf_level=self.conf_level)
                             | {"eligible": eligible, "participants": parts})
        table = tidy_frame(as_whole_counts(frame, ["eligible", "participants"]),
                           ("eligible", "participants", "rate"))
        warn_all(counts.notes, StatisticalWarning)
        return ReachResult(estimator=self, table=table, n_obs=int(round(eligible[0])),
                           test=test, counts=table_counts, warnings=list(counts.notes))


__all__ = ["Reach", "ReachResult"]
