"""The plan shared by DiD and EventStudy: options checked once, the panel prepared and fitted.

``vcov=`` takes the variance (``Cluster``: CR1 by default, or CR0); ``inference=`` the resampling
method that replaces the analytic p-values and intervals (``WildBootstrap``, ``Randomization``,
``ConleyTaber``). Resampling specs passed as ``vcov=`` still work, with a ``FutureWarning``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._checks import as_dataframe, check_columns, check_range
from ..base import Estimator
from ..engine import is_in_memory
from ..errors import DataError, DroppedRowsWarning, SpecificationError, warn
from ..inference import Cluster, ConleyTaber, Randomization, WildBootstrap
from ..panel import Panel, validate_panel
from ._cell_fit import fit_on_cells
from ._engine_panel import cell_rows_in_memory, prepare_in_engine, refuse_unpushable
from ._within_ols import FixedEffects, LinearFit, drop_singletons, fit_linear

FE_ROLES = ("unit", "time", "cluster")
RESAMPLING = (WildBootstrap, Randomization, ConleyTaber)


def check_fixed_effects(fixed_effects) -> tuple[str, ...]:
    if isinstance(fixed_effects, str):
        fixed_effects = (fixed_effects,)
    fe = tuple(fixed_effects or ())
    if not all(isinstance(f, str) for f in fe):
        raise SpecificationError(f"fixed_effects must be column roles or names; got {fe!r}")
    if len(set(fe)) != len(fe):
        raise SpecificationError(f"fixed_effects lists a factor twice: {fe!r}")
    return fe


def split_spec(spec, cluster: str | None, where: str):
    """(variance spec or None, resampling spec or None) for one spec of either kind."""
    if spec is None:
        return None, None
    if isinstance(spec, Cluster):
        check_cluster(spec, cluster)
        return spec, None
    if isinstance(spec, RESAMPLING):
        check_cluster(spec, cluster)
        return None, spec
    names = "Cluster(), WildBootstrap(), Randomization() or ConleyTaber()"
    raise SpecificationError(f"{where} takes {names}; got {spec!r}")


def check_cluster(spec, cluster: str | None) -> None:
    col = getattr(spec, "cluster", None)
    if col is not None and cluster is not None and col != cluster:
        raise SpecificationError(
            f"{type(spec).__name__} clusters on {col!r} but the plan's cluster= is {cluster!r}; "
            f"set cluster={col!r}")


def plan_specs(vcov, inference, cluster, name: str):
    """Check ``vcov=`` (variance) and ``inference=`` (resampling); move old resampling vcov=."""
    if vcov is not None and not isinstance(vcov, Cluster):
        if isinstance(vcov, RESAMPLING):
            if inference is not None:
                raise SpecificationError(f"{name}: pass the resampling spec once, as inference=")
            warn(f"{name}(vcov={type(vcov).__name__}(...)) is deprecated: vcov= takes the "
                f"variance (Cluster), resampling goes to inference={type(vcov).__name__}(...); "
                "vcov= will refuse it in the next release", FutureWarning)
            vcov, inference = None, vcov
        else:
            raise SpecificationError(
                f"{name}(vcov=) takes a variance spec, Cluster(...) (CR1 by default); resampling "
                f"(WildBootstrap, Randomization, ConleyTaber) goes to inference=; got {vcov!r}")
    if inference is not None and not isinstance(inference, RESAMPLING):
        raise SpecificationError(
            f"{name}(inference=) takes WildBootstrap(), Randomization() or ConleyTaber(); "
            f"variance specs go to vcov=; got {inference!r}")
    if cluster is None:
        cluster = getattr(vcov, "cluster", None) or getattr(inference, "cluster", None)
    for spec in (vcov, inference):
        if spec is not None:
            check_cluster(spec, cluster)
    return vcov, inference, cluster


@dataclass(frozen=True, eq=False)
class Prepared:
    """A fitted plan before inference: the panel, the fit and what lazy inference needs."""

    panel: Panel
    fe: FixedEffects
    fit: LinearFit
    row_cell: np.ndarray  # cell of each fitted row
    n_dropped: int
    notes: tuple[str, ...]
    engine: str
    cells: tuple | None = None  # (cluster, period code, count, sum y, treated) for trends


class FEPlan(Estimator):
    """Shared parts of DiD and EventStudy (options, panel validation, the fixed-effects fit)."""

    def _validate_common(self, *, outcome, unit, time, treatment, first_treated, cluster,
                         fixed_effects, covariates, weights, vcov, inference, conf_level,
                         cell_counts, panel):
        if (treatment is None) == (first_treated is None):
            raise SpecificationError(
                "give exactly one of treatment= (0/1 exposure column) or first_treated= (first "
                "exposed period per unit; NaN/0/inf = never treated)"
            )
        self.outcome, self.unit, self.time = outcome, unit, time
        self.treatment, self.first_treated = treatment, first_treated
        self.fixed_effects = check_fixed_effects(fixed_effects)
        if isinstance(covariates, str):
            covariates = (covariates,)
        self.covariates = tuple(covariates or ())
        self.weights = weights
        if cell_counts is not None and weights is not None:
            raise SpecificationError(
                "give weights= or cell_counts=, not both: with cell_counts the rows are cells "
                "weighted by their number of people"
            )
        if cell_counts is not None and not panel:
            raise SpecificationError("cell_counts= rows are already cells: leave panel=True")
        self.cell_counts = cell_counts
        if not isinstance(panel, bool):
            raise SpecificationError(f"panel must be True or False; got {panel!r}")
        self.panel = panel
        self.vcov, self.inference, self.cluster = plan_specs(vcov, inference, cluster,
                                                             type(self).__name__)
        self.conf_level = check_range("conf_level", conf_level, 0, 1)

    def _validated_panel(self, df: pd.DataFrame) -> Panel:
        extra_fe = [f for f in self.fixed_effects if f not in FE_ROLES]
        check_columns(df, {f"fixed effect {f!r}": f for f in extra_fe})
        if self.cell_counts is not None:
            check_columns(df, {"cell_counts": self.cell_counts})
            counts = pd.to_numeric(df[self.cell_counts], errors="coerce").to_numpy(float)
            frac = np.isfinite(counts) & (counts != np.round(counts))
            if frac.any():
                raise DataError(
                    f"column {self.cell_counts!r} (the cell_counts) must hold whole numbers of "
                    f"people; {int(frac.sum())} rows do not (e.g. {counts[frac][0]!r})")
        return validate_panel(
            df, outcome=self.outcome, unit=self.unit, time=self.time, treatment=self.treatment,
            first_treated=self.first_treated, cluster=self.cluster,
            weights=self.weights if self.cell_counts is None else self.cell_counts,
            covariates=self.covariates, always_treated="keep", panel=self.panel,
        )

    def _fe_codes(self, df: pd.DataFrame, panel: Panel):
        codes, levels = [], []
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
                    raise DataError(f"fixed effect column {f!r} has {int((c < 0).sum())} "
                                    "missing values; give them a level or drop the rows")
                lv = len(labels)
            codes.append(np.asarray(c, dtype=np.int64))
            levels.append(int(lv))
        return codes, levels

    #: an event study: the engine path needs each row's first exposed period
    _event_study = False

    def _prepare(self, data, build_x) -> Prepared:
        if not is_in_memory(data):
            if self.cell_counts is None:
                refuse_unpushable(self, sun_abraham=getattr(self, "method", "") == "sun_abraham")
                return Prepared(**prepare_in_engine(self, data, build_x,
                                                    event_study=self._event_study))
            data = cell_rows_in_memory(self, data)  # the rows are cells already: a summary
        df = as_dataframe(data)
        panel = self._validated_panel(df)
        if panel.dropped_zero_weight:
            df = df.loc[_positive(df, self.weights or self.cell_counts)]
        x, xnames = build_x(panel)
        fast = fit_on_cells(panel, self.fixed_effects, x, xnames)
        if fast is not None:
            fit, fe, row_cell, cells = fast
            return Prepared(panel=panel, fe=fe, fit=fit, row_cell=row_cell, n_dropped=0,
                            notes=panel.warnings, engine="cell sufficient statistics",
                            cells=cells)
        codes, levels = self._fe_codes(df, panel)
        counts = panel.weights if self.cell_counts is not None else None
        keep = drop_singletons(codes, counts) if codes else np.ones(panel.n_obs, dtype=bool)
        notes = list(panel.warnings)
        n_dropped = int((~keep).sum())
        if n_dropped:
            _check_something_left(keep, codes, self.fixed_effects, panel)
            msg = (f"{n_dropped} rows dropped: singletons of a fixed effect (alone in their "
                   "level, they carry no information), as fixest does")
            notes.append(msg)
            warn(msg, DroppedRowsWarning, n_dropped=n_dropped)
        fit, fe, row_cell = self._fit_rows(panel, codes, levels, keep, x, xnames)
        engine = "cell sufficient statistics (given)" if self.cell_counts else "rows"
        return Prepared(panel=panel, fe=fe, fit=fit, row_cell=row_cell, n_dropped=n_dropped,
                        notes=tuple(notes), engine=engine)

    def _fit_rows(self, panel: Panel, codes, levels, keep, x, xnames):
        """The row-level within fit (any fixed effects, weights, covariates)."""
        y, tc, d = panel.outcome, panel.time_codes, panel.treat
        w = panel.weights if panel.weights is not None else np.ones(panel.n_obs)
        cl, n_cl = panel.cluster_codes, panel.n_clusters
        if not keep.all():
            codes = [pd.factorize(c[keep])[0].astype(np.int64) for c in codes]
            levels = [int(c.max()) + 1 for c in codes]
            y, x, w, tc, d = y[keep], x[keep], w[keep], tc[keep], d[keep]
            cl_codes, cl_labels = pd.factorize(cl[keep], sort=True)
            cl, n_cl = cl_codes.astype(np.int64), len(cl_labels)
        fe = FixedEffects.build(codes, levels, list(self.fixed_effects), w)
        total, nested_levels, n_nested = fe.dof(cl, n_cl)
        k_fe = total - nested_levels + n_nested if codes else 0
        if not codes:
            x = np.column_stack([np.ones(y.size), x])
            xnames = ("(intercept)",) + tuple(xnames)
        people = w if self.cell_counts is not None else None
        fit, row_cell = fit_linear(y, x, tuple(xnames), fe, cl, n_cl, tc, panel.n_periods, k_fe,
                                   exposure=d, people=people)
        if people is not None:  # rows are cells: N counts people
            fit = dataclasses.replace(fit, n_obs=int(round(float(w.sum()))))
        return fit, fe, row_cell


def _positive(df: pd.DataFrame, col: str) -> np.ndarray:
    return pd.to_numeric(df[col], errors="coerce").to_numpy(float) > 0


def _check_something_left(keep, codes, names, panel: Panel) -> None:
    """Refuse clearly when dropping fixed-effect singletons leaves nothing to compare."""
    if keep.any() and np.any(panel.treat[keep] > 0) and np.any(panel.treat[keep] == 0):
        return
    levels = ", ".join(f"{n} {int(np.max(c)) + 1} levels" for n, c in zip(names, codes))
    left = "no rows are left" if not keep.any() else "no exposed or no unexposed rows are left"
    raise DataError(
        f"after dropping fixed-effect singletons (levels with a single row) {left}: in "
        f"{keep.size} rows the fixed effects have {levels}, nearly one row per level. A DiD "
        "compares units observed in the same period: if the time column holds dates or "
        "values unique to a row, aggregate it to periods (e.g. years) first.")


__all__ = ["FEPlan", "Prepared", "check_fixed_effects", "plan_specs", "split_spec",
           "FE_ROLES", "RESAMPLING"]
