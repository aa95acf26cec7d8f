"""Registry scale: site comparison on Parquet files beside the bare DuckDB ``GROUP BY`` (the floor).

Run: ``python benchmarks/bench_scale.py --only sites -- [--rows 1e7] [--repeat 3] ...``
(default 1e5 rows: a quick check). Each method runs in a fresh process
(``_scale_runner``): wall time inside the process after imports, peak RSS of the whole
process; the section replaces its own part of benchmarks/results/scale.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scale_runner import markdown, run_child, run_main  # noqa: E402  (pins BLAS threads)

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
METHODS = {"sites": SITES_METHODS}

if __name__ == "__main__":
    run_main(__file__, SECTIONS, METHODS)
