"""Numerical core of the Callaway–Sant'Anna estimator (no pandas, no user-facing checks).

Each group-time ATT(g,t) is a 2x2 comparison between the units first treated in ``g`` and a
control set, across a base period and period ``t``; its influence function is a length-n vector
(zero outside the comparison), as in R's ``did`` (``att_gt``) with ``DRDID``'s 2x2 estimators
(:mod:`._drdid`).

- Panel data: a balanced panel pivoted once into a units x periods array ``Y``; the comparison
  uses the change ``Y[:, t] - Y[:, base]``; n counts units.
- Repeated cross-sections (R's ``panel = FALSE``): every row is its own draw; the comparison uses
  the rows of the two periods; n counts rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .._progress import progress_bar
from ._drdid import PANEL, REPEATED_CROSS_SECTION

_EPS_SE = np.sqrt(np.finfo(float).eps) * 10  # R's did: SEs below this are reported as NA


@dataclass(frozen=True)
class Cell:
    group: float
    time: float
    t_index: int
    base_index: int
    post: bool
    reference: bool  # universal base period: the base period itself (ATT fixed at 0)
    control_cut: float  # controls: never treated, or first treated after this period


def make_cells(periods, groups, *, base_period, anticipation, control):
    """The list of (g, t) cells R's ``att_gt`` estimates, with their base period.

    Returns the cells and notes about cells that could not be formed.
    """
    cells, notes = [], []
    n_t = periods.size
    start = 1 if base_period == "varying" else 0
    for g in groups:
        before = np.flatnonzero(periods + anticipation < g)
        if before.size == 0:
            notes.append(f"group {g:g} has no period before treatment (minus anticipation); "
                         "dropped")
            continue
        last_pre = int(before[-1])
        for s in range(start, n_t):
            t = periods[s]
            base = s - 1 if base_period == "varying" else last_pre
            post = bool(g <= t)
            if post:
                base = last_pre
            reference = base_period == "universal" and base == s
            cut_index = max(s, base)
            cut = periods[cut_index] + anticipation
            cells.append(Cell(float(g), float(t), s, base, post, reference,
                              float(cut) if control == "not_yet_treated" else np.inf))
    return cells, notes


def masks(first_treated, cells, control):
    """Boolean n x K arrays: treated group and control set of each cell."""
    g = np.array([c.group for c in cells])
    treated = first_treated[:, None] == g[None, :]
    never = ~np.isfinite(first_treated)
    if control == "never_treated":
        ctrl = np.repeat(never[:, None], len(cells), axis=1)
    else:
        cut = np.array([c.control_cut for c in cells])
        ctrl = never[:, None] | ((first_treated[:, None] > cut[None, :]) & ~treated)
    return treated, ctrl


def unconditional(Y, cells, treated, ctrl):
    """ATT(g,t) and influence functions for all cells at once (no covariates).

    ATT = mean change of the group minus mean change of the controls; the influence function
    of unit i is ``n * [G_i (dY_i - m_G) / n_G - C_i (dY_i - m_C) / n_C]`` (R ``did`` with
    ``xformla = ~1``, whichever of dr / ipw / reg).
    """
    n = Y.shape[0]
    t_idx = np.array([c.t_index for c in cells])
    b_idx = np.array([c.base_index for c in cells])
    dy = Y[:, t_idx] - Y[:, b_idx]
    gw = treated.astype(float)
    cw = ctrl.astype(float)
    n_g = gw.sum(axis=0)
    n_c = cw.sum(axis=0)
    m_g = (gw * dy).sum(axis=0) / n_g
    m_c = (cw * dy).sum(axis=0) / n_c
    att = m_g - m_c
    inf = n * (gw * (dy - m_g) / n_g - cw * (dy - m_c) / n_c)
    ref = np.array([c.reference for c in cells])
    att[ref] = 0.0
    inf[:, ref] = 0.0
    return att, inf


def conditional(Y, X, cells, treated, ctrl, method):
    """ATT(g,t) and influence functions with covariates (one small regression per cell).

    ``X`` is units x periods x k (without intercept); the covariates of the base period are used.
    """
    n = Y.shape[0]
    k = len(cells)
    att = np.zeros(k)
    inf = np.zeros((n, k))
    fn = PANEL[method]
    for j, c in enumerate(cells):
        if c.reference:
            continue
        keep = treated[:, j] | ctrl[:, j]
        dy = Y[keep, c.t_index] - Y[keep, c.base_index]
        d = treated[keep, j].astype(float)
        Xc = np.column_stack([np.ones(dy.size), X[keep, min(c.base_index, c.t_index), :]])
        a, f = fn(dy, d, Xc)
        att[j] = a
        inf[keep, j] = f * (n / dy.size)
    return att, inf


def cross_section_parts(time_code, first_treated, cells, control):
    """Rows x cells booleans of a repeated cross-section: treated rows in period t and in the
    base period, control rows in period t and in the base period (the four cell means)."""
    treated, ctrl = masks(first_treated, cells, control)
    in_t = time_code[:, None] == np.array([c.t_index for c in cells])[None, :]
    in_b = time_code[:, None] == np.array([c.base_index for c in cells])[None, :]
    return treated & in_t, treated & in_b, ctrl & in_t, ctrl & in_b


def unconditional_rc(y, cells, parts):
    """ATT(g,t) and row influence functions of repeated cross-sections (no covariates).

    ATT = (treated mean in t - in base) - (control mean in t - in base); the influence function
    of row i sums ``n * sign * P_i (y_i - m_P) / n_P`` over the four parts P (what R ``did``
    computes with ``xformla = ~1``, whichever of dr / ipw / reg).
    """
    n = y.size
    att = np.zeros(len(cells))
    inf = np.zeros((n, len(cells)))
    for sign, part in zip((1.0, -1.0, -1.0, 1.0), parts):
        w = part.astype(float)
        count = w.sum(axis=0)
        mean = (w * y[:, None]).sum(axis=0) / count
        att += sign * mean
        inf += (sign * n / count) * w * (y[:, None] - mean)
    ref = np.array([c.reference for c in cells])
    att[ref] = 0.0
    inf[:, ref] = 0.0
    return att, inf


def conditional_rc(y, X, cells, parts, method):
    """ATT(g,t) and row influence functions of repeated cross-sections with covariates (each
    row's own covariates; one small regression per cell, DRDID's ``*_rc`` estimators)."""
    n = y.size
    att = np.zeros(len(cells))
    inf = np.zeros((n, len(cells)))
    fn = REPEATED_CROSS_SECTION[method]
    for j, c in enumerate(cells):
        if c.reference:
            continue
        t1, t0, c1, c0 = (p[:, j] for p in parts)
        keep = t1 | t0 | c1 | c0
        post = (t1 | c1)[keep].astype(float)
        d = (t1 | t0)[keep].astype(float)
        Xc = np.column_stack([np.ones(post.size), X[keep]])
        a, f = fn(y[keep], post, d, Xc)
        att[j] = a
        inf[keep, j] = f * (n / post.size)
    return att, inf


def cluster_sums(inf, cluster_codes):
    """Influence functions summed within clusters (clusters x columns)."""
    sums = np.zeros((int(cluster_codes.max()) + 1,) + inf.shape[1:])
    np.add.at(sums, cluster_codes, inf)
    return sums


def analytic_se(inf, cluster_codes=None, n=None):
    """SE of each column's estimate from its influence function (sqrt(mean(IF^2)/n)).

    With ``cluster_codes``, the influence function is summed within clusters first. ``n``
    (default: the rows of ``inf``) is the number of draws when ``inf`` is a reduced form with
    the same cross-products (:mod:`._cs_moments`).
    """
    n = inf.shape[0] if n is None else n
    f = inf if cluster_codes is None else cluster_sums(inf, cluster_codes)
    se = np.asarray(np.sqrt(np.sum(f**2, axis=0)) / n, dtype=float)
    se[se <= _EPS_SE] = np.nan
    return se


def influence_vcov(inf, cluster_codes=None, n=None):
    """Covariance of the estimates from their influence functions (clustered: summed within
    clusters first): F'F / n^2, whose diagonal is the squared :func:`analytic_se`."""
    n = inf.shape[0] if n is None else n
    f = inf if cluster_codes is None else cluster_sums(inf, cluster_codes)
    return f.T @ f / n**2


def pretest(att, inf, group, time, clus, n=None):
    """Wald test that all pre-treatment ATT(g,t) are zero (R att_gt's pre-test): (W, df, p)."""
    pre = np.flatnonzero(group > time)
    se = analytic_se(inf[:, pre], clus, n) if pre.size else np.array([])
    pre = pre[np.isfinite(se)]
    if pre.size == 0:
        return (np.nan, 0, np.nan)
    a = att[pre]
    try:
        W = float(a @ np.linalg.solve(influence_vcov(inf[:, pre], clus, n), a))
    except np.linalg.LinAlgError:
        return (np.nan, int(pre.size), np.nan)
    return (W, int(pre.size), float(stats.chi2.sf(W, pre.size)))


def multiplier_weights(rng, size, kind):
    """Mammen (two-point, skewness 1) or Rademacher multiplier weights."""
    if kind == "rademacher":
        return rng.integers(0, 2, size=size).astype(np.float64) * 2.0 - 1.0
    kappa = (np.sqrt(5.0) + 1.0) / 2.0
    low = rng.random(size) < kappa / np.sqrt(5.0)
    return np.where(low, 1.0 - kappa, kappa)


def multiplier_bootstrap(inf, *, reps, seed, kind, conf_level, cluster_codes=None,
                         block_elems=4_000_000, progress=True, n=None):
    """R ``did``'s multiplier bootstrap on an n x k influence-function matrix.

    Each draw perturbs the influence function with i.i.d. multipliers (one per unit, or per
    cluster): the draws are ``(V @ IF) / n`` for a reps x n multiplier matrix V (built in blocks
    of draws to bound memory). Returns the bootstrap SEs (interquartile range / 1.349, as R) and
    the critical value of the simultaneous (sup-t) band over the k columns. ``n`` (default: the
    rows of ``inf``) is the number of units when ``inf`` holds per-cluster sums already.
    """
    inf = np.atleast_2d(inf.T).T
    k = inf.shape[1]
    n = inf.shape[0] if n is None else n
    base = inf if cluster_codes is None else cluster_sums(inf, cluster_codes)
    m = base.shape[0]
    rng = np.random.default_rng(seed)
    per_block = max(1, block_elems // max(m, 1))
    draws = np.empty((reps, k))
    with progress_bar(reps, desc="multiplier bootstrap", unit="draws", enabled=progress) as bar:
        for start in range(0, reps, per_block):
            b = min(per_block, reps - start)
            draws[start:start + b] = multiplier_weights(rng, (b, m), kind) @ base / n
            bar.update(b)
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    sigma = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    sigma = np.where(sigma <= _EPS_SE / np.sqrt(n), np.nan, sigma)
    ok = np.isfinite(sigma)
    if not ok.any():
        return sigma, np.nan
    t_max = np.max(np.abs(draws[:, ok] / sigma[ok]), axis=1)
    return sigma, float(np.quantile(t_max, conf_level, method="inverted_cdf"))


class UnitGroups:
    """Each draw's cohort (first treated period, 0 = never) as the aggregations need it: its
    share of the draws and indicator columns in the row space of the influence functions.

    In memory the rows are the units (or rows) themselves; for data held by an engine they are
    the reduced rows of :mod:`._cs_moments` (per-cluster sums, or a square root of the
    cross-products), where the indicators are reduced the same way.
    """

    def __init__(self, unit_group=None, *, shares=None, indicator=None, ones=None):
        self._unit_group = None if unit_group is None else np.asarray(unit_group, dtype=float)
        self._shares, self._indicator, self._ones = shares, indicator, ones

    def share(self, g: float) -> float:
        if self._unit_group is not None:
            return float(np.mean(self._unit_group == g))
        return float(self._shares.get(float(g), 0.0))

    def indicator(self, groups: np.ndarray) -> np.ndarray:
        """(rows, len(groups)): 1 where the draw belongs to each group (reduced)."""
        if self._unit_group is not None:
            return (self._unit_group[:, None] == groups[None, :]).astype(float)
        return self._indicator(np.asarray(groups, dtype=float))

    @property
    def ones(self) -> np.ndarray:
        if self._unit_group is not None:
            return np.ones(self._unit_group.size)
        return self._ones


def weights_if(keepers, pg, unit_group, groups_of_cells):
    """Influence function of the estimated aggregation weights P(G=g)/sum P(G=g) (R's ``wif``).

    ``keepers`` index the cells combined; ``pg`` is P(G = group of cell) per cell;
    ``unit_group`` a :class:`UnitGroups` (or each unit's group); returns the rows x
    len(keepers) matrix.
    """
    groups = unit_group if isinstance(unit_group, UnitGroups) else UnitGroups(unit_group)
    pk = pg[keepers]
    ind = groups.indicator(groups_of_cells[keepers]) - groups.ones[:, None] * pk[None, :]
    if1 = ind / pk.sum()
    if2 = ind.sum(axis=1)[:, None] * (pk / pk.sum() ** 2)[None, :]
    return if1 - if2
