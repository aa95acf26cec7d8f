"""Least squares over the probability simplex (weights >= 0 that sum to one).

Two solvers for the two synthetic estimators: an exact one for synthetic control's donor
weights (:func:`simplex_least_squares`), and a batched Frank–Wolfe for synthetic DiD's
regularised unit and time weights (:func:`frank_wolfe_simplex`, synthdid's ``sc.weight.fw``),
which solves many placebo problems at once.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize


def _polish(A, b, w0, scale):
    """SLSQP under the exact constraints, from ``w0``; the objective is scaled by ``scale``."""
    k = A.shape[1]
    if k == 1:
        return np.ones(1)
    AtA, Atb = A.T @ A, A.T @ b
    res = optimize.minimize(
        lambda w: float(np.sum((A @ w - b) ** 2)) / scale**2, w0,
        jac=lambda w: 2 * (AtA @ w - Atb) / scale**2, method="SLSQP",
        bounds=[(0.0, 1.0)] * k,
        constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0,
                      "jac": lambda w: np.ones_like(w)},),
        options={"ftol": 1e-14, "maxiter": 2000})
    w = np.clip(res.x, 0.0, None)
    return w / w.sum() if w.sum() > 0 else w0


def simplex_least_squares(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin_w ||A w - b||^2 subject to w >= 0 and sum(w) = 1.

    Starts from non-negative least squares on the system augmented with a heavily weighted
    row ``sum(w) = 1`` (scipy's ``nnls``, an exact active-set method), then polishes with SLSQP
    under the exact constraint on the donors that carry weight, adding any donor whose
    gradient shows it would lower the objective (the KKT conditions of the full problem) until
    none does; keeps the better of the start and the polished weights. Polishing only the
    support keeps many donors (hundreds) cheap: an optimum uses at most rows + 1 of them.
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    k = A.shape[1]
    if k == 1:
        return np.ones(1)
    scale = max(np.linalg.norm(A), np.linalg.norm(b), 1.0)
    big = 1e3 * scale
    try:
        w0, _ = optimize.nnls(np.vstack([A / scale, np.full((1, k), big / scale)]),
                              np.r_[b / scale, big / scale], maxiter=50 * k)
    except RuntimeError:
        w0 = np.full(k, 1.0 / k)
    w0 = w0 / w0.sum() if w0.sum() > 0 else np.full(k, 1.0 / k)

    def f(w):
        r = A @ w - b
        return float(r @ r) / scale**2

    start = w0
    support = w0 > 0
    w = w0
    for _ in range(k):
        w = np.zeros(k)
        w[support] = _polish(A[:, support], b, w0[support] / w0[support].sum(), scale)
        grad = A.T @ (A @ w - b) / scale**2
        level = np.min(grad[w > 0])  # the multiplier of sum(w) = 1 at the optimum
        gain = np.where(support, 0.0, level - grad)
        if not np.any(gain > 1e-10 * max(1.0, np.abs(grad).max())):
            break
        add = np.argsort(-gain)[:max(5, A.shape[0])]
        support[add[gain[add] > 0]] = True
        w0 = np.where(support, np.maximum(w, 1e-3 / k), 0.0)
    return w if f(w) <= f(start) else start


def frank_wolfe_simplex(A, b, x, zeta2, min_decrease, max_iter):
    """Frank-Wolfe for min zeta^2 |x|^2 + |A x - b|^2 / n over the simplex, batched over draws.

    ``A`` is (R, n, k), ``b`` (R, n), ``x`` (R, k) the starting weights; each problem stops as
    synthdid's ``sc.weight.fw`` does (when the objective decreases by less than
    ``min_decrease^2``, or after ``max_iter`` steps). Exact line search on each step. Problems
    that have stopped are dropped from the working arrays, so late iterations are cheap. Many
    problems at once (placebo draws) work on their Gram matrices A'A, which makes a step O(k)
    instead of O(nk); a single problem is quicker on A itself (fewer array operations).
    """
    if A.shape[0] >= 4:
        return _frank_wolfe_gram(A, b, x, zeta2, min_decrease, max_iter)
    R, n, k = A.shape
    eta = n * zeta2
    out = x.copy()
    ids = np.arange(R)
    Aa, ba, xa = A, b, x.copy()
    Ax = np.matmul(Aa, xa[:, :, None])[:, :, 0]
    prev = np.full(R, np.nan)
    t = 0
    while t < max_iter and ids.size:
        t += 1
        r = np.arange(ids.size)
        grad = np.matmul((Ax - ba)[:, None, :], Aa)[:, 0, :] + eta * xa
        i = grad.argmin(axis=1)
        dx = -xa
        dx[r, i] += 1.0
        d_err = Aa[r, :, i] - Ax
        den = (d_err * d_err).sum(axis=1) + eta * (dx * dx).sum(axis=1)
        num = -(grad * dx).sum(axis=1)
        step = np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), 0.0, 1.0)
        xa = xa + step[:, None] * dx
        Ax = Ax + step[:, None] * d_err
        err = Ax - ba
        val = zeta2 * (xa * xa).sum(axis=1) + (err * err).sum(axis=1) / n
        if t >= 2:
            go = (prev - val) > min_decrease**2
            if not go.all():
                out[ids[~go]] = xa[~go]
                ids, Aa, ba, xa, Ax, val = ids[go], Aa[go], ba[go], xa[go], Ax[go], val[go]
        prev = val
    out[ids] = xa
    return out


def _frank_wolfe_gram(A, b, x, zeta2, min_decrease, max_iter):
    """The same iterations on G = A'A, c = A'b (kept per problem), tracking G x."""
    R, n, k = A.shape
    eta = n * zeta2
    out = x.copy()
    ids = np.arange(R)
    G = np.matmul(np.swapaxes(A, 1, 2), A)
    c = np.einsum("rnk,rn->rk", A, b)
    bb = np.einsum("rn,rn->r", b, b)
    g_diag = np.einsum("rkk->rk", G)
    xa = x.copy()
    Gx = np.einsum("rkj,rj->rk", G, xa)
    prev = np.full(R, np.nan)
    r = np.arange(R)
    t = 0
    while t < max_iter and ids.size:
        t += 1
        grad = Gx - c + eta * xa
        i = grad.argmin(axis=1)
        xx = np.einsum("rk,rk->r", xa, xa)
        num = np.einsum("rk,rk->r", grad, xa) - grad[r, i]  # -grad . (e_i - x)
        den = (g_diag[r, i] - 2 * Gx[r, i] + np.einsum("rk,rk->r", xa, Gx)
               + eta * (1 - 2 * xa[r, i] + xx))  # |A (e_i - x)|^2 + eta |e_i - x|^2
        step = np.clip(np.divide(num, den, out=np.zeros_like(num), where=den > 0), 0.0, 1.0)
        xa = xa * (1 - step)[:, None]
        xa[r, i] += step
        Gx = Gx + step[:, None] * (G[r, :, i] - Gx)
        val = zeta2 * np.einsum("rk,rk->r", xa, xa) + (
            np.einsum("rk,rk->r", xa, Gx - 2 * c) + bb) / n
        if t >= 2:
            go = (prev - val) > min_decrease**2
            if not go.all():
                out[ids[~go]] = xa[~go]
                ids, G, g_diag, c, bb = ids[go], G[go], g_diag[go], c[go], bb[go]
                xa, Gx, val, r = xa[go], Gx[go], val[go], np.arange(int(go.sum()))
        prev = val
    out[ids] = xa
    return out


def sparsify(x):
    x = np.where(x <= x.max(axis=1, keepdims=True) / 4, 0.0, x)
    return x / x.sum(axis=1, keepdims=True)


def sum_normalize(x):
    s = x.sum(axis=1, keepdims=True)
    return np.where(s != 0, x / np.where(s == 0, 1, s), 1.0 / x.shape[1])
