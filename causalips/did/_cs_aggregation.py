"""Aggregations of Callaway–Sant'Anna group-time effects (R ``did``'s ``aggte``), numerics only.

Each aggregation is a weighted average of ATT(g,t); its influence function is the same average
of the cells' influence functions plus, where the weights are estimated group shares, the
influence function of those weights (R's ``wif``), so that SEs account for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from ._callaway_santanna import UnitGroups, weights_if


@dataclass(frozen=True)
class Aggregation:
    """The overall effect and the effects by level (cohort, period or event time)."""

    estimate: float
    influence: np.ndarray  # length n
    levels: np.ndarray
    estimates: np.ndarray
    influences: np.ndarray  # n x levels


class _Cells:
    """The ATT(g,t) table as arrays, with the group shares P(G = g) the weights use."""

    def __init__(self, att, group, time, inf, unit_group, groups):
        self.att, self.group, self.time, self.inf = att, group, time, inf
        self.unit_group = (unit_group if isinstance(unit_group, UnitGroups)
                           else UnitGroups(unit_group))
        self.groups = groups
        self.pg_group = np.array([self.unit_group.share(g) for g in groups])
        self.pg = self.pg_group[np.searchsorted(groups, group)]
        self.event = time - group

    def combine(self, which, *, estimated_weights=True):
        """Group-size weighted average of the cells ``which`` and its influence function."""
        w = self.pg[which] / self.pg[which].sum()
        f = self.inf[:, which] @ w
        if estimated_weights:
            f = f + weights_if(which, self.pg, self.unit_group, self.group) @ self.att[which]
        return float(np.sum(self.att[which] * w)), f


def _by_levels(cells: _Cells, levels, select, *, estimated_weights=True):
    kept, est, infs = [], [], []
    for lv in levels:
        which = np.flatnonzero(select(lv))
        if which.size == 0:
            continue
        e, f = cells.combine(which, estimated_weights=estimated_weights)
        kept.append(lv)
        est.append(e)
        infs.append(f)
    n = cells.inf.shape[0]
    return (np.array(kept, dtype=float), np.array(est, dtype=float),
            np.column_stack(infs) if infs else np.empty((n, 0)))


def _simple(c: _Cells, min_e, max_e) -> Aggregation:
    keep = np.flatnonzero((c.group <= c.time) & (c.event <= max_e))
    est, f = c.combine(keep)
    n = c.inf.shape[0]
    return Aggregation(est, f, np.empty(0), np.empty(0), np.empty((n, 0)))


def _group(c: _Cells, min_e, max_e) -> Aggregation:
    lev, est, infs = _by_levels(
        c, c.groups, lambda g: (c.group == g) & (g <= c.time) & (c.event <= max_e),
        estimated_weights=False)
    p = c.pg_group[np.searchsorted(c.groups, lev)]
    wif = weights_if(np.arange(lev.size), p, c.unit_group, lev)
    overall = infs @ (p / p.sum()) + wif @ est
    return Aggregation(float(np.sum(est * p / p.sum())), overall, lev, est, infs)


def _calendar(c: _Cells, min_e, max_e) -> Aggregation:
    periods = np.unique(c.time[c.time >= c.group.min()])
    lev, est, infs = _by_levels(c, periods, lambda s: (c.time == s) & (c.group <= c.time))
    return Aggregation(float(est.mean()), infs.mean(axis=1), lev, est, infs)


def _dynamic(c: _Cells, min_e, max_e) -> Aggregation:
    events = [e for e in np.unique(c.event) if min_e <= e <= max_e]
    lev, est, infs = _by_levels(c, events, lambda e: c.event == e)
    pos = lev >= 0
    if not pos.any():
        raise SpecificationError("no event times >= 0 in the window; widen max_e")
    return Aggregation(float(est[pos].mean()), infs[:, pos].mean(axis=1), lev, est, infs)


AGGREGATIONS = {"simple": _simple, "group": _group, "calendar": _calendar, "dynamic": _dynamic}


def aggregate(kind, *, att, group, time, inf, unit_group, groups, min_e=-np.inf,
              max_e=np.inf) -> Aggregation:
    """R ``aggte(type = kind)`` on ATT(g,t) with influence functions ``inf`` (n x cells).

    ``unit_group`` is each unit's (or, for repeated cross-sections, each row's) first treated
    period, 0 for never treated (or a :class:`~._callaway_santanna.UnitGroups` in the row space
    of ``inf``); ``groups`` the sorted cohorts.
    """
    cells = _Cells(att, group, time, inf, unit_group, np.asarray(groups, dtype=float))
    return AGGREGATIONS[kind](cells, min_e, max_e)
