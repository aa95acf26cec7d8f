"""Callaway–Sant'Anna without covariates from cohort moments (data held by an engine).

Without covariates each ATT(g,t) is a difference of cohort means of outcome changes, and the
influence function of a unit (a row, for repeated cross-sections) is linear in a short basis of
its data: ``[1, Y_1, ..., Y_T]`` for a unit of cohort h (``[1, y - ybar]`` for a row of
cohort h in period s). So every influence function is a coefficient array ``A`` (basis cells x
basis x ATT cells), and what inference uses is a *reduced* form with the same cross-products:

- with clusters, the per-cluster sums ``F = sum_cells B_c A`` (``B_c``: the cluster's sums of
  the basis) — exactly the cluster sums the in-memory path forms, so the analytic SEs and the
  multiplier bootstrap (one multiplier per cluster) are the same draws for the same seed;
- without clusters, ``R = L' A`` with ``L L'`` each cell's Gram matrix of the basis, so
  ``R'R = F'F``: the analytic SEs, covariances, pre-test and aggregations are exact. The
  multiplier bootstrap needs one multiplier per unit and is refused (pass ``cluster=``, or
  ``inference=None`` for the analytic SEs).

Aggregations combine columns linearly and add the influence of the estimated cohort shares
(indicators of each draw's cohort), reduced the same way (:class:`UnitGroups`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..base import warn_all
from ..engine import as_table
from ..engine.cohort_moments import CohortMoments, cross_section_moments, panel_moments
from ..engine.panel_cells import PanelPlan
from ..errors import DroppedRowsWarning, StatisticalWarning
from ._callaway_santanna import UnitGroups, masks

BOOTSTRAP_REFUSAL = (
    "the multiplier bootstrap draws one multiplier per unit, so on data held by an engine "
    "without cluster= it would need every unit's influence function in memory; pass cluster= "
    "(e.g. the municipality: the draws are per cluster, from sums the engine computes) or "
    "inference=None for the analytic (influence-function) standard errors")


@dataclass
class MomentSample:
    """The cohort moments as the estimator's sample (what :class:`._staggered_data.Sample` is
    for rows in memory). One basis cell per cohort (panel) or cohort x period (cross-sections).

    ``first`` (Q,) cohort of each basis cell (inf: never treated); ``period`` (Q,) its period
    code or None (panel); ``count`` (Q,) draws; ``sums`` (Q, D) the sums of the basis (panel
    ``[1, Y_1 - mu_1, ...]``, cross-sections ``[1, y]``); ``gram`` (Q, D, D) the cross-products
    of the basis (cross-sections: centred on each cell's mean) when there are no clusters, else
    ``by_cluster`` (G, Q, D) the per-cluster sums (cross-sections: centred likewise).
    """

    first: np.ndarray
    period: np.ndarray | None
    count: np.ndarray
    sums: np.ndarray
    gram: np.ndarray | None
    by_cluster: np.ndarray | None
    periods: np.ndarray
    notes: list = field(default_factory=list)

    # -- what the estimator reads --------------------------------------------------------
    @property
    def panel(self) -> bool:
        return self.period is None

    @property
    def n(self) -> int:
        return int(round(float(self.count.sum())))

    @property
    def n_obs(self) -> int:
        return self.n * self.periods.size if self.panel else self.n

    @property
    def n_clusters(self) -> int:
        return self.n if self.by_cluster is None else int(self.by_cluster.shape[0])

    band_clusters = None  # the reduced rows are already cluster sums (or a root)

    @property
    def band_n(self) -> int:
        return self.n

    @property
    def bootstrap_refusal(self) -> str:
        return BOOTSTRAP_REFUSAL if self.by_cluster is None else ""

    def cohort_values(self) -> np.ndarray:
        return np.unique(self.first[self.count > 0])

    def treated_clusters(self, groups) -> tuple[int, int] | None:
        """(clusters, clusters with units of the cohorts ``groups``), or None unclustered."""
        if self.by_cluster is None:
            return None
        in_groups = np.isin(self.first, groups)
        seen = self.by_cluster[:, in_groups, 0].sum(axis=1) > 0
        return self.n_clusters, int(seen.sum())

    def keep_periods(self, keep: np.ndarray) -> MomentSample:
        """The sample restricted to the periods where ``keep`` is true."""
        if self.panel:
            dims = np.concatenate([[True], keep])
            return replace(self, sums=self.sums[:, dims], periods=self.periods[keep],
                           gram=None if self.gram is None else self.gram[:, dims][:, :, dims],
                           by_cluster=None if self.by_cluster is None
                           else self.by_cluster[:, :, dims])
        cells = keep[self.period]
        by_cluster = None
        if self.by_cluster is not None:
            by_cluster = self.by_cluster[:, cells]
            by_cluster = by_cluster[by_cluster[:, :, 0].sum(axis=1) > 0]
        new_code = np.cumsum(keep) - 1
        return replace(self, first=self.first[cells], period=new_code[self.period[cells]],
                       count=self.count[cells], sums=self.sums[cells],
                       gram=None if self.gram is None else self.gram[cells],
                       by_cluster=by_cluster, periods=self.periods[keep])

    # -- the reduced influence functions -------------------------------------------------
    def reduce(self, coef: np.ndarray) -> np.ndarray:
        """Reduced rows (m, K) of influence functions with basis coefficients (Q, D, K)."""
        if self.by_cluster is not None:
            return np.einsum("gqd,qdk->gk", self.by_cluster, coef)
        lam, vec = np.linalg.eigh(self.gram)  # Q small (D x D) Gram matrices
        root = np.sqrt(np.maximum(lam, 0.0))[:, :, None] * np.swapaxes(vec, 1, 2)
        return np.einsum("qed,qdk->qek", root, coef).reshape(-1, coef.shape[2])

    def unit_groups(self) -> UnitGroups:
        n = float(self.count.sum())
        shares = {}
        for g in np.unique(self.first[np.isfinite(self.first)]):
            shares[float(g)] = float(self.count[self.first == g].sum()) / n
        dim = self.sums.shape[1]

        def indicator(groups):
            coef = np.zeros((self.first.size, dim, groups.size))
            coef[:, 0, :] = self.first[:, None] == groups[None, :]
            return self.reduce(coef)

        ones = np.zeros((self.first.size, dim, 1))
        ones[:, 0, 0] = 1.0
        return UnitGroups(shares=shares, indicator=indicator, ones=self.reduce(ones)[:, 0])

    # -- the estimates --------------------------------------------------------------------
    def part_counts(self, cells, control) -> list[np.ndarray]:
        """Draws in each part of each cell: panel (treated, controls); cross-sections (treated
        in t, treated in base, controls in t, controls in base)."""
        return [m.T @ self.count for m in self._parts(cells, control)]

    def _parts(self, cells, control):
        treated, ctrl = masks(self.first, cells, control)  # (Q, K) booleans
        if self.panel:
            return [treated, ctrl]
        in_t = self.period[:, None] == np.array([c.t_index for c in cells])[None, :]
        in_b = self.period[:, None] == np.array([c.base_index for c in cells])[None, :]
        return [treated & in_t, treated & in_b, ctrl & in_t, ctrl & in_b]

    def unconditional(self, cells, control) -> tuple[np.ndarray, np.ndarray]:
        """ATT(g,t) and reduced influence functions (the in-memory path's, reduced)."""
        parts = self._parts(cells, control)
        n = float(self.count.sum())
        k = len(cells)
        coef = np.zeros((self.first.size, self.sums.shape[1], k))
        att = np.zeros(k)
        if self.panel:
            t_idx = 1 + np.array([c.t_index for c in cells])
            b_idx = 1 + np.array([c.base_index for c in cells])
            change = self.sums[:, t_idx] - self.sums[:, b_idx]  # (Q, K) summed changes
            signs = (1.0, -1.0)
        else:
            change = np.repeat(self.sums[:, 1:2], k, axis=1)  # (Q, K) summed outcomes
            signs = (1.0, -1.0, -1.0, 1.0)
        cols = np.arange(k)
        for sign, part in zip(signs, parts):
            w = part.astype(float)
            size = w.T @ self.count
            mean = (w * change).sum(axis=0) / size
            att += sign * mean
            scale = sign * n / size * w  # (Q, K)
            if self.panel:
                coef[:, 0, :] -= scale * mean
                for q in np.flatnonzero(w.any(axis=1)):  # a cohort's basis columns t and b
                    coef[q, t_idx, cols] += scale[q]
                    coef[q, b_idx, cols] -= scale[q]
            else:
                own = self.sums[:, 1] / self.count  # each cell's mean (the basis centre)
                coef[:, 0, :] += scale * (own[:, None] - mean[None, :])
                coef[:, 1, :] += scale
        ref = np.array([c.reference for c in cells])
        att[ref] = 0.0
        coef[:, :, ref] = 0.0
        return att, self.reduce(coef)


def moment_sample(m: CohortMoments, *, panel: bool) -> MomentSample:
    """A :class:`MomentSample` from the engine's cohort moments."""
    g = m.groups
    t_n = m.periods.size
    if panel:
        cells = g.groupby("first", sort=True)
        first = np.array(list(cells.groups.keys()), dtype=float)
        idx = np.searchsorted(first, g["first"].to_numpy())
        s_cols = [f"s::{k}" for k in range(t_n)]
        basis = np.column_stack([g["count"].to_numpy(), g[s_cols].to_numpy()])  # rows x D
        period = None
    else:
        key = g["period"].to_numpy(float)
        pairs = np.unique(np.column_stack([g["first"].to_numpy(), key]), axis=0)
        first, period = pairs[:, 0], pairs[:, 1].astype(np.int64)
        idx = _row_index(pairs, g["first"].to_numpy(), key)
        basis = np.column_stack([g["count"].to_numpy(), g["sum"].to_numpy()])
    q_n, dim = first.size, basis.shape[1]
    sums = np.zeros((q_n, dim))
    np.add.at(sums, idx, basis)
    count = sums[:, 0].copy()
    gram = by_cluster = None
    if m.cluster_labels is not None:
        by_cluster = np.zeros((len(m.cluster_labels), q_n, dim))
        np.add.at(by_cluster, (g["cluster"].to_numpy(), idx), basis)
        if not panel:  # centre each cell's sums on its mean, as the basis is
            own = sums[:, 1] / count
            by_cluster[:, :, 1] -= by_cluster[:, :, 0] * own[None, :]
    elif panel:
        gram = np.zeros((q_n, dim, dim))
        gram[:, 0, 0] = count
        gram[:, 0, 1:] = gram[:, 1:, 0] = sums[:, 1:]
        for j in range(t_n):
            for k in range(j, t_n):
                col = np.zeros(q_n)
                np.add.at(col, idx, g[f"c::{j}::{k}"].to_numpy())
                gram[:, 1 + j, 1 + k] = gram[:, 1 + k, 1 + j] = col
    else:  # the basis [1, y - mean]: its Gram matrix is diagonal
        ss = np.zeros(q_n)
        np.add.at(ss, idx, g["ss"].to_numpy())
        gram = np.zeros((q_n, dim, dim))
        gram[:, 0, 0], gram[:, 1, 1] = count, ss
    return MomentSample(first=first, period=period, count=count, sums=sums, gram=gram,
                        by_cluster=by_cluster, periods=m.periods.astype(float),
                        notes=list(m.notes))


def sample_in_engine(est, data) -> MomentSample:
    """The cohort moments of ``est``'s data held by an engine, with the in-memory path's
    warnings (dropped units or rows, late cohorts)."""
    table = as_table(data)
    plan = PanelPlan(outcome=est.outcome, unit=est.unit or "", time=est.time,
                     first_treated=est.first_treated, cluster=est.cluster, panel=est.panel)
    if est.panel:
        m = panel_moments(table, plan, require_controls=est.control == "never_treated")
    else:
        m = cross_section_moments(table, plan)
    warn_all(list(m.dropped), DroppedRowsWarning)
    warn_all(list(m.notes), StatisticalWarning)
    sample = moment_sample(m, panel=est.panel)
    sample.notes = list(m.dropped) + list(m.notes)
    return sample


def _row_index(pairs: np.ndarray, first: np.ndarray, period: np.ndarray) -> np.ndarray:
    order = {(float(a), float(b)): i for i, (a, b) in enumerate(pairs)}
    return np.array([order[(float(a), float(b))] for a, b in zip(first, period)])


__all__ = ["BOOTSTRAP_REFUSAL", "MomentSample", "moment_sample", "sample_in_engine"]
