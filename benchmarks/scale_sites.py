"""Registry scale: estimators on Parquet files beside the bare DuckDB ``GROUP BY`` (the floor).

Run: ``python benchmarks/bench_scale.py --only sites -- [--rows 1e7] [--sections sites] [--repeat 3]``
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
def run_child(section: str, method: str, data: str, repeat: int) -> dict:
    """Median wall time of ``repeat`` fresh processes and the largest peak RSS among them."""
    walls, peaks, answer = [], [], None
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", f"{section}:{method}",
                              "--data", data], capture_output=True, text=True, check=True)
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


SECTIONS = {"sites": sites_section}
CHILD_METHODS = {"sites": SITES_METHODS}


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
    parser.add_argument("--child")
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data)
        return
    args.rows = int(args.rows)
    for name in args.sections.split(","):
        text = SECTIONS[name](args)
        command = (f"python benchmarks/bench_scale.py --only sites -- --rows {args.rows:.0e} --sections {name} "
                   f"--repeat {args.repeat}")
        write_section(text, command)
        print(text)


if __name__ == "__main__":
    main()
