"""Tests of independence in a table of counts (chi-squared, Fisher, Monte Carlo), and the base
of the results that carry one (reach, representativeness, outcome equity)."""

from __future__ import annotations

import copy

import numpy as np
from scipy import stats

from .._checks import check_choice
from .._progress import progress_bar
from ..base import Result, freeze
from ..errors import SpecificationError
from ..inference import Bootstrap, check_reps, check_spec

EXACT_CHOICES = ("auto", "never", "always")
#: Fewer simulated tables than this cannot give a p-value below 0.01.
MIN_MONTE_CARLO_TABLES = 99
#: Tables simulated at a time: bounds the memory of a large run, keeps each step vectorised.
CHUNK = 100_000


def monte_carlo_spec(spec, *, where: str) -> Bootstrap:
    """The ``inference=`` of a contingency test: a :class:`Bootstrap` without clusters whose
    ``reps`` tables with fixed margins give the Monte Carlo p-value."""
    spec = check_spec(spec, (Bootstrap,), where=where, argument="inference") or Bootstrap()
    if spec.cluster is not None:
        raise SpecificationError(
            f"{where}: the Monte Carlo test simulates tables with the observed margins; it has "
            f"no clusters to resample (got Bootstrap(cluster={spec.cluster!r}))")
    check_reps(spec.reps, name="Bootstrap(reps=)", minimum=MIN_MONTE_CARLO_TABLES)
    return spec


def test_options(where: str, *, correction, exact, inference, reps=None, seed=None):
    """The checked options of a contingency test: (correction, exact, Monte Carlo spec).

    ``reps``/``seed`` are the deprecated loose form of ``inference=Bootstrap(reps=, seed=)``.
    """
    from ._deprecated import legacy_resampling

    if not isinstance(correction, bool):
        raise SpecificationError(f"correction must be True or False; got {correction!r}")
    exact = check_choice("exact", exact, EXACT_CHOICES)
    spec = monte_carlo_spec(legacy_resampling(where, inference, reps, seed), where=where)
    return correction, exact, spec


def pearson_statistic(tables: np.ndarray) -> np.ndarray:
    """Pearson chi-squared for one (r, c) table or a stack (..., r, c), vectorised."""
    t = np.asarray(tables, dtype=np.float64)
    expected = _expected(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(expected > 0, (t - expected) ** 2 / expected, 0.0)
    return terms.sum(axis=(-2, -1))


def _expected(t: np.ndarray) -> np.ndarray:
    # row share times column total: no product of two large (or two tiny) margins
    total = t.sum(axis=(-2, -1), keepdims=True)
    return t.sum(axis=-1, keepdims=True) / total * t.sum(axis=-2, keepdims=True)


def _yates(t: np.ndarray) -> float:
    """Pearson chi-squared of a 2 × 2 table with Yates' correction (as scipy applies it)."""
    expected = _expected(t)
    diff = expected - t
    shifted = t + np.sign(diff) * np.minimum(0.5, np.abs(diff))
    return float(np.sum((shifted - expected) ** 2 / expected))


def contingency_test(
    table,
    *,
    correction: bool = False,
    exact: str = "auto",
    inference: Bootstrap | None = None,
) -> dict:
    """Test independence in an r × c table of counts.

    Pearson chi-squared without continuity correction by default (``correction=True`` applies
    Yates' correction, 2 × 2 tables only, as ``scipy.stats.chi2_contingency``). When an expected
    count is below 5 (``exact="auto"``) or always (``exact="always"``), the p-value is exact:
    Fisher's exact test (two-sided) for a 2 × 2 table, otherwise a Monte Carlo p-value from
    ``inference.reps`` random tables with the same margins, ``(1 + #{X2* >= X2}) / (reps + 1)``
    as R's ``chisq.test(simulate.p.value=TRUE)``, seeded by ``inference.seed``. Exact tests need
    whole-number counts.
    """
    spec = inference or Bootstrap()
    t = np.asarray(table, dtype=np.float64)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    r, c = t.shape
    if r < 2 or c < 2:
        return {"chisq": np.nan, "df": 0, "p_value": np.nan, "min_expected": np.nan,
                "test": "not tested (fewer than two non-empty rows or columns)"}
    df = (r - 1) * (c - 1)
    yates = correction and (r, c) == (2, 2)
    chisq = _yates(t) if yates else float(pearson_statistic(t))
    p_value = float(stats.chi2.sf(chisq, df))
    min_expected = float(_expected(t).min())
    test = ("Pearson chi-squared with Yates' continuity correction" if yates
            else "Pearson chi-squared (no continuity correction)")
    use_exact = exact == "always" or (exact == "auto" and min_expected < 5)
    why = " (an expected count < 5)" if exact == "auto" else ""
    if use_exact and np.allclose(t, np.round(t)):
        whole = np.round(t).astype(np.int64)
        if (r, c) == (2, 2):
            p_value = float(stats.fisher_exact(whole)[1])
            test = "Fisher's exact test (two-sided)" + why
        else:
            p_value = _monte_carlo_p(whole, spec)
            test = (f"Pearson chi-squared with Monte Carlo p-value ({spec.reps} tables with "
                    f"fixed margins, seed={spec.seed})" + why)
    elif use_exact:
        test += " (counts are not whole numbers, so no exact test; an expected count < 5)"
    return {"chisq": chisq, "df": df, "p_value": p_value, "min_expected": min_expected,
            "test": test}


def _monte_carlo_p(table: np.ndarray, spec: Bootstrap) -> float:
    """(1 + #{X2* >= X2}) / (reps + 1) over tables drawn with the margins of ``table``."""
    rng = np.random.default_rng(spec.seed)
    sampler = stats.random_table(table.sum(axis=1), table.sum(axis=0), seed=rng)
    observed = float(pearson_statistic(table))
    hits, left = 0, spec.reps
    with progress_bar(spec.reps, desc="Monte Carlo tables", unit="table",
                      enabled=spec.progress) as bar:
        while left:
            size = min(left, CHUNK)
            drawn = pearson_statistic(sampler.rvs(size=size))
            hits += int(np.sum(drawn >= observed * (1 - 1e-7)))
            left -= size
            bar.update(size)
    return (1 + hits) / (spec.reps + 1)


class ContingencyTestResult(Result):
    """A result that carries a test of independence on a table of counts (``test``).

    ``with_inference(Bootstrap(reps=, seed=))`` recomputes the test with that Monte Carlo spec
    (it changes the p-value only when a Monte Carlo p-value is used: small expected counts in a
    table larger than 2 × 2); every other spec is refused.
    """

    _counts: np.ndarray | None = None

    def with_inference(self, spec) -> ContingencyTestResult:
        est = self.estimator
        where = type(est).__name__
        spec = monte_carlo_spec(spec, where=where)
        new = copy.copy(self)
        plan = {**est.get_params(), "inference": spec}
        new.__dict__["estimator"] = type(est)(**plan)
        if self._counts is not None:
            new.__dict__["test"] = freeze(contingency_test(
                self._counts, correction=est.correction, exact=est.exact, inference=spec))
        return new
