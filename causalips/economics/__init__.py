"""Economic evaluation: cost-effectiveness, parametric extrapolation, return on investment."""

from .cost_effectiveness import CostEffectiveness, CostEffectivenessResult
from .extrapolation import ParametricSurvival, ParametricSurvivalResult
from .roi import (
    Benefit,
    Beta,
    Gamma,
    LogNormal,
    Normal,
    ReturnOnInvestment,
    ReturnOnInvestmentResult,
    Triangular,
    Uniform,
)

__all__ = [
    "CostEffectiveness",
    "CostEffectivenessResult",
    "ParametricSurvival",
    "ParametricSurvivalResult",
    "ReturnOnInvestment",
    "ReturnOnInvestmentResult",
    "Benefit",
    "Normal",
    "Gamma",
    "LogNormal",
    "Beta",
    "Uniform",
    "Triangular",
]
