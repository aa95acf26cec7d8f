"""Vectorised stratified bootstrap of arm means (plain and regression-adjusted).

The draws follow one canonical order, so a blocked computation gives exactly the draws of a simple
loop: for draw ``b`` the generator yields ``n`` uniforms ``u`` (rows ordered by arm, as given by
``order``), and the resampled row of position ``j`` in arm ``a`` is
``start_a + floor(u_j * n_a)``. Blocks of draws are consecutive rows of one ``rng.random`` stream,
so the block size does not change the draws.
"""

from __future__ import annotations

import numpy as np

from ..errors import EstimationError

#: maximum number of (draw x row) cells held at once
MAX_CELLS = 4_000_000


def resample_positions(u: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Map uniforms (draws x n, rows sorted by arm) to resampled row positions within arms."""
    arm_of = np.repeat(np.arange(sizes.size), sizes)
    n_arm = sizes[arm_of]
    pos = np.floor(u * n_arm).astype(np.int64)
    np.minimum(pos, n_arm - 1, out=pos)
    return pos + starts[arm_of]


def counts_from_positions(pos: np.ndarray, n: int) -> np.ndarray:
    """Bootstrap frequency weights (draws x n) from resampled positions."""
    b = pos.shape[0]
    flat = (pos + (np.arange(b) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)


def design(arm_codes: np.ndarray, k: int, covariates: np.ndarray | None) -> np.ndarray:
    """Intercept, arm dummies (reference = code 0 omitted) and centred covariates."""
    n = arm_codes.size
    cols = [np.ones(n)]
    for a in range(1, k):
        cols.append((arm_codes == a).astype(np.float64))
    if covariates is not None and covariates.shape[1]:
        cols.extend((covariates - covariates.mean(axis=0)).T)
    return np.column_stack(cols)


def _solve(xtwx: np.ndarray, xtwy: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(xtwx, xtwy[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise EstimationError(
            "the regression for adjusted costs/effects is singular (a covariate is constant or "
            "collinear with the arms, possibly within a bootstrap resample); drop it"
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
    """Recycled predictions: mean prediction with every row set to each arm (draws x k)."""
    base = x.copy()
    base[:, 1:k] = 0.0
    lin0 = beta @ base.T  # draws x n, arm dummies switched off
    wsum = w.sum(axis=1)
    out = np.empty((beta.shape[0], k))
    for a in range(k):  # loop over arms (few), never over draws
        lin = lin0 if a == 0 else lin0 + beta[:, a:a + 1]
        pred = np.exp(np.clip(lin, -700, 700)) if link == "log" else lin
        out[:, a] = np.einsum("bn,bn->b", w, pred) / wsum
    return out
