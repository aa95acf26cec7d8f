"""Two-way fixed effects difference-in-differences with few-cluster inference.

``DiD`` regresses the outcome on the exposure indicator with unit and period fixed effects (our
own exact within transformation, see :mod:`causalips.did._within_ols`), clusters the standard
error (``vcov=Cluster(...)``: CR1 as fixest, ``G/(G-1) * (N-1)/(N-K)`` with K counting the
fixed-effect levels not nested in the clusters, and t with G-1 degrees of freedom), and offers
the inference that stays honest with few clusters through ``inference=`` or
``result.with_inference(...)``: wild cluster bootstrap (:class:`~causalips.WildBootstrap`),
randomization inference (:class:`~causalips.Randomization`) and Conley–Taber
(:class:`~causalips.ConleyTaber`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..base import Summary, tidy_frame
from ..errors import SpecificationError
from ..inference import Cluster, ConleyTaber, Randomization
from ..panel import Panel
from ._assignment import DesignSource, Timing
from ._fe_plan import FEPlan
from ._fe_result import FEResult, design_getter, fit_record, trends_table
from ._inference_rows import few_cluster_warnings, inference_table
from .randomization import single_terms


class DiDResult(FEResult):
    """A fitted two-way fixed effects DiD.

    ``tidy()`` has the ``"att"`` row (the exposure coefficient) and one row per covariate, with
    extras ``df`` and ``inference`` (which method produced p_value and the CI). ``variance`` is
    the variance spec (``Cluster``), ``inference`` the resampling spec or None; ``details``
    holds the bootstrap / randomization / Conley–Taber outcome (placebo distributions for
    plots).
    """

    def __init__(self, *, estimator, fit, source, variance: Cluster, inference, info, trends,
                 base_warnings, cache=None):
        cache = {} if cache is None else cache
        table, details, notes, warns = inference_table(
            fit, variance, inference, estimator.conf_level, single_terms(["att"]),
            design=design_getter(cache, source), cluster_name=info["cluster"],
            time_name=estimator.time)
        super().__init__(estimator=estimator, table=tidy_frame(table), n_obs=fit.n_obs,
                         warnings=tuple(base_warnings) + tuple(warns))
        self._init_common(fit=fit, source=source, variance=variance, inference=inference,
                          details=details, notes=notes, info=info, trends=trends,
                          base_warnings=base_warnings, cache=cache)
        self._freeze()

    @property
    def att(self) -> float:
        return float(self._table.loc[self._table["term"] == "att", "estimate"].iloc[0])

    def _rebuild(self, variance, inference) -> DiDResult:
        return DiDResult(estimator=self.estimator, fit=self.fit, source=self._source,
                         variance=variance, inference=inference, info=self.info,
                         trends=self.trends, base_warnings=self._base_warnings,
                         cache=self._cache)

    def summary(self) -> Summary:
        e = self.estimator
        header = (
            ("outcome", e.outcome),
            ("design", self._design_line()),
            ("fixed effects", " + ".join(e.fixed_effects) or "(none)"),
            ("inference", self._table["inference"].iloc[0]),
            ("computed on", self.info.get("engine", "rows")),
        )
        cols = ["term", "estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
        return Summary(title="Difference-in-differences (two-way fixed effects)", header=header,
                       tables=(("Estimates", self._table[cols]),),
                       notes=self.inference_notes + self.warnings)

    def plot(self, ax=None, *, kind: str = "trends", **style):
        """``kind="trends"`` (mean outcome by period, treated vs control) or ``"placebo"``
        (the randomization / Conley–Taber placebo distribution; needs that inference)."""
        from .._checks import check_choice
        from ..plotting.did import plot_placebo, plot_trends

        check_choice("kind", kind, ("trends", "placebo"))
        if kind == "placebo":
            if not isinstance(self.inference, Randomization | ConleyTaber):
                raise SpecificationError(
                    "the placebo plot needs randomization or Conley-Taber inference: "
                    "result.with_inference(Randomization()).plot(kind='placebo')"
                )
            return plot_placebo(self, ax=ax, **style)
        return plot_trends(self, ax=ax, **style)


class DiD(FEPlan):
    """Two-way fixed effects difference-in-differences.

    Parameters
    ----------
    outcome : str
        Outcome column (e.g. workdays in the year).
    unit, time : str
        Unit (person or municipality) and period (numeric, e.g. year) columns. With
        ``panel=False`` the unit is the level where treatment timing is set (the
        municipality).
    treatment : str, optional
        0/1 exposure column (absorbing). Give this or ``first_treated``.
    first_treated : str, optional
        First exposed period per unit; NaN, 0 or inf = never treated.
    cluster : str, optional
        Cluster column for inference (e.g. municipality); default ``unit``.
    fixed_effects : tuple of str
        Roles ``"unit"``, ``"time"``, ``"cluster"`` or other column names.
    covariates : sequence of str
        Time-varying controls.
    weights : str, optional
        Row weights (weighted least squares). Rows with weight 0 are dropped with a
        ``DroppedRowsWarning`` (N, K and the clusters count the remaining rows).
    vcov : Cluster, optional
        The variance: ``Cluster(cluster, correction="CR1")`` (the default, clustered on
        ``cluster``) or ``correction="CR0"``.
    inference : WildBootstrap, Randomization or ConleyTaber, optional
        Resampling inference for the p-value and interval of ``att`` (default: none, the
        analytic t(G-1) rows). The same specs work later through
        ``result.with_inference(spec)``, which reuses the fit. Each takes ``progress=False``
        to silence its progress bar. Passing them as ``vcov=`` is deprecated.
    conf_level : float
        Confidence level (default 0.95).
    cell_counts : str, optional
        The rows are cluster x period cells already aggregated (e.g. by DuckDB: ``count(*)``
        and ``avg(workdays)`` by municipality and year): this column holds the number of people
        in each cell and ``outcome`` is the cell mean; ``unit`` is then the municipality. The
        coefficient and CR1 SE equal those of the person-level regression with person (balanced
        panel) or municipality fixed effects, with N = the number of people (a municipality
        seen in one period only is kept, as in the person-level fit); ``r2_within`` refers to
        the cell means. Not together with ``weights``.
    panel : bool
        ``False`` for repeated cross-sections (different people each period, no person id, the
        common registry extract): ``unit`` is the municipality (where timing is set), rows need
        not be unique per unit and period, and the fixed effects ``("unit", "time")`` are
        municipality and period effects. Default True (a panel: one row per unit and period).

    Notes
    -----
    ``fit(data)`` takes a pandas DataFrame, or data held by an engine (a Parquet or CSV path,
    a DuckDB relation, a polars or pyarrow table, a Spark DataFrame): the engine computes
    the cell sums (cohort moments for StaggeredDiD) and the checks, with the same numbers as
    in memory; what does not reduce to them is refused naming the aggregation to do first
    (docs/scale.md).

    Returns
    -------
    DiDResult
        From :meth:`fit`; the effect is the tidy term ``"att"``.

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_norway_panel
    >>> panel = load_norway_panel()
    >>> res = ci.DiD(outcome="workdays", unit="person", time="year",
    ...              first_treated="first_treated", cluster="municipality").fit(panel)
    >>> round(res.att, 1) > 0
    True

    See Also
    --------
    EventStudy, causalips.panel.validate_panel, causalips.WildBootstrap, causalips.Randomization
    """

    _param_names = ("outcome", "unit", "time", "treatment", "first_treated", "cluster",
                    "fixed_effects", "covariates", "weights", "vcov", "inference", "conf_level",
                    "cell_counts", "panel")

    def __init__(self, *, outcome: str, unit: str, time: str, treatment: str | None = None,
                 first_treated: str | None = None, cluster: str | None = None,
                 fixed_effects: Sequence[str] = ("unit", "time"), covariates: Sequence[str] = (),
                 weights: str | None = None, vcov=None, inference=None, conf_level: float = 0.95,
                 cell_counts: str | None = None, panel: bool = True):
        self._validate_common(outcome=outcome, unit=unit, time=time, treatment=treatment,
                              first_treated=first_treated, cluster=cluster,
                              fixed_effects=fixed_effects, covariates=covariates, weights=weights,
                              vcov=vcov, inference=inference, conf_level=conf_level,
                              cell_counts=cell_counts, panel=panel)

    def fit(self, data) -> DiDResult:
        def build_x(panel: Panel):
            x = panel.treat[:, None]
            names = ("att",)
            if panel.covariates is not None:
                x = np.column_stack([x, panel.covariates])
                names += panel.covariate_names
            return x, names

        prep = self._prepare(data, build_x)
        info, warns = fit_record(prep)
        source = DesignSource(fit=prep.fit, fe=prep.fe, row_cell=prep.row_cell,
                              periods=prep.panel.periods, treat_terms=("att",), timing=Timing())
        variance = self.vcov or Cluster(prep.panel.cluster_name)
        return DiDResult(estimator=self, fit=prep.fit, source=source, variance=variance,
                         inference=self.inference, info=info,
                         trends=trends_table(prep.panel, prep.cells), base_warnings=warns)


__all__ = ["DiD", "DiDResult", "few_cluster_warnings", "inference_table"]
