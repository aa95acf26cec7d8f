"""Decision rules of a cost-effectiveness analysis, as plain functions.

Where an option lies on the cost-effectiveness plane (:func:`classify`), when a ratio is a price
of health (:func:`icer`), net monetary benefit (:func:`net_monetary_benefit`), discounting
(:func:`discount_factors`), and the two summaries of a set of draws that support a decision: the
acceptability curve (:func:`acceptability`) and the expected value of perfect information
(:func:`expected_value_of_perfect_information`). ``CostEffectivenessResult`` uses exactly these.
"""

from __future__ import annotations

import numpy as np

#: A per-draw opportunity loss smaller than this many units of round-off of the net benefits
#: compared is round-off, not value (see :func:`expected_value_of_perfect_information`).
ROUND_OFF_ULPS = 64


def classify(incremental_cost: float, incremental_effect: float) -> str:
    """Where an option lies on the cost-effectiveness plane relative to its comparator.

    Returns one of:

    - ``"dominant"``: no more costly and no less effective, and better on at least one
      (south-east quadrant, including the axes);
    - ``"dominated"``: no less costly and no more effective, and worse on at least one
      (north-west quadrant, including the axes);
    - ``"ICER"``: more costly and more effective (north-east): the ICER is the extra cost per
      extra unit of effect, cost-effective when ICER <= willingness to pay;
    - ``"ICER_SW"``: less costly and less effective (south-west): the ratio is the saving per unit
      of effect given up, cost-effective when ratio >= willingness to pay;
    - ``"equivalent"``: identical costs and effects.

    Example
    -------
    >>> classify(-9543.0, 0.0255)
    'dominant'
    """
    dc, de = _rounded_off(incremental_cost), _rounded_off(incremental_effect)
    if not (np.isfinite(dc) and np.isfinite(de)):
        return "undefined"
    if dc == 0 and de == 0:
        return "equivalent"
    if de >= 0 and dc <= 0:
        return "dominant"
    if de <= 0 and dc >= 0:
        return "dominated"
    return "ICER" if de > 0 else "ICER_SW"


def icer(incremental_cost: float, incremental_effect: float) -> float:
    """ICER = incremental cost / incremental effect, or NaN where a ratio would mislead.

    Only the north-east (``"ICER"``) and south-west (``"ICER_SW"``) quadrants give a ratio (always
    positive). Dominant, dominated and equivalent options get NaN: a negative ratio mixes a gain
    with a loss and must never be read as a price of health.

    Example
    -------
    >>> icer(1000.0, 0.05)
    20000.0
    """
    kind = classify(incremental_cost, incremental_effect)
    if kind in ("ICER", "ICER_SW"):
        return float(incremental_cost) / float(incremental_effect)
    return float("nan")


def _rounded_off(difference):
    """A difference smaller than the smallest normal double is round-off: treat it as zero.

    Differences of means can come out as subnormal numbers (e.g. -5e-324) where the groups are
    equal; read literally they would make a group "cheaper" and its ICER underflow to 0.
    """
    value = np.asarray(difference, dtype=float)
    value = np.where(np.abs(value) < np.finfo(float).tiny, 0.0, value)
    return float(value) if value.ndim == 0 else value


def net_monetary_benefit(incremental_cost, incremental_effect, wtp):
    """Incremental net monetary benefit, wtp * dE - dC (positive = cost-effective at wtp).

    Example
    -------
    >>> float(net_monetary_benefit(100.0, 0.01, 20000.0))
    100.0
    """
    effect = _rounded_off(incremental_effect)
    cost = _rounded_off(incremental_cost)
    return np.asarray(wtp, dtype=float) * effect - cost


def discount_factors(year, rate: float) -> np.ndarray:
    """Factor (1 + rate) ** -(year - 1): year 1 is not discounted, year 2 by one period, ...

    Example
    -------
    >>> discount_factors([1, 2], 0.035).round(4).tolist()
    [1.0, 0.9662]
    """
    year = np.asarray(year, dtype=float)
    return (1.0 + rate) ** -(year - 1.0)


def net_benefits(draws_cost: np.ndarray, draws_effect: np.ndarray,
                 thresholds: np.ndarray) -> np.ndarray:
    """Net monetary benefit ``wtp * E - C`` of each option in each draw (thresholds x draws x k)."""
    lam = np.asarray(thresholds, dtype=float)
    return lam[:, None, None] * draws_effect[None] - draws_cost[None]


def acceptability(draws_cost: np.ndarray, draws_effect: np.ndarray,
                  thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Acceptability of each option at each threshold, from draws (draws x k, reference first).

    Returns ``(prob_optimal, prob_vs_reference)``, both thresholds x k: the share of draws in
    which the option has the highest net benefit (ties go to the first option, so the shares sum
    to 1), and the share in which its net benefit beats the reference's (NaN for the reference).
    """
    nb = net_benefits(draws_cost, draws_effect, thresholds)
    k = nb.shape[2]
    best = nb.argmax(axis=2)
    prob = (best[:, :, None] == np.arange(k)).mean(axis=1)
    beats = (nb[:, :, 1:] > nb[:, :, :1]).mean(axis=1)
    vs_ref = np.concatenate([np.full((nb.shape[0], 1), np.nan), beats], axis=1)
    return prob, vs_ref


def expected_value_of_perfect_information(draws_cost: np.ndarray, draws_effect: np.ndarray,
                                          thresholds: np.ndarray) -> np.ndarray:
    """EVPI per person at each threshold: E[max_j NB_j] - max_j E[NB_j] over the draws.

    Computed as the mean *opportunity loss* of the option that is best on average, j*:
    EVPI = mean over draws of (max_j NB_j - NB_j*). This is the same number in exact arithmetic,
    but a draw in which j* stays best contributes exactly 0 (the two terms are the same double),
    so EVPI is exactly 0 when no draw would change the decision, never a round-off residue such
    as 2.3e-10, and never negative. A draw's loss within :data:`ROUND_OFF_ULPS` units of
    round-off of the net benefits it compares is counted as 0 too.

    Example
    -------
    >>> c = np.array([[100.0, 50.0], [120.0, 60.0]])   # the second option always cheaper ...
    >>> e = np.array([[0.1, 0.2], [0.1, 0.3]])         # ... and better: nothing to learn
    >>> expected_value_of_perfect_information(c, e, np.array([20000.0])).tolist()
    [0.0]
    """
    nb = net_benefits(draws_cost, draws_effect, thresholds)  # L x B x k
    chosen = nb.mean(axis=1).argmax(axis=1)  # the decision under current information
    nb_chosen = np.take_along_axis(nb, chosen[:, None, None], axis=2)[:, :, 0]
    best = nb.max(axis=2)
    loss = best - nb_chosen
    floor = ROUND_OFF_ULPS * np.finfo(float).eps * np.maximum(np.abs(best), np.abs(nb_chosen))
    loss[loss <= floor] = 0.0
    return loss.mean(axis=1)


__all__ = ["classify", "icer", "net_monetary_benefit", "discount_factors", "net_benefits",
           "acceptability", "expected_value_of_perfect_information", "ROUND_OFF_ULPS"]
