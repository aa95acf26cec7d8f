"""The support-cap engine: curves and what-if quantities for many count tables at once.

Rows of the count arrays are the point estimate or bootstrap replicates; everything is array
arithmetic over (replicate, time), so all replicates of a block are computed together.
"""

from __future__ import annotations

import numpy as np

#: figures are per this many people starting support
PER = 100.0


def curves_many(events: np.ndarray, exits: np.ndarray, cause_events: np.ndarray):
    """Event-free curve S (Kaplan–Meier of any event) and the cumulative incidence F of the
    cause (Aalen–Johansen) after each grid time, for many count tables at once (rows).

    ``events`` counts events of any kind, ``cause_events`` those of the cause of interest
    (the same array when there are no competing events, so F = 1 − S). Where nobody is at risk
    the curves stay flat (R's convention beyond the last time).
    """
    n_risk = np.cumsum(exits[..., ::-1], axis=-1)[..., ::-1]
    live = n_risk > 0
    safe = np.where(live, n_risk, 1.0)
    surv = np.cumprod(np.where(live, 1.0 - events / safe, 1.0), axis=-1)
    s_prev = np.concatenate([np.ones(surv.shape[:-1] + (1,)), surv[..., :-1]], axis=-1)
    incidence = np.cumsum(np.where(live, s_prev * cause_events / safe, 0.0), axis=-1)
    return surv, incidence


def cap_quantities(time: np.ndarray, surv: np.ndarray, incidence: np.ndarray,
                    caps: np.ndarray, tau: float, kind: str) -> np.ndarray:
    """The what-if quantities for each cap: array [..., n_caps, n_terms].

    ``surv`` (still searching / supported) and ``incidence`` (cumulative share with a job
    start) are [..., T] on the grid ``time``, right-continuous, 1 and 0 before time[0].
    """
    lead = surv.shape[:-1]
    s_full = np.concatenate([np.ones(lead + (1,)), surv], axis=-1)  # S on [t_{j-1}, t_j)
    knots = np.concatenate([[0.0], time])
    widths = np.diff(knots)
    area = np.concatenate([np.zeros(lead + (1,)), np.cumsum(s_full[..., :-1] * widths, axis=-1)],
                          axis=-1)  # ∫_0^{knot_j} S

    def at(x):
        x = np.asarray(x, dtype=np.float64)
        k = np.searchsorted(knots, x, side="right") - 1  # last knot <= x
        s = s_full[..., k]
        a = area[..., k] + s * (x - knots[k])
        return s, a

    c = np.minimum(caps, tau)
    s_c, a_c = at(c)
    s_tau, a_tau = at(np.array([tau]))
    f_full = np.concatenate([np.zeros(lead + (1,)), incidence], axis=-1)
    f_c = f_full[..., np.searchsorted(knots, c, side="right") - 1]
    f_tau = f_full[..., np.searchsorted(knots, [tau], side="right") - 1]
    freed = PER * (a_tau - a_c)
    total_area = PER * a_tau
    with np.errstate(divide="ignore", invalid="ignore"):
        share_freed = np.where(total_area > 0, freed / total_area, 0.0)
        if kind == "job_search":
            lost = PER * (f_tau - f_c)
            jobs = PER * f_tau
            share_lost = np.where(jobs > 0, lost / jobs, 0.0)
            per_job = np.where(lost > 0, freed / lost, np.nan)
            parts = (PER * s_c, lost, share_lost, freed, share_freed, per_job)
        else:
            parts = (PER * s_c, freed, share_freed)
    return np.stack([np.broadcast_to(p, lead + (caps.size,)) for p in parts], axis=-1)


__all__ = ["PER", "curves_many", "cap_quantities"]
