"""Person-level cost-effectiveness: incremental costs and effects, ICER, net benefit, CEAC, EVPI.

Uncertainty comes from a non-parametric bootstrap of cost and effect *jointly* (people, or whole
clusters of people, are resampled with both their cost and their effect, within group, so the
group sizes stay as in the trial), taken as ``inference=Bootstrap(reps=, seed=, cluster=)``. The
bootstrap is vectorised: the resampled rows of all draws are one array, and group means (or
regression coefficients) are computed by matrix operations (``_bootstrap``). The decision rules
(dominance, ICER, net benefit, CEAC, EVPI) are the functions of :mod:`.decision`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._checks import check_choice, check_range
from ..base import Estimator, Result, Summary, warn_all
from ..errors import ConvergenceWarning, SpecificationError, StatisticalWarning
from ..inference import Bootstrap
from . import _bootstrap as bs
from ._ce_sample import cluster_warnings, read_sample
from ._ce_table import comparison_label, tidy_table
from ._spec import DeprecatedDrawOptions, bootstrap_spec, redraw_spec, renamed
from .decision import (
    acceptability,
    classify,
    discount_factors,
    expected_value_of_perfect_information,
    icer,
    net_monetary_benefit,
)

ADJUSTMENTS = ("ols", "glm")
CI_METHODS = ("percentile", "normal")
WHAT_IS_DRAWN = "people (or clusters) with their cost and effect"


class CostEffectivenessResult(Result):
    """A fitted cost-effectiveness comparison of groups against a reference group.

    ``tidy()`` has, per comparison (group vs reference): ``incremental_cost``,
    ``incremental_effect``, ``icer`` (NaN unless the quadrant gives a meaningful ratio; see
    ``dominance``) and one ``net_benefit`` row per willingness-to-pay threshold (``wtp``), with
    ``prob_cost_effective`` (share of bootstrap draws in which the group's net benefit beats the
    reference's) and ``evpi`` (expected value of perfect information per person, over all
    groups). Every row carries ``icer``, ``dominance``, ``n_group`` and ``n_reference``.
    ``std_error`` is the bootstrap standard deviation; ``conf_low``/``conf_high`` are bootstrap
    percentile limits (or normal limits with the bootstrap SE when the plan says
    ``ci_method="normal"``); ``p_value`` is the two-sided bootstrap p-value
    2 * min(P(d* <= 0), P(d* >= 0)). :meth:`with_inference` re-draws from the same sample.
    """

    count_columns = ("n_group", "n_reference", "n")  # "n": the summary's table of groups
    report_plots = (("Cost-effectiveness plane", "plane"),
                    ("Cost-effectiveness acceptability curve", "ceac"))

    def __init__(self, *, estimator, table, sample, inference, point, draws, warnings=(),
                 sample_warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=sample.n, warnings=warnings)
        self.groups = tuple(sample.groups)
        self.reference = sample.groups[0]
        self.group_sizes = tuple(int(s) for s in sample.sizes)
        self.inference = inference
        self.reps = inference.reps
        self.seed = inference.seed
        self.wtp = tuple(estimator.wtp)
        self.conf_level = estimator.conf_level
        self._sample = sample
        self._sample_warnings = tuple(sample_warnings)
        self._point_cost, self._point_effect = (np.asarray(p, dtype=float) for p in point)
        self._draws_cost, self._draws_effect = (np.asarray(d, dtype=float) for d in draws)
        for a in (self._point_cost, self._point_effect, self._draws_cost, self._draws_effect):
            a.setflags(write=False)
        self._freeze()

    # deprecated names (arm -> group), readable for one release
    arms = renamed("arms", "groups")
    arm_sizes = renamed("arm_sizes", "group_sizes")
    arm_means = renamed("arm_means", "group_means")

    # -- accessors -------------------------------------------------------------------------
    def group_means(self) -> pd.DataFrame:
        """Mean (or adjusted mean) cost and effect per group, with bootstrap SEs."""
        return pd.DataFrame({
            "group": list(self.groups),
            "n": list(self.group_sizes),
            "mean_cost": self._point_cost,
            "std_error_cost": self._draws_cost.std(axis=0, ddof=1),
            "mean_effect": self._point_effect,
            "std_error_effect": self._draws_effect.std(axis=0, ddof=1),
        })

    def draws(self) -> pd.DataFrame:
        """The bootstrap draws of incremental cost and effect (one row per draw and comparison)."""
        k = len(self.groups)
        return pd.DataFrame({
            "comparison": np.repeat([comparison_label(g, self.reference) for g in self.groups[1:]],
                                    self.reps),
            "draw": np.tile(np.arange(self.reps), k - 1),
            "incremental_cost": (self._draws_cost[:, 1:] - self._draws_cost[:, :1]).T.ravel(),
            "incremental_effect": (self._draws_effect[:, 1:]
                                   - self._draws_effect[:, :1]).T.ravel(),
        })

    def incremental(self) -> pd.DataFrame:
        """Point incremental cost and effect, ICER and dominance per comparison."""
        t = self._table
        cost = t[t["term"] == "incremental_cost"].reset_index(drop=True)
        effect = t.loc[t["term"] == "incremental_effect", "estimate"].to_numpy()
        return pd.DataFrame({
            "comparison": cost["comparison"], "group": cost["group"],
            "reference": cost["reference"], "incremental_cost": cost["estimate"],
            "incremental_effect": effect, "icer": cost["icer"], "dominance": cost["dominance"]})

    def _thresholds(self, thresholds) -> np.ndarray:
        if thresholds is None:
            top = max(self.wtp) if self.wtp else 1.0
            return np.linspace(0.0, 2.0 * top, 101)
        lam = np.atleast_1d(np.asarray(thresholds, dtype=float))
        if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam < 0):
            raise SpecificationError(
                f"thresholds must be non-negative finite numbers; got {thresholds!r}")
        return lam

    def ceac(self, thresholds: Sequence[float] | None = None) -> pd.DataFrame:
        """Cost-effectiveness acceptability curve(s).

        For each threshold (willingness to pay per unit of effect) and group: the share of
        bootstrap draws in which that group has the highest net monetary benefit, ``wtp * E - C``
        (``prob_optimal``). With two groups this is P(incremental net benefit > 0). Also per
        comparison (group vs reference): ``prob_cost_effective_vs_reference``. Probabilities over
        groups sum to 1 at each threshold (ties go to the first group, reference first).

        Properties: at threshold 0 the probability for a group vs the reference is P(dC < 0); as
        the threshold grows it tends to P(dE > 0); when every draw has dE > 0 the curve is
        non-decreasing.
        """
        lam = self._thresholds(thresholds)
        prob, vs_ref = acceptability(self._draws_cost, self._draws_effect, lam)
        k = len(self.groups)
        return pd.DataFrame({
            "wtp": np.repeat(lam, k),
            "group": np.tile(np.array(self.groups, dtype=object), lam.size),
            "prob_optimal": prob.ravel(),
            "prob_cost_effective_vs_reference": vs_ref.ravel(),
        })

    def evpi(self, thresholds: Sequence[float] | None = None, *,
             population: float | None = None) -> pd.DataFrame:
        """Expected value of perfect information per person at each threshold.

        EVPI = E[max_j NB_j] - max_j E[NB_j] over the bootstrap distribution of group means,
        with NB_j = wtp * E_j - C_j, in cost units per person; it is exactly 0 when no draw would
        change the decision (see :func:`~causalips.economics.decision.
        expected_value_of_perfect_information`). ``population`` (the number of people the
        decision affects over its lifetime, discounted) adds ``evpi_population``, an upper bound
        on the value of further research.
        """
        lam = self._thresholds(thresholds)
        value = expected_value_of_perfect_information(self._draws_cost, self._draws_effect, lam)
        out = pd.DataFrame({"wtp": lam, "evpi": value})
        if population is not None:
            out["evpi_population"] = value * check_range("population", population, 0, np.inf)
        return out

    def with_inference(self, spec) -> CostEffectivenessResult:
        """The same comparison with another bootstrap (re-drawn from the same sample).

        ``spec`` is a :class:`~causalips.inference.Bootstrap`; its ``cluster`` must be the one of
        the fit (the cluster ids are kept only when the plan clustered) or None (people).
        """
        est = self.estimator
        spec = redraw_spec("CostEffectiveness", spec, what=WHAT_IS_DRAWN, cluster=True)
        fitted = est.inference.cluster
        if spec.cluster is not None and spec.cluster != fitted:
            raise SpecificationError(
                f"with_inference(Bootstrap(cluster={spec.cluster!r})): the fit kept the clusters "
                f"of {fitted!r} only" if fitted else
                f"with_inference(Bootstrap(cluster={spec.cluster!r})): the fit did not keep "
                "cluster ids; fit with inference=Bootstrap(cluster=...) to resample clusters")
        return bootstrapped(est, self._sample, spec, self._sample_warnings)

    # -- the common interface --------------------------------------------------------------
    def glance(self) -> pd.DataFrame:
        est = self.estimator
        return pd.DataFrame([{
            "n_obs": self.n_obs,
            "n_groups": len(self.groups),
            "reference": self.reference,
            "reps": self.reps,
            "seed": self.seed,
            "cluster": self.inference.cluster,
            "conf_level": self.conf_level,
            "ci_method": est.ci_method,
            "adjustment": est.adjustment if est.covariates else "none",
            "discounting": _discount_text(est),
            "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        est = self.estimator
        nb = self._table[self._table["term"] == "net_benefit"][
            ["comparison", "wtp", "estimate", "conf_low", "conf_high", "prob_cost_effective",
             "evpi"]].rename(columns={"estimate": "net_benefit"})
        if est.covariates:
            adj = ("regression-adjusted: " + (
                "OLS per equation (seemingly unrelated regressions with identical regressors)"
                if est.adjustment == "ols" else
                "gamma GLM, log link, for costs; Gaussian identity for effects") +
                f" on {', '.join(est.covariates)}; recycled predictions")
        else:
            adj = "unadjusted difference in group means"
        header = (
            ("cost", est.cost), ("effect", est.effect),
            ("groups", f"{est.group} (reference {self.reference!r})"),
            ("incremental estimates", adj),
            ("uncertainty", f"{_resampling_text(self.inference, self._sample)}; "
                            f"{self.reps} draws, seed {self.seed}; {self.conf_level:.0%} "
                            f"{est.ci_method} intervals"),
            ("discounting", _discount_text(est)),
        )
        notes = ("ICER is reported only where it is a meaningful ratio (north-east quadrant: cost "
                 "per unit gained; south-west 'ICER_SW': saving per unit forgone); dominant and "
                 "dominated groups get no ratio. Its interval is a bootstrap percentile interval, "
                 "given only when every draw lies in the same quadrant. Decide with net benefit "
                 "and the CEAC. EVPI is 0 when no draw would change the decision.",)
        return Summary(title="Cost-effectiveness", header=header,
                       tables=(("Groups", self.group_means()), ("Incremental", self.incremental()),
                               ("Net monetary benefit", nb)),
                       notes=notes + self.warnings)

    def plot(self, ax=None, *, kind: Literal["plane", "ceac"] = "plane", **style):
        """The cost-effectiveness plane (``kind="plane"``) or the CEAC (``kind="ceac"``)."""
        from ..plotting.economics import plot_ce_plane, plot_ceac

        check_choice("kind", kind, ("plane", "ceac"))
        if kind == "plane":
            return plot_ce_plane(self, ax=ax, **style)
        return plot_ceac(self, ax=ax, **style)


def _discount_text(est) -> str:
    if est.year is None:
        return "none (no year column: costs and effects taken as given)"
    rc, re_ = est._rates
    return (f"costs {rc:.1%} and effects {re_:.1%} a year beyond year one "
            f"(factor (1+r)^-(year-1), year column {est.year!r})")


def _resampling_text(spec, sample) -> str:
    if spec.cluster is None:
        return "non-parametric bootstrap of cost and effect jointly, people resampled within group"
    where = "within group" if bs.nested(sample.codes, sample.clusters) else (
        "across groups (clusters hold people of several groups)")
    return (f"cluster bootstrap of cost and effect jointly, clusters of {spec.cluster!r} "
            f"resampled {where}")


# --------------------------------------------------------------------------------------------
def bootstrapped(est, sample, spec, sample_warnings) -> CostEffectivenessResult:
    """Point estimates, ``spec``'s draws and the tidy table: the result of a fit or a redraw."""
    warns = list(sample_warnings)
    if spec.cluster is not None:
        warns += cluster_warnings(sample, spec.cluster)
    warn_all(warns, StatisticalWarning)
    point_c, point_e, _ = bs.group_means(sample, np.ones((1, sample.n)), est.adjustment)
    draws_c, draws_e, converged = bs.draw_means(sample, spec, est.adjustment)
    if not converged:
        warns.append("the gamma GLM for costs did not converge in some bootstrap draws")
        warn_all(warns[-1:], ConvergenceWarning)
    table = tidy_table(est, sample, point_c[0], point_e[0], draws_c, draws_e)
    return CostEffectivenessResult(estimator=est, table=table, sample=sample, inference=spec,
                                   point=(point_c[0], point_e[0]), draws=(draws_c, draws_e),
                                   warnings=warns, sample_warnings=sample_warnings)


# --------------------------------------------------------------------------------------------
class CostEffectiveness(DeprecatedDrawOptions, Estimator):
    """Cost-effectiveness of trial arms (or matched groups) against a reference group.

    Parameters
    ----------
    group : str
        Column naming each person's group (trial arm). Was ``arm=`` (still accepted, with a
        FutureWarning, for one release).
    cost : str
        Column of costs per person (or per person-year row when ``year`` is given).
    effect : str
        Column of the effect measure (QALYs, days worked, job obtained 0/1, ...).
    reference : optional
        Value of ``group`` that is the comparator (usual services). Required.
    wtp : sequence of float
        Willingness-to-pay thresholds per unit of effect at which net benefit is reported.
    inference : Bootstrap, optional
        The joint non-parametric bootstrap: ``Bootstrap(reps=5000, seed=None)`` by default.
        People are drawn with replacement within group, each with both their cost and their
        effect; with ``Bootstrap(cluster="site")`` whole clusters are drawn (within group when
        every cluster lies in one group, as in a cluster-randomised trial; across groups
        otherwise). The loose ``reps=`` / ``seed=`` of earlier releases build this spec (with a
        FutureWarning) for one release.
    conf_level : float
        Level of the intervals (default 0.95).
    discount_rate : float or (float, float)
        Annual discount rate for costs and effects beyond year one (3.5%, the UK/NICE convention),
        or a pair (cost rate, effect rate). Used only when ``year`` is given.
    year : str, optional
        Column with the year (1, 2, ...) in which each row's cost and effect accrue; year 1 is not
        discounted, year t by (1 + r) ** -(t - 1).
    id : str, optional
        Person identifier: rows (e.g. one per person-year) are summed per person after
        discounting, so the bootstrap resamples people.
    covariates : sequence of str, optional
        Baseline covariates for adjusted incremental costs and effects.
    adjustment : {"ols", "glm"}
        With covariates: "ols" fits cost and effect each by least squares on group dummies and the
        covariates - the seemingly-unrelated-regressions estimator, which equals equation-by-
        equation OLS when both equations share the regressors; "glm" fits costs by a gamma GLM
        with log link and effects by a Gaussian GLM with identity link. Incremental values are
        recycled predictions (every person set to each group). Both are bootstrapped jointly.
    ci_method : {"percentile", "normal"}
        Bootstrap percentile intervals (default: right for skewed costs) or normal intervals with
        the bootstrap SE.
    allow_negative_costs : bool
        Costs are refused when negative unless this is True (e.g. net costs after savings).

    Returns
    -------
    CostEffectivenessResult
        From :meth:`fit`.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_danish_trial
    >>> res = ci.CostEffectiveness(group="arm", cost="cost_eur", effect="qaly_gain",
    ...     reference="usual services", wtp=[35000],
    ...     inference=ci.Bootstrap(reps=2000, seed=1)).fit(load_danish_trial())
    >>> res.incremental()["dominance"].iloc[0]
    'dominant'

    See Also
    --------
    ParametricSurvival, ReturnOnInvestment
    """

    _param_names = ("group", "cost", "effect", "reference", "wtp", "inference", "conf_level",
                    "discount_rate", "year", "id", "covariates", "adjustment", "ci_method",
                    "allow_negative_costs")
    _renamed = {"arm": "group"}

    def __init__(
        self,
        *,
        group: str,
        cost: str,
        effect: str,
        reference=None,
        wtp: Sequence[float] = (20000.0, 30000.0),
        inference: Bootstrap | None = None,
        conf_level: float = 0.95,
        discount_rate: float | tuple[float, float] = 0.035,
        year: str | None = None,
        id: str | None = None,
        covariates: Sequence[str] | None = None,
        adjustment: Literal["ols", "glm"] = "ols",
        ci_method: Literal["percentile", "normal"] = "percentile",
        allow_negative_costs: bool = False,
        reps: int | None = None,
        seed: int | None = None,
    ):
        for name, value in (("group", group), ("cost", cost), ("effect", effect)):
            if not isinstance(value, str):
                raise SpecificationError(f"{name} must be a column name; got {value!r}")
        self.group, self.cost, self.effect = group, cost, effect
        if reference is None:
            raise SpecificationError("reference= is required: name the comparator group "
                                     "(e.g. reference='usual services')")
        self.reference = reference
        wtp_list = [wtp] if np.isscalar(wtp) else list(wtp)
        if not wtp_list:
            raise SpecificationError("wtp must list at least one willingness-to-pay threshold")
        self.wtp = tuple(check_range("wtp", w, 0, np.inf, inclusive=(True, False))
                         for w in wtp_list)
        self.inference = bootstrap_spec("CostEffectiveness", inference, reps=reps, seed=seed,
                                        default_reps=5000, what=WHAT_IS_DRAWN, cluster=True)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.discount_rate, self._rates = _discount_rates(discount_rate)
        self.year, self.id = year, id
        if covariates is not None and isinstance(covariates, str):
            covariates = [covariates]
        self.covariates = tuple(covariates) if covariates else None
        self.adjustment = check_choice("adjustment", adjustment, ADJUSTMENTS)
        self.ci_method = check_choice("ci_method", ci_method, CI_METHODS)
        self.allow_negative_costs = bool(allow_negative_costs)

    arm = renamed("arm", "group")

    def fit(self, data) -> CostEffectivenessResult:
        sample, warns = read_sample(self, data)
        return bootstrapped(self, sample, self.inference, warns)


def _discount_rates(discount_rate):
    """(the value as given, (cost rate, effect rate)), each rate in (-1, 1]."""
    if isinstance(discount_rate, tuple | list):
        if len(discount_rate) != 2:
            raise SpecificationError("discount_rate must be a number or a pair "
                                     f"(cost rate, effect rate); got {discount_rate!r}")
        rates = tuple(check_range("discount_rate", r, -1, 1, inclusive=(False, True))
                      for r in discount_rate)
        return tuple(discount_rate), rates
    r = check_range("discount_rate", discount_rate, -1, 1, inclusive=(False, True))
    return discount_rate, (r, r)


__all__ = ["CostEffectiveness", "CostEffectivenessResult", "classify", "icer",
           "net_monetary_benefit", "discount_factors"]
