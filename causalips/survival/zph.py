"""Proportional-hazards test (R's ``cox.zph``, survival >= 3) and adjusted survival curves.

At fit time :func:`zph_pieces` keeps, for each time transform g, the score of the extra g(t)·x
terms at (β̂, 0) and the blocks Σ g·I_b and Σ g²·I_b of the extended information matrix (p×p
each), plus the scaled Schoenfeld residuals for plots. The tests for any set of terms follow from
these without the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import _cox_math as cm

TRANSFORMS = ("km", "identity", "rank")


def _g_values(rs, stop, event):
    """g(t) for each event block under each transform (R's definitions), in O(n)."""
    n, nt = rs.n, rs.utimes.size
    cs = rs.code_stop
    below = np.cumsum(np.bincount(cs, minlength=nt + 1))  # rows with code <= c
    less = below[:nt]  # rows with stop < t_c, c = 1..nt
    pos = cs > 0
    equal = np.zeros(n, dtype=bool)
    equal[pos] = stop[pos] == rs.utimes[cs[pos] - 1]
    eq = np.bincount(cs[equal], minlength=nt + 1)[1:]
    rank = less + (eq + 1) / 2.0  # average rank of t among all rows' times, as R's rank()
    d = np.bincount(cs[event], minlength=nt + 1)[1:].astype(float)
    if rs.code_start is None:
        at_risk = n - less
    else:
        at_risk = np.cumsum(np.bincount(rs.code_start, minlength=nt + 1))[:nt] - less
    surv = np.cumprod(1.0 - d / at_risk)
    km = 1.0 - np.concatenate([[1.0], surv[:-1]])  # 1 - KM(t-) of the pooled data
    c = rs.block_code - 1
    return {"identity": rs.block_time.astype(float), "rank": rank[c], "km": km[c]}


def zph_pieces(rs, xc, pieces, stop, event, beta, names, assign, dead_by_block):
    """``dead_by_block``: Σ over each block's deaths of w·x (the null fit's death sums)."""
    gvals = _g_values(rs, stop, event)
    db = rs.death_block
    contrib = dead_by_block - (
        pieces.s1 * pieces.c1[:, None] - pieces.s1d * pieces.cf[:, None]
    )
    out = {"names": tuple(names), "assign": dict(assign), "info": pieces.info, "tests": {}}
    for name, g in gvals.items():
        gc = g - np.mean(g[db])  # centring (as R) does not change the test
        u = contrib.T @ gc
        h2 = cm.information(rs, xc, pieces, gc)
        h3 = cm.information(rs, xc, pieces, gc**2)
        out["tests"][name] = {"u": u, "h2": h2, "h3": h3, "g": g[db].astype(np.float32)}
    # scaled Schoenfeld residuals (R: residual · inverse of the average information, + beta)
    sch = cm.schoenfeld(rs, xc, pieces)
    vmean = pieces.info / max(db.size, 1)
    try:
        scaled = np.linalg.solve(vmean, sch.T).T + beta
    except np.linalg.LinAlgError:
        scaled = np.full_like(sch, np.nan)
    out["scaled"] = scaled.astype(np.float32)
    out["time"] = rs.block_time[db].astype(np.float64)
    return out


def zph_table(result, transform: str, terms: bool) -> pd.DataFrame:
    z = result._zph
    t = z["tests"][transform]
    p = len(z["names"])
    h1 = z["info"]
    full = np.block([[h1, t["h2"]], [t["h2"].T, t["h3"]]])
    u = np.concatenate([np.zeros(p), t["u"]])
    if terms:
        groups = [(label, list(idx)) for label, idx in z["assign"].items()]
    else:
        groups = [(name, [j]) for j, name in enumerate(z["names"])]
    rows = []
    for label, idx in groups:
        kk = list(range(p)) + [p + j for j in idx]
        sub = full[np.ix_(kk, kk)]
        uu = u[kk]
        chisq = float(uu @ np.linalg.solve(sub, uu))
        rows.append({"term": label, "chisq": chisq, "df": len(idx)})
    chisq = float(u @ np.linalg.solve(full, u))
    rows.append({"term": "GLOBAL", "chisq": chisq, "df": p})
    frame = pd.DataFrame(rows)
    frame["p_value"] = stats.chi2.sf(frame["chisq"], frame["df"])
    frame["transform"] = transform
    return frame


def adjusted_curves(result, term, method, times) -> pd.DataFrame:
    from .._checks import check_choice
    from ..errors import SpecificationError

    if result._zph is None:
        raise SpecificationError(
            "this fit was run with diagnostics=False; refit with Cox(..., diagnostics=True) "
            "for adjusted survival curves"
        )
    available = tuple(result._lp_other)
    if not available:
        raise SpecificationError(
            "survival_curves needs a categorical covariate (e.g. the arm) among the terms"
        )
    if term is None:
        term = available[0]
    check_choice("term", term, available)
    idx = list(result.assign[term])
    beta = result.coef.to_numpy()
    means = result._means
    col = term
    info = result.factors[col]
    levels = info["levels"]
    names = list(result.coef.index)
    base = result._baseline
    bt, bs, dh = base["time"], base["stratum"], base["dhaz"]
    n_strata = len(result._strata_labels)
    grid = np.unique(bt) if times is None else np.sort(np.asarray(times, dtype=float))

    def cumhaz(stratum):
        sel = bs == stratum
        t_s = bt[sel]
        h_s = np.cumsum(dh[sel])
        pos = np.searchsorted(t_s, grid, side="right") - 1
        return np.where(pos >= 0, h_s[np.maximum(pos, 0)], 0.0)

    hazards = np.vstack([cumhaz(s) for s in range(n_strata)])
    rows = []
    direct = None
    for lv in levels:
        eta_lv = 0.0
        for j in idx:
            ind = 1.0 if names[j] == f"{col}[{lv}]" else 0.0
            eta_lv += beta[j] * (ind - means[j])
        if method == "mean":
            for s in range(n_strata):
                surv = np.exp(-hazards[s] * np.exp(eta_lv))
                frame = pd.DataFrame({"level": lv, "time": grid, "estimate": surv})
                if n_strata > 1:
                    frame.insert(1, "stratum", result._strata_labels[s])
                rows.append(frame)
        else:
            if direct is None:
                other = result._lp_other[term].astype(np.float64)
                direct = _direct_pieces(other, result._strata_rows, n_strata, grid.size)
                n_rows = other.size
            surv = np.zeros(grid.size)
            for s, piece in enumerate(direct):
                surv += _direct_sum(piece, hazards[s], eta_lv)
            rows.append(pd.DataFrame({"level": lv, "time": grid, "estimate": surv / n_rows}))
    out = pd.concat(rows, ignore_index=True)
    out["term"] = term
    out["method"] = method
    return out


# -- direct adjustment: the average over rows of exp(-H(t) exp(lp_i)) -------------------------
_EXACT_BUDGET = 20_000_000  # distinct predictor values x time points summed exactly
_BIN_WIDTH = 0.01


def _direct_pieces(other, strata_rows, n_strata, n_times):
    """Per stratum, what the direct-adjusted sums need: the distinct values of the predictor
    without the term (with counts), or, when there are too many for the time grid, bins of
    width 0.01 with the count and the first three moments of the offsets from the bin centre."""
    out = []
    for s in range(n_strata):  # a loop over strata
        v = other if strata_rows is None else other[strata_rows == s]
        if v.size == 0:
            out.append(None)
            continue
        u, c = np.unique(v, return_counts=True)
        if u.size * n_times <= _EXACT_BUDGET:
            out.append(("exact", u, c.astype(np.float64)))
            continue
        lo = float(u[0])
        b = ((v - lo) / _BIN_WIDTH).astype(np.int64)
        centre = lo + (np.arange(int(b.max()) + 1) + 0.5) * _BIN_WIDTH
        eps = v - centre[b]
        moments = [np.bincount(b, weights=eps**k if k else None) for k in range(4)]
        keep = moments[0] > 0
        out.append(("binned", centre[keep], *(m[keep] for m in moments)))
    return out


def _direct_sum(piece, hazard, eta):
    """Sum over rows of exp(-H(t) exp(lp + eta)) at each time of the grid.

    Binned pieces use the third-order expansion of g(v) = exp(-e^v) around each bin centre:
    with |offset| <= 0.005 the remainder is below 0.005**4 / 24 * max|g^(4)| < 1e-10 per row
    (the stored predictors are float32, accurate to ~1e-7, so this loses nothing)."""
    if piece is None:
        return 0.0
    if piece[0] == "exact":
        _, u, c = piece
        risk = np.exp(u + eta)
        total = np.zeros(hazard.size)
        step = max(1, 4_000_000 // max(hazard.size, 1))
        for a in range(0, u.size, step):  # batches of distinct values, not rows
            total += c[a:a + step] @ np.exp(-np.multiply.outer(risk[a:a + step], hazard))
        return total
    _, centre, m0, m1, m2, m3 = piece
    y = np.multiply.outer(np.exp(centre + eta), hazard)  # e^v at each bin centre and time
    e = np.exp(-y)
    y2 = y * y
    return (m0 @ e - m1 @ (y * e) + (m2 / 2) @ ((y2 - y) * e)
            + (m3 / 6) @ ((3 * y2 - y2 * y - y) * e))
