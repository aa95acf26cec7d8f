"""The within/OLS core of DiD and EventStudy: fixed effects removed, least squares, CR1 scores.

Fixed effects are removed by the Frisch–Waugh–Lovell theorem:

- one fixed effect: demean within its levels (exact);
- two fixed effects (e.g. unit and period): demean within the one with more levels, then remove
  the other *exactly* through its small Gram matrix ``Z'WZ - A'diag(1/W)A`` (``A`` is the sparse
  level-by-level weight table), so unbalanced panels need no iteration;
- three or more: alternating projections to a tight tolerance.

After the fit everything inference needs is kept as *cell sufficient statistics* per
cluster x period cell ``j``: ``g_j = sum w x y`` and ``H_j = sum w x x'`` of the residualised
regressors and outcome. Cluster scores under any null are ``g_j - H_j b`` summed over cells, so
the CR1 variance, the wild cluster bootstrap (restricted or not, any coefficient, any null) and
its subcluster variant run on these small arrays, never on rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import EstimationError


def _bincount_cols(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Column-wise weighted bincount: (n, p) sums of ``values`` (rows, p) by ``codes``."""
    if values.ndim == 1:
        return np.bincount(codes, weights=values, minlength=n)
    return np.column_stack(
        [np.bincount(codes, weights=values[:, j], minlength=n) for j in range(values.shape[1])]
    ) if values.shape[1] else np.zeros((n, 0))


@dataclass(frozen=True, eq=False)
class FixedEffects:
    """Fixed-effect factors (codes 0..L-1 each) with the weights, prepared for residualising."""

    codes: tuple[np.ndarray, ...]
    levels: tuple[int, ...]
    names: tuple[str, ...]
    weights: np.ndarray  # row weights (ones when unweighted)
    _gram: object = None
    _order: tuple[int, ...] = ()

    @classmethod
    def build(cls, codes, levels, names, weights) -> FixedEffects:
        order = tuple(int(i) for i in np.argsort([-lv for lv in levels], kind="stable"))
        gram = None
        if len(codes) == 2:
            a, b = codes[order[0]], codes[order[1]]
            la, lb = levels[order[0]], levels[order[1]]
            w = weights
            wa = np.bincount(a, weights=w, minlength=la)
            wb = np.bincount(b, weights=w, minlength=lb)
            inv = np.divide(1.0, wa, out=np.zeros_like(wa), where=wa > 0)
            amat = sp.csr_matrix((w, (a, b)), shape=(la, lb))
            g = np.diag(wb) - (amat.T @ sp.diags(inv) @ amat).toarray()
            g1 = g[1:, 1:]
            try:
                ginv = np.linalg.pinv(g1, hermitian=True)
            except np.linalg.LinAlgError:  # pragma: no cover
                raise EstimationError("could not invert the fixed-effects Gram matrix") from None
            gram = (wa, inv, ginv)
        return cls(codes=tuple(codes), levels=tuple(levels), names=tuple(names),
                   weights=weights, _gram=gram, _order=order)

    def _demean(self, v: np.ndarray, k: int) -> np.ndarray:
        c, lv, w = self.codes[k], self.levels[k], self.weights
        sw = np.bincount(c, weights=w, minlength=lv)
        inv = np.divide(1.0, sw, out=np.zeros_like(sw), where=sw > 0)
        means = _bincount_cols(c, w[:, None] * v if v.ndim == 2 else w * v, lv)
        means = means * (inv[:, None] if v.ndim == 2 else inv)
        return v - means[c]

    def residualise(self, v: np.ndarray, tol: float = 1e-13, max_iter: int = 10_000) -> np.ndarray:
        """M v: ``v`` (n,) or (n, p) with the fixed effects removed (weighted)."""
        v = np.asarray(v, dtype=np.float64)
        nfe = len(self.codes)
        if nfe == 0:
            return v.copy()
        if nfe == 1:
            return self._demean(v, 0)
        if nfe == 2:
            ka, kb = self._order
            a, b = self.codes[ka], self.codes[kb]
            la, lb = self.levels[ka], self.levels[kb]
            wa, inv, ginv = self._gram
            w = self.weights
            vt = self._demean(v, ka)
            two = vt.ndim == 2
            zty = _bincount_cols(b, w[:, None] * vt if two else w * vt, lb)
            pi = ginv @ zty[1:]
            pi0 = np.concatenate([np.zeros((1,) + pi.shape[1:]), pi])
            fitted = pi0[b]
            unit_mean = _bincount_cols(a, w[:, None] * fitted if two else w * fitted, la)
            unit_mean = unit_mean * (inv[:, None] if two else inv)
            return vt - (fitted - unit_mean[a])
        # alternating projections
        out = v.copy()
        scale = max(float(np.max(np.abs(v))) if v.size else 1.0, 1.0)
        for _ in range(max_iter):
            prev = out
            for k in range(nfe):
                out = self._demean(out, k)
            if float(np.max(np.abs(out - prev))) <= tol * scale:
                return out
        raise EstimationError(
            f"alternating projections did not converge in {max_iter} sweeps over the fixed "
            f"effects {', '.join(self.names)}"
        )

    def dof(self, cluster_codes: np.ndarray | None, n_clusters: int) -> tuple[int, int, int]:
        """(levels counted, levels nested in clusters, number of nested factors).

        K for the small-sample factor is ``k + (sum levels - (n_fe - 1)) - nested levels +
        nested factors`` (fixest/pyfixest's ``"nonnested"`` rule).
        """
        total = sum(self.levels) - (len(self.levels) - 1 if len(self.levels) > 1 else 0)
        nested_levels = 0
        nested = 0
        if cluster_codes is not None:
            big = np.iinfo(np.int64).max
            for c, lv in zip(self.codes, self.levels, strict=True):
                lo = np.full(lv, big)
                hi = np.full(lv, -1)
                np.minimum.at(lo, c, cluster_codes)
                np.maximum.at(hi, c, cluster_codes)
                if np.all(lo == hi):
                    nested_levels += lv
                    nested += 1
        return total, nested_levels, nested


def drop_singletons(codes: list[np.ndarray], counts: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of rows kept after iteratively dropping fixed-effect singletons.

    A singleton is a level holding one observation. When the rows are aggregated cells,
    ``counts`` gives the people behind each row: a level is then a singleton only if it holds
    one person (a municipality seen in one year with three people is not), as the person-level
    regression would judge it.
    """
    n = codes[0].size if codes else 0
    keep = np.ones(n, dtype=bool)
    changed = True
    while changed and codes:
        changed = False
        for c in codes:
            sub = c if keep.all() else c[keep]
            weights = None if counts is None else (counts if keep.all() else counts[keep])
            cnt = np.bincount(sub, weights=weights, minlength=int(c.max()) + 1)
            single = keep & (cnt[c] <= 1 + 1e-9) if counts is not None else keep & (cnt[c] == 1)
            if single.any():
                keep &= ~single
                changed = True
    return keep


@dataclass(frozen=True, eq=False)
class CellSums:
    """Per cluster x period cell sums that re-assignment inference needs (no rows kept).

    ``weight`` = sum w, ``people`` = people behind the cell (rows, or the given cell counts),
    ``wy`` = sum w * (residualised y), ``wxd`` (J, k) = sum w * (residualised x), ``wx``
    (J, k) = sum w * x (raw regressors), ``exposure`` = sum w * (0/1 exposure).
    """

    weight: np.ndarray
    people: np.ndarray
    wy: np.ndarray
    wxd: np.ndarray
    wx: np.ndarray
    exposure: np.ndarray


@dataclass(frozen=True, eq=False)
class LinearFit:
    """A fitted FE regression reduced to what inference needs (no rows kept).

    Attributes
    ----------
    coef : (k,) coefficients of the non-FE regressors, named by ``names``.
    bread : (k, k) ``(X'WX)^-1`` of the residualised regressors.
    g_cell : (J, k) ``sum w x y`` per cluster x period cell; ``h_cell`` (J, k, k) ``sum w x x'``.
    cell_cluster, cell_time : (J,) cluster code and period code of each cell.
    n_obs, k_total (K of the small-sample factor), n_clusters, rss, tss_within.
    cells : :class:`CellSums` of the same cells.
    within_pending : the within-person sum of squares still missing from ``rss`` and
        ``tss_within``, computed on request (engine fits: one more pass over the data that
        only the R² needs); None when they are complete.
    """

    coef: np.ndarray
    names: tuple[str, ...]
    bread: np.ndarray
    g_cell: np.ndarray
    h_cell: np.ndarray
    cell_cluster: np.ndarray
    cell_time: np.ndarray
    n_obs: int
    k_total: int
    n_clusters: int
    rss: float
    tss_within: float
    cells: CellSums | None = None
    within_pending: Callable[[], float] | None = None

    def r2_within(self) -> float:
        """``1 - RSS / TSS`` after the fixed effects (NaN when nothing varies within them)."""
        extra = self.within_pending() if self.within_pending is not None else 0.0
        tss = self.tss_within + extra
        return 1.0 - (self.rss + extra) / tss if tss > 0 else float("nan")

    def cluster_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-cluster ``g`` (G, k) and ``H`` (G, k, k)."""
        g = np.zeros((self.n_clusters,) + self.g_cell.shape[1:])
        h = np.zeros((self.n_clusters,) + self.h_cell.shape[1:])
        np.add.at(g, self.cell_cluster, self.g_cell)
        np.add.at(h, self.cell_cluster, self.h_cell)
        return g, h

    def scores(self, b: np.ndarray | None = None) -> np.ndarray:
        """Cluster scores ``sum w x e`` at coefficients ``b`` (default the estimate): (G, k)."""
        b = self.coef if b is None else b
        g, h = self.cluster_sums()
        return g - h @ b

    def ssc(self, correction: str = "CR1") -> float:
        if correction == "CR0":
            return 1.0
        n, k, g = self.n_obs, self.k_total, self.n_clusters
        return g / (g - 1) * (n - 1) / (n - k)

    def vcov(self, correction: str = "CR1") -> np.ndarray:
        s = self.scores()
        meat = s.T @ s
        return self.ssc(correction) * self.bread @ meat @ self.bread


def cell_index(cluster_codes: np.ndarray, n_clusters: int, time_codes: np.ndarray,
               n_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """(present cells as ``cluster * T + period``, the present-cell index of each row)."""
    full = cluster_codes * n_periods + time_codes
    if n_clusters * n_periods <= 4 * full.size + 100_000:
        present_mask = np.bincount(full, minlength=n_clusters * n_periods) > 0
        return np.flatnonzero(present_mask), (np.cumsum(present_mask) - 1)[full]
    return np.unique(full, return_inverse=True)  # many sparse cells (clusters = people)


def _check_collinear(names, fe: FixedEffects, x, xtx, w) -> None:
    scale = np.sqrt(np.maximum(np.diag(x.T @ (w[:, None] * x)), 1e-300))
    rel = np.diag(xtx) / scale**2
    gone = [names[j] for j in range(len(names)) if rel[j] < 1e-11]
    if gone:
        raise EstimationError(
            f"{', '.join(repr(g) for g in gone)} is collinear with the fixed effects "
            f"({', '.join(fe.names)}): it does not vary within them. Drop it or change the "
            "fixed effects."
        )


def fit_linear(
    y: np.ndarray,
    x: np.ndarray,
    names: tuple[str, ...],
    fe: FixedEffects,
    cluster_codes: np.ndarray,
    n_clusters: int,
    time_codes: np.ndarray,
    n_periods: int,
    k_fe: int,
    *,
    exposure: np.ndarray | None = None,
    people: np.ndarray | None = None,
) -> tuple[LinearFit, np.ndarray]:
    """Fit y on x with the fixed effects; return the fit and each row's cell index.

    ``exposure`` (0/1 per row) and ``people`` (people per row; default one) are summed per
    cell for re-assignment inference (:class:`CellSums`).
    """
    w = fe.weights
    both = fe.residualise(np.column_stack([y, x]))
    yd, xd = both[:, 0], both[:, 1:]
    xtx = xd.T @ (w[:, None] * xd)
    _check_collinear(names, fe, x, xtx, w)
    try:
        bread = np.linalg.inv(xtx)
    except np.linalg.LinAlgError:
        raise EstimationError("the regressors are collinear; drop one of them") from None
    coef = bread @ (xd.T @ (w * yd))
    resid = yd - xd @ coef
    idx, cell = cell_index(cluster_codes, n_clusters, time_codes, n_periods)
    ncell = idx.size
    k = xd.shape[1]
    wx = w[:, None] * xd
    g_cell = _bincount_cols(cell, wx * yd[:, None], ncell)
    h_cell = np.zeros((ncell, k, k))
    for i in range(k):
        for j in range(i, k):
            col = np.bincount(cell, weights=wx[:, i] * xd[:, j], minlength=ncell)
            h_cell[:, i, j] = col
            h_cell[:, j, i] = col
    sums = CellSums(
        weight=np.bincount(cell, weights=w, minlength=ncell),
        people=np.bincount(cell, weights=people, minlength=ncell).astype(np.float64),
        wy=np.bincount(cell, weights=w * yd, minlength=ncell),
        wxd=_bincount_cols(cell, wx, ncell).reshape(ncell, k),
        wx=_bincount_cols(cell, w[:, None] * x, ncell).reshape(ncell, k),
        exposure=(np.zeros(ncell) if exposure is None
                  else np.bincount(cell, weights=w * exposure, minlength=ncell)),
    )
    fit = LinearFit(
        coef=coef, names=tuple(names), bread=bread, g_cell=g_cell, h_cell=h_cell,
        cell_cluster=idx // n_periods, cell_time=idx % n_periods, n_obs=int(y.size),
        k_total=int(k + k_fe), n_clusters=int(n_clusters), rss=float(np.sum(w * resid**2)),
        tss_within=float(np.sum(w * yd**2)), cells=sums,
    )
    return fit, cell


__all__ = ["FixedEffects", "LinearFit", "CellSums", "fit_linear", "drop_singletons",
           "cell_index"]
