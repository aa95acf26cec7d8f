"""Reach (RE-AIM): the share of the eligible caseload that takes part, overall and by group."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .._checks import as_dataframe, check_choice, check_columns, check_not_empty, check_range
from ..base import Estimator, Summary, tidy_frame
from ._result import SiteResult
from ._tests import EXACT_CHOICES, contingency_test
from .equity import _ordered_labels
from .rates import CI_METHODS, binary_column, labels_column, proportion_ci, weight_column


class ReachResult(SiteResult):
    """Participation rates with CIs.

    ``tidy()``: a row ``overall`` and one per group with ``group``, ``eligible``,
    ``participants``, ``rate``, ``conf_low``, ``conf_high`` (``term`` = group, ``estimate`` =
    rate).
    """

    count_columns = ("eligible", "participants")

    def __init__(self, *, estimator, table, n_obs, test, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.test = dict(test) if test else None
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
                  ("confidence intervals", f"{e.conf_level:.0%} "
                   + ("Wilson score" if e.ci == "wilson" else "Clopper-Pearson exact"))]
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


class Reach(Estimator):
    """Reach: participation rate of the eligible caseload, with CI, overall and by group.

    Parameters
    ----------
    participant : str
        0/1 column: did the person use the service (e.g. ``ips_user``)? One row per eligible
        person, or per count with ``weight``.
    group : str, optional
        Column for rates by group (team, ethnicity, age band ...), with a chi-squared test.
    weight : str, optional
        Column of counts: a row stands for that many people (e.g. 539 users, 5,626 not).
    ci : {"wilson", "exact"}
        Interval for each rate.
    conf_level : float
        Confidence level.
    correction, exact, reps, seed
        Test options, as :class:`Representativeness`.

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

    _param_names = ("participant", "group", "weight", "ci", "conf_level", "correction", "exact",
                    "reps", "seed")

    def __init__(self, *, participant: str, group: str | None = None, weight: str | None = None,
                 ci: Literal["wilson", "exact"] = "wilson", conf_level: float = 0.95,
                 correction: bool = False, exact: Literal["auto", "never", "always"] = "auto",
                 reps: int = 2000, seed: int | None = None):
        self.participant, self.group, self.weight = participant, group, weight
        self.ci = check_choice("ci", ci, CI_METHODS)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.correction = bool(correction)
        self.exact = check_choice("exact", exact, EXACT_CHOICES)
        self.reps = int(check_range("reps", reps, 99, 1e7, inclusive=(True, True)))
        self.seed = seed

    def fit(self, data) -> ReachResult:
        df = as_dataframe(data)
        check_columns(df, {"participant": self.participant, "group": self.group,
                           "weight": self.weight})
        check_not_empty(df)
        y = binary_column(df, self.participant, role="participant")
        w = weight_column(df, self.weight)
        labels = ["overall"]
        eligible = [w.sum()]
        parts = [(w * y).sum()]
        test = None
        if self.group is not None:
            g = labels_column(df, self.group, role="group")
            groups = _ordered_labels(g)
            codes = pd.Index(groups).get_indexer(pd.Series(g))
            n = np.bincount(codes, weights=w, minlength=len(groups))
            e = np.bincount(codes, weights=w * y, minlength=len(groups))
            labels += groups
            eligible += n.tolist()
            parts += e.tolist()
            test = contingency_test(np.column_stack([e, n - e]), correction=self.correction,
                                    exact=self.exact, reps=self.reps, seed=self.seed)
        eligible, parts = np.asarray(eligible, float), np.asarray(parts, float)
        if eligible[0] <= 0:
            from ..errors import DataError

            raise DataError("no eligible people (all weights are zero)")
        keep = eligible > 0
        labels = [lab for lab, k in zip(labels, keep) if k]
        eligible, parts = eligible[keep], parts[keep]
        low, high = proportion_ci(parts, eligible, method=self.ci, conf_level=self.conf_level)
        rate = parts / eligible
        frame = pd.DataFrame({"group": labels, "eligible": eligible, "participants": parts,
                              "rate": rate, "term": [str(v) for v in labels], "estimate": rate,
                              "std_error": np.sqrt(rate * (1 - rate) / eligible),
                              "conf_low": low, "conf_high": high})
        if np.allclose(np.r_[eligible, parts], np.round(np.r_[eligible, parts])):
            frame["eligible"] = frame["eligible"].round().astype(np.int64)
            frame["participants"] = frame["participants"].round().astype(np.int64)
        table = tidy_frame(frame, ("group", "eligible", "participants", "rate"))
        return ReachResult(estimator=self, table=table, n_obs=int(round(eligible[0])), test=test)


__all__ = ["Reach", "ReachResult"]
