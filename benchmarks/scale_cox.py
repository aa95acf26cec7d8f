"""Registry scale: Cox models on Parquet files beside the bare DuckDB ``GROUP BY`` (the floor).

Run: ``python benchmarks/bench_scale.py --only cox -- [--rows 1e7] [--repeat 3] ...``
(default 1e5 rows: a quick check). Each method runs in a fresh process
(``_scale_runner``): wall time inside the process after imports, peak RSS of the whole
process; the section replaces its own part of benchmarks/results/scale.md.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scale_runner import markdown, run_child, run_main  # noqa: E402  (pins BLAS threads)

# -- section: Cox models ----------------------------------------------------------------------------
COX_COVARIATES = ["x1", "x2", "x3", "x4"]
COX_MEMORY_LIMIT = "1GB"  # DuckDB's own limit (it spills beyond it); the goal is <= 2 GB RSS


def cox_data(rows: int, path: Path) -> None:
    """Employment-search spells written by DuckDB: four quarterly (start, stop] spells per
    person (entry 0, 91, 182, 273 days), 4 covariates (two normal, an age, a 0/1 flag), whole-day
    times (364 distinct), a job start at an exponential time with hazard exp(lp)/120 per day."""
    import duckdb

    def uniform(c):
        return f"((hash(8 * i + {c}) % 1000000007) + 0.5) / 1000000007.0"

    con = duckdb.connect(config={"memory_limit": COX_MEMORY_LIMIT})
    con.sql(f"""
        COPY (
          SELECT person, entry,
                 CAST(CASE WHEN t < 91 THEN entry + ceil(t) ELSE entry + 91 END AS INTEGER)
                     AS stop,
                 CAST(t < 91 AS TINYINT) AS event, x1, x2, x3, x4
          FROM (
            SELECT i // 4 AS person, CAST((i % 4) * 91 AS INTEGER) AS entry, x1, x2, x3, x4,
                   -ln({uniform(0)}) * 120 * exp(-(0.3 * x1 + 0.02 * (x2 - 40) - 0.4 * x3
                                                    + 0.1 * x4)) AS t
            FROM (
              SELECT i,
                     sqrt(-2 * ln({uniform(1)})) * cos(2 * pi() * {uniform(2)}) AS x1,
                     18 + 47 * {uniform(3)} AS x2,
                     CAST(hash(8 * i + 4) % 2 AS DOUBLE) AS x3,
                     sqrt(-2 * ln({uniform(5)})) * sin(2 * pi() * {uniform(6)}) AS x4
              FROM range({rows}) r(i))))
        TO '{path}' (FORMAT parquet)""")


def _cox_connection(data: str):
    """DuckDB with the memory limit, spilling next to the data file (not into the cwd)."""
    import duckdb

    import causalips as ci

    spill = Path(data).parent / "duckdb_spill"
    ci.engine.set_connection(duckdb.connect(config={"memory_limit": COX_MEMORY_LIMIT,
                                                    "temp_directory": str(spill)}))


def _cap_memory(gib: float = 8.0) -> None:
    """In-memory peers stop with MemoryError instead of crowding a shared machine."""
    limit = int(gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _cox(vcov):
    def run(data: str):
        import causalips as ci

        _cox_connection(data)
        res = ci.Cox(duration="stop", entry="entry", event="event", covariates=COX_COVARIATES,
                     vcov=vcov(), progress=False).fit(data)
        return {"coef": res.coef.tolist(), "se": res.tidy()["std_error"].tolist(),
                "iterations": res.iterations}
    return run


def _cox_pandas(data: str):
    import pandas as pd

    import causalips as ci

    _cap_memory()
    df = pd.read_parquet(data)
    res = ci.Cox(duration="stop", entry="entry", event="event", covariates=COX_COVARIATES,
                 concordance=False).fit(df)
    return {"coef": res.coef.tolist(), "se": res.tidy()["std_error"].tolist(),
            "iterations": res.iterations}


def _cox_lifelines(data: str):
    import pandas as pd
    from lifelines import CoxPHFitter

    _cap_memory()
    df = pd.read_parquet(data, columns=["entry", "stop", "event", *COX_COVARIATES])
    fit = CoxPHFitter().fit(df, duration_col="stop", event_col="event", entry_col="entry")
    return {"coef": fit.params_[COX_COVARIATES].tolist(),
            "se": fit.standard_errors_[COX_COVARIATES].tolist()}


def _cox_step_sql(data: str) -> str:
    """One Newton step in bare SQL: the per-time sums S0, S1, S2 by stop time and event and by
    entry time (a fixed beta near the truth, covariates centred), as the pushed-down fit runs it
    per step."""
    beta = {"x1": 0.3, "x2": 0.02, "x3": -0.4, "x4": 0.1}
    x = COX_COVARIATES
    eta = " + ".join(f"{beta[c]} * ({c} - 0.5)" for c in x)
    sums = ["sum(r)"] + [f"sum(r * {c})" for c in x] + [
        f"sum(r * {a} * {b})" for i, a in enumerate(x) for b in x[i:]]
    rows = f"SELECT *, exp({eta} - 2.0) AS r FROM read_parquet('{data}')"
    return (f"WITH rows AS ({rows}) SELECT t, k, {', '.join(sums)} FROM ("
            f"SELECT stop AS t, event AS k, r, {', '.join(x)} FROM rows UNION ALL "
            f"SELECT entry AS t, -1 AS k, r, {', '.join(x)} FROM rows) GROUP BY t, k")


def _cox_floor(kind: str):
    def run(data: str):
        import duckdb

        con = duckdb.connect(config={"memory_limit": COX_MEMORY_LIMIT})
        query = (f"SELECT stop, event, count(*) AS n FROM read_parquet('{data}') "
                 "GROUP BY stop, event" if kind == "groupby" else _cox_step_sql(data))
        return float(con.sql(query).df().iloc[:, 2].sum())
    return run


def _clustered():
    from causalips.inference import Cluster

    return Cluster("person")


def _model():
    from causalips.inference import ModelBased

    return ModelBased()


COX_METHODS = {
    "groupby_floor": _cox_floor("groupby"),
    "step_floor": _cox_floor("step"),
    "engine": _cox(_model),
    "engine_cluster": _cox(_clustered),
    "pandas": _cox_pandas,
    "lifelines": _cox_lifelines,
    "imports": lambda data: 0.0,
}


def _cox_try(method: str, path: str, repeat: int, timeout: float) -> dict | None:
    """run_child, but a method that runs out of memory or time is recorded as not run."""
    try:
        return run_child("cox", method, path, repeat, timeout=timeout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"cox:{method} did not finish: {type(exc).__name__}", flush=True)
        return None


def cox_section(args) -> str:
    """Cox (Efron, (start, stop] spells, 4 covariates) pushed into DuckDB on a Parquet file,
    beside the bare GROUP BY time, one Newton step in bare SQL, and in-memory fits."""
    in_memory = args.rows <= args.in_memory_up_to
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        path = Path(tmp) / "spells.parquet"
        t0 = time.perf_counter()
        cox_data(args.rows, path)
        written = time.perf_counter() - t0
        size_mb = path.stat().st_size / 2**20
        print(f"cox: wrote {args.rows:,} spell rows ({size_mb:,.0f} MB) in {written:.0f} s",
              flush=True)
        runs = {m: _cox_try(m, str(path), args.repeat, args.timeout) for m in (
            "groupby_floor", "step_floor", "engine", "engine_cluster",
            *(("pandas", "lifelines") if in_memory else ()))}
        runs["imports"] = run_child("cox", "imports", str(path), 1)
    engine = runs["engine"]
    rows = []
    for label, method in (
            ("bare DuckDB `GROUP BY stop, event` (the floor)", "groupby_floor"),
            ("one Newton step in bare SQL (S0, S1, S2 by stop and entry)", "step_floor"),
            ("causalips Cox on the file (model-based SEs)", "engine"),
            ("causalips Cox on the file, Cluster('person') SEs", "engine_cluster"),
            ("causalips Cox in memory (pd.read_parquet + fit)", "pandas"),
            ("lifelines CoxPHFitter in memory (read + fit)", "lifelines")):
        run = runs.get(method)
        if method in ("pandas", "lifelines") and not in_memory:
            continue
        answer = run["answer"] if run else None
        diff = (max(abs(a - b) for a, b in zip(answer["coef"], engine["answer"]["coef"],
                                               strict=True))
                if isinstance(answer, dict) and engine and method not in ("engine",) else None)
        rows.append({"method": label, "wall_s": run["wall_s"] if run else float("nan"),
                     "peak_RSS_MB": run["peak_rss_MB"] if run else float("nan"),
                     "x_floor": run["wall_s"] / runs["groupby_floor"]["wall_s"] if run else
                     float("nan"),
                     "max_coef_diff_vs_engine": "" if diff is None else f"{diff:.1e}"})
        print(rows[-1], flush=True)
    iterations = engine["answer"]["iterations"] if engine else "?"
    return (f"## Cox models, {args.rows:.0e} spell rows\n\n"
            f"Spell rows: {args.rows:,.0f} ((start, stop] spells, four per person, 4 "
            f"covariates, 364 distinct whole-day times; Parquet {size_mb:,.0f} MB written by "
            f"DuckDB in {written:.0f} s). Each method runs in a fresh process: "
            f"median wall time of {args.repeat} run(s) after imports, largest peak RSS of the "
            f"process (imports included: {runs['imports']['peak_rss_MB']:.0f} MB). DuckDB "
            f"memory limit {COX_MEMORY_LIMIT}. The Newton–Raphson took {iterations} "
            "iterations; each is one pass like the bare-SQL step. In-memory fits run up to "
            f"{args.in_memory_up_to:,.0f} rows.\n\n" + markdown(rows) + "\n")


SECTIONS = {"cox": cox_section}
METHODS = {"cox": COX_METHODS}

if __name__ == "__main__":
    run_main(__file__, SECTIONS, METHODS)
