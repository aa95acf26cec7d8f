"""DiD, EventStudy and StaggeredDiD on data held by an engine equal the pandas path.

Every backend `fit(data)` accepts (Parquet, CSV, DuckDB, pyarrow, polars, Spark) computes the
cell statistics where the data live; coefficients, CR1 standard errors and the resampling
methods must equal those of the same data in pandas to 1e-10. Spark runs with
``spark.driver.maxResultSize=4m`` (see tests/engine/conftest.py), so a fit that collected the
rows would fail.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _did_helpers import person_panel
from _engine_fixtures import BACKENDS  # (spark, to_backend: tests/conftest.py)

import causalips as ci
from causalips.errors import DataError, DroppedRowsWarning, SpecificationError
from causalips.inference import ConleyTaber, Randomization, WildBootstrap

#: the engine tests' data kinds and fixtures (a local Spark session, the same frame per engine)
COLS = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
GLANCE = ["n_obs", "n_units", "n_periods", "n_clusters", "n_treated_clusters", "k",
          "r2_within"]


def quiet(est, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data)


def same(a, b, cols=COLS, rtol=1e-10):
    ta, tb = a.tidy(), b.tidy()
    assert list(ta["term"]) == list(tb["term"])
    np.testing.assert_allclose(ta[cols].to_numpy(float), tb[cols].to_numpy(float), rtol=rtol,
                               atol=1e-12)
    if hasattr(a, "fit"):
        np.testing.assert_allclose(a.glance()[GLANCE].to_numpy(float),
                                   b.glance()[GLANCE].to_numpy(float), rtol=rtol)


def panel(seed=0, **kw):
    opts = dict(n_clusters=12, people=12, periods=6, treated_clusters=4, start=3)
    return person_panel(seed=seed, **{**opts, **kw}).drop(columns=["w"])


PERSON = dict(outcome="y", unit="id", time="t", cluster="m")
#: every backend but Spark, whose queries take seconds each: it has its own test below, on a
#: frame larger than the driver may collect, with DiD, EventStudy and StaggeredDiD
LOCAL = [k for k in BACKENDS if k != "spark"]


# -- DiD -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", LOCAL)
def test_did_on_every_engine_equals_pandas(kind, to_backend):
    df = panel(seed=1)
    df["id"] = "p" + df["id"].astype(str)  # text ids: no help from integer codes
    data = to_backend(df, kind)
    for fe in (("unit", "time"), ("cluster", "time")):
        est = ci.DiD(first_treated="ft", fixed_effects=fe, **PERSON)
        got = quiet(est, data)
        same(got, quiet(est, df))
        assert got.info["engine"].startswith("cell sufficient statistics, computed by")
    est = ci.DiD(treatment="d", **PERSON)
    same(quiet(est, data), quiet(est, df))


@pytest.mark.parametrize("kind", ["duckdb", "polars_lazy"])
def test_did_variants_equal_pandas(kind, to_backend):
    """Unbalanced panels with municipality FE, cell-constant covariates, municipality panels."""
    df = panel(seed=2)
    rng = np.random.default_rng(2)
    unbalanced = df.sample(frac=0.8, random_state=3).reset_index(drop=True)
    est = ci.DiD(first_treated="ft", fixed_effects=("cluster", "time"), **PERSON)
    same(quiet(est, to_backend(unbalanced, kind)), quiet(est, unbalanced))
    shock = rng.normal(size=(12, 6))
    df["z"] = shock[df["m"], df["t"]]  # a municipality x year covariate
    est = ci.DiD(first_treated="ft", covariates=["z"], **PERSON)
    same(quiet(est, to_backend(df, kind)), quiet(est, df))
    cells = df.groupby(["m", "t"], as_index=False).agg(y=("y", "mean"), d=("d", "first"))
    est = ci.DiD(outcome="y", unit="m", time="t", treatment="d")  # the unit is the cluster
    same(quiet(est, to_backend(cells, kind)), quiet(est, cells))


@pytest.mark.parametrize("kind", ["parquet", "duckdb", "polars"])
def test_repeated_cross_sections_equal_pandas(kind, to_backend):
    rng = np.random.default_rng(66)
    rows = rng.integers(0, 12 * 6, 3000)
    df = pd.DataFrame({"m": rows // 6, "year": 2010 + rows % 6})
    df["ft"] = np.where(df["m"] < 3, 2013.0, np.nan)
    df["y"] = rng.normal(size=len(df)) + df["m"] * 0.3 + 1.2 * (df["year"] >= df["ft"])
    est = ci.DiD(outcome="y", unit="m", time="year", first_treated="ft", panel=False)
    got, want = quiet(est, to_backend(df, kind)), quiet(est, df)
    same(got, want)
    assert "repeated cross-sections: 3000 rows" in str(got.summary())
    es = ci.EventStudy(outcome="y", unit="m", time="year", first_treated="ft", panel=False)
    same(quiet(es, to_backend(df, kind)), quiet(es, df))


# -- EventStudy ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", LOCAL)
def test_event_study_windows_equal_pandas(kind, to_backend):
    df = panel(seed=4, periods=8, start=4)
    data = to_backend(df, kind)
    for opts in (dict(window=(-3, 2)), dict(), dict(window=(-2, 2), bin_endpoints=False)):
        est = ci.EventStudy(first_treated="ft", **PERSON, **opts)
        got, want = quiet(est, data), quiet(est, df)
        same(got, want)
        assert got.pretrend["statistic"] == pytest.approx(want.pretrend["statistic"], rel=1e-10)


def test_event_study_with_a_treatment_column_and_sun_abraham(to_backend):
    df = panel(seed=5, periods=8, start=3)
    late = df["m"] == 1  # a second cohort
    df.loc[late, "ft"] = 5.0
    df["d"] = (df["t"] >= df["ft"]).astype(float)
    data = to_backend(df, "duckdb")
    for est in (ci.EventStudy(treatment="d", window=(-2, 2), **PERSON),
                ci.EventStudy(first_treated="ft", method="sun_abraham", **PERSON)):
        same(quiet(est, data), quiet(est, df))


# -- inference on the cells ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["parquet", "polars"])
def test_resampling_on_engine_cells_equals_pandas(kind, to_backend):
    df = panel(seed=6, n_clusters=9, treated_clusters=2)
    est = ci.DiD(first_treated="ft", **PERSON)
    got, want = quiet(est, to_backend(df, kind)), quiet(est, df)
    for spec in (WildBootstrap(reps=199, seed=3, progress=False),
                 WildBootstrap(reps=99, seed=3, subcluster="t", progress=False),
                 Randomization(progress=False), ConleyTaber(progress=False)):
        same(quiet_inference(got, spec), quiet_inference(want, spec))
    es = ci.EventStudy(first_treated="ft", window=(-2, 1), **PERSON)
    spec = Randomization(progress=False)
    same(quiet_inference(quiet(es, to_backend(df, kind)), spec),
         quiet_inference(quiet(es, df), spec))


def quiet_inference(result, spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return result.with_inference(spec)


def test_pyfixest_parity_carries_over():
    import pyfixest as pf

    df = panel(seed=7)
    got = quiet(ci.DiD(treatment="d", **PERSON), to_parquet(df))
    ref = pf.feols("y ~ d | id + t", data=df, vcov={"CRV1": "m"})
    assert got.att == pytest.approx(float(ref.coef()["d"]), rel=1e-10)
    assert got.tidy()["std_error"].iloc[0] == pytest.approx(float(ref.se()["d"]), rel=1e-10)


def test_within_r2_waits_until_asked_and_refuses_data_changed_since(tmp_path):
    import pyfixest as pf

    df = panel(seed=8)
    path = tmp_path / "panel.parquet"
    df.to_parquet(path, index=False)
    res = quiet(ci.DiD(treatment="d", **PERSON), str(path))
    later = quiet(ci.DiD(treatment="d", **PERSON), str(path))
    assert res.fit.within_pending is not None  # the fit itself did not pay for the R²
    ref = pf.feols("y ~ d | id + t", data=df, vcov={"CRV1": "m"})
    r2 = res.glance()["r2_within"].iloc[0]
    assert r2 == pytest.approx(ref._r2_within, rel=1e-9)
    df.assign(y=df["y"] + 1.0).to_parquet(path, index=False)
    assert res.glance()["r2_within"].iloc[0] == r2  # computed once, kept
    with pytest.raises(DataError, match="changed since the fit"):
        later.glance()


def to_parquet(df):
    import duckdb

    return duckdb.connect().from_df(df)


# -- validation in the engine: the pandas path's messages -----------------------------------
@pytest.mark.parametrize("kind", ["duckdb", "polars"])
def test_bad_panels_give_the_pandas_messages(kind, to_backend):
    df = panel(seed=8)
    est = ci.DiD(first_treated="ft", **PERSON)
    cases = [
        (df.drop(columns="y"), "'y'"),
        (df.assign(y=np.where(df.index == 5, np.nan, df["y"])),
         r"'y' \(the outcome\) has 1 missing or infinite values"),
        (df.assign(y=df["y"].astype(str)), r"'y' \(the outcome\) must be numeric"),
        (pd.concat([df, df.iloc[[3]]]), "1 rows share the same id/t pair|2 rows share"),
        (df.assign(ft=np.where(df.index == 0, 2.0, df["ft"])), "changes within a unit"),
        (df.assign(ft=np.where(df["id"] == 0, 2.0, df["ft"])), "exposure varies within m x t"),
        (df.assign(m=df["m"].where(df.index != 4)), r"'m' \(the cluster\) has 1 missing"),
    ]
    for bad, message in cases:
        with pytest.raises((DataError, Exception), match=message):
            quiet(est, to_backend(bad, kind))
    off = df.assign(d=np.where((df["t"] == 5) & (df["d"] == 1), 0.0, df["d"]))
    with pytest.raises(DataError, match="treatment switches off: 48 rows"):
        quiet(ci.DiD(treatment="d", **PERSON), to_backend(off, kind))
    with pytest.raises(DataError, match="must be 0/1; 1 rows"):
        quiet(ci.DiD(treatment="d", **PERSON), to_backend(df.assign(
            d=np.where(df.index == 2, 2.0, df["d"])), kind))


def test_what_does_not_reduce_to_cells_is_refused_naming_the_aggregation(to_backend):
    df = panel(seed=9)
    df["x1"] = np.random.default_rng(0).normal(size=len(df))
    data = to_backend(df, "duckdb")
    with pytest.raises(DataError, match=r"covariate 'x1' varies within m x t cells.*avg\(x1\)"):
        quiet(ci.DiD(first_treated="ft", covariates=["x1"], **PERSON), data)
    with pytest.raises(SpecificationError, match="weights.*not pushed into the engine"):
        quiet(ci.DiD(first_treated="ft", weights="x1", **PERSON), data)
    with pytest.raises(SpecificationError, match="'region' is not"):
        quiet(ci.DiD(first_treated="ft", fixed_effects=("unit", "region"), **PERSON), data)
    with pytest.raises(SpecificationError, match="unbalanced.*fixed_effects=\\('cluster', "):
        quiet(ci.DiD(first_treated="ft", **PERSON), to_backend(df.iloc[5:], "duckdb"))
    with pytest.raises(SpecificationError, match="sun_abraham.*covariates"):
        quiet(ci.EventStudy(first_treated="ft", method="sun_abraham", covariates=["x1"],
                            **PERSON), data)
    moved = df.assign(m=np.where((df["id"] == 30) & (df["t"] == 0), 7, df["m"]))
    with pytest.raises(SpecificationError, match="units move between m clusters"):
        quiet(ci.DiD(first_treated="ft", **PERSON), to_backend(moved, "duckdb"))
    person_clusters = ci.DiD(first_treated="ft", outcome="y", unit="id", time="t")
    assert quiet(person_clusters, data).n_clusters == df["id"].nunique()  # small: still fine


def test_cell_counts_rows_held_by_an_engine_are_read_as_cells(to_backend):
    df = panel(seed=10)
    cells = df.groupby(["m", "t"], as_index=False).agg(n=("y", "size"), y=("y", "mean"),
                                                         ft=("ft", "first"))
    est = ci.DiD(outcome="y", unit="m", time="t", first_treated="ft", cell_counts="n")
    same(quiet(est, to_backend(cells, "parquet")), quiet(est, cells))


def test_rows_outside_the_window_are_dropped_in_the_engine_with_a_warning(to_backend):
    df = panel(seed=11, periods=8, start=4)
    est = ci.EventStudy(first_treated="ft", window=(-2, 1), bin_endpoints=False, **PERSON)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.StatisticalWarning)
        with pytest.warns(DroppedRowsWarning, match="rows of treated units outside the window"):
            est.fit(to_backend(df, "duckdb"))


# -- StaggeredDiD ----------------------------------------------------------------------------
def staggered_panel(seed=0, n_units=240, periods=7, clusters=24):
    """Units in clusters with cohort timing per cluster (4, 5, 6 or never), dynamic effects."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n_units), periods)
    t = np.tile(np.arange(1, periods + 1), n_units)
    cl = unit % clusters
    cohort = np.array([4.0, 5.0, 6.0, np.nan])[cl % 4]
    level = rng.normal(size=n_units)[unit]
    y = level + 0.2 * t + rng.normal(size=unit.size)
    y += np.where(t >= cohort, 1.0 + 0.3 * (t - cohort), 0.0)
    return pd.DataFrame({"id": unit, "t": t, "cl": cl, "g": cohort, "y": y})


def same_staggered(a, b):
    cols = ["estimate", "std_error", "std_error_bootstrap", "conf_low_band", "conf_high_band"]
    for x, y in [(a, b)] + [(a.aggregate(k), b.aggregate(k))
                            for k in ("simple", "group", "calendar", "dynamic")]:
        tx, ty = x.tidy(), y.tidy()
        assert list(tx["term"]) == list(ty["term"])
        np.testing.assert_allclose(tx[cols].to_numpy(float), ty[cols].to_numpy(float),
                                   rtol=1e-10, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(a.pretest, b.pretest, rtol=1e-9)
    assert a.glance()["n_obs"].iloc[0] == b.glance()["n_obs"].iloc[0]


STAG = dict(outcome="y", unit="id", time="t", first_treated="g")


@pytest.mark.parametrize("kind", LOCAL)
def test_staggered_on_every_engine_equals_pandas(kind, to_backend):
    df = staggered_panel(seed=1)
    df = df.drop(index=[3, 50]).reset_index(drop=True)  # two units dropped to balance
    data = to_backend(df, kind)
    for opts in (dict(inference=None),
                 dict(inference=None, control="not_yet_treated", base_period="universal"),
                 dict(cluster="cl", inference=ci.MultiplierBootstrap(reps=99, seed=2,
                                                                     progress=False))):
        est = ci.StaggeredDiD(**STAG, **opts)
        same_staggered(quiet(est, data), quiet(est, df))


#: names the engine queries give their own columns (per unit, per period, per cohort)
INTERNAL_NAMES = ("n", "mask", "cluster", "sy", "units", "n_rows", "good", "sum_y", "first",
                  "period_value", "status", "count")


@pytest.mark.parametrize("kind", ["duckdb", "polars"])
def test_columns_named_like_the_engine_queries_own_columns(kind, to_backend):
    """A unit, period, outcome or cluster column may be called "n" or "mask": the queries key
    their tables under names of their own, so the fits equal pandas instead of failing."""
    df = panel(seed=3).drop(columns=["x1"], errors="ignore")
    stag = staggered_panel(seed=2).drop(index=[3, 50]).reset_index(drop=True)
    for k, name in enumerate(INTERNAL_NAMES):
        role = ("unit", "time", "outcome", "cluster")[k % 4]
        col = {"unit": "id", "time": "t", "outcome": "y", "cluster": "m"}[role]
        spec = {**PERSON, "treatment": "d", role: name}
        renamed = df.rename(columns={col: name})
        same(quiet(ci.DiD(**spec), to_backend(renamed, kind)), quiet(ci.DiD(**spec), renamed))
        spec = {**STAG, "cluster": "cl", "inference": None, role: name}
        renamed = stag.rename(columns={{**STAG, "cluster": "cl"}[role]: name})
        same_staggered(quiet(ci.StaggeredDiD(**spec), to_backend(renamed, kind)),
                       quiet(ci.StaggeredDiD(**spec), renamed))


@pytest.mark.parametrize("kind", ["parquet", "polars"])
def test_staggered_on_mpdta_and_repeated_cross_sections(kind, to_backend):
    from causalips.datasets import load_mpdta

    df = load_mpdta().assign(state=lambda d: d["countyreal"] // 1000)
    kw = dict(outcome="lemp", time="year", first_treated="first.treat")
    spec = ci.MultiplierBootstrap(reps=99, seed=4, progress=False)
    for est in (ci.StaggeredDiD(unit="countyreal", inference=None, **kw),
                ci.StaggeredDiD(unit="countyreal", cluster="state", inference=spec, **kw)):
        same_staggered(quiet(est, to_backend(df, kind)), quiet(est, df))
    rows = df.sample(frac=0.6, random_state=1).reset_index(drop=True)
    rows.loc[5, "lemp"] = np.nan  # dropped with a warning, as in memory
    for est in (ci.StaggeredDiD(panel=False, inference=None, **kw),
                ci.StaggeredDiD(panel=False, cluster="state", inference=spec, **kw)):
        same_staggered(quiet(est, to_backend(rows, kind)), quiet(est, rows))


def test_staggered_warnings_and_refusals_at_scale(to_backend):
    df = staggered_panel(seed=3).drop(index=[0])
    data = to_backend(df, "duckdb")
    est = ci.StaggeredDiD(**STAG, inference=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.StatisticalWarning)
        with pytest.warns(DroppedRowsWarning, match="1 units not observed in all 7 periods"):
            est.fit(data)
    with pytest.raises(SpecificationError, match="cluster=.*inference=None"):
        ci.StaggeredDiD(**STAG).fit(data)  # the default bootstrap, no clusters
    res = quiet(est, data)
    with pytest.raises(SpecificationError, match="one multiplier per unit"):
        res.with_inference(ci.MultiplierBootstrap(seed=1))
    with pytest.raises(SpecificationError, match="covariates.*not pushed into the engine"):
        ci.StaggeredDiD(**STAG, covariates=["cl"], inference=None).fit(data)
    varies = df.assign(g=np.where(df.index == 10, 2.0, df["g"]))
    with pytest.raises(DataError, match="changes within a unit"):
        quiet(est, to_backend(varies, "duckdb"))
    with pytest.raises(DataError, match="share the same id/t pair"):
        quiet(est, to_backend(pd.concat([df, df.iloc[[5]]]), "duckdb"))


# -- Spark: the work stays in Spark ----------------------------------------------------------
def test_spark_fits_a_frame_larger_than_the_driver_may_collect(spark):
    """300,000 person-years (about 14 MB as rows) with spark.driver.maxResultSize=4m (the
    event study runs the same queries as DiD, with the timing range per cell added)."""
    rng = np.random.default_rng(12)
    people, periods = 30_000, 10
    pid = np.repeat(np.arange(people), periods)
    year = np.tile(np.arange(2010, 2010 + periods), people)
    muni = pid % 40
    ft = np.where(muni < 10, 2014.0 + muni % 3, np.nan)
    y = (rng.normal(size=people)[pid] + 0.1 * (year - 2010) + rng.normal(size=pid.size)
         + 2.0 * (year >= ft))
    df = pd.DataFrame({"person": pid, "year": year, "muni": muni, "ft": ft, "y": y})
    sdf = spark.createDataFrame(df).cache()  # held by Spark (cached: the test scans it often)
    with pytest.raises(Exception, match="maxResultSize|bigger than"):
        sdf.toPandas()  # collecting the rows is refused: what follows never collects them
    kw = dict(outcome="y", unit="person", time="year", cluster="muni", first_treated="ft")
    did = ci.DiD(**kw)
    got = quiet(did, sdf)
    same(got, quiet(did, df))
    spec = WildBootstrap(reps=99, seed=1, progress=False)
    same(quiet_inference(got, spec), quiet_inference(quiet(did, df), spec))
    stag = ci.StaggeredDiD(outcome="y", unit="person", time="year", first_treated="ft",
                           cluster="muni", inference=ci.MultiplierBootstrap(reps=99, seed=3,
                                                                            progress=False))
    same_staggered(quiet(stag, sdf), quiet(stag, df))


# -- from registry spells to the estimate, in the engine ---------------------------------------
def test_from_spells_to_did_in_duckdb_equals_pandas(tmp_path):
    import duckdb

    from causalips import engine, workdays_by_period

    rng = np.random.default_rng(5)
    n_people, n_spells = 300, 900
    start = pd.Timestamp("2014-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, n_spells),
                                                         "D")
    spells = pd.DataFrame({"person": rng.integers(0, n_people, n_spells), "start": start,
                           "end": start + pd.to_timedelta(rng.integers(0, 500, n_spells), "D"),
                           "share": rng.choice([1.0, 0.5], n_spells)})
    path = tmp_path / "spells.parquet"
    spells.to_parquet(path, index=False)
    people = pd.DataFrame({"person": np.arange(n_people), "muni": np.arange(n_people) % 15})
    people["ft"] = np.where(people["muni"] < 5, 2017.0, np.nan)
    years = pd.DataFrame({"year": np.arange(2014, 2020)})
    kw = dict(person="person", start="start", end="end", fraction="share")
    did = ci.DiD(outcome="workdays", unit="person", time="year", cluster="muni",
                 first_treated="ft")

    in_memory = workdays_by_period(spells, **kw)
    frame = people.merge(years, how="cross").merge(in_memory, on=["person", "year"], how="left")
    frame["workdays"] = frame["workdays"].fillna(0.0)
    want = quiet(did, frame)

    con = engine.connection()
    relation = workdays_by_period(str(path), **kw)  # a DuckDB relation: nothing collected
    assert isinstance(relation, duckdb.DuckDBPyRelation)
    persons = con.from_df(people).set_alias("p")
    panel = (persons.cross(con.from_df(years).set_alias("y"))
             .join(relation.set_alias("w"), "p.person = w.person AND y.year = w.year", "left")
             .project("p.person AS person, y.year AS year, p.muni AS muni, p.ft AS ft, "
                      "coalesce(w.workdays, 0.0) AS workdays"))
    got = quiet(did, panel)
    same(got, want)
    assert got.info["engine"].startswith("cell sufficient statistics, computed by duckdb")
