"""Coverage of Cox coefficient intervals: model-based, Robust() and Cluster() (CR0 and CR1).

Clustered times are drawn through a Gaussian copula: within a cluster the normal scores share a
component (correlation 0.2), and each time is ``-log(norm.sf(z)) / (0.1 exp(x'beta))``, which
given x is exponential with hazard ``0.1 exp(x'beta)``. So the marginal model is exactly Cox with
coefficients ``beta`` (a shared frailty would attenuate the marginal coefficients instead), and
the truth is ``beta`` itself.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _coverage_check import CoverageChecks, covers, replications
from scipy import stats

from causalips import Cluster, Cox, ModelBased, Robust
from causalips.errors import StatisticalWarning

BASELINE = 0.1  # exponential baseline hazard (mean 10 time units)
CENSOR_MAX = 20.0
RHO = 0.2  # within-cluster correlation of the copula's normal scores


def _cox_frame(rng, lp: np.ndarray, z: np.ndarray, **columns) -> pd.DataFrame:
    """Times with hazard BASELINE·exp(lp) from standard normal scores z; uniform censoring."""
    t = -np.log(stats.norm.sf(z)) / (BASELINE * np.exp(lp))
    c = rng.uniform(0, CENSOR_MAX, t.size)
    return pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), **columns})


def _cluster_scores(rng, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    return (np.sqrt(RHO) * rng.normal(size=n_clusters)[cluster]
            + np.sqrt(1 - RHO) * rng.normal(size=cluster.size))


@pytest.mark.slow
def test_model_based_and_robust_with_independent_people():
    """n = 500 independent people; IPS (a 50/50 arm, log HR 0.5) and standardised age (-0.3)."""
    reps, n = replications(2000), 500
    beta = np.array([0.5, -0.3])
    rng = np.random.default_rng(20261203)
    est = Cox(duration="t", event="e", covariates=["ips", "age"], concordance=False,
              diagnostics=False)
    hits = {"ModelBased()": np.empty((reps, 2), bool), "Robust()": np.empty((reps, 2), bool)}
    for r in range(reps):
        x = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)])
        fit = est.fit(_cox_frame(rng, x @ beta, rng.normal(size=n), ips=x[:, 0], age=x[:, 1]))
        for name, res in (("ModelBased()", fit), ("Robust()", fit.with_inference(Robust()))):
            t = res.tidy()
            hits[name][r] = covers(t["conf_low"], t["conf_high"], beta)
    with CoverageChecks() as check:
        for name, h in hits.items():
            for k, term in enumerate(("ips", "age")):
                check.nominal(f"Cox n=500 independent: {term} = {beta[k]:g}", name, h[:, k])


def _cluster_randomised(rng, n_clusters: int, per: int, beta: np.ndarray) -> pd.DataFrame:
    g = np.repeat(np.arange(n_clusters), per)
    ips = np.zeros(n_clusters)
    ips[rng.permutation(n_clusters)[: n_clusters // 2]] = 1.0
    x = np.column_stack([ips[g], rng.normal(size=g.size)])
    return _cox_frame(rng, x @ beta, _cluster_scores(rng, g, n_clusters), ips=x[:, 0],
                      age=x[:, 1], site=g)


@pytest.mark.slow
def test_cluster_sandwich_cluster_randomised_50_sites():
    """50 sites x 20 people, half the sites offer IPS (log HR 0.5), age (-0.3) varies within
    sites, times correlated within sites. The model-based SE ignores the correlation."""
    reps = replications(2000)
    beta = np.array([0.5, -0.3])
    rng = np.random.default_rng(20261204)
    est = Cox(duration="t", event="e", covariates=["ips", "age"], vcov=Cluster("site"),
              concordance=False, diagnostics=False)
    names = ("Cluster(): CR0", "Cluster(CR1)", "ModelBased()")
    hits = {name: np.empty((reps, 2), bool) for name in names}
    for r in range(reps):
        cr0 = est.fit(_cluster_randomised(rng, 50, 20, beta))
        fits = (cr0, cr0.with_inference(Cluster("site", correction="CR1")),
                cr0.with_inference(ModelBased()))
        for name, res in zip(names, fits):
            t = res.tidy()
            hits[name][r] = covers(t["conf_low"], t["conf_high"], beta)
    design = "Cox 50 sites x 20, cluster-randomised: {} = {:g}"
    with CoverageChecks() as check:
        for name in names[:2]:
            for k, term in enumerate(("ips", "age")):
                check.nominal(design.format(term, beta[k]), name, hits[name][:, k])
        check.under(design.format("ips", beta[0]), "ModelBased()", hits["ModelBased()"][:, 0],
                    why="people of a site are correlated; the model-based SE treats them as "
                        "independent")


def _between_cluster_covariate(rng, n_clusters: int, per: int, beta: float) -> pd.DataFrame:
    """The design of issue 13 item 6: x = site N(0, 1) + 0.5 N(0, 1) (80% between sites)."""
    g = np.repeat(np.arange(n_clusters), per)
    x = rng.normal(size=n_clusters)[g] + 0.5 * rng.normal(size=g.size)
    return _cox_frame(rng, beta * x, _cluster_scores(rng, g, n_clusters), x=x, site=g)


def _between_cluster_hits(seed: int, reps: int, n_clusters: int, per: int, beta: float):
    """Coverage indicators of CR0 and CR1 on the same fits (CR1 is CR0 widened)."""
    rng = np.random.default_rng(seed)
    est = Cox(duration="t", event="e", covariates=["x"], vcov=Cluster("site"),
              concordance=False, diagnostics=False)
    hits = np.empty((reps, 2), bool)
    with warnings.catch_warnings():  # below 50 clusters Cox warns and recommends CR1
        warnings.simplefilter("ignore", StatisticalWarning)
        for r in range(reps):
            cr0 = est.fit(_between_cluster_covariate(rng, n_clusters, per, beta))
            for k, res in enumerate((cr0, cr0.with_inference(Cluster("site",
                                                                     correction="CR1")))):
                row = res.tidy().iloc[0]
                hits[r, k] = covers(row["conf_low"], row["conf_high"], beta)
    return hits


@pytest.mark.slow
def test_cluster_cr1_with_40_sites():
    """40 sites x 15, a covariate that varies mostly between sites (log HR 0.5).

    docs/cox.md documents that with 40 clusters CR1 still covers a little short (93-94% in the
    issue-13 study) and Cox warns so: the CR1 check allows 2 points beyond the Monte Carlo
    band (the documented low end, 93%). The uncorrected sandwich is the known-short control.
    """
    hits = _between_cluster_hits(20261205, replications(2000), 40, 15, 0.5)
    design = "Cox 40 sites x 15, site-level x: x = 0.5"
    with CoverageChecks() as check:
        check.nominal(design, "Cluster(CR1)", hits[:, 1], allowance=0.02,
                      why="documented approximate below 50 clusters: 93-94% (docs/cox.md)")
        check.under(design, "Cluster(): CR0", hits[:, 0],
                    why="40 clusters, no small-sample factor (docs/cox.md: 91-93%)")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "finding of the coverage suite (docs/validity.md): with a covariate that varies mostly "
    "between sites, 50 sites are not enough for the cluster sandwich; measured at this seed "
    "CR0 0.9250, CR1 0.9330 (MC SE 0.0049, 2,000 replications), while Cox warns only below "
    "50 clusters. Remove this mark when the intervals (or the warning) are fixed."))
def test_cluster_sandwich_with_a_between_site_covariate_and_50_sites():
    """The design of the 40-site test with 50 sites x 15, where Cox gives no warning."""
    hits = _between_cluster_hits(20261207, replications(2000), 50, 15, 0.5)
    design = "Cox 50 sites x 15, site-level x: x = 0.5"
    with CoverageChecks() as check:
        check.nominal(design, "Cluster(): CR0", hits[:, 0])
        check.nominal(design, "Cluster(CR1)", hits[:, 1])
