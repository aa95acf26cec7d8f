"""Fitting a Cox model: Newton–Raphson on the partial likelihood and the record of the fit.

:func:`fit_cox` maximises the partial likelihood (``_cox_math`` does the risk-set sums) and
returns a :class:`CoxFit`: the derived arrays every later step needs (risk-set index, centred
design matrix, final Newton pieces, β̂ and the model-based variance; never the DataFrame). The
variances of ``_cox_variance``, Harrell's C, the proportional-hazards test and the adjusted
curves are all computed from it, on first use, so a result can change its variance spec
(``with_inference``) without fitting again.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from ..errors import ConvergenceWarning, SpecificationError, StatisticalWarning, warn
from ..inference import ModelBased
from . import _cox_math as cm
from ._concordance import concordance as _concordance
from ._model_matrix import Design


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, b, rcond=None)[0]


def inverse(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


def quad(v: np.ndarray, m: np.ndarray) -> float:
    """v' m^{-1} v (a Wald or score statistic)."""
    if v.size == 0:
        return 0.0
    return float(v @ solve(m, v))


@dataclass(eq=False)
class CoxFit:
    """Everything a fitted Cox model's inference and diagnostics need (rows in risk-set order)."""

    rs: cm.RiskSets
    xc: np.ndarray  # centred design matrix
    design: Design
    means: np.ndarray
    beta: np.ndarray
    final: cm.Pieces  # Newton pieces of the last evaluation
    exact_final: bool  # final was evaluated at beta (False after the quadratic shortcut)
    null: cm.Pieces  # pieces at beta = 0
    v_model: np.ndarray
    converged: bool
    iterations: int
    stop: np.ndarray  # in data order (the proportional-hazards test needs it)
    strata_rows: np.ndarray | None  # stratum code per row (risk-set order), None unstratified
    strata_labels: list[str]
    clusters: dict[str, np.ndarray]  # cluster codes per kept cluster column (risk-set order)
    ties: str
    want_concordance: bool
    diagnostics: bool
    warnings: list[str]

    @property
    def names(self) -> list[str]:
        return list(self.design.names)

    @property
    def n(self) -> int:
        return self.rs.n

    @property
    def n_events(self) -> int:
        return int(self.rs.death_rows.size)

    @property
    def n_events_weighted(self) -> float:
        rs = self.rs
        return float(rs.death_rows.size if rs.unit_weights else np.sum(rs.weights[rs.death_rows]))

    def unavailable(self, what: str) -> str | None:
        """Why ``what`` cannot be computed from this fit (None: it can; a fit in memory has
        its rows)."""
        return None

    def meat(self, cluster: str | None, *, where: str = "Cox") -> Meat:
        """Σ_g R_g R_g' of the weighted score residuals, summed within the clusters of the
        column ``cluster`` (each row its own cluster with None), at β̂ and at β = 0."""
        codes = None if cluster is None else self.cluster_codes(cluster, where)
        pieces, _v = self.at_beta
        resid = cm.score_residuals(self.rs, self.xc, pieces) * self.rs.weights[:, None]
        at_beta = _by_cluster(resid, codes)
        at_zero = self.null_residuals(codes)
        g = self.n if codes is None else (int(codes.max()) + 1 if codes.size else 0)
        return Meat(at_beta.T @ at_beta, at_zero.T @ at_zero, g, codes)

    def cluster_codes(self, column: str, where: str) -> np.ndarray:
        codes = self.clusters.get(column)
        if codes is None:
            raise missing_cluster(where, column, self.clusters)
        return codes

    @functools.cached_property
    def at_beta(self) -> tuple[cm.Pieces, np.ndarray]:
        """Newton pieces and model variance evaluated exactly at β̂ (the sandwich needs them)."""
        if self.exact_final:
            return self.final, self.v_model
        pieces = cm.evaluate(self.rs, self.xc, self.beta, self.final.wx_dead)
        return pieces, inverse(pieces.info)

    @property
    def v_model_at_beta(self) -> np.ndarray:
        """The model variance evaluated exactly at β̂ (the bread of the sandwich)."""
        return self.at_beta[1]

    def null_residuals(self, cluster: np.ndarray | None) -> np.ndarray:
        """Weighted score residuals at β = 0 (the robust score test), summed by cluster."""
        r0 = cm.score_residuals(self.rs, self.xc, self.null) * self.rs.weights[:, None]
        return _by_cluster(r0, cluster)

    def concordance(self, cluster: np.ndarray | None) -> tuple[float, float]:
        """Harrell's C and its SE (R's concordancefit); NaN with concordance=False."""
        if not self.want_concordance:
            return np.nan, np.nan
        lp = cm.linear_predictor(self.xc, self.beta)
        c, c_se, _counts = _concordance(self.rs, lp, cluster)
        return c, c_se

    @functools.cached_property
    def zph(self) -> dict | None:
        """The pieces of the proportional-hazards test (None with diagnostics=False)."""
        if not self.diagnostics:
            return None
        from .zph import zph_pieces

        rs = self.rs
        return zph_pieces(rs, self.xc, self.final, self.stop[rs.order], rs.event, self.beta,
                          self.names, self.design.assign, self.null.s1d)

    @functools.cached_property
    def lp_other(self) -> dict:
        """Per factor term: the linear predictor without that term (adjusted curves)."""
        out = {}
        if not self.diagnostics:
            return out
        for label, idx in self.design.assign.items():
            if all(self.design.indicator[i] for i in idx):
                b_other = self.beta.copy()
                b_other[list(idx)] = 0.0
                out[label] = cm.linear_predictor(self.xc, b_other).astype(np.float32)
        return out

    def baseline(self) -> dict:
        """Baseline hazard increments at centred x = 0, per event block."""
        dh = self.final.c1 * np.exp(-self.final.shift)
        return {"time": self.rs.block_time, "stratum": self.rs.block_stratum, "dhaz": dh}


def missing_cluster(where: str, column: str, kept) -> SpecificationError:
    """The error for a cluster column the fit did not keep (``with_inference``)."""
    shown = ", ".join(repr(c) for c in kept if not c.startswith("__")) or "none"
    return SpecificationError(
        f"{where}: this fit did not keep the cluster column {column!r} (it kept: {shown}); "
        f"refit with vcov=Cluster({column!r}) to cluster on it")


@dataclass(frozen=True)
class Meat:
    """The middle of the sandwich: Σ_g R_g R_g' over clusters g (or rows) of the weighted
    score residuals R, at β̂ (``at_beta``) and at β = 0 (``at_zero``, the robust score test).
    """

    at_beta: np.ndarray
    at_zero: np.ndarray
    n_clusters: int
    codes: np.ndarray | None  # cluster code per row (in-memory fits: the concordance SE)


def _by_cluster(rows: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    if cluster is None:
        return rows
    return np.column_stack([np.bincount(cluster, weights=rows[:, j])
                            for j in range(rows.shape[1])])


def newton(evaluate, null, x_sd, *, max_iter: int, tol: float, shortcut: bool):
    """Newton–Raphson with step halving from β = 0 (R's convergence criterion).

    ``evaluate(beta, wx_dead)`` gives the Newton pieces at ``beta`` (a pass over the rows in
    memory, or one grouped aggregation in a data engine); ``null`` are the pieces at β = 0.
    Returns (beta, final pieces, whether they are exact at beta, converged, iterations).
    """
    beta = np.zeros(null.score.size)
    wx_dead = null.wx_dead
    cur = null
    halvings = 0
    for it in range(1, max_iter + 1):
        step = solve(cur.info, cur.score)
        if shortcut and it > 1 and float(np.max(np.abs(step) * x_sd)) <= 1e-6:
            # Quadratic convergence reached: this is R's last step. Take it without
            # re-evaluating; the information (hence the model-based SEs) moves by ~1e-6
            # relative at most over a step this small, the log-likelihood by O(step^3).
            # A sandwich variance asked for later re-evaluates at the final beta.
            cur = dataclasses.replace(cur, loglik=cur.loglik + 0.5 * float(cur.score @ step),
                                      score=cur.score - cur.info @ step)
            return beta + step, cur, False, True, it
        new_beta = beta + step
        new = evaluate(new_beta, wx_dead)
        while (not np.isfinite(new.loglik) or new.loglik < cur.loglik - 1e-12 * abs(
                cur.loglik)) and halvings < 30:
            halvings += 1
            new_beta = (beta + new_beta) / 2
            new = evaluate(new_beta, wx_dead)
        done = abs(1 - cur.loglik / new.loglik) <= tol if new.loglik != 0 else True
        beta, cur = new_beta, new
        if done:
            return beta, cur, True, True, it
    return beta, cur, True, False, max_iter


def not_converged(plan) -> list[str]:
    """The ConvergenceWarning of a fit that ran out of iterations (issued and returned)."""
    msg = (f"the Cox fit did not converge in {plan.max_iter} iterations (relative change "
           f"in log-likelihood above tol={plan.tol:g}); estimates may be unreliable")
    warn(msg, ConvergenceWarning)
    return [msg]


def fit_cox(rs, design: Design, *, strata_rows, strata_labels, clusters, stop, plan) -> CoxFit:
    """Centre the design, run Newton–Raphson and record the fit (with its warnings)."""
    from ._model_matrix import check_collinearity

    xc = design.matrix
    means = xc.mean(axis=0)
    xc -= means  # centred in place (our own column-major array)
    sumsq = check_collinearity(xc, design.names, strata_rows, means)
    x_sd = np.sqrt(sumsq / max(len(xc), 1))  # scale of each column (step criterion)
    shortcut = isinstance(plan.vcov, ModelBased)
    null = cm.evaluate(rs, xc, np.zeros(xc.shape[1]), None)
    beta, cur, exact, converged, iterations = newton(
        lambda b, wx: cm.evaluate(rs, xc, b, wx), null, x_sd, max_iter=plan.max_iter,
        tol=plan.tol, shortcut=shortcut)
    warnings: list[str] = [] if converged else not_converged(plan)
    v_model = inverse(cur.info)
    w_dead = float(rs.death_rows.size if rs.unit_weights else np.sum(rs.weights[rs.death_rows]))
    warnings.extend(monotone_warnings(beta, cur, v_model, means, w_dead, design, converged,
                                      plan.tol))
    rs.__dict__.pop("_buffers", None)  # Newton-step scratch arrays
    return CoxFit(rs=rs, xc=xc, design=design, means=means, beta=beta, final=cur,
                  exact_final=exact, null=null, v_model=v_model, converged=converged,
                  iterations=iterations, stop=np.array(stop), strata_rows=strata_rows,
                  strata_labels=strata_labels, clusters=clusters, ties=plan.ties,
                  want_concordance=plan.concordance, diagnostics=plan.diagnostics,
                  warnings=warnings)


def monotone_warnings(beta, cur, v_model, means, w_dead: float, design: Design,
                      converged: bool, tol: float) -> list[str]:
    """Warn when a coefficient is drifting to ±infinity (monotone likelihood/separation).

    ``w_dead`` is the weighted number of events.
    """
    flagged = set()
    # a 0/1 level indicator whose level has no events (or only events)
    for j in range(len(design.names)):
        if not design.indicator[j]:
            continue
        events_with = cur.wx_dead[j] + means[j] * w_dead  # x was centred
        if events_with <= 1e-9 * w_dead or events_with >= w_dead * (1 - 1e-9):
            flagged.add(j)
    # R's test: the remaining Newton step is large relative to the coefficient
    if converged:
        step = np.abs(v_model @ cur.score)
        eps = np.sqrt(tol)
        for j in np.flatnonzero((step > eps) & (step > eps * np.abs(beta))):
            flagged.add(int(j))
    out = []
    for j in sorted(flagged):
        msg = (f"monotone likelihood: the coefficient of {design.names[j]!r} is diverging "
               f"(log HR {beta[j]:.3g}); typically a group with no events (or only events). "
               "Its hazard ratio, SE and CI are not meaningful: merge or drop that level, or "
               "use a method for sparse data (e.g. Firth's penalty).")
        warn(msg, StatisticalWarning)
        out.append(msg)
    return out
