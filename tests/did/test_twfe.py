import json
import warnings

import matplotlib.axes
import numpy as np
import pandas as pd
import pyfixest as pf  # in the test extra: parity must run in CI, never skip
import pytest
from _did_helpers import person_panel
from hypothesis import given, settings
from hypothesis import strategies as st

from causalips.did import DiD
from causalips.errors import (
    DataError,
    DroppedRowsWarning,
    EstimationError,
    SpecificationError,
    StatisticalWarning,
)
from causalips.inference import Cluster, WildBootstrap


def quiet_fit(est, df):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(df)


def test_closed_form_two_by_two():
    rng = np.random.default_rng(5)
    n = 400
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "post": np.tile([0, 1], n)})
    df["nj"] = (df["id"] < 150).astype(int)
    df["d"] = df["nj"] * df["post"]
    df["y"] = rng.normal(size=2 * n) + 1.7 * df["d"]
    m = df.groupby(["nj", "post"])["y"].mean()
    closed = (m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0])
    res = quiet_fit(DiD(outcome="y", unit="id", time="post", treatment="d"), df)
    assert res.att == pytest.approx(closed, abs=1e-10)
    # CR1 by unit equals the two-sample SE of the changes times the fixest factor
    ch = df.pivot(index="id", columns="post", values="y").diff(axis=1)[1]
    g = df.groupby("id")["nj"].first()
    a, b = ch[g == 1], ch[g == 0]
    resid = np.concatenate([a - a.mean(), b - b.mean()])
    x = np.concatenate([np.full(a.size, 1 - a.size / n), np.full(b.size, -a.size / n)])
    # person-level score in FE model = 0.5 * change-residual * (d - mean) (two periods)
    se0 = np.sqrt(np.sum((x * resid) ** 2)) / np.sum(x**2)
    k = 1 + 2  # regressor + 2 period levels (unit FE nested in clusters)
    factor = n / (n - 1) * (2 * n - 1) / (2 * n - k)
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(se0 * np.sqrt(factor), rel=1e-10)


def test_few_cluster_warning_recorded_and_named():
    df = person_panel(seed=4, n_clusters=11, treated_clusters=1)
    with pytest.warns(StatisticalWarning, match="only 11 clusters .* only 1 treated cluster"):
        res = DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m").fit(df)
    assert any("Randomization" in w and "ConleyTaber" in w for w in res.warnings)
    res2 = res.with_inference(WildBootstrap(seed=1))
    assert res2.warnings == res.warnings


def test_with_inference_returns_new_result_and_summary_states_ssc():
    df = person_panel(seed=6, n_clusters=40, treated_clusters=12)
    res = DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m").fit(df)
    assert not res.warnings
    s = str(res.summary())
    assert "CR1" in s and "G/(G-1)*(N-1)/(N-K)" in s and "G-1 = 39 df" in s
    boot = res.with_inference(WildBootstrap(reps=999, seed=2))
    assert boot is not res and boot.att == res.att
    assert boot.tidy()["inference"].iloc[0].startswith("wild cluster bootstrap")
    assert res.tidy()["inference"].iloc[0].startswith("cluster-robust")
    cr0 = res.with_inference(Cluster("m", correction="CR0"))
    assert cr0.tidy()["std_error"].iloc[0] < res.tidy()["std_error"].iloc[0]
    assert isinstance(res.plot(), matplotlib.axes.Axes)
    json.dumps(boot.to_dict())
    with pytest.raises(SpecificationError, match="set cluster="):
        res.with_inference(Cluster("id"))


def test_bad_input():
    df = person_panel(seed=7)
    with pytest.raises(SpecificationError, match="exactly one of treatment"):
        DiD(outcome="y", unit="id", time="t")
    with pytest.raises(SpecificationError, match=r"vcov=\) takes a variance spec"):
        DiD(outcome="y", unit="id", time="t", treatment="d", vcov="hc1")
    with pytest.raises(SpecificationError, match="conf_level"):
        DiD(outcome="y", unit="id", time="t", treatment="d", conf_level=95)
    bad = df.copy()
    bad["y"] = bad["y"].astype(object)
    bad.loc[bad.index[:3], "y"] = "x"
    with pytest.raises(DataError, match="must be numeric"):
        DiD(outcome="y", unit="id", time="t", treatment="d").fit(bad)
    df2 = df.assign(z=df["m"] * 2.0)
    with pytest.raises(EstimationError, match="'z' is collinear with the fixed effects"):
        quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", covariates=["z"]), df2)


def test_input_not_mutated_and_result_immutable():
    df = person_panel(seed=8)
    before = df.copy()
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m"), df)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(AttributeError):
        res.fit = None


def test_cell_sufficient_statistics_path_equals_row_path():
    from causalips.inference import Randomization

    df = person_panel(seed=9, n_clusters=11, treated_clusters=1)
    kw = dict(outcome="y", unit="id", time="t", treatment="d", cluster="m")
    fast = quiet_fit(DiD(**kw), df)
    rows = quiet_fit(DiD(**kw, fixed_effects=("unit", "time", "m")), df)  # m nested: no-op FE
    assert fast.info["engine"] == "cell sufficient statistics" and rows.info["engine"] == "rows"
    assert fast.n_obs == rows.n_obs == len(df)
    for spec in (None, WildBootstrap(seed=1), WildBootstrap(subcluster="t", seed=1),
                 Randomization()):
        a = fast if spec is None else fast.with_inference(spec)
        b = rows if spec is None else rows.with_inference(spec)
        cols = ["estimate", "std_error", "p_value", "conf_low", "conf_high"]
        np.testing.assert_allclose(a.tidy()[cols].to_numpy(float),
                                   b.tidy()[cols].to_numpy(float), rtol=1e-7, atol=1e-9)
    assert fast.glance()["r2_within"].iloc[0] == pytest.approx(
        rows.glance()["r2_within"].iloc[0], rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(-5, 5).filter(lambda c: abs(c) > 0.1), seed=st.integers(0, 10**6))
def test_invariant_to_fixed_effect_shifts_and_equivariant_to_scale(scale, seed):
    """Unit and period shifts are absorbed; rescaling y rescales the estimate and its SE."""
    df = person_panel(seed=1, n_clusters=8, people=6, treated_clusters=3)
    kw = dict(outcome="y", unit="id", time="t", treatment="d", cluster="m")
    base = quiet_fit(DiD(**kw), df).tidy().iloc[0]
    rng = np.random.default_rng(seed)
    shifted = df.assign(y=scale * df["y"] + rng.normal(0, 50, df["id"].max() + 1)[df["id"]]
                        + rng.normal(0, 50, df["t"].max() + 1)[df["t"]])
    new = quiet_fit(DiD(**kw), shifted).tidy().iloc[0]
    assert new["estimate"] == pytest.approx(scale * base["estimate"], rel=1e-7, abs=1e-8)
    assert new["std_error"] == pytest.approx(abs(scale) * base["std_error"], rel=1e-7)
    assert new["p_value"] == pytest.approx(base["p_value"], rel=1e-6, abs=1e-12)


def test_trends_plot_has_both_groups():
    df = person_panel(seed=2)
    ax = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m"), df).plot()
    labels = [line.get_label() for line in ax.get_lines()]
    assert "treated" in labels and "control" in labels


def test_fit_on_cells_aggregated_elsewhere_equals_person_level_fit():
    """DuckDB-style cell table (count, mean per municipality x year) -> same att, CR1, RI, WCR."""
    from causalips.inference import Randomization

    df = person_panel(seed=41, n_clusters=11, treated_clusters=1)
    cells = (df.groupby(["m", "t"], as_index=False)
               .agg(n=("y", "size"), y=("y", "mean"), ft=("ft", "first")))
    kw = dict(outcome="y", time="t", first_treated="ft", cluster="m")
    person = quiet_fit(DiD(unit="id", **kw), df)
    agg = quiet_fit(DiD(unit="m", cell_counts="n", **kw), cells)
    assert agg.n_obs == person.n_obs == len(df)
    assert agg.info["engine"] == "cell sufficient statistics (given)"
    for spec in (None, WildBootstrap(seed=2), Randomization()):
        a = person if spec is None else person.with_inference(spec)
        b = agg if spec is None else agg.with_inference(spec)
        cols = ["estimate", "std_error", "p_value", "conf_low", "conf_high"]
        np.testing.assert_allclose(a.tidy()[cols].to_numpy(float),
                                   b.tidy()[cols].to_numpy(float), rtol=1e-7, atol=1e-9)
    with pytest.raises(SpecificationError, match="not both"):
        DiD(unit="m", cell_counts="n", weights="n", **kw)


def test_cell_path_with_cluster_and_time_fe_on_unbalanced_panel():
    df = person_panel(seed=51, drop_frac=0.25)
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m",
                        fixed_effects=("cluster", "time")), df)
    assert res.info["engine"] == "cell sufficient statistics"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ d | m + t", data=df, vcov={"CRV1": "m"}, fixef_tol=1e-13)
    assert res.att == pytest.approx(ref.coef().iloc[0], abs=1e-8)
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(ref.se().iloc[0], rel=1e-6)
    assert res.glance()["r2_within"].iloc[0] == pytest.approx(ref._r2_within, rel=1e-6)


def test_vcov_takes_the_variance_inference_the_resampling():
    df = person_panel(seed=61, n_clusters=12, treated_clusters=3)
    kw = dict(outcome="y", unit="id", time="t", treatment="d", cluster="m")
    boot = quiet_fit(DiD(**kw, inference=WildBootstrap(reps=999, seed=1)), df)
    assert boot.tidy()["inference"].iloc[0].startswith("wild cluster bootstrap")
    assert isinstance(boot.variance, Cluster) and isinstance(boot.inference, WildBootstrap)
    cr0 = quiet_fit(DiD(**kw, vcov=Cluster("m", correction="CR0")), df)
    assert cr0.inference is None and cr0.glance()["vcov"].iloc[0] == "cluster CR0"
    # vcov_matrix follows the variance spec
    base = quiet_fit(DiD(**kw), df)
    ratio = base.vcov_matrix().iloc[0, 0] / cr0.vcov_matrix().iloc[0, 0]
    assert ratio == pytest.approx(base.fit.ssc("CR1"), rel=1e-12)
    # with_inference takes either kind; the fit is shared, not redone
    again = boot.with_inference(Cluster("m", correction="CR0"))
    assert again.inference is None and again._cache is boot._cache
    assert again.tidy()["std_error"].iloc[0] == pytest.approx(cr0.tidy()["std_error"].iloc[0])
    with pytest.raises(SpecificationError, match=r"inference=\) takes"):
        DiD(**kw, inference=Cluster("m"))
    with pytest.raises(SpecificationError, match="WildBootstrap clusters on 'id'"):
        DiD(**kw, inference=WildBootstrap(cluster="id"))


def test_resampling_spec_as_vcov_still_works_with_a_future_warning():
    df = person_panel(seed=62, n_clusters=12, treated_clusters=3)
    kw = dict(outcome="y", unit="id", time="t", treatment="d", cluster="m")
    with pytest.warns(FutureWarning, match="resampling goes to inference="):
        old = DiD(**kw, vcov=WildBootstrap(reps=999, seed=1))
    assert old.vcov is None and isinstance(old.inference, WildBootstrap)
    new = DiD(**kw, inference=WildBootstrap(reps=999, seed=1))
    pd.testing.assert_frame_equal(quiet_fit(old, df).tidy(), quiet_fit(new, df).tidy())


def test_zero_weights_dropped_with_a_warning_and_pyfixest_on_the_rest():
    df = person_panel(seed=63, drop_frac=0.1)
    df.loc[df.index[::17], "w"] = 0.0
    kw = dict(outcome="y", unit="id", time="t", treatment="d", cluster="m", weights="w")
    with pytest.warns(DroppedRowsWarning, match=f"{int((df['w'] == 0).sum())} rows with zero "
                                                 "weight in 'w' dropped"):
        res = DiD(**kw).fit(df)
    pos = df[df["w"] > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pf.feols("y ~ d | id + t", data=pos, vcov={"CRV1": "m"}, weights="w",
                       fixef_tol=1e-13)
    assert res.att == pytest.approx(ref.coef().iloc[0], abs=1e-8)
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(ref.se().iloc[0], rel=1e-6)
    assert res.n_obs == ref._N
    assert any("zero weight" in w for w in res.warnings)


def test_degenerate_inputs_give_one_line_errors():
    rng = np.random.default_rng(64)
    unique_times = pd.DataFrame({"id": np.repeat(np.arange(10), 4), "t": np.arange(40),
                                 "y": rng.normal(size=40)})
    unique_times["d"] = ((unique_times["id"] < 3) & (unique_times["t"] % 4 >= 2)).astype(int)
    with pytest.raises(DataError, match="aggregate it to periods"):
        quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d"), unique_times)
    huge = person_panel(seed=64).assign(y=lambda d: d["y"] * 1e300)
    with pytest.raises(DataError, match="overflow double precision"):
        quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d"), huge)
    ok = person_panel(seed=64).assign(y=lambda d: d["y"] * 1e90)  # large but representable
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m"), ok)
    base = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m"),
                     person_panel(seed=64))
    assert res.att == pytest.approx(base.att * 1e90, rel=1e-9)
    assert res.tidy()["std_error"].iloc[0] == pytest.approx(
        base.tidy()["std_error"].iloc[0] * 1e90, rel=1e-9)


def test_default_fit_builds_no_assignment_design_until_asked():
    from causalips.inference import ConleyTaber, Randomization

    df = person_panel(seed=65, n_clusters=11, treated_clusters=1)
    res = quiet_fit(DiD(outcome="y", unit="id", time="t", treatment="d", cluster="m"), df)
    assert "design" not in res._cache
    ri = res.with_inference(Randomization(progress=False))
    built = res._cache["design"]
    ct = ri.with_inference(ConleyTaber(progress=False))
    assert ct._assignment_design() is built  # built once per fit, shared by its results
    assert ri.glance()["reps"].iloc[0] == 11 and ct.glance()["reps"].iloc[0] == 10
    assert np.isnan(res.glance()["reps"].iloc[0])


def test_repeated_cross_sections_summary_and_cells():
    from causalips.inference import Randomization

    rng = np.random.default_rng(66)
    rows = rng.integers(0, 12 * 6, 3000)
    df = pd.DataFrame({"m": rows // 6, "year": 2010 + rows % 6})
    df["ft"] = np.where(df["m"] < 3, 2013.0, np.nan)
    df["y"] = rng.normal(size=len(df)) + df["m"] * 0.3 + 1.2 * (df["year"] >= df["ft"])
    with pytest.raises(DataError, match="panel=False"):
        quiet_fit(DiD(outcome="y", unit="m", time="year", first_treated="ft"), df)
    res = quiet_fit(DiD(outcome="y", unit="m", time="year", first_treated="ft", panel=False), df)
    s = str(res.summary())
    assert "repeated cross-sections: 3000 rows; 12 m" in s and "always treated" not in s
    assert res.info["engine"] == "cell sufficient statistics"
    assert res.glance()["data"].iloc[0] == "repeated cross-sections"
    cells = (df.groupby(["m", "year"], as_index=False)
               .agg(n=("y", "size"), y=("y", "mean"), ft=("ft", "first")))
    agg = quiet_fit(DiD(outcome="y", unit="m", time="year", first_treated="ft",
                        cell_counts="n"), cells)
    for spec in (None, Randomization(progress=False)):
        a = res if spec is None else res.with_inference(spec)
        b = agg if spec is None else agg.with_inference(spec)
        cols = ["estimate", "std_error", "p_value", "conf_low", "conf_high"]
        np.testing.assert_allclose(a.tidy()[cols].to_numpy(float),
                                   b.tidy()[cols].to_numpy(float), rtol=1e-8, atol=1e-10)
