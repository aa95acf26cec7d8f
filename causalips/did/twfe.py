"""Two-way fixed effects difference-in-differences with few-cluster inference.

``DiD`` regresses the outcome on the exposure indicator with unit and period fixed effects (our
own exact within transformation, see :mod:`causalips.did._engine`), clusters the standard error
(CR1 as fixest: ``G/(G-1) * (N-1)/(N-K)`` with K counting the fixed-effect levels not nested in
the clusters, and t with G-1 degrees of freedom), and offers the inference that stays honest with
few clusters through ``vcov=`` or ``result.with_inference(...)``: wild cluster bootstrap
(:class:`~causalips.WildBootstrap`), randomization inference (:class:`~causalips.Randomization`)
and Conley–Taber (:class:`ConleyTaber`).
"""

from __future__ import annotations

import dataclasses
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._checks import as_dataframe, check_range
from ..base import Estimator, Result, Summary, tidy_frame
from ..errors import DroppedRowsWarning, SpecificationError, StatisticalWarning
from ..inference import Cluster, Randomization, WildBootstrap
from ..panel import Panel, validate_panel
from ._engine import FixedEffects, LinearFit, drop_singletons, fit_linear
from .bootstrap import wild_bootstrap
from .conley_taber import ConleyTaber, conley_taber
from .randomization import assignment_design, randomization_test

FE_ROLES = ("unit", "time", "cluster")
FEW_CLUSTERS = 30
FEW_TREATED = 5
INFERENCE_TYPES = (Cluster, WildBootstrap, Randomization, ConleyTaber)
#: largest rows x cells product for which the randomization design is built automatically
AUTO_DESIGN_LIMIT = 30_000_000


def _check_fixed_effects(fixed_effects) -> tuple[str, ...]:
    if isinstance(fixed_effects, str):
        fixed_effects = (fixed_effects,)
    fe = tuple(fixed_effects or ())
    if not all(isinstance(f, str) for f in fe):
        raise SpecificationError(f"fixed_effects must be column roles or names; got {fe!r}")
    if len(set(fe)) != len(fe):
        raise SpecificationError(f"fixed_effects lists a factor twice: {fe!r}")
    return fe


def _check_vcov(vcov, cluster):
    if vcov is None:
        return None
    if not isinstance(vcov, INFERENCE_TYPES):
        raise SpecificationError(
            "vcov must be an inference spec: Cluster(...), WildBootstrap(...), "
            f"Randomization(...) or ConleyTaber(...); got {vcov!r}"
        )
    col = getattr(vcov, "cluster", None)
    if col is not None and cluster is not None and col != cluster:
        raise SpecificationError(
            f"vcov clusters on {col!r} but the plan's cluster= is {cluster!r}; set cluster={col!r}"
        )
    return vcov


def few_cluster_warnings(n_clusters: int, n_treated: int, cluster_name: str) -> list[str]:
    """The StatisticalWarning texts for designs with few (treated) clusters."""
    out = []
    if n_clusters < FEW_CLUSTERS or n_treated < FEW_TREATED:
        why = []
        if n_clusters < FEW_CLUSTERS:
            why.append(f"only {n_clusters} clusters ({cluster_name}) (< {FEW_CLUSTERS})")
        if n_treated < FEW_TREATED:
            why.append(f"only {n_treated} treated cluster(s) (< {FEW_TREATED})")
        out.append(
            f"{' and '.join(why)}: cluster-robust (CR1) standard errors over-reject in such "
            "designs. Check the result with result.with_inference(Randomization()) (exact, "
            "but its smallest p-value is 1/number of assignments), ConleyTaber() (one or few "
            "treated clusters), or WildBootstrap(restricted=True) (very conservative with one "
            "treated cluster); see docs/did.md"
        )
    return out


@dataclass(frozen=True)
class _Prepared:
    panel: Panel
    fe: FixedEffects
    fit: LinearFit
    xd: np.ndarray
    yd: np.ndarray
    keep: np.ndarray
    n_dropped: int
    notes: tuple[str, ...]
    row_cluster: np.ndarray  # original cluster code of each fitted row (or cell)
    row_time: np.ndarray
    row_treat: np.ndarray
    fast: bool = False
    cells: tuple | None = None
    row_people: np.ndarray | None = None


class _FEPlan(Estimator):
    """Shared parts of DiD and EventStudy (panel validation, FE fit, inference)."""

    def _validate_common(self, *, outcome, unit, time, treatment, first_treated, cluster,
                         fixed_effects, covariates, weights, vcov, conf_level, cell_counts=None):
        if (treatment is None) == (first_treated is None):
            raise SpecificationError(
                "give exactly one of treatment= (0/1 exposure column) or first_treated= (first "
                "exposed period per unit; NaN/0/inf = never treated)"
            )
        self.outcome, self.unit, self.time = outcome, unit, time
        self.treatment, self.first_treated = treatment, first_treated
        self.fixed_effects = _check_fixed_effects(fixed_effects)
        if isinstance(covariates, str):
            covariates = (covariates,)
        self.covariates = tuple(covariates or ())
        self.weights = weights
        if cell_counts is not None and weights is not None:
            raise SpecificationError(
                "give weights= or cell_counts=, not both: with cell_counts the rows are cells "
                "weighted by their number of people"
            )
        self.cell_counts = cell_counts
        if cluster is None and vcov is not None:
            cluster = getattr(vcov, "column", None) or getattr(vcov, "cluster", None)
        self.cluster = cluster
        self.vcov = _check_vcov(vcov, cluster)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)

    def _fe_columns(self, df: pd.DataFrame) -> list[tuple[str, np.ndarray, int]]:
        return []

    def _prepare(self, data, build_x) -> _Prepared:
        df = as_dataframe(data)
        extra_fe = [f for f in self.fixed_effects if f not in FE_ROLES]
        from .._checks import check_columns

        check_columns(df, {f"fixed effect {f!r}": f for f in extra_fe})
        panel = validate_panel(
            df, outcome=self.outcome, unit=self.unit, time=self.time, treatment=self.treatment,
            first_treated=self.first_treated, cluster=self.cluster,
            weights=self.weights if self.cell_counts is None else self.cell_counts,
            covariates=self.covariates, always_treated="keep",
        )
        codes, levels, names = [], [], []
        for f in self.fixed_effects:
            if f == "unit":
                c, lv = panel.unit_codes, panel.n_units
            elif f == "time":
                c, lv = panel.time_codes, panel.n_periods
            elif f == "cluster":
                c, lv = panel.cluster_codes, panel.n_clusters
            else:
                c, labels = pd.factorize(df[f], sort=True)
                if (c < 0).any():
                    raise SpecificationError(f"fixed effect column {f!r} has missing values")
                lv = len(labels)
            codes.append(np.asarray(c, dtype=np.int64))
            levels.append(int(lv))
            names.append(f)
        x, xnames = build_x(panel)
        fast = self._fast_path(panel, x, xnames)
        if fast is not None:
            return fast
        keep = drop_singletons(codes) if codes else np.ones(panel.n_obs, dtype=bool)
        n_dropped = int((~keep).sum())
        notes = list(panel.warnings)
        y = panel.outcome
        w = panel.weights if panel.weights is not None else np.ones(panel.n_obs)
        cl, tc = panel.cluster_codes, panel.time_codes
        n_cl = panel.n_clusters
        if n_dropped:
            msg = (f"{n_dropped} rows dropped: singletons of a fixed effect (alone in their "
                   "level, they carry no information), as fixest does")
            notes.append(msg)
            _warnings.warn(msg, DroppedRowsWarning, stacklevel=3)
            codes = [pd.factorize(c[keep])[0].astype(np.int64) for c in codes]
            levels = [int(c.max()) + 1 for c in codes]
            y, x, w, tc = y[keep], x[keep], w[keep], tc[keep]
            cl_codes, cl_labels = pd.factorize(cl[keep], sort=True)
            cl, n_cl = cl_codes.astype(np.int64), len(cl_labels)
        fe = FixedEffects.build(codes, levels, names, w)
        total, nested_levels, n_nested = fe.dof(cl, n_cl)
        k_fe = total - nested_levels + n_nested if codes else 0
        if not codes:
            x = np.column_stack([np.ones(y.size), x])
            xnames = ("(intercept)",) + tuple(xnames)
        fit, xd, yd = fit_linear(y, x, tuple(xnames), fe, cl, n_cl, tc, panel.n_periods, k_fe)
        people = None
        if self.cell_counts is not None:  # rows are cells: N counts people
            people = w
            fit = dataclasses.replace(fit, n_obs=int(round(float(w.sum()))))
        return _Prepared(panel=panel, fe=fe, fit=fit, xd=xd, yd=yd, keep=keep,
                         n_dropped=n_dropped, notes=tuple(notes),
                         row_cluster=panel.cluster_codes[keep], row_time=panel.time_codes[keep],
                         row_treat=panel.treat[keep], row_people=people)

    def _fast_path(self, panel: Panel, x: np.ndarray, xnames) -> _Prepared | None:
        """Fit on cluster x period cell sufficient statistics when that is exact.

        Exact (same coefficients, same CR1 scores) when the regressors are constant within
        cluster x period cells, there are no weights, and the fixed effects are either
        (cluster, period) or (unit, period) with every unit observed in every period and
        staying in one cluster: unit demeaning then acts on cell sums. N and K of the
        small-sample factor are the person-level ones (K = k + periods in both cases).
        """
        fes = set(self.fixed_effects)
        if panel.weights is not None or len(self.fixed_effects) != 2:
            return None
        unit_fe = fes == {"unit", "time"} and panel.balanced and panel.unit_in_cluster
        if not (unit_fe or fes == {"cluster", "time"}):
            return None
        if panel.treatment_varies_within_cell:
            return None
        t_n = panel.n_periods
        m = panel.n_clusters * t_n
        if panel.cell_stats is not None:
            cell, cnt, d_sum = panel.cell_stats
            cnt = cnt.astype(np.float64)
        else:
            cell = panel.cell_codes()
            cnt = np.bincount(cell, minlength=m).astype(np.float64)
            d_sum = np.bincount(cell, weights=panel.treat, minlength=m)
        present = np.flatnonzero(cnt > 0)
        xc = np.empty((present.size, x.shape[1]))
        for j in range(x.shape[1]):  # a few regressor columns
            if xnames[j] == "att":
                xc[:, j] = d_sum[present] / cnt[present]  # exposure is cell-level
                continue
            mean = np.bincount(cell, weights=x[:, j], minlength=m) / np.maximum(cnt, 1)
            if np.any(x[:, j] != mean[cell]):
                return None  # regressor varies within a cell: use the row-level engine
            xc[:, j] = mean[present]
        y = panel.outcome
        s1 = np.bincount(cell, weights=y, minlength=m)
        s2 = np.bincount(cell, weights=y * y, minlength=m)
        n = cnt[present]
        ym = s1[present] / n
        cl = present // t_n
        tc = present % t_n
        kept_cl, cl_codes = np.unique(cl, return_inverse=True)
        fe = FixedEffects.build([cl_codes, tc], [kept_cl.size, t_n], ["cluster", "time"], n)
        if np.any(np.bincount(cl_codes) < 2) or np.any(np.bincount(tc) < 2):
            return None  # singletons: leave them to the row-level engine
        k_fe = t_n  # unit (or cluster) FE nested in clusters: K = k + periods
        fit, xd, yd = fit_linear(ym, xc, tuple(xnames), fe, cl_codes, kept_cl.size, tc, t_n, k_fe)
        # person-level N and sums of squares
        within_cell = float(np.sum(s2[present] - s1[present] ** 2 / n))
        if unit_fe:
            su = np.bincount(panel.unit_codes, weights=y, minlength=panel.n_units)
            unit_ss = float(np.sum(s2) - np.sum(su**2) / t_n)
            mg = np.bincount(cl_codes, weights=n * ym) / np.bincount(cl_codes, weights=n)
            between = float(np.sum(n * (ym - mg[cl_codes]) ** 2))
            within_cell = unit_ss - between
        resid = yd - xd @ fit.coef
        fit = dataclasses.replace(fit, n_obs=panel.n_obs,
                                  rss=within_cell + float(np.sum(n * resid**2)),
                                  tss_within=within_cell + float(np.sum(n * yd**2)))
        return _Prepared(panel=panel, fe=fe, fit=fit, xd=xd, yd=yd,
                         keep=np.ones(panel.n_obs, dtype=bool), n_dropped=0,
                         notes=tuple(panel.warnings), row_cluster=cl, row_time=tc,
                         row_treat=xc[:, list(xnames).index("att")] if "att" in xnames
                         else np.zeros(present.size), fast=True,
                         cells=(cl, tc, n, s1[present], panel.cluster_treated[cl]))

    def _design(self, prep: _Prepared, treat_col: int, force: bool):
        """The randomization design when treatment timing is cluster-level (else None)."""
        panel = prep.panel
        n_cells_max = panel.n_clusters * panel.n_periods
        if panel.treatment_varies_within_cell:
            if force:
                raise SpecificationError(
                    "randomization inference and Conley-Taber need exposure set at the cluster "
                    "x period level; here it varies within cluster-period cells. Use "
                    "WildBootstrap instead."
                )
            return None
        if not force and prep.yd.size * n_cells_max > AUTO_DESIGN_LIMIT:
            return None
        fit = prep.fit
        cell_full = prep.row_cluster * panel.n_periods + prep.row_time
        present, cell = np.unique(cell_full, return_inverse=True)
        kept_clusters = np.unique(prep.row_cluster)
        cell_cluster = np.searchsorted(kept_clusters, present // panel.n_periods)
        cell_period = panel.periods[present % panel.n_periods]
        d_cell = np.bincount(cell, weights=prep.row_treat, minlength=present.size) > 0
        first_cl = np.full(kept_clusters.size, np.inf)
        np.minimum.at(first_cl, cell_cluster, np.where(d_cell, cell_period, np.inf))
        if np.any((cell_period >= first_cl[cell_cluster]) != d_cell):
            if force:
                raise SpecificationError(
                    "randomization inference and Conley-Taber re-assign a cluster's treatment "
                    "timing, but exposure here is not absorbing at the cluster level (a cluster "
                    "has unexposed periods after its first exposed period). Use WildBootstrap."
                )
            return None
        xcov = np.delete(prep.xd, treat_col, axis=1)
        return assignment_design(prep.fe, cell.astype(np.int64), present.size, cell_cluster,
                                 cell_period, first_cl, prep.yd, xcov, fit.coef[treat_col],
                                 row_people=prep.fe.weights if prep.fast else prep.row_people)


def _t_rows(fit: LinearFit, conf_level: float, correction: str) -> pd.DataFrame:
    vc = fit.vcov(correction)
    se = np.sqrt(np.diag(vc))
    df = fit.n_clusters - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        t = fit.coef / se
    p = 2 * stats.t.sf(np.abs(t), df)
    q = stats.t.ppf(0.5 + conf_level / 2, df)
    return pd.DataFrame({"term": list(fit.names), "estimate": fit.coef, "std_error": se,
                         "statistic": t, "p_value": p, "conf_low": fit.coef - q * se,
                         "conf_high": fit.coef + q * se, "df": float(df),
                         "inference": f"cluster-robust {correction}, t({df})"})


def inference_table(fit, spec, conf_level, terms, design, n_clusters_label="", time_name=""):
    """Tidy rows for ``fit`` under the inference ``spec``; also returns details and notes."""
    correction = (spec.correction or "CR1") if isinstance(spec, Cluster) else "CR1"
    table = _t_rows(fit, conf_level, correction)
    details = {}
    notes = []
    if isinstance(spec, WildBootstrap):
        if spec.subcluster not in (None, time_name, "cell"):
            raise SpecificationError(
                f"WildBootstrap(subcluster={spec.subcluster!r}): the subcluster variant draws "
                f"weights per cluster x period cell; pass subcluster={time_name!r} (or 'cell')"
            )
        label = (f"wild cluster bootstrap ({'WCR' if spec.restricted else 'WCU'}, "
                 f"{spec.weights}{', subcluster' if spec.subcluster else ''})")
        for term in terms:
            out = wild_bootstrap(fit, term, reps=spec.reps, weights=spec.weights,
                                 restricted=spec.restricted, subcluster=spec.subcluster is not None,
                                 seed=spec.seed, conf_level=conf_level)
            i = fit.names.index(term)
            table.loc[i, ["p_value", "conf_low", "conf_high"]] = [out.p_value, out.conf_low,
                                                                   out.conf_high]
            table.loc[i, "inference"] = label
            table.loc[i, "df"] = np.nan
            details[term] = out
        o = next(iter(details.values()), None)
        notes.append(
            "" if o is None else f"{label}: {o.reps} draws{' (full enumeration of all sign vectors)' if o.enumerated else ''}"
            f" over {o.n_boot_clusters} bootstrap clusters; p-value symmetric bootstrap-t; "
            f"{'CI by test inversion' if spec.restricted else 'CI percentile-t (symmetric)'}; "
            "std_error is CR1"
        )
    elif isinstance(spec, Randomization):
        if design is None:
            raise SpecificationError(
                "randomization inference needs the assignment design, which was not built for "
                "this fit (many rows x cells, or person-level timing). Refit with "
                "vcov=Randomization(...) in the plan."
            )
        out = randomization_test(design, reps=spec.reps, seed=spec.seed, alpha=1 - conf_level)
        i = fit.names.index(terms[0])
        table.loc[i, ["p_value", "conf_low", "conf_high", "statistic", "df"]] = [
            out.p_value, out.conf_low, out.conf_high, np.nan, np.nan]
        table.loc[i, "inference"] = "randomization inference (re-assigned across clusters)"
        details[terms[0]] = out
        notes.append(out.statement + " (std_error is CR1, for reference)")
    elif isinstance(spec, ConleyTaber):
        if design is None:
            raise SpecificationError(
                "Conley-Taber needs the assignment design, which was not built for this fit. "
                "Refit with vcov=ConleyTaber() in the plan."
            )
        out = conley_taber(design, conf_level=conf_level, reps=spec.reps, seed=spec.seed,
                           heteroskedasticity=spec.heteroskedasticity)
        i = fit.names.index(terms[0])
        table.loc[i, ["p_value", "conf_low", "conf_high", "statistic", "df"]] = [
            out.p_value, out.conf_low, out.conf_high, np.nan, np.nan]
        table.loc[i, "inference"] = ("Conley-Taber, Ferman-Pinto size correction"
                                     if spec.heteroskedasticity else "Conley-Taber")
        details[terms[0]] = out
        notes.append(out.statement)
    else:
        k = fit.k_total
        notes.append(
            f"standard errors clustered by {n_clusters_label} ({fit.n_clusters} clusters), "
            f"{correction}: "
            + ("G/(G-1)*(N-1)/(N-K) with N = "
               f"{fit.n_obs} rows and K = {k} (regressors plus fixed-effect levels not nested in "
               "the clusters, fixest's rule)" if correction == "CR1" else "no small-sample factor")
            + f"; t-inference with G-1 = {fit.n_clusters - 1} df"
        )
    return table, details, notes


class _FEResult(Result):
    """Shared parts of DiD and event-study results."""

    def _init_common(self, *, fit, design, inference, details, notes, info, trends):
        self.fit = fit
        self._design = design
        self.inference = inference
        self.details = details
        self.inference_notes = tuple(notes)
        self.info = info
        self.trends = trends

    @property
    def n_clusters(self) -> int:
        return self.fit.n_clusters

    def vcov_matrix(self) -> pd.DataFrame:
        """CR1 covariance of the coefficients (named)."""
        names = list(self.fit.names)
        return pd.DataFrame(self.fit.vcov(), index=names, columns=names)

    def with_inference(self, spec):
        """A new result with the same fit and different inference (the fit is not redone)."""
        spec = _check_vcov(spec, self.estimator.cluster)
        if spec is None:
            spec = Cluster(self.info["cluster"])
        return self._rebuild(spec)

    def glance(self) -> pd.DataFrame:
        i = self.info
        row = {"n_obs": self.n_obs, "n_units": i["n_units"], "n_periods": i["n_periods"],
               "n_clusters": self.fit.n_clusters, "n_treated_clusters": i["n_treated_clusters"],
               "k": self.fit.k_total, "r2_within": 1 - self.fit.rss / self.fit.tss_within
               if self.fit.tss_within > 0 else np.nan,
               "fixed_effects": "+".join(self.estimator.fixed_effects) or "(none)",
               "vcov": type(self.inference).__name__, "n_dropped": i["n_dropped"]}
        reps = getattr(self.inference, "reps", None)
        row["reps"] = reps if reps is not None else np.nan
        row["seed"] = getattr(self.inference, "seed", None)
        return pd.DataFrame([row])


class DiDResult(_FEResult):
    """A fitted two-way fixed effects DiD.

    ``tidy()`` has the ``"att"`` row (the exposure coefficient) and one row per covariate, with
    extras ``df`` and ``inference`` (which method produced p_value and the CI). ``details`` holds
    the bootstrap / randomization / Conley–Taber outcome (placebo distributions for plots).
    """

    def __init__(self, *, estimator, table, n_obs, warnings, fit, design, inference, details,
                 notes, info, trends):
        super().__init__(estimator=estimator, table=table, n_obs=n_obs, warnings=warnings)
        self._init_common(fit=fit, design=design, inference=inference, details=details,
                          notes=notes, info=info, trends=trends)
        self._freeze()

    @property
    def att(self) -> float:
        return float(self._table.loc[self._table["term"] == "att", "estimate"].iloc[0])

    def _rebuild(self, spec) -> DiDResult:
        table, details, notes = inference_table(self.fit, spec, self.estimator.conf_level,
                                                ["att"], self._design, self.info["cluster"],
                                                self.estimator.time)
        return DiDResult(estimator=self.estimator, table=tidy_frame(table), n_obs=self.n_obs,
                         warnings=self.warnings, fit=self.fit, design=self._design,
                         inference=spec, details=details, notes=notes, info=self.info,
                         trends=self.trends)

    def summary(self) -> Summary:
        e = self.estimator
        i = self.info
        header = (
            ("outcome", e.outcome),
            ("design", f"{i['n_units']} units, {i['n_periods']} periods, {self.fit.n_clusters} "
                       f"clusters ({i['cluster']}), {i['n_treated_clusters']} treated"),
            ("fixed effects", " + ".join(e.fixed_effects) or "(none)"),
            ("inference", self._table["inference"].iloc[0]),
            ("computed on", i.get("engine", "rows")),
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


def trends_table(panel: Panel, cells=None) -> pd.DataFrame:
    """Mean outcome by period for ever-treated and never-treated units (weighted).

    ``cells`` = (cluster, period code, count, sum of y, treated flag) per cluster x period cell
    lets the fast path build it without another pass over rows (clusters as the groups).
    """
    m = 2 * panel.n_periods
    if cells is not None:
        cl, tc, cnt, s1, treated = cells
        key = treated.astype(np.int64) * panel.n_periods + tc
        sw = np.bincount(key, weights=cnt, minlength=m)
        sy = np.bincount(key, weights=s1, minlength=m)
        n = sw.astype(np.int64)
    else:
        w = panel.weights if panel.weights is not None else np.ones(panel.n_obs)
        grp = panel.treated_units[panel.unit_codes].astype(np.int64)
        key = grp * panel.n_periods + panel.time_codes
        sw = np.bincount(key, weights=w, minlength=m)
        sy = np.bincount(key, weights=w * panel.outcome, minlength=m)
        n = np.bincount(key, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sy / sw
    first = panel.first_treated[np.isfinite(panel.first_treated)]
    return pd.DataFrame({
        "group": np.repeat(["control", "treated"], panel.n_periods),
        "time": np.tile(panel.periods, 2), "mean": mean, "n": n,
        "first_treated": float(first.min()) if first.size else np.nan,
    })


def run_inference_and_warn(plan, prep: _Prepared, table_terms, force_design: bool):
    """Common tail of fit(): design, warnings, inference table."""
    panel = prep.panel
    spec = plan.vcov if plan.vcov is not None else Cluster(panel.cluster_name)
    needs = isinstance(spec, Randomization | ConleyTaber)
    design = None
    if "att" in prep.fit.names:
        design = plan._design(prep, prep.fit.names.index("att"), force=needs or force_design)
    n_treated = panel.n_treated_clusters
    warns = list(prep.notes)
    few = few_cluster_warnings(prep.fit.n_clusters, n_treated, panel.cluster_name)
    for m in few:
        _warnings.warn(m, StatisticalWarning, stacklevel=3)
    warns += few
    table, details, notes = inference_table(prep.fit, spec, plan.conf_level, table_terms, design,
                                            panel.cluster_name, plan.time)
    info = {"n_units": panel.n_units, "n_periods": panel.n_periods, "cluster": panel.cluster_name,
            "n_treated_clusters": n_treated, "n_dropped": prep.n_dropped,
            "periods": panel.periods.tolist(),
            "engine": ("cell sufficient statistics" if prep.fast else
                       "cell sufficient statistics (given)" if plan.cell_counts else "rows"),
            "n_rows": int(prep.yd.size) if not prep.fast else int(panel.n_obs)}
    return spec, design, table, details, notes, warns, info


class DiD(_FEPlan):
    """Two-way fixed effects difference-in-differences.

    Parameters
    ----------
    outcome : str
        Outcome column (e.g. workdays in the year).
    unit, time : str
        Unit (person or municipality) and period (numeric, e.g. year) columns.
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
        Row weights (weighted least squares).
    vcov : Cluster, WildBootstrap, Randomization or ConleyTaber, optional
        Inference; default CR1 clustered on ``cluster``.
    conf_level : float
        Confidence level (default 0.95).
    cell_counts : str, optional
        The rows are cluster x period cells already aggregated (e.g. by DuckDB: ``count(*)``
        and ``avg(workdays)`` by municipality and year): this column holds the number of people
        in each cell and ``outcome`` is the cell mean; ``unit`` is then the municipality. The
        coefficient and CR1 SE equal those of the person-level regression with person (balanced
        panel) or municipality fixed effects, with N = the number of people; ``r2_within``
        refers to the cell means. Not together with ``weights``.

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
                    "fixed_effects", "covariates", "weights", "vcov", "conf_level",
                    "cell_counts")

    def __init__(self, *, outcome: str, unit: str, time: str, treatment: str | None = None,
                 first_treated: str | None = None, cluster: str | None = None,
                 fixed_effects: Sequence[str] = ("unit", "time"), covariates: Sequence[str] = (),
                 weights: str | None = None, vcov=None, conf_level: float = 0.95,
                 cell_counts: str | None = None):
        self._validate_common(outcome=outcome, unit=unit, time=time, treatment=treatment,
                              first_treated=first_treated, cluster=cluster,
                              fixed_effects=fixed_effects, covariates=covariates, weights=weights,
                              vcov=vcov, conf_level=conf_level, cell_counts=cell_counts)

    def fit(self, data) -> DiDResult:
        def build_x(panel: Panel):
            x = panel.treat[:, None]
            names = ("att",)
            if panel.covariates is not None:
                x = np.column_stack([x, panel.covariates])
                names += panel.covariate_names
            return x, names

        prep = self._prepare(data, build_x)
        spec, design, table, details, notes, warns, info = run_inference_and_warn(
            self, prep, ["att"], force_design=False)
        return DiDResult(estimator=self, table=tidy_frame(table), n_obs=prep.fit.n_obs,
                         warnings=warns, fit=prep.fit, design=design, inference=spec,
                         details=details, notes=notes, info=info,
                         trends=trends_table(prep.panel, prep.cells))


__all__ = ["DiD", "DiDResult", "few_cluster_warnings", "inference_table"]
