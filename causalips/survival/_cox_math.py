"""Numerics of the Cox partial likelihood: risk-set sums without loops over rows or event times.

The rows are indexed once against the event blocks (``_risk_sets``); nothing is sorted inside a
Newton step, and no array has one row per (death, covariate) pair.

Ties: a block with ``d`` deaths contributes ``d`` terms k = 0..d-1. Efron's k-th term removes the
fraction ``f_k = k/d`` of the dying rows' risk from the denominator, Breslow's removes nothing.
Every quantity needs only per-block sums over k of scalar functions of
``den_k = S0 - f_k·S0_deaths`` (computed on a length-Σd array of the k's), combined with the
per-block sums S1 and S1_deaths. Case weights follow R's ``coxph``: each of the ``d`` terms
carries the mean weight of the block's deaths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._risk_sets import (  # noqa: F401  (build_risk_sets, RiskSets: the index this math reads)
    CHUNK,
    RiskSets,
    _chunks,
    _finish_block_sums,
    build_risk_sets,
    over_blocks,
)


@dataclass
class Pieces:
    loglik: float
    score: np.ndarray
    info: np.ndarray
    risk: np.ndarray | None  # exp(eta - shift), per row (None: a fit run in a data engine)
    wx_dead: np.ndarray  # Σ over deaths of w·x
    shift: float
    s1: np.ndarray  # (B, p) risk-set sums of w·r·x
    s1d: np.ndarray  # (B, p) the deaths' part
    c1: np.ndarray  # Σ_k mw/den       (the hazard increment per block)
    cf: np.ndarray  # Σ_k mw f/den
    q0: np.ndarray  # Σ_k mw/den²
    q1: np.ndarray  # Σ_k mw f/den²
    q2: np.ndarray  # Σ_k mw f²/den²
    e0: np.ndarray  # Σ_k 1/den (unweighted)
    e1: np.ndarray  # Σ_k f/den (unweighted)
    s2: np.ndarray | None = None  # (B, p(p+1)/2) risk-set sums of w·r·x x' (fits in an engine)
    s2d: np.ndarray | None = None  # the deaths' part


def _buffer(rs: RiskSets, name: str, shape) -> np.ndarray:
    """Scratch arrays reused across Newton steps (large temporaries cost page faults)."""
    cache = rs.__dict__.setdefault("_buffers", {})
    buf = cache.get(name)
    if buf is None or buf.shape != tuple(shape):
        buf = np.empty(shape, order="F")
        cache[name] = buf
    return buf


def evaluate(rs: RiskSets, x: np.ndarray, beta: np.ndarray, wx_dead: np.ndarray | None,
             *, info: bool = True) -> Pieces:
    """Partial log-likelihood, score and information at ``beta``.

    ``x`` should be centred (and is best Fortran-ordered); ``wx_dead`` is Σ_deaths w·x. At
    β = 0 it may be None: it is then read off the death sums (the risk is exactly 1) and
    returned in ``Pieces.wx_dead``.
    """
    p = x.shape[1]
    nb = rs.n_blocks
    at_zero = not np.any(beta)
    eta = _buffer(rs, "eta", (rs.n,))
    if at_zero:
        shift = 0.0  # every risk is exactly 1
    else:
        np.matmul(x, beta, out=eta)  # BLAS; exact ties are not needed here
        shift = float(eta.max()) if eta.size else 0.0
        eta -= shift
    # one cache-sized chunk of rows at a time: risk, w·r, w·r·x and their run sums
    k = p + 1
    risk = np.ones(rs.n) if at_zero else np.empty(rs.n)
    full = np.zeros((2 * (nb + 1), k))
    rem = np.zeros((nb + 1, k)) if rs.has_entry else None
    per = np.zeros((rs.n_strata, k)) if (rs.strata is not None and not rs.has_entry) else None
    mbuf = _buffer(rs, "m", (min(CHUNK, rs.n), k))
    for r0, r1, starts, keys, _lengths in _chunks(rs):
        mc = mbuf[: r1 - r0]
        r = risk[r0:r1] if at_zero else np.exp(eta[r0:r1], out=risk[r0:r1])
        if rs.unit_weights:
            mc[:, 0] = r
            wr = mc[:, 0]
        else:
            wr = np.multiply(rs.weights[r0:r1], r, out=mc[:, 0])
        for j in range(p):
            np.multiply(x[r0:r1, j], wr, out=mc[:, j + 1])
        full[keys] += np.add.reduceat(mc, starts, axis=0)
        if rem is not None:
            for j in range(k):
                rem[:, j] += np.bincount(rs.lo[r0:r1], weights=mc[:, j], minlength=nb + 1)
        elif per is not None:
            for j in range(k):
                per[:, j] += np.bincount(rs.strata[r0:r1], weights=mc[:, j],
                                         minlength=rs.n_strata)
    tot, dth = _finish_block_sums(rs, full, rem, per)
    if wx_dead is None:
        if np.any(beta != 0):
            raise ValueError("wx_dead is needed when beta is not 0")
        wx_dead = dth[:, 1:].sum(axis=0)
    w_dead = rs.__dict__.get("_w_dead")
    if w_dead is None:
        w_dead = rs.__dict__["_w_dead"] = float(
            rs.death_rows.size if rs.unit_weights else np.sum(rs.weights[rs.death_rows]))
    pieces = block_pieces(rs, tot, dth, wx_dead=wx_dead, beta=beta, shift=shift,
                          w_dead=w_dead)
    pieces.risk = risk
    if info and p:
        pieces.info = information(rs, x, pieces)
    return pieces


def block_pieces(blocks, tot: np.ndarray, dth: np.ndarray, *, wx_dead: np.ndarray,
                 beta: np.ndarray, shift: float, w_dead: float) -> Pieces:
    """Log-likelihood, score and the per-block tie sums from the per-block risk-set sums.

    ``tot`` and ``dth`` are (B, 1 + p): Σ w·r and Σ w·r·x over each block's risk set and over
    its deaths (r = exp(x·β − shift)). ``blocks`` carries the tie structure (``n_blocks``,
    ``n_death``, ``k_frac``, ``efron``, ``mean_wt``, ``unit_weights``): the rows' risk-set
    index, or the per-time index of a fit run in a data engine. The information is left at
    zero (:func:`information` or :func:`information_from_sums` fill it in).
    """
    s0, s0d, s1, s1d = tot[:, 0], dth[:, 0], tot[:, 1:], dth[:, 1:]
    p = s1.shape[1]
    loglik_dead = float(wx_dead @ beta) - shift * w_dead
    sums = tie_sums(blocks, s0, s0d)  # per block, unweighted: Σlog den, Σ1/den, Σf/den, ...
    if blocks.unit_weights:
        loglik = loglik_dead - float(np.sum(sums[:, 0]))
        c1, cf, q0, q1, q2 = (sums[:, j] for j in range(1, 6))
    else:
        mw = blocks.mean_wt
        loglik = loglik_dead - float(mw @ sums[:, 0])
        c1, cf, q0, q1, q2 = (sums[:, j] * mw for j in range(1, 6))
    score = wx_dead - s1.T @ c1 + s1d.T @ cf
    return Pieces(loglik=loglik, score=score, info=np.zeros((p, p)), risk=None,
                  wx_dead=wx_dead, shift=shift, s1=s1, s1d=s1d, c1=c1, cf=cf, q0=q0, q1=q1,
                  q2=q2, e0=sums[:, 1], e1=sums[:, 2])


# -- Efron tie sums per block ----------------------------------------------------------------
# A block with d deaths, risk-set sum a = S0 and deaths' sum s = S0_deaths has the d terms
# den_k = a (1 - u f_k), f_k = k/d, u = s/a. With F_m = Σ_k f_k^m (a polynomial in 1/d, from
# Faulhaber's formula, fixed for the fit) every per-block sum is a power series in u with
# positive terms, e.g. Σ_k 1/den_k = (1/a) Σ_m u^m F_m and Σ_k log den_k = d log a - Σ_m u^m F_m/m.
# Used for blocks with many deaths and u <= _SER_UMAX (truncation error < 1e-17 relative);
# the other blocks sum their terms one by one.
_SER_M = 18
_SER_UMAX = 0.1
_SER_MIN_D = 24


def _faulhaber() -> np.ndarray:
    """C with F_m(d) = Σ_j C[m, j] d^(1-j), m = 0.._SER_M+2 (Σ_{k<d} (k/d)^m, 0^0 = 1)."""
    from scipy.special import bernoulli, comb

    size = _SER_M + 3
    bern = bernoulli(size)  # B_1 = -1/2: sums over k = 0..d-1
    c = np.zeros((size, size))
    for m in range(size):  # a 21 x 21 table of constants
        for j in range(m + 1):
            c[m, j] = comb(m + 1, j, exact=True) * bern[j] / (m + 1)
    return c


_FAULHABER = None


def tie_sums(rs: RiskSets, s0: np.ndarray, s0d: np.ndarray) -> np.ndarray:
    """(B, 6) per-block sums over the tie terms: Σ log den, Σ 1/den, Σ f/den, Σ 1/den²,
    Σ f/den², Σ f²/den² (unweighted; Breslow: f = 0, den = S0)."""
    global _FAULHABER
    nb = rs.n_blocks
    nd = rs.n_death.astype(np.float64)
    out = np.zeros((nb, 6))
    if not rs.efron:
        inv = 1.0 / s0
        out[:, 0] = nd * np.log(s0)
        out[:, 1] = nd * inv
        out[:, 3] = nd * inv * inv
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        u = s0d / s0
    series = (rs.n_death >= _SER_MIN_D) & (u <= _SER_UMAX)
    if series.any():
        if _FAULHABER is None:
            _FAULHABER = _faulhaber()
        fm = rs.__dict__.get("_fm")
        if fm is None:  # F_m per block (depends only on d)
            powers = nd[:, None] ** (1.0 - np.arange(_SER_M + 3))
            fm = rs.__dict__["_fm"] = powers @ _FAULHABER.T
        a, us, f = s0[series], u[series], fm[series]
        m = np.arange(_SER_M + 1)
        upow = us[:, None] ** m
        upow1 = upow * (m + 1)
        inva = 1.0 / a
        out[series, 0] = nd[series] * np.log(a) - (upow[:, 1:] * f[:, 1:_SER_M + 1]
                                                    / m[1:]).sum(axis=1)
        out[series, 1] = (upow * f[:, :_SER_M + 1]).sum(axis=1) * inva
        out[series, 2] = (upow * f[:, 1:_SER_M + 2]).sum(axis=1) * inva
        inva2 = inva * inva
        out[series, 3] = (upow1 * f[:, :_SER_M + 1]).sum(axis=1) * inva2
        out[series, 4] = (upow1 * f[:, 1:_SER_M + 2]).sum(axis=1) * inva2
        out[series, 5] = (upow1 * f[:, 2:_SER_M + 3]).sum(axis=1) * inva2
    exact = ~series
    if exact.any():
        nd_x = rs.n_death[exact]
        if exact.all():
            f = rs.k_frac
        else:
            f = rs.k_frac[np.repeat(exact, rs.n_death)]
        den = np.repeat(s0[exact], nd_x)
        tmp = np.repeat(s0d[exact], nd_x)
        tmp *= f
        den -= tmp
        stack = np.empty((den.size, 6), order="F")
        np.log(den, out=stack[:, 0])
        inv = np.divide(1.0, den, out=stack[:, 1])
        np.multiply(inv, f, out=stack[:, 2])
        inv2 = np.multiply(inv, inv, out=stack[:, 3])
        q1k = np.multiply(inv2, f, out=stack[:, 4])
        np.multiply(q1k, f, out=stack[:, 5])
        first = np.concatenate([[0], np.cumsum(nd_x)[:-1]])
        out[exact] = np.add.reduceat(stack, first, axis=0)
    return out


def linear_predictor(x: np.ndarray, beta: np.ndarray, out: np.ndarray | None = None):
    """x @ beta accumulated column by column: rows with equal x get exactly equal values
    (a BLAS kernel may round identical rows differently, which would break ties in the
    concordance)."""
    eta = np.zeros(x.shape[0]) if out is None else out
    eta[:] = 0.0
    if x.shape[1]:
        tmp = np.empty(x.shape[0])
        for j in range(x.shape[1]):
            np.multiply(x[:, j], beta[j], out=tmp)
            eta += tmp
    return eta


def _h_rows(rs: RiskSets, c1: np.ndarray, cf: np.ndarray) -> np.ndarray:
    """H_i = Σ over the blocks row i is at risk in of c1, minus cf of its own block if it dies."""
    if not rs.has_entry and rs.strata is None and rs.n:
        # rows sorted by (hi, event) with lo = 0: H is constant on each run
        cum = np.concatenate([[0.0], np.cumsum(c1)])
        hi_run = rs.seg_key // 2
        ev_run = rs.seg_key % 2
        h_run = cum[hi_run] - np.where(ev_run == 1, np.append(cf, 0.0)[hi_run - 1], 0.0)
        lengths = np.diff(np.append(rs.seg_starts, rs.n))
        return np.repeat(h_run, lengths)
    return over_blocks(rs, c1) - np.append(cf, 0.0)[rs.row_block]


def information(rs: RiskSets, x: np.ndarray, pc: Pieces, q: np.ndarray | None = None):
    """Σ_b q_b · I_b: the information summed over blocks with block weights ``q``.

    ``q`` = 1 gives the model information; ``q = g(t)`` and ``g(t)²`` give the blocks of the
    information of the model extended by g(t)·x terms (the proportional-hazards test).
    """
    c1, cf, q0, q1, q2 = pc.c1, pc.cf, pc.q0, pc.q1, pc.q2
    if q is not None:
        c1, cf, q0, q1, q2 = c1 * q, cf * q, q0 * q, q1 * q, q2 * q
    cum = np.concatenate([[0.0], np.cumsum(c1)])
    cfx = np.append(cf, 0.0)
    psd = q is None or bool(np.all(q >= 0))
    p = x.shape[1]
    first = np.zeros((p, p))
    buf = _buffer(rs, "xs", (min(CHUNK, rs.n), p))
    subtract_lo = rs.has_entry or rs.strata is not None
    if not subtract_lo:
        # h is constant on each run of equal (hi, event): by run key hi*2 + event
        h_key = np.repeat(cum, 2)
        h_key[3::2] -= cfx[:-1]
    for r0, r1, _starts, keys, lengths in _chunks(rs):
        if subtract_lo:
            h = cum[rs.hi[r0:r1]]
            h -= cum[rs.lo[r0:r1]]
            h -= cfx[rs.row_block[r0:r1]]
        else:
            h = np.repeat(h_key[keys], lengths)
        if not rs.unit_weights:
            h *= rs.weights[r0:r1]
        h *= pc.risk[r0:r1]
        bc = buf[: r1 - r0]
        if psd:
            np.sqrt(np.clip(h, 0, None, out=h), out=h)
            for j in range(p):
                np.multiply(x[r0:r1, j], h, out=bc[:, j])
            first += bc.T @ bc  # symmetric rank-k update
        else:
            for j in range(p):
                np.multiply(x[r0:r1, j], h, out=bc[:, j])
            first += x[r0:r1].T @ bc
    out = first - _second_term(pc.s1, pc.s1d, q0, q1, q2)
    return (out + out.T) / 2


def _second_term(s1, s1d, q0, q1, q2) -> np.ndarray:
    """Σ_b Σ_k h_k a_k a_k' (the part of the information from the risk-set means)."""
    cross = s1.T @ (s1d * q1[:, None])
    return s1.T @ (s1 * q0[:, None]) - cross - cross.T + s1d.T @ (s1d * q2[:, None])


def information_from_sums(s2: np.ndarray, s2d: np.ndarray, pc: Pieces,
                          q: np.ndarray | None = None) -> np.ndarray:
    """:func:`information` from per-block sums instead of rows.

    ``s2`` and ``s2d`` are (B, p(p+1)/2): Σ w·r·x x' over each block's risk set and over its
    deaths, the upper triangle packed in ``np.triu_indices(p)`` order. The row pass of
    :func:`information` is the same sum, Σ_b (c1_b·S2_b − cf_b·S2d_b), taken row by row.
    """
    c1, cf, q0, q1, q2 = pc.c1, pc.cf, pc.q0, pc.q1, pc.q2
    if q is not None:
        c1, cf, q0, q1, q2 = c1 * q, cf * q, q0 * q, q1 * q, q2 * q
    p = pc.s1.shape[1]
    first = np.zeros((p, p))
    upper = np.triu_indices(p)
    first[upper] = c1 @ s2 - cf @ s2d
    first = first + np.triu(first, 1).T
    out = first - _second_term(pc.s1, pc.s1d, q0, q1, q2)
    return (out + out.T) / 2


def _abar(rs: RiskSets, pc: Pieces) -> np.ndarray:
    """Efron-averaged risk-set mean of x per block: (1/d) Σ_k a_k."""
    e0, e1 = pc.e0, pc.e1
    return (pc.s1 * e0[:, None] - pc.s1d * e1[:, None]) / rs.n_death[:, None]


def score_residuals(rs: RiskSets, x: np.ndarray, pc: Pieces) -> np.ndarray:
    """Score residuals L_i with Σ_i w_i L_i = U (R's ``residuals(type="score")``)."""
    g = pc.s1 * pc.q0[:, None] - pc.s1d * pc.q1[:, None]  # Σ_k h_k a_k
    g2 = pc.s1 * pc.q1[:, None] - pc.s1d * pc.q2[:, None]  # Σ_k h_k f_k a_k
    h_row = _h_rows(rs, pc.c1, pc.cf)
    g_row = over_blocks(rs, g)
    dr, db = rs.death_rows, rs.death_block
    g_row[dr] -= g2[db]
    resid = -pc.risk[:, None] * (x * h_row[:, None] - g_row)
    resid[dr] += x[dr] - _abar(rs, pc)[db]
    return resid


def schoenfeld(rs: RiskSets, x: np.ndarray, pc: Pieces) -> np.ndarray:
    """Schoenfeld residuals per death row (x minus the Efron-averaged risk-set mean)."""
    return x[rs.death_rows] - _abar(rs, pc)[rs.death_block]
