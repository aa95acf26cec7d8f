"""Economic evaluation: cost-effectiveness, parametric extrapolation, return on investment."""

from .cost_effectiveness import CostEffectiveness, CostEffectivenessResult

__all__ = ["CostEffectiveness", "CostEffectivenessResult"]
