"""CostEffectiveness with Bootstrap(cluster=): whole clusters resampled, within group when
clusters are nested in groups (cluster-randomised trials), across groups otherwise."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from causalips import Bootstrap, CostEffectiveness
from causalips.errors import EstimationError, StatisticalWarning


def clustered_trial(n_clusters=40, size=8, nested=True, seed=0):
    """Cluster effects shared by the people of a cluster (so clustering matters)."""
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(n_clusters), size)
    if nested:  # clusters 0..n/2-1 usual, the rest ips
        arm = np.where(cluster < n_clusters // 2, "usual", "ips")
    else:  # every cluster has people of both groups
        arm = np.where(np.tile(np.arange(size), n_clusters) % 2 == 0, "usual", "ips")
    shared = rng.normal(0, 400, n_clusters)[cluster]
    cost = np.abs(1500 + shared + rng.normal(0, 300, cluster.size) - 200 * (arm == "ips"))
    effect = 0.1 + shared / 4000 + rng.normal(0, 0.1, cluster.size) + 0.05 * (arm == "ips")
    return pd.DataFrame({"arm": arm, "site": [f"s{c:02d}" for c in cluster], "cost": cost,
                         "effect": effect})


def fit(df, reps, seed, cluster="site", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return CostEffectiveness(group="arm", cost="cost", effect="effect", reference="usual",
                                 wtp=[1000.0], inference=Bootstrap(reps=reps, seed=seed,
                                                                   cluster=cluster),
                                 **kw).fit(df)


def reference_loop(df, reps, seed, nested):
    """The definition, one draw at a time: G uniforms per draw, clusters sorted by label
    (by group first when nested); each person counts as often as their cluster is drawn."""
    rng = np.random.default_rng(seed)
    labels = sorted(df["site"].unique())
    group_of = df.groupby("site")["arm"].first()
    if nested:
        strata = [[c for c in labels if group_of[c] == g] for g in ("usual", "ips")]
    else:
        strata = [labels]
    ordered = [c for s in strata for c in s]
    out = np.empty((reps, 2, 2))
    for b in range(reps):
        u = rng.random(len(ordered))
        times = dict.fromkeys(labels, 0)
        start = 0
        for s in strata:
            for j in range(len(s)):
                times[ordered[start + int(np.floor(u[start + j] * len(s)))]] += 1
            start += len(s)
        w = df["site"].map(times).to_numpy(float)
        for a, g in enumerate(("usual", "ips")):
            m = (df["arm"] == g).to_numpy()
            out[b, a] = [np.sum(w[m] * df["cost"][m]) / w[m].sum(),
                         np.sum(w[m] * df["effect"][m]) / w[m].sum()]
    return out[:, 1] - out[:, 0]  # (incremental cost, incremental effect) per draw


@pytest.mark.parametrize("nested", [True, False])
def test_vectorised_cluster_bootstrap_equals_the_loop(nested):
    df = clustered_trial(n_clusters=12, size=6, nested=nested)
    res = fit(df, 60, 5)
    d = res.draws()
    ref = reference_loop(df, 60, 5, nested)
    np.testing.assert_allclose(d["incremental_cost"], ref[:, 0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(d["incremental_effect"], ref[:, 1], rtol=1e-12, atol=1e-12)
    where = "within group" if nested else "across groups"
    assert where in str(res.summary()) and res.glance()["cluster"].iloc[0] == "site"


def test_cluster_se_matches_the_cluster_robust_se_and_exceeds_the_person_se():
    """Nested clusters: the bootstrap SE of a difference in means is the CR0-type SE
    sqrt(sum_a sum_c (sum_i (y_i - ybar_a))^2 / n_a^2), up to Monte Carlo error."""
    df = clustered_trial(n_clusters=60, size=8)
    res = fit(df, 4000, 2)
    analytic = 0.0
    for _, g in df.groupby("arm"):
        resid = g["cost"] - g["cost"].mean()
        analytic += (resid.groupby(g["site"]).sum() ** 2).sum() / len(g) ** 2
    boot = res.tidy().query("term == 'incremental_cost'")["std_error"].iloc[0]
    assert boot == pytest.approx(np.sqrt(analytic), rel=0.05)  # MC error of an SD ~1.1%
    people = fit(df, 4000, 2, cluster=None)
    se_people = people.tidy().query("term == 'incremental_cost'")["std_error"].iloc[0]
    assert boot > 1.5 * se_people  # strong cluster effects: ignoring them understates the SE


def test_cluster_bootstrap_is_seeded():
    df = clustered_trial()
    a, b, c = fit(df, 200, 7), fit(df, 200, 7), fit(df, 200, 8)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    assert not np.allclose(a.tidy()["conf_low"].dropna(), c.tidy()["conf_low"].dropna())


def test_few_clusters_are_warned_about():
    df = clustered_trial(n_clusters=10)
    with pytest.warns(StatisticalWarning, match="group 'usual' has only 5 clusters"):
        CostEffectiveness(group="arm", cost="cost", effect="effect", reference="usual",
                          inference=Bootstrap(reps=50, cluster="site")).fit(df)


def test_cluster_with_person_years_and_missing_cluster():
    df = clustered_trial(n_clusters=8, size=4)
    df["id"] = np.arange(len(df))
    df = pd.concat([df.assign(year=1), df.assign(year=2)], ignore_index=True)
    res = fit(df, 50, 1, year="year", id="id")
    assert res.n_obs == 32
    bad = df.copy()
    bad.loc[len(df) // 2 + 1, "site"] = "s99"  # one person in two clusters
    with pytest.raises(Exception, match="more than one cluster"):
        fit(bad, 50, 1, year="year", id="id")
    bad = df.copy()
    bad.loc[3, "site"] = None
    with pytest.raises(Exception, match=r"column 'site' \(the cluster\) has 1 missing"):
        fit(bad, 50, 1)


def test_unbalanced_clusters_that_empty_a_group_are_an_error():
    df = pd.DataFrame({"arm": ["usual"] * 3 + ["ips"] * 3 + ["usual", "ips"],
                       "site": ["a"] * 6 + ["b", "b"],
                       "cost": np.arange(8.0) + 1, "effect": np.linspace(0, 1, 8)})
    df.loc[0:2, "site"] = "c"  # c: usual only, a: ips only, b: both -> not nested
    with pytest.raises(EstimationError, match="leave a group with nobody in it"):
        fit(df, 200, 1)
