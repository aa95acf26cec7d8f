"""Programme-level return on investment of an IPS service, with uncertainty and sensitivity.

Costs come from staffing (FTE employment specialists x cost per FTE, plus any other costs);
benefits are monetised gains, each a count (people, job outcomes, sustained jobs, FTE or sites)
times an amount per unit times a money value per unit of the amount - e.g. people x workdays
gained per person (from a DiD result) x value of a workday, or job outcomes x benefit savings per
job. Uncertain inputs are given as distributions (:mod:`.inputs`; or a result / (estimate,
std_error) pair, read as a normal distribution); a seeded Monte Carlo carries them through
(probabilistic sensitivity analysis, ``inference=Bootstrap(reps=, seed=)``), and a one-way
analysis moves one input at a time (tornado).
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._checks import (
    _example_rows,
    as_dataframe,
    check_choice,
    check_columns,
    check_not_empty,
    check_range,
    numeric_column,
)
from ..base import Estimator, Result, Summary, tidy_frame, warn_all
from ..errors import DataError, SpecificationError, StatisticalWarning
from ..inference import Bootstrap
from ._spec import DeprecatedDrawOptions, bootstrap_spec, redraw_spec
from .inputs import (
    Benefit,
    Beta,
    Distribution,
    Gamma,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    as_input,
    benefit_list,
    cost_input,
    point_value,
)

OUTPUTS = ("total_cost", "total_benefit", "net_benefit", "benefit_cost_ratio", "roi",
           "cost_per_person", "cost_per_job_outcome", "cost_per_sustained_job")
COUNTS = ("fte", "people", "job_outcomes", "sustained_jobs")
COSTS = ("cost_per_fte", "other_costs")
#: the value an output is compared with for ``prob_favourable`` (P(output > value))
FAVOURABLE_ABOVE = {"net_benefit": 0.0, "roi": 0.0, "benefit_cost_ratio": 1.0}
WHAT_IS_DRAWN = "the uncertain inputs from their distributions"


@dataclass(frozen=True)
class _Programme:
    """What the data say, once: per-site values of every input, labels and counts."""

    n: int
    site_labels: tuple  # the sites, then "programme" when there are several
    base_values: dict  # input label -> number or per-site array (the base case)
    counts: dict  # people / job_outcomes / sustained_jobs per site
    tornado: pd.DataFrame
    inputs: pd.DataFrame
    warnings: tuple


class ReturnOnInvestmentResult(Result):
    """Return on investment per site and for the programme.

    ``tidy()`` has one row per site (and ``"programme"``, the total, when there are several
    sites) and output: ``total_cost``, ``total_benefit``, ``net_benefit``,
    ``benefit_cost_ratio``, ``roi`` ((benefit - cost) / cost), ``cost_per_person``,
    ``cost_per_job_outcome`` and ``cost_per_sustained_job``. ``estimate`` is the deterministic
    base case (inputs at their means); ``std_error`` and ``conf_low``/``conf_high`` are the
    Monte Carlo SD and percentile limits; ``prob_favourable`` is P(net benefit > 0), P(ratio > 1)
    or P(roi > 0) for those outputs. ``people``, ``job_outcomes``, ``sustained_jobs`` are counts.
    :meth:`with_inference` runs the Monte Carlo again with other draws.
    """

    count_columns = ("people", "job_outcomes", "sustained_jobs")

    def __init__(self, *, estimator, table, programme, inference, draws, warnings=()):
        super().__init__(estimator=estimator, table=table, n_obs=programme.n, warnings=warnings)
        self._programme = programme
        self._draws = draws
        self.inference = inference
        self.reps = inference.reps
        self.seed = inference.seed
        self._freeze()

    def tornado(self, output: str = "net_benefit") -> pd.DataFrame:
        """One-way sensitivity of a programme output: each input at its low and high value.

        Low/high are the input distribution's (1 - conf_level)/2 and (1 + conf_level)/2
        quantiles, or the base value -/+ ``sensitivity_range`` (a share, default 20%) for inputs
        given as fixed numbers or data columns. Sorted by swing (widest first).
        """
        check_choice("output", output, OUTPUTS)
        t = self._programme.tornado
        t = t[t["output"] == output].copy()
        t["swing"] = (t["result_high"] - t["result_low"]).abs()
        return t.sort_values("swing", ascending=False).reset_index(drop=True)

    def inputs(self) -> pd.DataFrame:
        """The inputs used: name, kind (column, fixed, distribution), base value, low, high."""
        return self._programme.inputs.copy()

    def draws(self, output: str = "net_benefit") -> np.ndarray:
        """Monte Carlo draws of a programme output (probabilistic sensitivity analysis)."""
        check_choice("output", output, OUTPUTS)
        return self._draws[output].copy()

    def with_inference(self, spec) -> ReturnOnInvestmentResult:
        """The same programme with another Monte Carlo (``Bootstrap(reps=, seed=)``)."""
        spec = redraw_spec("ReturnOnInvestment", spec, what=WHAT_IS_DRAWN)
        return simulated(self.estimator, self._programme, spec)

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
        from ..plotting.economics import plot_draws, plot_tornado

        check_choice("kind", kind, ("tornado", "distribution"))
        check_choice("output", output, OUTPUTS)
        if kind == "tornado":
            return plot_tornado(self.tornado(output), ax=ax, output=output, **style)
        return plot_draws(self.draws(output), ax=ax, output=output,
                          reference=FAVOURABLE_ABOVE.get(output, 0.0), **style)


class ReturnOnInvestment(DeprecatedDrawOptions, Estimator):
    """Cost per outcome, benefit-cost ratio and net benefit of an IPS service.

    Fit on a table with one row (the programme) or one row per site holding the staffing and the
    counts of people and outcomes. Uncertain inputs are carried through by Monte Carlo.

    Parameters
    ----------
    fte : str or number
        Column (or number) of full-time-equivalent employment specialists.
    cost_per_fte : number, column, (estimate, std_error), or distribution
        Annual cost of one FTE including overheads (about £75,000 in the UK). Costs cannot be
        negative: a negative number or column value is refused, and a distribution that draws
        negative costs is warned about (use ``Gamma`` or ``LogNormal`` for costs).
    people : str or number
        Column (or number) of people supported.
    job_outcomes : str or number
        Column (or number) of job outcomes.
    sustained_jobs : str or number, optional
        Column (or number) of sustained jobs (e.g. lasting 13 weeks or more).
    other_costs : number, column, (estimate, std_error), or distribution, optional
        Costs beyond staffing (per site row); not negative, as ``cost_per_fte`` (savings are
        benefits).
    benefits : sequence of Benefit
        The monetised gains.
    site : str, optional
        Column naming sites; results are given per site and for the programme.
    inference : Bootstrap, optional
        The probabilistic sensitivity analysis: ``Bootstrap(reps=5000, seed=None)`` by default.
        What is drawn are the uncertain *inputs*, each from its distribution (one draw per input
        shared by all sites), not rows of the data, so ``cluster=`` does not apply. The loose
        ``reps=`` / ``seed=`` of earlier releases build this spec (with a FutureWarning) for one
        release.
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
    >>> from causalips.economics import Benefit, Gamma
    >>> roi = ci.ReturnOnInvestment(fte="fte", cost_per_fte=Gamma(75000, 7500),
    ...     people="people", job_outcomes="jobs",
    ...     benefits=[Benefit("savings per job", amount=1, value=Gamma(6200, 1500),
    ...                       per="job_outcome")], inference=ci.Bootstrap(reps=2000, seed=1))
    >>> res = roi.fit(pd.DataFrame({"fte": [1.0], "people": [36], "jobs": [17]}))
    >>> round(float(res.glance()["benefit_cost_ratio"].iloc[0]), 2)
    1.41

    See Also
    --------
    CostEffectiveness, ParametricSurvival
    """

    _param_names = ("fte", "cost_per_fte", "people", "job_outcomes", "sustained_jobs",
                    "other_costs", "benefits", "site", "inference", "conf_level",
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
        inference: Bootstrap | None = None,
        conf_level: float = 0.95,
        sensitivity_range: float = 0.2,
        reps: int | None = None,
        seed: int | None = None,
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
        self._cost_per_fte = cost_input(cost_per_fte, "cost_per_fte")
        self._other_costs = None if other_costs is None else cost_input(other_costs,
                                                                         "other_costs")
        self.benefits = benefit_list(benefits, sustained_jobs)
        self._benefit_inputs = tuple(
            (as_input(b.amount, name=f"{b.name}.amount"), as_input(b.value, name=f"{b.name}.value"))
            for b in self.benefits)
        self.site = site
        self.inference = bootstrap_spec("ReturnOnInvestment", inference, reps=reps, seed=seed,
                                        default_reps=5000, what=WHAT_IS_DRAWN)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        self.sensitivity_range = check_range("sensitivity_range", sensitivity_range, 0, 1)

    # ----------------------------------------------------------------------------------------
    def _named_inputs(self):
        """(label, spec) for every input, in a stable order."""
        items = [("fte", self.fte), ("cost_per_fte", self._cost_per_fte),
                 ("people", self.people), ("job_outcomes", self.job_outcomes)]
        if self.sustained_jobs is not None:
            items.append(("sustained_jobs", self.sustained_jobs))
        if self._other_costs is not None:
            items.append(("other_costs", self._other_costs))
        for b, (amount, value) in zip(self.benefits, self._benefit_inputs, strict=True):
            items.append((f"{b.name}: amount", amount))
            items.append((f"{b.name}: value", value))
        return items

    def fit(self, data) -> ReturnOnInvestmentResult:
        df = as_dataframe(data)
        roles = {label: spec for label, spec in self._named_inputs() if isinstance(spec, str)}
        roles["site"] = self.site
        check_columns(df, roles)
        check_not_empty(df)
        n = len(df)
        base = {label: (_column(df, spec, label) if isinstance(spec, str) else point_value(spec))
                for label, spec in self._named_inputs()}
        if self.site is not None:
            sites = df[self.site].astype(str).tolist()
            if len(set(sites)) != n:
                raise DataError(f"column {self.site!r} (the site) must name each row once; "
                                "aggregate to one row per site first.")
        else:
            sites = [f"row {i}" for i in range(n)] if n > 1 else ["programme"]
        jobs, people = _per_site(base["job_outcomes"], n), _per_site(base["people"], n)
        if np.any(jobs > people):
            raise DataError("job_outcomes exceed people supported in some rows; check the columns")
        warns = ["some rows have no job outcomes: cost per job outcome is infinite there"
                 ] if np.any(jobs == 0) else []
        counts = {"people": people, "job_outcomes": jobs,
                  "sustained_jobs": _per_site(base["sustained_jobs"], n)
                  if self.sustained_jobs is not None else np.full(n, np.nan)}
        tornado, in_table = self._one_way(base, n)
        programme = _Programme(n=n, site_labels=tuple(sites + (["programme"] if n > 1 else [])),
                               base_values=base, counts=counts, tornado=tornado,
                               inputs=in_table, warnings=tuple(warns))
        return simulated(self, programme, self.inference)

    def _one_way(self, base_vals, n):
        alpha = 1 - self.conf_level
        base = outputs(self, base_vals, n)
        rows, in_rows = [], []
        for label, spec in self._named_inputs():  # inputs (few)
            if isinstance(spec, Distribution):
                lo_v, hi_v = (float(spec.ppf(q)) for q in (alpha / 2, 1 - alpha / 2))
                lo, hi, kind, shown = lo_v, hi_v, type(spec).__name__, point_value(spec)
            else:
                f, cur = self.sensitivity_range, np.asarray(base_vals[label])
                lo_v, hi_v = cur * (1 - f), cur * (1 + f)
                lo, hi, shown = float(np.sum(lo_v)), float(np.sum(hi_v)), float(np.sum(cur))
                kind = "column" if isinstance(spec, str) else "fixed"
            in_rows.append({"input": label, "kind": kind, "base": shown, "low": lo, "high": hi})
            if np.isclose(lo, hi):
                continue
            low = outputs(self, {**base_vals, label: lo_v}, n)
            high = outputs(self, {**base_vals, label: hi_v}, n)
            rows += [{"input": label, "output": out, "low_value": lo, "high_value": hi,
                      "base": float(np.atleast_1d(base[out])[-1]),
                      "result_low": float(np.atleast_1d(low[out])[-1]),
                      "result_high": float(np.atleast_1d(high[out])[-1])} for out in OUTPUTS]
        return pd.DataFrame(rows), pd.DataFrame(in_rows)


def _column(df, col, label) -> np.ndarray:
    """A numeric input column; counts, staffing and costs cannot be negative."""
    v = numeric_column(df, col, role=label)
    if (label in COUNTS or label in COSTS) and np.any(v < 0):
        bad = v < 0
        what = "costs" if label in COSTS else "counts and staffing"
        raise DataError(f"column {col!r} (the {label}) has {int(bad.sum())} negative values "
                        f"(e.g. row {_example_rows(df, bad)}: {float(v[bad][0])!r}); {what} "
                        "cannot be negative." + (" Savings are benefits: give them as "
                                                 "Benefit(...)." if label in COSTS else ""))
    return v


def _per_site(x, n):
    return np.broadcast_to(np.asarray(x, dtype=float), np.broadcast_shapes(np.shape(x), (n,)))


def outputs(est, vals: dict, n: int) -> dict:
    """All outputs per site (last column = programme total when n > 1), vectorised over draws."""
    fte = _per_site(vals["fte"], n)
    people, jobs = _per_site(vals["people"], n), _per_site(vals["job_outcomes"], n)
    sustained = _per_site(vals["sustained_jobs"], n) if "sustained_jobs" in vals else None
    cost = fte * vals["cost_per_fte"]
    if "other_costs" in vals:
        cost = cost + vals["other_costs"]
    count_of = {"person": people, "job_outcome": jobs, "sustained_job": sustained,
                "fte": fte, "site": np.ones(n)}
    benefit = 0.0
    for b in est.benefits:  # benefits (few)
        benefit = benefit + count_of[b.per] * vals[f"{b.name}: amount"] * vals[f"{b.name}: value"]
    shape = np.broadcast_shapes(np.shape(cost), np.shape(benefit), (n,))
    cost = np.broadcast_to(np.asarray(cost, dtype=float), shape)
    benefit = np.broadcast_to(np.asarray(benefit, dtype=float), shape)

    def with_total(x):
        x = np.asarray(x, dtype=float)
        return x if n == 1 else np.concatenate([x, x.sum(axis=-1, keepdims=True)], axis=-1)

    cost_t, ben_t = with_total(cost), with_total(benefit)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "total_cost": cost_t,
            "total_benefit": ben_t,
            "net_benefit": ben_t - cost_t,
            "benefit_cost_ratio": ben_t / cost_t,
            "roi": (ben_t - cost_t) / cost_t,
            "cost_per_person": cost_t / with_total(people),
            "cost_per_job_outcome": cost_t / with_total(jobs),
            "cost_per_sustained_job": (cost_t / with_total(sustained)
                                       if sustained is not None else cost_t * np.nan),
        }


def simulated(est, programme: _Programme, spec) -> ReturnOnInvestmentResult:
    """The base case, ``spec``'s Monte Carlo over the uncertain inputs, and the result."""
    rng = np.random.default_rng(spec.seed)
    values = dict(programme.base_values)
    warns = list(programme.warnings)
    for label, input_spec in est._named_inputs():  # one draw vector per uncertain input (few)
        if isinstance(input_spec, Distribution):
            values[label] = input_spec.sample(rng, spec.reps)[:, None]  # reps x 1: all sites
            negative = int(np.sum(values[label] < 0))
            if label in COSTS and negative:
                warns.append(f"{negative} of {spec.reps} Monte Carlo draws of {label} "
                             f"({input_spec!r}) are negative costs; a cost cannot be negative: "
                             "give it as Gamma or LogNormal")
    warn_all(warns[len(programme.warnings):], StatisticalWarning)
    n, sites = programme.n, programme.site_labels
    base = outputs(est, programme.base_values, n)
    mc = outputs(est, values, n)
    draws = {out: np.broadcast_to(mc[out], (spec.reps, len(sites))) for out in OUTPUTS}
    table = _table(est, programme, base, draws)
    return ReturnOnInvestmentResult(
        estimator=est, table=table, programme=programme, inference=spec, warnings=warns,
        draws={out: d[:, -1].copy() for out, d in draws.items()})


def _table(est, programme, base, draws) -> pd.DataFrame:
    alpha = 1 - est.conf_level
    n, sites = programme.n, list(programme.site_labels)
    counts = {k: np.append(v, np.nansum(v)) if n > 1 else np.asarray(v, float)
              for k, v in programme.counts.items()}
    parts = []
    for out in OUTPUTS:  # outputs (a handful); sites and draws are array axes
        if out == "cost_per_sustained_job" and est.sustained_jobs is None:
            continue
        d = draws[out]
        finite = np.where(np.isfinite(d), d, np.nan)
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", RuntimeWarning)  # a site with no finite draws
            lo, hi = np.nanquantile(finite, [alpha / 2, 1 - alpha / 2], axis=0)
            sd = np.nanstd(finite, axis=0, ddof=1)
        sd = np.where(np.sum(np.isfinite(d), axis=0) > 1, sd, np.nan)
        fav = ((d > FAVOURABLE_ABOVE[out]).mean(axis=0) if out in FAVOURABLE_ABOVE
               else np.full(len(sites), np.nan))
        parts.append(pd.DataFrame({"site": sites, "term": out,
                                   "estimate": np.atleast_1d(base[out]).reshape(-1),
                                   "std_error": sd, "conf_low": lo, "conf_high": hi,
                                   "prob_favourable": fav, **counts}))
    table = tidy_frame(pd.concat(parts, ignore_index=True), extra_first=("site",))
    for c in ReturnOnInvestmentResult.count_columns:
        if table[c].notna().all() and np.allclose(table[c], np.round(table[c])):
            table[c] = table[c].round().astype(np.int64)
    return table


__all__ = ["ReturnOnInvestment", "ReturnOnInvestmentResult", "Benefit", "Normal", "Gamma",
           "LogNormal", "Beta", "Uniform", "Triangular"]
