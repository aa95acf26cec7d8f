"""Economic evaluation: cost-effectiveness, parametric extrapolation, return on investment.

``cost_effectiveness`` (with the decision rules of ``decision``), ``extrapolation`` (with the
models of ``parametric_models``) and ``roi`` (with the uncertain inputs of ``inputs``). Every
random step takes ``inference=Bootstrap(reps=, seed=)``; each estimator's docstring says what is
drawn.
"""

from .cost_effectiveness import CostEffectiveness, CostEffectivenessResult
from .extrapolation import ParametricSurvival, ParametricSurvivalResult
from .inputs import Benefit, Beta, Distribution, Gamma, LogNormal, Normal, Triangular, Uniform
from .roi import ReturnOnInvestment, ReturnOnInvestmentResult

__all__ = [
    "CostEffectiveness",
    "CostEffectivenessResult",
    "ParametricSurvival",
    "ParametricSurvivalResult",
    "ReturnOnInvestment",
    "ReturnOnInvestmentResult",
    "Benefit",
    "Distribution",
    "Normal",
    "Gamma",
    "LogNormal",
    "Beta",
    "Uniform",
    "Triangular",
]
