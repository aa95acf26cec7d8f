"""Cox fitted where the data live: each Newton step is one grouped aggregation per time.

For data held by an engine (a Parquet file read by DuckDB, a polars or Spark frame) the fit
never collects rows. At each β the engine sums, per (stratum, time, event), the weighted risks
r = w·exp(x·β − shift) and r·x, r·x x' (S0, S1, S2) over the rows leaving then, plus, with
(start, stop] rows, the same sums by entry time (``_cox_engine_sums``). The deaths' part of each event block (the
tied-event sums Efron needs) is the ``event = 1`` group. In numpy, reverse cumulative sums over
the blocks give the risk sets (minus later entries), and the log-likelihood, score and
information follow from the in-memory code's own block-level functions
(``_cox_math.block_pieces``, ``information_from_sums``), so both paths share one set of
formulas and the same Newton–Raphson (``_cox_fit.newton``).

The sandwich variances take one more pass: the per-block pieces of the score residuals
(cumulative hazard sums, the Efron corrections) are joined back to the rows in the engine on
(stratum, time), and the weighted residuals are summed by cluster (or squared per row for
``Robust()``) there.
"""

from __future__ import annotations

import functools

import narwhals as nw
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..engine.lookup import join_small
from ..inference import ModelBased
from . import _cox_math as cm
from ._cox_engine_columns import EVENT, START, STOP, WEIGHT, EngineModel
from ._cox_engine_sums import Sums, TimeIndex, block_sums, build_index, packed
from ._cox_fit import Meat, inverse, missing_cluster, monotone_warnings, newton, not_converged
from ._model_matrix import Design, check_gram
from .zph import g_values, score_by_block, zph_tests

UNAVAILABLE = ("{what} needs the rows, and this model was fitted where the data live ({source}) "
               "from sums per distinct time; fit it to a pandas DataFrame (e.g. a sample, or "
               "the rows of interest) to get it")


class _Evaluator:
    """Newton pieces at β from the engine's per-time sums (the ``evaluate`` of ``newton``)."""

    def __init__(self, sums: Sums, index: TimeIndex, model: EngineModel):
        self.sums, self.index, self.model = sums, index, model
        self.p = len(model.x)

    def shift(self, beta: np.ndarray) -> float:
        """An upper bound of x·β over the rows (from the columns' ranges): exp() of the
        shifted predictor cannot overflow, and no extra pass is needed for the maximum."""
        return float(np.sum(np.maximum(beta * self.model.lower, beta * self.model.upper)))

    def __call__(self, beta: np.ndarray, wx_dead: np.ndarray) -> cm.Pieces:
        shift = self.shift(beta)
        stop, entry = self.sums.run(beta, shift)
        if not np.all(block_sums(self.index, stop[:, :1], None if entry is None
                                 else entry[:, :1])[0] > 0):
            # the bound was far above the largest x·β: risk sets underflowed to 0
            shift = self.sums.max_eta(beta)
            stop, entry = self.sums.run(beta, shift)
        return self.pieces(beta, shift, stop, entry, wx_dead)

    def pieces(self, beta, shift, stop, entry, wx_dead) -> cm.Pieces:
        tot, dth = block_sums(self.index, stop, entry)
        k = 1 + self.p
        if wx_dead is None:  # beta = 0: the deaths' sums of w·x
            wx_dead = dth[:, 1:k].sum(axis=0)
        pieces = cm.block_pieces(self.index, tot[:, :k], dth[:, :k], wx_dead=wx_dead,
                                 beta=beta, shift=shift, w_dead=self.index.w_dead)
        pieces.s2, pieces.s2d = tot[:, k:], dth[:, k:]
        pieces.info = cm.information_from_sums(pieces.s2, pieces.s2d, pieces)
        return pieces


def check_design(model: EngineModel, groups: pd.DataFrame, index: TimeIndex) -> np.ndarray:
    """Constant or collinear columns (as in memory, from the first pass's unweighted sums);
    returns the columns' spread (the Newton step criterion)."""
    p, n = len(model.x), model.n
    tag = "u" if model.weighted else "s"
    u1 = groups[[f"{tag}1_{j}" for j in range(p)]].to_numpy(float)
    u2 = groups[[f"{tag}2_{j}_{k}" for j, k in packed(p)]].to_numpy(float).sum(axis=0)
    gram = np.zeros((p, p))
    gram[np.triu_indices(p)] = u2
    gram = gram + np.triu(gram, 1).T
    strata = {}
    if model.strata and len(index.strata_labels) > 1:
        codes, rows = index.stop_stratum, groups["n"].to_numpy(float)
        strata = {"counts": np.bincount(codes, weights=rows),
                  "sums": np.column_stack([np.bincount(codes, weights=u1[:, j])
                                           for j in range(p)])}
    diag = check_gram(gram, n, model.names, means=model.means, **strata)
    return np.sqrt(diag / max(n, 1))


def fit_in_engine(plan, model: EngineModel) -> EngineCoxFit:
    """Newton–Raphson on per-time sums computed by the engine (same steps as in memory)."""
    p = len(model.x)
    with tqdm(desc=f"Cox on {model.table.source}", unit="pass", delay=2,
              disable=not plan.progress) as bar:
        sums = Sums(model, bar)
        stop0, entry0 = sums.run(np.zeros(p), 0.0)
        index = build_index(model, sums.stop_groups, sums.entry_groups, plan.ties)
        x_sd = check_design(model, sums.stop_groups, index)
        evaluate = _Evaluator(sums, index, model)
        null = evaluate.pieces(np.zeros(p), 0.0, stop0, entry0, None)
        beta, cur, exact, converged, iterations = newton(
            evaluate, null, x_sd, max_iter=plan.max_iter, tol=plan.tol,
            shortcut=isinstance(plan.vcov, ModelBased))
    sums.bar = tqdm(disable=True)  # later passes (sandwich SEs) count on no bar
    warnings = [] if converged else not_converged(plan)
    v_model = inverse(cur.info)
    design = Design(matrix=np.empty((0, p)), names=model.names, assign=model.assign,
                    factors=model.factors, indicator=model.indicator)
    warnings.extend(monotone_warnings(beta, cur, v_model, model.means, index.w_dead, design,
                                      converged, plan.tol))
    return EngineCoxFit(model=model, index=index, sums=sums, evaluate=evaluate, design=design,
                        beta=beta, final=cur, exact_final=exact, null=null, v_model=v_model,
                        converged=converged, iterations=iterations, ties=plan.ties,
                        diagnostics=plan.diagnostics, warnings=warnings)


class EngineCoxFit:
    """What a Cox result needs from a fit run in a data engine (``CoxFit``'s interface).

    Keeps the per-time index and the lazy query, never rows: the sandwich variances run one
    more pass in the engine; concordance, Schoenfeld residuals and adjusted curves need the
    rows and are unavailable (``unavailable`` says why).
    """

    strata_rows = None

    def __init__(self, *, model: EngineModel, index: TimeIndex, sums: Sums,
                 evaluate: _Evaluator, design: Design, beta, final, exact_final, null, v_model,
                 converged, iterations, ties, diagnostics, warnings):
        self.model, self.index, self.sums, self.evaluate = model, index, sums, evaluate
        self.design, self.beta, self.final, self.exact_final = design, beta, final, exact_final
        self.null, self.v_model, self.converged = null, v_model, converged
        self.iterations, self.ties, self.warnings = iterations, ties, warnings
        self.means = model.means
        self.strata_labels = index.strata_labels
        self.diagnostics = diagnostics

    names = property(lambda self: list(self.design.names))
    n = property(lambda self: self.model.n)
    n_events = property(lambda self: self.model.n_events)
    n_events_weighted = property(lambda self: self.index.w_dead)

    @functools.cached_property
    def at_beta(self) -> tuple[cm.Pieces, np.ndarray]:
        """Newton pieces and model variance exactly at β̂ (one more pass after a shortcut)."""
        if self.exact_final:
            return self.final, self.v_model
        pieces = self.evaluate(self.beta, self.final.wx_dead)
        return pieces, inverse(pieces.info)

    @property
    def v_model_at_beta(self) -> np.ndarray:
        return self.at_beta[1]

    def meat(self, cluster: str | None, *, where: str = "Cox") -> Meat:
        """Σ_g R_g R_g' of the weighted score residuals, computed in the engine."""
        if cluster is not None and cluster not in self.model.clusters:
            raise missing_cluster(where, cluster, self.model.clusters)
        pieces, _v = self.at_beta
        frame = self._residual_frame(pieces).with_columns(
            self.sums.relative_risk(self.beta, pieces.shift).alias("__cr_r"))
        p = len(self.model.x)
        frame = frame.with_columns(
            *[e.alias(f"__cr{t}_R{j}") for t, risk in (("b", nw.col("__cr_r")),
                                                       ("z", nw.lit(1.0)))
              for j, e in enumerate(self._residuals(t, risk))])
        resid = {t: [nw.col(f"__cr{t}_R{j}") for j in range(p)] for t in ("b", "z")}
        pairs = packed(p)
        if cluster is None:
            query = frame.select(nw.len().alias("g"), **{
                f"{t}_{j}_{k}": (resid[t][j] * resid[t][k]).sum() for t in resid
                for j, k in pairs})
        else:
            by = frame.group_by(cluster).agg(**{f"{t}{j}": resid[t][j].sum() for t in resid
                                                for j in range(p)})
            query = by.select(nw.len().alias("g"), **{
                f"{t}_{j}_{k}": (nw.col(f"{t}{j}") * nw.col(f"{t}{k}")).sum() for t in resid
                for j, k in pairs})
        row = self.model.table.collect(query).iloc[0]
        out = {}
        for t in resid:
            m = np.zeros((p, p))
            m[np.triu_indices(p)] = [float(row[f"{t}_{j}_{k}"]) for j, k in pairs]
            out[t] = m + np.triu(m, 1).T
        return Meat(out["b"], out["z"], int(row["g"]), None)

    def _residuals(self, tag: str, risk) -> list:
        """Weighted score residuals per row (``_cox_math.score_residuals``) as expressions."""
        entry = self.model.has_entry
        h = nw.col(f"__cr{tag}_h") - (nw.col(f"__cr{tag}_eh") if entry else 0.0)
        out = []
        for j, xc in enumerate(self.model.x):
            g = nw.col(f"__cr{tag}_g{j}") - (nw.col(f"__cr{tag}_eg{j}") if entry else 0.0)
            x = nw.col(xc)
            out.append(nw.col(WEIGHT) * (nw.col(EVENT) * x - nw.col(f"__cr{tag}_a{j}")
                                         - risk * (x * h - g)))
        return out

    def _residual_frame(self, pieces: cm.Pieces):
        """The rows with the per-time pieces of their residuals joined on (stratum, time)."""
        stop_cols, entry_cols = {}, {}
        for tag, pc in (("b", pieces), ("z", self.null)):
            s, e = residual_pieces(self.index, pc, tag, self.model.has_entry)
            stop_cols.update(s)
            entry_cols.update(e)
        sums, table = self.sums, self.model.table
        stop = sums.stop_groups[sums.stop_keys].assign(**stop_cols)
        frame = join_small(table, table.frame, stop, sums.stop_keys)
        if self.model.has_entry:
            entry = sums.entry_groups[sums.entry_keys].assign(**entry_cols)
            frame = join_small(table, frame, entry, sums.entry_keys)
        return frame

    def concordance(self, cluster) -> tuple[float, float]:
        return np.nan, np.nan

    @functools.cached_property
    def zph(self) -> dict | None:
        """The proportional-hazards tests from the per-block sums (no Schoenfeld residuals:
        the plot needs the rows). None with diagnostics=False."""
        if not self.diagnostics:
            return None
        index, pc, sums = self.index, self.final, self.sums
        stop, entry = sums.stop_groups, sums.entry_groups
        gvals = g_values(
            index.utimes, index.block_code, index.block_time, stop[STOP].to_numpy(float),
            stop["n"].to_numpy(float), index.stop_event,
            start_codes=None if entry is None else np.searchsorted(
                index.utimes, entry[START].to_numpy(float), side="right"),
            start_count=None if entry is None else entry["n"].to_numpy(float))
        tests = zph_tests(gvals, index.n_death, score_by_block(pc, self.null.s1d),
                          lambda q: cm.information_from_sums(pc.s2, pc.s2d, pc, q))
        return {"names": tuple(self.names), "assign": dict(self.design.assign),
                "info": pc.info, "tests": tests, "scaled": None, "time": None}

    lp_other: dict = {}

    def unavailable(self, what: str) -> str:
        return UNAVAILABLE.format(what=what, source=self.model.table.source)

    def baseline(self) -> dict:
        dh = self.final.c1 * np.exp(-self.final.shift)
        return {"time": self.index.block_time, "stratum": self.index.block_stratum,
                "dhaz": dh}


def residual_pieces(index: TimeIndex, pc: cm.Pieces, tag: str, has_entry: bool):
    """Per stop group and per entry group, the block sums a row's score residual needs:
    Σ c1 and Σ g over the blocks up to its time (less its own block's Efron part if it is an
    event), and its block's Efron-averaged mean of x (``_cox_math.score_residuals``)."""
    p = pc.s1.shape[1]
    g = pc.s1 * pc.q0[:, None] - pc.s1d * pc.q1[:, None]
    g2 = pc.s1 * pc.q1[:, None] - pc.s1d * pc.q2[:, None]
    abar = (pc.s1 * pc.e0[:, None] - pc.s1d * pc.e1[:, None]) / index.n_death[:, None]
    c1 = np.concatenate([[0.0], np.cumsum(pc.c1)])
    cg = np.vstack([np.zeros((1, p)), np.cumsum(g, axis=0)])
    hi, ev = index.stop_hi, index.stop_event
    h, gg = c1[hi], cg[hi]
    if not has_entry:  # the blocks of earlier strata are not in this row's risk sets
        lo = index.stratum_first[index.stop_stratum]
        h, gg = h - c1[lo], gg - cg[lo]
    own = hi[ev] - 1
    h[ev] -= pc.cf[own]
    gg[ev] -= g2[own]
    ab = np.zeros((hi.size, p))
    ab[ev] = abar[own]
    stop = {f"__cr{tag}_h": h}
    stop.update({f"__cr{tag}_g{j}": gg[:, j] for j in range(p)})
    stop.update({f"__cr{tag}_a{j}": ab[:, j] for j in range(p)})
    entry = {}
    if has_entry:
        lo = index.entry_lo
        entry[f"__cr{tag}_eh"] = c1[lo]
        entry.update({f"__cr{tag}_eg{j}": cg[lo, j] for j in range(p)})
    return stop, entry
