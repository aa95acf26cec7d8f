"""Registry scale: estimators on Parquet files, beside the bare DuckDB GROUP BY (the floor).

Run: ``python benchmarks/bench_scale.py --only did -- [--rows 1e7] [--workdir /tmp]``.

Each section writes its Parquet file with DuckDB (``COPY (SELECT ...) TO``), measures, and
deletes the file. Every case runs in a fresh Python process with BLAS pinned to one thread:
``wall_s`` is timed inside it around the work alone (imports excluded), ``peak_RSS_MB`` is the
process's own peak resident memory (``getrusage``, imports included). The floor is the least any
exact method must run on the same file: DuckDB's own ``GROUP BY`` of the sufficient statistics,
i.e. per municipality x year the rows, the outcome's sum and sum of squares and the exposed rows
(until 2026-12-05 the floor left out the exposed rows, which no DiD can do without; that query
is still timed, as "the old floor"). For person fixed effects a second floor adds the
``GROUP BY person`` (rows and outcome sum per person) that any exact person-effects fit needs for
the person means and for the checks that the panel is balanced, without duplicates, and that
nobody moves between clusters.
Sections print markdown; the results go to ``benchmarks/results/scale.md`` with the date and
the machine's load.

Sections: ``did`` (two-way fixed effects DiD, CR1, person + year effects).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown  # noqa: E402  (pins BLAS threads first)
from _scale_runner import check_space  # noqa: E402
from _scale_runner import measured as _measured  # noqa: E402


def measured_lenient(*args, **kwargs) -> dict:
    """A failed or timed-out case becomes a row of the table (pyfixest, duckreg may fail)."""
    return _measured(*args, strict=False, **kwargs)

ROOT = Path(__file__).resolve().parents[1]


# -- difference-in-differences on a person-year panel -------------------------------------------
#: person-years: 10 years, persons spread over 356 municipalities, 36 treated from 2015; the
#: outcome is workdays with a person level, a trend, municipality-year shocks and an effect of
#: 5 days; pseudo-random from hashes of the row number, so the file is reproducible
DID_PANEL = """
    COPY (
      WITH r AS (SELECT i, i // 10 AS person, 2010 + i % 10 AS year,
                        (i // 10) % 356 AS municipality FROM range({rows}) t(i))
      SELECT person, year, municipality,
             CASE WHEN municipality < 36 THEN 2015.0::DOUBLE END AS first_treated,
             150.0 + (hash(person) % 1000) / 25.0 + 0.5 * (year - 2010)
               + (hash(municipality * 100 + year) % 1000) / 250.0
               + (hash(i) % 10000) / 200.0
               + CASE WHEN municipality < 36 AND year >= 2015 THEN 5.0 ELSE 0.0 END
               AS workdays
      FROM r
    ) TO '{path}' (FORMAT PARQUET, ROW_GROUP_SIZE 1000000)
"""

DID_CASES = {
    "DuckDB GROUP BY municipality, year with exposed rows (floor)": (
        "import duckdb; con = duckdb.connect()",
        "cells = con.sql(\"SELECT municipality, year, count(*) AS n, sum(workdays) AS s1, "
        "sum(workdays * workdays) AS s2, count_if(year >= first_treated) AS exposed "
        "FROM read_parquet('{path}') GROUP BY ALL\").df()",
        "{'cells': len(cells)}"),
    "DuckDB GROUP BY municipality, year, then GROUP BY person (two-pass floor)": (
        "import duckdb; con = duckdb.connect()",
        "cells = con.sql(\"SELECT municipality, year, count(*) AS n, sum(workdays) AS s1, "
        "sum(workdays * workdays) AS s2, count_if(year >= first_treated) AS exposed "
        "FROM read_parquet('{path}') GROUP BY ALL\").df(); "
        "people = con.sql(\"SELECT n, count(*) AS units, sum(s * s / n) AS between FROM "
        "(SELECT person, count(*) AS n, sum(workdays) AS s FROM read_parquet('{path}') "
        "GROUP BY person) GROUP BY n\").df()",
        "{'cells': len(cells)}"),
    "DuckDB GROUP BY municipality, year without exposure (not sufficient; the old floor)": (
        "import duckdb; con = duckdb.connect()",
        "cells = con.sql(\"SELECT municipality, year, count(*) AS n, sum(workdays) AS s1, "
        "sum(workdays * workdays) AS s2 FROM read_parquet('{path}') GROUP BY ALL\").df()",
        "{'cells': len(cells)}"),
    "causalips DiD (CR1) on the file": (
        "import warnings; warnings.simplefilter('ignore'); import causalips as ci",
        "res = ci.DiD(outcome='workdays', unit='person', time='year', "
        "first_treated='first_treated', cluster='municipality').fit('{path}')",
        "{'att': res.att, 'se': float(res.tidy()['std_error'].iloc[0])}"),
    "causalips DiD, municipality FE, on the file": (
        "import warnings; warnings.simplefilter('ignore'); import causalips as ci",
        "res = ci.DiD(outcome='workdays', unit='person', time='year', "
        "first_treated='first_treated', cluster='municipality', "
        "fixed_effects=('cluster', 'time')).fit('{path}')",
        "{'att': res.att, 'se': float(res.tidy()['std_error'].iloc[0])}"),
    "pyfixest in memory (read + fit)": (
        "import pandas as pd, pyfixest as pf",
        "df = pd.read_parquet('{path}'); "
        "df['d'] = (df['year'] >= df['first_treated']).astype(float); "
        "fit = pf.feols('workdays ~ d | person + year', data=df, "
        "vcov={{'CRV1': 'municipality'}})",
        "{'att': float(fit.coef()['d']), 'se': float(fit.se()['d'])}"),
}

#: duckreg runs from a separate environment (installing it may replace the DuckDB here)
DUCKREG_PYTHON = os.environ.get("DUCKREG_PYTHON", "/tmp/duckreg-venv/bin/python")
DUCKREG_CASE = (
    "import duckdb, os; from duckreg.estimators import DuckDoubleDemeaning\n"
    "db = '{path}.duckdb'; con = duckdb.connect(db); con.sql(\"CREATE OR REPLACE VIEW panel AS "
    "SELECT *, CAST(year >= coalesce(first_treated, 9999) AS DOUBLE) AS d FROM "
    "read_parquet('{path}')\"); con.close()",
    "m = DuckDoubleDemeaning(db_name=db, table_name='panel', outcome_var='workdays', "
    "treatment_var='d', unit_col='person', time_col='year', cluster_col='municipality', "
    "n_bootstraps=0, seed=1); m.fit(); os.remove(db)",
    "{}")


def did_section(rows: int, workdir: Path, pyfixest_max: int) -> str:
    path = workdir / f"did_panel_{rows:.0e}.parquet".replace("+", "")
    check_space(workdir, rows * 12.0)  # about 12 bytes a row compressed, with margin
    import duckdb

    con = duckdb.connect()
    con.sql(DID_PANEL.format(rows=rows, path=path))
    con.close()
    size_mb = path.stat().st_size / 2**20
    out = []
    try:
        for name, (setup, work, report) in DID_CASES.items():
            if name.startswith("pyfixest") and rows > pyfixest_max:
                out.append({"method": name, "wall_s": "not run", "peak_RSS_MB": "",
                            "answer": f"rows > --pyfixest-max ({pyfixest_max:.0e})"})
                continue
            r = measured_lenient(setup, work.format(path=path), report)
            out.append({"method": name, "wall_s": r.get("wall_s", "failed"),
                        "peak_RSS_MB": r.get("peak_RSS_MB", ""),
                        "answer": r.get("error") or _answer(r)})
        if Path(DUCKREG_PYTHON).exists():
            setup, work, report = DUCKREG_CASE
            r = measured_lenient(setup.format(path=path), work, report, python=DUCKREG_PYTHON,
                         timeout=1800)
            Path(f"{path}.duckdb").unlink(missing_ok=True)
            out.append({"method": "duckreg DuckDoubleDemeaning (person + year)",
                        "wall_s": r.get("wall_s", "failed"),
                        "peak_RSS_MB": r.get("peak_RSS_MB", ""),
                        "answer": r.get("error") or _answer(r)})
    finally:
        path.unlink(missing_ok=True)
    # the cells alone; and the cells plus the per-person means that person effects need
    floor, two_pass = out[0]["wall_s"], out[1]["wall_s"]
    for row in out:
        timed = isinstance(row["wall_s"], float)
        row["x floor"] = row["wall_s"] / floor if timed else ""
        row["x two-pass floor"] = row["wall_s"] / two_pass if timed else ""
    return (f"### {rows:.0e} person-years ({rows // 10:,} people x 10 years, 356 municipalities;"
            f" Parquet {size_mb:.0f} MB)\n\n" + markdown(out))


def _answer(r: dict) -> str:
    return ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in r.items() if k not in ("wall_s", "peak_RSS_MB"))


SECTIONS = {"did": did_section}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e7",
                        help="comma-separated sizes, e.g. 1e7,5e7,1e8 (default %(default)s)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections to run")
    parser.add_argument("--workdir", default="/tmp", help="where the files are written")
    parser.add_argument("--pyfixest-max", type=float, default=1e7,
                        help="largest size pyfixest is run on (in memory)")
    args = parser.parse_args()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}\n")
    for section in args.only.split(","):
        for rows in (int(float(r)) for r in args.rows.split(",")):
            print(SECTIONS[section](rows, Path(args.workdir), int(args.pyfixest_max)), "\n",
                  flush=True)


if __name__ == "__main__":
    main()
