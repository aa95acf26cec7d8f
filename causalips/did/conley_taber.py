"""Conley & Taber (2011) inference for one or a few treated clusters.

With few treated clusters the DiD error ``beta_hat - beta`` is driven by the treated clusters' own
shocks and does not shrink; its distribution is estimated from the *control* clusters: the
treated clusters' timing is placed on control clusters and the DiD coefficient is computed on the
full-model residuals (with the effect removed). The (1 - a) interval is
``[beta_hat - q(1 - a/2), beta_hat - q(a/2)]`` of those placebo errors, and the p-value for
``beta = 0`` is ``(1 + #{|placebo error| >= |beta_hat|}) / (1 + placebos)`` (the estimate counts
as one draw, so the smallest attainable p-value is 1/(1 + placebos)).

Each placebo error is normalised by its own design (``D'QD`` of the control cluster), so clusters
of different size are put on the same scale of coefficients. The method assumes the clusters'
errors are exchangeable; when the treated municipality is much smaller or larger than the
controls its error variance differs (Ferman & Pinto 2019), which this version does not correct:
the result says so.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from .randomization import AssignmentDesign


@dataclass(frozen=True)
class ConleyTaber:
    """Inference spec: Conley–Taber interval from control-cluster residual placebos.

    Parameters
    ----------
    reps : int, optional
        Placebo sets to sample when the treated timings can be placed on control clusters in
        more ways than this (default: all ways up to 100 000).
    seed : int, optional
        Seed of the sample.
    """

    reps: int | None = None
    seed: int | None = None


@dataclass(frozen=True)
class ConleyTaberOutcome:
    estimate: float
    p_value: float
    conf_low: float
    conf_high: float
    n_placebos: int
    placebo_errors: np.ndarray
    statement: str


def conley_taber(design: AssignmentDesign, *, conf_level: float = 0.95, reps=None, seed=None):
    f = design.first_by_cluster
    treated = np.flatnonzero(np.isfinite(f))
    controls = np.flatnonzero(~np.isfinite(f))
    m = treated.size
    timings = f[treated]
    n_sets = math.comb(controls.size, m)
    limit = reps if reps is not None else 100_000
    if n_sets <= limit:
        sets = np.array(list(itertools.combinations(controls.tolist(), m)))
    else:
        rng = np.random.default_rng(seed)
        keys = rng.random((reps or 9999, controls.size))
        sets = controls[np.argsort(keys, axis=1)[:, :m]]
    firsts = np.full((sets.shape[0], f.size), np.inf)
    np.put_along_axis(firsts, sets, np.broadcast_to(timings, sets.shape), axis=1)
    resid_design = AssignmentDesign(q=design.q, r=design.residual_r(),
                                    cell_cluster=design.cell_cluster,
                                    cell_period=design.cell_period,
                                    first_by_cluster=f, estimate=0.0)
    errors = resid_design.betas(firsts)
    errors = errors[np.isfinite(errors)]
    a = 1 - conf_level
    lo_q = float(np.quantile(errors, a / 2, method="inverted_cdf"))
    hi_q = float(np.quantile(errors, 1 - a / 2, method="inverted_cdf"))
    est = design.estimate
    p = float((1 + np.sum(np.abs(errors) >= abs(est))) / (1 + errors.size))
    statement = (
        f"Conley-Taber: distribution of the estimation error from {errors.size} placebo "
        f"placements of the {m} treated cluster timing(s) on the {controls.size} control "
        "clusters' residuals; assumes exchangeable cluster errors (no Ferman-Pinto size "
        "correction)"
    )
    if errors.size < 2 / a:
        statement += (f"; with {errors.size} placebos the {conf_level:.0%} interval is set by the "
                      "most extreme placebo errors")
    return ConleyTaberOutcome(estimate=est, p_value=p, conf_low=est - hi_q, conf_high=est - lo_q,
                              n_placebos=int(errors.size), placebo_errors=errors,
                              statement=statement)


__all__ = ["ConleyTaber", "ConleyTaberOutcome", "conley_taber"]
