"""Kaplan–Meier with CIs: causalips vs lifelines and statsmodels, same data, same run.

Run: ``python benchmarks/bench_km.py [--sizes 1e5,1e6,1e7] [--grouped-sizes 1e6,1e7]``.
Durations are whole days (as in administrative data); a float-duration row shows the sorting
path. The grouped cases time KM by a 3-level text arm (object strings, Categorical, Arrow
strings) against the floor: one factorize of the arm plus one bincount over arm x day. Writes
benchmarks/results/km.md. Peak memory is Python-traced allocations (tracemalloc) of one fit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import machine, markdown, measure  # noqa: E402  (pins BLAS threads first)


def data(n: int, seed: int = 1, whole_days: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.exponential(300, n)
    c = rng.uniform(0, 1500, n)
    if whole_days:
        t, c = np.ceil(t), np.ceil(c)
    d = np.minimum(t, c)
    return pd.DataFrame({"t": d.astype(np.int64) if whole_days else d,
                         "e": (t <= c).astype(np.int8)})


def run(sizes, with_statsmodels_up_to=1_000_000):
    from lifelines import KaplanMeierFitter
    from statsmodels.duration.survfunc import SurvfuncRight

    from causalips import KaplanMeier

    rows = []
    cases = [(n, True) for n in sizes] + [(min(sizes[-1], 1_000_000), False)]
    for n, whole in cases:
        df = data(n, whole_days=whole)
        d, e = df["t"].to_numpy(), df["e"].to_numpy()
        ours_t, ours_mb, ours = measure(lambda df=df: KaplanMeier(duration="t", event="e").fit(df))
        ll_t, ll_mb, ll = measure(lambda d=d, e=e: KaplanMeierFitter().fit(d, e), repeat=2)
        tidy = ours.tidy()
        ll_s = ll.survival_function_.iloc[1:, 0].to_numpy()  # lifelines adds time 0
        same = np.allclose(tidy["estimate"].to_numpy(), ll_s, rtol=0, atol=1e-12)
        row = {"n": f"{n:.0e}", "durations": "whole days" if whole else "float",
               "causalips_s": ours_t, "lifelines_s": ll_t, "speedup_vs_lifelines": ll_t / ours_t,
               "causalips_peak_MB": ours_mb, "lifelines_peak_MB": ll_mb,
               "estimates_equal": same}
        if n <= with_statsmodels_up_to:
            sm_t, sm_mb, sm = measure(lambda d=d, e=e: SurvfuncRight(d, e), repeat=1)
            row.update(statsmodels_s=sm_t, speedup_vs_statsmodels=sm_t / ours_t,
                       statsmodels_peak_MB=sm_mb)
            ev = tidy[tidy["n_event"] > 0]["estimate"].to_numpy()
            row["estimates_equal"] = same and np.allclose(ev, sm.surv_prob, atol=1e-12)
        else:
            row.update(statsmodels_s=float("nan"), speedup_vs_statsmodels=float("nan"),
                       statsmodels_peak_MB=float("nan"))
        rows.append(row)
        print(row, flush=True)
    return rows


ARMS = np.array(["control", "ips", "ips_lite"], dtype=object)


def grouped_data(n: int, dtype: str, seed: int = 2) -> pd.DataFrame:
    """Whole-day durations and a 3-level text arm, as read from a CSV (object strings), or the
    same arm as a pandas Categorical or an Arrow-backed string column."""
    df = data(n, seed=seed)
    arm = pd.Series(ARMS[np.random.default_rng(seed + 1).integers(0, 3, n)])
    df["arm"] = arm if dtype == "object" else arm.astype(dtype)
    return df


def floor(df: pd.DataFrame) -> np.ndarray:
    """The least any grouped Kaplan–Meier must do: code the group once, count group x day once."""
    codes, levels = pd.factorize(df["arm"])
    t = df["t"].to_numpy()
    span = int(t.max()) + 1
    return np.bincount(codes * span + t, minlength=len(levels) * span).reshape(len(levels), span)


def km_from_counts(df: pd.DataFrame) -> dict:
    """Independent check: survival curves per arm from plain bincounts (no causalips code)."""
    codes, levels = pd.factorize(df["arm"], sort=True)
    t, e = df["t"].to_numpy(), df["e"].to_numpy().astype(bool)
    span = int(t.max()) + 1
    exits = np.bincount(codes * span + t, minlength=len(levels) * span).reshape(-1, span)
    events = np.bincount(codes[e] * span + t[e], minlength=len(levels) * span).reshape(-1, span)
    out = {}
    for k, level in enumerate(levels):
        seen = exits[k] > 0
        n_risk = np.cumsum(exits[k][::-1])[::-1][seen]
        out[level] = np.cumprod(1.0 - events[k][seen] / n_risk)
    return out


def paired(fn, base, repeat: int = 5) -> tuple[float, float]:
    """Best wall times of ``fn`` and ``base`` run alternately (a shared machine drifts; pairing
    keeps the ratio honest)."""
    import time

    a, b = [], []
    for _ in range(repeat):
        for f, out in ((fn, a), (base, b)):
            t0 = time.perf_counter()
            f()
            out.append(time.perf_counter() - t0)
    return min(a), min(b)


def run_grouped(sizes, dtypes=("object", "category", "string[pyarrow]")):
    """Grouped KM by a 3-level arm against the floor (factorize + bincount), same run."""
    from causalips import KaplanMeier

    plan = KaplanMeier(duration="t", event="e", group="arm")
    rows = []
    for n in sizes:
        for dtype in dtypes:
            df = grouped_data(n, dtype)
            ours_t, floor_t = paired(lambda df=df: plan.fit(df), lambda df=df: floor(df))
            _, ours_mb, res = measure(lambda df=df: plan.fit(df), repeat=1)
            tidy = res.tidy()
            truth = km_from_counts(df)
            same = all(np.allclose(tidy.loc[tidy["group"] == g, "estimate"].to_numpy(), s,
                                   rtol=0, atol=1e-10) for g, s in truth.items())
            row = {"n": f"{n:.0e}", "arm column": dtype, "causalips_s": ours_t,
                   "floor_s": floor_t, "ratio_to_floor": ours_t / floor_t,
                   "causalips_peak_MB": ours_mb, "estimates_equal_1e-10": same}
            rows.append(row)
            print(row, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1e5,1e6,1e7")
    parser.add_argument("--grouped-sizes", default="1e6,1e7")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    grouped_sizes = [int(float(s)) for s in args.grouped_sizes.split(",")]
    load_before = os.getloadavg()[0]
    rows = run(sizes)
    grouped = run_grouped(grouped_sizes)
    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    text = (f"# Kaplan–Meier benchmark\n\nMachine: {machine()}; 1-minute load average {load} "
            "(a shared machine: compare ratios measured in the same run, not absolute times "
            "across runs).\n\nCommand: "
            f"`python benchmarks/bench_km.py --sizes {args.sizes} --grouped-sizes "
            f"{args.grouped_sizes}`.\n\n## Ungrouped, against lifelines and statsmodels\n\n"
            "Best of 3 (lifelines best of 2, statsmodels 1 run, only up to 1e6). Fit includes "
            "Greenwood SEs and log CIs for all three libraries.\n\n" + markdown(rows) + "\n\n"
            "## Grouped by a 3-level text arm, against the floor\n\n"
            "The floor is the least a grouped Kaplan–Meier must do: one `pd.factorize` of the arm "
            "column and one `np.bincount` over arm x day, timed in the same run on the same "
            "frame, alternating with the fit (best of 5 each). `causalips_s` is the whole fit (checks, counts, Greenwood "
            "SEs, log CIs, the tidy table). The arm is as read from a CSV (object strings), as "
            "a Categorical, or as Arrow-backed strings; `estimates_equal_1e-10` compares every "
            "survival estimate with curves computed from plain bincounts.\n\n"
            + markdown(grouped) + "\n")
    out = Path(__file__).resolve().parent / "results" / "km.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
