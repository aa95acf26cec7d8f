"""Harrell's concordance of a Cox linear predictor, with R's ``concordancefit`` standard error.

A pair (i, j) is comparable when i has the event at t and j is at risk just after t in the same
stratum (still followed past t, or censored at t; for (start, stop] rows, also entered before t).
Pairs with both events at t are tied on time and not comparable. The pair weighs w_i·w_j; it is
concordant when i's linear predictor is larger, and ties on the predictor count ½. The SE is the
infinitesimal-jackknife one of R's ``concordancefit`` (timewt ``"n"``): per-observation influence
on Somers' d, summed within clusters, var(C) = Σ dfbeta² / 4.

Pair counts are two-dimensional dominance sums (risk-set interval x predictor rank). They are
computed with a dyadic decomposition of one axis: ~log2(levels) sorted passes, no loop over rows.
"""

from __future__ import annotations

import numpy as np


def _dom_core(pa, pb, pw, qas, qb, presort=None):
    """For each query set ``qa`` in ``qas``: Σ_points pw · [pa > qa] · [pb < qb] per query.

    All arguments are non-negative ints; the query sets share ``qb`` (so they share the sorts).
    ``presort`` may give an order of the points by ``pa`` (reused across calls). Each level of
    the dyadic decomposition of the ``pb`` axis is then a stable radix sort of small group ids.
    """
    outs = [np.zeros(qb.size) for _ in qas]
    if pa.size == 0 or qb.size == 0:
        return outs
    m = int(max(pa.max(), max(int(qa.max()) for qa in qas))) + 2
    # queries sorted by (qb, qa): the binary searches then walk forward (cache friendly)
    qorder = np.argsort(qb * m + qas[0], kind="stable")
    qb = qb[qorder]
    qas = [qa[qorder] for qa in qas]
    top = int(qb.max())
    base = np.argsort(pa, kind="stable") if presort is None else presort
    pa_s, pb_s, pw_s = pa[base], pb[base], pw[base]
    level = 0
    while (1 << level) <= top:
        sel = np.flatnonzero((qb >> level) & 1)
        if sel.size:
            grp = pb_s >> level
            if grp.max() < 65536:
                o = np.argsort(grp.astype(np.uint16), kind="stable")  # radix sort
            else:
                o = np.argsort(grp * m + pa_s, kind="stable")
            gs = grp[o]
            ks = gs * m + pa_s[o]
            cw = np.concatenate([[0.0], np.cumsum(pw_s[o])])
            target = (qb[sel] >> level) - 1
            group_end = np.cumsum(np.bincount(gs, minlength=int(target.max()) + 1))
            end = cw[group_end[target]]
            tm = target * m
            for out, qa in zip(outs, qas, strict=True):
                begin = np.searchsorted(ks, tm + qa[sel], side="right")
                out[sel] += end - cw[begin]
        level += 1
    result = []
    for out in outs:
        back = np.empty_like(out)
        back[qorder] = out
        result.append(back)
    return result


def dominance(pa, pb, pw, qa, qbs, presort_b=None):
    """Σ_points pw · [pa > qa] · [pb < qb] for each query, for each ``qb`` in ``qbs``.

    The shorter axis is decomposed. ``presort_b`` (optional) orders the points by ``pb``, used
    when the ``pa`` axis is the shorter one (the usual case: few event times, many distinct
    predictor values); the query sets then share all sorting work.
    """
    pa, pb, qa = (np.asarray(v, dtype=np.int64) for v in (pa, pb, qa))
    qbs = [np.asarray(v, dtype=np.int64) for v in qbs]
    pw = np.asarray(pw, dtype=np.float64)
    lo_a = min(pa.min(initial=0), qa.min(initial=0))
    lo_b = min(pb.min(initial=0), min(int(q.min(initial=0)) for q in qbs))
    pa, qa, pb = pa - lo_a, qa - lo_a, pb - lo_b
    qbs = [q - lo_b for q in qbs]
    span_a = int(max(pa.max(initial=0), qa.max(initial=0)))
    span_b = int(max(pb.max(initial=0), max(int(q.max(initial=0)) for q in qbs)))
    if span_a < span_b:
        # [pa > qa] = [A - pa < A - qa] and [pb < qb] = [B - pb > B - qb]
        presort = None if presort_b is None else presort_b[::-1]
        return _dom_core(span_b - pb, span_a - pa, pw, [span_b - q for q in qbs],
                         span_a - qa, presort)
    return [_dom_core(pa, pb, pw, [qa], q)[0] for q in qbs]


def concordance(rs, lp, cluster=None):
    """Concordance, its SE, and the weighted pair counts (concordant, discordant, tied.x).

    ``rs`` is the fit's risk-set index (``_cox_math.RiskSets``); ``lp`` the linear predictor.
    """
    w = rs.weights
    _, rho = np.unique(lp, return_inverse=True)
    rho = rho.astype(np.int64)
    dr = rs.death_rows
    bi = rs.death_block.astype(np.int64)
    lo = rs.lo
    hi_c = rs.hi - rs.event.astype(np.int64)  # exclude own / tied event block
    wi = w[dr]
    ri = rho[dr]

    order_rho = np.argsort(rho, kind="stable")
    order_ri = np.argsort(ri, kind="stable")

    with_lo = bool(rs.has_entry or rs.strata is not None)  # else lo = 0 for every row

    def as_event():
        """Σ_j w_j [j comparable to event i][rho_j < rho_i] and [rho_j <= rho_i], per event i."""
        qbs = [ri, ri + 1]
        out = dominance(hi_c, rho, w, bi, qbs, order_rho)
        if with_lo:
            sub = dominance(lo, rho, w, bi, qbs, order_rho)
            out = [a - b for a, b in zip(out, sub, strict=True)]
        return out

    nb = rs.n_blocks
    # everyone comparable with an event in block b: at risk, not an event tied at b
    at_risk = np.cumsum(np.bincount(hi_c, weights=w, minlength=nb + 1)[::-1])[::-1][1:]
    at_risk = at_risk - np.cumsum(np.bincount(lo, weights=w, minlength=nb + 1)[::-1])[::-1][1:]
    total_i = at_risk[bi]
    less_i, leq_i = as_event()
    conc_i, tie_i, disc_i = less_i, leq_i - less_i, total_i - leq_i

    # as a member of others' comparison sets: events i with lo_k <= b_i < hi_k, by rank of i
    neg_b = -bi
    kmax = int(rho.max()) if rho.size else 0
    rev_i = kmax - ri
    rev_k = kmax - rho
    rev_order = order_ri[::-1]

    def as_member():
        """Events i with lo_k <= b_i < hi_k and rho_i > rho_k (and >=), per row k."""
        qbs = [rev_k, rev_k + 1]  # rho_i > rho_k  <=>  rev_i < rev_k
        out = dominance(neg_b, rev_i, wi, -hi_c, qbs, rev_order)
        if with_lo:
            sub = dominance(neg_b, rev_i, wi, -lo, qbs, rev_order)
            out = [a - b for a, b in zip(out, sub, strict=True)]
        return out

    greater_k, geq_k = as_member()
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
