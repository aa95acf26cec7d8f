"""The result of a Cox fit: tables, tests, summary, diagnostics and other variances of the
same fit (``with_inference``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pandas as pd

from .._checks import check_choice
from ..base import Result, Summary
from ..errors import SpecificationError, warn
from ._cox_fit import CoxFit
from ._cox_variance import coef_table, cox_variance, fit_statistics


class CoxResult(Result):
    """A fitted Cox model.

    ``tidy()`` has one row per coefficient: ``term``, ``estimate`` (log hazard ratio),
    ``std_error``, ``statistic`` (z, or t with ``Cluster(..., correction="CR1")``),
    ``p_value``, ``conf_low``/``conf_high`` (log scale) and ``hazard_ratio``, ``hr_conf_low``,
    ``hr_conf_high``, plus ``std_error_model`` (the model-based SE, equal to ``std_error``
    unless a sandwich variance was asked for).

    Attributes
    ----------
    coef : the coefficients (Series); ``vcov_matrix()`` their variance matrix as used for tests.
    vcov_model : the model-based (inverse information) variance.
    inference : the variance spec these SEs come from (``with_inference`` gives others).
    converged, iterations : Newton–Raphson outcome.
    factors : the categorical columns with their levels and reference level.
    time_unit : ``"days"`` when timedelta durations were converted, else None.
    """

    count_columns = ()

    def __init__(self, *, estimator, fit: CoxFit, spec, warnings: Sequence[str] = (),
                 time_unit: str | None = None):
        var = cox_variance(fit, spec, where="Cox")
        table = coef_table(fit, var, estimator.conf_level)
        super().__init__(estimator=estimator, table=table, n_obs=fit.n,
                         warnings=(*warnings, *var.warnings))
        self._fit, self._var = fit, var
        self._base_warnings = tuple(warnings)
        self._stats = fit_statistics(fit, var, estimator.conf_level)
        names = fit.names
        self._vcov = pd.DataFrame(var.matrix, index=names, columns=names)
        self.coef = pd.Series(fit.beta, index=names, name="log_hazard_ratio")
        self.vcov_model = pd.DataFrame(fit.v_model, index=names, columns=names)
        self.inference = spec
        self.converged = bool(fit.converged)
        self.iterations = int(fit.iterations)
        self.factors = fit.design.factors
        self.assign = fit.design.assign
        self.time_unit = time_unit
        self._means = fit.means
        self._strata_rows = fit.strata_rows
        self._strata_labels = fit.strata_labels
        self._freeze()

    # -- variance ----------------------------------------------------------------------------
    def vcov_matrix(self) -> pd.DataFrame:
        """The variance–covariance matrix of the coefficients used for the tests (by term)."""
        return self._vcov.copy()

    @property
    def vcov(self) -> pd.DataFrame:
        """Deprecated: use :meth:`vcov_matrix`."""
        warn(f"{type(self).__name__}.vcov is deprecated; use .vcov_matrix() (it will "
                       "be removed in the next release)", FutureWarning)
        return self.vcov_matrix()

    def with_inference(self, spec) -> CoxResult:
        """The same fit with another variance: ``ModelBased()``, ``Robust()`` or
        ``Cluster(col, correction=...)`` (``col`` must be the fit's cluster column).

        Example
        -------
        >>> import causalips as ci
        >>> from causalips.datasets import load_swiss_trial
        >>> res = ci.Cox(duration="months", event="employed", covariates=["budget"],
        ...              reference={"budget": "40h"}).fit(load_swiss_trial())
        >>> robust = res.with_inference(ci.Robust())
        >>> bool((robust.tidy()["estimate"] == res.tidy()["estimate"]).all())
        True
        """
        return CoxResult(estimator=self.estimator, fit=self._fit, spec=spec,
                         warnings=self._base_warnings, time_unit=self.time_unit)

    # -- computed on first use, then cached (cached_property writes to __dict__ directly) ----
    @functools.cached_property
    def _concordance(self) -> tuple[float, float]:
        """Harrell's C and its SE (R's concordancefit), computed on first use."""
        return self._fit.concordance(self._var.cluster)

    @property
    def _zph(self) -> dict | None:
        return self._fit.zph

    @property
    def _lp_other(self) -> dict:
        return self._fit.lp_other

    @property
    def _baseline(self) -> dict:
        return self._fit.baseline()

    def _full_stats(self) -> dict:
        s = dict(self._stats)
        s["concordance"], s["concordance_se"] = self._concordance
        s["time_unit"] = self.time_unit
        return s

    # -- the common interface ----------------------------------------------------------------
    def glance(self) -> pd.DataFrame:
        """One row: n, events, log-likelihoods, the three global tests, concordance (+ SE).

        Harrell's C and its SE are computed on the first call (O(n log n)) and cached.
        """
        return pd.DataFrame([self._full_stats()])

    def summary(self) -> Summary:
        est = self.estimator
        s = self._full_stats()
        unit = f" (timedeltas converted to {self.time_unit})" if self.time_unit else ""
        header = (
            ("duration", (est.duration if est.entry is None
                          else f"({est.entry}, {est.duration}]") + unit),
            ("event", est.event),
            ("ties", f"{est.ties} (R's coxph default is efron)"),
            ("variance", self._var.description),
            ("strata", ", ".join(est.strata) if est.strata else "(none)"),
            ("n", f"{self.n_obs} rows, {s['n_events']:g} events"),
            ("converged", f"{s['converged']} after {s['iterations']} iterations"),
        )
        cols = ["term", "hazard_ratio", "hr_conf_low", "hr_conf_high", "estimate", "std_error",
                "statistic", "p_value"]
        return Summary(title="Cox proportional hazards", header=header,
                       tables=(("Hazard ratios", self._table[cols]),
                               ("Global tests", self._tests_table(s))),
                       notes=self._notes(s) + self.warnings)

    def _tests_table(self, s: dict) -> pd.DataFrame:
        wald = "Wald (F with CR1)" if self._var.t_df is not None else "Wald"
        rows = [("likelihood ratio", s["lr_stat"], s["lr_p"]), (wald, s["wald_stat"], s["wald_p"]),
                ("score (log-rank)", s["score_stat"], s["score_p"])]
        if "robust_score_stat" in s:
            rows.append(("robust score", s["robust_score_stat"], s["robust_score_p"]))
        return pd.DataFrame([{"test": t, "statistic": v, "df": s["df"], "p_value": p}
                             for t, v, p in rows])

    def _notes(self, s: dict) -> tuple[str, ...]:
        level = self.estimator.conf_level
        if self._var.t_df is None:
            ci = f"Intervals are {level:.0%} Wald intervals on the log scale (normal reference)."
        else:
            ci = (f"Intervals are {level:.0%} intervals on the log scale with a t({self._var.t_df})"
                  " reference (CR1); the Wald test is W/df against F(df, G-1).")
        reason = self._fit.unavailable("Harrell's C (concordance)")
        if reason:
            return (f"Not computed: {reason}.", ci)
        return (f"Concordance (Harrell's C) {s['concordance']:.4f} (SE "
                f"{s['concordance_se']:.4f}).", ci)

    def plot(self, ax=None, **style):
        """Forest plot of the hazard ratios with their confidence intervals."""
        from ..plotting.cox import plot_hazard_ratios

        return plot_hazard_ratios(self, ax=ax, **style)

    # -- diagnostics -------------------------------------------------------------------------
    def check_proportional_hazards(self, transform: str = "km", terms: bool = True) -> pd.DataFrame:
        """Test of proportional hazards per term and GLOBAL, as R's ``cox.zph`` (survival >= 3).

        A score test of β(t) = β + θ·g(t) at (β̂, 0), using the information matrix of the model
        extended by all g(t)·x terms (not the older constant-variance approximation).

        Parameters
        ----------
        transform : {"km", "identity", "rank"}
            g(t): 1 − KM(t−) of the pooled data (R's default), t, or the rank of t.
        terms : bool
            True tests each term jointly (a factor gets one test with one df per level);
            False tests each coefficient.

        Returns
        -------
        DataFrame with ``term``, ``chisq``, ``df``, ``p_value``.
        """
        from .zph import zph_table

        check_choice("transform", transform, ("km", "identity", "rank"))
        self._need_diagnostics("to test proportional hazards")
        return zph_table(self, transform, terms)

    def plot_proportional_hazards(self, term: str, transform: str = "km", ax=None, **style):
        """Scaled Schoenfeld residuals for one term against transformed time, with a smooth."""
        from ..plotting.cox import plot_schoenfeld

        check_choice("transform", transform, ("km", "identity", "rank"))
        self._need_diagnostics("to test proportional hazards")
        self._need_rows("the plot of scaled Schoenfeld residuals")
        return plot_schoenfeld(self, term, transform=transform, ax=ax, **style)

    def plot_survival_curves(self, term: str | None = None, *, method: str = "direct",
                             ax=None, **style):
        """Plot :meth:`survival_curves` (adjusted survival per level of ``term``)."""
        from ..plotting.cox import plot_adjusted_curves

        return plot_adjusted_curves(self.survival_curves(term, method=method), ax=ax, **style)

    def _need_rows(self, what: str):
        reason = self._fit.unavailable(what)
        if reason:
            raise SpecificationError(reason)

    def _need_diagnostics(self, what: str):
        if self._zph is None:
            raise SpecificationError(
                f"this fit was run with diagnostics=False; refit with Cox(..., diagnostics=True) "
                f"{what}")

    def survival_curves(self, term: str | None = None, *, method: str = "direct",
                        times: Sequence[float] | None = None) -> pd.DataFrame:
        """Adjusted survival curves per level of a categorical ``term`` (e.g. the arm).

        ``method="direct"``: direct adjustment (the g-formula): everyone's covariates are kept
        and only ``term`` is set to each level; the curve is the average of the individual
        predicted survival curves. ``method="mean"``: one curve per level with the other
        covariates at their sample means (R's ``survfit(fit, newdata=)`` at the means).
        The baseline hazard is Breslow's (Efron-adjusted when ties="efron", as R); in a stratified
        model each row uses its own stratum's baseline (direct) or the curves are per stratum
        (mean).

        Returns
        -------
        DataFrame with ``level``, (``stratum``,) ``time``, ``estimate`` (survival).
        """
        from ._adjusted_curves import adjusted_curves

        check_choice("method", method, ("direct", "mean"))
        self._need_diagnostics("for adjusted survival curves")
        self._need_rows("survival_curves() (adjusted survival per level)")
        return adjusted_curves(self, term, method, times)
