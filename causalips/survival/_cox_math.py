"""Numerics of the Cox partial likelihood: risk-set sums without loops over rows or event times.

Layout
------
An *event block* is one distinct (stratum, event time) pair. Blocks are numbered 0..B-1 in
(stratum, time) order. Row ``i`` (an interval ``(start, stop]`` in a stratum) is at risk in the
blocks ``lo[i] <= b < hi[i]``, found once by ``searchsorted``. Risk-set sums over blocks are then
differences of reverse cumulative sums of ``bincount``s, and sums over the blocks a row is at risk
in are differences of cumulative sums over blocks: O(n·p) per Newton step, no sort inside it.

Ties: a block with ``d`` deaths is expanded into its ``d`` death rows. Efron's k-th term
(k = 0..d-1) removes the fraction ``k/d`` of the dying rows' risk from the denominator; Breslow
removes nothing. Case weights follow R's ``coxph``: each of the ``d`` terms carries the mean weight
of the deaths in the block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RiskSets:
    """Index structure for one data set (built once per fit)."""

    n: int
    lo: np.ndarray  # first block the row is at risk in
    hi: np.ndarray  # one past the last block
    n_blocks: int
    death_rows: np.ndarray  # row index of each death, sorted by block
    death_block: np.ndarray  # block of each death row
    frac: np.ndarray  # Efron fraction k/d per death row (0 for Breslow)
    n_death: np.ndarray  # deaths per block
    block_time: np.ndarray  # event time of each block
    block_stratum: np.ndarray  # stratum code of each block
    event: np.ndarray  # bool per row
    weights: np.ndarray  # per row
    mean_wt: np.ndarray  # mean death weight per block


def build_risk_sets(stop, event, weights, strata, start=None, ties="efron") -> RiskSets:
    """Index rows against the event blocks. ``strata`` are integer codes 0..S-1."""
    stop = np.asarray(stop, dtype=np.float64)
    event = np.asarray(event, dtype=bool)
    strata = np.asarray(strata, dtype=np.int64)
    n = stop.size
    ev_idx = np.flatnonzero(event)
    utimes = np.unique(stop[ev_idx])
    m = utimes.size + 1
    code_stop = np.searchsorted(utimes, stop, side="right")  # number of event times <= stop
    ev_key = strata[ev_idx] * m + code_stop[ev_idx]
    bkeys, block_of_event = np.unique(ev_key, return_inverse=True)
    n_blocks = bkeys.size
    hi = np.searchsorted(bkeys, strata * m + code_stop, side="right")
    if start is None:
        lo = np.searchsorted(bkeys, strata * m, side="right")
    else:
        code_start = np.searchsorted(utimes, np.asarray(start, dtype=np.float64), side="right")
        lo = np.searchsorted(bkeys, strata * m + code_start, side="right")
    order = np.argsort(block_of_event, kind="stable")
    death_rows = ev_idx[order]
    death_block = block_of_event[order]
    n_death = np.bincount(death_block, minlength=n_blocks)
    first = np.concatenate([[0], np.cumsum(n_death)[:-1]])
    k = np.arange(death_rows.size) - first[death_block]
    if ties == "efron":
        frac = k / n_death[death_block]
    else:
        frac = np.zeros(death_rows.size)
    weights = np.asarray(weights, dtype=np.float64)
    mean_wt = np.bincount(death_block, weights=weights[death_rows], minlength=n_blocks) / np.maximum(
        n_death, 1
    )
    block_time = utimes[(bkeys % m) - 1] if n_blocks else np.empty(0)
    return RiskSets(
        n=n, lo=lo.astype(np.int64), hi=hi.astype(np.int64), n_blocks=n_blocks,
        death_rows=death_rows, death_block=death_block, frac=frac, n_death=n_death,
        block_time=block_time, block_stratum=bkeys // m, event=event, weights=weights,
        mean_wt=mean_wt,
    )


def _block_sums(rs: RiskSets, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` (n,) over each block's risk set."""
    nb = rs.n_blocks
    add = np.bincount(rs.hi, weights=values, minlength=nb + 1)
    rem = np.bincount(rs.lo, weights=values, minlength=nb + 1)
    # rows with hi > b minus rows with lo > b
    a = np.cumsum(add[::-1])[::-1]  # a[j] = sum over hi >= j
    r = np.cumsum(rem[::-1])[::-1]
    return a[1 : nb + 1] - r[1 : nb + 1]


def _block_sums_matrix(rs: RiskSets, values: np.ndarray) -> np.ndarray:
    return np.column_stack([_block_sums(rs, values[:, j]) for j in range(values.shape[1])]) if (
        values.shape[1]
    ) else np.zeros((rs.n_blocks, 0))


def _over_blocks(rs: RiskSets, per_block: np.ndarray) -> np.ndarray:
    """For each row, the sum of ``per_block`` over the blocks it is at risk in."""
    c = np.concatenate([np.zeros((1,) + per_block.shape[1:]), np.cumsum(per_block, axis=0)])
    return c[rs.hi] - c[rs.lo]


@dataclass
class Pieces:
    loglik: float
    score: np.ndarray
    info: np.ndarray
    risk: np.ndarray  # r = exp(eta)
    den: np.ndarray  # per death row
    haz: np.ndarray  # mean_wt / den per death row
    a: np.ndarray  # risk-set mean of x per death row (Efron-adjusted)
    s1: np.ndarray  # per block
    s1d: np.ndarray  # per block


def evaluate(rs: RiskSets, x: np.ndarray, beta: np.ndarray, *, info: bool = True,
             offset: float | None = None) -> Pieces:
    """Partial log-likelihood, score and information at ``beta`` (x should be centred)."""
    eta = x @ beta if x.shape[1] else np.zeros(rs.n)
    shift = float(eta.max()) if offset is None and eta.size else (offset or 0.0)
    risk = np.exp(eta - shift)
    w = rs.weights
    wr = w * risk
    dr, db, f = rs.death_rows, rs.death_block, rs.frac
    nb = rs.n_blocks
    s0 = _block_sums(rs, wr)
    s0d = np.bincount(db, weights=wr[dr], minlength=nb)
    den = s0[db] - f * s0d[db]
    mw = rs.mean_wt[db]
    loglik = float(np.sum(w[dr] * (eta[dr] - shift)) - np.sum(mw * np.log(den)))
    haz = mw / den
    p = x.shape[1]
    xw = x * wr[:, None]
    s1 = _block_sums_matrix(rs, xw)
    s1d = np.column_stack([np.bincount(db, weights=xw[dr, j], minlength=nb) for j in range(p)]) if (
        p
    ) else np.zeros((nb, 0))
    a = (s1[db] - f[:, None] * s1d[db]) / den[:, None]
    score = (w[dr][:, None] * x[dr]).sum(axis=0) - (mw[:, None] * a).sum(axis=0)
    imat = np.zeros((p, p))
    if info and p:
        imat = information(rs, x, risk, haz, a, np.ones(nb))
    return Pieces(loglik=loglik, score=score, info=imat, risk=risk, den=den, haz=haz, a=a,
                  s1=s1, s1d=s1d)


def information(rs: RiskSets, x, risk, haz, a, q) -> np.ndarray:
    """Σ_b q_b · I_b: the information summed over blocks with block weights ``q``.

    ``q`` = 1 gives the model information; ``q = g(t)`` and ``g(t)**2`` give the blocks of the
    information of the model extended by g(t)·x terms (the proportional-hazards test).
    """
    db, f = rs.death_rows, rs.frac
    dblk = rs.death_block
    hq = haz * q[dblk]
    c1 = np.bincount(dblk, weights=hq, minlength=rs.n_blocks)
    c2 = np.bincount(dblk, weights=hq * f, minlength=rs.n_blocks)
    h_row = _over_blocks(rs, c1)
    h_row[db] -= c2[dblk]
    rowwt = rs.weights * risk * h_row
    first = (x * rowwt[:, None]).T @ x
    mwq = rs.mean_wt[dblk] * q[dblk]
    second = (a * mwq[:, None]).T @ a
    return first - second


def score_residuals(rs: RiskSets, x: np.ndarray, pieces: Pieces) -> np.ndarray:
    """Score residuals L_i with Σ_i w_i L_i = U (R's ``residuals(type="score")``)."""
    n, p = x.shape
    db, dblk, f = rs.death_rows, rs.death_block, rs.frac
    nb = rs.n_blocks
    haz, a = pieces.haz, pieces.a
    c1 = np.bincount(dblk, weights=haz, minlength=nb)
    c2 = np.bincount(dblk, weights=haz * f, minlength=nb)
    g = np.column_stack([np.bincount(dblk, weights=haz * a[:, j], minlength=nb) for j in range(p)])
    g2 = np.column_stack(
        [np.bincount(dblk, weights=haz * f * a[:, j], minlength=nb) for j in range(p)]
    )
    h_row = _over_blocks(rs, c1)
    g_row = _over_blocks(rs, g)
    h_row[db] -= c2[dblk]
    g_row[db] -= g2[dblk]
    resid = -pieces.risk[:, None] * (x * h_row[:, None] - g_row)
    abar = np.column_stack(
        [np.bincount(dblk, weights=a[:, j], minlength=nb) for j in range(p)]
    ) / rs.n_death[:, None]
    resid[db] += x[db] - abar[dblk]
    return resid


def schoenfeld(rs: RiskSets, x: np.ndarray, pieces: Pieces) -> np.ndarray:
    """Schoenfeld residuals per death row (x minus the Efron-averaged risk-set mean)."""
    nb, p = rs.n_blocks, x.shape[1]
    abar = np.column_stack(
        [np.bincount(rs.death_block, weights=pieces.a[:, j], minlength=nb) for j in range(p)]
    ) / rs.n_death[:, None]
    return x[rs.death_rows] - abar[rs.death_block]


def baseline_hazard(rs: RiskSets, pieces: Pieces) -> np.ndarray:
    """Breslow/Efron increments of the baseline cumulative hazard per block.

    Scaled to risk = exp(eta - shift) as used in ``pieces``; the caller rescales.
    """
    return np.bincount(rs.death_block, weights=pieces.haz, minlength=rs.n_blocks)
