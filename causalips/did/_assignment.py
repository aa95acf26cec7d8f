"""The assignment design: what re-assigning treatment timing across clusters needs, per cell.

Randomization inference and Conley–Taber move the observed treatment timing to other clusters
and recompute the DiD (or event-study) coefficients. With exposure set per cluster x period
cell, the regressors of any assignment are ``X = C x`` (``C``: rows to cells, ``x``: the
cell-level regressors), so by Frisch–Waugh–Lovell

    beta(x) = (x' Q x)^-1 x' r,    Q = C'W M C,   r = C'W M y,

with ``M`` removing the fixed effects and the covariates. ``Q`` is never formed densely:

- one fixed effect that is *not* constant within cells (person fixed effects) is absorbed
  exactly through its sparse cell-by-level weight table ``N``:
  ``P = diag(W_cell) - N diag(1/W_level) N'`` (block-diagonal by cluster when people stay
  in one municipality);
- fixed effects constant within cells (period, municipality) are indicator matrices ``S`` of
  cells, removed by a small projection: ``Q_F = P - PS (S'PS)^+ S'P``;
- covariates by one more low-rank term, from the cell sums the fit kept.

So ``Q v = P v - H Lambda H' v`` with ``P`` sparse and ``H`` of a few columns, and every block
of assignments costs a sparse product and a thin dense one. Two or more fixed effects that vary
within cells (rare) fall back to residualising the cell indicators through the fitted fixed
effects. The design is built on first use, from the :class:`DesignSource` a result keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._progress import progress_bar
from ..errors import SpecificationError
from ._within_ols import FixedEffects, LinearFit, _bincount_cols

#: dense regressor block (cells x draws x terms) built at once
BLOCK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class Timing:
    """How a cluster's first exposed period becomes its cells' regressors.

    ``event_times=None``: the exposure indicator ``period >= first`` (DiD). Otherwise event-time
    indicators ``clip(period - first, lo, hi) == e`` for each listed ``e`` (a TWFE event study
    with binned end points).
    """

    event_times: tuple[int, ...] | None = None
    lo: int = 0
    hi: int = 0

    @property
    def k(self) -> int:
        return 1 if self.event_times is None else len(self.event_times)

    def regressors(self, cell_period: np.ndarray, first_of_cell: np.ndarray) -> np.ndarray:
        """(J, B, k) regressors for ``first_of_cell`` (J, B): each cell's cluster timing."""
        period = cell_period[:, None]
        if self.event_times is None:
            out = np.empty(first_of_cell.shape + (1,))
            np.greater_equal(period, first_of_cell, out=out[:, :, 0], casting="unsafe")
            return out
        et = period - first_of_cell  # -inf when never treated
        treated = np.isfinite(et)
        e = np.clip(np.where(treated, et, 0.0), self.lo, self.hi)
        out = np.zeros(et.shape + (len(self.event_times),))
        for j, t in enumerate(self.event_times):  # a handful of event times
            out[:, :, j] = treated & (e == t)
        return out


@dataclass(frozen=True, eq=False)
class DesignSource:
    """What a fitted result keeps so the assignment design can be built later (references)."""

    fit: LinearFit
    fe: FixedEffects
    row_cell: np.ndarray  # cell index of each fitted row (rows are cells on the cell path)
    periods: np.ndarray  # period value of each period code
    treat_terms: tuple[str, ...]
    timing: Timing
    refusal: str = ""  # why re-assignment does not apply to this fit ("" = it does)


@dataclass(frozen=True)
class BlockStats:
    """Per-assignment quantities of one block of draws."""

    x: np.ndarray  # (J, B, k) regressors
    qx: np.ndarray  # (J, B, k) Q x
    den: np.ndarray  # (B, k, k) x'Qx
    num: np.ndarray  # (B, k) x'r
    cross: np.ndarray  # (B, k, k) x'Q x_observed


@dataclass(frozen=True, eq=False)
class AssignmentDesign:
    """Cell-level quantities for re-assigning treatment timing (see the module docstring)."""

    p: object  # (J, J) scipy sparse, or dense in the fallback
    h: np.ndarray  # (J, m)
    lam: np.ndarray  # (m, m)
    r: np.ndarray  # (J,)
    cell_cluster: np.ndarray  # (J,)
    cell_period: np.ndarray  # (J,) period value of each cell
    first_by_cluster: np.ndarray  # (G,), inf = never treated
    timing: Timing
    terms: tuple[str, ...]
    estimate: np.ndarray  # (k,) the fitted coefficients of the terms
    x_obs: np.ndarray  # (J, k) observed regressors
    cell_weight: np.ndarray  # (J,)
    cell_size: np.ndarray  # (J,) people per cell

    @property
    def n_cells(self) -> int:
        return self.r.size

    def q(self, v: np.ndarray) -> np.ndarray:
        """``Q v`` for ``v`` (J,) or (J, m)."""
        return self.p @ v - self.h @ (self.lam @ (self.h.T @ v))

    @property
    def qx_obs(self) -> np.ndarray:
        return self.q(self.x_obs)

    def block(self, firsts: np.ndarray, qx_obs: np.ndarray) -> BlockStats:
        """Quantities for each row of ``firsts`` (B x G first-treated periods)."""
        by_cluster = np.ascontiguousarray(firsts.T)  # (G, B)
        x = self.timing.regressors(self.cell_period, np.take(by_cluster, self.cell_cluster, 0))
        n_cells, n_draws, k = x.shape
        qx = self.q(x.reshape(n_cells, n_draws * k)).reshape(n_cells, n_draws, k)
        return BlockStats(x=x, qx=qx, den=np.einsum("jbk,jbl->bkl", x, qx),
                          num=np.einsum("jbk,j->bk", x, self.r),
                          cross=np.einsum("jbk,jl->bkl", x, qx_obs))

    def betas(self, firsts: np.ndarray) -> np.ndarray:
        """Coefficients (B, k) for each row of ``firsts``; NaN where not identified."""
        stats = self.block(np.atleast_2d(firsts), self.qx_obs)
        return solve_batch(stats.den, stats.num)

    def blocks(self, firsts: np.ndarray, *, progress: bool, desc: str):
        """Iterate over blocks of ``firsts`` (rows) with a progress bar: (slice, BlockStats)."""
        size = max(1, BLOCK_ELEMENTS // max(1, self.n_cells * self.timing.k))
        qx_obs = self.qx_obs
        with progress_bar(firsts.shape[0], desc=desc, unit="draw", enabled=progress) as bar:
            for start in range(0, firsts.shape[0], size):
                part = slice(start, min(firsts.shape[0], start + size))
                yield part, self.block(firsts[part], qx_obs)
                bar.update(part.stop - part.start)


def solve_batch(den: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``den^-1 rhs`` per draw (den (B, k, k), rhs (B, k) or (B, k, m)); NaN when singular."""
    k = den.shape[-1]
    if k == 1:
        d = den[:, 0, 0]
        ok = d > 1e-12 * max(1.0, float(np.max(np.abs(d))) if d.size else 1.0)
        safe = np.where(ok, d, 1.0)
        out = rhs / (safe[:, None] if rhs.ndim == 2 else safe[:, None, None])
    else:
        eig = np.linalg.eigvalsh(den)
        ok = eig[:, 0] > 1e-10 * np.maximum(eig[:, -1], 1e-300)
        safe = np.where(ok[:, None, None], den, np.eye(k))
        out = (np.linalg.solve(safe, rhs[..., None])[..., 0] if rhs.ndim == 2
               else np.linalg.solve(safe, rhs))
    out = np.array(out, dtype=np.float64)
    out[~ok] = np.nan
    return out


# -- building the design from a fit -----------------------------------------------------------
def build_design(source: DesignSource, *, progress: bool = True) -> AssignmentDesign:
    """The :class:`AssignmentDesign` of a fit (raises SpecificationError where it cannot)."""
    if source.refusal:
        raise SpecificationError(source.refusal)
    fit = source.fit
    cells = fit.cells
    cell_period = source.periods[fit.cell_time]
    first_cl = _cluster_timing(cells.exposure / cells.weight, fit.cell_cluster, cell_period,
                               fit.n_clusters)
    t_idx = [fit.names.index(t) for t in source.treat_terms]
    x_obs = source.timing.regressors(cell_period, first_cl[fit.cell_cluster][:, None])[:, 0, :]
    if not np.allclose(x_obs, cells.wx[:, t_idx] / cells.weight[:, None], atol=1e-9):
        raise SpecificationError(
            "re-assigning treatment timing needs each cluster's first exposed period observed: "
            "the regressors rebuilt from the clusters' timing differ from the fitted ones (a "
            "cluster is not observed in its first exposed period). Use WildBootstrap instead.")
    p, h_fe, lam_fe = _fixed_effect_part(source.fe, source.row_cell, cell_period.size, progress)
    h, lam, r = _with_covariates(fit, t_idx, h_fe, lam_fe)
    return AssignmentDesign(p=p, h=h, lam=lam, r=r, cell_cluster=fit.cell_cluster,
                            cell_period=cell_period, first_by_cluster=first_cl,
                            timing=source.timing, terms=source.treat_terms,
                            estimate=fit.coef[t_idx], x_obs=x_obs, cell_weight=cells.weight,
                            cell_size=cells.people)


def _cluster_timing(share, cell_cluster, cell_period, n_clusters) -> np.ndarray:
    """First exposed period per cluster; refuses timing that is not cluster-level, absorbing."""
    if np.any((share > 1e-12) & (share < 1 - 1e-12)):
        raise SpecificationError(
            "randomization inference and Conley-Taber re-assign treatment timing across "
            "clusters, so exposure must be set at the cluster x period level; here it varies "
            "within cluster-period cells (person-level timing). Use WildBootstrap instead.")
    exposed = share > 0.5
    first = np.full(n_clusters, np.inf)
    np.minimum.at(first, cell_cluster, np.where(exposed, cell_period, np.inf))
    if np.any((cell_period >= first[cell_cluster]) != exposed):
        raise SpecificationError(
            "randomization inference and Conley-Taber re-assign a cluster's treatment timing, "
            "but exposure here is not absorbing at the cluster level (a cluster has unexposed "
            "periods after its first exposed period). Use WildBootstrap instead.")
    return first


def _cell_levels(codes: np.ndarray, row_cell: np.ndarray, n_cells: int):
    """(level of each cell, whether the factor is constant within every cell)."""
    lvl = np.zeros(n_cells, dtype=np.int64)
    lvl[row_cell] = codes  # the last row's level ...
    return lvl, bool(np.array_equal(lvl[row_cell], codes))  # ... equals every row's?


def _fixed_effect_part(fe: FixedEffects, row_cell, n_cells, progress):
    """``P`` and the low-rank removal ``H Lambda H'`` of the fixed effects constant in cells."""
    w = fe.weights
    cell_w = np.bincount(row_cell, weights=w, minlength=n_cells)
    levels = [_cell_levels(c, row_cell, n_cells) for c in fe.codes]
    varying = [i for i, (_, const) in enumerate(levels) if not const]
    if len(varying) >= 2:
        return _dense_fixed_effect_part(fe, row_cell, n_cells, progress), np.zeros(
            (n_cells, 0)), np.zeros((0, 0))
    if varying:
        absorb = varying[0]
    elif fe.codes:
        absorb = int(np.argmax(fe.levels))
    else:
        absorb = None
    p = sp.diags(cell_w).tocsr()
    if absorb is not None:
        codes, n_lv = fe.codes[absorb], fe.levels[absorb]
        n = sp.csr_matrix((w, (row_cell, codes)), shape=(n_cells, n_lv))
        w_lv = np.bincount(codes, weights=w, minlength=n_lv)
        inv = np.divide(1.0, w_lv, out=np.zeros_like(w_lv), where=w_lv > 0)
        p = (p - n @ sp.diags(inv) @ n.T).tocsr()
    blocks = [sp.csr_matrix((np.ones(n_cells), (np.arange(n_cells), lvl)),
                            shape=(n_cells, fe.levels[i]))
              for i, (lvl, _) in enumerate(levels) if i != absorb]
    if not blocks:
        return p, np.zeros((n_cells, 0)), np.zeros((0, 0))
    s = sp.hstack(blocks).tocsr()
    ps = (p @ s).toarray()
    sps = np.asarray(s.T @ ps)
    return p, ps, np.linalg.pinv(sps, rcond=1e-10, hermitian=True)


def _dense_fixed_effect_part(fe: FixedEffects, row_cell, n_cells, progress) -> np.ndarray:
    """``C'W M C`` by residualising blocks of cell indicators (two or more row-level FEs)."""
    n = row_cell.size
    w = fe.weights
    q = np.zeros((n_cells, n_cells))
    chunk = max(1, min(n_cells, 20_000_000 // max(n, 1)))
    with progress_bar(n_cells, desc="assignment design", unit="cell", enabled=progress) as bar:
        for start in range(0, n_cells, chunk):  # column blocks: bounded memory
            cols = np.arange(start, min(n_cells, start + chunk))
            block = np.zeros((n, cols.size))
            inside = (row_cell >= cols[0]) & (row_cell <= cols[-1])
            block[np.flatnonzero(inside), row_cell[inside] - cols[0]] = 1.0
            q[:, cols] = _bincount_cols(row_cell, w[:, None] * fe.residualise(block), n_cells)
            bar.update(cols.size)
    return 0.5 * (q + q.T)


def _with_covariates(fit: LinearFit, t_idx, h_fe, lam_fe):
    """Add the covariates' low-rank term; return (H, Lambda, r)."""
    cells = fit.cells
    cov = [j for j in range(fit.coef.size) if j not in t_idx]
    r = cells.wy.copy()
    if not cov:
        return h_fe, lam_fe, r
    h_tot = fit.h_cell.sum(axis=0)
    g_tot = fit.g_cell.sum(axis=0)
    c_x = cells.wxd[:, cov]
    x_inv = np.linalg.inv(h_tot[np.ix_(cov, cov)])
    r = r - c_x @ (x_inv @ g_tot[cov])
    m = lam_fe.shape[0]
    lam = np.zeros((m + len(cov), m + len(cov)))
    lam[:m, :m] = lam_fe
    lam[m:, m:] = x_inv
    return np.column_stack([h_fe, c_x]), lam, r


__all__ = ["AssignmentDesign", "BlockStats", "DesignSource", "Timing", "build_design",
           "solve_batch"]
