"""Proportional-hazards test of a Cox fit (R's ``cox.zph``, survival >= 3).

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
from ._adjusted_curves import adjusted_curves  # noqa: F401  (its old home: keep the import path)

TRANSFORMS = ("km", "identity", "rank")


def _g_values(rs, stop, event):
    """g(t) for each event block under each transform (R's definitions), in O(n)."""
    return g_values(rs.utimes, rs.block_code, rs.block_time, stop, np.ones(rs.n), event,
                    code_stop=rs.code_stop, start_codes=rs.code_start)


def g_values(utimes, block_code, block_time, stop, count, event, *, code_stop=None,
             start_codes=None, start_count=None):
    """g(t) per event block from the times of the rows (or of groups of ``count`` rows).

    ``stop``/``event`` per row or group; ``start_codes`` (number of event times <= the entry
    time, per row or entry group of ``start_count`` rows) for (start, stop] data. The rank is
    the average rank of t among all rows' times, as R's rank(); km is 1 − KM(t−) of the
    pooled data.
    """
    nt = utimes.size
    cs = np.searchsorted(utimes, stop, side="right") if code_stop is None else code_stop
    below = np.cumsum(np.bincount(cs, weights=count, minlength=nt + 1))  # rows with code <= c
    less = below[:nt]  # rows with stop < t_c, c = 1..nt
    pos = cs > 0
    equal = np.zeros(cs.size, dtype=bool)
    equal[pos] = stop[pos] == utimes[cs[pos] - 1]
    eq = np.bincount(cs[equal], weights=count[equal], minlength=nt + 1)[1:]
    rank = less + (eq + 1) / 2.0
    d = np.bincount(cs[event], weights=count[event], minlength=nt + 1)[1:].astype(float)
    if start_codes is None:
        at_risk = count.sum() - less
    else:
        weights = np.ones(start_codes.size) if start_count is None else start_count
        at_risk = np.cumsum(np.bincount(start_codes, weights=weights, minlength=nt + 1))[:nt] \
            - less
    surv = np.cumprod(1.0 - d / at_risk)
    km = 1.0 - np.concatenate([[1.0], surv[:-1]])
    c = block_code - 1
    return {"identity": block_time.astype(float), "rank": rank[c], "km": km[c]}


def zph_tests(gvals: dict, n_death, contrib, information) -> dict:
    """Per transform: the score ``u`` of the g(t)·x terms and the blocks Σ g·I_b, Σ g²·I_b
    (``information(q)``: the information with block weights q)."""
    tests = {}
    for name, g in gvals.items():
        gc = g - np.sum(n_death * g) / np.sum(n_death)  # centring (as R) leaves the test
        tests[name] = {"u": contrib.T @ gc, "h2": information(gc), "h3": information(gc**2)}
    return tests


def score_by_block(pieces, dead_by_block):
    """Σ over each block's deaths of w·(x − the risk-set mean)."""
    return dead_by_block - (pieces.s1 * pieces.c1[:, None] - pieces.s1d * pieces.cf[:, None])


def zph_pieces(rs, xc, pieces, stop, event, beta, names, assign, dead_by_block):
    """``dead_by_block``: Σ over each block's deaths of w·x (the null fit's death sums)."""
    gvals = _g_values(rs, stop, event)
    db = rs.death_block
    contrib = score_by_block(pieces, dead_by_block)
    out = {"names": tuple(names), "assign": dict(assign), "info": pieces.info,
           "tests": zph_tests(gvals, rs.n_death, contrib,
                              lambda q: cm.information(rs, xc, pieces, q))}
    for name, g in gvals.items():
        out["tests"][name]["g"] = g[db].astype(np.float32)
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
