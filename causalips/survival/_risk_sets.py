"""The risk-set index of a Cox fit: rows against event blocks, built once per fit.

An *event block* is one distinct (stratum, event time) pair, numbered 0..B-1 in (stratum, time)
order. Row ``i`` (an interval ``(start, stop]`` in a stratum) is at risk in the blocks
``lo[i] <= b < hi[i]``, found once. Rows are stored sorted by (hi, event), so block sums are
contiguous run sums; risk-set sums over blocks are then reverse cumulative sums (over blocks)
minus the rows that entered later or belong to later strata (O(n) per column), and sums over
the blocks a row is at risk in are differences of cumulative sums over blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RiskSets:
    """Index structure for one data set (built once per fit)."""

    n: int
    lo: np.ndarray  # first block the row is at risk in
    hi: np.ndarray  # one past the last block
    n_blocks: int
    death_rows: np.ndarray  # row index of each death
    death_block: np.ndarray  # block of each death row
    n_death: np.ndarray  # deaths per block
    k_frac: np.ndarray  # Efron fraction of each tie term (0 for Breslow)
    block_time: np.ndarray  # event time of each block
    block_stratum: np.ndarray  # stratum code of each block
    event: np.ndarray  # bool per row
    weights: np.ndarray  # per row
    mean_wt: np.ndarray  # mean death weight per block
    has_entry: bool
    strata: np.ndarray | None  # stratum code per row when there are several strata
    n_strata: int
    utimes: np.ndarray  # distinct event times (all strata)
    code_stop: np.ndarray  # per row: number of distinct event times <= stop
    code_start: np.ndarray | None
    block_code: np.ndarray  # per block: index+1 of its time in utimes
    efron: bool
    order: np.ndarray  # rows are stored sorted by (hi, event): order[i] = original row
    seg_starts: np.ndarray  # first sorted row of each run of equal (hi, event)
    seg_key: np.ndarray  # hi*2 + event of each run
    k_first: np.ndarray  # first tie term of each block (all blocks have >= 1 death)
    unit_weights: bool  # all case weights are 1 (skip the multiplications)

    @property
    def row_block(self) -> np.ndarray:
        """Block of each row if it is a death, else n_blocks (a dummy bin); built on first use."""
        out = self.__dict__.get("_row_block")
        if out is None:
            out = np.full(self.n, self.n_blocks, dtype=np.int64)
            out[self.death_rows] = self.death_block
            self.__dict__["_row_block"] = out
        return out



def _time_codes(stop, event, start):
    """Distinct event times and, per row, the number of event times <= stop (and <= start)."""
    if event.any() and np.all(np.isfinite(stop)):
        lo_v, hi_v = float(stop.min()), float(stop.max())
        if start is not None:
            lo_v = min(lo_v, float(start.min()))
        if lo_v >= 0 and hi_v <= 2e7:
            # day-like integer times: presence table instead of a sort
            top = int(hi_v) + 1
            ti = stop.astype(np.int64)  # floor, times are >= 0
            whole = np.array_equal(ti, stop)
            ev_int = ti[event]
            if whole or np.array_equal(stop[event], ev_int):
                present = np.zeros(top + 1, dtype=bool)
                present[ev_int] = True
                utimes = np.flatnonzero(present).astype(np.float64)
                cum = np.cumsum(present)

                def code(t):
                    return cum[np.clip(np.floor(t).astype(np.int64), 0, top)]

                code_stop = cum[ti] if whole else code(stop)
                code_start = None if start is None else code(start)
                return utimes, code_stop, code_start
    ev_times = stop[event]
    utimes = np.unique(ev_times)
    code_stop = np.searchsorted(utimes, stop, side="right")
    code_start = None if start is None else np.searchsorted(utimes, start, side="right")
    return utimes, code_stop, code_start


def build_risk_sets(stop, event, weights, strata, start=None, ties="efron") -> RiskSets:
    """Index rows against the event blocks. ``strata`` are integer codes 0..S-1."""
    stop = np.asarray(stop, dtype=np.float64)
    event = np.asarray(event, dtype=bool)
    strata = np.asarray(strata, dtype=np.int64)
    start = None if start is None else np.asarray(start, dtype=np.float64)
    n = stop.size
    n_strata = int(strata.max()) + 1 if n else 1
    utimes, code_stop, code_start = _time_codes(stop, event, start)
    dr = np.flatnonzero(event)
    if n_strata == 1:
        n_blocks = utimes.size
        hi = code_stop.astype(np.int64)
        lo = np.zeros(n, dtype=np.int64) if code_start is None else code_start.astype(np.int64)
        block_time = utimes
        block_stratum = np.zeros(n_blocks, dtype=np.int64)
        block_code = np.arange(1, n_blocks + 1)
    else:
        m = utimes.size + 1
        bkeys = np.unique(strata[dr] * m + code_stop[dr])
        n_blocks = bkeys.size
        hi = np.searchsorted(bkeys, strata * m + code_stop, side="right")
        base = strata * m + (0 if code_start is None else code_start)
        lo = np.searchsorted(bkeys, base, side="right")
        block_code = bkeys % m
        block_time = utimes[block_code - 1] if n_blocks else np.empty(0)
        block_stratum = bkeys // m
    # store rows sorted by (hi, event): block sums become contiguous segment sums
    lo = np.asarray(lo, dtype=np.int64)
    key = hi.astype(np.int64)
    key *= 2
    key += event
    if 2 * n_blocks + 1 < 65535:
        order = np.argsort(key.astype(np.uint16), kind="stable")  # radix sort
    else:
        order = np.argsort(key, kind="stable")
    # the sorted keys are runs: read them off the key counts instead of gathering
    counts = np.bincount(key, minlength=2 * (n_blocks + 1))
    seg_key = np.flatnonzero(counts)
    seg_len = counts[seg_key]
    seg_starts = np.concatenate([[0], np.cumsum(seg_len)[:-1]]) if n else np.zeros(0, int)
    key = np.repeat(seg_key, seg_len)
    hi = key >> 1
    event = (key & 1).astype(bool)
    lo = lo[order] if (start is not None or n_strata > 1) else lo
    weights = np.asarray(weights, dtype=np.float64)
    unit_weights = bool(np.all(weights == 1.0))
    weights = np.ones(n) if unit_weights else weights[order]
    strata = strata[order] if n_strata > 1 else strata
    code_stop = code_stop[order] if n_strata > 1 else hi
    code_start = None if code_start is None else code_start[order]
    dr = np.flatnonzero(event)
    death_block = hi[dr] - 1
    n_death = np.bincount(death_block, minlength=n_blocks)
    n_terms = int(n_death.sum())
    first = np.concatenate([[0], np.cumsum(n_death)[:-1]])
    if ties == "efron":
        # k / d for the k-th tie term of a block with d deaths (blocks are contiguous runs)
        k_frac = np.arange(n_terms, dtype=np.float64)
        k_frac -= np.repeat(first, n_death)
        k_frac /= np.repeat(n_death, n_death)
    else:
        k_frac = np.zeros(n_terms)
    if unit_weights:
        mean_wt = np.ones(n_blocks)
    else:
        mean_wt = np.bincount(death_block, weights=weights[dr], minlength=n_blocks) / np.maximum(
            n_death, 1
        )
    return RiskSets(
        n=n, lo=lo, hi=hi, n_blocks=n_blocks, death_rows=dr, death_block=death_block,
        n_death=n_death, k_frac=k_frac,
        block_time=block_time, block_stratum=block_stratum, event=event, weights=weights,
        mean_wt=mean_wt, has_entry=start is not None,
        strata=strata if n_strata > 1 else None, n_strata=n_strata, utimes=utimes,
        code_stop=code_stop, code_start=code_start, block_code=block_code,
        efron=ties == "efron", order=order, seg_starts=seg_starts, seg_key=seg_key,
        k_first=first, unit_weights=unit_weights,
    )


CHUNK = 1 << 15  # rows per cache-sized chunk in the Newton-step passes


def _chunks(rs: RiskSets):
    """(start, stop, local run starts, run keys, run lengths) per chunk of sorted rows (cached)."""
    cached = rs.__dict__.get("_chunks")
    if cached is not None:
        return cached
    out = []
    for c0 in range(0, rs.n, CHUNK):  # a loop over ~n/32768 chunks, not over rows
        c1 = min(c0 + CHUNK, rs.n)
        a = int(np.searchsorted(rs.seg_starts, c0, side="right")) - 1
        b = int(np.searchsorted(rs.seg_starts, c1, side="left"))
        starts = rs.seg_starts[a:b].copy()
        starts[0] = c0
        local = starts - c0
        out.append((c0, c1, local, rs.seg_key[a:b], np.diff(np.append(local, c1 - c0))))
    rs.__dict__["_chunks"] = out
    return out


def _finish_block_sums(rs: RiskSets, full, rem, per):
    """Risk-set and death sums per block from run sums (and late-entry / later-strata sums)."""
    by_hi = full[0::2] + full[1::2]  # (nb+1, k): rows with hi = j
    deaths = full[1::2][1:]  # event rows with hi = b+1 are the deaths of block b
    total = np.cumsum(by_hi[::-1], axis=0)[::-1][1:]
    if rem is not None:
        total = total - np.cumsum(rem[::-1], axis=0)[::-1][1:]
    elif per is not None:
        k = full.shape[1]
        later = np.vstack([np.cumsum(per[::-1], axis=0)[::-1][1:], np.zeros((1, k))])
        total = total - later[rs.block_stratum]
    return total, deaths


def over_blocks(rs: RiskSets, per_block: np.ndarray) -> np.ndarray:
    """For each row, the sum of ``per_block`` over the blocks it is at risk in."""
    c = np.concatenate([np.zeros((1,) + per_block.shape[1:]), np.cumsum(per_block, axis=0)])
    if rs.has_entry:
        return c[rs.hi] - c[rs.lo]
    if rs.strata is not None:
        return c[rs.hi] - c[rs.lo]
    return c[rs.hi]
