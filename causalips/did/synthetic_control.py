"""Synthetic control (Abadie, Diamond & Hainmueller 2010) for one treated unit, with in-space
placebo inference (``inference=Placebo()``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._checks import check_range
from .._progress import progress_bar
from ..base import Estimator, Result, Summary, tidy_frame, warn_all
from ..errors import DataError, SpecificationError, StatisticalWarning
from ..inference import Placebo, check_spec
from ._legacy_options import DeprecatedAttribute, resampling_from_legacy
from ._simplex_solvers import simplex_least_squares
from ._synthetic_data import balanced_matrix, find_units, split_periods, unit_period_frame

DEFAULT_INFERENCE = Placebo()
#: a pre-period RMSPE below this share of the outcome's SD is a fit up to rounding error
EXACT_FIT = 1e-6


@dataclass(frozen=True)
class _Fit:
    """What placebo runs need: the outcome matrix, the matched features and the fit itself."""

    Y: np.ndarray
    design: np.ndarray  # units x matched features
    pre: np.ndarray
    treated: int
    controls: np.ndarray
    labels: tuple
    periods: np.ndarray
    weights: np.ndarray
    gap: np.ndarray
    scale: float  # SD of the pre-period outcomes, for "near-perfect fit"


@dataclass(frozen=True)
class _Placebos:
    units: np.ndarray  # positions (in the panel) of the controls run as placebos
    gaps: np.ndarray  # placebos x periods
    rmspe_pre: np.ndarray
    ratios: np.ndarray
    p_value: float
    p_by_period: np.ndarray
    seed: int | None


def _synthetic(Y, design, unit, donors):
    w = simplex_least_squares(design[donors].T, design[unit])
    return w, w @ Y[donors]


def _rmspe(gaps, pre):
    gaps = np.atleast_2d(gaps)
    return np.sqrt(np.mean(gaps[:, pre] ** 2, axis=1)), np.sqrt(np.mean(gaps[:, ~pre] ** 2, axis=1))


def _rank_p_value(stat, placebo_stats):
    """Permutation p-value: (1 + placebos at least as extreme) / (placebos + 1), by column."""
    at_least = placebo_stats >= np.asarray(stat) * (1 - 1e-12)
    return (1 + np.sum(at_least, axis=0)) / (placebo_stats.shape[0] + 1)


def _run_placebos(fit: _Fit, spec: Placebo) -> _Placebos:
    """Each chosen control in turn treated as if it were the treated unit (donors: the other
    controls); its gap path, pre-period RMSPE and post/pre ratio."""
    controls, seed = fit.controls, None
    if spec.reps is not None and spec.reps < controls.size:
        seed = spec.seed if spec.seed is not None else int(
            np.random.SeedSequence().generate_state(1)[0])
        pick = np.random.default_rng(seed).choice(controls.size, spec.reps, replace=False)
        units = controls[np.sort(pick)]
    else:
        units = controls
    gaps = np.empty((units.size, fit.Y.shape[1]))
    with progress_bar(units.size, desc="synthetic control placebos", unit="fits",
                      enabled=spec.progress) as bar:
        for k, j in enumerate(units):
            gaps[k] = fit.Y[j] - _synthetic(fit.Y, fit.design, j, controls[controls != j])[1]
            bar.update(1)
    r_pre, r_post = _rmspe(gaps, fit.pre)
    t_pre, t_post = (v[0] for v in _rmspe(fit.gap, fit.pre))  # numpy floats: x / 0 is inf
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = r_post / r_pre
        p = _rank_p_value(t_post / t_pre, ratios)
        p_t = _rank_p_value(np.abs(fit.gap[~fit.pre]) / t_pre,
                            np.abs(gaps[:, ~fit.pre]) / r_pre[:, None])
    return _Placebos(units, gaps, r_pre, ratios, float(p), p_t, seed)


def _fit_notes(fit: _Fit, n_predictors: int) -> list[str]:
    """Warnings about the fit itself: a fit up to rounding error, where (with more donors than
    values to match) the weights are also not identified."""
    r_pre = _rmspe(fit.gap, fit.pre)[0][0]
    if r_pre > EXACT_FIT * fit.scale:
        return []
    notes = []
    n_match = int(fit.pre.sum()) + n_predictors
    if fit.controls.size > n_match:
        notes.append(
            f"{fit.controls.size} donors but only {n_match} pre-period values to match, and an "
            "exact fit: the donor weights are not identified (many weightings fit exactly; the "
            "one reported is one of them). Restrict the donor pool (e.g. to similar units), "
            "add pre-periods, or use SyntheticDiD (regularised weights)")
    notes.append(
        f"the pre-period fit is near-perfect (RMSPE {r_pre:.2g}, against an outcome SD of "
        f"{fit.scale:.3g}): the treated unit lies inside the donors' convex hull, the "
        "post/pre RMSPE ratio divides by rounding error and its placebo p-value is "
        "meaningless. Judge the post-period gaps instead (plot(kind='placebos')), or use "
        "SyntheticDiD")
    return notes


def _placebo_notes(fit: _Fit, plc: _Placebos | None, n_predictors: int) -> list[str]:
    if plc is None:
        return []
    notes, n = [], plc.units.size
    if n + 1 < 20:
        notes.append(f"only {n} placebo units: the smallest attainable p-value is "
                     f"1/{n + 1} = {1 / (n + 1):.3f}")
    exact = plc.rmspe_pre <= EXACT_FIT * fit.scale
    if exact.any():
        n_match = int(fit.pre.sum()) + n_predictors
        why = (f" (with {fit.controls.size - 1} donors each for {n_match} pre-period values "
               "to match, their weights are not identified either)"
               if fit.controls.size - 1 > n_match else "")
        notes.append(f"{int(exact.sum())} of {n} placebo units fit their pre-period "
                     f"near-perfectly{why}: their RMSPE ratios divide by rounding error, so the "
                     "placebo p-values are meaningless; restrict the donor pool, add "
                     "pre-periods, or use SyntheticDiD")
    r_pre = _rmspe(fit.gap, fit.pre)[0][0]
    typical = np.median(plc.rmspe_pre) if n else np.nan
    if typical > EXACT_FIT * fit.scale and r_pre > 2 * typical:
        notes.append(f"poor pre-treatment fit: RMSPE {r_pre:.3g} is over twice the median "
                     f"of the placebo units' ({typical:.3g}); the treated unit may lie outside "
                     "the controls' convex hull. Consider SyntheticDiD, which allows a level "
                     "difference")
    return notes


class SyntheticControlResult(Result):
    """Synthetic control fit with in-space placebo inference.

    ``tidy()`` has the average post-treatment gap (``term == "att"``, treated minus synthetic),
    whose ``p_value`` is the permutation p-value of the post/pre RMSPE ratio over the treated
    unit and the placebo units, then one ``gap`` row per post period with its own placebo
    p-value (of |gap| / pre-RMSPE). SEs and CIs are not defined (NaN): inference is by
    permutation. ``weights`` are the donor weights; ``placebo_gaps`` the placebo paths.
    """

    report_plots = (("Synthetic control: trajectories", "trajectories"),
                    ("Synthetic control: placebos", "placebos"))

    def __init__(self, *, estimator, fit: _Fit, inference, placebos: _Placebos | None,
                 warnings):
        pre, gap = fit.pre, fit.gap
        r_pre, r_post = (float(v[0]) for v in _rmspe(gap, pre))
        ratio = r_post / r_pre if r_pre > 0 else np.inf
        post_t = fit.periods[~pre]
        n_post = int((~pre).sum())
        frame = pd.DataFrame({
            "term": ["att"] + ["gap"] * n_post, "time": np.r_[np.nan, post_t],
            "estimate": np.r_[gap[~pre].mean(), gap[~pre]],
            "p_value": np.r_[np.nan, np.full(n_post, np.nan)] if placebos is None
            else np.r_[placebos.p_value, placebos.p_by_period],
            "rmspe_ratio": np.r_[ratio, np.full(n_post, np.nan)],
        })
        super().__init__(estimator=estimator, table=tidy_frame(frame, extra_first=("time",)),
                         n_obs=int(fit.Y.size), warnings=warnings)
        self._fit = fit
        labels = list(fit.labels)
        plc = placebos
        self.inference = inference
        self.weights = pd.Series(fit.weights, index=[labels[i] for i in fit.controls],
                                 name="weight")
        self.periods = fit.periods
        self.treated_label = labels[fit.treated]
        self.treated_path = fit.Y[fit.treated].copy()
        self.synthetic_path = fit.Y[fit.treated] - gap
        self.placebo_gaps = np.empty((0, gap.size)) if plc is None else plc.gaps
        self.placebo_rmspe_pre = np.empty(0) if plc is None else plc.rmspe_pre
        self.placebo_ratios = pd.Series(
            np.empty(0) if plc is None else plc.ratios,
            index=[] if plc is None else [labels[i] for i in plc.units], dtype=float)
        self.rmspe_pre, self.rmspe_post, self.rmspe_ratio = r_pre, r_post, ratio
        self.p_value = np.nan if plc is None else plc.p_value
        self.seed = None if plc is None else plc.seed
        self.n_pre = int(pre.sum())
        self._freeze()

    @property
    def att(self) -> float:
        return float(self._table.loc[self._table["term"] == "att", "estimate"].iloc[0])

    def with_inference(self, spec) -> SyntheticControlResult:
        """The same synthetic control with other placebos (``Placebo(reps=, seed=)``) or none
        (``None``); the treated unit's fit is not redone."""
        spec = check_spec(spec, (Placebo,), where="SyntheticControl results",
                          argument="inference")
        est = self.estimator
        return _result(est, self._fit, spec, _fit_notes(self._fit, len(est.predictors)))

    def glance(self) -> pd.DataFrame:
        n_placebo = len(self.placebo_ratios)
        return pd.DataFrame([{
            "n_obs": self.n_obs, "treated_unit": str(self.treated_label),
            "n_donors": int(self.weights.size), "n_donors_used": int((self.weights > 1e-6).sum()),
            "n_pre": self.n_pre, "n_post": int(len(self.periods) - self.n_pre),
            "att": self.att, "rmspe_pre": self.rmspe_pre, "rmspe_post": self.rmspe_post,
            "rmspe_ratio": self.rmspe_ratio, "p_value": self.p_value, "n_placebos": n_placebo,
            "min_p_value": 1.0 / (n_placebo + 1) if n_placebo else np.nan, "seed": self.seed,
            "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        w = self.weights[self.weights > 1e-4].sort_values(ascending=False)
        wt = pd.DataFrame({"donor": [str(i) for i in w.index], "weight": w.to_numpy()})
        tab = self._table[["term", "time", "estimate", "p_value"]]
        n_placebo = len(self.placebo_ratios)
        est = self.estimator
        inference = (f"in-space placebos over {n_placebo} of {self.weights.size} controls; "
                     f"smallest attainable p-value 1/{n_placebo + 1}" if self.inference
                     else "none (inference=None)")
        return Summary(
            title="Synthetic control (Abadie, Diamond & Hainmueller 2010)",
            header=(("outcome", est.outcome), ("treated unit", str(self.treated_label)),
                    ("treatment start", f"{est.treatment_start}"),
                    ("weights", "non-negative, sum to one, fitted to the pre-period outcomes"
                     + (" and predictors " + ", ".join(est.predictors)
                        if est.predictors else "")),
                    ("donors / pre-period values matched",
                     f"{self.weights.size} / {self.n_pre + len(est.predictors)}"),
                    ("pre-period RMSPE", f"{self.rmspe_pre:.4g}"),
                    ("post/pre RMSPE ratio", f"{self.rmspe_ratio:.4g}"),
                    ("inference", inference)),
            tables=(("Effects (gap = treated - synthetic)", tab), ("Donor weights", wt)),
            notes=("No standard errors: the p-values are permutation p-values (rank of the "
                   "treated unit's statistic among all units).",) + self.warnings,
        )

    def plot(self, ax=None, kind: str = "trajectories", **style):
        from ..plotting.did_staggered import plot_synthetic_control

        return plot_synthetic_control(self, ax=ax, kind=kind, **style)


def _result(est, fit: _Fit, spec, fit_notes) -> SyntheticControlResult:
    """Run the placebos ``spec`` asks for, warn, and build the result."""
    placebos = None if spec is None else _run_placebos(fit, spec)
    notes = _placebo_notes(fit, placebos, len(est.predictors))
    warn_all(notes, StatisticalWarning)
    return SyntheticControlResult(estimator=est, fit=fit, inference=spec, placebos=placebos,
                                  warnings=fit_notes + notes)


class SyntheticControl(Estimator):
    """Synthetic control for one treated unit (e.g. the one municipality that adopted IPS).

    The synthetic control is the convex combination of control units (weights >= 0, summing
    to one) whose pre-treatment outcomes best match the treated unit's; the effect in each
    post period is the gap between the treated unit and its synthetic control. Inference is by
    in-space placebos: every control is treated as if it were treated, and the treated unit's
    post/pre RMSPE ratio is ranked among all the ratios (Abadie et al. 2010).

    Parameters
    ----------
    outcome, unit, time : str
        Outcome, unit id and period columns of a balanced long panel.
    treated_unit :
        The value of ``unit`` that is treated.
    treatment_start : float
        First treated period (at least two periods must precede it).
    predictors : sequence of str, optional
        Extra columns whose pre-period means are matched alongside the pre-period outcomes
        (each standardised to the outcome's scale, equal importance). We do not optimise the
        predictor importance matrix V as R's ``Synth`` does; see the docs.
    inference : Placebo or None
        ``Placebo()`` (default): every control in turn as a placebo; ``Placebo(reps=k,
        seed=)``: k controls drawn at random (quicker with hundreds of donors; the smallest
        attainable p-value is then 1/(k+1)); ``None``: no placebos (no p-values).
        ``result.with_inference(...)`` changes it after the fit. Runs over two seconds show a
        progress bar (``Placebo(progress=False)`` silences it).
    placebos : bool
        Deprecated: ``placebos=True`` is ``inference=Placebo()``, ``False`` is
        ``inference=None``.

    Warns
    -----
    StatisticalWarning
        When the pre-period fit is near-perfect (the RMSPE ratio then divides by rounding
        error), and then also when donors outnumber the pre-period values to match (the
        weights are not identified); with few placebos; when placebos fit near-perfectly; and
        when the treated unit fits much worse than the placebos.

    Returns
    -------
    SyntheticControlResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import simulate_staggered_panel
    >>> df = simulate_staggered_panel(seed=3)
    >>> one = df[(df["first_treated"] == 0) | (df["municipality"] == "M005")]  # adopts 2016
    >>> res = ci.SyntheticControl(outcome="workdays", unit="municipality", time="year",
    ...                           treated_unit="M005", treatment_start=2016,
    ...                           inference=None).fit(one)
    >>> bool(abs(res.weights.sum() - 1) < 1e-9)
    True

    See Also
    --------
    SyntheticDiD, DiD
    """

    _param_names = ("outcome", "unit", "time", "treated_unit", "treatment_start", "predictors",
                    "inference")

    placebos = DeprecatedAttribute(lambda self: self.inference is not None, "inference")

    def __init__(self, *, outcome: str, unit: str, time: str, treated_unit,
                 treatment_start: float, predictors: Sequence[str] | None = None,
                 inference: Placebo | None = DEFAULT_INFERENCE, placebos: bool | None = None):
        self.outcome, self.unit, self.time = outcome, unit, time
        if treated_unit is None or isinstance(treated_unit, list | tuple | set):
            raise SpecificationError("treated_unit must be a single unit id (synthetic control "
                                     "has one treated unit; use SyntheticDiD for several)")
        self.treated_unit = treated_unit
        self.treatment_start = check_range("treatment_start", treatment_start, -np.inf, np.inf)
        if isinstance(predictors, str):
            predictors = [predictors]
        self.predictors = tuple(predictors) if predictors else ()
        inference = resampling_from_legacy(
            "SyntheticControl", inference, DEFAULT_INFERENCE,
            lambda placebos: Placebo() if placebos else None, placebos=placebos)
        self.inference = check_spec(inference, (Placebo,), where="SyntheticControl",
                                    argument="inference")

    def fit(self, data) -> SyntheticControlResult:
        df = unit_period_frame(data, unit=self.unit, time=self.time,
                               columns=[self.outcome, *self.predictors],
                               estimator="SyntheticControl")
        Y, labels, periods, extras = balanced_matrix(df, self.outcome, self.unit, self.time,
                                                     self.predictors)
        treated = int(find_units(labels, self.treated_unit, self.unit)[0])
        pre = split_periods(periods, self.treatment_start, self.time)
        controls = np.array([i for i in range(len(labels)) if i != treated])
        if controls.size < 2:
            raise DataError("synthetic control needs at least 2 control units")
        design = _design(Y, pre, extras)
        w, synth = _synthetic(Y, design, treated, controls)
        scale = float(np.std(Y[:, pre])) or 1.0
        fit = _Fit(Y=Y, design=design, pre=pre, treated=treated, controls=controls,
                   labels=tuple(labels), periods=periods, weights=w, gap=Y[treated] - synth,
                   scale=scale)
        notes = _fit_notes(fit, len(self.predictors))
        warn_all(notes, StatisticalWarning)
        return _result(self, fit, self.inference, notes)


def _design(Y, pre, predictors):
    """Rows to match: pre-period outcomes, plus standardised pre-period predictor means."""
    rows = [Y[:, pre]]
    out_sd = np.std(Y[:, pre]) or 1.0
    for M in predictors.values():
        m = M[:, pre].mean(axis=1)
        sd = np.std(m)
        rows.append(((m - m.mean()) / (sd if sd > 0 else 1.0) * out_sd)[:, None])
    return np.hstack(rows)  # units x features


__all__ = ["SyntheticControl", "SyntheticControlResult"]
