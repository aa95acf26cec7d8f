"""Benchmark two-way FE DiD and the wild cluster bootstrap against peers, in the same run.

Run: python benchmarks/bench_did.py [--quick]  -> prints and writes benchmarks/results/did.md

1. TWFE, person + year fixed effects, municipality clusters (CR1), on 1e6 and 1e7 person-years
   (balanced, 10 years, 356 municipalities, 36 treated from year 6): causalips (cell
   sufficient statistics fast path, and the general row-level engine forced by unit weights)
   vs pyfixest (and linearmodels at 1e6). Each (library, size) runs in a fresh subprocess:
   wall time of the fit (best of two) and peak resident memory above the process's size after
   the data were built (Linux ``clear_refs`` + ``VmHWM``).
2. Inference nobody asked for is not paid for: the default CR1 fit on 3,560 pre-aggregated
   municipality x year cells (``cell_counts=``), and randomization inference / Conley–Taber
   asked for afterwards from an ordinary unbalanced person panel (300 municipalities, 8 years,
   about 130 000 rows) with ``result.with_inference(...)``.
3. Wild cluster bootstrap, B = 9999, restricted, Rademacher, on 1e6 rows with 11 and 400
   clusters (model y ~ 1 + d, the model wildboottest can take at this size) vs ``wildboottest``.
4. Monte Carlo size of every inference method under no effect (causalips.did.size_study) in the
   1-of-11 and 10-of-30 designs, 10 000 replications each.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import machine, markdown  # noqa: E402  (pins BLAS threads before numpy)


def make_panel(n_rows: int, n_clusters: int = 356, n_treated: int = 36, seed: int = 0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    t_n = 10
    people = n_rows // t_n
    person = np.repeat(np.arange(people), t_n)
    year = np.tile(np.arange(2010, 2010 + t_n), people)
    mun = person % n_clusters
    first = np.where(mun < n_treated, 2015.0, np.nan)
    d = (year >= first).astype(np.float64)
    y = (rng.normal(0, 20, people)[person] + 0.5 * (year - 2010)
         + rng.normal(0, 2, (n_clusters, t_n))[mun, year - 2010] + 5.0 * d
         + rng.normal(0, 25, person.size))
    return pd.DataFrame({"person": person, "year": year, "municipality": mun,
                         "first_treated": first, "d": d, "workdays": y, "w": 1.0})


def _vm(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return float(line.split()[1]) / 1024  # MB
    return float("nan")


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # pragma: no cover
        pass


def _runner(lib: str, df):
    import warnings

    warnings.simplefilter("ignore")
    if lib.startswith("causalips"):
        from causalips.did import DiD

        kw = dict(outcome="workdays", unit="person", time="year", first_treated="first_treated",
                  cluster="municipality")
        if lib == "causalips_rows":
            kw["weights"] = "w"  # unit weights force the general row-level engine

        def run():
            r = DiD(**kw).fit(df)
            return float(r.att), float(r.tidy()["std_error"].iloc[0])
    elif lib == "pyfixest":
        import pyfixest as pf

        def run():
            r = pf.feols("workdays ~ d | person + year", data=df,
                         vcov={"CRV1": "municipality"})
            return float(r.coef().iloc[0]), float(r.se().iloc[0])
    elif lib == "linearmodels":
        from linearmodels.panel import PanelOLS

        def run():
            p = df.set_index(["person", "year"])
            r = PanelOLS(p["workdays"], p[["d"]], entity_effects=True, time_effects=True).fit(
                cov_type="clustered", clusters=p["municipality"])
            return float(r.params.iloc[0]), float(r.std_errors.iloc[0])
    else:
        raise SystemExit(f"unknown library {lib}")
    return run


def child_twfe(lib: str, n_rows: int, repeats: int) -> dict:
    df = make_panel(n_rows)
    run = _runner(lib, df)
    base = _vm("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    out = run()
    times = [time.perf_counter() - t0]
    peak = _vm("VmHWM") - base
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return {"seconds": min(times), "first_run": times[0], "peak_mb": peak, "coef": out[0],
            "se": out[1]}


def child_boot(lib: str, n_clusters: int) -> dict:
    import numpy as np

    df = make_panel(1_000_000, n_clusters=n_clusters, n_treated=max(1, n_clusters // 4))
    if lib == "causalips":
        import warnings

        warnings.simplefilter("ignore")
        from causalips.did import DiD
        from causalips.inference import WildBootstrap

        fit = DiD(outcome="workdays", unit="person", time="year", treatment="d",
                  cluster="municipality", fixed_effects=()).fit(df)
        t0 = time.perf_counter()
        r = fit.with_inference(WildBootstrap(reps=9999, seed=1))
        sec = time.perf_counter() - t0
        t0 = time.perf_counter()
        DiD(outcome="workdays", unit="person", time="year", treatment="d",
            cluster="municipality", fixed_effects=(), vcov=WildBootstrap(reps=9999, seed=1)
            ).fit(df)
        total = time.perf_counter() - t0
        att = r.tidy().set_index("term").loc["att"]
        return {"seconds": sec, "with_fit": total, "p_value": float(att["p_value"]),
                "ci": [float(att["conf_low"]), float(att["conf_high"])]}
    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    x = np.column_stack([np.ones(len(df)), df["d"].to_numpy()])
    model = sm.OLS(df["workdays"].to_numpy(), x)
    t0 = time.perf_counter()
    res = wildboottest(model, B=9999, cluster=df["municipality"].to_numpy(), param="x1",
                       seed=1, show=False)
    sec = time.perf_counter() - t0
    return {"seconds": sec, "with_fit": sec, "p_value": float(res["p-value"].iloc[0]),
            "ci": None}


def child_lazy() -> dict:
    """Seconds of the default fit on cells, and of inference asked for after a person fit."""
    import warnings

    import numpy as np
    import pandas as pd

    import causalips as ci

    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    g, t_n = 356, 10
    cells = pd.DataFrame({"m": np.repeat(np.arange(g), t_n),
                          "year": np.tile(np.arange(2010, 2010 + t_n), g)})
    cells["n"] = rng.integers(20, 2000, len(cells))
    cells["ft"] = np.where(cells["m"] < 36, 2015.0, np.nan)
    cells["y"] = rng.normal(size=len(cells)) + 0.5 * (cells["year"] >= cells["ft"])
    out = {}
    t0 = time.perf_counter()
    ci.DiD(outcome="y", unit="m", time="year", first_treated="ft", cell_counts="n").fit(cells)
    out["cells: default CR1 fit"] = time.perf_counter() - t0
    people = 20_000
    mun = rng.integers(0, 300, people)
    df = pd.DataFrame({"id": np.repeat(np.arange(people), 8),
                       "year": np.tile(np.arange(2012, 2020), people)})
    df["m"] = mun[df["id"]]
    df = df.sample(frac=130_000 / len(df), random_state=1).sort_index()
    df["ft"] = np.where(df["m"] < 20, 2016.0, np.nan)
    df["y"] = (rng.normal(size=len(df)) + rng.normal(size=people)[df["id"]]
               + 1.0 * (df["year"] >= df["ft"]))
    t0 = time.perf_counter()
    res = ci.DiD(outcome="y", unit="id", time="year", first_treated="ft", cluster="m").fit(df)
    out[f"person panel ({len(df)} rows): default CR1 fit"] = time.perf_counter() - t0
    for label, spec in (("Randomization(seed=1)", ci.Randomization(seed=1, progress=False)),
                        ("ConleyTaber(seed=1)", ci.ConleyTaber(seed=1, progress=False)),
                        ("ConleyTaber(heteroskedasticity=True, seed=1)",
                         ci.ConleyTaber(heteroskedasticity=True, seed=1, progress=False))):
        t0 = time.perf_counter()
        r = res.with_inference(spec)
        out[f"then with_inference({label}), {int(r.glance()['reps'].iloc[0])} draws"] = (
            time.perf_counter() - t0)
    return out


def spawn(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *map(str, args)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(quick: bool = False) -> None:
    lines = ["# DiD benchmarks", "", f"Machine: {machine()}.", ""]
    sizes = [1_000_000] if quick else [1_000_000, 10_000_000]
    rows = []
    for n in sizes:
        res = {}
        libs = ("causalips", "causalips_rows", "pyfixest") + (("linearmodels",) if n < 5e6
                                                               else ())
        for lib in libs:
            res[lib] = spawn("twfe", lib, n, 2)
            print(n, lib, res[lib], flush=True)
        ref = res["pyfixest"]
        for lib, r in res.items():
            if "error" in r:
                rows.append({"rows": n, "library": lib, "seconds": r["error"]})
                continue
            rows.append({
                "rows": f"{n:.0e}", "library": lib, "seconds": r["seconds"],
                "first run s": r["first_run"], "peak MB": r["peak_mb"],
                "pyfixest time / this": (ref.get("seconds", float("nan")) / r["seconds"]),
                "this memory / pyfixest": r["peak_mb"] / ref.get("peak_mb", float("nan")),
                "att": r["coef"], "CR1 SE": r["se"]})
    lines += ["## TWFE: person + year FE, municipality clusters (CR1)", "",
              "356 municipalities (36 treated from year 6), 10 years, balanced. `causalips` "
              "uses the cell sufficient statistics fast path (exact here); `causalips_rows` "
              "forces the general row-level engine (unit weights). linearmodels clusters "
              "with its own small-sample rule, so its SE differs slightly (run at 1e6 only).",
              "", markdown(rows), ""]
    lazy = spawn("lazy")
    print(lazy, flush=True)
    lines += ["## Inference on demand", "",
              "The assignment design of randomization inference and Conley-Taber is built on "
              "first use (sparse fixed-effect part, cell sums), never by a default fit.", "",
              markdown([{"step": k, "seconds": v} for k, v in lazy.items()]), ""]
    brows = []
    for g in (11, 400):
        res = {lib: spawn("boot", lib, g) for lib in ("causalips", "wildboottest")}
        print(g, res, flush=True)
        for lib, r in res.items():
            if "error" in r:
                brows.append({"clusters": g, "library": lib, "seconds": r["error"]})
                continue
            brows.append({"clusters": g, "library": lib, "bootstrap s": r["seconds"],
                          "incl. fit s": r["with_fit"], "p-value": r["p_value"],
                          "wildboottest s / this": res["wildboottest"].get("seconds",
                                                                          float("nan"))
                          / r["seconds"],
                          "WCR 95% CI": "" if r["ci"] is None else
                          f"{r['ci'][0]:.3f} to {r['ci'][1]:.3f}"})
    lines += ["## Wild cluster bootstrap, B = 9999 (WCR, Rademacher), 1e6 rows", "",
              "Model y ~ 1 + d with municipality clusters. With 11 clusters both enumerate all "
              "2^11 sign vectors. causalips also inverts the test for a CI (included in its "
              "time); wildboottest gives only the p-value.", "", markdown(brows), ""]
    from causalips.did.size_study import size_study

    srows = []
    t0 = time.perf_counter()
    small = [20] + [100 + 190 * i for i in range(10)]
    large = [2000] + [20 + 38 * i for i in range(10)]
    designs = [(11, 1, 0.05, None, ""), (11, 1, 0.10, None, ""), (30, 10, 0.05, None, ""),
               (30, 3, 0.05, None, ""), (11, 1, 0.10, small, ", treated 20 people vs 100-2000"),
               (11, 1, 0.10, large, ", treated 2000 people vs 20-400")]
    for g, m, alpha, sizes, label in designs:
        extra = dict(cluster_sizes=sizes, person_sd=10.0, noise_sd=0.5) if sizes else {}
        tab = size_study(n_clusters=g, n_treated=m, reps=2000 if quick else 10_000,
                         alpha=alpha, seed=2024, **extra)
        for r in tab.to_dict("records"):
            srows.append({"design": f"{m} of {g} treated{label}", "alpha": alpha,
                          "method": r["method"], "rejection rate": r["rejection_rate"],
                          "MC SE": r["mc_se"], "smallest p": r["min_p_value"]})
    lines += ["## Monte Carlo size under no effect (causalips.did.size_study)", "",
              f"Cluster x year panel, 8 years, treated from year 5, cluster effects + iid noise; "
              f"{2000 if quick else 10_000} replications per design "
              f"({time.perf_counter() - t0:.1f} s in all).", "", markdown(srows), ""]
    text = "\n".join(lines)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "did.md").write_text(text)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, lib = sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "")
        if kind == "lazy":
            result = child_lazy()
        elif kind == "twfe":
            result = child_twfe(lib, int(sys.argv[4]), int(sys.argv[5]))
        else:
            result = child_boot(lib, int(sys.argv[4]))
        print(json.dumps(result))
    else:
        main(quick="--quick" in sys.argv)
