"""Vectorised stratified bootstrap of group means (plain and regression-adjusted).

The draws follow one canonical order, so a blocked computation gives exactly the draws of a simple
loop. Resampling people: for draw ``b`` the generator yields ``n`` uniforms ``u`` (rows ordered
by group, reference first), and the resampled row of position ``j`` in group ``a`` is
``start_a + floor(u_j * n_a)``. Resampling clusters (``Bootstrap(cluster=)``): the same with the
``G`` clusters (sorted by label) in place of rows, within group when every cluster lies in one
group (a cluster-randomised trial) and across all clusters otherwise; each person then counts as
often as their cluster was drawn. Blocks of draws are consecutive rows of one ``rng.random``
stream, so the block size does not change the draws.
"""

from __future__ import annotations

import numpy as np

from .._progress import progress_bar
from ..errors import EstimationError

#: maximum number of (draw x row) cells held at once
MAX_CELLS = 4_000_000


def resample_positions(u: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Map uniforms (draws x n, units sorted by stratum) to resampled positions within strata."""
    stratum_of = np.repeat(np.arange(sizes.size), sizes)
    n_stratum = sizes[stratum_of]
    pos = np.floor(u * n_stratum).astype(np.int64)
    np.minimum(pos, n_stratum - 1, out=pos)
    return pos + starts[stratum_of]


def counts_from_positions(pos: np.ndarray, n: int) -> np.ndarray:
    """Bootstrap frequency weights (draws x n) from resampled positions."""
    b = pos.shape[0]
    flat = (pos + (np.arange(b) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)


def design(codes: np.ndarray, k: int, covariates: np.ndarray | None) -> np.ndarray:
    """Intercept, group dummies (reference = code 0 omitted) and centred covariates."""
    n = codes.size
    cols = [np.ones(n)]
    for a in range(1, k):
        cols.append((codes == a).astype(np.float64))
    if covariates is not None and covariates.shape[1]:
        cols.extend((covariates - covariates.mean(axis=0)).T)
    return np.column_stack(cols)


def _solve(xtwx: np.ndarray, xtwy: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(xtwx, xtwy[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise EstimationError(
            "the regression for adjusted costs/effects is singular (a covariate is constant or "
            "collinear with the groups, possibly within a bootstrap resample); drop it"
        ) from None


def wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares for each row of weights ``w`` (draws x n) -> coefficients."""
    xtwx = np.einsum("bn,ni,nj->bij", w, x, x, optimize=True)
    xtwy = np.einsum("bn,ni,n->bi", w, x, y, optimize=True)
    return _solve(xtwx, xtwy)


def gamma_log_irls(x: np.ndarray, y: np.ndarray, w: np.ndarray, *, max_iter: int = 100,
                   tol: float = 1e-10) -> tuple[np.ndarray, bool]:
    """Gamma GLM with log link by IRLS, vectorised over weight rows; returns (coef, converged).

    For the gamma family with the log link the IRLS working weights are constant, so each step is
    a weighted least-squares fit of the working response ``eta + (y - mu) / mu``. Zero costs are
    allowed (quasi-likelihood: the estimating equations need only mu > 0).
    """
    ybar = (w @ y) / w.sum(axis=1)
    if np.any(ybar <= 0):
        raise EstimationError("mean cost is zero in a resample; a log-link cost model needs "
                              "positive mean costs")
    beta = np.zeros((w.shape[0], x.shape[1]))
    beta[:, 0] = np.log(ybar)
    xtwx = np.einsum("bn,ni,nj->bij", w, x, x, optimize=True)
    converged = False
    for _ in range(max_iter):
        eta = beta @ x.T
        mu = np.exp(np.clip(eta, -700, 700))
        z = eta + (y[None, :] - mu) / mu
        new = _solve(xtwx, np.einsum("bn,ni,bn->bi", w, x, z, optimize=True))
        step = np.max(np.abs(new - beta))
        beta = new
        if step < tol:
            converged = True
            break
    return beta, converged


def adjusted_means(x: np.ndarray, beta: np.ndarray, w: np.ndarray, k: int,
                   link: str) -> np.ndarray:
    """Recycled predictions: mean prediction with every row set to each group (draws x k)."""
    base = x.copy()
    base[:, 1:k] = 0.0
    lin0 = beta @ base.T  # draws x n, group dummies switched off
    wsum = w.sum(axis=1)
    out = np.empty((beta.shape[0], k))
    for a in range(k):  # loop over groups (few), never over draws
        lin = lin0 if a == 0 else lin0 + beta[:, a:a + 1]
        pred = np.exp(np.clip(lin, -700, 700)) if link == "log" else lin
        out[:, a] = np.einsum("bn,bn->b", w, pred) / wsum
    return out


def group_means(sample, w: np.ndarray, adjustment: str, pos: np.ndarray | None = None):
    """Mean (or adjusted mean) cost and effect per group for each row of weights: (C, E, ok)."""
    k = len(sample.groups)
    cost, effect, x = sample.cost, sample.effect, sample.x
    if x is None:
        if pos is not None:  # resampled rows: the mean of the drawn values within each group
            cut = list(zip(sample.starts, sample.sizes, strict=True))
            mc = np.column_stack([cost[pos[:, s:s + m]].mean(axis=1) for s, m in cut])
            me = np.column_stack([effect[pos[:, s:s + m]].mean(axis=1) for s, m in cut])
            return mc, me, True
        onehot = (sample.codes[:, None] == np.arange(k)).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):  # an empty group: NaN, caught later
            size = w @ onehot
            mc = (w @ (cost[:, None] * onehot)) / size
            me = (w @ (effect[:, None] * onehot)) / size
        return mc, me, True
    me = adjusted_means(x, wls(x, effect, w), w, k, "identity")
    if adjustment == "ols":
        return adjusted_means(x, wls(x, cost, w), w, k, "identity"), me, True
    beta_c, ok = gamma_log_irls(x, cost, w)
    return adjusted_means(x, beta_c, w, k, "log"), me, ok


def nested(codes: np.ndarray, clusters: np.ndarray) -> bool:
    """True when every cluster lies within one group (a cluster-randomised design)."""
    pairs = np.unique(np.column_stack([clusters, codes]), axis=0)
    return pairs.shape[0] == np.unique(clusters).size


def _cluster_layout(sample):
    """Clusters ordered by stratum (their group when nested, else one stratum): order, sizes."""
    stratum = np.zeros(int(sample.clusters.max()) + 1, dtype=np.int64)
    if nested(sample.codes, sample.clusters):
        stratum[sample.clusters] = sample.codes
    order = np.argsort(stratum, kind="stable")
    sizes = np.bincount(stratum, minlength=int(stratum.max()) + 1)
    return order, np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes


def draw_means(sample, spec, adjustment: str):
    """``spec.reps`` bootstrap draws of the group means: (cost draws x k, effect, converged)."""
    rng = np.random.default_rng(spec.seed)
    n, k, reps = sample.n, len(sample.groups), spec.reps
    clustered = spec.cluster is not None
    if clustered:
        order, c_starts, c_sizes = _cluster_layout(sample)
        units = order.size
    else:
        units = n
    block = max(1, min(reps, MAX_CELLS // max(n, 1)))
    draws_c, draws_e = np.empty((reps, k)), np.empty((reps, k))
    converged = True
    bar = progress_bar(reps, desc="bootstrap", unit="draw", enabled=spec.progress)
    for b0 in range(0, reps, block):  # blocks of draws (memory), never one draw at a time
        b1 = min(reps, b0 + block)
        bar.update(b1 - b0)
        u = rng.random((b1 - b0, units))
        if clustered:
            picked = order[resample_positions(u, c_starts, c_sizes)]
            w = counts_from_positions(picked, units)[:, sample.clusters]
            pos = None
        else:
            pos = resample_positions(u, sample.starts, sample.sizes)
            w = counts_from_positions(pos, n)
        dc, de, ok = group_means(sample, w, adjustment, pos=pos)
        draws_c[b0:b1], draws_e[b0:b1] = dc, de
        converged = converged and ok
    bar.close()
    if clustered and not np.all(np.isfinite(draws_c) & np.isfinite(draws_e)):
        bad = int(np.sum(~np.all(np.isfinite(draws_c) & np.isfinite(draws_e), axis=1)))
        raise EstimationError(
            f"{bad} of {reps} cluster-bootstrap draws leave a group with nobody in it: clusters "
            f"({spec.cluster!r}) span the groups unevenly and are too few; resample people "
            "(Bootstrap without cluster=) or use more clusters")
    return draws_c, draws_e, converged
