"""Synthetic control (Abadie, Diamond & Hainmueller 2010) and synthetic difference-in-differences
(Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021) for one (or a few) treated units."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .._checks import as_dataframe, check_columns, check_not_empty, check_range, numeric_column
from ..base import Estimator, Result, Summary, tidy_frame, warn_all
from ..errors import DataError, EstimationError, SpecificationError, StatisticalWarning

# --------------------------------------------------------------------------------------------
# shared data preparation


def _balanced_matrix(df, outcome, unit, time, extra=()):
    """Pivot a long panel to units x periods; refuse duplicates and missing unit-periods."""
    check_columns(df, {"outcome": outcome, "unit": unit, "time": time,
                       **{f"predictor {c!r}": c for c in extra}})
    check_not_empty(df)
    y = numeric_column(df, outcome, role="outcome")
    t = numeric_column(df, time, role="time")
    if df[unit].isna().any():
        raise DataError(f"column {unit!r} (the unit) has {int(df[unit].isna().sum())} missing "
                        "values; give them a label or drop them")
    u_codes, u_labels = pd.factorize(df[unit], sort=True)
    periods, t_codes = np.unique(t, return_inverse=True)
    n_u, n_t = len(u_labels), periods.size
    key = u_codes * n_t + t_codes
    counts = np.bincount(key, minlength=n_u * n_t)
    if counts.max() > 1:
        dup = counts[key] > 1
        first = df.iloc[int(np.flatnonzero(dup)[0])][[unit, time]].to_dict()
        raise DataError(f"{int(dup.sum())} rows share the same {unit}/{time} pair (duplicate "
                        f"unit-period rows), e.g. {first}. Aggregate or drop the duplicates.")
    if (counts == 0).any():
        miss = int((counts == 0).sum())
        bad_u = u_labels[int(np.flatnonzero((counts == 0).reshape(n_u, n_t).any(axis=1))[0])]
        raise DataError(f"the panel is unbalanced: {miss} unit-periods are missing (e.g. unit "
                        f"{bad_u!r}); synthetic control needs every unit in every period. Drop "
                        "incomplete units or fill the gaps first.")
    Y = np.empty((n_u, n_t))
    Y[u_codes, t_codes] = y
    extras = {}
    for c in extra:
        v = numeric_column(df, c, role="predictor")
        M = np.empty((n_u, n_t))
        M[u_codes, t_codes] = v
        extras[c] = M
    labels = [v.item() if isinstance(v, np.generic) else v for v in u_labels]
    return Y, labels, periods, extras


def _find_units(labels, wanted, unit):
    wanted = list(wanted) if isinstance(wanted, list | tuple | set | np.ndarray) else [wanted]
    idx = []
    lookup = {str(v): i for i, v in enumerate(labels)}
    for w in wanted:
        if w in labels:
            idx.append(labels.index(w))
        elif str(w) in lookup:
            idx.append(lookup[str(w)])
        else:
            shown = ", ".join(repr(v) for v in labels[:8])
            raise DataError(f"treated_unit {w!r} is not a value of column {unit!r} (values: "
                            f"{shown}{' ...' if len(labels) > 8 else ''})")
    return np.array(sorted(set(idx)), dtype=np.int64)


def _split_periods(periods, start, time):
    pre = periods < start
    if pre.sum() < 2:
        raise DataError(f"treatment_start={start!r} leaves {int(pre.sum())} period(s) of "
                        f"{time!r} before treatment; at least 2 are needed")
    if pre.all():
        raise DataError(f"treatment_start={start!r} is after the last period "
                        f"({periods[-1]:g}); no post-treatment period")
    return pre


# --------------------------------------------------------------------------------------------
# synthetic control


def simplex_least_squares(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin_w ||A w - b||^2 subject to w >= 0 and sum(w) = 1.

    Starts from non-negative least squares on the system augmented with a heavily weighted
    row ``sum(w) = 1`` (scipy's ``nnls``, an exact active-set method), then polishes with SLSQP
    under the exact constraint; keeps the better of the two.
    """
    A = np.asarray(A, dtype=float)
    b = np.asarray(b, dtype=float)
    k = A.shape[1]
    if k == 1:
        return np.ones(1)
    scale = max(np.linalg.norm(A), np.linalg.norm(b), 1.0)
    big = 1e3 * scale
    try:
        w0, _ = optimize.nnls(np.vstack([A / scale, np.full((1, k), big / scale)]),
                              np.r_[b / scale, big / scale], maxiter=50 * k)
    except RuntimeError:
        w0 = np.full(k, 1.0 / k)
    w0 = w0 / w0.sum() if w0.sum() > 0 else np.full(k, 1.0 / k)
    AtA, Atb = A.T @ A, A.T @ b

    def f(w):
        r = A @ w - b
        return float(r @ r) / scale**2

    def g(w):
        return 2 * (AtA @ w - Atb) / scale**2

    res = optimize.minimize(
        f, w0, jac=g, method="SLSQP", bounds=[(0.0, 1.0)] * k,
        constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0,
                      "jac": lambda w: np.ones_like(w)},),
        options={"ftol": 1e-14, "maxiter": 2000})
    w1 = np.clip(res.x, 0.0, None)
    w1 = w1 / w1.sum() if w1.sum() > 0 else w0
    return w1 if f(w1) <= f(w0) else w0


def _sc_design(Y, pre, predictors):
    """Rows to match: pre-period outcomes, plus standardised pre-period predictor means."""
    rows = [Y[:, pre]]
    out_sd = np.std(Y[:, pre]) or 1.0
    for M in predictors.values():
        m = M[:, pre].mean(axis=1)
        sd = np.std(m)
        rows.append(((m - m.mean()) / (sd if sd > 0 else 1.0) * out_sd)[:, None])
    return np.hstack(rows)  # units x features


def _sc_fit(Y, design, treated, donors):
    w = simplex_least_squares(design[donors].T, design[treated])
    synth = w @ Y[donors]
    return w, synth


class SyntheticControlResult(Result):
    """Synthetic control fit with in-space placebo inference.

    ``tidy()`` has the average post-treatment gap (``term == "att"``, treated minus synthetic),
    whose ``p_value`` is the permutation p-value of the post/pre RMSPE ratio over the treated
    unit and every control as placebo, then one ``gap`` row per post period with its own
    placebo p-value (of |gap| / pre-RMSPE). SEs and CIs are not defined (NaN): inference is by
    permutation. ``weights`` are the donor weights; ``placebo_gaps`` the placebo paths.
    """

    def __init__(self, *, estimator, table, n_obs, warnings, weights, periods, treated_label,
                 treated_path, synthetic_path, placebo_gaps, placebo_rmspe_pre, placebo_ratios,
                 rmspe_pre, rmspe_post, p_value, n_pre):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.weights = weights
        self.periods = periods
        self.treated_label = treated_label
        self.treated_path = treated_path
        self.synthetic_path = synthetic_path
        self.placebo_gaps = placebo_gaps
        self.placebo_rmspe_pre = placebo_rmspe_pre
        self.placebo_ratios = placebo_ratios
        self.rmspe_pre = rmspe_pre
        self.rmspe_post = rmspe_post
        self.rmspe_ratio = rmspe_post / rmspe_pre if rmspe_pre > 0 else np.inf
        self.p_value = p_value
        self.n_pre = n_pre
        self._freeze()

    @property
    def att(self) -> float:
        return float(self._table.loc[self._table["term"] == "att", "estimate"].iloc[0])

    def glance(self) -> pd.DataFrame:
        n_placebo = len(self.placebo_ratios)
        return pd.DataFrame([{
            "n_obs": self.n_obs, "treated_unit": str(self.treated_label),
            "n_donors": int(self.weights.size), "n_donors_used": int((self.weights > 1e-6).sum()),
            "n_pre": self.n_pre, "n_post": int(len(self.periods) - self.n_pre),
            "att": self.att, "rmspe_pre": self.rmspe_pre, "rmspe_post": self.rmspe_post,
            "rmspe_ratio": self.rmspe_ratio, "p_value": self.p_value,
            "min_p_value": 1.0 / (n_placebo + 1) if n_placebo else np.nan,
            "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        w = self.weights[self.weights > 1e-4].sort_values(ascending=False)
        wt = pd.DataFrame({"donor": [str(i) for i in w.index], "weight": w.to_numpy()})
        tab = self._table[["term", "time", "estimate", "p_value"]]
        n_placebo = len(self.placebo_ratios)
        return Summary(
            title="Synthetic control (Abadie, Diamond & Hainmueller 2010)",
            header=(("outcome", self.estimator.outcome),
                    ("treated unit", str(self.treated_label)),
                    ("treatment start", f"{self.estimator.treatment_start}"),
                    ("weights", "non-negative, sum to one, fitted to the pre-period outcomes"
                     + (" and predictors " + ", ".join(self.estimator.predictors)
                        if self.estimator.predictors else "")),
                    ("pre-period RMSPE", f"{self.rmspe_pre:.4g}"),
                    ("post/pre RMSPE ratio", f"{self.rmspe_ratio:.4g}"),
                    ("inference", f"in-space placebos over {n_placebo} controls; smallest "
                                  f"attainable p-value 1/{n_placebo + 1}")),
            tables=(("Effects (gap = treated - synthetic)", tab), ("Donor weights", wt)),
            notes=("No standard errors: the p-values are permutation p-values (rank of the "
                   "treated unit's statistic among all units).",) + self.warnings,
        )

    def plot(self, ax=None, kind: str = "trajectories", **style):
        from ..plotting.did_staggered import plot_synthetic_control

        return plot_synthetic_control(self, ax=ax, kind=kind, **style)

    def report_section(self):
        import matplotlib.pyplot as plt

        from ..base import ReportSection

        s = self.summary()
        figs = []
        for kind in ("trajectories", "placebos"):
            ax = self.plot(kind=kind)
            figs.append((f"Synthetic control: {kind}", ax.get_figure()))
            plt.close(ax.get_figure())
        return ReportSection(title=s.title, paragraphs=tuple(f"{k}: {v}" for k, v in s.header),
                             tables=tuple((h, t, ()) for h, t in s.tables),
                             figures=tuple(figs), notes=s.notes)


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
    placebos : bool
        Run the in-space placebos (default True).

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
    ...                           treated_unit="M005", treatment_start=2016).fit(one)
    >>> bool(abs(res.weights.sum() - 1) < 1e-9)
    True

    See Also
    --------
    SyntheticDiD, DiD
    """

    _param_names = ("outcome", "unit", "time", "treated_unit", "treatment_start", "predictors",
                    "placebos")

    def __init__(self, *, outcome: str, unit: str, time: str, treated_unit,
                 treatment_start: float, predictors: Sequence[str] | None = None,
                 placebos: bool = True):
        self.outcome, self.unit, self.time = outcome, unit, time
        if treated_unit is None or isinstance(treated_unit, list | tuple | set):
            raise SpecificationError("treated_unit must be a single unit id (synthetic control "
                                     "has one treated unit; use SyntheticDiD for several)")
        self.treated_unit = treated_unit
        self.treatment_start = check_range("treatment_start", treatment_start, -np.inf, np.inf)
        if isinstance(predictors, str):
            predictors = [predictors]
        self.predictors = tuple(predictors) if predictors else ()
        self.placebos = bool(placebos)

    def fit(self, data) -> SyntheticControlResult:
        df = as_dataframe(data)
        Y, labels, periods, extras = _balanced_matrix(df, self.outcome, self.unit, self.time,
                                                      self.predictors)
        treated = int(_find_units(labels, self.treated_unit, self.unit)[0])
        pre = _split_periods(periods, self.treatment_start, self.time)
        controls = np.array([i for i in range(len(labels)) if i != treated])
        if controls.size < 2:
            raise DataError("synthetic control needs at least 2 control units")
        design = _sc_design(Y, pre, extras)
        w, synth = _sc_fit(Y, design, treated, controls)
        gap = Y[treated] - synth
        notes = []

        def rmspe(g):
            return np.sqrt(np.mean(g[pre] ** 2)), np.sqrt(np.mean(g[~pre] ** 2))

        r_pre, r_post = rmspe(gap)
        gaps = np.empty((0, periods.size))
        r_pre_p = np.empty(0)
        ratios = np.empty(0)
        if self.placebos:
            gaps = np.empty((controls.size, periods.size))
            for k, j in enumerate(controls):
                donors = controls[controls != j]
                _, s = _sc_fit(Y, design, j, donors)
                gaps[k] = Y[j] - s
            r_pre_p = np.sqrt(np.mean(gaps[:, pre] ** 2, axis=1))
            r_post_p = np.sqrt(np.mean(gaps[:, ~pre] ** 2, axis=1))
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = r_post_p / r_pre_p
                ratio = r_post / r_pre if r_pre > 0 else np.inf
            p = (1 + np.sum(ratios >= ratio * (1 - 1e-12))) / (controls.size + 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                z_t = np.abs(gap[~pre]) / r_pre
                z_p = np.abs(gaps[:, ~pre]) / r_pre_p[:, None]
            p_t = (1 + np.sum(z_p >= z_t[None, :] * (1 - 1e-12), axis=0)) / (controls.size + 1)
            if controls.size + 1 < 20:
                notes.append(f"only {controls.size} placebo units: the smallest attainable "
                             f"p-value is 1/{controls.size + 1} = {1 / (controls.size + 1):.3f}")
        else:
            p = np.nan
            p_t = np.full((~pre).sum(), np.nan)
        if r_pre_p.size and r_pre > 2 * np.median(r_pre_p):
            notes.append(f"poor pre-treatment fit: RMSPE {r_pre:.3g} is over twice the median "
                         f"of the placebo units' ({np.median(r_pre_p):.3g}); the treated unit may "
                         "lie outside the controls' convex hull. Consider SyntheticDiD, which "
                         "allows a level difference")
        if notes:
            warn_all(notes, StatisticalWarning)
        post_t = periods[~pre]
        frame = pd.DataFrame({
            "term": ["att"] + ["gap"] * post_t.size,
            "time": np.r_[np.nan, post_t],
            "estimate": np.r_[gap[~pre].mean(), gap[~pre]],
            "p_value": np.r_[p, p_t],
            "rmspe_ratio": np.r_[r_post / r_pre if r_pre > 0 else np.inf,
                                 np.full(post_t.size, np.nan)],
        })
        table = tidy_frame(frame, extra_first=("time",))
        weights = pd.Series(w, index=[labels[i] for i in controls], name="weight")
        return SyntheticControlResult(
            estimator=self, table=table, n_obs=int(Y.size), warnings=notes, weights=weights,
            periods=periods, treated_label=labels[treated], treated_path=Y[treated].copy(),
            synthetic_path=synth, placebo_gaps=gaps, placebo_rmspe_pre=r_pre_p,
            placebo_ratios=pd.Series(ratios, index=[labels[i] for i in controls]
                                     if self.placebos else [], dtype=float),
            rmspe_pre=float(r_pre), rmspe_post=float(r_post), p_value=float(p),
            n_pre=int(pre.sum()))


# --------------------------------------------------------------------------------------------
# synthetic difference-in-differences


def _fw_batch(A, b, x, zeta2, min_decrease, max_iter):
    """Frank-Wolfe for min zeta^2 |x|^2 + |A x - b|^2 / n over the simplex, batched over draws.

    ``A`` is (R, n, k), ``b`` (R, n), ``x`` (R, k) the starting weights; each problem stops as
    synthdid's ``sc.weight.fw`` does (when the objective decreases by less than
    ``min_decrease^2``, or after ``max_iter`` steps). Exact line search on each step. Problems
    that have stopped are dropped from the working arrays, so late iterations are cheap.
    """
    R, n, k = A.shape
    eta = n * zeta2
    out = x.copy()
    ids = np.arange(R)
    Aa, ba, xa = A, b, x.copy()
    Ax = np.matmul(Aa, xa[:, :, None])[:, :, 0]
    prev = np.full(R, np.nan)
    t = 0
    while t < max_iter and ids.size:
        t += 1
        r = np.arange(ids.size)
        resid = Ax - ba
        grad = np.matmul(resid[:, None, :], Aa)[:, 0, :] + eta * xa
        i = grad.argmin(axis=1)
        dx = -xa
        dx[r, i] += 1.0
        d_err = Aa[r, :, i] - Ax
        den = (d_err * d_err).sum(axis=1) + eta * (dx * dx).sum(axis=1)
        num = -(grad * dx).sum(axis=1)
        pos = den > 0
        step = np.zeros_like(num)
        step[pos] = num[pos] / den[pos]
        np.clip(step, 0.0, 1.0, out=step)
        xa = xa + step[:, None] * dx
        Ax = Ax + step[:, None] * d_err
        err = Ax - ba
        val = zeta2 * (xa * xa).sum(axis=1) + (err * err).sum(axis=1) / n
        if t >= 2:
            go = (prev - val) > min_decrease**2
            if not go.all():
                out[ids[~go]] = xa[~go]
                ids, Aa, ba, xa, Ax, val = ids[go], Aa[go], ba[go], xa[go], Ax[go], val[go]
        prev = val
    out[ids] = xa
    return out


def _sparsify(x):
    x = np.where(x <= x.max(axis=1, keepdims=True) / 4, 0.0, x)
    return x / x.sum(axis=1, keepdims=True)


def _sum_normalize(x):
    s = x.sum(axis=1, keepdims=True)
    return np.where(s != 0, x / np.where(s == 0, 1, s), 1.0 / x.shape[1])


def _sdid_weights(Y, N0, T0, zeta_omega, zeta_lambda, min_decrease, omega0, lambda0,
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
    lam = _fw_batch(A_l, b_l, lambda0, zeta_lambda**2, min_decrease, pre_sparsify)
    lam = _fw_batch(A_l, b_l, _sparsify(lam), zeta_lambda**2, min_decrease, max_iter)
    # unit weights: rows are pre periods, columns controls + treated mean; centre each column
    Mo = np.concatenate([np.swapaxes(pre_ctrl, 1, 2), tr_pre[:, :, None]], axis=2)
    Mo = Mo - Mo.mean(axis=1, keepdims=True)
    A_o, b_o = Mo[:, :, :N0], Mo[:, :, N0]
    om = _fw_batch(A_o, b_o, omega0, zeta_omega**2, min_decrease, pre_sparsify)
    om = _fw_batch(A_o, b_o, _sparsify(om), zeta_omega**2, min_decrease, max_iter)
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


class SyntheticDiDResult(Result):
    """Synthetic difference-in-differences estimate (Arkhangelsky et al. 2021).

    ``tidy()`` has one row, ``term == "att"``, with the placebo ``std_error`` and normal
    intervals (as synthdid's ``vcov(method = "placebo")``). ``unit_weights`` (omega, over
    controls) and ``time_weights`` (lambda, over pre periods) are Series.
    """

    count_columns = ("n_treated", "n_control")

    def __init__(self, *, estimator, table, n_obs, warnings, unit_weights, time_weights,
                 periods, treated_path, control_path, pre_gap, placebo_estimates,
                 noise_level, zeta_omega, zeta_lambda, n_treated, n_control, n_pre, seed):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self.unit_weights = unit_weights
        self.time_weights = time_weights
        self.periods = periods
        self.treated_path = treated_path
        self.control_path = control_path
        self.pre_gap = pre_gap
        self.placebo_estimates = placebo_estimates
        self.noise_level = noise_level
        self.zeta_omega = zeta_omega
        self.zeta_lambda = zeta_lambda
        self.n_treated, self.n_control, self.n_pre = n_treated, n_control, n_pre
        self.seed = seed
        self._freeze()

    @property
    def att(self) -> float:
        return float(self._table["estimate"].iloc[0])

    @property
    def std_error(self) -> float:
        return float(self._table["std_error"].iloc[0])

    def glance(self) -> pd.DataFrame:
        row = self._table.iloc[0]
        return pd.DataFrame([{
            "n_obs": self.n_obs, "n_treated": self.n_treated, "n_control": self.n_control,
            "n_pre": self.n_pre, "n_post": int(len(self.periods) - self.n_pre),
            "att": row["estimate"], "std_error": row["std_error"], "p_value": row["p_value"],
            "vcov": "placebo", "reps": self.estimator.reps, "seed": self.seed,
            "noise_level": self.noise_level, "zeta_omega": self.zeta_omega,
            "zeta_lambda": self.zeta_lambda,
            "n_units_weighted": int((self.unit_weights > 0).sum()),
            "n_warnings": len(self.warnings),
        }])

    def summary(self) -> Summary:
        uw = self.unit_weights[self.unit_weights > 1e-4].sort_values(ascending=False)
        tw = self.time_weights[self.time_weights > 1e-4]
        conf = self.estimator.conf_level
        return Summary(
            title="Synthetic difference-in-differences (Arkhangelsky et al. 2021)",
            header=(("outcome", self.estimator.outcome),
                    ("treated units", str(self.n_treated)),
                    ("control units", str(self.n_control)),
                    ("pre / post periods", f"{self.n_pre} / {len(self.periods) - self.n_pre}"),
                    ("regularisation", f"zeta_omega = {self.zeta_omega:.4g} "
                                       f"(= (N1 T1)^(1/4) x noise SD {self.noise_level:.4g}), "
                                       f"zeta_lambda = {self.zeta_lambda:.3g}"),
                    ("standard error", f"placebo (synthdid method='placebo'), "
                                       f"{self.estimator.reps} draws, seed {self.seed}"),
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
    treated_unit : unit id or list of ids, optional
        The treated unit(s); give this with ``treatment_start``, or give ``treatment``.
    treatment : str, optional
        0/1 exposure column (block design: all treated units start in the same period).
    treatment_start : float, optional
        First treated period (needed with ``treated_unit``).
    reps : int
        Placebo replications for the SE (synthdid's default is 200; 0 = no SE).
    conf_level : float
        Level of the normal interval.
    seed : int, optional
        Seed of the placebo draws; when None one is drawn and recorded in ``glance()``.

    Returns
    -------
    SyntheticDiDResult

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import simulate_staggered_panel
    >>> df = simulate_staggered_panel(seed=3)
    >>> one = df[(df["first_treated"] == 0) | (df["municipality"] == "M005")]  # adopts 2016
    >>> res = ci.SyntheticDiD(outcome="workdays", unit="municipality", time="year",
    ...                       treated_unit="M005", treatment_start=2016, reps=50,
    ...                       seed=1).fit(one)
    >>> bool(res.std_error > 0)
    True

    See Also
    --------
    SyntheticControl, DiD, StaggeredDiD
    """

    _param_names = ("outcome", "unit", "time", "treated_unit", "treatment", "treatment_start",
                    "reps", "conf_level", "seed")

    def __init__(self, *, outcome: str, unit: str, time: str, treated_unit=None,
                 treatment: str | None = None, treatment_start: float | None = None,
                 reps: int = 200, conf_level: float = 0.95, seed: int | None = None):
        self.outcome, self.unit, self.time = outcome, unit, time
        if (treated_unit is None) == (treatment is None):
            raise SpecificationError("give exactly one of treated_unit= (with treatment_start=) "
                                     "or treatment= (a 0/1 exposure column)")
        if treated_unit is not None and treatment_start is None:
            raise SpecificationError("treated_unit= needs treatment_start= (the first treated "
                                     "period)")
        self.treated_unit = (list(treated_unit) if isinstance(treated_unit, tuple | set)
                             else treated_unit)
        self.treatment = treatment
        self.treatment_start = (None if treatment_start is None else
                                check_range("treatment_start", treatment_start, -np.inf, np.inf))
        if not isinstance(reps, int | np.integer) or reps < 0:
            raise SpecificationError(f"reps must be a whole number >= 0; got {reps!r}")
        self.reps = int(reps)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)
        if seed is not None and not isinstance(seed, int | np.integer):
            raise SpecificationError(f"seed must be an integer or None; got {seed!r}")
        self.seed = seed

    def _design(self, df):
        extra = (self.treatment,) if self.treatment else ()
        Y, labels, periods, extras = _balanced_matrix(df, self.outcome, self.unit, self.time,
                                                      extra)
        if self.treatment is not None:
            D = extras[self.treatment]
            if not np.isin(D, (0.0, 1.0)).all():
                raise DataError(f"column {self.treatment!r} (the treatment) must be 0/1")
            ever = D.any(axis=1)
            if not ever.any():
                raise DataError(f"column {self.treatment!r} marks no unit as treated")
            first = np.array([periods[np.argmax(row)] for row in D[ever]])
            start = first.min()
            block = (periods[None, :] >= start).astype(float)
            if not (first == start).all() or not (D[ever] == block).all():
                raise DataError(
                    f"SyntheticDiD needs a block design: every treated unit exposed from the "
                    f"same period ({start:g}) to the end; found different starts or exposure "
                    "that switches off. For staggered adoption use StaggeredDiD.")
            if self.treatment_start is not None and self.treatment_start != start:
                raise DataError(f"treatment_start={self.treatment_start:g} disagrees with the "
                                f"treatment column (first exposure {start:g})")
            treated = np.flatnonzero(ever)
        else:
            treated = _find_units(labels, self.treated_unit, self.unit)
            start = self.treatment_start
        pre = _split_periods(periods, start, self.time)
        controls = np.setdiff1d(np.arange(len(labels)), treated)
        if controls.size < 2:
            raise DataError("SyntheticDiD needs at least 2 control units")
        order_t = np.r_[np.flatnonzero(pre), np.flatnonzero(~pre)]
        Y = Y[np.r_[controls, treated]][:, order_t]
        return Y, labels, periods[order_t], controls, treated, int(pre.sum()), float(start)

    def fit(self, data) -> SyntheticDiDResult:
        df = as_dataframe(data)
        Y, labels, periods, controls, treated, T0, start = self._design(df)
        N0, N1 = controls.size, treated.size
        T1 = periods.size - T0
        noise = float(np.std(np.diff(Y[:N0, :T0], axis=1), ddof=1)) if T0 > 1 else 0.0
        if not np.isfinite(noise):
            noise = 0.0
        zeta_omega = (N1 * T1) ** 0.25 * noise
        zeta_lambda = 1e-6 * noise
        min_dec = 1e-5 * noise
        om, lam = _sdid_weights(Y[None], N0, T0, zeta_omega, zeta_lambda, min_dec,
                                np.full((1, N0), 1.0 / N0), np.full((1, T0), 1.0 / T0))
        om, lam = om[0], lam[0]
        tau = sdid_estimate(Y, N0, T0, om, lam)
        notes = []
        seed = self.seed
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        placebo = np.empty(0)
        se = np.nan
        if self.reps > 0:
            if N0 <= N1:
                raise DataError(f"placebo SEs need more controls ({N0}) than treated units "
                                f"({N1}); pass reps=0 for the point estimate only")
            rng = np.random.default_rng(seed)
            perms = np.argsort(rng.random((self.reps, N0)), axis=1)
            Yp = Y[:N0][perms]  # reps x N0 x T: the last N1 play the treated units
            n0p = N0 - N1
            om0 = _sum_normalize(om[perms[:, :n0p]])
            lam0 = np.repeat(lam[None], self.reps, axis=0)
            omp, lamp = _sdid_weights(Yp, n0p, T0, zeta_omega, zeta_lambda, min_dec, om0, lam0)
            w_u = np.concatenate([-omp, np.full((self.reps, N1), 1.0 / N1)], axis=1)
            w_t = np.concatenate([-lamp, np.full((self.reps, T1), 1.0 / T1)], axis=1)
            placebo = np.einsum("rn,rnt,rt->r", w_u, Yp, w_t)
            se = float(np.std(placebo))
            if N0 < 20:
                notes.append(f"only {N0} control units: the placebo SE rests on few placebo "
                             "units and is imprecise")
        if notes:
            warn_all(notes, StatisticalWarning)
        z = stats.norm.ppf(0.5 + self.conf_level / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            stat = tau / se
        frame = pd.DataFrame([{
            "term": "att", "estimate": tau, "std_error": se, "statistic": stat,
            "p_value": 2 * stats.norm.sf(abs(stat)), "conf_low": tau - z * se,
            "conf_high": tau + z * se, "n_treated": N1, "n_control": N0,
        }])
        table = tidy_frame(frame)
        treated_path = Y[N0:].mean(axis=0)
        control_path = om @ Y[:N0]
        pre_gap = float(lam @ (treated_path[:T0] - control_path[:T0]))
        order = np.argsort(periods)
        if not np.all(order == np.arange(periods.size)):
            raise EstimationError("internal: periods out of order")  # pragma: no cover
        return SyntheticDiDResult(
            estimator=self, table=table, n_obs=int(Y.size), warnings=notes,
            unit_weights=pd.Series(om, index=[labels[i] for i in controls], name="omega"),
            time_weights=pd.Series(lam, index=periods[:T0], name="lambda"),
            periods=periods, treated_path=treated_path, control_path=control_path,
            pre_gap=pre_gap, placebo_estimates=placebo, noise_level=noise,
            zeta_omega=zeta_omega, zeta_lambda=zeta_lambda, n_treated=N1, n_control=N0,
            n_pre=T0, seed=seed)


__all__ = ["SyntheticControl", "SyntheticControlResult", "SyntheticDiD", "SyntheticDiDResult",
           "simplex_least_squares", "sdid_estimate"]
