"""Conley & Taber (2011) inference for one or a few treated clusters.

With few treated clusters the DiD error ``beta_hat - beta`` is driven by the treated clusters' own
shocks and does not shrink; its distribution is estimated from the *control* clusters: the
treated clusters' timing is placed on control clusters and the DiD coefficient is computed on the
full-model residuals (with the effect removed). The (1 - a) interval is
``[beta_hat - q(1 - a/2), beta_hat - q(a/2)]`` of those placebo errors, and the p-value for
``beta = 0`` is ``(1 + #{|placebo error| >= |beta_hat|}) / (1 + placebos)`` (the estimate counts
as one draw, so the smallest attainable p-value is 1/(1 + placebos)).

Each placebo error is normalised by its own design (``D'QD`` of the control cluster), so clusters
of different size are put on the same scale of coefficients. The plain method assumes the
clusters' errors are exchangeable. When the treated municipality is much smaller or larger than
the controls, its error variance differs and the plain method over- or under-rejects badly
(Ferman & Pinto 2019). ``ConleyTaber(heteroskedasticity=True)`` applies their correction in
this form: cell means have variance ``A + B / people`` (a common shock plus person-level noise);
``A`` and ``B`` are estimated without bias from the squared full-model cell residuals, using
``E[e^2] = (M o M)(A + B / people)`` with ``M`` the cell-level residual maker; each placebo error is
then rescaled by ``sqrt(Var(treated error) / Var(placebo error))``, both variances computed
exactly from the linear maps. In our simulation (1 treated of 11, treated 20 people vs controls
of 100–2000) it brings the rejection rate at 9.1% nominal from 56% to about 13%; it is
approximate (A and B are estimated from one panel), not exact.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ..errors import SpecificationError
from ..inference import ConleyTaber
from .randomization import AssignmentDesign


@dataclass(frozen=True)
class ConleyTaberOutcome:
    estimate: float
    p_value: float
    conf_low: float
    conf_high: float
    n_placebos: int
    placebo_errors: np.ndarray
    statement: str
    variance_model: dict | None = None  # Ferman-Pinto A, B (cell-mean variance A + B/people)


def size_variance_scales(design: AssignmentDesign, firsts: np.ndarray) -> tuple[np.ndarray, dict]:
    """Ferman-Pinto rescaling factors sqrt(Var(treated error) / Var(placebo error)) per row."""
    q, w, size = design.q, design.cell_weight, design.cell_size
    d = (design.cell_period >= design.first_by_cluster[design.cell_cluster]).astype(np.float64)
    qd = q @ d
    dqd = float(d @ qd)
    qres = q - np.outer(qd, qd) / dqd  # N * (residual maker incl. the treatment)
    m_full = qres / w[:, None]  # residual maker of cell means
    e = design.residual_r() / w  # full-model residuals of cell means
    p = m_full**2
    inv_size = 1.0 / np.maximum(size, 1e-12)
    x = np.column_stack([p.sum(axis=1), p @ inv_size])
    coef, *_ = np.linalg.lstsq(x, e**2, rcond=None)
    a, b = max(float(coef[0]), 0.0), max(float(coef[1]), 0.0)
    if a == 0.0 and b == 0.0:
        return np.ones(firsts.shape[0]), {"A": a, "B": b}
    sigma2 = a + b * inv_size
    a0 = qd / dqd  # treated error = a0' e
    var0 = float(np.sum(a0**2 * sigma2))
    dk = (design.cell_period[None, :] >= firsts[:, design.cell_cluster]).astype(np.float64)
    den = np.einsum("aj,aj->a", dk @ q, dk)
    bk = (dk @ qres) / den[:, None]  # placebo error = bk' e
    var_k = (bk**2) @ sigma2
    scale = np.sqrt(np.divide(var0, var_k, out=np.ones_like(var_k), where=var_k > 0))
    return scale, {"A": a, "B": b}


def conley_taber(design: AssignmentDesign, *, conf_level: float = 0.95, reps=None, seed=None,
                 heteroskedasticity: bool = False):
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
    fp_note = ""
    par = None
    if heteroskedasticity:
        if design.cell_weight is None or design.cell_size is None:
            raise SpecificationError("the size correction needs cell weights and sizes")
        scale, par = size_variance_scales(design, firsts)
        errors = errors * scale
        fp_note = (f"; placebo errors rescaled for cluster size (Ferman-Pinto: cell-mean variance "
                   f"A + B/people, A = {par['A']:.3g}, B = {par['B']:.3g})")
    errors = errors[np.isfinite(errors)]
    a = 1 - conf_level
    lo_q = float(np.quantile(errors, a / 2, method="inverted_cdf"))
    hi_q = float(np.quantile(errors, 1 - a / 2, method="inverted_cdf"))
    est = design.estimate
    p = float((1 + np.sum(np.abs(errors) >= abs(est))) / (1 + errors.size))
    statement = (
        f"Conley-Taber: distribution of the estimation error from {errors.size} placebo "
        f"placements of the {m} treated cluster timing(s) on the {controls.size} control "
        "clusters' residuals"
        + (fp_note if heteroskedasticity else
           "; assumes exchangeable cluster errors (no Ferman-Pinto size correction)")
    )
    if errors.size < 2 / a:
        statement += (f"; with {errors.size} placebos the {conf_level:.0%} interval is set by the "
                      "most extreme placebo errors")
    return ConleyTaberOutcome(estimate=est, p_value=p, conf_low=est - hi_q, conf_high=est - lo_q,
                              n_placebos=int(errors.size), placebo_errors=errors,
                              statement=statement, variance_model=par)


__all__ = ["ConleyTaber", "ConleyTaberOutcome", "conley_taber"]
