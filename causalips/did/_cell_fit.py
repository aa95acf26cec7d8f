"""The fit on cluster x period cell sufficient statistics, where that is exact.

When exposure and every regressor are constant within cluster x period cells, there are no
weights, and the fixed effects are constant within cells (period, cluster, or a unit that *is*
the cluster, as in repeated cross-sections) — or are person and period effects with each person
in one cluster and all people of a cluster seen in the same periods (a balanced panel, or one
balanced within clusters) — the regression on cell means weighted by their counts
gives the person-level coefficients and CR1 scores exactly (unit demeaning acts on cell sums).
N, K and the sums of squares of the small-sample factor and R² are the person-level ones.

The cell statistics (:class:`CellMoments`) come from rows in memory (:func:`fit_on_cells`) or
from an engine that computed them where the data live (``causalips.engine.panel_cells``); both
end in :func:`fit_cell_moments`, so both give the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..panel import Panel
from ._within_ols import FixedEffects, LinearFit, fit_linear


@dataclass(frozen=True, eq=False)
class CellMoments:
    """Counts, sums and sums of squares of the outcome per present cluster x period cell.

    ``cluster`` and ``period`` are codes (0..G-1, 0..T-1) of each cell; ``people`` the rows in
    it, ``sum_y`` / ``sum_y2`` the sums of the outcome and of its square, ``exposed`` the
    exposed rows; ``x`` (cells, k) the regressors, constant within cells. ``n_obs`` counts the
    person-level rows; ``person_sq`` is ``sum_u (sum_t y_ut)^2 / T_u`` over units (``T_u`` the
    unit's periods) when person fixed effects are absorbed (it gives the person-level R²), or a
    function that computes it on request (engine fits), or None.
    """

    cluster: np.ndarray
    period: np.ndarray
    people: np.ndarray
    sum_y: np.ndarray
    sum_y2: np.ndarray
    exposed: np.ndarray
    x: np.ndarray
    n_periods: int
    n_obs: int
    person_sq: float | Callable[[], float] | None = None


def cell_roles(fixed_effects, *, unit_is_cluster: bool, balanced: bool,
               unit_in_cluster: bool) -> tuple[tuple[str, ...], bool] | None:
    """(fixed effects on cells: 'cluster'/'time', person effects absorbed) or None."""
    roles, person = [], False
    for f in fixed_effects:
        if f in ("time", "cluster"):
            roles.append(f)
        elif f == "unit" and unit_is_cluster:
            roles.append("cluster")
        elif f == "unit" and balanced and unit_in_cluster:
            roles.append("cluster")
            person = True
        else:
            return None
    if not roles or len(set(roles)) != len(roles) or (person and set(roles) != {"cluster",
                                                                               "time"}):
        return None
    return tuple(roles), person


def _cell_roles(panel: Panel, fixed_effects) -> tuple[tuple[str, ...], bool] | None:
    unit_is_cluster = panel.unit_in_cluster and panel.n_units == panel.n_clusters
    return cell_roles(fixed_effects, unit_is_cluster=unit_is_cluster, balanced=panel.balanced,
                      unit_in_cluster=panel.unit_in_cluster)


def _cell_regressors(cell, cnt, d_sum, present, x, xnames):
    """Regressors per present cell, or None when one varies within a cell."""
    m = cnt.size
    xc = np.empty((present.size, x.shape[1]))
    for j in range(x.shape[1]):  # a few regressor columns
        if xnames[j] == "att":
            xc[:, j] = d_sum[present] / cnt[present]  # exposure is cell-level
            continue
        mean = np.bincount(cell, weights=x[:, j], minlength=m) / np.maximum(cnt, 1)
        if np.any(np.abs(x[:, j] - mean[cell]) > 1e-12 * np.maximum(1.0, np.abs(x[:, j]))):
            return None
        xc[:, j] = mean[present]
    return xc


def fit_on_cells(panel: Panel, fixed_effects, x: np.ndarray, xnames):
    """(fit, fixed effects on cells, cell of each cell-row, trend cells) or None if not exact."""
    if panel.weights is not None or panel.treatment_varies_within_cell or panel.cell_stats is None:
        return None
    roles = _cell_roles(panel, fixed_effects)
    if roles is None:
        return None
    roles, person = roles
    cell, cnt, d_sum = panel.cell_stats
    cnt = cnt.astype(np.float64)
    present = np.flatnonzero(cnt > 0)
    xc = _cell_regressors(cell, cnt, d_sum, present, x, xnames)
    if xc is None:
        return None
    t_n = panel.n_periods
    y = panel.outcome
    person_sq = None
    if person:
        su = np.bincount(panel.unit_codes, weights=y, minlength=panel.n_units)
        person_sq = float(np.sum(su**2)) / t_n
    moments = CellMoments(
        cluster=present // t_n, period=present % t_n, people=cnt[present],
        sum_y=np.bincount(cell, weights=y, minlength=cnt.size)[present],
        sum_y2=np.bincount(cell, weights=y * y, minlength=cnt.size)[present],
        exposed=d_sum[present], x=xc, n_periods=t_n, n_obs=panel.n_obs, person_sq=person_sq)
    out = fit_cell_moments(moments, roles, xnames)
    if out is None:
        return None
    fit, fe, row_cell = out
    cl = moments.cluster
    cells = (cl, moments.period, moments.people, moments.sum_y, panel.cluster_treated[cl])
    return fit, fe, row_cell, cells


def fit_cell_moments(m: CellMoments, roles, xnames):
    """(fit, fixed effects on cells, cell of each cell) from cell moments, or None when a
    fixed-effect level holds a single person (the row engine drops such singletons)."""
    n = m.people
    kept_cl, cl_codes = np.unique(m.cluster, return_inverse=True)
    by_role = {"cluster": (cl_codes, kept_cl.size), "time": (m.period, m.n_periods)}
    codes = [by_role[r][0] for r in roles]
    levels = [by_role[r][1] for r in roles]
    if any(np.any(np.bincount(c, weights=n) <= 1) for c in codes):
        return None  # a fixed-effect level with one person: leave it to the row engine
    fe = FixedEffects.build(codes, levels, list(roles), n)
    total, nested_levels, n_nested = fe.dof(cl_codes, kept_cl.size)
    ym = m.sum_y / n
    fit, row_cell = fit_linear(ym, m.x, tuple(xnames), fe, cl_codes, kept_cl.size, m.period,
                               m.n_periods, total - nested_levels + n_nested,
                               exposure=m.exposed / n, people=n)
    within = float(np.sum(m.sum_y2 - m.sum_y ** 2 / n))
    if m.person_sq is not None:  # person effects: what the cluster effects leave within people
        mg = np.bincount(cl_codes, weights=n * ym) / np.bincount(cl_codes, weights=n)
        cells_part = float(np.sum(m.sum_y2)) - float(np.sum(n * (ym - mg[cl_codes]) ** 2))
        person_sq = m.person_sq
        within = ((lambda: cells_part - person_sq()) if callable(person_sq)
                  else cells_part - person_sq)
    return _person_level(fit, m.n_obs, within), fe, row_cell


def _person_level(fit: LinearFit, n_obs: int, within: float | Callable[[], float]) -> LinearFit:
    """The fit on cells as the person-level fit: ``within`` (the sum of squares within cells
    that the cells cannot see) is added to RSS and TSS, or left pending when it is a function
    (engine fits ask for it when the R² is first wanted)."""
    if callable(within):
        return dataclasses.replace(fit, n_obs=n_obs, within_pending=within)
    return dataclasses.replace(fit, n_obs=n_obs, rss=within + fit.rss,
                               tss_within=within + fit.tss_within)


__all__ = ["CellMoments", "cell_roles", "fit_cell_moments", "fit_on_cells"]
