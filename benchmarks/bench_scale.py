"""Registry scale: every estimator on Parquet files, beside the bare DuckDB ``GROUP BY``.

Run: ``python benchmarks/bench_scale.py --only km,sites -- [the section's own options]``,
e.g. ``python benchmarks/bench_scale.py --only km -- --rows 1e7,1e8``.

Each area's section is a script of its own, ``benchmarks/scale_<section>.py``, with its data
generator (written by DuckDB), its methods, its floor (the ``GROUP BY`` any exact method must at
least run on the same file), and its options; this script runs the ones asked for, in order.
Results: benchmarks/results/scale.md (one part per section, with date, load and the floor).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS = sorted(p.stem.removeprefix("scale_") for p in HERE.glob("scale_*.py"))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    own, rest = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv \
        else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"sections to run, comma-separated (default all: {SECTIONS})")
    args = parser.parse_args(own)
    for name in args.only.split(","):
        if name not in SECTIONS:
            parser.error(f"no section {name!r}; sections: {', '.join(SECTIONS)}")
        code = subprocess.call([sys.executable, str(HERE / f"scale_{name}.py"), *rest])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
