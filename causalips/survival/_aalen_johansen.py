"""The Aalen–Johansen engine: cumulative incidence per cause and its infinitesimal-jackknife
variance, from counts at the distinct times (no loop over people), with optional delayed entry.

Its input is rows, or cells of identical rows with their count (``count``): the estimate and
the sums of squared influences depend on a row only through its exit time, entry time and
cause, so cells counted by an engine give the same numbers as the rows they stand for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CauseTable:
    """Counts of one group at its distinct times: exits, events by cause (columns), risk sets."""

    time: np.ndarray  # (T,)
    exits: np.ndarray  # (T,) everyone leaving at t (events of any cause + censored)
    events: np.ndarray  # (T, K) events of cause k at t
    n_risk: np.ndarray  # (T,) at risk just before t (entered before t, not yet left)

    @property
    def total(self) -> int:
        return int(self.exits.sum())

    def risk_at(self, horizons: np.ndarray) -> np.ndarray:
        """At risk at each horizon as R's ``summary(fit, times=)`` reports it (the risk set of the
        first distinct time at or after the horizon; 0 after the last)."""
        return np.append(self.n_risk, 0)[np.searchsorted(self.time, horizons, side="left")]


def aalen_johansen(duration: np.ndarray, cause: np.ndarray, n_causes: int,
                   entry: np.ndarray | None = None, count: np.ndarray | None = None):
    """Aalen–Johansen estimates and infinitesimal-jackknife variances for one group.

    ``cause`` holds 0 (censored) or 1..K; ``entry`` (optional) the delayed-entry times, a row
    being at risk on (entry, duration]; ``count`` (optional) how many identical rows each
    entry stands for. Returns the :class:`CauseTable` and a dict with, at
    every distinct time, ``surv`` (event-free), ``cif`` (T, K), ``var_surv`` and ``var_cif``.

    The influence of person i on the hazard of cause k at t_j is
    (dN_ik(t_j) − Y_i(t_j) λ_kj) / n_j. Summed over the times, the influence on F_k(t_J) of
    someone who left at t_m ≤ t_J is α_i + β_i F_k(t_J); that of someone still at risk after
    t_J is X_J − u_i − v_i F_k(t_J), where X is common to all and (u_i, v_i) depend only on when
    the person entered (both 0 without delayed entry). So the sum of squared influences at every
    time is a few cumulative sums over people's exit and entry times.
    """
    time, index = np.unique(duration, return_inverse=True)
    t_count = time.size
    exits = np.bincount(index, weights=count, minlength=t_count).astype(np.float64)
    key = index * (n_causes + 1) + cause
    counts = np.bincount(key, weights=count,
                         minlength=t_count * (n_causes + 1)).reshape(t_count, n_causes + 1)
    events = counts[:, 1:].astype(np.float64)
    if entry is None:
        first = np.zeros(index.size, dtype=np.int64)
        n = np.cumsum(exits[::-1])[::-1]
    else:
        first = np.searchsorted(time, entry, side="right")  # first time the row is at risk
        entered = np.bincount(first, weights=count, minlength=t_count + 1)[:t_count]
        n = np.cumsum(entered) - (np.cumsum(exits) - exits)
    lam_k = events / n[:, None]
    lam = lam_k.sum(axis=1)
    surv = np.cumprod(1.0 - lam)
    s_prev = np.concatenate([[1.0], surv[:-1]])
    d_cif = s_prev[:, None] * lam_k
    cif = np.cumsum(d_cif, axis=0)
    full = lam >= 1.0  # everyone at risk has an event: S drops to 0 and stays there
    with np.errstate(divide="ignore"):
        c = np.where(full, 0.0, 1.0 / (n * np.where(full, 1.0, 1.0 - lam)))
    a = np.cumsum(lam * c)
    b = np.cumsum(d_cif / n[:, None], axis=0)
    cc = np.cumsum(d_cif * np.concatenate([[0.0], a[:-1]])[:, None], axis=0)

    var_surv, var_cif = _ij_variances(index, first, cause, count, n, exits, surv, s_prev, cif,
                                      a, b, cc, c, with_entry=entry is not None)
    table = CauseTable(time=time, exits=exits, events=events, n_risk=n)
    return table, {
        "surv": surv,
        "cif": cif,
        "var_surv": np.maximum(var_surv, 0.0),
        "var_cif": np.maximum(var_cif, 0.0),
    }


def _ij_variances(m, first, cause, count, n, exits, surv, s_prev, cif, a, b, cc, c, *,
                  with_entry):
    """Sums of squared influences at every time, from each person's exit and entry indices
    (each entry standing for ``count`` identical people; one each when ``None``)."""
    t_count = exits.size
    n_causes = cif.shape[1]
    # per person: the running sums just before entry (0 for those at risk from the start)
    before = first - 1
    has = (before >= 0)
    prev = np.maximum(before, 0)
    a0 = np.where(has, a[prev], 0.0)
    b0 = np.where(has[:, None], b[prev], 0.0)
    c0 = np.where(has[:, None], cc[prev], 0.0)
    f0 = np.where(has[:, None], cif[prev], 0.0)
    had_event = cause > 0
    beta = a[m] - a0 - np.where(had_event, c[m], 0.0)
    own = np.zeros((m.size, n_causes))
    own[had_event, cause[had_event] - 1] = 1.0
    alpha = (own * (s_prev[m] / n[m])[:, None] - b[m] + cc[m] + b0 - c0
             - a0[:, None] * (cif[m] - f0) - beta[:, None] * cif[m])
    u = c0 - b0 - a0[:, None] * f0
    v = a0

    def by_time(idx, values):
        """Cumulative sums over the times of per-person values (columns), indexed by ``idx``."""
        values = np.atleast_2d(values) if count is None else np.atleast_2d(values) * count
        return np.cumsum(np.stack([np.bincount(idx, weights=col, minlength=t_count)
                                   for col in values], axis=1), axis=0)

    def at_risk_after(values):
        """Sums over the people who entered by t_J and are still at risk after it."""
        return by_time(first, values) - by_time(m, values)

    sum_b2 = by_time(m, beta**2)[:, 0]
    sum_a2 = by_time(m, alpha.T**2)
    sum_ab = by_time(m, alpha.T * beta)
    n_after = at_risk_after(np.ones(m.size))[:, 0]
    x = cc - b
    var_cif = sum_a2 + 2.0 * cif * sum_ab + cif**2 * sum_b2[:, None] + n_after[:, None] * x**2
    var_surv = surv**2 * (sum_b2 + n_after * a**2)
    if with_entry:
        sum_u, sum_u2, sum_uv = (at_risk_after(u.T), at_risk_after(u.T**2),
                                 at_risk_after(u.T * v))
        sum_v, sum_v2 = at_risk_after(v)[:, 0], at_risk_after(v**2)[:, 0]
        var_cif += (sum_u2 + cif**2 * sum_v2[:, None] - 2.0 * x * sum_u
                    - 2.0 * x * cif * sum_v[:, None] + 2.0 * cif * sum_uv)
        var_surv += surv**2 * (sum_v2 - 2.0 * a * sum_v)
    return var_surv, var_cif


def log_limits(p: np.ndarray, se: np.ndarray, z: float):
    """R's conf.type='log' limits on a probability: p·exp(∓z·se/p), upper capped at 1."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        width = z * se / p
        lower = p * np.exp(-width)
        upper = np.minimum(1.0, p * np.exp(width))
    bad = (p <= 0) | ~np.isfinite(width)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


__all__ = ["CauseTable", "aalen_johansen", "log_limits"]
