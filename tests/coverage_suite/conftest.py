"""Prints the table of measured coverages at the end of a run of the coverage suite.

The checks themselves live in ``_coverage_check.py``, a uniquely named module the test files
import by name. The folder is not called ``tests/coverage``: ``tests/`` is on ``sys.path`` during
a run, so such a folder is importable as a namespace package ``coverage`` and shadows coverage.py
when that is not installed (numba, used by pyfixest, then fails on ``coverage.types``).
"""

from __future__ import annotations

from _coverage_check import measured_rows


def pytest_terminal_summary(terminalreporter):
    rows = measured_rows()
    if not rows:
        return
    write = terminalreporter.write_line
    terminalreporter.section("coverage of nominal 95% intervals")
    write(f"{'design':<60} {'method':<36} {'coverage':>8} {'MC SE':>7} {'R':>5}  expect   met")
    for m in rows:
        write(f"{m.design:<60.60} {m.method:<36.36} {m.coverage:8.4f} {m.mc_se:7.4f} "
              f"{m.reps:5d}  {m.expect:<7}  {'yes' if m.passed else 'NO'}")
