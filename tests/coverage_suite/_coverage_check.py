"""The coverage suite's bookkeeping: replications, the Monte Carlo SE, the measured table.

Every test here simulates a design with a known truth many times, fits each data set with the
public API and counts how often the nominal 95% interval covers the truth. The verdict always
carries the Monte Carlo error: with R replications the observed coverage of an exact 95%
interval has SD ``sqrt(0.95 * 0.05 / R)`` (0.49 points at R = 2,000), and an interval passes when
it is within 3 of those of 95%. An allowance beyond that is given only where the method is
documented as approximate, and the test says why.

Two environment variables serve ``benchmarks/coverage_study.py`` (and anyone measuring):

- ``CAUSALIPS_COVERAGE_SCALE``: multiplies every design's replications (default 1); the bounds
  follow, since they are computed from the replications actually run.
- ``CAUSALIPS_COVERAGE_TABLE``: a file to which every measured row is appended as one JSON
  line (design, method, coverage, MC SE, replications, the verdict).

``pytest -m slow tests/coverage_suite`` prints the measured table at the end of the run.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass

import numpy as np

NOMINAL = 0.95
#: Width of the acceptance band in Monte Carlo SEs (two-sided; 0.27% of exact intervals fail).
MC_SES = 3.0

_MEASURED: list[Measured] = []


def replications(base: int) -> int:
    """``base`` replications, times ``CAUSALIPS_COVERAGE_SCALE`` (at least 50)."""
    scale = float(os.environ.get("CAUSALIPS_COVERAGE_SCALE", "1"))
    return max(50, int(round(base * scale)))


def mc_se(reps: int, nominal: float = NOMINAL) -> float:
    """Monte Carlo SE of the coverage of an exact ``nominal`` interval over ``reps`` data sets."""
    return math.sqrt(nominal * (1 - nominal) / reps)


@dataclass(frozen=True)
class Measured:
    """One row of the coverage table: what was measured and whether it met its bound."""

    design: str
    method: str
    covered: int
    reps: int
    expect: str  # "nominal" (within the band around 95%) or "under" (a known-invalid control)
    passed: bool
    allowance: float = 0.0
    why: str = ""

    @property
    def coverage(self) -> float:
        return self.covered / self.reps

    @property
    def mc_se(self) -> float:
        return mc_se(self.reps)

    def row(self) -> dict:
        return {**asdict(self), "nominal": NOMINAL, "coverage": self.coverage,
                "mc_se": self.mc_se}

    def describe(self) -> str:
        return (f"{self.design} / {self.method}: coverage {self.coverage:.4f} "
                f"({self.covered}/{self.reps}), MC SE {self.mc_se:.4f}")


def _record(measured: Measured) -> None:
    _MEASURED.append(measured)
    path = os.environ.get("CAUSALIPS_COVERAGE_TABLE")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(measured.row()) + "\n")


def _counts(covered) -> tuple[int, int]:
    hits = np.asarray(covered, dtype=bool)
    if hits.ndim != 1 or hits.size == 0:
        raise ValueError("pass one boolean per replication")
    return int(hits.sum()), hits.size


class CoverageChecks:
    """Records every interval of a test, then fails once, listing each one out of bounds.

    Use as ``with CoverageChecks() as check: check.nominal(...); check.under(...)``: all rows
    reach the table even when the first check fails.
    """

    def __init__(self) -> None:
        self.failures: list[str] = []

    def __enter__(self) -> CoverageChecks:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self.failures:
            raise AssertionError("\n".join(self.failures))

    def nominal(self, design: str, method: str, covered, *, allowance: float = 0.0,
                why: str = "") -> Measured:
        """Expect ``|coverage - 0.95| <= 3 MC SE + allowance``.

        ``allowance`` > 0 needs ``why``: the documentation that calls the interval approximate.
        """
        if allowance and not why:
            raise ValueError("an allowance beyond the Monte Carlo error needs its justification")
        covered, reps = _counts(covered)
        bound = MC_SES * mc_se(reps) + allowance
        ok = abs(covered / reps - NOMINAL) <= bound
        measured = Measured(design, method, covered, reps, "nominal", ok, allowance, why)
        _record(measured)
        if not ok:
            extra = f" + allowance {allowance:.3f} ({why})" if allowance else ""
            self.failures.append(f"{measured.describe()}; allowed |coverage - {NOMINAL}| <= "
                                 f"{MC_SES:g} MC SE{extra} = {bound:.4f}")
        return measured

    def under(self, design: str, method: str, covered, *, why: str) -> Measured:
        """Expect a known-invalid interval to cover below ``0.95 - 3 MC SE``.

        These controls show that the design has the feature the valid method guards against
        (e.g. correlation within clusters); if one starts to cover, the design lost its bite.
        """
        covered, reps = _counts(covered)
        bound = NOMINAL - MC_SES * mc_se(reps)
        ok = covered / reps < bound
        measured = Measured(design, method, covered, reps, "under", ok, 0.0, why)
        _record(measured)
        if not ok:
            self.failures.append(f"{measured.describe()}; expected below {bound:.4f} ({why})")
        return measured


def covers(low, high, truth) -> np.ndarray:
    """Whether each interval [low, high] contains ``truth`` (NaN limits do not cover)."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return (low <= truth) & (truth <= high)


def measured_rows() -> tuple[Measured, ...]:
    """The rows measured so far in this run."""
    return tuple(_MEASURED)
