"""Registry scale: estimators on Parquet files, against the bare DuckDB GROUP BY (the floor).

Run: ``python benchmarks/bench_scale.py --only km -- [--rows 1e7[,1e8]] [--only km] [--workdir /tmp]``.

Each section writes its Parquet file with DuckDB (``COPY (SELECT ...) TO``), measures, and
deletes the file. Every measured case runs in a fresh Python process with BLAS pinned to one
thread: ``wall_s`` is timed inside it around the work alone (imports excluded), ``peak_RSS_MB``
is the process's own peak resident memory (``getrusage``; the imports included). The floor is
the least any exact method must run on the same file: DuckDB's own ``GROUP BY`` of the
sufficient statistics. Sections print markdown tables; results go to
``benchmarks/results/scale.md`` by hand, with the date and the load.

Sections: ``km`` (grouped Kaplan–Meier on spells).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown  # noqa: E402  (pins BLAS threads first)
from _scale_runner import check_space, measured  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# -- Kaplan–Meier on a Parquet file of spells -------------------------------------------------
#: spells: exponential time to a job (mean 300 days), uniform censoring up to 1500 days, whole
#: days, three arms; pseudo-random from hashes of the row number, so the file is reproducible
KM_SPELLS = """
    COPY (
      WITH u AS (SELECT (hash(i) % 1000003 + 1) / 1000004.0 AS u1,
                        (hash(i + 7919) % 1000003 + 1) / 1000004.0 AS u2,
                        (hash(3 * i + 1) % 3)::INTEGER AS a
                 FROM range({n}) t(i))
      SELECT least(ceil(-300 * ln(u1)), ceil(1500 * u2))::INTEGER AS days,
             (ceil(-300 * ln(u1)) <= ceil(1500 * u2))::TINYINT AS job,
             ['control', 'ips', 'ips_lite'][a + 1] AS arm
      FROM u
    ) TO '{path}' (FORMAT parquet)
"""

KM_CASES = {
    "DuckDB GROUP BY arm, days (floor)": (
        "import duckdb; con = duckdb.connect()",
        "counts = con.sql(\"SELECT arm, days, count(*) AS n, sum(job) AS d FROM "
        "read_parquet('{path}') GROUP BY arm, days\").to_arrow_table()",
        "{'cells': counts.num_rows}"),
    "causalips KaplanMeier on the file (engine)": (
        "from causalips import KaplanMeier, engine; engine.connection()",
        "res = KaplanMeier(duration='days', event='job', group='arm').fit('{path}')",
        "{'cells': len(res.tidy()), 'saved': res.tidy().to_parquet('{path}.engine')}"),
    "causalips KaplanMeier, file read into pandas": (
        "import pandas as pd, pyarrow.parquet; from causalips import KaplanMeier",
        "res = KaplanMeier(duration='days', event='job', group='arm').fit("
        "pd.read_parquet('{path}'))",
        "{'cells': len(res.tidy()), 'saved': res.tidy().to_parquet('{path}.pandas')}"),
    "lifelines KaplanMeierFitter per arm, file read into pandas": (
        "import pandas as pd, pyarrow.parquet; from lifelines import KaplanMeierFitter",
        "df = pd.read_parquet('{path}')\n"
        "fits = {a: KaplanMeierFitter().fit(g['days'], g['job']) for a, g in df.groupby('arm')}",
        "{'saved': pd.concat({a: f.survival_function_.iloc[1:, 0] for a, f in fits.items()})"
        ".rename('estimate').reset_index().to_parquet('{path}.lifelines')}"),
}
#: cases that load the rows into pandas run only up to this many rows
IN_MEMORY_MAX = 10_000_000


def km_section(rows: int, workdir: Path) -> list[dict]:
    """Grouped KM end-to-end on a Parquet file vs the floor, and vs pandas/lifelines in memory."""
    import duckdb
    import numpy as np
    import pandas as pd

    check_space(workdir, rows * 4.0)
    path = workdir / f"causalips_km_spells_{rows:.0e}.parquet"
    out = []
    try:
        duckdb.connect().execute(KM_SPELLS.format(n=rows, path=path))
        size_mb = path.stat().st_size / 2**20
        floor = None
        for name, (setup, work, report) in KM_CASES.items():
            if "pandas" in name and rows > IN_MEMORY_MAX:
                continue
            got = measured(setup, work.replace("{path}", str(path)),
                           report.replace("{path}", str(path)))
            floor = floor or got["wall_s"]
            out.append({"rows": f"{rows:.0e}", "file_MB": round(size_mb), "case": name,
                        "wall_s": got["wall_s"], "x_floor": got["wall_s"] / floor,
                        "peak_RSS_MB": got["peak_RSS_MB"]})
            print(out[-1], flush=True)
        engine = pd.read_parquet(f"{path}.engine")
        for suffix, label in ((".pandas", "pandas path"), (".lifelines", "lifelines")):
            if Path(f"{path}{suffix}").exists():
                other = pd.read_parquet(f"{path}{suffix}")
                diff = np.abs(engine["estimate"].to_numpy() - other["estimate"].to_numpy()).max()
                print(f"max |engine - {label}| of the survival estimates: {diff:.1e}")
    finally:
        for leftover in workdir.glob(f"{path.name}*"):
            leftover.unlink()
    return out


SECTIONS = {"km": km_section}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e7",
                        help="comma-separated sizes, e.g. 1e7,5e7,1e8 (default 1e7)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"sections to run (default all: {', '.join(SECTIONS)})")
    parser.add_argument("--workdir", default="/tmp", help="where the Parquet files are written")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.rows.split(",")]
    workdir = Path(args.workdir)
    for name in args.only.split(","):
        load = os.getloadavg()[0]
        rows = [row for n in sizes for row in SECTIONS[name](n, workdir)]
        print(f"\n## {name}\n\n{machine()}; load average {load:.1f} before, "
              f"{os.getloadavg()[0]:.1f} after.\n\n{markdown(rows)}\n")


if __name__ == "__main__":
    main()
