"""Gray's (1988) K-sample test of equal cumulative incidence, as cmprsk's ``crstm`` computes it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

from ._aalen_johansen import CauseTable


def gray_test(tables: Sequence[CauseTable], cause: int, rho: float = 0.0) -> dict:
    """Gray's (1988) K-sample test of equal cumulative incidence of ``cause`` (index 0..K-1).

    Works on the groups' count tables merged on one time grid; the score and its variance are
    accumulated over the distinct times as cmprsk's ``crstm`` defines them (one stratum), with
    array operations over time and groups.
    """
    g = len(tables)
    times = np.unique(np.concatenate([t.time for t in tables]))
    t_count = times.size
    exits = np.zeros((t_count, g))
    d1 = np.zeros((t_count, g))
    d2 = np.zeros((t_count, g))
    for k, tab in enumerate(tables):
        pos = np.searchsorted(times, tab.time)
        exits[pos, k] = tab.exits
        d1[pos, k] = tab.events[:, cause]
        d2[pos, k] = tab.events.sum(axis=1) - tab.events[:, cause]
    rs_all = np.cumsum(exits[::-1], axis=0)[::-1]
    use = (d1 + d2).sum(axis=1) > 0
    rs, d1, d2 = rs_all[use], d1[use], d2[use]
    live = rs > 0
    safe_rs = np.where(live, rs, 1.0)
    td = d1 + d2
    factor = np.where(live, (safe_rs - td) / safe_rs, 1.0)
    skm = np.cumprod(factor, axis=0)
    skmm = np.vstack([np.ones((1, g)), skm[:-1]])
    f1 = np.cumsum(np.where(live, skmm * d1 / safe_rs, 0.0), axis=0)
    f1m = np.vstack([np.zeros((1, g)), f1[:-1]])
    nd1 = d1.sum(axis=1)
    skmm_safe = np.where(live, skmm, 1.0)
    h = np.where(live, rs / skmm_safe, 0.0)  # \hat h_r: risk set over left-continuous KM
    sub_risk = np.where(live, rs * (1.0 - f1m) / skmm_safe, 0.0)  # Gray's R_r
    tr = h.sum(axis=1)
    tq = sub_risk.sum(axis=1)
    f = np.cumsum(nd1 / tr)
    fm = np.concatenate([[0.0], f[:-1]])
    fb = (1.0 - fm) ** rho

    # a[t, i, j] and the running sum c[t, i, j]
    amat = -fb[:, None, None] * h[:, :, None] * h[:, None, :] / tr[:, None, None]
    diag = np.arange(g)
    amat[:, diag, diag] = fb[:, None] * h * (1.0 - h / tr[:, None])
    cmat = np.cumsum(amat * (nd1 / (tr * (1.0 - fm)))[:, None, None], axis=0)

    score = (fb[:, None] * (d1 - nd1[:, None] * sub_risk / tq[:, None])).sum(axis=0)
    v = _score_variance(amat, cmat, skm, skmm, safe_rs, live, f, nd1, tr, d2)
    s = score[: g - 1]
    vs = v[: g - 1, : g - 1]
    try:
        stat = float(s @ np.linalg.solve(vs, s))
    except np.linalg.LinAlgError:
        stat = float("nan")
    df = g - 1
    return {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df)),
            "score": s, "var": vs}


def _score_variance(amat, cmat, skm, skmm, safe_rs, live, f, nd1, tr, d2) -> np.ndarray:
    """Variance of Gray's score: the cause-of-interest and other-cause parts (crstm's v)."""
    # cause-of-interest part (times with nd1 > 0, groups at risk)
    on1 = (nd1 > 0)[:, None] & live
    with np.errstate(divide="ignore", invalid="ignore"):
        t4 = np.where(skm > 0, 1.0 - (1.0 - f[:, None]) / np.where(skm > 0, skm, 1.0), 1.0)
        t5 = np.where(nd1[:, None] > 1, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * skmm - 1.0),
                      1.0)
        t3 = np.where(on1, t5 * skmm * nd1[:, None] / (tr[:, None] * safe_rs), 0.0)
    t4 = np.where(on1, t4, 0.0)
    t1 = amat - t4[:, None, :] * cmat  # [t, i, k]
    v = np.einsum("tik,tjk,tk->ij", t1, t1, t3)
    v2 = np.einsum("tik,tk->ik", t1, t4 * t3)
    v3 = (t4**2 * t3).sum(axis=0)

    # other-cause part (times with events of other causes in group k, skm > 0)
    on2 = (skm > 0) & (d2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u4 = np.where(on2, (1.0 - f[:, None]) / np.where(skm > 0, skm, 1.0), 0.0)
        u5 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (safe_rs - 1.0), 1.0)
        u3 = np.where(on2, u5 * skmm**2 * d2 / safe_rs**2, 0.0)
    v3 = v3 + (u4**2 * u3).sum(axis=0)
    u1 = u4[:, None, :] * cmat
    v2 = v2 - np.einsum("tik,tk->ik", u1, u4 * u3)
    v = v + np.einsum("tik,tjk,tk->ij", u1, u1, u3)

    c_end = cmat[-1]
    return v + (c_end * v3) @ c_end.T + c_end @ v2.T + v2 @ c_end.T


__all__ = ["gray_test"]
