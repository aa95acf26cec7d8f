"""Cox model (Efron ties): causalips vs lifelines CoxPHFitter and statsmodels PHReg, same run.

Run: ``python benchmarks/bench_cox.py [--sizes 1e4,1e5,1e6]``. Data: 5 covariates (a 3-level
arm and 4 numeric ones, so 6 coefficients), whole-day durations (many ties), ~70% events.
The peers get a ready-made numeric dummy matrix (not timed); causalips builds its own design
from the arm column inside the timed fit: a pandas Categorical ("core", "default") and, as
users hold it straight from a CSV, a column of text ("text": object strings). "text floor" is
one ``pd.factorize`` of that text column (the least any fit must do to read it). Coefficients
are checked equal across the libraries (and text = Categorical to 1e-10). "core" =
``concordance=False, diagnostics=False``; "default" = the default ``Cox(...).fit``
(concordance and proportional-hazards pieces are computed lazily, on first use, like
lifelines' concordance; statsmodels has none); "default+C" = the default fit followed by
``glance()``, which computes Harrell's C with its SE. Peak memory is Python-traced allocations
(tracemalloc) of one fit. statsmodels runs up to --statsmodels-up-to rows (default 1e5: it
takes ~8 s at 1e6). Writes benchmarks/results/cox.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's causalips
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import machine, markdown, measure  # noqa: E402  (pins BLAS threads first)

COVARIATES = ["arm", "age", "x1", "x2", "x3"]


def data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.integers(0, 3, n)
    age = rng.normal(40, 10, n)
    x = rng.normal(size=(n, 3))
    lp = 0.4 * (arm == 1) - 0.3 * (arm == 2) + 0.02 * (age - 40) + x @ [0.3, -0.2, 0.1]
    t = np.ceil(rng.exponential(400 / np.exp(lp)))
    c = np.ceil(rng.uniform(1, 1500, n))
    return pd.DataFrame({
        "days": np.minimum(t, c).astype(np.int64), "job": (t <= c).astype(np.int8),
        "arm": pd.Categorical(np.array(["25h", "40h", "55h"])[arm]), "age": age,
        "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2],
    })


def numeric(df: pd.DataFrame) -> pd.DataFrame:
    out = df.drop(columns="arm").copy()
    out["arm40h"] = (df["arm"] == "40h").astype(float)
    out["arm55h"] = (df["arm"] == "55h").astype(float)
    return out[["days", "job", "arm40h", "arm55h", "age", "x1", "x2", "x3"]]


def run(sizes, statsmodels_up_to=100_000):
    from lifelines import CoxPHFitter
    from statsmodels.duration.hazard_regression import PHReg

    from causalips import Cox

    core = Cox(duration="days", event="job", covariates=COVARIATES, ties="efron",
               concordance=False, diagnostics=False)
    full = Cox(duration="days", event="job", covariates=COVARIATES, ties="efron")
    rows = []
    for n in sizes:
        df = data(n)
        num = numeric(df)
        text = df.assign(arm=np.asarray(df["arm"], dtype=object))
        big = n >= 1_000_000
        ours_t, ours_mb, ours = measure(lambda df=df: core.fit(df), repeat=5)
        full_t, full_mb, _ = measure(lambda df=df: full.fit(df), repeat=5)
        text_t, text_mb, text_res = measure(lambda text=text: full.fit(text), repeat=5)
        floor_t, _, _ = measure(lambda text=text: pd.factorize(text["arm"]), repeat=5)
        diff_text = float(np.max(np.abs(text_res.coef.to_numpy() - ours.coef.to_numpy())))
        conc_t, _, _ = measure(lambda df=df: full.fit(df).glance(), repeat=1 if big else 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ll_t, ll_mb, ll = measure(
                lambda num=num: CoxPHFitter().fit(num, duration_col="days", event_col="job"),
                repeat=2 if big else 3)
        coef = ours.coef.to_numpy()
        ll_coef = ll.params_.to_numpy()
        diff_ll = float(np.max(np.abs(coef - ll_coef)))
        row = {"n": f"{n:.0e}", "causalips_core_s": ours_t, "causalips_default_s": full_t,
               "causalips_text_s": text_t, "text_floor_s": floor_t,
               "causalips_default_plus_C_s": conc_t, "lifelines_s": ll_t,
               "speedup_vs_lifelines": ll_t / ours_t,
               "speedup_default_vs_lifelines": ll_t / full_t,
               "speedup_text_vs_lifelines": ll_t / text_t}
        if n <= statsmodels_up_to:
            exog = num.drop(columns=["days", "job"]).to_numpy()
            sm_t, sm_mb, sm = measure(
                lambda num=num, exog=exog: PHReg(num["days"].to_numpy(), exog,
                                                 status=num["job"].to_numpy(),
                                                 ties="efron").fit(), repeat=1)
            diff_sm = float(np.max(np.abs(coef - sm.params)))
            row.update(statsmodels_s=sm_t, speedup_vs_statsmodels=sm_t / ours_t)
        else:
            sm_mb, diff_sm = float("nan"), float("nan")
            row.update(statsmodels_s=float("nan"), speedup_vs_statsmodels=float("nan"))
        row.update(causalips_peak_MB=ours_mb, causalips_default_peak_MB=full_mb,
                   causalips_text_peak_MB=text_mb,
                   lifelines_peak_MB=ll_mb, statsmodels_peak_MB=sm_mb,
                   max_coef_diff_lifelines=diff_ll, max_coef_diff_statsmodels=diff_sm,
                   max_coef_diff_text_vs_categorical=diff_text,
                   coefficients_equal=bool(diff_ll < 1e-5 and diff_text < 1e-10
                                           and (np.isnan(diff_sm) or diff_sm < 1e-5)))
        rows.append(row)
        print(row, flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1e4,1e5,1e6")
    parser.add_argument("--statsmodels-up-to", default="1e5")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cox.md"))
    args = parser.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    load = os.getloadavg()[0]
    rows = run(sizes, statsmodels_up_to=int(float(args.statsmodels_up_to)))
    load = max(load, os.getloadavg()[0])
    text = "\n".join([
        "# Cox proportional hazards (Efron ties): causalips vs lifelines and statsmodels",
        "",
        f"Machine: {machine()}; 1-minute load average up to {load:.1f} during the run.",
        "",
        "Data: n subjects, a 3-level arm + 4 numeric covariates (6 coefficients), whole-day",
        "durations (heavy ties), about 70% events. The arm is a pandas Categorical (core,",
        "default) or a column of text strings (text); text floor = one pd.factorize of it.",
        "Times are the best of 5 runs for causalips and the floor, 3 for lifelines (2 at",
        "10^6), 2 for default+C (1 at 10^6), 1 for statsmodels.",
        "The machine is shared (2 cores, other jobs running), so single timings vary by up to",
        "2x between runs; compare the ratios. Coefficients are compared across libraries",
        "(max absolute difference). See benchmarks/bench_cox.py for what core/default/",
        "default+C include.",
        "",
        markdown(rows),
        "",
    ])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
