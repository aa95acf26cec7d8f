"""Uncertain inputs of an economic model: distributions, and the monetised gains that use them.

Every distribution has one shape: a frozen record of its parameters that names the scipy
distribution it is (``_scipy()``), so that ``sample`` (draws for the probabilistic sensitivity
analysis), ``ppf`` (quantiles for the one-way analysis) and ``mean`` (the base case) all come
from one place. ``Normal``, ``Gamma``, ``LogNormal`` and ``Beta`` are given by their mean and SD
(what a report states); ``Uniform`` and ``Triangular`` by their range. A new kind of input is a
subclass that says which scipy distribution it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from .._checks import check_choice, check_range
from ..base import Result
from ..errors import SpecificationError

#: what a benefit's amount is counted per
PER = ("person", "job_outcome", "sustained_job", "fte", "site")


class Distribution:
    """An uncertain input: draws, quantiles and a mean, all from the scipy distribution it is."""

    def _scipy(self):  # pragma: no cover - every distribution defines it
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` draws from the seeded generator ``rng``."""
        return np.asarray(self._scipy().rvs(size=size, random_state=rng), dtype=float)

    def ppf(self, q):
        """The ``q`` quantile(s)."""
        return self._scipy().ppf(q)


@dataclass(frozen=True)
class _ByMeanSD(Distribution):
    """A distribution given by its ``mean`` and ``sd`` on the natural scale."""

    mean: float
    sd: float

    def __post_init__(self):
        check_range("mean", self.mean, -np.inf, np.inf)
        self._check()

    def _check(self):
        check_range("mean", self.mean, 0, np.inf)
        check_range("sd", self.sd, 0, np.inf)


class _ByRange(Distribution):
    """A distribution given by its range; the mean follows from it."""

    @property
    def mean(self) -> float:
        return float(self._scipy().mean())


class Normal(_ByMeanSD):
    """Normal input: ``mean`` and ``sd`` (e.g. an effect estimate and its standard error)."""

    def _check(self):
        check_range("sd", self.sd, 0, np.inf, inclusive=(True, False))

    def _scipy(self):
        return stats.norm(self.mean, self.sd)

    def ppf(self, q):
        return super().ppf(q) if self.sd > 0 else np.full_like(np.asarray(q, float), self.mean)

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
            raise SpecificationError(
                f"the result's estimate/std_error are not finite ({est}, {se})")
        return cls(est, se)


class Gamma(_ByMeanSD):
    """Gamma input (positive, right-skewed: costs), by its ``mean`` and ``sd``."""

    def _scipy(self):
        shape = (self.mean / self.sd) ** 2
        return stats.gamma(shape, scale=self.mean / shape)


class LogNormal(_ByMeanSD):
    """Log-normal input (positive, right-skewed) by its ``mean`` and ``sd`` on the natural scale."""

    def _scipy(self):
        s2 = np.log1p((self.sd / self.mean) ** 2)
        return stats.lognorm(np.sqrt(s2), scale=np.exp(np.log(self.mean) - s2 / 2))


class Beta(_ByMeanSD):
    """Beta input (a proportion: job outcome rate, share sustained), by ``mean`` and ``sd``."""

    def _check(self):
        check_range("mean", self.mean, 0, 1)
        if not 0 < self.sd**2 < self.mean * (1 - self.mean):
            raise SpecificationError(
                f"Beta sd must satisfy 0 < sd^2 < mean(1-mean); got mean={self.mean}, sd={self.sd}")

    def _scipy(self):
        common = self.mean * (1 - self.mean) / self.sd**2 - 1
        return stats.beta(self.mean * common, (1 - self.mean) * common)


@dataclass(frozen=True)
class Uniform(_ByRange):
    """Uniform input on [low, high]."""

    low: float
    high: float

    def __post_init__(self):
        if not self.low < self.high:
            raise SpecificationError(f"Uniform needs low < high; got {self.low}, {self.high}")

    def _scipy(self):
        return stats.uniform(self.low, self.high - self.low)


@dataclass(frozen=True)
class Triangular(_ByRange):
    """Triangular input (low, mode, high): a common choice for expert-stated ranges."""

    low: float
    mode: float
    high: float

    def __post_init__(self):
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise SpecificationError(
                f"Triangular needs low <= mode <= high and low < high; got "
                f"{self.low}, {self.mode}, {self.high}")

    def _scipy(self):
        width = self.high - self.low
        return stats.triang((self.mode - self.low) / width, loc=self.low, scale=width)


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

    Example
    -------
    >>> Benefit("savings per job", amount=1, value=Gamma(6200, 1500), per="job_outcome").per
    'job_outcome'
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
    if isinstance(x, str | Distribution):
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


def cost_input(x, name):
    """A cost input; a negative fixed cost, or a distribution of mean below 0, is refused."""
    value = as_input(x, name=name)
    if not isinstance(value, str) and point_value(value) < 0:
        raise SpecificationError(
            f"{name} is a cost and cannot be negative; got {value!r}. Savings are benefits: "
            "give them as Benefit(...)")
    return value


def benefit_list(benefits, sustained_jobs) -> tuple[Benefit, ...]:
    """The plan's benefits as a tuple of uniquely named Benefit records."""
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
    return benefits


def point_value(x) -> float:
    """The base-case value of an input: a distribution's mean, or the number itself."""
    return float(x.mean) if isinstance(x, Distribution) else float(x)


__all__ = ["Distribution", "Normal", "Gamma", "LogNormal", "Beta", "Uniform", "Triangular",
           "Benefit", "as_input", "cost_input", "benefit_list", "point_value", "PER"]
