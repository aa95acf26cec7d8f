"""The inference part of a DiD / event-study table: CR1 (or CR0) rows, then resampling.

The analytic rows are always computed (cluster-robust SE, t with G-1 df). A resampling spec
replaces p-values and intervals of the rows it covers and says so in the ``inference`` column
and the notes: the wild cluster bootstrap per coefficient; randomization inference and
Conley–Taber per treatment coefficient (and linear combinations such as an event study's
post-period average), on the assignment design that is built on first use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SpecificationError, StatisticalWarning, warn
from ..inference import Cluster, ConleyTaber, Randomization, WildBootstrap
from ._within_ols import LinearFit
from .bootstrap import wild_bootstrap
from .conley_taber import conley_taber, many_treated_warning
from .randomization import Combination, randomization_test

FEW_CLUSTERS = 30
FEW_TREATED = 5
#: treated clusters this much smaller or larger than the median control count as "different"
SIZE_RATIO = 2.0


def few_cluster_warnings(n_clusters: int, n_treated: int, cluster_name: str,
                         size_gap: tuple[float, float] | None = None) -> list[str]:
    """The StatisticalWarning texts for designs with few (treated) clusters.

    ``size_gap`` = (people in the treated clusters (mean), median people in a control cluster)
    when they differ by more than :data:`SIZE_RATIO`: randomization inference and plain
    Conley–Taber assume exchangeable clusters, so the heteroskedasticity-aware variant is named.
    """
    if n_clusters >= FEW_CLUSTERS and n_treated >= FEW_TREATED:
        return []
    why = []
    if n_clusters < FEW_CLUSTERS:
        why.append(f"only {n_clusters} clusters ({cluster_name}) (< {FEW_CLUSTERS})")
    if n_treated < FEW_TREATED:
        why.append(f"only {n_treated} treated cluster(s) (< {FEW_TREATED})")
    text = (f"{' and '.join(why)}: cluster-robust (CR1) standard errors over-reject in such "
            "designs. ")
    if size_gap is not None:
        treated, control = size_gap
        text += (
            f"The treated cluster(s) hold {treated:.0f} people against a median of "
            f"{control:.0f} in the controls: with clusters of such different sizes "
            "randomization inference and plain Conley-Taber over-reject as well; check the "
            "result with result.with_inference(ConleyTaber(heteroskedasticity=True)) (rescales "
            "the placebo errors for cluster size, Ferman-Pinto), and report "
            "Randomization() beside it; see docs/did.md")
    else:
        text += (
            "Check the result with result.with_inference(Randomization()) (exact, but its "
            "smallest p-value is 1/number of assignments), ConleyTaber() (one or few treated "
            "clusters; ConleyTaber(heteroskedasticity=True) when cluster sizes differ), or "
            "WildBootstrap(restricted=True) (very conservative with one treated cluster); see "
            "docs/did.md")
    return [text]


def size_gap(fit: LinearFit, treated_clusters: np.ndarray) -> tuple[float, float] | None:
    """(mean people per treated cluster, median per control) when they differ by > 2x."""
    people = np.bincount(fit.cell_cluster, weights=fit.cells.people, minlength=fit.n_clusters)
    periods = np.bincount(fit.cell_cluster, minlength=fit.n_clusters)
    per_period = people / np.maximum(periods, 1)
    treated = treated_clusters.astype(bool)
    if not treated.any() or treated.all():
        return None
    t, c = float(per_period[treated].mean()), float(np.median(per_period[~treated]))
    if c <= 0 or 1 / SIZE_RATIO <= t / c <= SIZE_RATIO:
        return None
    return t, c


def t_rows(fit: LinearFit, conf_level: float, correction: str) -> pd.DataFrame:
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


def inference_table(fit: LinearFit, variance: Cluster, resampling, conf_level: float,
                    combos: list[Combination], *, design: Callable | None = None,
                    cluster_name: str = "", time_name: str = ""):
    """(tidy rows of the fit's terms, details by term, notes, warnings) under the specs.

    ``combos`` are the quantities resampling reports (each treatment term, and e.g. the
    post-period average); ``design()`` builds the assignment design on first use.
    """
    correction = variance.correction or "CR1"
    table = t_rows(fit, conf_level, correction)
    if resampling is None:
        return table, {}, [_analytic_note(fit, correction, cluster_name)], []
    if isinstance(resampling, WildBootstrap):
        details, notes = _wild_rows(table, fit, resampling, conf_level,
                                    [c.term for c in combos if c.term in fit.names], time_name,
                                    correction)
        return table, details, notes, []
    return _reassignment_rows(table, fit, resampling, conf_level, combos, design)


def _analytic_note(fit: LinearFit, correction: str, cluster_name: str) -> str:
    return (f"standard errors clustered by {cluster_name} ({fit.n_clusters} clusters), "
            f"{correction}: "
            + ("G/(G-1)*(N-1)/(N-K) with N = "
               f"{fit.n_obs} rows and K = {fit.k_total} (regressors plus fixed-effect levels not "
               "nested in the clusters, fixest's rule)" if correction == "CR1"
               else "no small-sample factor")
            + f"; t-inference with G-1 = {fit.n_clusters - 1} df")


def _wild_rows(table, fit, spec: WildBootstrap, conf_level, terms, time_name, correction):
    if spec.subcluster not in (None, time_name, "cell"):
        raise SpecificationError(
            f"WildBootstrap(subcluster={spec.subcluster!r}): the subcluster variant draws "
            f"weights per cluster x period cell; pass subcluster={time_name!r} (or 'cell')")
    label = (f"wild cluster bootstrap ({'WCR' if spec.restricted else 'WCU'}, "
             f"{spec.weights}{', subcluster' if spec.subcluster else ''})")
    details = {}
    for term in terms:  # a few coefficients; the draws inside are one matrix product
        out = wild_bootstrap(fit, term, reps=spec.reps, weights=spec.weights,
                             restricted=spec.restricted, subcluster=spec.subcluster is not None,
                             seed=spec.seed, conf_level=conf_level, correction=correction,
                             progress=spec.progress)
        i = fit.names.index(term)
        table.loc[i, ["p_value", "conf_low", "conf_high"]] = [out.p_value, out.conf_low,
                                                               out.conf_high]
        table.loc[i, "inference"] = label
        table.loc[i, "df"] = np.nan
        details[term] = out
    o = next(iter(details.values()), None)
    if o is None:
        return details, []
    enum = " (full enumeration of all sign vectors)" if o.enumerated else ""
    return details, [
        f"{label}: {o.reps} draws{enum} over {o.n_boot_clusters} bootstrap clusters; p-value "
        f"symmetric bootstrap-t; "
        f"{'CI by test inversion' if spec.restricted else 'CI percentile-t (symmetric)'}; "
        f"std_error is {correction}"]


def _reassignment_rows(table, fit, spec, conf_level, combos, design):
    built = design(progress=spec.progress)
    warns = []
    if isinstance(spec, Randomization):
        outcomes = randomization_test(built, combos, reps=spec.reps, seed=spec.seed,
                                      alpha=1 - conf_level, progress=spec.progress)
    else:
        n_treated = int(np.isfinite(built.first_by_cluster).sum())
        many = many_treated_warning(n_treated, built.first_by_cluster.size)
        if many:
            warn(many, StatisticalWarning)
            warns.append(many)
        outcomes = conley_taber(built, combos, conf_level=conf_level, reps=spec.reps,
                                seed=spec.seed, heteroskedasticity=spec.heteroskedasticity,
                                progress=spec.progress)
    label = reassignment_label(spec)
    note = next(iter(outcomes.values())).statement + " (std_error is CR1, for reference)"
    for term, out in outcomes.items():
        if term in fit.names:
            i = fit.names.index(term)
            table.loc[i, ["p_value", "conf_low", "conf_high", "statistic", "df"]] = [
                out.p_value, out.conf_low, out.conf_high, np.nan, np.nan]
            table.loc[i, "inference"] = label
    return table, outcomes, [note], warns


def reassignment_label(spec) -> str:
    if isinstance(spec, Randomization):
        return "randomization inference (re-assigned across clusters)"
    if isinstance(spec, ConleyTaber):
        return ("Conley-Taber, Ferman-Pinto size correction" if spec.heteroskedasticity
                else "Conley-Taber")
    return ""


__all__ = ["FEW_CLUSTERS", "FEW_TREATED", "few_cluster_warnings", "inference_table",
           "size_gap", "t_rows"]
