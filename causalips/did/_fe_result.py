"""What DiD and event-study results share: the fit record, inference on demand, glance.

A result keeps the fitted regression (:class:`~causalips.did._within_ols.LinearFit`), its
variance spec (``variance``) and resampling spec (``inference``, or None for the analytic CR1
rows), and a :class:`~causalips.did._assignment.DesignSource`. ``with_inference(spec)`` takes
either kind of spec and returns a new result from the same fit; the assignment design that
randomization inference and Conley–Taber need is built the first time one of them is asked for
and cached for every later result of the same fit — so a default fit never pays for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import Result
from ..errors import StatisticalWarning, warn
from ..inference import Cluster
from ..panel import Panel
from ._assignment import AssignmentDesign, build_design
from ._fe_plan import Prepared, split_spec
from ._inference_rows import few_cluster_warnings, size_gap


class FEResult(Result):
    """Shared parts of DiD and event-study results."""

    def _init_common(self, *, fit, source, variance, inference, details, notes, info, trends,
                     base_warnings, cache):
        self.fit = fit
        self.variance = variance
        self.inference = inference
        self.details = details
        self.inference_notes = tuple(notes)
        self.info = info
        self.trends = trends
        self._source = source
        self._base_warnings = tuple(base_warnings)
        self._cache = cache  # lazily built pieces of this fit, shared by with_inference results

    @property
    def n_clusters(self) -> int:
        return self.fit.n_clusters

    def vcov_matrix(self) -> pd.DataFrame:
        """Cluster-robust covariance of the coefficients (CR1, or CR0 when asked), named."""
        names = list(self.fit.names)
        vc = self.fit.vcov(self.variance.correction or "CR1")
        return pd.DataFrame(vc, index=names, columns=names)

    def with_inference(self, spec):
        """A new result from the same fit with other inference (the fit is not redone).

        ``spec`` is a variance spec (``Cluster``: CR1 or CR0; the result then has analytic
        p-values and intervals) or a resampling spec (``WildBootstrap``, ``Randomization``,
        ``ConleyTaber``: p-values and intervals from the draws, std_error stays the analytic
        one). ``None`` returns to the default CR1 rows.
        """
        where = f"{type(self.estimator).__name__} results' with_inference()"
        variance, resampling = split_spec(spec, self.info["cluster"], where)
        if spec is None:
            variance = Cluster(self.info["cluster"])
        if variance is not None:
            return self._rebuild(variance, None)
        self._check_resampling(resampling)
        return self._rebuild(self.variance, resampling)

    def _check_resampling(self, spec) -> None:
        """Refuse a resampling spec that does not apply (subclasses add their rules)."""

    def _assignment_design(self, progress: bool = True) -> AssignmentDesign:
        """The assignment design of this fit, built on first use and cached."""
        return design_getter(self._cache, self._source)(progress)

    def glance(self) -> pd.DataFrame:
        i = self.info
        row = {"n_obs": self.n_obs, "n_units": i["n_units"], "n_periods": i["n_periods"],
               "n_clusters": self.fit.n_clusters, "n_treated_clusters": i["n_treated_clusters"],
               "k": self.fit.k_total, "r2_within": self.fit.r2_within(),
               "fixed_effects": "+".join(self.estimator.fixed_effects) or "(none)",
               "data": "repeated cross-sections" if i.get("repeated_cross_sections")
               else "panel",
               "vcov": f"cluster {self.variance.correction or 'CR1'}",
               "inference": type(self.inference).__name__ if self.inference else "analytic",
               "n_dropped": i["n_dropped"]}
        first = next(iter(self.details.values()), None)
        row["reps"] = int(first.reps) if first is not None else np.nan
        row["seed"] = getattr(self.inference, "seed", None)
        return pd.DataFrame([row])

    def _design_line(self) -> str:
        i, e = self.info, self.estimator
        treated = f"{i['n_treated_clusters']} treated"
        clusters = f"{self.fit.n_clusters} clusters ({i['cluster']})"
        if i.get("repeated_cross_sections"):
            return (f"repeated cross-sections: {i['n_rows']} rows; {i['n_units']} {e.unit} "
                    f"(timing level), {i['n_periods']} periods, {clusters}, {treated}")
        return f"{i['n_units']} units, {i['n_periods']} periods, {clusters}, {treated}"


def design_getter(cache: dict, source):
    """A function building the assignment design of ``source`` once, cached in ``cache``."""
    def design(progress: bool = True) -> AssignmentDesign:
        if "design" not in cache:
            cache["design"] = build_design(source, progress=progress)
        return cache["design"]
    return design


def trends_table(panel: Panel, cells=None) -> pd.DataFrame:
    """Mean outcome by period for ever-treated and never-treated units (weighted).

    ``cells`` = (cluster, period code, count, sum of y, treated flag) per cluster x period cell
    lets the cell path build it without another pass over rows (clusters as the groups).
    """
    m = 2 * panel.n_periods
    if cells is not None:
        _, tc, cnt, s1, treated = cells
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


def fit_record(prep: Prepared) -> tuple[dict, list[str]]:
    """(info of the fit, warnings: the panel's notes and the few-cluster warning, issued)."""
    panel, fit = prep.panel, prep.fit
    n_treated = panel.n_treated_clusters
    treated_clusters = np.zeros(fit.n_clusters, dtype=bool)
    exposed = fit.cells.exposure > 0
    treated_clusters[fit.cell_cluster[exposed]] = True
    few = few_cluster_warnings(fit.n_clusters, n_treated, panel.cluster_name,
                               size_gap(fit, treated_clusters))
    for m in few:
        warn(m, StatisticalWarning)
    info = {"n_units": panel.n_units, "n_periods": panel.n_periods,
            "cluster": panel.cluster_name, "n_treated_clusters": n_treated,
            "n_dropped": prep.n_dropped, "periods": panel.periods.tolist(),
            "engine": prep.engine, "n_rows": int(panel.n_obs) - prep.n_dropped,
            "repeated_cross_sections": panel.repeated_cross_sections}
    return info, list(prep.notes) + few


__all__ = ["FEResult", "design_getter", "fit_record", "trends_table"]
