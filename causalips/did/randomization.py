"""Randomization inference for DiD: re-assign treatment timing across clusters.

When exposure is set at the cluster x period level (a municipality starts IPS in a given year),
every re-assignment of the observed timings to the clusters gives new regressors ``x`` per cell
and new coefficients ``(x'Qx)^-1 x'r`` (:mod:`causalips.did._assignment`): one block of
assignments is a sparse and a thin dense matrix product, never a refit. All distinct
assignments are used when there are few (1 treated of 11 municipalities: 11 assignments, so the
smallest attainable p-value is 1/11); otherwise a seeded sample, with the observed assignment
counted.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ._assignment import AssignmentDesign, solve_batch

#: enumerate every distinct assignment up to this many (unless reps says otherwise)
MAX_ENUMERATE = 100_000
#: draws when there are more assignments than that and reps is not given
DEFAULT_DRAWS = 9999
#: largest assignments x clusters table held at once when enumerating
MAX_TABLE = 20_000_000


@dataclass(frozen=True)
class Combination:
    """A tested quantity ``a'beta`` and the direction ``s`` of a constant effect (for its CI).

    For one coefficient both are the unit vector; for the average of the post-period event-time
    coefficients ``a`` averages them and ``s`` adds the same effect to each.
    """

    term: str
    a: np.ndarray
    s: np.ndarray


def single_terms(terms) -> list[Combination]:
    """One combination per coefficient."""
    eye = np.eye(len(terms))
    return [Combination(t, eye[i], eye[i]) for i, t in enumerate(terms)]


def count_assignments(values: np.ndarray) -> int:
    """Distinct permutations of a multiset (clusters are distinguishable, equal timings not)."""
    _, counts = np.unique(values, return_counts=True)
    total = math.factorial(values.size)
    for c in counts:
        total //= math.factorial(int(c))
    return total


def enumerate_assignments(values: np.ndarray) -> np.ndarray:
    """All distinct arrangements of ``values`` over positions (rows); observed first."""
    uniq, counts = np.unique(values, return_counts=True)
    g = values.size
    if uniq.size == 2:
        # the common case: one treated timing vs never treated -> combinations
        small = 0 if counts[0] <= counts[1] else 1
        combos = np.array(list(itertools.combinations(range(g), int(counts[small]))),
                          dtype=np.int64).reshape(-1, int(counts[small]))
        out = np.full((combos.shape[0], g), uniq[1 - small])
        np.put_along_axis(out, combos, uniq[small], axis=1)
    else:
        out = np.array(list(_multiset_arrangements(uniq.tolist(), counts.tolist(), g)))
    observed = np.all(out == values[None, :], axis=1)
    return np.vstack([values[None, :], out[~observed]])


def _multiset_arrangements(labels, counts, g):
    """Distinct arrangements: positions for each value chosen among those still free."""
    def place(free, k):
        if k == len(labels) - 1:
            row = np.empty(g)
            row[list(free)] = labels[k]
            yield row
            return
        for combo in itertools.combinations(free, counts[k]):
            rest = [p for p in free if p not in combo]
            for row in place(rest, k + 1):
                row[list(combo)] = labels[k]
                yield row

    yield from place(list(range(g)), 0)


def draw_assignments(first: np.ndarray, reps: int | None, seed) -> tuple[np.ndarray, bool, int]:
    """(assignments x clusters timings with the observed first, enumerated?, number possible)."""
    total = count_assignments(first)
    limit = reps if reps is not None else MAX_ENUMERATE
    if total <= limit and total * first.size <= MAX_TABLE:
        return enumerate_assignments(first), True, total
    n_draw = reps if reps is not None else DEFAULT_DRAWS
    rng = np.random.default_rng(seed)
    perm = rng.permuted(np.tile(first, (n_draw, 1)), axis=1)
    return np.vstack([first[None, :], perm]), False, total


@dataclass(frozen=True)
class RandomizationOutcome:
    estimate: float
    p_value: float
    n_assignments: int
    enumerated: bool
    min_p_value: float
    placebo: np.ndarray  # the quantity under every assignment used, observed first
    statement: str
    conf_low: float = np.nan
    conf_high: float = np.nan

    @property
    def reps(self) -> int:
        return self.n_assignments


def randomization_test(design: AssignmentDesign, combos: list[Combination] | None = None, *,
                       reps: int | None = None, seed=None, alpha: float = 0.05,
                       progress: bool = True) -> dict[str, RandomizationOutcome]:
    """Exact (enumerated) or sampled randomization p-values and intervals, one per combination.

    The interval inverts the test under a constant effect: for a candidate effect b the outcome
    is adjusted to ``y - b x_obs s``, so every assignment's quantity becomes ``t_a - b c_a`` with
    ``c_a = a'(x_a'Qx_a)^-1 x_a'Q x_obs s``; the interval collects the b whose p-value exceeds
    ``alpha`` (unbounded when the design cannot reach ``alpha``).
    """
    combos = combos or single_terms(design.terms)
    f = design.first_by_cluster
    firsts, enumerated, total = draw_assignments(f, reps, seed)
    t = np.empty((len(combos), firsts.shape[0]))
    c = np.empty_like(t)
    a = np.array([cb.a for cb in combos])
    s = np.array([cb.s for cb in combos])
    for part, st in design.blocks(firsts, progress=progress, desc="randomization inference"):
        beta = solve_batch(st.den, st.num)  # (B, k)
        shift = solve_batch(st.den, st.cross)  # (B, k, k): d beta / d (effect along x_obs)
        t[:, part] = a @ beta.T
        c[:, part] = np.einsum("ck,bkl,cl->cb", a, shift, s)
    out = {}
    for i, cb in enumerate(combos):
        out[cb.term] = _outcome(t[i], c[i], enumerated, total, f.size, alpha)
    return out


def _outcome(t, c, enumerated, total, n_clusters, alpha) -> RandomizationOutcome:
    ok = np.isfinite(t)
    obs = t[0]
    tol = 1e-10 * max(1.0, abs(obs))
    p = float(np.mean(np.abs(t[ok]) >= abs(obs) - tol))
    n_used = int(ok.sum())
    min_p = 1.0 / n_used
    if enumerated:
        statement = (f"exact randomization p-value over all {n_used} distinct assignments of "
                     f"the observed treatment timing to the {n_clusters} clusters; the smallest "
                     f"attainable p-value is 1/{n_used} = {min_p:.3g}")
    else:
        statement = (f"randomization p-value from {n_used - 1} seeded random assignments plus "
                     f"the observed one (of {total} possible); smallest attainable {min_p:.3g}")
    if min_p > alpha:
        statement += (f". This design cannot give p < {alpha:g} however large the effect: "
                      "report the p-value with this floor")
    lo, hi = _inverted_ci(t[ok], c[ok] / c[0], alpha)
    statement += ("; CI by inverting the test under a constant effect"
                  + (" (unbounded: the design cannot reach this level)" if not np.isfinite(lo)
                     else ""))
    return RandomizationOutcome(estimate=float(obs), p_value=p, n_assignments=n_used,
                                enumerated=enumerated, min_p_value=min_p, placebo=t,
                                statement=statement, conf_low=lo, conf_high=hi)


def _inverted_ci(t: np.ndarray, c: np.ndarray, alpha: float) -> tuple[float, float]:
    from .bootstrap import _invert

    est = float(t[0])
    if 1.0 / t.size > alpha:
        return -np.inf, np.inf
    scale = float(np.std(t)) or 1.0

    def pval(beta0: float) -> float:
        stat = abs(est - beta0)
        return float(np.mean(np.abs(t - beta0 * c) >= stat - 1e-10 * max(1.0, stat)))

    return _invert(pval, est, scale, alpha)


__all__ = ["Combination", "RandomizationOutcome", "count_assignments", "draw_assignments",
           "enumerate_assignments", "randomization_test", "single_terms"]
