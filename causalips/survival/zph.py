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
