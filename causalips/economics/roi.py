"""Programme-level return on investment of an IPS service, with uncertainty and sensitivity.

Costs come from staffing (FTE employment specialists x cost per FTE, plus any other costs);
benefits are monetised gains, each a count (people, job outcomes, sustained jobs, FTE or sites)
times an amount per unit times a money value per unit of the amount - e.g. people x workdays
gained per person (from a DiD result) x value of a workday, or job outcomes x benefit savings per
job. Uncertain inputs are given as distributions (or a result / (estimate, std_error) pair, read
as a normal distribution); a seeded Monte Carlo carries them through (probabilistic sensitivity
analysis), and a one-way analysis moves one input at a time (tornado).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import (
    as_dataframe,
    check_choice,
    check_columns,
    check_not_empty,
    check_range,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DataError, SpecificationError

PER = ("person", "job_outcome", "sustained_job", "fte", "site")
OUTPUTS = ("total_cost", "total_benefit", "net_benefit", "benefit_cost_ratio", "roi",
           "cost_per_person", "cost_per_job_outcome", "cost_per_sustained_job")


# --------------------------------------------------------------------------------------------
# input distributions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Normal:
    """Normal input: ``mean`` and ``sd`` (e.g. an effect estimate and its standard error)."""

    mean: float
    sd: float

    def __post_init__(self):
        check_range("sd", self.sd, 0, np.inf, inclusive=(True, False))

    def sample(self, rng, size):
        return rng.normal(self.mean, self.sd, size)

    def ppf(self, q):
        return stats.norm.ppf(q, self.mean, self.sd) if self.sd > 0 else self.mean

    @classmethod
    def from_result(cls, result, term: str | None = None, **match) -> Normal:
        """Normal(estimate, std_error) from one row of a fitted result's ``tidy()``.

        ``term`` picks the row by term; further keywords match other tidy columns, e.g.
        ``Normal.from_result(ps, term="restricted_mean_difference", distribution="weibull")``.
        """
        t = result.tidy()
        if term is not None:
            t = t[t["term"] == term]
            if t.empty:
                raise SpecificationError(
                    f"term {term!r} not in the result; terms: {sorted(set(result.tidy()['term']))}")
        for col, value in match.items():
            if col not in t.columns:
                raise SpecificationError(f"the result's tidy() has no column {col!r}")
            t = t[t[col] == value]
        if len(t) != 1:
            raise SpecificationError(
                f"{len(t)} rows of the result match; say which estimate to use with "
                f"Normal.from_result(result, term=..., <column>=...) "
                f"(terms: {sorted(set(t['term']))})")
        est, se = float(t["estimate"].iloc[0]), float(t["std_error"].iloc[0])
        if not np.isfinite(est) or not np.isfinite(se):
            raise SpecificationError(f"the result's estimate/std_error are not finite ({est}, {se})")
        return cls(est, se)


@dataclass(frozen=True)
class Gamma:
    """Gamma input (positive, right-skewed: costs), by its ``mean`` and ``sd``."""

    mean: float
    sd: float

    def __post_init__(self):
        check_range("mean", self.mean, 0, np.inf)
        check_range("sd", self.sd, 0, np.inf)

    @property
    def _shape_scale(self):
        shape = (self.mean / self.sd) ** 2
        return shape, self.mean / shape

    def sample(self, rng, size):
        k, s = self._shape_scale
        return rng.gamma(k, s, size)

    def ppf(self, q):
        k, s = self._shape_scale
        return stats.gamma.ppf(q, k, scale=s)


@dataclass(frozen=True)
class LogNormal:
    """Log-normal input by its ``mean`` and ``sd`` on the natural scale."""

    mean: float
    sd: float

    def __post_init__(self):
        check_range("mean", self.mean, 0, np.inf)
        check_range("sd", self.sd, 0, np.inf)

    @property
    def _musigma(self):
        s2 = np.log1p((self.sd / self.mean) ** 2)
        return np.log(self.mean) - s2 / 2, np.sqrt(s2)

    def sample(self, rng, size):
        mu, sigma = self._musigma
        return rng.lognormal(mu, sigma, size)

    def ppf(self, q):
        mu, sigma = self._musigma
        return stats.lognorm.ppf(q, sigma, scale=np.exp(mu))


@dataclass(frozen=True)
class Beta:
    """Beta input (a proportion: job outcome rate, share sustained), by ``mean`` and ``sd``."""

    mean: float
    sd: float

    def __post_init__(self):
        check_range("mean", self.mean, 0, 1)
        if not 0 < self.sd**2 < self.mean * (1 - self.mean):
            raise SpecificationError(
                f"Beta sd must satisfy 0 < sd^2 < mean(1-mean); got mean={self.mean}, sd={self.sd}")

    @property
    def _ab(self):
        common = self.mean * (1 - self.mean) / self.sd**2 - 1
        return self.mean * common, (1 - self.mean) * common

    def sample(self, rng, size):
        a, b = self._ab
        return rng.beta(a, b, size)

    def ppf(self, q):
        a, b = self._ab
        return stats.beta.ppf(q, a, b)


@dataclass(frozen=True)
class Uniform:
    """Uniform input on [low, high]."""

    low: float
    high: float

    def __post_init__(self):
        if not self.low < self.high:
            raise SpecificationError(f"Uniform needs low < high; got {self.low}, {self.high}")

    @property
    def mean(self):
        return (self.low + self.high) / 2

    def sample(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    def ppf(self, q):
        return self.low + q * (self.high - self.low)


@dataclass(frozen=True)
class Triangular:
    """Triangular input (low, mode, high): a common choice for expert-stated ranges."""

    low: float
    mode: float
    high: float

    def __post_init__(self):
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise SpecificationError(
                f"Triangular needs low <= mode <= high and low < high; got "
                f"{self.low}, {self.mode}, {self.high}")

    @property
    def mean(self):
        return (self.low + self.mode + self.high) / 3

    def sample(self, rng, size):
        return rng.triangular(self.low, self.mode, self.high, size)

    def ppf(self, q):
        c = (self.mode - self.low) / (self.high - self.low)
        return stats.triang.ppf(q, c, loc=self.low, scale=self.high - self.low)


DISTRIBUTIONS = (Normal, Gamma, LogNormal, Beta, Uniform, Triangular)


@dataclass(frozen=True)
class Benefit:
    """A monetised gain: count(``per``) x ``amount`` x ``value``.

    Parameters
    ----------
    name : str
        Label (shown in tables and the tornado).
    amount : number, column name, (estimate, std_error), result or distribution
        Quantity gained per unit of ``per`` (e.g. workdays gained per person a year, 5.6 from the
        Norwegian DiD, or 1 for "one job outcome").
    value : number, column name, (estimate, std_error), or distribution
        Money per unit of ``amount`` (e.g. value of a workday; benefit savings per job).
    per : {"person", "job_outcome", "sustained_job", "fte", "site"}
        What the amount is counted per.
    """

    name: str
    amount: Any = 1.0
    value: Any = 1.0
    per: str = "person"

    def __post_init__(self):
        check_choice("per", self.per, PER)
        if not isinstance(self.name, str) or not self.name:
            raise SpecificationError("Benefit name must be a non-empty string")


def as_input(x, *, name: str):
    """Normalise an input: a column name (str), a number, or a distribution."""
    if isinstance(x, str):
        return x
    if isinstance(x, DISTRIBUTIONS):
        return x
    if isinstance(x, Result):
        return Normal.from_result(x)
    if isinstance(x, tuple | list) and len(x) == 2:
        est, se = (float(v) for v in x)
        if se < 0:
            raise SpecificationError(f"{name}: std_error must be >= 0; got {se}")
        return Normal(est, se)
    if isinstance(x, int | float | np.number) and not isinstance(x, bool):
        if not np.isfinite(x):
            raise SpecificationError(f"{name} must be finite; got {x!r}")
        return float(x)
    raise SpecificationError(
        f"{name} must be a number, a column name, an (estimate, std_error) pair, a fitted result "
        f"or a distribution (Normal, Gamma, LogNormal, Beta, Uniform, Triangular); got {x!r}")


def _point(x) -> float:
    return float(x.mean) if isinstance(x, DISTRIBUTIONS) else float(x)


# --------------------------------------------------------------------------------------------
class ReturnOnInvestmentResult(Result):
    """Return on investment per site and for the programme.

    ``tidy()`` has one row per site (and ``"programme"``, the total, when there are several
    sites) and output: ``total_cost``, ``total_benefit``, ``net_benefit``,
    ``benefit_cost_ratio``, ``roi`` ((benefit - cost) / cost), ``cost_per_person``,
    ``cost_per_job_outcome`` and ``cost_per_sustained_job``. ``estimate`` is the deterministic
    base case (inputs at their means); ``std_error`` and ``conf_low``/``conf_high`` are the
    Monte Carlo SD and percentile limits; ``prob_favourable`` is P(net benefit > 0), P(ratio > 1)
    or P(roi > 0) for those outputs. ``people``, ``job_outcomes``, ``sustained_jobs`` are counts.
    """

    count_columns = ("people", "job_outcomes", "sustained_jobs")

    def __init__(self, *, estimator, table, n_obs, tornado, inputs, draws, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self._tornado = tornado
        self._inputs = inputs
        self._draws = draws
        self.reps = int(estimator.reps)
        self.seed = estimator.seed
        self._freeze()

    def tornado(self, output: str = "net_benefit") -> pd.DataFrame:
        """One-way sensitivity of a programme output: each input at its low and high value.

        Low/high are the input distribution's (1 - conf_level)/2 and (1 + conf_level)/2
        quantiles, or the base value -/+ ``sensitivity_range`` (a share, default 20%) for inputs
        given as fixed numbers or data columns. Sorted by swing (widest first).
        """
        check_choice("output", output, OUTPUTS)
        t = self._tornado[self._tornado["output"] == output].copy()
        t["swing"] = (t["result_high"] - t["result_low"]).abs()
        return t.sort_values("swing", ascending=False).reset_index(drop=True)

    def inputs(self) -> pd.DataFrame:
        """The inputs used: name, kind (column, fixed, distribution), base value, low, high."""
        return self._inputs.copy()

    def draws(self, output: str = "net_benefit") -> np.ndarray:
        """Monte Carlo draws of a programme output (probabilistic sensitivity analysis)."""
        check_choice("output", output, OUTPUTS)
        return self._draws[output].copy()

    def glance(self) -> pd.DataFrame:
        prog = self._table[self._table["site"] == self._table["site"].iloc[-1]]
        est = dict(zip(prog["term"], prog["estimate"], strict=False))
        fav = dict(zip(prog["term"], prog["prob_favourable"], strict=False))
        return pd.DataFrame([{
            "n_obs": self.n_obs, "reps": self.reps, "seed": self.seed,
            "net_benefit": est["net_benefit"], "benefit_cost_ratio": est["benefit_cost_ratio"],
            "prob_net_benefit_positive": fav["net_benefit"],
            "conf_level": self.estimator.conf_level, "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        est = self.estimator
        t = self._table[["site", "term", "estimate", "std_error", "conf_low", "conf_high",
                         "prob_favourable"]]
        header = (
            ("costs", f"FTE ({est.fte}) x cost per FTE + other costs"),
            ("benefits", "; ".join(f"{b.name}: {b.per}s x amount x value" for b in est.benefits)
             or "(none)"),
            ("uncertainty", f"Monte Carlo over the input distributions: {self.reps} draws, seed "
                            f"{self.seed}; {est.conf_level:.0%} percentile intervals"),
            ("estimate", "deterministic base case (every input at its mean)"),
        )
        return Summary(title="Return on investment", header=header,
                       tables=(("Outputs", t), ("Inputs", self.inputs()),
                               ("One-way sensitivity (net benefit)",
                                self.tornado("net_benefit").drop(columns="output"))),
                       notes=self.warnings)

    def plot(self, ax=None, *, kind: Literal["tornado", "distribution"] = "tornado",
             output: str = "net_benefit", **style):
        """Tornado diagram (default) or histogram of the Monte Carlo draws of ``output``."""
        check_choice("kind", kind, ("tornado", "distribution"))
        check_choice("output", output, OUTPUTS)
        if kind == "tornado":
            from ..plotting.economics import plot_tornado

            return plot_tornado(self.tornado(output), ax=ax, output=output, **style)
        from ..plotting._common import PALETTE, get_ax

        ax = get_ax(ax)
        d = self._draws[output]
        ax.hist(d[np.isfinite(d)], bins=50, color=PALETTE[0], alpha=0.8)
        ref = 1.0 if output == "benefit_cost_ratio" else 0.0
        ax.axvline(ref, color="black", lw=1.0)
        ax.set_xlabel(output.replace("_", " "))
        ax.set_ylabel("Monte Carlo draws")
        ax.set_title(style.get("title", f"Probabilistic sensitivity: {output.replace('_', ' ')}"))
        return ax


class ReturnOnInvestment(Estimator):
    """Cost per outcome, benefit-cost ratio and net benefit of an IPS service.

    Fit on a table with one row (the programme) or one row per site holding the staffing and the
    counts of people and outcomes. Uncertain inputs are carried through by Monte Carlo.

    Parameters
    ----------
    fte : str or number
        Column (or number) of full-time-equivalent employment specialists.
    cost_per_fte : number, column, (estimate, std_error), or distribution
        Annual cost of one FTE including overheads (about £75,000 in the UK).
    people : str or number
        Column (or number) of people supported.
    job_outcomes : str or number
        Column (or number) of job outcomes.
    sustained_jobs : str or number, optional
        Column (or number) of sustained jobs (e.g. lasting 13 weeks or more).
    other_costs : number, column, (estimate, std_error), or distribution, optional
        Costs beyond staffing (per site row).
    benefits : sequence of Benefit
        The monetised gains.
    site : str, optional
        Column naming sites; results are given per site and for the programme.
    reps : int
        Monte Carlo draws (default 5000).
    seed : int, optional
        Seed of the Monte Carlo (numpy Generator).
    conf_level : float
        Level of the intervals and of the tornado's low/high quantiles (default 0.95).
    sensitivity_range : float
        Share by which fixed inputs and data counts move in the one-way analysis (default 0.2).

    Returns
    -------
    ReturnOnInvestmentResult
        From :meth:`fit`.

    Example
    -------
    >>> import pandas as pd
    >>> import causalips as ci
    >>> from causalips.economics.roi import Benefit, Gamma
    >>> roi = ci.ReturnOnInvestment(fte="fte", cost_per_fte=Gamma(75000, 7500),
    ...     people="people", job_outcomes="jobs",
    ...     benefits=[Benefit("savings per job", amount=1, value=Gamma(6200, 1500),
    ...                       per="job_outcome")], seed=1)
    >>> res = roi.fit(pd.DataFrame({"fte": [1.0], "people": [36], "jobs": [17]}))
    >>> round(float(res.glance()["benefit_cost_ratio"].iloc[0]), 2)
    1.41

    See Also
    --------
    CostEffectiveness, ParametricSurvival
    """

    _param_names = ("fte", "cost_per_fte", "people", "job_outcomes", "sustained_jobs",
                    "other_costs", "benefits", "site", "reps", "seed", "conf_level",
                    "sensitivity_range")

    def __init__(
        self,
        *,
        fte: str | float = "fte",
        cost_per_fte: Any = 75000.0,
        people: str | float = "people",
        job_outcomes: str | float = "job_outcomes",
        sustained_jobs: str | float | None = None,
        other_costs: Any = None,
        benefits: Sequence[Benefit] = (),
        site: str | None = None,
        reps: int = 5000,
        seed: int | None = None,
        conf_level: float = 0.95,
        sensitivity_range: float = 0.2,
    ):
        for name, v in (("fte", fte), ("people", people), ("job_outcomes", job_outcomes),
                        ("sustained_jobs", sustained_jobs)):
            if v is not None and not isinstance(v, str):
                v = as_input(v, name=name)
                if not isinstance(v, float) or v < 0:
                    raise SpecificationError(f"{name} must be a column name or a non-negative "
                                             f"number; got {v!r}")
        self.fte, self.people, self.job_outcomes = fte, people, job_outcomes
        self.sustained_jobs = sustained_jobs
        self.cost_per_fte = cost_per_fte
        self.other_costs = other_costs
        self._cost_per_fte = as_input(cost_per_fte, name="cost_per_fte")
        self._other_costs = None if other_costs is None else as_input(other_costs,
                                                                       name="other_costs")
        if isinstance(benefits, Benefit):
            benefits = [benefits]
        benefits = tuple(benefits)
        for b in benefits:
            if not isinstance(b, Benefit):
                raise SpecificationError(f"benefits must be Benefit(...) records; got {b!r}")
        names = [b.name for b in benefits]
        if len(set(names)) != len(names):
            raise SpecificationError(f"benefit names must be unique; got {names}")
        if sustained_jobs is None and any(b.per == "sustained_job" for b in benefits):
            raise SpecificationError("a benefit is counted per sustained_job but sustained_jobs= "
                                     "is not set; name the column of sustained jobs")
        self.benefits = benefits
        self._benefit_inputs = tuple(
            (as_input(b.amount, name=f"{b.name}.amount"), as_input(b.value, name=f"{b.name}.value"))
            for b in benefits)
        self.site = site
        if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 2:
            raise SpecificationError(f"reps must be an integer >= 2; got {reps!r}")
        self.reps = int(reps)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
            raise SpecificationError(f"seed must be an integer or None; got {seed!r}")
        self.seed = seed
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.sensitivity_range = check_range("sensitivity_range", sensitivity_range, 0, 1)

    # ----------------------------------------------------------------------------------------
    def _named_inputs(self):
        """(label, spec, is_count) for every input, in a stable order."""
        items = [("fte", self.fte, True), ("cost_per_fte", self._cost_per_fte, False),
                 ("people", self.people, True), ("job_outcomes", self.job_outcomes, True)]
        if self.sustained_jobs is not None:
            items.append(("sustained_jobs", self.sustained_jobs, True))
        if self._other_costs is not None:
            items.append(("other_costs", self._other_costs, False))
        for b, (amount, value) in zip(self.benefits, self._benefit_inputs, strict=True):
            items.append((f"{b.name}: amount", amount, False))
            items.append((f"{b.name}: value", value, False))
        return items

    def fit(self, data) -> ReturnOnInvestmentResult:
        df = as_dataframe(data)
        roles = {label: spec for label, spec, _ in self._named_inputs() if isinstance(spec, str)}
        roles["site"] = self.site
        check_columns(df, roles)
        check_not_empty(df)
        n = len(df)
        columns = {}
        for label, spec, _ in self._named_inputs():
            if isinstance(spec, str):
                v = numeric_column(df, spec, role=label)
                if label in ("fte", "people", "job_outcomes", "sustained_jobs") and np.any(v < 0):
                    bad = v < 0
                    raise DataError(f"column {spec!r} (the {label}) has {int(bad.sum())} negative "
                                    f"values (e.g. row {df.index[bad][0]}); counts and staffing "
                                    "cannot be negative.")
                columns[label] = v
        if self.site is not None:
            sites = df[self.site].astype(str).tolist()
            if len(set(sites)) != n:
                raise DataError(f"column {self.site!r} (the site) must name each row once; "
                                "aggregate to one row per site first.")
        else:
            sites = [f"row {i}" for i in range(n)] if n > 1 else ["programme"]
        jobs = self._count("job_outcomes", columns, n)
        people = self._count("people", columns, n)
        if np.any(jobs > people):
            raise DataError("job_outcomes exceed people supported in some rows; check the columns")
        warns = []
        if np.any(jobs == 0):
            warns.append("some rows have no job outcomes: cost per job outcome is infinite there")

        rng = np.random.default_rng(self.seed)
        inputs = self._named_inputs()
        sampled = {}
        for label, spec, _ in inputs:  # one draw vector per uncertain input (few inputs)
            if isinstance(spec, DISTRIBUTIONS):
                sampled[label] = spec.sample(rng, self.reps)[:, None]  # reps x 1 (shared by sites)
        base_vals = {label: (columns[label] if isinstance(spec, str) else _point(spec))
                     for label, spec, _ in inputs}
        mc_vals = {label: (sampled[label] if label in sampled else base_vals[label])
                   for label, _, _ in inputs}
        base = self._outputs(base_vals, n)
        mc = self._outputs(mc_vals, n)
        rows = []
        site_labels = sites + (["programme"] if n > 1 else [])
        counts = {"people": people, "job_outcomes": jobs,
                  "sustained_jobs": self._count("sustained_jobs", columns, n)
                  if self.sustained_jobs is not None else np.full(n, np.nan)}
        alpha = 1 - self.conf_level
        outputs = [o for o in OUTPUTS
                   if o != "cost_per_sustained_job" or self.sustained_jobs is not None]
        for out in outputs:
            b_arr = np.atleast_1d(base[out]).reshape(-1)
            m_arr = np.broadcast_to(mc[out], (self.reps, len(site_labels)))
            for j, s in enumerate(site_labels):
                d = m_arr[:, j]
                fin = d[np.isfinite(d)]
                if fin.size:
                    lo, hi = np.quantile(fin, [alpha / 2, 1 - alpha / 2])
                    sd = float(np.std(fin, ddof=1)) if fin.size > 1 else np.nan
                else:
                    lo = hi = sd = np.nan
                fav = np.nan
                if out in ("net_benefit", "roi"):
                    fav = float(np.mean(d > 0))
                elif out == "benefit_cost_ratio":
                    fav = float(np.mean(d > 1))
                cnt = {k: (float(np.nansum(v)) if j == n else float(v[j]))
                       for k, v in counts.items()}
                rows.append({"site": s, "term": out, "estimate": float(b_arr[j]),
                             "std_error": sd, "conf_low": lo, "conf_high": hi,
                             "prob_favourable": fav, **cnt})
        table = tidy_frame(rows, extra_first=("site",))
        for c in ReturnOnInvestmentResult.count_columns:
            if table[c].notna().all() and np.allclose(table[c], np.round(table[c])):
                table[c] = table[c].round().astype(np.int64)
        draws = {out: np.broadcast_to(mc[out], (self.reps, len(site_labels)))[:, -1].copy()
                 for out in OUTPUTS}
        tornado, in_table = self._one_way(inputs, base_vals, n, alpha)
        return ReturnOnInvestmentResult(estimator=self, table=table, n_obs=n, tornado=tornado,
                                        inputs=in_table, draws=draws, warnings=warns)

    def _count(self, label, columns, n):
        spec = getattr(self, label)
        return columns[label] if isinstance(spec, str) else np.full(n, float(spec))

    def _outputs(self, vals: dict, n: int) -> dict:
        """All outputs per site (last column = programme total when n > 1), vectorised."""
        def per_site(x):
            return np.broadcast_to(np.asarray(x, dtype=float), np.broadcast_shapes(
                np.shape(x), (n,)))

        fte = per_site(vals["fte"])
        people, jobs = per_site(vals["people"]), per_site(vals["job_outcomes"])
        sustained = per_site(vals["sustained_jobs"]) if "sustained_jobs" in vals else None
        cost = fte * vals["cost_per_fte"]
        if "other_costs" in vals:
            cost = cost + vals["other_costs"]
        cost = per_site(cost) if np.ndim(cost) < 2 else cost
        count_of = {"person": people, "job_outcome": jobs, "sustained_job": sustained,
                    "fte": fte, "site": np.ones(n)}
        benefit = 0.0
        for b in self.benefits:
            cnt = count_of[b.per]
            if cnt is None:
                raise SpecificationError(f"benefit {b.name!r} is per sustained_job but "
                                         "sustained_jobs= is not set")
            benefit = benefit + cnt * vals[f"{b.name}: amount"] * vals[f"{b.name}: value"]
        shape = np.broadcast_shapes(np.shape(cost), np.shape(benefit))
        cost = np.broadcast_to(np.asarray(cost, dtype=float), shape)
        benefit = np.broadcast_to(np.asarray(benefit, dtype=float), shape)

        def with_total(x):
            x = np.asarray(x, dtype=float)
            if n == 1:
                return x
            return np.concatenate([x, x.sum(axis=-1, keepdims=True)], axis=-1)

        cost_t, ben_t = with_total(cost), with_total(benefit)
        people_t, jobs_t = with_total(people), with_total(jobs)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = {
                "total_cost": cost_t,
                "total_benefit": ben_t,
                "net_benefit": ben_t - cost_t,
                "benefit_cost_ratio": ben_t / cost_t,
                "roi": (ben_t - cost_t) / cost_t,
                "cost_per_person": cost_t / people_t,
                "cost_per_job_outcome": cost_t / jobs_t,
                "cost_per_sustained_job": (cost_t / with_total(sustained)
                                           if sustained is not None else cost_t * np.nan),
            }
        return out

    def _one_way(self, inputs, base_vals, n, alpha):
        q_lo, q_hi = alpha / 2, 1 - alpha / 2
        base = self._outputs(base_vals, n)
        rows, in_rows = [], []
        for label, spec, _ in inputs:
            if isinstance(spec, DISTRIBUTIONS):
                lo, hi = float(spec.ppf(q_lo)), float(spec.ppf(q_hi))
                kind = type(spec).__name__
                lo_v, hi_v = lo, hi
                shown_base = _point(spec)
            else:
                f = self.sensitivity_range
                kind = "column" if isinstance(spec, str) else "fixed"
                cur = base_vals[label]
                lo_v, hi_v = np.asarray(cur) * (1 - f), np.asarray(cur) * (1 + f)
                lo, hi = float(np.sum(lo_v)), float(np.sum(hi_v))
                shown_base = float(np.sum(cur))
            in_rows.append({"input": label, "kind": kind, "base": shown_base, "low": lo,
                            "high": hi})
            if np.isclose(lo, hi):
                continue
            res = {}
            for side, v in (("low", lo_v), ("high", hi_v)):
                vals = dict(base_vals)
                vals[label] = v
                res[side] = self._outputs(vals, n)
            for out in OUTPUTS:
                rows.append({"input": label, "output": out, "low_value": lo, "high_value": hi,
                             "base": float(np.atleast_1d(base[out])[-1]),
                             "result_low": float(np.atleast_1d(res["low"][out])[-1]),
                             "result_high": float(np.atleast_1d(res["high"][out])[-1])})
        return pd.DataFrame(rows), pd.DataFrame(in_rows)


__all__ = ["ReturnOnInvestment", "ReturnOnInvestmentResult", "Benefit", "Normal", "Gamma",
           "LogNormal", "Beta", "Uniform", "Triangular"]
