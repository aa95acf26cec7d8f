"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021)
for one or a few treated units in a block design, with the placebo standard error
(``inference=Placebo(reps=200)``, synthdid's ``vcov(method = "placebo")``)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import check_range
from .._progress import progress_bar
from ..base import Estimator, Result, Summary, tidy_frame, warn_all
from ..errors import DataError, SpecificationError, StatisticalWarning
from ..inference import Placebo, check_spec
from ._legacy_options import DeprecatedAttribute, resampling_from_legacy
from ._simplex_solvers import frank_wolfe_simplex, sparsify, sum_normalize
from ._synthetic_data import (
    balanced_matrix,
    find_units,
    split_periods,
    timing_from_first_treated,
    timing_from_treatment,
    unit_period_frame,
)

DEFAULT_INFERENCE = Placebo(reps=200)
#: Placebo(reps=None) runs every placebo assignment when there are at most this many
MAX_ALL_ASSIGNMENTS = 5000


def sdid_weights(Y, N0, T0, zeta_omega, zeta_lambda, min_decrease, omega0, lambda0,
                  max_iter=10_000, pre_sparsify=100):
    """Unit and time weights of synthdid (batched over a leading axis of Y: R x N x T)."""
    R, N, T = Y.shape
    # collapsed form: controls x (pre periods + post mean), plus the treated-mean row
    pre_ctrl = Y[:, :N0, :T0]
    post_ctrl = Y[:, :N0, T0:].mean(axis=2)
    tr_pre = Y[:, N0:, :T0].mean(axis=1)
    # time weights: rows are controls, columns pre periods; centre each column
    Mc = np.concatenate([pre_ctrl, post_ctrl[:, :, None]], axis=2)
    Mc = Mc - Mc.mean(axis=1, keepdims=True)
    A_l, b_l = Mc[:, :, :T0], Mc[:, :, T0]
    lam = frank_wolfe_simplex(A_l, b_l, lambda0, zeta_lambda**2, min_decrease, pre_sparsify)
    lam = frank_wolfe_simplex(A_l, b_l, sparsify(lam), zeta_lambda**2, min_decrease, max_iter)
    # unit weights: rows are pre periods, columns controls + treated mean; centre each column
    Mo = np.concatenate([np.swapaxes(pre_ctrl, 1, 2), tr_pre[:, :, None]], axis=2)
    Mo = Mo - Mo.mean(axis=1, keepdims=True)
    A_o, b_o = Mo[:, :, :N0], Mo[:, :, N0]
    om = frank_wolfe_simplex(A_o, b_o, omega0, zeta_omega**2, min_decrease, pre_sparsify)
    om = frank_wolfe_simplex(A_o, b_o, sparsify(om), zeta_omega**2, min_decrease, max_iter)
    return om, lam


def sdid_estimate(Y, N0, T0, omega, lam):
    """tau = (treated mean - omega-weighted control) post mean minus lambda-weighted pre mean.

    ``Y`` is N x T (controls first, pre periods first), ``omega`` length N0, ``lam`` length T0.
    With uniform weights this is the plain 2x2 difference-in-differences of means.
    """
    N, T = Y.shape
    w_u = np.r_[-omega, np.full(N - N0, 1.0 / (N - N0))]
    w_t = np.r_[-lam, np.full(T - T0, 1.0 / (T - T0))]
    return float(w_u @ Y @ w_t)


@dataclass(frozen=True)
class _Fit:
    """The fitted weights and what the placebo draws need."""

    Y: np.ndarray  # units x periods: controls first, then treated; pre periods first
    N0: int
    T0: int
    omega: np.ndarray
    lam: np.ndarray
    tau: float
    noise: float
    zeta_omega: float
    zeta_lambda: float
    labels: tuple  # of the units in the order of Y's rows
    periods: np.ndarray
    notes: tuple = ()  # about the data (timing)


def _fit_weights(Y, N0, T0) -> tuple:
    """synthdid's defaults: noise level, regularisation and both weight vectors."""
    N1, T1 = Y.shape[0] - N0, Y.shape[1] - T0
    noise = float(np.std(np.diff(Y[:N0, :T0], axis=1), ddof=1)) if N0 * (T0 - 1) > 1 else 0.0
    noise = noise if np.isfinite(noise) else 0.0
    zeta_omega = (N1 * T1) ** 0.25 * noise
    zeta_lambda = 1e-6 * noise
    om, lam = sdid_weights(Y[None], N0, T0, zeta_omega, zeta_lambda, 1e-5 * noise,
                           np.full((1, N0), 1.0 / N0), np.full((1, T0), 1.0 / T0))
    return om[0], lam[0], noise, zeta_omega, zeta_lambda


def _assignments(fit: _Fit, spec: Placebo, seed):
    """Blocks of placebo assignments: rows are permutations of the controls whose last N1
    entries play the treated units (random draws, or every assignment for reps=None)."""
    N0, N1 = fit.N0, fit.Y.shape[0] - fit.N0
    block = max(1, 2_000_000 // (N0 * fit.Y.shape[1]))
    if spec.reps is None:
        combos = itertools.combinations(range(N0), N1)
        while chunk := list(itertools.islice(combos, block)):
            pseudo = np.array(chunk)
            rest = np.array([np.setdiff1d(np.arange(N0), c) for c in pseudo])
            yield np.concatenate([rest, pseudo], axis=1)
        return
    rng = np.random.default_rng(seed)
    for start in range(0, spec.reps, block):
        yield np.argsort(rng.random((min(block, spec.reps - start), N0)), axis=1)


def _placebo_estimates(fit: _Fit, spec: Placebo, seed) -> np.ndarray:
    """Arkhangelsky et al. (2021) Algorithm 4: controls re-assigned as pseudo-treated units,
    the weights re-fitted (starting from the fitted ones) and the estimate recomputed."""
    N0, T0 = fit.N0, fit.T0
    N1, T1 = fit.Y.shape[0] - N0, fit.Y.shape[1] - T0
    total = _n_assignments(spec, N0, N1)
    out = []
    with progress_bar(total, desc="synthetic DiD placebos", unit="draws",
                      enabled=spec.progress) as bar:
        for perms in _assignments(fit, spec, seed):
            r = perms.shape[0]
            Yp = fit.Y[:N0][perms]  # draws x N0 x T: the last N1 play the treated units
            om0 = sum_normalize(fit.omega[perms[:, :N0 - N1]])
            omp, lamp = sdid_weights(Yp, N0 - N1, T0, fit.zeta_omega, fit.zeta_lambda,
                                     1e-5 * fit.noise, om0, np.repeat(fit.lam[None], r, axis=0))
            w_u = np.concatenate([-omp, np.full((r, N1), 1.0 / N1)], axis=1)
            w_t = np.concatenate([-lamp, np.full((r, T1), 1.0 / T1)], axis=1)
            out.append(np.einsum("rn,rnt,rt->r", w_u, Yp, w_t))
            bar.update(r)
    return np.concatenate(out)


def _n_assignments(spec, N0, N1) -> int:
    if spec.reps is not None:
        return spec.reps
    n = math.comb(N0, N1)
    if n > MAX_ALL_ASSIGNMENTS:
        raise SpecificationError(
            f"Placebo(reps=None) would run all {n:,} ways to pick {N1} pseudo-treated units "
            f"from {N0} controls; sample them instead, e.g. Placebo(reps=200)")
    return n


def _check_placebo(spec) -> None:
    if spec is not None and spec.reps is not None and spec.reps < 2:
        raise SpecificationError(
            f"SyntheticDiD's placebo SE is the spread of the placebo estimates, so "
            f"Placebo(reps={spec.reps}) gives no SE; use reps >= 2 (synthdid's default is "
            "200), Placebo(reps=None) for every placebo assignment, or inference=None")


def _inference(fit: _Fit, spec):
    """Placebo estimates (empty without a spec), their SE, the seed used, and the notes."""
    if spec is None:
        return np.empty(0), np.nan, None, []
    N1 = fit.Y.shape[0] - fit.N0
    if fit.N0 <= N1:
        raise DataError(f"placebo SEs need more controls ({fit.N0}) than treated units ({N1}); "
                        "pass inference=None for the point estimate only")
    seed = None
    if spec.reps is not None:
        seed = spec.seed if spec.seed is not None else int(
            np.random.SeedSequence().generate_state(1)[0])
    placebo = _placebo_estimates(fit, spec, seed)
    notes = []
    if fit.N0 < 20:
        notes.append(f"only {fit.N0} control units: the placebo SE rests on few placebo units "
                     "and is imprecise")
    se = float(np.std(placebo))
    if not se > 0:
        notes.append("the placebo estimates are all equal (SE 0): the controls' outcomes carry "
                     "no noise to compare with, so no interval or p-value is given")
        se = np.nan
    warn_all(notes, StatisticalWarning)
    return placebo, se, seed, notes


class SyntheticDiDResult(Result):
    """Synthetic difference-in-differences estimate (Arkhangelsky et al. 2021).

    ``tidy()`` has one row, ``term == "att"``, with the placebo ``std_error`` and normal
    intervals (as synthdid's ``vcov(method = "placebo")``). ``unit_weights`` (omega, over
    controls) and ``time_weights`` (lambda, over pre periods) are Series.
    """

    count_columns = ("n_treated", "n_control")

    def __init__(self, *, estimator, fit: _Fit, inference, placebo, se, seed, warnings):
        tau, N0, T0 = fit.tau, fit.N0, fit.T0
        z = stats.norm.ppf(0.5 + estimator.conf_level / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = tau / se
        table = tidy_frame(pd.DataFrame([{
            "term": "att", "estimate": tau, "std_error": se, "statistic": stat,
            "p_value": 2 * stats.norm.sf(abs(stat)), "conf_low": tau - z * se,
            "conf_high": tau + z * se, "n_treated": fit.Y.shape[0] - N0, "n_control": N0}]))
        super().__init__(estimator=estimator, table=table, n_obs=int(fit.Y.size),
                         warnings=warnings)
        self._fit = fit
        self.inference = inference
        self.unit_weights = pd.Series(fit.omega, index=list(fit.labels[:N0]), name="omega")
        self.time_weights = pd.Series(fit.lam, index=fit.periods[:T0], name="lambda")
        self.periods = fit.periods
        self.treated_path = fit.Y[N0:].mean(axis=0)
        self.control_path = fit.omega @ fit.Y[:N0]
        self.pre_gap = float(fit.lam @ (self.treated_path[:T0] - self.control_path[:T0]))
        self.placebo_estimates = placebo
        self.noise_level = fit.noise
        self.zeta_omega = fit.zeta_omega
        self.zeta_lambda = fit.zeta_lambda
        self.n_treated, self.n_control, self.n_pre = fit.Y.shape[0] - N0, N0, T0
        self.seed = seed
        self._freeze()

    @property
    def att(self) -> float:
        return float(self._table["estimate"].iloc[0])

    @property
    def std_error(self) -> float:
        return float(self._table["std_error"].iloc[0])

    def with_inference(self, spec) -> SyntheticDiDResult:
        """The same estimate with other placebo draws (``Placebo(reps=, seed=)``) or no SE
        (``None``); the weights are not re-fitted."""
        spec = check_spec(spec, (Placebo,), where="SyntheticDiD results", argument="inference")
        _check_placebo(spec)
        placebo, se, seed, notes = _inference(self._fit, spec)
        return SyntheticDiDResult(estimator=self.estimator, fit=self._fit, inference=spec,
                                  placebo=placebo, se=se, seed=seed,
                                  warnings=list(self._fit.notes) + notes)

    def glance(self) -> pd.DataFrame:
        row = self._table.iloc[0]
        spec = self.inference
        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_treated": self.n_treated, "n_control": self.n_control,
            "n_pre": self.n_pre, "n_post": int(len(self.periods) - self.n_pre),
            "att": row["estimate"], "std_error": row["std_error"], "p_value": row["p_value"],
            "vcov": "placebo" if spec is not None else "none",
            "reps": len(self.placebo_estimates) if spec is not None else np.nan,
            "seed": self.seed, "noise_level": self.noise_level, "zeta_omega": self.zeta_omega,
            "zeta_lambda": self.zeta_lambda,
            "n_units_weighted": int((self.unit_weights > 0).sum()),
            "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        uw = self.unit_weights[self.unit_weights > 1e-4].sort_values(ascending=False)
        tw = self.time_weights[self.time_weights > 1e-4]
        conf = self.estimator.conf_level
        spec = self.inference
        if spec is None:
            se_text = "none (inference=None)"
        elif spec.reps is None:
            se_text = f"placebo, all {len(self.placebo_estimates)} placebo assignments"
        else:
            se_text = (f"placebo (synthdid method='placebo'), {spec.reps} draws, "
                       f"seed {self.seed}")
        return Summary(
            title="Synthetic difference-in-differences (Arkhangelsky et al. 2021)",
            header=(("outcome", self.estimator.outcome),
                    ("treated units", str(self.n_treated)),
                    ("control units", str(self.n_control)),
                    ("pre / post periods", f"{self.n_pre} / {len(self.periods) - self.n_pre}"),
                    ("regularisation", f"zeta_omega = {self.zeta_omega:.4g} "
                                       f"(= (N1 T1)^(1/4) x noise SD {self.noise_level:.4g}), "
                                       f"zeta_lambda = {self.zeta_lambda:.3g}"),
                    ("standard error", se_text),
                    ("intervals", f"{conf:.0%} normal: estimate +/- z x placebo SE")),
            tables=(("Effect", self._table[["term", "estimate", "std_error", "statistic",
                                            "p_value", "conf_low", "conf_high"]]),
                    ("Unit weights (omega)",
                     pd.DataFrame({"unit": [str(i) for i in uw.index], "weight": uw.values})),
                    ("Time weights (lambda)",
                     pd.DataFrame({"period": tw.index.astype(float), "weight": tw.values}))),
            notes=("The placebo SE assumes the treated units' noise is like the controls' "
                   "(homoskedastic across units).",) + self.warnings,
        )

    def plot(self, ax=None, **style):
        from ..plotting.did_staggered import plot_synthetic_did

        return plot_synthetic_did(self, ax=ax, **style)


def _legacy_placebo(reps, seed):
    if reps == 0:
        return None
    return Placebo(reps=200 if reps is None else reps, seed=seed)


class SyntheticDiD(Estimator):
    """Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021).

    Re-weights control units (omega, regularised towards equal weights) so that their
    pre-treatment trend matches the treated units', and pre-treatment periods (lambda) so that
    they resemble the post-treatment periods for the controls, then runs a weighted two-way
    fixed-effects DiD. Unlike synthetic control, a constant level difference is allowed; unlike
    DiD, controls with different trends get little weight. Follows R's ``synthdid`` defaults:
    noise level = SD of the controls' first differences before treatment, zeta_omega =
    (N1 T1)^(1/4) x noise level, zeta_lambda = 1e-6 x noise level, Frank-Wolfe with one
    sparsification after 100 steps.

    Parameters
    ----------
    outcome, unit, time : str
        Outcome, unit id and period columns of a balanced long panel.
    treatment : str, optional
        0/1 exposure column, as ``DiD`` takes it.
    first_treated : str, optional
        First treated period per unit (0, NaN or inf: never treated), as ``DiD`` takes it.
    treated_unit : unit id or list of ids, optional
        The treated unit(s), with ``treatment_start``.
    treatment_start : float, optional
        First treated period (needed with ``treated_unit``; a check otherwise).
    conf_level : float
        Level of the normal interval.
    inference : Placebo or None
        ``Placebo(reps=200)`` (default, synthdid's): the placebo SE from that many random
        re-assignments of controls as pseudo-treated units, with ``seed=`` (drawn and recorded
        in ``glance()`` when None); ``Placebo(reps=None)``: every assignment (each control once
        when one unit is treated); ``None``: the point estimate only.
        ``result.with_inference(...)`` changes it after the fit. Runs over two seconds show a
        progress bar (``Placebo(progress=False)`` silences it).
    reps, seed :
        Deprecated: use ``inference=Placebo(reps=, seed=)`` (``reps=0``: ``inference=None``).

    Notes
    -----
    The design must be a block design: every treated unit first treated in the same period
    and exposed to the end (for staggered adoption use StaggeredDiD).

    Returns
    -------
    SyntheticDiDResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import simulate_staggered_panel
    >>> df = simulate_staggered_panel(seed=3)
    >>> one = df[df["first_treated"].isin([0, 2016])]  # the cohort adopting in 2016
    >>> res = ci.SyntheticDiD(outcome="workdays", unit="municipality", time="year",
    ...                       first_treated="first_treated",
    ...                       inference=ci.Placebo(reps=50, seed=1)).fit(one)
    >>> bool(res.std_error > 0)
    True

    See Also
    --------
    SyntheticControl, DiD, StaggeredDiD
    """

    _param_names = ("outcome", "unit", "time", "treatment", "first_treated", "treated_unit",
                    "treatment_start", "conf_level", "inference")

    reps = DeprecatedAttribute(lambda self: 0 if self.inference is None else self.inference.reps,
                               "inference.reps")
    seed = DeprecatedAttribute(lambda self: getattr(self.inference, "seed", None),
                               "inference.seed")

    def __init__(self, *, outcome: str, unit: str, time: str, treatment: str | None = None,
                 first_treated: str | None = None, treated_unit=None,
                 treatment_start: float | None = None, conf_level: float = 0.95,
                 inference: Placebo | None = DEFAULT_INFERENCE, reps: int | None = None,
                 seed: int | None = None):
        self.outcome, self.unit, self.time = outcome, unit, time
        given = [n for n, v in (("treatment", treatment), ("first_treated", first_treated),
                                ("treated_unit", treated_unit)) if v is not None]
        if len(given) != 1:
            raise SpecificationError(
                "give exactly one of treatment= (a 0/1 exposure column), first_treated= (the "
                "first treated period per unit) or treated_unit= (with treatment_start=); got "
                + (", ".join(f"{g}=" for g in given) or "none"))
        if treated_unit is not None and treatment_start is None:
            raise SpecificationError("treated_unit= needs treatment_start= (the first treated "
                                     "period)")
        self.treatment, self.first_treated = treatment, first_treated
        self.treated_unit = (list(treated_unit) if isinstance(treated_unit, tuple | set)
                             else treated_unit)
        self.treatment_start = (None if treatment_start is None else
                                check_range("treatment_start", treatment_start, -np.inf, np.inf))
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        inference = resampling_from_legacy("SyntheticDiD", inference, DEFAULT_INFERENCE,
                                           _legacy_placebo, reps=reps, seed=seed)
        self.inference = check_spec(inference, (Placebo,), where="SyntheticDiD",
                                    argument="inference")
        _check_placebo(self.inference)

    def _design(self, df):
        """The outcome matrix (controls first, pre periods first), labels and timing."""
        column = self.treatment or self.first_treated
        Y, labels, periods, extras = balanced_matrix(
            df, self.outcome, self.unit, self.time, (column,) if column else (),
            extra_role="treatment" if self.treatment else "first_treated",
            allow_missing=(self.first_treated,) if self.first_treated else ())
        if self.treatment is not None:
            treated, start, notes = timing_from_treatment(extras[column], periods, column)
        elif self.first_treated is not None:
            treated, start, notes = timing_from_first_treated(extras[column], periods, column)
        else:
            treated = find_units(labels, self.treated_unit, self.unit)
            start, notes = self.treatment_start, []
        if self.treatment_start is not None and self.treatment_start != start:
            raise DataError(f"treatment_start={self.treatment_start:g} disagrees with column "
                            f"{column!r} (first exposure {start:g})")
        pre = split_periods(periods, start, self.time)
        controls = np.setdiff1d(np.arange(len(labels)), treated)
        if controls.size < 2:
            raise DataError(f"SyntheticDiD needs at least 2 control units; found "
                            f"{controls.size}")
        rows = np.r_[controls, treated]
        order_t = np.r_[np.flatnonzero(pre), np.flatnonzero(~pre)]
        return (Y[rows][:, order_t], tuple(labels[i] for i in rows), periods[order_t],
                int(controls.size), int(pre.sum()), notes)

    def fit(self, data) -> SyntheticDiDResult:
        df = unit_period_frame(data, unit=self.unit, time=self.time,
                               columns=[self.outcome] + [c for c in (self.treatment,
                                                                     self.first_treated) if c],
                               estimator="SyntheticDiD")
        Y, labels, periods, N0, T0, notes = self._design(df)
        warn_all(notes, StatisticalWarning)
        om, lam, noise, zeta_omega, zeta_lambda = _fit_weights(Y, N0, T0)
        fit = _Fit(Y=Y, N0=N0, T0=T0, omega=om, lam=lam, tau=sdid_estimate(Y, N0, T0, om, lam),
                   noise=noise, zeta_omega=zeta_omega, zeta_lambda=zeta_lambda, labels=labels,
                   periods=periods, notes=tuple(notes))
        placebo, se, seed, more = _inference(fit, self.inference)
        return SyntheticDiDResult(estimator=self, fit=fit, inference=self.inference,
                                  placebo=placebo, se=se, seed=seed, warnings=notes + more)


__all__ = ["SyntheticDiD", "SyntheticDiDResult", "sdid_estimate", "sdid_weights"]
