"""Registry scale: estimators on Parquet files beside the bare DuckDB ``GROUP BY`` (the floor).

Run: ``python benchmarks/bench_scale.py [--rows 1e7] [--sections sites] [--repeat 3]``
(default 1e5 rows: a quick check). Each section is one function ``<name>_section(args)`` that
writes its data with DuckDB, times each method in a fresh process (wall time inside the process,
after imports; peak RSS of the whole process) and returns its markdown; the section replaces
its own ``## <Title>`` part of benchmarks/results/scale.md and leaves the others alone. To add a
section, write the function and list it in ``SECTIONS``.

Every method runs as ``python bench_scale.py --child SECTION:METHOD --data PATH``, so one
method's memory never counts against another's; BLAS is pinned to one thread (``_common``).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _common import machine, markdown  # noqa: E402  (pins BLAS threads first)

RESULTS = HERE / "results" / "scale.md"


# -- running one method in its own process -------------------------------------------------------
def run_child(section: str, method: str, data: str, repeat: int,
              timeout: float | None = None) -> dict:
    """Median wall time of ``repeat`` fresh processes and the largest peak RSS among them."""
    walls, peaks, answer = [], [], None
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", f"{section}:{method}",
                              "--data", data], capture_output=True, text=True, check=True,
                             timeout=timeout)
        report = json.loads(out.stdout.strip().splitlines()[-1])
        walls.append(report["wall_s"])
        peaks.append(report["peak_rss_MB"])
        answer = report["answer"]
    return {"wall_s": statistics.median(walls), "peak_rss_MB": max(peaks), "answer": answer}


def child(spec: str, data: str) -> None:
    section, method = spec.split(":")
    fn = CHILD_METHODS[section][method]
    import duckdb  # noqa: F401  (imports are not timed)
    import pandas  # noqa: F401

    if not method.endswith("_floor"):
        import statsmodels.api  # noqa: F401

        import causalips  # noqa: F401
    t0 = time.perf_counter()
    answer = fn(data)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"wall_s": wall, "peak_rss_MB": peak, "answer": answer}))


# -- section: site comparison ---------------------------------------------------------------------
N_SITES = 356


def sites_data(rows: int, path: Path) -> None:
    """Person rows written by DuckDB: 356 sites, six ethnic groups, four age bands, a job
    (about 35%, higher in some sites) and IPS use (about 9%)."""
    import duckdb

    duckdb.sql(f"""
        COPY (
          SELECT 'site ' || lpad(CAST(i % {N_SITES} AS VARCHAR), 3, '0') AS site,
                 ['White', 'Black', 'Asian', 'Mixed', 'Other', 'Not known'][
                     1 + CAST(hash(2 * i + 1) % 6 AS INTEGER)] AS ethnicity,
                 ['18-24', '25-34', '35-49', '50-64'][1 + CAST(hash(3 * i + 2) % 4 AS INTEGER)]
                     AS band,
                 CAST(hash(5 * i + 3) % 1000 < 300 + (i % {N_SITES}) % 100 AS INTEGER) AS job,
                 CAST(hash(7 * i + 4) % 100 < 9 AS INTEGER) AS ips
          FROM range({rows}) t(i)
        ) TO '{path}' (FORMAT parquet)""")


def _floor(query: str):
    def run(data: str):
        import duckdb

        out = duckdb.sql(query.format(data=data)).df()
        return float(out.iloc[:, -1].sum())
    return run


def _funnel(data: str):
    import causalips as ci

    counts = ci.site_counts(data, site="site", outcome="job")
    res = ci.FunnelPlot(site="site", numerator="numerator", denominator="denominator",
                        overdispersion="multiplicative").fit(counts)
    return float(res.glance()["overall_rate"].iloc[0])


def _reach(data: str):
    import causalips as ci

    res = ci.Reach(participant="ips", group="ethnicity").fit(data)
    return float(res.glance()["rate"].iloc[0])


def _risk_adjusted(data: str):
    import causalips as ci

    res = ci.RiskAdjustedComparison(site="site", outcome="job",
                                    case_mix=["ethnicity", "band"]).fit(data)
    return float(res.glance()["n_flagged"].iloc[0])


SITES_METHODS = {
    "funnel_floor": _floor("SELECT site, SUM(job) AS jobs, COUNT(*) AS n "
                           "FROM read_parquet('{data}') GROUP BY site"),
    "funnel": _funnel,
    "reach_floor": _floor("SELECT ethnicity, SUM(ips) AS users, COUNT(*) AS n "
                          "FROM read_parquet('{data}') GROUP BY ethnicity"),
    "reach": _reach,
    "risk_adjusted_floor": _floor("SELECT site, ethnicity, band, SUM(job) AS jobs, "
                                  "COUNT(*) AS n FROM read_parquet('{data}') "
                                  "GROUP BY site, ethnicity, band"),
    "risk_adjusted": _risk_adjusted,
    "imports": lambda data: 0.0,  # the process with causalips imported and nothing run
}

SITES_ROWS = (
    ("FunnelPlot (site_counts + fit, multiplicative over-dispersion)", "funnel",
     "GROUP BY site"),
    ("Reach by ethnic group (with chi-squared test)", "reach", "GROUP BY ethnicity"),
    ("RiskAdjustedComparison (case mix: ethnicity, age band)", "risk_adjusted",
     "GROUP BY site, ethnicity, band"),
)


def sites_section(args) -> str:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "people.parquet"
        t0 = time.perf_counter()
        sites_data(args.rows, path)
        written = time.perf_counter() - t0
        size_mb = path.stat().st_size / 2**20
        for label, method, floor_sql in SITES_ROWS:
            ours = run_child("sites", method, str(path), args.repeat)
            floor = run_child("sites", f"{method}_floor", str(path), args.repeat)
            rows.append({"estimator": label, "floor": f"`{floor_sql}`",
                         "causalips_s": ours["wall_s"], "floor_s": floor["wall_s"],
                         "ratio": ours["wall_s"] / floor["wall_s"],
                         "causalips_peak_RSS_MB": ours["peak_rss_MB"],
                         "floor_peak_RSS_MB": floor["peak_rss_MB"]})
            print(rows[-1], flush=True)
        base = run_child("sites", "imports", str(path), 1)
    return (f"## Sites\n\nPerson rows: {args.rows:,.0f} ({N_SITES} sites, 6 ethnic groups, 4 age "
            f"bands; Parquet {size_mb:,.0f} MB written by DuckDB in {written:.1f} s). Each "
            "method runs in a fresh process: median wall time of "
            f"{args.repeat} runs after imports, largest peak RSS of the process (imports "
            f"included: causalips with scipy and statsmodels imported and nothing run peaks at "
            f"{base['peak_rss_MB']:.0f} MB). The floor is the bare DuckDB `GROUP BY` on the same "
            "file that any exact method must at least run; causalips runs it once, with its "
            "checks riding along in the same query, and finishes on the small table.\n\n"
            + markdown(rows) + "\n")


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


SECTIONS = {"sites": sites_section, "cox": cox_section}
CHILD_METHODS = {"sites": SITES_METHODS, "cox": COX_METHODS}


# -- the results file: one part per section -------------------------------------------------------
def write_section(text: str, command: str) -> None:
    title = text.splitlines()[0]
    head = (f"# Registry scale benchmark\n\nMachine: {machine()}.\n\n")
    old = RESULTS.read_text() if RESULTS.exists() else head
    body = f"{title}\n\nCommand: `{command}`.\n\n" + text.split("\n", 2)[2]
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: body, old) if pattern.search(old) else old.rstrip() + "\n\n" + body
    RESULTS.write_text(new)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=float, default=1e5)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="folder for the data files")
    parser.add_argument("--in-memory-up-to", type=float, default=1e7,
                        help="largest file also fitted in memory (pandas, lifelines)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per method run")
    parser.add_argument("--child")
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data)
        return
    args.rows = int(args.rows)
    for name in args.sections.split(","):
        text = SECTIONS[name](args)
        command = (f"python benchmarks/bench_scale.py --rows {args.rows:.0e} --sections {name} "
                   f"--repeat {args.repeat}")
        write_section(text, command)
        print(text)


if __name__ == "__main__":
    main()
