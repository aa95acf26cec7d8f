"""Person-level cost-effectiveness: incremental costs and effects, ICER, net benefit, CEAC, EVPI.

Uncertainty comes from a non-parametric bootstrap of cost and effect *jointly* (people are
resampled with both their cost and their effect, within arm, so the arm sizes stay as in the
trial). The bootstrap is vectorised: the resampled rows of all draws are one array, and arm means
(or regression coefficients) are computed by matrix operations.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from .._checks import (
    as_dataframe,
    check_choice,
    check_columns,
    check_not_empty,
    check_range,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import ConvergenceWarning, DataError, SpecificationError, StatisticalWarning
from . import _bootstrap as bs

ADJUSTMENTS = ("ols", "glm")
CI_METHODS = ("percentile", "normal")
FIRST_COLUMNS = ("comparison", "arm", "reference")


# --------------------------------------------------------------------------------------------
# closed-form helpers (public: they are the definitions the result uses)
# --------------------------------------------------------------------------------------------
def classify(incremental_cost: float, incremental_effect: float) -> str:
    """Where an arm lies on the cost-effectiveness plane relative to its comparator.

    Returns one of:

    - ``"dominant"``: no more costly and no less effective, and better on at least one
      (south-east quadrant, including the axes);
    - ``"dominated"``: no less costly and no more effective, and worse on at least one
      (north-west quadrant, including the axes);
    - ``"ICER"``: more costly and more effective (north-east): the ICER is the extra cost per
      extra unit of effect, cost-effective when ICER <= willingness to pay;
    - ``"ICER_SW"``: less costly and less effective (south-west): the ratio is the saving per unit
      of effect given up, cost-effective when ratio >= willingness to pay;
    - ``"equivalent"``: identical costs and effects.
    """
    dc, de = _rounded_off(incremental_cost), _rounded_off(incremental_effect)
    if not (np.isfinite(dc) and np.isfinite(de)):
        return "undefined"
    if dc == 0 and de == 0:
        return "equivalent"
    if de >= 0 and dc <= 0:
        return "dominant"
    if de <= 0 and dc >= 0:
        return "dominated"
    return "ICER" if de > 0 else "ICER_SW"


def icer(incremental_cost: float, incremental_effect: float) -> float:
    """ICER = incremental cost / incremental effect, or NaN where a ratio would mislead.

    Only the north-east (``"ICER"``) and south-west (``"ICER_SW"``) quadrants give a ratio (always
    positive). Dominant, dominated and equivalent arms get NaN: a negative ratio mixes a gain with
    a loss and must never be read as a price of health.
    """
    kind = classify(incremental_cost, incremental_effect)
    if kind in ("ICER", "ICER_SW"):
        return float(incremental_cost) / float(incremental_effect)
    return float("nan")


def _rounded_off(difference: float) -> float:
    """A difference smaller than the smallest normal double is round-off: treat it as zero.

    Differences of means can come out as subnormal numbers (e.g. -5e-324) where the arms are
    equal; read literally they would make an arm "cheaper" and its ICER underflow to 0.
    """
    value = float(difference)
    return 0.0 if abs(value) < np.finfo(float).tiny else value


def net_monetary_benefit(incremental_cost, incremental_effect, wtp):
    """Incremental net monetary benefit, wtp * dE - dC (positive = cost-effective at wtp)."""
    effect = np.asarray(incremental_effect, dtype=float)
    cost = np.asarray(incremental_cost, dtype=float)
    tiny = np.finfo(float).tiny  # subnormal differences are round-off, as in classify()
    effect = np.where(np.abs(effect) < tiny, 0.0, effect)
    cost = np.where(np.abs(cost) < tiny, 0.0, cost)
    return np.asarray(wtp, dtype=float) * effect - cost


def discount_factors(year: np.ndarray, rate: float) -> np.ndarray:
    """Factor (1 + rate) ** -(year - 1): year 1 is not discounted, year 2 by one period, ..."""
    year = np.asarray(year, dtype=float)
    return (1.0 + rate) ** -(year - 1.0)


# --------------------------------------------------------------------------------------------
class CostEffectivenessResult(Result):
    """A fitted cost-effectiveness comparison of arms against a reference arm.

    ``tidy()`` has, per comparison (arm vs reference): ``incremental_cost``,
    ``incremental_effect``, ``icer`` (NaN unless the quadrant gives a meaningful ratio; see
    ``dominance``) and one ``net_benefit`` row per willingness-to-pay threshold (``wtp``), with
    ``prob_cost_effective`` (share of bootstrap draws with positive net benefit) and ``evpi``
    (expected value of perfect information per person, over all arms). Every row carries
    ``icer``, ``dominance``, ``n_arm`` and ``n_reference``. ``std_error`` is the bootstrap standard
    deviation; ``conf_low``/``conf_high`` are bootstrap percentile limits (or normal limits with
    the bootstrap SE when the plan says ``ci_method="normal"``); ``p_value`` is the two-sided
    bootstrap p-value 2 * min(P(d* <= 0), P(d* >= 0)).
    """

    count_columns = ("n_arm", "n_reference")

    def __init__(self, *, estimator, table, n_obs, arms, sizes, point_cost, point_effect,
                 draws_cost, draws_effect, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.arms = tuple(arms)
        self.reference = arms[0]
        self.arm_sizes = tuple(int(s) for s in sizes)
        self.reps = int(draws_cost.shape[0])
        self.seed = estimator.seed
        self.wtp = tuple(estimator.wtp)
        self.conf_level = estimator.conf_level
        self._point_cost = np.asarray(point_cost, dtype=float)
        self._point_effect = np.asarray(point_effect, dtype=float)
        self._draws_cost = np.asarray(draws_cost, dtype=float)
        self._draws_effect = np.asarray(draws_effect, dtype=float)
        self._draws_cost.setflags(write=False)
        self._draws_effect.setflags(write=False)
        self._freeze()

    # -- accessors ---------------------------------------------------------------------------
    def arm_means(self) -> pd.DataFrame:
        """Mean (or adjusted mean) cost and effect per arm, with bootstrap SEs."""
        return pd.DataFrame({
            "arm": list(self.arms),
            "n": list(self.arm_sizes),
            "mean_cost": self._point_cost,
            "std_error_cost": self._draws_cost.std(axis=0, ddof=1),
            "mean_effect": self._point_effect,
            "std_error_effect": self._draws_effect.std(axis=0, ddof=1),
        })

    def draws(self) -> pd.DataFrame:
        """The bootstrap draws of incremental cost and effect (one row per draw and comparison)."""
        parts = []
        for a in range(1, len(self.arms)):
            parts.append(pd.DataFrame({
                "comparison": _label(self.arms[a], self.reference),
                "draw": np.arange(self.reps),
                "incremental_cost": self._draws_cost[:, a] - self._draws_cost[:, 0],
                "incremental_effect": self._draws_effect[:, a] - self._draws_effect[:, 0],
            }))
        return pd.concat(parts, ignore_index=True)

    def incremental(self) -> pd.DataFrame:
        """Point incremental cost and effect, ICER and dominance per comparison."""
        t = self._table
        rows = []
        for comp, g in t.groupby("comparison", sort=False):
            est = dict(zip(g["term"], g["estimate"], strict=False))
            rows.append({"comparison": comp, "arm": g["arm"].iloc[0],
                         "reference": g["reference"].iloc[0],
                         "incremental_cost": est["incremental_cost"],
                         "incremental_effect": est["incremental_effect"],
                         "icer": g["icer"].iloc[0], "dominance": g["dominance"].iloc[0]})
        return pd.DataFrame(rows)

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

        For each threshold (willingness to pay per unit of effect) and arm: the share of bootstrap
        draws in which that arm has the highest net monetary benefit, ``wtp * E - C``. With two
        arms this is P(incremental net benefit > 0). Also per comparison (arm vs reference):
        ``prob_cost_effective_vs_reference``. Probabilities over arms sum to 1 at each threshold
        (ties go to the first arm in order, reference first).

        Properties: at threshold 0 the probability for an arm vs the reference is P(dC < 0); as the
        threshold grows it tends to P(dE > 0); when every draw has dE > 0 the curve is
        non-decreasing.
        """
        lam = self._thresholds(thresholds)
        nb = lam[:, None, None] * self._draws_effect[None] - self._draws_cost[None]  # L x B x k
        best = nb.argmax(axis=2)  # L x B
        k = len(self.arms)
        prob = (best[:, :, None] == np.arange(k)).mean(axis=1)  # L x k
        inc = nb[:, :, 1:] - nb[:, :, :1]
        vs_ref = np.concatenate([np.full((lam.size, 1), np.nan), (inc > 0).mean(axis=1)], axis=1)
        return pd.DataFrame({
            "wtp": np.repeat(lam, k),
            "arm": np.tile(np.array(self.arms, dtype=object), lam.size),
            "prob_optimal": prob.ravel(),
            "prob_cost_effective_vs_reference": vs_ref.ravel(),
        })

    def evpi(self, thresholds: Sequence[float] | None = None, *,
             population: float | None = None) -> pd.DataFrame:
        """Expected value of perfect information per person at each threshold.

        EVPI = E[max_j NB_j] - max_j E[NB_j] over the bootstrap distribution of arm means, with
        NB_j = wtp * E_j - C_j, in cost units per person. ``population`` (the number of people
        the decision affects over its lifetime, discounted) adds ``evpi_population``, an upper
        bound on the value of further research.
        """
        lam = self._thresholds(thresholds)
        nb = lam[:, None, None] * self._draws_effect[None] - self._draws_cost[None]
        value = np.maximum(nb.max(axis=2).mean(axis=1) - nb.mean(axis=1).max(axis=1), 0.0)
        out = pd.DataFrame({"wtp": lam, "evpi": value})
        if population is not None:
            out["evpi_population"] = value * check_range("population", population, 0, np.inf)
        return out

    # -- the common interface ----------------------------------------------------------------
    def glance(self) -> pd.DataFrame:
        est = self.estimator
        return pd.DataFrame([{
            "n_obs": self.n_obs,
            "n_arms": len(self.arms),
            "reference": self.reference,
            "reps": self.reps,
            "seed": self.seed,
            "conf_level": self.conf_level,
            "ci_method": est.ci_method,
            "adjustment": est.adjustment if est.covariates else "none",
            "discounting": _discount_text(est),
            "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        est = self.estimator
        inc = self.incremental()
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
            adj = "unadjusted difference in arm means"
        header = (
            ("cost", est.cost), ("effect", est.effect), ("arms", f"{est.arm} (reference "
                                                                 f"{self.reference!r})"),
            ("incremental estimates", adj),
            ("uncertainty", f"non-parametric bootstrap of cost and effect jointly, within arm; "
                            f"{self.reps} draws, seed {self.seed}; {self.conf_level:.0%} "
                            f"{est.ci_method} intervals"),
            ("discounting", _discount_text(est)),
        )
        notes = ("ICER is reported only where it is a meaningful ratio (north-east quadrant: cost "
                 "per unit gained; south-west 'ICER_SW': saving per unit forgone); dominant and "
                 "dominated arms get no ratio. Its interval is a bootstrap percentile interval, "
                 "given only when every draw lies in the same quadrant. Decide with net benefit "
                 "and the CEAC.",)
        return Summary(title="Cost-effectiveness", header=header,
                       tables=(("Arms", self.arm_means()), ("Incremental", inc),
                               ("Net monetary benefit", nb)),
                       notes=notes + self.warnings)

    def plot(self, ax=None, *, kind: Literal["plane", "ceac"] = "plane", **style):
        """The cost-effectiveness plane (``kind="plane"``) or the CEAC (``kind="ceac"``)."""
        from ..plotting.economics import plot_ce_plane, plot_ceac

        check_choice("kind", kind, ("plane", "ceac"))
        if kind == "plane":
            return plot_ce_plane(self, ax=ax, **style)
        return plot_ceac(self, ax=ax, **style)

    def report_section(self):
        import matplotlib.pyplot as plt

        from ..base import ReportSection

        summ = self.summary()
        ax1 = self.plot(kind="plane")
        ax2 = self.plot(kind="ceac")
        section = ReportSection(
            title=summ.title,
            paragraphs=tuple(f"{k}: {v}" for k, v in summ.header),
            tables=tuple((h, t, ("n",) if h == "Arms" else ()) for h, t in summ.tables),
            figures=(("Cost-effectiveness plane", ax1.get_figure()),
                     ("Cost-effectiveness acceptability curve", ax2.get_figure())),
            notes=summ.notes,
        )
        plt.close(ax1.get_figure())
        plt.close(ax2.get_figure())
        return section


def _row(df, mask) -> str:
    """The first offending row label, printed plainly."""
    v = df.index[np.asarray(mask)][0]
    return repr(v.item() if isinstance(v, np.generic) else v)


def _label(arm, reference) -> str:
    return f"{arm} vs {reference}"


def _discount_text(est) -> str:
    if est.year is None:
        return "none (no year column: costs and effects taken as given)"
    rc, re_ = est._rates
    return (f"costs {rc:.1%} and effects {re_:.1%} a year beyond year one "
            f"(factor (1+r)^-(year-1), year column {est.year!r})")


class CostEffectiveness(Estimator):
    """Cost-effectiveness of trial arms (or matched groups) against a reference arm.

    Parameters
    ----------
    arm : str
        Column naming each person's arm.
    cost : str
        Column of costs per person (or per person-year row when ``year`` is given).
    effect : str
        Column of the effect measure (QALYs, days worked, job obtained 0/1, ...).
    reference : optional
        Value of ``arm`` that is the comparator (usual services). Required.
    wtp : sequence of float
        Willingness-to-pay thresholds per unit of effect at which net benefit is reported.
    reps : int
        Bootstrap draws (default 5000).
    seed : int, optional
        Seed of the bootstrap (numpy Generator); the same seed gives the same draws.
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
        With covariates: "ols" fits cost and effect each by least squares on arm dummies and the
        covariates - the seemingly-unrelated-regressions estimator, which equals equation-by-
        equation OLS when both equations share the regressors; "glm" fits costs by a gamma GLM
        with log link and effects by a Gaussian GLM with identity link. Incremental values are
        recycled predictions (every person set to each arm). Both are bootstrapped jointly.
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
    >>> res = ci.CostEffectiveness(arm="arm", cost="cost_eur", effect="qaly_gain",
    ...     reference="usual services", wtp=[35000], reps=2000, seed=1).fit(load_danish_trial())
    >>> res.incremental()["dominance"].iloc[0]
    'dominant'

    See Also
    --------
    ParametricSurvival, ReturnOnInvestment
    """

    _param_names = ("arm", "cost", "effect", "reference", "wtp", "reps", "seed", "conf_level",
                    "discount_rate", "year", "id", "covariates", "adjustment", "ci_method",
                    "allow_negative_costs")

    def __init__(
        self,
        *,
        arm: str,
        cost: str,
        effect: str,
        reference=None,
        wtp: Sequence[float] = (20000.0, 30000.0),
        reps: int = 5000,
        seed: int | None = None,
        conf_level: float = 0.95,
        discount_rate: float | tuple[float, float] = 0.035,
        year: str | None = None,
        id: str | None = None,
        covariates: Sequence[str] | None = None,
        adjustment: Literal["ols", "glm"] = "ols",
        ci_method: Literal["percentile", "normal"] = "percentile",
        allow_negative_costs: bool = False,
    ):
        for name, value in (("arm", arm), ("cost", cost), ("effect", effect)):
            if not isinstance(value, str):
                raise SpecificationError(f"{name} must be a column name; got {value!r}")
        self.arm, self.cost, self.effect = arm, cost, effect
        if reference is None:
            raise SpecificationError(
                "reference= is required: name the comparator arm (e.g. reference='usual services')")
        self.reference = reference
        wtp_list = [wtp] if np.isscalar(wtp) else list(wtp)
        if not wtp_list:
            raise SpecificationError("wtp must list at least one willingness-to-pay threshold")
        self.wtp = tuple(check_range("wtp", w, 0, np.inf, inclusive=(True, False))
                         for w in wtp_list)
        if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 2:
            raise SpecificationError(f"reps must be an integer >= 2; got {reps!r}")
        self.reps = int(reps)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise SpecificationError(f"seed must be an integer or None; got {seed!r}")
        self.seed = seed
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        if isinstance(discount_rate, tuple | list):
            if len(discount_rate) != 2:
                raise SpecificationError("discount_rate must be a number or a pair "
                                         f"(cost rate, effect rate); got {discount_rate!r}")
            rates = tuple(check_range("discount_rate", r, -1, 1, inclusive=(False, True))
                          for r in discount_rate)
            self.discount_rate = tuple(discount_rate)
        else:
            r = check_range("discount_rate", discount_rate, -1, 1, inclusive=(False, True))
            rates = (r, r)
            self.discount_rate = discount_rate
        self._rates = rates
        self.year, self.id = year, id
        if covariates is not None and isinstance(covariates, str):
            covariates = [covariates]
        self.covariates = tuple(covariates) if covariates else None
        self.adjustment = check_choice("adjustment", adjustment, ADJUSTMENTS)
        self.ci_method = check_choice("ci_method", ci_method, CI_METHODS)
        self.allow_negative_costs = bool(allow_negative_costs)

    # ----------------------------------------------------------------------------------------
    def fit(self, data) -> CostEffectivenessResult:
        df = as_dataframe(data)
        roles = {"arm": self.arm, "cost": self.cost, "effect": self.effect, "year": self.year,
                 "id": self.id}
        for i, c in enumerate(self.covariates or ()):
            roles[f"covariates[{i}]"] = c
        check_columns(df, roles)
        check_not_empty(df)
        cost = numeric_column(df, self.cost, role="cost")
        effect = numeric_column(df, self.effect, role="effect")
        if not self.allow_negative_costs and np.any(cost < 0):
            neg = cost < 0
            raise DataError(
                f"column {self.cost!r} (the cost) has {int(neg.sum())} negative values (e.g. row "
                f"{_row(df, neg)}: {float(cost[neg][0])!r}); costs cannot be negative. If these are "
                "net costs after savings, pass allow_negative_costs=True.")
        arm_s = df[self.arm]
        if arm_s.isna().any():
            miss = arm_s.isna().to_numpy()
            raise DataError(f"column {self.arm!r} (the arm) has {int(miss.sum())} missing values "
                            f"(e.g. row {_row(df, miss)}); drop them or give them an arm.")
        labels = pd.unique(arm_s)
        if self.reference not in set(labels.tolist()):
            shown = ", ".join(repr(v) for v in labels[:8])
            raise DataError(f"reference={self.reference!r} is not an arm in column {self.arm!r} "
                            f"(arms seen: {shown}); pass one of them.")
        if len(labels) < 2:
            raise DataError(f"column {self.arm!r} has a single arm ({labels[0]!r}); a "
                            "cost-effectiveness comparison needs the reference and at least one "
                            "other arm.")
        cov = None
        if self.covariates:
            cov = np.column_stack([numeric_column(df, c, role="covariate")
                                   for c in self.covariates])
        person = None
        if self.year is not None:
            year = numeric_column(df, self.year, role="year")
            if np.any(year < 1) or np.any(year != np.round(year)):
                bad = (year < 1) | (year != np.round(year))
                raise DataError(f"column {self.year!r} (the year) must hold whole years 1, 2, ... "
                                f"({int(bad.sum())} rows do not, e.g. row "
                                f"{_row(df, bad)}: {float(year[bad][0])!r}); year 1 is undiscounted.")
            rc, re_ = self._rates
            cost = cost * discount_factors(year, rc)
            effect = effect * discount_factors(year, re_)
        arm_values = arm_s.to_numpy()
        if self.id is not None:
            person = df[self.id].to_numpy()
            frame = pd.DataFrame({"id": person, "arm": arm_values, "cost": cost,
                                  "effect": effect})
            n_arms = frame.groupby("id", sort=False)["arm"].nunique()
            if (n_arms > 1).any():
                bad_id = n_arms.index[n_arms > 1][0]
                raise DataError(f"person {bad_id!r} (column {self.id!r}) appears in more than one "
                                f"arm; each person must stay in one arm of {self.arm!r}.")
            agg = frame.groupby("id", sort=False).agg(arm=("arm", "first"), cost=("cost", "sum"),
                                                       effect=("effect", "sum"))
            if cov is not None:
                cov = pd.DataFrame(cov).groupby(person, sort=False).first().loc[agg.index]
                cov = cov.to_numpy(dtype=float)
            arm_values = agg["arm"].to_numpy()
            cost, effect = agg["cost"].to_numpy(float), agg["effect"].to_numpy(float)

        others = sorted((v for v in labels.tolist() if v != self.reference), key=str)
        arms = [self.reference] + others
        code_of = {a: i for i, a in enumerate(arms)}
        codes = np.array([code_of[v] for v in arm_values], dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        codes, cost, effect = codes[order], cost[order], effect[order]
        if cov is not None:
            cov = cov[order]
        k = len(arms)
        sizes = np.bincount(codes, minlength=k)
        small = [f"{arms[a]!r} ({sizes[a]})" for a in range(k) if sizes[a] < 2]
        if small:
            raise DataError(f"arms need at least 2 people each to bootstrap; too few in "
                            f"{', '.join(small)}")
        warns: list[str] = []
        for a in range(k):
            if sizes[a] < 30:
                warns.append(f"arm {arms[a]!r} has only {sizes[a]} people; bootstrap intervals "
                             "may be too narrow")
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        x = bs.design(codes, k, cov) if cov is not None else None
        if x is not None and np.linalg.matrix_rank(x) < x.shape[1]:
            raise DataError("the covariates are collinear with each other or with the arms; "
                            f"drop one of {list(self.covariates)}")
        if x is not None and self.adjustment == "glm" and np.mean(cost) <= 0:
            raise DataError("a gamma log-link cost model needs positive mean costs")

        point_c, point_e, conv = self._arm_means(np.ones((1, cost.size)), cost, effect, codes,
                                                 sizes, x, k)
        n = cost.size
        rng = np.random.default_rng(self.seed)
        block = max(1, min(self.reps, bs.MAX_CELLS // max(n, 1)))
        draws_c = np.empty((self.reps, k))
        draws_e = np.empty((self.reps, k))
        converged = conv
        for b0 in range(0, self.reps, block):  # loop over blocks of draws, not over draws
            b1 = min(self.reps, b0 + block)
            u = rng.random((b1 - b0, n))
            pos = bs.resample_positions(u, starts, sizes)
            w = bs.counts_from_positions(pos, n)
            dc, de, ok = self._arm_means(w, cost, effect, codes, sizes, x, k, pos=pos)
            draws_c[b0:b1], draws_e[b0:b1] = dc, de
            converged = converged and ok
        if not converged:
            warns.append("the gamma GLM for costs did not converge in some bootstrap draws")
            _warnings.warn(warns[-1], ConvergenceWarning, stacklevel=2)
        for m in warns:
            if "people" in m:
                _warnings.warn(m, StatisticalWarning, stacklevel=2)
        table = self._table(arms, sizes, point_c[0], point_e[0], draws_c, draws_e)
        return CostEffectivenessResult(
            estimator=self, table=table, n_obs=n, arms=arms, sizes=sizes,
            point_cost=point_c[0], point_effect=point_e[0], draws_cost=draws_c,
            draws_effect=draws_e, warnings=warns)

    def _arm_means(self, w, cost, effect, codes, sizes, x, k, pos=None):
        """Arm means (or adjusted means) of cost and effect for each row of weights."""
        if x is None:
            if pos is not None:  # direct: mean of the resampled values within each arm
                starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
                mc = np.column_stack([cost[pos[:, s:s + m]].mean(axis=1)
                                      for s, m in zip(starts, sizes, strict=True)])
                me = np.column_stack([effect[pos[:, s:s + m]].mean(axis=1)
                                      for s, m in zip(starts, sizes, strict=True)])
                return mc, me, True
            onehot = (codes[:, None] == np.arange(k)).astype(float)
            mc = (w @ (cost[:, None] * onehot)) / (w @ onehot)
            me = (w @ (effect[:, None] * onehot)) / (w @ onehot)
            return mc, me, True
        beta_e = bs.wls(x, effect, w)
        me = bs.adjusted_means(x, beta_e, w, k, "identity")
        if self.adjustment == "ols":
            beta_c = bs.wls(x, cost, w)
            mc = bs.adjusted_means(x, beta_c, w, k, "identity")
            return mc, me, True
        beta_c, ok = bs.gamma_log_irls(x, cost, w)
        mc = bs.adjusted_means(x, beta_c, w, k, "log")
        return mc, me, ok

    def _table(self, arms, sizes, pc, pe, dc, de) -> pd.DataFrame:
        alpha = 1.0 - self.conf_level
        rows = []
        lam = np.array(self.wtp)
        nb_all = lam[:, None, None] * de[None] - dc[None]
        evpi = nb_all.max(axis=2).mean(axis=1) - nb_all.mean(axis=1).max(axis=1)
        for a in range(1, len(arms)):
            comp = _label(arms[a], arms[0])
            d_cost, d_eff = pc[a] - pc[0], pe[a] - pe[0]
            kind = classify(d_cost, d_eff)
            ratio = icer(d_cost, d_eff)
            b_cost, b_eff = dc[:, a] - dc[:, 0], de[:, a] - de[:, 0]
            common = {"comparison": comp, "arm": arms[a], "reference": arms[0],
                      "icer": ratio, "dominance": kind, "n_arm": int(sizes[a]),
                      "n_reference": int(sizes[0])}
            rows.append({**common, "term": "incremental_cost", "wtp": np.nan,
                         **self._interval(d_cost, b_cost, alpha)})
            rows.append({**common, "term": "incremental_effect", "wtp": np.nan,
                         **self._interval(d_eff, b_eff, alpha)})
            rows.append({**common, "term": "icer", "wtp": np.nan, "estimate": ratio,
                         **self._icer_interval(kind, b_cost, b_eff, alpha)})
            for i, w in enumerate(lam):
                draws = w * b_eff - b_cost
                rows.append({**common, "term": "net_benefit", "wtp": float(w),
                             **self._interval(w * d_eff - d_cost, draws, alpha),
                             "prob_cost_effective": float(np.mean(draws > 0)),
                             "evpi": float(max(evpi[i], 0.0))})
        return tidy_frame(rows, extra_first=FIRST_COLUMNS)

    @staticmethod
    def _icer_interval(kind, b_cost, b_eff, alpha) -> dict:
        """Percentile CI of the ICER, only when every draw lies in the estimate's quadrant.

        Within one quadrant (north-east or south-west) the ratio is a monotone summary and its
        percentiles are meaningful; once draws cross an axis they are not (use the CEAC).
        """
        if kind == "ICER":
            same = np.all((b_eff > 0) & (b_cost > 0))
        elif kind == "ICER_SW":
            same = np.all((b_eff < 0) & (b_cost < 0))
        else:
            same = False
        if not same:
            return {}
        ratios = b_cost / b_eff
        lo, hi = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
        return {"std_error": float(np.std(ratios, ddof=1)), "conf_low": float(lo),
                "conf_high": float(hi)}

    def _interval(self, estimate, draws, alpha) -> dict:
        se = float(np.std(draws, ddof=1))
        if self.ci_method == "percentile":
            lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
        else:
            from scipy import stats

            z = stats.norm.ppf(1 - alpha / 2)
            lo, hi = estimate - z * se, estimate + z * se
        p = min(1.0, 2.0 * min(np.mean(draws <= 0), np.mean(draws >= 0)))
        stat = estimate / se if se > 0 else np.nan
        return {"estimate": float(estimate), "std_error": se, "statistic": stat,
                "p_value": float(p), "conf_low": float(lo), "conf_high": float(hi)}


__all__ = ["CostEffectiveness", "CostEffectivenessResult", "classify", "icer",
           "net_monetary_benefit", "discount_factors"]
