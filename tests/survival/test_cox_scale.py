"""Cox fitted where the data live (files, DuckDB, pyarrow, polars, Spark) equals the pandas path.

The engine path never collects rows: each Newton step is one grouped aggregation per distinct
(stratum, time, event) and the sandwich variances one more pass. Its numbers must equal the
in-memory fit's: coefficients to 1e-8, SEs (model, robust, cluster) to 1e-6, on random data
with tied times, strata, case weights, a text factor, a log term, entry times and clusters.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import causalips as ci
from causalips.errors import (
    ColumnNotFoundError,
    DataError,
    DroppedRowsWarning,
    EstimationError,
    SpecificationError,
)
from causalips.inference import Cluster, ModelBased, Robust

# the engine tests' fixtures: `spark` (maxResultSize 4 MB), `to_backend`, and BACKENDS
_spec = importlib.util.spec_from_file_location(
    "engine_fixtures", Path(__file__).resolve().parents[1] / "engine" / "conftest.py")
_engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_engine)
BACKENDS, spark, to_backend = _engine.BACKENDS, _engine.spark, _engine.to_backend

FULL = dict(duration="days", event="job", covariates=["x1", "log(x2)", "arm"],
            strata=["site"], weights="w", entry="start", progress=False)


def spells(n=1200, seed=3, people=150):
    """Whole-day times (many ties), two sites, a text arm, weights, entry times, people."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.uniform(20, 60, n),
                       "arm": rng.choice(["ips", "tau", "wait"], n),
                       "site": rng.choice(["north", "south"], n),
                       "w": rng.uniform(0.5, 2.0, n), "person": rng.integers(0, people, n)})
    lp = 0.4 * df.x1 + 0.02 * df.x2 + 0.3 * (df.arm == "ips") - 0.2 * (df.arm == "wait")
    t = rng.exponential(25 * np.exp(-lp))
    c = rng.uniform(5, 60, n)
    df["days"] = np.ceil(np.minimum(t, c))
    df["job"] = (t <= c).astype(np.int64)
    df["start"] = np.floor(rng.uniform(0, 0.6, n) * df["days"])
    return df


def assert_same_fit(got, want, *, se=True):
    assert got.tidy()["term"].tolist() == want.tidy()["term"].tolist()
    assert_allclose(got.coef, want.coef, rtol=0, atol=1e-8)
    if se:
        g, w = got.tidy(), want.tidy()
        assert_allclose(g["std_error"], w["std_error"], rtol=1e-6)
        assert_allclose(g["std_error_model"], w["std_error_model"], rtol=1e-6)
    gg, gw = got.glance().iloc[0], want.glance().iloc[0]
    for key in ("n_obs", "n_events", "iterations", "n_strata", "n_clusters"):
        assert gg[key] == gw[key] or (pd.isna(gg[key]) and pd.isna(gw[key])), key
    for key in ("loglik", "loglik_null", "n_events_weighted", "lr_stat", "score_stat",
                "wald_stat"):
        assert_allclose(gg[key], gw[key], rtol=1e-8, err_msg=key)


def assert_every_variance_equal(got, want):
    """Cluster (the fit's), robust and model-based SEs of the same fit, and the robust score
    test, equal the pandas path's."""
    assert_same_fit(got, want)
    assert got.glance()["robust_score_stat"].iloc[0] == pytest.approx(
        want.glance()["robust_score_stat"].iloc[0], rel=1e-8)
    assert_same_fit(got.with_inference(Robust()), want.with_inference(Robust()))
    assert_same_fit(got.with_inference(ModelBased()), want.with_inference(ModelBased()))


@pytest.mark.parametrize("kind", [k for k in BACKENDS if k != "spark"])
def test_every_engine_equals_pandas(kind, to_backend):
    """Efron, strata, weights, a text factor, log(), (start, stop] and clusters at once;
    model, robust and cluster SEs. (Spark: on a large frame, below.)"""
    df = spells()
    cox = ci.Cox(**FULL, vcov=Cluster("person"))
    assert_every_variance_equal(cox.fit(to_backend(df, kind)), cox.fit(df))


@pytest.mark.parametrize("options", [
    dict(),
    dict(ties="breslow"),
    dict(strata=["site"]),
    dict(weights="w", vcov=Robust()),
    dict(entry="start", ties="breslow", vcov=Cluster("person", correction="CR1")),
    dict(covariates=["x1:arm", "sqrt(x2)", "exp(x1)"], strata=["site", "arm"]),
    dict(covariates=["arm", "grade", "site:x1"], categorical=["grade"],
         reference={"arm": "tau", "grade": 2}, vcov=Cluster("person")),
    dict(covariates=["x1", "flag"], weights="w", entry="start", vcov=Robust()),
], ids=["plain", "breslow", "strata", "weights-robust", "entry-breslow-cr1",
        "interactions-transforms", "factors-reference", "boolean-factor"])
def test_options_equal_pandas(options, to_backend):
    df = spells().assign(grade=lambda d: (d.x2 // 10).astype(int),
                         flag=lambda d: d.x1 > 0.3)
    plan = dict(duration="days", event="job", covariates=["x1", "x2", "arm"], progress=False)
    cox = ci.Cox(**(plan | options))
    assert_same_fit(cox.fit(to_backend(df, "duckdb")), cox.fit(df))


def test_spark_fits_a_frame_it_could_not_collect(spark, tmp_path):
    """Spark with maxResultSize=4m: collecting 300,000 rows fails, the fit (the full plan,
    cluster/robust/model SEs) does not, and equals the pandas path's."""
    df = spells(n=300_000, seed=5, people=50_000)
    df.to_parquet(tmp_path / "spells.parquet", index=False)
    frame = spark.read.parquet(str(tmp_path / "spells.parquet"))
    with pytest.raises(Exception, match="maxResultSize|bigger than"):
        frame.toPandas()
    cox = ci.Cox(**FULL, vcov=Cluster("person"))
    assert_every_variance_equal(cox.fit(frame), cox.fit(df))


def test_proportional_hazards_test_from_per_time_sums(to_backend):
    df = spells()
    cox = ci.Cox(**FULL)
    got, want = cox.fit(to_backend(df, "polars")), cox.fit(df)
    for transform in ("km", "rank", "identity"):
        for terms in (True, False):
            a = got.check_proportional_hazards(transform, terms)
            b = want.check_proportional_hazards(transform, terms)
            assert a["term"].tolist() == b["term"].tolist()
            assert_allclose(a["chisq"], b["chisq"], rtol=1e-8)


def test_what_needs_the_rows_is_refused_clearly(to_backend):
    res = ci.Cox(**FULL).fit(to_backend(spells(), "duckdb"))
    assert np.isnan(res.glance()["concordance"].iloc[0])
    assert any("Harrell's C (concordance) needs the rows" in n for n in res.summary().notes)
    with pytest.raises(SpecificationError, match="Schoenfeld residuals needs the rows.*DuckDB"):
        res.plot_proportional_hazards("x1")
    with pytest.raises(SpecificationError, match="needs the rows.*pandas DataFrame"):
        res.survival_curves("arm")
    with pytest.raises(SpecificationError, match="did not keep the cluster column 'site'"):
        res.with_inference(Cluster("site"))
    off = ci.Cox(**FULL, diagnostics=False).fit(to_backend(spells(), "polars"))
    with pytest.raises(SpecificationError, match="diagnostics=False"):
        off.check_proportional_hazards()


def _message(exc_info) -> str:
    return str(exc_info.value)


@pytest.mark.parametrize("change, options, error, both", [
    (None, dict(covariates=["x1", "nope"]), ColumnNotFoundError, "'nope'"),
    ("negative", {}, DataError, "negative values"),
    ("entry_after", dict(entry="start"), DataError, "rows have start >= days"),
    ("no_events", {}, EstimationError, "there are no events in 'job' among the 1200 rows"),
    ("text_x", {"covariates": ["log(arm)"]}, DataError, "must be numeric"),
    ("bad_event", {}, DataError, "must be 0/1 or boolean"),
    ("negative_w", dict(weights="w"), DataError, "'w' \\(the weights\\) has 1 negative"),
    ("constant", {"covariates": ["x1", "one"]}, DataError, "\\['one'\\] do not vary"),
    ("collinear", {"covariates": ["x1", "x1_twice"]}, DataError,
     "'x1_twice' is a linear combination of \\['x1'\\]"),
    ("zero_x2", {"covariates": ["log(x2)"]}, DataError, "log\\(x2\\) is not finite for 1 rows"),
    (None, dict(covariates=["arm"], reference={"arm": "nope"}), SpecificationError,
     "reference level 'nope' for 'arm' is not in the data"),
    (None, dict(covariates=["row"], categorical=["row"]), DataError,
     "has 1,200 distinct values in 1,200 rows"),
    (None, dict(covariates=[]), SpecificationError, "covariates is empty"),
])
def test_errors_match_the_pandas_path(change, options, error, both, to_backend):
    df = spells().assign(one=1.0, x1_twice=lambda d: 2 * d.x1, row=np.arange(1200))
    if change == "negative":
        df.loc[5, "days"] = -1
    elif change == "entry_after":
        df.loc[7, "start"] = df.loc[7, "days"]
    elif change == "no_events":
        df["job"] = 0
    elif change == "bad_event":
        df.loc[3, "job"] = 2
    elif change == "negative_w":
        df.loc[9, "w"] = -1.0
    elif change == "zero_x2":
        df.loc[11, "x2"] = 0.0
    plan = dict(duration="days", event="job", covariates=["x1"], progress=False) | options
    with pytest.raises(error) as in_memory:
        ci.Cox(**plan).fit(df)
    with pytest.raises(error) as in_engine:
        ci.Cox(**plan).fit(to_backend(df, "duckdb"))
    assert all(__import__("re").search(both, _message(e)) for e in (in_memory, in_engine)), (
        _message(in_memory), _message(in_engine))


def test_dropped_rows_warn_and_give_the_pandas_fit(to_backend):
    """Missing values and zero weights drop the same rows, with the same counts."""
    df = spells()
    df.loc[[2, 40, 41], "x1"] = np.nan
    df.loc[[5, 6], "arm"] = None
    df.loc[[8], "w"] = 0.0
    df.loc[df["person"] == 7, "x2"] = np.nan  # a whole cluster dropped: G counts the rest
    cox = ci.Cox(**FULL, vcov=Cluster("person", correction="CR1"))
    caught = {}
    for kind, data in (("pandas", df), ("polars", to_backend(df, "polars"))):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            caught[kind] = (cox.fit(data), [w.message for w in seen
                                            if issubclass(w.category, DroppedRowsWarning)])
    (got, got_w), (want, want_w) = caught["polars"], caught["pandas"]
    assert [w.n_dropped for w in got_w] == [w.n_dropped for w in want_w]
    assert "rows dropped for missing values in ['x1', 'x2', 'arm']" in str(got_w[0])
    assert "with zero weight in 'w'" in str(got_w[1])
    assert_same_fit(got, want)
    assert want.glance()["n_clusters"].iloc[0] == df.loc[
        df[["x1", "x2", "arm"]].notna().all(axis=1) & (df.w > 0), "person"].nunique() == 149


def test_too_many_distinct_times_is_refused(to_backend, monkeypatch):
    from causalips.survival import _cox_engine_sums

    monkeypatch.setattr(_cox_engine_sums, "max_groups", lambda n_columns: 10)
    with pytest.raises(DataError, match="more than 10 of them.*Round the durations"):
        ci.Cox(**FULL).fit(to_backend(spells(), "duckdb"))


def test_progress_bar_only_when_asked(to_backend):
    from causalips.survival import _cox_engine

    data = to_backend(spells(), "polars_lazy")
    bars = []
    real = _cox_engine.tqdm
    _cox_engine.tqdm = lambda **kw: bars.append(kw) or real(**kw)
    try:
        ci.Cox(**FULL).fit(data)
        ci.Cox(**(FULL | {"progress": True})).fit(data)
    finally:
        _cox_engine.tqdm = real
    bars = [b for b in bars if "desc" in b]  # the fit's bar (later passes draw none)
    assert [b["disable"] for b in bars] == [True, False]
    assert bars[1]["desc"] == "Cox on a polars LazyFrame" and bars[1]["delay"] == 2


def test_fine_gray_names_the_expansion_to_do_first(to_backend):
    df = spells().assign(status=lambda d: d["job"] * np.where(d.x1 > 1, 2, 1))
    fg = ci.FineGray(duration="days", event="status", cause=1, covariates=["x1"])
    with pytest.raises(DataError, match="finegray_data\\(\\).*then fit Cox\\(duration='fg_stop'"):
        fg.fit(to_backend(df, "duckdb"))


def test_a_loose_shift_bound_falls_back_to_the_exact_maximum(to_backend):
    """exp(x·β − shift) uses a bound of x·β from the columns' ranges (no extra pass); when the
    bound is far above the maximum (x2 ≈ −x1, ranges ±500) the risks underflow and the fit
    asks the engine for the maximum instead, and still equals the pandas fit."""
    rng = np.random.default_rng(2)
    n = 3000
    x1 = rng.uniform(-500, 500, n)
    x2 = -x1 + rng.normal(size=n)
    t = rng.exponential(10 * np.exp(-(x1 + x2)))
    c = rng.uniform(0, 30, n)
    df = pd.DataFrame({"x1": x1, "x2": x2, "days": np.ceil(np.minimum(t, c)),
                       "job": (t <= c).astype(int)})
    cox = ci.Cox(duration="days", event="job", covariates=["x1", "x2"], progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert_same_fit(cox.fit(to_backend(df, "polars")), cox.fit(df))


@pytest.mark.parametrize("kind", ["duckdb", "polars"])
def test_timedelta_durations_become_days(kind, to_backend):
    df = spells().assign(span=lambda d: pd.to_timedelta(d.days, unit="D"),
                         first=lambda d: pd.to_timedelta(d.start, unit="D"))
    cox = ci.Cox(duration="span", entry="first", event="job", covariates=["x1", "arm"],
                 progress=False)
    got, want = cox.fit(to_backend(df, kind)), cox.fit(df)
    assert got.time_unit == want.time_unit == "days"
    assert_same_fit(got, want)
