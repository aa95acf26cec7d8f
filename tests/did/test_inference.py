import warnings

import numpy as np
import pandas as pd
import pytest
from _did_helpers import person_panel

from causalips.did import DiD, EventStudy
from causalips.did._within_ols import FixedEffects
from causalips.did.bootstrap import draw_weights
from causalips.did.randomization import randomization_test
from causalips.did.size_study import k1_bootstrap_t, size_study
from causalips.errors import SpecificationError
from causalips.inference import ConleyTaber, Randomization, WildBootstrap


def quiet(est, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(df)


def municipality_panel(seed=0, g=11, t=8, first=4, treated=(0,), effect=0.0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"m": np.repeat(np.arange(g), t), "year": np.tile(np.arange(t), g)})
    df["ft"] = np.where(df["m"].isin(treated), float(first), np.nan)
    df["d"] = (df["year"] >= df["ft"]).astype(float)
    df["y"] = rng.normal(size=g)[df["m"]] + rng.normal(size=len(df)) + effect * df["d"]
    return df


def test_vectorised_k1_bootstrap_equals_estimator_draws():
    df = municipality_panel(seed=3)
    res = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), df)
    out = res.with_inference(WildBootstrap(restricted=True)).details["att"]
    fe = FixedEffects.build([df["m"].to_numpy(), df["year"].to_numpy()], [11, 8],
                            ["m", "year"], np.ones(len(df)))
    dd = fe.residualise(df["d"].to_numpy())
    yd = fe.residualise(df["y"].to_numpy())
    h = np.bincount(df["m"], weights=dd**2)
    gsc = np.bincount(df["m"], weights=dd * yd)[:, None]
    v, enum = draw_weights(11, 9999, "rademacher", None)
    n, k = len(df), 1 + 8
    ssc = 11 / 10 * (n - 1) / (n - k)
    t_star = k1_bootstrap_t(gsc, h, 1 / h.sum(), v, ssc)[:, 0]
    np.testing.assert_allclose(t_star, out.t_draws, rtol=1e-9, atol=1e-12)


def test_webb_and_subcluster_run_and_are_seeded():
    df = person_panel(seed=22, n_clusters=8, treated_clusters=2)
    res = quiet(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m"), df)
    a = res.with_inference(WildBootstrap(weights="webb", reps=999, seed=5)).tidy()
    b = res.with_inference(WildBootstrap(weights="webb", reps=999, seed=5)).tidy()
    pd.testing.assert_frame_equal(a, b)
    sub = res.with_inference(WildBootstrap(subcluster="t", reps=999, seed=5))
    assert sub.details["att"].n_boot_clusters == 8 * 8
    lo, hi = sub.tidy().loc[0, ["conf_low", "conf_high"]]
    assert lo < res.att < hi
    with pytest.raises(SpecificationError, match="subcluster"):
        res.with_inference(WildBootstrap(subcluster="id"))


def test_wcr_ci_inverts_the_test():
    df = person_panel(seed=23, n_clusters=12, treated_clusters=4)
    res = quiet(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m"), df)
    boot = res.with_inference(WildBootstrap(reps=4096, seed=1))
    lo, hi = boot.tidy().loc[0, ["conf_low", "conf_high"]]
    # at the CI limits the bootstrap p-value crosses 0.05
    from causalips.did.bootstrap import wild_bootstrap

    inside = wild_bootstrap(res.fit, "att", null=lo + 1e-3 * (hi - lo), seed=1)
    outside = wild_bootstrap(res.fit, "att", null=lo - 1e-2 * (hi - lo), seed=1)
    assert inside.p_value > 0.05 >= outside.p_value


def test_randomization_betas_equal_refits_and_p_is_exact():
    df = municipality_panel(seed=4, effect=3.0)
    res = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), df)
    ri = res.with_inference(Randomization())
    out = ri.details["att"]
    assert out.enumerated and out.n_assignments == 11 and out.min_p_value == pytest.approx(1 / 11)
    assert "1/11" in out.statement and "cannot give p < 0.05" in out.statement
    # each placebo coefficient equals the DiD refitted with treatment moved to that cluster
    firsts = np.full(11, np.inf)
    for j in (3, 7):
        moved = df.assign(d=((df["m"] == j) & (df["year"] >= 4)).astype(float))
        refit = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), moved)
        f = firsts.copy()
        f[j] = 4
        assert res._assignment_design().betas(f[None, :])[0, 0] == pytest.approx(refit.att, abs=1e-10)
    rank = np.sum(np.abs(out.placebo) >= abs(res.att) - 1e-12)
    assert ri.tidy()["p_value"].iloc[0] == pytest.approx(rank / 11)
    # at 95% a design with 11 assignments cannot reject anything: the inverted CI is unbounded
    assert ri.tidy()["conf_low"].iloc[0] == -np.inf and ri.tidy()["conf_high"].iloc[0] == np.inf
    from causalips.plotting.did import plot_placebo

    assert plot_placebo(ri).patches


def test_randomization_sampled_with_many_assignments_is_seeded():
    df = municipality_panel(seed=5, g=30, treated=tuple(range(10)))
    res = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), df)
    a = res.with_inference(Randomization(reps=499, seed=1)).details["att"]
    b = res.with_inference(Randomization(reps=499, seed=1)).details["att"]
    assert not a.enumerated and a.n_assignments == 500
    assert a.p_value == b.p_value
    assert a.min_p_value == pytest.approx(1 / 500)
    # the interval inverts the test under a constant effect: p crosses 0.05 at its limits
    import dataclasses

    lo, hi = a.conf_low, a.conf_high
    assert lo < res.att < hi
    design = res._assignment_design()
    for bound, sign in ((lo, -1), (hi, 1)):
        width = hi - lo
        for shift, inside in ((-sign * 1e-3 * width, True), (sign * 1e-2 * width, False)):
            b = bound + shift
            # the outcome minus b * exposure: r moves by b * Q d_observed
            shifted = dataclasses.replace(design, r=design.r - b * design.qx_obs[:, 0],
                                          estimate=design.estimate - b)
            p = randomization_test(shifted, reps=499, seed=1, progress=False)["att"].p_value
            assert (p > 0.05) == inside


def test_conley_taber_interval():
    df = municipality_panel(seed=6, effect=2.0)
    res = quiet(DiD(outcome="y", unit="m", time="year", treatment="d",
                    inference=ConleyTaber()), df)
    tab = res.tidy()
    out = res.details["att"]
    assert out.n_placebos == 10
    lo, hi = tab.loc[0, ["conf_low", "conf_high"]]
    assert lo == pytest.approx(res.att - out.placebo_errors.max())
    assert hi == pytest.approx(res.att - out.placebo_errors.min())
    assert "Ferman-Pinto" in out.statement


def test_randomization_refused_with_person_level_timing():
    df = person_panel(seed=7)
    df["d"] = ((df["id"] % 2 == 0) & (df["t"] >= 4)).astype(float)
    res = quiet(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m"), df)
    with pytest.raises(SpecificationError, match="varies within cluster-period cells"):
        res.with_inference(Randomization())


def _bound(rate_true, reps):
    return 3 * np.sqrt(rate_true * (1 - rate_true) / reps)


def test_size_one_treated_of_eleven():
    """1 of 11 treated, alpha = 0.10 (RI's smallest p is 1/11): what the docs state."""
    reps, alpha = 1000, 0.10
    tab = size_study(n_clusters=11, n_treated=1, reps=reps, alpha=alpha, seed=11)
    r = tab.set_index("method")["rejection_rate"]
    # randomization inference is exact: rejects exactly when p = 1/11
    assert abs(r["RI"] - 1 / 11) <= _bound(1 / 11, reps)
    assert r["CT"] <= 1 / 11 + _bound(1 / 11, reps)
    # restricted wild bootstrap: extremely conservative with one treated cluster
    assert r["WCR"] <= 0.03
    # CR1 and the unrestricted bootstrap over-reject badly
    assert r["CR1"] > alpha + 0.2 and r["WCU"] > alpha + 0.2


def test_size_ten_treated_of_thirty():
    reps, alpha = 1000, 0.05
    tab = size_study(n_clusters=30, n_treated=10, reps=reps, alpha=alpha, seed=12)
    r = tab.set_index("method")["rejection_rate"]
    for m in ("RI", "WCR", "CR1", "WCU"):
        assert abs(r[m] - alpha) <= _bound(alpha, reps), m
    # Conley-Taber is built for few treated among many controls; here it over-rejects
    assert r["CT"] > alpha + _bound(alpha, reps)


def test_randomization_with_staggered_timing_enumerates_distinct_arrangements():
    from causalips.did.randomization import count_assignments, enumerate_assignments

    df = municipality_panel(seed=8, g=11, treated=(0, 1))
    df.loc[df["m"] == 1, "ft"] = 6.0
    df["d"] = (df["year"] >= df["ft"]).astype(float)
    res = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), df)
    out = res.with_inference(Randomization()).details["att"]
    f = np.array([4.0, 6.0] + [np.inf] * 9)
    arr = enumerate_assignments(f)
    assert count_assignments(f) == 110 == out.n_assignments == len({tuple(r) for r in arr})
    assert out.placebo[0] == pytest.approx(res.att)
    j = 5  # move the 6.0 cohort to cluster 5 and refit
    moved = df.assign(d=(((df["m"] == 0) & (df["year"] >= 4))
                         | ((df["m"] == j) & (df["year"] >= 6))).astype(float))
    refit = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), moved)
    g = np.full(11, np.inf)
    g[0], g[j] = 4.0, 6.0
    assert res._assignment_design().betas(g[None, :])[0, 0] == pytest.approx(refit.att, abs=1e-10)


def test_ferman_pinto_correction_restores_size_with_a_small_treated_cluster():
    """Treated municipality of 20 people vs controls of 100-2000: cell-mean noise differs.

    Exchangeability fails, so RI and plain Conley-Taber over-reject badly; the Ferman-Pinto
    rescaling brings the rate near the nominal 1/11 (approximately: A and B are estimated).
    """
    sizes = [20] + list(np.linspace(100, 2000, 10))
    tab = size_study(n_clusters=11, n_treated=1, reps=2000, alpha=0.10, cluster_sizes=sizes,
                     person_sd=10.0, noise_sd=0.5, seed=3)
    r = tab.set_index("method")["rejection_rate"]
    assert r["RI"] > 0.4 and r["CT"] > 0.4
    assert 0.05 < r["CT-FP"] < 0.17


def test_conley_taber_size_correction_in_the_estimator():
    rng = np.random.default_rng(0)
    sizes = np.array([30] + list(np.linspace(100, 1000, 10).astype(int)))
    mun = np.repeat(np.arange(11), sizes)
    people, t = mun.size, 8
    df = pd.DataFrame({"p": np.repeat(np.arange(people), t), "t": np.tile(np.arange(t), people)})
    df["m"] = mun[df["p"]]
    df["ft"] = np.where(df["m"] == 0, 4.0, np.nan)
    df["y"] = (rng.normal(0, 5, people)[df["p"]] + rng.normal(0, 1, (11, t))[df["m"], df["t"]]
               + rng.normal(0, 10, len(df)))
    res = quiet(DiD(outcome="y", unit="p", time="t", first_treated="ft", cluster="m"), df)
    plain = res.with_inference(ConleyTaber())
    fp = res.with_inference(ConleyTaber(heteroskedasticity=True))
    model = fp.details["att"].variance_model
    assert 0.5 < model["A"] < 2.0 and model["B"] > 0  # truth: A = 1, B = 100
    width = lambda r: float(r.tidy()["conf_high"].iloc[0] - r.tidy()["conf_low"].iloc[0])  # noqa: E731
    assert width(fp) > width(plain)  # the small treated municipality is noisier
    assert "Ferman-Pinto" in fp.tidy()["inference"].iloc[0]


def test_placebo_plot_kind():
    df = municipality_panel(seed=9, effect=1.0)
    res = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), df)
    with pytest.raises(SpecificationError, match="placebo plot needs"):
        res.plot(kind="placebo")
    ax = res.with_inference(ConleyTaber()).plot(kind="placebo")
    assert ax.patches and "p =" in ax.get_title()
    with pytest.raises(SpecificationError, match="kind must be one of"):
        res.plot(kind="event")


@pytest.mark.slow
def test_size_long_runs():
    """10 000 replications: tighter versions of the fast size checks."""
    reps = 10_000
    r = size_study(n_clusters=11, n_treated=1, reps=reps, alpha=0.10,
                   seed=101).set_index("method")["rejection_rate"]
    assert abs(r["RI"] - 1 / 11) <= _bound(1 / 11, reps)
    assert r["WCR"] < 0.03 and r["CR1"] > 0.5
    r = size_study(n_clusters=30, n_treated=10, reps=reps, alpha=0.05,
                   seed=102).set_index("method")["rejection_rate"]
    for m in ("RI", "WCR"):
        assert abs(r[m] - 0.05) <= _bound(0.05, reps), m


def _moved(df, firsts_by_m, col="ft"):
    """The panel with cluster m's first treated period set to firsts_by_m[m]."""
    return df.assign(**{col: np.asarray(firsts_by_m)[df["m"].to_numpy()]})


@pytest.mark.parametrize("fixed_effects", [("unit", "time"), ("unit", "time", "grp")])
def test_reassigned_coefficients_equal_refits_on_an_unbalanced_person_panel(fixed_effects):
    """Sparse person effects (and, with a second person-level factor, the dense fallback)."""
    df = person_panel(seed=71, n_clusters=9, treated_clusters=2, drop_frac=0.3)
    df["grp"] = (df["id"] % 5) * 10 + df["t"] // 4  # varies within cells
    kw = dict(outcome="y", unit="id", time="t", first_treated="ft", cluster="m",
              covariates=["x1"], fixed_effects=fixed_effects)
    res = quiet(DiD(**kw), df)
    design = res._assignment_design(progress=False)
    assert design.betas(design.first_by_cluster[None, :])[0, 0] == pytest.approx(res.att,
                                                                                 abs=1e-9)
    moved = np.full(9, np.inf)
    moved[[3, 6]] = [4.0, 4.0]
    refit = quiet(DiD(**kw), _moved(df, moved))
    assert design.betas(moved[None, :])[0, 0] == pytest.approx(refit.att, abs=1e-9)


def test_event_study_randomization_equals_refits_and_fills_post_average():
    df = person_panel(seed=72, n_clusters=10, treated_clusters=2, drop_frac=0.1)
    kw = dict(outcome="y", unit="id", time="t", first_treated="ft", cluster="m",
              window=(-3, 2))
    res = quiet(EventStudy(**kw), df)
    design = res._assignment_design(progress=False)
    moved = np.full(10, np.inf)
    moved[[5, 8]] = 4.0
    refit = quiet(EventStudy(**kw), _moved(df, moved))
    terms = list(design.terms)
    want = refit.tidy().set_index("term").loc[terms, "estimate"].to_numpy()
    np.testing.assert_allclose(design.betas(moved[None, :])[0], want, atol=1e-9)
    ri = res.with_inference(Randomization(progress=False))
    tab = ri.tidy().set_index("term")
    assert tab.loc["post_average", "inference"].startswith("randomization")
    assert ri.details["post_average"].n_assignments == 45  # 10 choose 2
    assert tab.loc["event_time::0", "p_value"] == pytest.approx(
        ri.details["event_time::0"].p_value)
    ct = res.with_inference(ConleyTaber(progress=False))
    assert ct.details["event_time::1"].n_placebos == 28  # 8 controls choose 2


def test_conley_taber_warns_when_many_clusters_are_treated():
    from causalips.errors import StatisticalWarning

    df = municipality_panel(seed=73, g=12, treated=(0, 1, 2, 3))
    res = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), df)
    with pytest.warns(StatisticalWarning, match="4 of 12 clusters treated .* over-rejects"):
        ct = res.with_inference(ConleyTaber(progress=False))
    assert any("Conley-Taber with 4 of 12" in w for w in ct.warnings)
    assert not any("Conley-Taber with" in w for w in res.warnings)
    one = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"),
                municipality_panel(seed=73, g=12))
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        one.with_inference(ConleyTaber(progress=False))  # 1 of 12: no warning


def test_few_cluster_warning_names_the_size_correction_when_sizes_differ():
    from causalips.errors import StatisticalWarning

    rng = np.random.default_rng(74)
    sizes = np.array([10] + [60] * 10)  # one small treated municipality
    mun = np.repeat(np.arange(11), sizes)
    df = pd.DataFrame({"p": np.repeat(np.arange(mun.size), 6), "t": np.tile(np.arange(6),
                                                                             mun.size)})
    df["m"] = mun[df["p"]]
    df["ft"] = np.where(df["m"] == 0, 3.0, np.nan)
    df["y"] = rng.normal(size=len(df))
    with pytest.warns(StatisticalWarning, match=r"ConleyTaber\(heteroskedasticity=True\)"):
        res = DiD(outcome="y", unit="p", time="t", first_treated="ft", cluster="m").fit(df)
    assert "10 people against a median of 60" in res.warnings[0]
    same = df[df["m"] != 0].assign(ft=lambda d: np.where(d["m"] == 1, 3.0, np.nan))
    with pytest.warns(StatisticalWarning) as caught:
        DiD(outcome="y", unit="p", time="t", first_treated="ft", cluster="m").fit(same)
    assert "heteroskedasticity=True) (rescales" not in str(caught[0].message)


def test_progress_bars_follow_the_spec(monkeypatch):
    from causalips.did import _assignment

    seen = []
    real = _assignment.progress_bar

    def spy(*args, **kwargs):
        seen.append(not kwargs.get("enabled"))
        return real(*args, **kwargs)

    monkeypatch.setattr(_assignment, "progress_bar", spy)
    res = quiet(DiD(outcome="y", unit="m", time="year", treatment="d"), municipality_panel())
    res.with_inference(Randomization(progress=False))
    res.with_inference(Randomization())
    assert seen == [True, False]
    assert Randomization(progress=False) == Randomization()  # changes no number
    assert "progress" not in Randomization(progress=False).describe()
