"""The fit on cluster x period cell sufficient statistics, where that is exact.

When exposure and every regressor are constant within cluster x period cells, there are no
weights, and the fixed effects are constant within cells (period, cluster, or a unit that *is*
the cluster, as in repeated cross-sections) — or are person and period effects on a balanced
panel with each person in one cluster — the regression on cell means weighted by their counts
gives the person-level coefficients and CR1 scores exactly (unit demeaning acts on cell sums).
N, K and the sums of squares of the small-sample factor and R² are the person-level ones.
"""

from __future__ import annotations

import numpy as np

from ..panel import Panel
from ._within_ols import FixedEffects, LinearFit, fit_linear


def _cell_roles(panel: Panel, fixed_effects) -> tuple[tuple[str, ...], bool] | None:
    """(fixed effects on cells: 'cluster'/'time', person effects absorbed) or None."""
    unit_is_cluster = panel.unit_in_cluster and panel.n_units == panel.n_clusters
    roles, person = [], False
    for f in fixed_effects:
        if f in ("time", "cluster"):
            roles.append(f)
        elif f == "unit" and unit_is_cluster:
            roles.append("cluster")
        elif f == "unit" and panel.balanced and panel.unit_in_cluster:
            roles.append("cluster")
            person = True
        else:
            return None
    if not roles or len(set(roles)) != len(roles) or (person and set(roles) != {"cluster",
                                                                               "time"}):
        return None
    return tuple(roles), person


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
    s1 = np.bincount(cell, weights=y, minlength=cnt.size)
    s2 = np.bincount(cell, weights=y * y, minlength=cnt.size)
    n = cnt[present]
    cl = present // t_n
    tc = present % t_n
    kept_cl, cl_codes = np.unique(cl, return_inverse=True)
    by_role = {"cluster": (cl_codes, kept_cl.size), "time": (tc, t_n)}
    codes = [by_role[r][0] for r in roles]
    levels = [by_role[r][1] for r in roles]
    if any(np.any(np.bincount(c, weights=n) <= 1) for c in codes):
        return None  # a fixed-effect level with one person: leave it to the row engine
    fe = FixedEffects.build(codes, levels, list(roles), n)
    total, nested_levels, n_nested = fe.dof(cl_codes, kept_cl.size)
    fit, row_cell = fit_linear(s1[present] / n, xc, tuple(xnames), fe, cl_codes, kept_cl.size,
                               tc, t_n, total - nested_levels + n_nested,
                               exposure=d_sum[present] / n, people=n)
    within = float(np.sum(s2[present] - s1[present] ** 2 / n))
    if person:  # person effects: what the cluster effects leave within people
        su = np.bincount(panel.unit_codes, weights=y, minlength=panel.n_units)
        ym = s1[present] / n
        mg = np.bincount(cl_codes, weights=n * ym) / np.bincount(cl_codes, weights=n)
        within = float(np.sum(s2) - np.sum(su**2) / t_n) - float(np.sum(n * (ym - mg[cl_codes])
                                                                        ** 2))
    fit = _person_level(fit, panel.n_obs, within)
    cells = (cl, tc, n, s1[present], panel.cluster_treated[cl])
    return fit, fe, row_cell, cells


def _person_level(fit: LinearFit, n_obs: int, within: float) -> LinearFit:
    import dataclasses

    return dataclasses.replace(fit, n_obs=n_obs, rss=within + fit.rss,
                               tss_within=within + fit.tss_within)


__all__ = ["fit_on_cells"]
