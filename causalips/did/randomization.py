"""Randomization inference for DiD: re-assign treatment timing across clusters.

When exposure is set at the cluster x period level (a municipality starts IPS in a given year),
the DiD coefficient for any re-assignment ``D`` of the observed timings to clusters is

    beta(D) = D' r / (D' Q D),   r = C'W M y,   Q = C'W M C,

where ``C`` is the row-to-(cluster x period cell) indicator and ``M`` removes the fixed effects
and covariates (Frisch–Waugh–Lovell). ``Q`` (cells x cells) and ``r`` are computed once from the
data; every assignment is then a row of a matrix product. All distinct assignments are used when
there are few (1 treated of 11 municipalities: 11 assignments, so the smallest attainable
p-value is 1/11); otherwise a seeded sample, with the observed assignment counted.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from ._engine import FixedEffects, _bincount_cols

MAX_ENUMERATE = 100_000


@dataclass(frozen=True, eq=False)
class AssignmentDesign:
    """Cell-level quantities for re-assigning treatment timing (no rows kept)."""

    q: np.ndarray  # (J, J)
    r: np.ndarray  # (J,)
    cell_cluster: np.ndarray  # (J,)
    cell_period: np.ndarray  # (J,) period value of each cell
    first_by_cluster: np.ndarray  # (G,), inf = never treated
    estimate: float
    cell_weight: np.ndarray | None = None  # (J,) sum of weights per cell (N)
    cell_size: np.ndarray | None = None  # (J,) people (rows) per cell, for variance models

    def betas(self, firsts: np.ndarray) -> np.ndarray:
        """DiD coefficient for each row of ``firsts`` (assignments x G first-treated periods)."""
        d = (self.cell_period[None, :] >= firsts[:, self.cell_cluster]).astype(np.float64)
        num = d @ self.r
        den = np.einsum("aj,aj->a", d @ self.q, d)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 1e-12 * max(1.0, float(np.max(np.abs(den)))), num / den, np.nan)

    def residual_r(self) -> np.ndarray:
        """Cell sums of the full-model residuals: r - beta Q d_observed."""
        d = (self.cell_period >= self.first_by_cluster[self.cell_cluster]).astype(np.float64)
        return self.r - self.estimate * (self.q @ d)


def assignment_design(fe: FixedEffects, cell: np.ndarray, n_cells: int, cell_cluster, cell_period,
                      first_by_cluster, yd, xcov_d, estimate, max_block: int = 20_000_000,
                      row_people: np.ndarray | None = None):
    """Build :class:`AssignmentDesign`; ``cell`` maps rows to 0..J-1 (present cells only).

    ``row_people`` is the number of people a row stands for (1 for person rows; the cell count
    on the cell sufficient statistics path).
    """
    n = cell.size
    w = fe.weights
    q = np.zeros((n_cells, n_cells))
    chunk = max(1, min(n_cells, max_block // max(n, 1)))
    for start in range(0, n_cells, chunk):  # loop over column blocks, bounded memory
        cols = np.arange(start, min(n_cells, start + chunk))
        block = np.zeros((n, cols.size))
        inside = (cell >= cols[0]) & (cell <= cols[-1])
        block[np.flatnonzero(inside), cell[inside] - cols[0]] = 1.0
        q[:, cols] = _bincount_cols(cell, w[:, None] * fe.residualise(block), n_cells)
    q = 0.5 * (q + q.T)
    r = np.bincount(cell, weights=w * yd, minlength=n_cells)
    if xcov_d is not None and xcov_d.shape[1]:
        ctx = _bincount_cols(cell, w[:, None] * xcov_d, n_cells)
        xtx_inv = np.linalg.inv(xcov_d.T @ (w[:, None] * xcov_d))
        q = q - ctx @ xtx_inv @ ctx.T
        r = r - ctx @ xtx_inv @ (xcov_d.T @ (w * yd))
    people = np.ones(n) if row_people is None else row_people
    return AssignmentDesign(q=q, r=r, cell_cluster=np.asarray(cell_cluster),
                            cell_period=np.asarray(cell_period, dtype=np.float64),
                            first_by_cluster=np.asarray(first_by_cluster, dtype=np.float64),
                            estimate=float(estimate),
                            cell_weight=np.bincount(cell, weights=w, minlength=n_cells),
                            cell_size=np.bincount(cell, weights=people, minlength=n_cells))


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
        rows = []
        for combo in itertools.combinations(range(g), int(counts[small])):
            row = np.full(g, uniq[1 - small])
            row[list(combo)] = uniq[small]
            rows.append(row)
        out = np.array(rows)
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


@dataclass(frozen=True)
class RandomizationOutcome:
    estimate: float
    p_value: float
    n_assignments: int
    enumerated: bool
    min_p_value: float
    placebo: np.ndarray  # coefficients of every assignment used, observed first
    statement: str
    conf_low: float = np.nan
    conf_high: float = np.nan


def randomization_test(design: AssignmentDesign, *, reps: int | None = None, seed=None,
                       alpha: float = 0.05) -> RandomizationOutcome:
    """Exact (enumerated) or sampled randomization p-value for the DiD coefficient.

    The interval inverts the test under a constant effect: for a candidate effect b the
    outcome is adjusted to ``y - b D``, so every assignment's coefficient becomes
    ``beta_a - b * c_a`` with ``c_a = D_a'Q d / D_a'Q D_a``; the interval collects the b whose
    p-value exceeds ``alpha`` (unbounded when the design cannot reach ``alpha``).
    """
    f = design.first_by_cluster
    total = count_assignments(f)
    limit = reps if reps is not None else MAX_ENUMERATE
    if total <= limit:
        firsts = enumerate_assignments(f)
        enumerated = True
    else:
        n_draw = reps if reps is not None else 9999
        rng = np.random.default_rng(seed)
        perm = rng.permuted(np.tile(f, (n_draw, 1)), axis=1)
        firsts = np.vstack([f[None, :], perm])
        enumerated = False
    betas = design.betas(firsts)
    obs = betas[0]
    tol = 1e-10 * max(1.0, abs(obs))
    extreme = np.abs(betas) >= abs(obs) - tol
    p = float(np.mean(extreme[np.isfinite(betas)]))
    n_used = int(np.isfinite(betas).sum())
    min_p = 1.0 / n_used
    if enumerated:
        statement = (f"exact randomization p-value over all {n_used} distinct assignments of "
                     f"the observed treatment timing to the {f.size} clusters; the smallest "
                     f"attainable p-value is 1/{n_used} = {min_p:.3g}")
    else:
        statement = (f"randomization p-value from {n_used - 1} seeded random assignments plus "
                     f"the observed one (of {total} possible); smallest attainable {min_p:.3g}")
    if min_p > alpha:
        statement += (f". This design cannot give p < {alpha:g} however large the effect: "
                      "report the p-value with this floor")
    lo, hi = _inverted_ci(design, firsts, betas, alpha)
    statement += ("; CI by inverting the test under a constant effect"
                  + (" (unbounded: the design cannot reach this level)" if not np.isfinite(lo)
                     else ""))
    return RandomizationOutcome(estimate=float(obs), p_value=p, n_assignments=n_used,
                                enumerated=enumerated, min_p_value=min_p, placebo=betas,
                                statement=statement, conf_low=lo, conf_high=hi)


def _inverted_ci(design: AssignmentDesign, firsts, betas, alpha) -> tuple[float, float]:
    from .bootstrap import _invert

    d = (design.cell_period[None, :] >= firsts[:, design.cell_cluster]).astype(np.float64)
    qd = design.q @ d[0]
    den = np.einsum("aj,aj->a", d @ design.q, d)
    ok = np.isfinite(betas)
    b0 = betas[ok]
    c = (d[ok] @ qd) / den[ok]
    est = float(b0[0])
    if 1.0 / b0.size > alpha:
        return -np.inf, np.inf
    scale = float(np.std(b0)) or 1.0

    def pval(beta0: float) -> float:
        stat = abs(est - beta0)
        return float(np.mean(np.abs(b0 - beta0 * c) >= stat - 1e-10 * max(1.0, stat)))

    return _invert(pval, est, scale, alpha)


def check_cluster_timing(first_by_unit, unit_codes, cluster_codes, n_clusters) -> np.ndarray:
    """First-treated period per cluster, refusing timing that varies within a cluster."""
    f = np.where(np.isfinite(first_by_unit), first_by_unit, -1.0)[unit_codes]
    lo = np.full(n_clusters, np.inf)
    hi = np.full(n_clusters, -np.inf)
    np.minimum.at(lo, cluster_codes, f)
    np.maximum.at(hi, cluster_codes, f)
    if np.any(lo != hi):
        raise SpecificationError(
            "randomization inference and Conley-Taber re-assign treatment across clusters, so "
            "the first treated period must be the same for every unit of a cluster; it varies "
            f"within {int(np.sum(lo != hi))} clusters. Use the wild cluster bootstrap instead."
        )
    return np.where(lo == -1.0, np.inf, lo)


__all__ = ["AssignmentDesign", "assignment_design", "randomization_test", "RandomizationOutcome",
           "count_assignments", "enumerate_assignments"]
