"""Coverage study: the designs of the coverage suite, run with more replications, as a table.

Run: ``python benchmarks/coverage_study.py [--scale 5] [--extra] [-k cox]``.

The designs live in one place, the slow coverage suite; this script runs it (``pytest -m slow
tests/coverage_suite``) with ``CAUSALIPS_COVERAGE_SCALE`` multiplying every design's
replications and ``CAUSALIPS_COVERAGE_TABLE`` collecting the measured rows, and writes them to
benchmarks/results/coverage.md (design, method, coverage, Monte Carlo SE, replications, the
verdict, the date). Test failures do not stop it: the table is the point. At ``--scale 1`` it is
the suite's own measurement (about 5 CPU minutes); the MC SE shrinks as 1/sqrt(scale).

``--extra`` adds designs measured beyond the suite: the Cox cluster sandwich with a
between-site covariate at 100 sites x 10, over four seeds of 2,000 replications (about 3 CPU
minutes), the evidence for the 50-site finding in docs/validity.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "tests" / "coverage_suite"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown  # noqa: E402  (pins BLAS threads first)


def run_suite(scale: float, select: str | None) -> list[dict]:
    """The suite's measured rows (one dict per interval), whatever its verdict."""
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "rows.jsonl"
        env = {**os.environ, "CAUSALIPS_COVERAGE_SCALE": str(scale),
               "CAUSALIPS_COVERAGE_TABLE": str(table), "MPLBACKEND": "Agg",
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "slow",
               str(SUITE), *(["-k", select] if select else [])]
        done = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
        print(f"pytest exit status {done.returncode}", file=sys.stderr)
        if not table.exists():
            return []
        return [json.loads(line) for line in table.read_text(encoding="utf-8").splitlines()]


def extra_rows() -> list[dict]:
    """Cox CR0/CR1 with a between-site covariate at 100 sites x 10, four seeds pooled."""
    sys.path.insert(0, str(SUITE))
    import numpy as np
    from _coverage_check import mc_se
    from test_cox_coverage import _between_cluster_hits

    seeds, reps = (20261206, 7, 8, 9), 2000
    hits = np.concatenate([_between_cluster_hits(s, reps, 100, 10, 0.5) for s in seeds])
    by_seed = hits.reshape(len(seeds), reps, 2).mean(axis=1)
    rows = []
    for k, method in enumerate(("Cluster(): CR0", "Cluster(CR1)")):
        spread = ", ".join(f"{c:.4f}" for c in by_seed[:, k])
        rows.append({"design": "Cox 100 sites x 10, site-level x: x = 0.5 (extra)",
                     "method": method, "nominal": 0.95, "coverage": hits[:, k].mean(),
                     "mc_se": mc_se(hits.shape[0]), "reps": hits.shape[0], "expect": "nominal",
                     "passed": abs(hits[:, k].mean() - 0.95) <= 3 * mc_se(hits.shape[0]),
                     "why": f"seeds {seeds}: {spread}"})
    return rows


def _table_row(r: dict) -> dict:
    if r["expect"] == "nominal":
        expected = "95% within 3 MC SE" + (f" + {r['allowance']:g}" if r.get("allowance") else "")
    else:
        expected = "below 95% - 3 MC SE (invalid control)"
    return {"design": r["design"], "method": r["method"], "nominal": r["nominal"],
            "coverage": f"{r['coverage']:.4f}", "MC SE": f"{r['mc_se']:.4f}",
            "replications": r["reps"], "expected": expected,
            "met": "yes" if r["passed"] else "NO"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiplier of every design's replications (default 1)")
    ap.add_argument("-k", dest="select", default=None, help="pytest -k expression")
    ap.add_argument("--extra", action="store_true", help="add the designs beyond the suite")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "coverage.md")
    args = ap.parse_args()

    rows = run_suite(args.scale, args.select) + (extra_rows() if args.extra else [])
    if not rows:
        sys.exit("no coverage rows were measured")
    table = [_table_row(r) for r in rows]
    notes = [f"- {r['design']} / {r['method']}: {r['why']}" for r in rows if r.get("why")]
    today = datetime.date.today().isoformat()
    args.out.write_text(
        "# Coverage study\n\n"
        f"Measured {today} on {machine()}.\n\n"
        f"Command: `python benchmarks/coverage_study.py --scale {args.scale:g}"
        f"{' --extra' if args.extra else ''}{f' -k {args.select}' if args.select else ''}`"
        " (the designs are those of tests/coverage_suite; docs/validity.md describes them).\n\n"
        + markdown(table) + "\n\n" + ("Notes:\n\n" + "\n".join(notes) + "\n" if notes else ""),
        encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
