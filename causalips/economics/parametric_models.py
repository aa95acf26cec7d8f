"""The parametric survival models of an extrapolation: S(t), parameters, fits and draws.

Six standard models in lifelines' parametrisations (Gompertz through a small lifelines fitter
defined here, as lifelines has none), fitted by maximum likelihood; draws of the parameters from
the asymptotic normal of the MLE (positive parameters on the log scale) and the projection they
give over a horizon, computed in blocks of draws so that memory stays bounded however many draws
are asked for.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special, stats
from scipy.integrate import simpson

from .._progress import progress_bar
from ..errors import SpecificationError

DISTRIBUTIONS = ("exponential", "weibull", "gompertz", "lognormal", "loglogistic",
                 "generalized_gamma")
#: parameter names (lifelines' where lifelines fits the model) and which are positive
PARAMS = {
    "exponential": (("lambda_",), (True,)),
    "weibull": (("lambda_", "rho_"), (True, True)),
    "gompertz": (("rate_", "shape_"), (True, False)),
    "lognormal": (("mu_", "sigma_"), (False, True)),
    "loglogistic": (("alpha_", "beta_"), (True, True)),
    "generalized_gamma": (("mu_", "ln_sigma_", "lambda_"), (False, False, False)),
}
GRID_POINTS = 2001


def survival(distribution: str, params: np.ndarray, t: np.ndarray) -> np.ndarray:
    """S(t) for parameter rows ``params`` (draws x p) at times ``t``; returns draws x len(t).

    Parametrisations (lifelines'): exponential S = exp(-t/lambda); Weibull
    S = exp(-(t/lambda)^rho); Gompertz hazard rate*exp(shape*t), S = exp(-rate/shape*(e^{shape t}
    - 1)); log-normal S = 1 - Phi((log t - mu)/sigma); log-logistic S = 1/(1 + (t/alpha)^beta);
    generalised gamma with Z = (log t - mu)/sigma, sigma = exp(ln_sigma), k = 1/lambda^2,
    u = k e^{lambda Z}: S = Q(k, u) (lambda > 0), P(k, u) (lambda < 0), 1 - Phi(Z) (lambda = 0).
    """
    p = np.atleast_2d(np.asarray(params, dtype=float))
    t = np.asarray(t, dtype=float)[None, :]
    col = [p[:, i:i + 1] for i in range(p.shape[1])]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        if distribution == "exponential":
            return np.exp(-t / col[0])
        if distribution == "weibull":
            return np.exp(-((t / col[0]) ** col[1]))
        if distribution == "gompertz":
            rate, shape = col
            small = np.abs(shape) < 1e-12
            safe = np.where(small, 1.0, shape)
            cum = np.where(small, rate * t, rate / safe * np.expm1(safe * t))
            return np.exp(-cum)
        if distribution == "lognormal":
            logt = np.log(np.where(t > 0, t, np.nan))
            return np.where(t > 0, stats.norm.sf((logt - col[0]) / col[1]), 1.0)
        if distribution == "loglogistic":
            return 1.0 / (1.0 + (t / col[0]) ** col[1])
        if distribution == "generalized_gamma":
            mu, ln_sigma, lam = col
            logt = np.log(np.where(t > 0, t, np.nan))
            z = (logt - mu) / np.exp(ln_sigma)
            lam_safe = np.where(lam == 0, 1.0, lam)
            k = 1.0 / lam_safe**2
            u = np.clip(k * np.exp(lam_safe * z), 1e-300, 1e300)
            s = np.where(lam > 0, special.gammaincc(k, u), special.gammainc(k, u))
            s = np.where(lam == 0, stats.norm.sf(z), s)
            return np.where(t > 0, s, 1.0)
    raise SpecificationError(f"unknown distribution {distribution!r}")


def _gompertz_fitter():
    """A lifelines univariate fitter for the Gompertz model (hazard rate * exp(shape * t))."""
    import autograd.numpy as anp
    from lifelines.fitters import ParametricUnivariateFitter

    class GompertzFitter(ParametricUnivariateFitter):
        _fitted_parameter_names = ["rate_", "shape_"]
        _bounds = [(0, None), (None, None)]

        def _create_initial_point(self, Ts, E, *args):
            t = Ts[0]
            return np.array([max(E.sum(), 1) / t.sum(), 1e-3 / max(np.median(t), 1e-9)])

        def _cumulative_hazard(self, params, times):
            rate, shape = params
            return rate / shape * (anp.exp(shape * times) - 1.0)

    return GompertzFitter()


def _fitter(name: str):
    import lifelines

    return {
        "exponential": lifelines.ExponentialFitter,
        "weibull": lifelines.WeibullFitter,
        "lognormal": lifelines.LogNormalFitter,
        "loglogistic": lifelines.LogLogisticFitter,
        "generalized_gamma": lifelines.GeneralizedGammaFitter,
    }[name]() if name != "gompertz" else _gompertz_fitter()


@dataclass(frozen=True)
class ModelFit:
    """One fitted model: the MLE, its covariance (observed information) and log-likelihood."""

    distribution: str
    theta: np.ndarray
    cov: np.ndarray
    loglik: float
    n: int  # people the model was fitted to (BIC's n)

    @property
    def n_params(self) -> int:
        return int(self.theta.size)


def fit_model(name: str, t: np.ndarray, e: np.ndarray) -> ModelFit:
    """Maximum likelihood fit of one model (lifelines); raises ValueError when it fails."""
    fitter = _fitter(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitter.fit(t, e.astype(int))
    theta = np.array([getattr(fitter, p) for p in PARAMS[name][0]], dtype=float)
    cov = np.asarray(fitter.variance_matrix_, dtype=float)
    ll = float(fitter.log_likelihood_)
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(cov)) and np.isfinite(ll)):
        raise ValueError("non-finite estimates or variance")
    theta.setflags(write=False)
    cov.setflags(write=False)
    return ModelFit(name, theta, cov, ll, int(t.size))


def draw_params(theta, cov, positive, reps, rng) -> np.ndarray:
    """Draws from the asymptotic normal of the MLE; positive parameters on the log scale."""
    scale = np.where(positive, theta, 1.0)
    centre = np.where(positive, np.log(np.where(positive, theta, 1.0)), theta)
    cov_t = cov / np.outer(scale, scale)  # delta method: var(log x) = var(x) / x^2
    cov_t = (cov_t + cov_t.T) / 2
    d = rng.multivariate_normal(centre, cov_t, size=reps, method="eigh")
    return np.where(positive, np.exp(d), d)


#: maximum number of (draw x grid point) cells of S(t) held at once
MAX_CELLS = 4_000_000


def projection_draws(model: ModelFit, reps: int, rng, horizon: float, *, progress=True):
    """``reps`` draws of (restricted mean over [0, horizon], S(horizon)) from the model."""
    draws = draw_params(model.theta, model.cov, np.array(PARAMS[model.distribution][1]), reps,
                        rng)
    grid = np.linspace(0.0, horizon, GRID_POINTS)
    area, at_horizon = np.empty(reps), np.empty(reps)
    block = max(1, MAX_CELLS // GRID_POINTS)
    with progress_bar(reps, desc=f"{model.distribution} draws", unit="draw",
                      enabled=progress) as bar:
        for b0 in range(0, reps, block):  # blocks of draws (memory), each block one array
            s = survival(model.distribution, draws[b0:b0 + block], grid)
            area[b0:b0 + block] = simpson(s, x=grid, axis=1)
            at_horizon[b0:b0 + block] = s[:, -1]
            bar.update(min(block, reps - b0))
    return area, at_horizon


def point_projection(model: ModelFit, horizon: float) -> tuple[float, float]:
    """(restricted mean over [0, horizon], S(horizon)) at the MLE."""
    grid = np.linspace(0.0, horizon, GRID_POINTS)
    s = survival(model.distribution, model.theta[None, :], grid)[0]
    return float(simpson(s, x=grid)), float(s[-1])


__all__ = ["DISTRIBUTIONS", "PARAMS", "survival", "ModelFit", "fit_model", "draw_params",
           "projection_draws", "point_projection"]
