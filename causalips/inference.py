"""Inference specifications: small frozen records passed as ``vcov=`` or ``inference=``.

They say *how* uncertainty is computed; estimators interpret them. Every random procedure takes
``seed=`` and is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._checks import check_choice
from .errors import SpecificationError


def _check_reps(reps: int | None) -> None:
    if reps is not None and (not isinstance(reps, int) or reps < 1):
        raise SpecificationError(f"reps must be a positive integer; got {reps!r}")


@dataclass(frozen=True)
class Cluster:
    """Cluster-robust (sandwich) variance, clustered on ``column``.

    ``correction="CR1"`` multiplies by G/(G-1)·(N-1)/(N-K), as Stata and fixest do for linear
    models; survival models use no correction, as R's ``coxph`` does.
    """

    column: str
    correction: Literal["CR1", "CR0"] = "CR1"

    def __post_init__(self):
        check_choice("correction", self.correction, ("CR1", "CR0"))


@dataclass(frozen=True)
class WildBootstrap:
    """Wild cluster bootstrap (restricted = null imposed, WCR; unrestricted = WCU)."""

    reps: int = 9999
    weights: Literal["rademacher", "webb"] = "rademacher"
    restricted: bool = True
    cluster: str | None = None
    subcluster: str | None = None
    seed: int | None = None

    def __post_init__(self):
        check_choice("weights", self.weights, ("rademacher", "webb"))
        _check_reps(self.reps)


@dataclass(frozen=True)
class Randomization:
    """Randomization inference: re-assign treatment across clusters (all assignments if few)."""

    reps: int | None = None
    seed: int | None = None
    cluster: str | None = None

    def __post_init__(self):
        _check_reps(self.reps)


@dataclass(frozen=True)
class Bootstrap:
    """Non-parametric bootstrap, resampling ``cluster`` (or rows when None)."""

    reps: int = 2000
    seed: int | None = None
    cluster: str | None = None

    def __post_init__(self):
        _check_reps(self.reps)


__all__ = ["Cluster", "WildBootstrap", "Randomization", "Bootstrap"]
