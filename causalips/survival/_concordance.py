"""Harrell's concordance of a Cox linear predictor, with R's ``concordancefit`` standard error.

A pair (i, j) is comparable when i has the event at t and j is at risk just after t in the same
stratum (still followed past t, or censored at t; for (start, stop] rows, also entered before t).
Pairs with both events at t are tied on time and not comparable. The pair weighs w_i·w_j; it is
concordant when i's linear predictor is larger, and ties on the predictor count ½. The SE is the
infinitesimal-jackknife one of R's ``concordancefit`` (timewt ``"n"``): per-observation influence
on Somers' d, summed within clusters, var(C) = Σ dfbeta² / 4.

Every comparable pair is an (event i, row k) pair with ``lo_k <= b_i < hi_k`` (blocks of the
fit's risk-set index). Per event and per row, the weighted counts of such pairs with a larger,
equal or smaller predictor are two-dimensional dominance sums (block x predictor rank), computed
in one O(n log B) sweep (B = number of event blocks): all rows and events are put once in
(predictor rank, time descending) order by radix passes; then, from the highest bit of the block
number down, each group of blocks is split stably into its lower and upper half by a counting
partition (cumulative sums, no sort). At each split an event of the lower half collects the
weights of the rows of the upper half before it, and a row of the upper half the weights of the
events of the lower half after it. Ties on the predictor are the same sums within one rank. No
loop over rows.
"""

from __future__ import annotations

import numpy as np


def _excl_cumsum(a, dtype=None):
    """[0, a0, a0+a1, ...] in ``dtype`` (default: a's dtype; int64 counts for booleans)."""
    if dtype is None:
        dtype = a.dtype if a.dtype.kind in "fi" else np.int64
    out = np.empty(a.size + 1, dtype=dtype)
    out[0] = 0
    np.cumsum(a, out=out[1:])
    return out


def _radix_order(keys_low_to_high):
    """Stable order by several non-negative integer keys (the last is the most significant),
    each split into 16-bit digits sorted by numpy's radix sort."""
    order = None
    for key in keys_low_to_high:
        key = np.asarray(key, dtype=np.int64)
        top = int(key.max()) if key.size else 0
        shift = 0
        while True:
            digit = ((key if order is None else key[order]) >> shift) & 0xFFFF
            o = np.argsort(digit.astype(np.uint16), kind="stable")
            order = o if order is None else order[o]
            shift += 16
            if (top >> shift) == 0:
                break
    return order


def pair_sums(t_row, w_row, t_ev, w_ev, rank_row, rank_ev):
    """Weighted counts over the pairs (event i, row k) with ``t_ev[i] < t_row[k]``.

    Returns ``leq, tie_ev`` per event (Σ_k w_k over rows with rank <= / == the event's) and
    ``geq, tie_row`` per row (Σ_i w_i over events with rank >= / == the row's). Times and ranks
    are non-negative integers.
    """
    n, m = t_row.size, t_ev.size
    e_all = n + m
    t_all = np.concatenate([t_row, t_ev]).astype(np.int64)
    is_row_all = np.concatenate([np.ones(n, bool), np.zeros(m, bool)])
    rank_all = np.concatenate([rank_row, rank_ev])
    top = int(t_all.max()) if e_all else 0
    # order: rank ascending, time descending, an event before a row of the same time
    perm = _radix_order([(top - t_all) * 2 + is_row_all, rank_all])
    itype = np.int32 if e_all < 2**31 else np.int64
    t_cur = t_all[perm].astype(itype)
    is_row = is_row_all[perm]
    w_cur = np.concatenate([w_row, w_ev])[perm]
    r_cur = rank_all[perm]
    # ties: rows of the same rank before an event have a later time, events after a row earlier
    rb = np.flatnonzero(np.concatenate([[True], r_cur[1:] != r_cur[:-1], [True]]))
    rlen = np.diff(rb)
    c = _excl_cumsum(np.where(is_row, w_cur, 0.0))
    d = _excl_cumsum(np.where(is_row, 0.0, w_cur))
    tie = np.where(is_row, np.repeat(d[rb[1:]], rlen) - d[1:],
                   c[:-1] - np.repeat(c[rb[:-1]], rlen))
    out_tie = np.empty(e_all)
    out_tie[perm] = tie
    del r_cur, c, d, tie
    perm = perm.astype(itype)
    unit = bool(np.all(w_cur == 1.0))
    if unit:  # counts: integer cumulative sums of the masks (half the memory traffic)
        w_cur = None
    acc = np.zeros(e_all, dtype=itype if unit else np.float64)
    idx = np.arange(e_all, dtype=itype)
    for level in range(max(top.bit_length(), 1) - 1, -1, -1):  # ~log2(blocks) levels
        bit = (t_cur & (1 << level)) != 0
        # groups (t >> (level + 1)) are contiguous and in order, so t_cur is partitioned
        # around each group's first time: binary search finds the group bounds
        n_grp = (int(t_cur[-1]) >> (level + 1)) + 2
        bounds = np.searchsorted(t_cur, np.arange(n_grp, dtype=t_cur.dtype) << (level + 1))
        glen = np.diff(bounds)
        up_row = bit & is_row
        low_ev = ~(bit | is_row)
        c = _excl_cumsum(up_row, itype) if unit else _excl_cumsum(np.where(up_row, w_cur, 0.0))
        acc += np.where(low_ev, c[:-1] - np.repeat(c[bounds[:-1]], glen), 0)
        d = _excl_cumsum(low_ev, itype) if unit else _excl_cumsum(np.where(low_ev, w_cur, 0.0))
        acc += np.where(up_row, np.repeat(d[bounds[1:]], glen) - d[1:], 0)
        if level == 0:
            break
        # stable partition of each group: lower half first, then upper half
        z = _excl_cumsum(~bit, itype)
        zs = z[bounds]
        zb = z[:-1] - np.repeat(zs[:-1], glen)  # lower-half elements before, in the group
        newpos = np.where(bit, idx - zb + np.repeat(np.diff(zs), glen),
                          np.repeat(bounds[:-1].astype(itype), glen) + zb)
        arrays = [perm, t_cur, w_cur, is_row, acc]
        for j, arr in enumerate(arrays):
            if arr is not None:
                moved = np.empty_like(arr)
                moved[newpos] = arr
                arrays[j] = moved
        perm, t_cur, w_cur, is_row, acc = arrays
    out = np.empty(e_all)
    out[perm] = acc
    return out[n:], out_tie[n:], out[:n], out_tie[:n]


def concordance(rs, lp, cluster=None):
    """Concordance, its SE, and the weighted pair counts (concordant, discordant, tied.x).

    ``rs`` is the fit's risk-set index (``_cox_math.RiskSets``); ``lp`` the linear predictor.
    """
    w = rs.weights
    n = rs.n
    _, rho = np.unique(lp, return_inverse=True)
    rho = rho.astype(np.int64).ravel()
    dr = rs.death_rows
    bi = rs.death_block.astype(np.int64)
    lo = rs.lo
    hi_c = rs.hi - rs.event.astype(np.int64)  # exclude own / tied event block
    wi = w[dr]
    ri = rho[dr]

    leq_i, tie_i, geq_k, tie_k = pair_sums(hi_c, w, bi, wi, rho, ri)
    if rs.has_entry or rs.strata is not None:  # pairs also need lo_k <= b_i
        sub = pair_sums(np.broadcast_to(lo, (n,)), w, bi, wi, rho, ri)
        leq_i, tie_i, geq_k, tie_k = (a - b for a, b in zip(
            (leq_i, tie_i, geq_k, tie_k), sub, strict=True))
    less_i = leq_i - tie_i
    greater_k = geq_k - tie_k

    nb = rs.n_blocks
    # everyone comparable with an event in block b: at risk, not an event tied at b
    at_risk = np.cumsum(np.bincount(hi_c, weights=w, minlength=nb + 1)[::-1])[::-1][1:]
    at_risk = at_risk - np.cumsum(np.bincount(lo, weights=w, minlength=nb + 1)[::-1])[::-1][1:]
    total_i = at_risk[bi]
    conc_i, tie_i, disc_i = less_i, leq_i - less_i, total_i - leq_i

    cum_ev = np.concatenate([[0.0], np.cumsum(np.bincount(bi, weights=wi, minlength=nb))])
    all_k = cum_ev[np.clip(hi_c, 0, nb)] - cum_ev[np.clip(lo, 0, nb)]
    all_k = np.where(hi_c > lo, all_k, 0.0)
    conc_k, tie_k, disc_k = greater_k, geq_k - greater_k, all_k - geq_k

    conc = np.zeros(rs.n)
    disc = np.zeros(rs.n)
    tie = np.zeros(rs.n)
    conc[dr] += conc_i
    disc[dr] += disc_i
    tie[dr] += tie_i
    conc += conc_k
    disc += disc_k
    tie += tie_k
    n_conc = float(np.sum(wi * conc_i))
    n_disc = float(np.sum(wi * disc_i))
    n_tie = float(np.sum(wi * tie_i))
    npair = n_conc + n_disc + n_tie
    if npair <= 0:
        return np.nan, np.nan, (n_conc, n_disc, n_tie)
    somer = (n_conc - n_disc) / npair
    dfbeta = w * ((conc - disc) / npair - somer / npair * (conc + disc + tie))
    if cluster is not None:
        dfbeta = np.bincount(cluster, weights=dfbeta)
    var = float(np.sum(dfbeta**2)) / 4.0
    return (somer + 1) / 2, np.sqrt(var), (n_conc, n_disc, n_tie)
