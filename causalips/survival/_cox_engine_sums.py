"""The per-time sums of a Cox fit run in a data engine, and the event blocks they fall in.

At a given β the engine sums, per (stratum, stop time, event), the weighted risks
r = w·exp(x·β − shift) and r·x, r·x x' (S0, S1, S2) of the rows leaving then; with (start,
stop] rows the same query also sums them by (stratum, entry time). :func:`build_index` numbers
the event blocks as the in-memory ``_risk_sets.build_risk_sets`` does and places each group;
:func:`block_sums` turns the per-group sums into risk-set and death sums per block (reverse
cumulative sums, minus later entries), the input of ``_cox_math.block_pieces``.
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from .._checks import coded_column
from ..engine.aggregate import MAX_AGGREGATED_ROWS
from ..errors import DataError
from ._cox_engine_columns import EVENT, START, STOP, WEIGHT, EngineModel
from ._model_frame import combined_codes
from ._risk_sets import _finish_block_sums


@dataclass
class TimeIndex:
    """Event blocks (distinct stratum × event time) and where each aggregated group falls.

    Duck-types the fields of ``RiskSets`` that the block-level math reads (``n_blocks``,
    ``n_death``, ``k_frac``, ``efron``, ``mean_wt``, ``unit_weights``, ``block_stratum``).
    """

    n_blocks: int
    n_death: np.ndarray
    k_frac: np.ndarray
    efron: bool
    mean_wt: np.ndarray
    unit_weights: bool
    block_time: np.ndarray
    block_stratum: np.ndarray
    block_code: np.ndarray  # per block: index + 1 of its time in utimes
    utimes: np.ndarray  # distinct event times (all strata)
    stop_hi: np.ndarray  # per (stratum, stop, event) group: one past its last block
    stop_event: np.ndarray  # bool per group
    stop_stratum: np.ndarray
    stratum_first: np.ndarray  # first block of each stratum
    entry_lo: np.ndarray | None  # per (stratum, start) group: first block it is at risk in
    strata_labels: list[str]
    w_dead: float


def packed(p: int):
    return list(zip(*np.triu_indices(p), strict=True))


#: the time and kind (the event, or -1 for an entry) of a row in the per-time query
TIME, KIND = "__cx_t", "__cx_k"


class Sums:
    """The per-time sums at a given β: one grouped aggregation in the engine.

    Rows are grouped by (stratum, stop time, event); with (start, stop] rows the same sums by
    (stratum, entry time) come from the same query (the rows again, keyed by their entry
    time, with kind −1).
    """

    def __init__(self, model: EngineModel, bar):
        self.model, self.bar = model, bar
        self.frame = model.table.frame
        self.keys = [*model.strata, TIME, KIND]
        self.stop_keys = [*model.strata, STOP, EVENT]
        self.entry_keys = [*model.strata, START]
        self.stop_groups: pd.DataFrame | None = None
        self.entry_groups: pd.DataFrame | None = None

    def columns(self, *, extra: bool) -> dict:
        """The sums per group, over the rows' columns ``__cx_r`` (w·r) and ``__cx_rx{j}``
        (w·r·x_j): few operations per aggregate (each costs a call into Spark's JVM)."""
        x = [nw.col(c) for c in self.model.x]
        rx = [nw.col(f"__cx_rx{j}") for j in range(len(x))]
        aggs = {"s0": nw.col("__cx_r").sum()}
        aggs.update({f"s1_{j}": c.sum() for j, c in enumerate(rx)})
        aggs.update({f"s2_{j}_{k}": (rx[j] * x[k]).sum() for j, k in packed(len(x))})
        if extra:  # the first pass: row counts (ties, KM), unweighted sums (collinearity)
            aggs["n"] = nw.len()
            if self.model.weighted:
                aggs.update({f"u1_{j}": xj.sum() for j, xj in enumerate(x)})
                aggs.update({f"u2_{j}_{k}": (x[j] * x[k]).sum() for j, k in packed(len(x))})
        return aggs

    def keyed_rows(self, beta: np.ndarray, shift: float):
        """The rows with w·r and w·r·x (r = exp(x·β − shift)) as columns, keyed by
        (stratum, time, kind); entries appended when there are any."""
        frame = self.frame.with_columns(self.risk(beta, shift).alias("__cx_r"))
        frame = frame.with_columns(*[(nw.col("__cx_r") * nw.col(c)).alias(f"__cx_rx{j}")
                                     for j, c in enumerate(self.model.x)])
        values = ["__cx_r", *[f"__cx_rx{j}" for j in range(len(self.model.x))],
                  *self.model.x]
        stop = frame.select(*self.model.strata, nw.col(STOP).alias(TIME),
                            nw.col(EVENT).alias(KIND), *values)
        if not self.model.has_entry:
            return stop
        entry = frame.select(*self.model.strata, nw.col(START).alias(TIME),
                             nw.lit(-1.0).alias(KIND), *values)
        return nw.concat([stop, entry], how="vertical")

    def relative_risk(self, beta: np.ndarray, shift: float):
        """exp(x·β − shift) per row (x centred)."""
        if not np.any(beta):
            return nw.lit(1.0)
        eta = sum(float(b) * nw.col(c) for b, c in zip(beta, self.model.x, strict=True))
        return (eta - shift).exp()

    def risk(self, beta: np.ndarray, shift: float):
        if not np.any(beta):
            return nw.col(WEIGHT)
        return nw.col(WEIGHT) * self.relative_risk(beta, shift)

    def run(self, beta: np.ndarray, shift: float) -> tuple[np.ndarray, np.ndarray | None]:
        """(stop sums, entry sums): one row per group, columns S0, S1 (p), S2 (packed)."""
        first = self.stop_groups is None
        aggs = self.columns(extra=first)
        out = self._collect(self.keyed_rows(beta, shift), aggs, first)
        is_entry = out[KIND].to_numpy(float) < 0
        stop = out[~is_entry].rename(columns={TIME: STOP, KIND: EVENT})
        entry = out[is_entry].drop(columns=KIND).rename(columns={TIME: START})
        if first:
            self.stop_groups = stop.reset_index(drop=True)
            self.entry_groups = entry.reset_index(drop=True) if self.model.has_entry else None
        elif len(out) != self.n_groups or not np.array_equal(
                stop[STOP].to_numpy(float), self.stop_groups[STOP].to_numpy(float)):
            raise RuntimeError("the engine returned different groups at two Newton steps")
        self.n_groups = len(out)
        cols = ["s0", *[c for c in out.columns if c.startswith(("s1_", "s2_"))]]
        return (stop[cols].to_numpy(dtype=float),
                entry[cols].to_numpy(dtype=float) if self.model.has_entry else None)

    def _collect(self, rows, aggs: dict, first: bool) -> pd.DataFrame:
        """One grouped aggregation, sorted here (the table is small; Spark skips a shuffle).
        The first pass refuses a "summary" with about one group per row."""
        query = rows.group_by(*self.keys).agg(**aggs)
        limit = max_groups(len(aggs))
        out = self.model.table.collect(query.head(limit + 1) if first else query)
        self.bar.update()
        if first and len(out) > limit:
            raise DataError(
                f"the Cox fit on {self.model.table.source} needs sums per distinct time and "
                f"stratum, and there are more than {limit:,} of them: the times are close to "
                "one per row. Round the durations (e.g. to whole days) so that tied times "
                "share a group, or fit a pandas DataFrame in memory.")
        return out.sort_values(self.keys, kind="stable", ignore_index=True)

    def max_eta(self, beta: np.ndarray) -> float:
        eta = sum(float(b) * nw.col(c) for b, c in zip(beta, self.model.x, strict=True))
        out = self.model.table.collect(self.frame.select(eta.max().alias("m")))
        return float(out["m"].iloc[0])


def max_groups(n_columns: int) -> int:
    """Most groups a per-time table may have: at most ~1.6 GB of sums (and never more than
    the engine layer's guard)."""
    return int(min(MAX_AGGREGATED_ROWS, 2e8 // max(n_columns, 1)))


def _stratum_codes(groups: pd.DataFrame, keys: list[str]):
    if not keys:
        return np.zeros(len(groups), dtype=np.int64), ["all"]
    return combined_codes([coded_column(groups, k) for k in keys])


def build_index(model: EngineModel, stop: pd.DataFrame, entry: pd.DataFrame | None,
                ties: str) -> TimeIndex:
    """Event blocks from the first pass's groups, as ``_risk_sets.build_risk_sets`` numbers
    them (blocks in (stratum, time) order; a group is at risk in blocks lo <= b < hi)."""
    s_codes, labels = _stratum_codes(stop, model.strata)
    time = stop[STOP].to_numpy(float)
    event = stop[EVENT].to_numpy(float) > 0.5
    utimes = np.unique(time[event])
    m = utimes.size + 1
    key = s_codes * m + np.searchsorted(utimes, time, side="right")
    bkeys = np.unique(key[event])
    hi = np.searchsorted(bkeys, key, side="right")
    first = np.searchsorted(bkeys, np.arange(len(labels)) * m, side="right")
    entry_lo = None
    if entry is not None:
        e_codes = np.zeros(len(entry), dtype=np.int64)
        if model.strata:
            strata = stop[model.strata].assign(__code=s_codes).drop_duplicates(model.strata)
            e_codes = entry[model.strata].merge(strata, on=model.strata, how="left")[
                "__code"].to_numpy(np.int64)
        start = entry[START].to_numpy(float)
        entry_lo = np.searchsorted(bkeys, e_codes * m + np.searchsorted(utimes, start, "right"),
                                   side="right")
    nb = bkeys.size
    n_death = np.bincount(hi[event] - 1, weights=stop["n"].to_numpy(float)[event],
                          minlength=nb).astype(np.int64)
    w_death = np.bincount(hi[event] - 1, weights=stop["s0"].to_numpy(float)[event],
                          minlength=nb)  # at beta = 0 the risk is the weight
    n_terms = int(n_death.sum())
    if ties == "efron":
        starts = np.concatenate([[0], np.cumsum(n_death)[:-1]])
        k_frac = (np.arange(n_terms, dtype=np.float64) - np.repeat(starts, n_death)) \
            / np.repeat(n_death, n_death)
    else:
        k_frac = np.zeros(n_terms)
    return TimeIndex(
        n_blocks=nb, n_death=n_death, k_frac=k_frac, efron=ties == "efron",
        mean_wt=np.ones(nb) if not model.weighted else w_death / np.maximum(n_death, 1),
        unit_weights=not model.weighted, block_time=utimes[bkeys % m - 1],
        block_stratum=bkeys // m, block_code=bkeys % m, utimes=utimes, stop_hi=hi, stop_event=event, stop_stratum=s_codes,
        stratum_first=first, entry_lo=entry_lo, strata_labels=labels,
        w_dead=float(n_terms if not model.weighted else w_death.sum()))


def block_sums(index: TimeIndex, stop: np.ndarray, entry: np.ndarray | None):
    """Risk-set and death sums per block from the per-group sums (``_finish_block_sums``)."""
    nb, k = index.n_blocks, stop.shape[1]
    full = np.zeros((2 * (nb + 1), k))
    np.add.at(full, index.stop_hi * 2 + index.stop_event, stop)
    rem = per = None
    if entry is not None:
        rem = np.zeros((nb + 1, k))
        np.add.at(rem, index.entry_lo, entry)
    elif index.stratum_first.size > 1:
        per = np.zeros((index.stratum_first.size, k))
        np.add.at(per, index.stop_stratum, stop)
    return _finish_block_sums(index, full, rem, per)
