"""Kaplan–Meier with CIs: causalips vs lifelines and statsmodels, same data, same run.

Run: ``python benchmarks/bench_km.py [--sizes 1e5,1e6,1e7]``. Durations are whole days (as in
administrative data); a float-duration row shows the sorting path. Writes
benchmarks/results/km.md. Peak memory is Python-traced allocations (tracemalloc) of one fit.
"""

from __future__ import annotations

import argparse
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1e5,1e6,1e7")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    rows = run(sizes)
    text = (f"# Kaplan–Meier benchmark\n\nMachine: {machine()}.\n\nCommand: "
            f"`python benchmarks/bench_km.py --sizes {args.sizes}`. Best of 3 (lifelines best of "
            "2, statsmodels 1 run, only up to 1e6). Fit includes Greenwood SEs and log CIs for "
            "all three libraries.\n\n" + markdown(rows) + "\n")
    out = Path(__file__).resolve().parent / "results" / "km.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
