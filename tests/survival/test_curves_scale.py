"""Survival curves on data beyond pandas: every engine gives the pandas path's numbers.

KaplanMeier, LogRank, CumulativeIncidence, RMST and SupportCap count rows by group x time (x
stratum, cause, entry time) in the engine that holds the data (``engine.survival_counts``) and
finish with the code the pandas path runs. Here each kind of data in BACKENDS is compared with
pandas on random data, whole-number and fractional durations, to 1e-10; errors say the same
things; and on Spark a frame too large to collect under ``spark.driver.maxResultSize=4m`` is
fitted all the same, because only the counts reach the driver.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from _engine_fixtures import BACKENDS  # (spark, to_backend: tests/conftest.py)

from causalips import (
    RMST,
    Bootstrap,
    CumulativeIncidence,
    KaplanMeier,
    LogRank,
    SupportCap,
    engine,
)
from causalips.errors import DroppedRowsWarning

TOL = {"check_exact": False, "rtol": 1e-10, "atol": 1e-12}


def spells(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Whole-day and fractional durations, 0/1, text and coded events, groups, weights, entries."""
    rng = np.random.default_rng(seed)
    days = rng.integers(1, 60, n)
    frac = np.round(rng.exponential(25, n), 3) + 0.25
    w = np.round(rng.uniform(0.5, 2.0, n), 6)
    return pd.DataFrame({
        "days": days, "frac": frac, "job": rng.integers(0, 2, n),
        "outcome": rng.choice(["job", "none", "moved"], n),
        "code": rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3]),
        "site": rng.choice(["north", "south", "east"], n), "region": rng.integers(1, 3, n),
        "w": w, "w0": np.where(rng.uniform(size=n) < 0.05, 0.0, w),
        "entry_days": np.floor(days * rng.uniform(0, 0.6, n)).astype(np.int64),
        "entry_frac": np.round(frac * rng.uniform(0, 0.6, n), 3),
    })


#: the test data as each engine holds them, made once (a Spark frame takes seconds to build)
_HELD: dict[str, object] = {}


def fits(plans, kind, to_backend):  # noqa: F811
    """(pandas result, engine result) for each plan, on the same data."""
    df = spells()
    native = _HELD[kind] if kind in _HELD else _HELD.setdefault(kind, to_backend(df, kind))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(plan.fit(df), plan.fit(native)) for plan in plans]


def assert_same(want, got, *extra):
    """tidy(), glance(), by_group() (where the result has it) and ``extra`` method calls."""
    calls = [("tidy", ()), ("glance", ()), ("by_group", ()), *extra]
    for name, args in calls:
        if hasattr(want, name):
            pd.testing.assert_frame_equal(getattr(got, name)(*args), getattr(want, name)(*args),
                                          **TOL)


@pytest.mark.parametrize("kind", BACKENDS)
def test_kaplan_meier_equals_pandas(kind, to_backend):  # noqa: F811
    plans = [
        KaplanMeier(duration="days", event="job"),
        KaplanMeier(duration="frac", event="job", group="site", weights="w", strata="region"),
        KaplanMeier(duration="days", event="outcome", event_value="job", group="site",
                    entry="entry_days", ci_method="log-log"),
        KaplanMeier(duration="frac", event="job", group="region", entry="entry_frac",
                    weights="w0", curve="incidence"),
    ]
    for want, got in fits(plans, kind, to_backend):
        assert_same(want, got, ("at", ([10, 25.5, 40],)), ("quantiles", ()))
        if len(want.groups) > 1 and want.estimator.entry is None:
            assert_same(want.logrank(), got.logrank())
            assert_same(want.logrank(False), got.logrank(False))


@pytest.mark.parametrize("kind", BACKENDS)
def test_logrank_equals_pandas(kind, to_backend):  # noqa: F811
    plans = [
        LogRank(duration="days", event="job", group="site", strata="region", weights="w"),
        LogRank(duration="frac", event="outcome", event_value="job", group="site", rho=1),
    ]
    for want, got in fits(plans, kind, to_backend):
        assert_same(want, got)
        assert got.chisq == pytest.approx(want.chisq, rel=1e-10)


@pytest.mark.parametrize("kind", BACKENDS)
def test_cumulative_incidence_equals_pandas(kind, to_backend):  # noqa: F811
    plans = [
        CumulativeIncidence(duration="days", event="code", group="site",
                            causes={1: "job", 2: "moved"}),
        CumulativeIncidence(duration="frac", event="code", group="region", entry="entry_frac"),
    ]
    for want, got in fits(plans, kind, to_backend):
        assert_same(want, got, ("at", ([10, 30],)), ("restricted_mean", (40,)))
        if want.estimator.entry is None:  # Gray's test runs from the counts too
            assert_same(want, got, ("gray_test", ()))


@pytest.mark.parametrize("kind", BACKENDS)
def test_rmst_equals_pandas(kind, to_backend):  # noqa: F811
    plans = [
        RMST(duration="days", event="job", group="site", tau=40, measure="rmtl",
             reference="south"),
        RMST(duration="frac", event="job", tau="common"),
    ]
    for want, got in fits(plans, kind, to_backend):
        assert_same(want, got)


@pytest.mark.parametrize("kind", BACKENDS)
def test_support_cap_bootstrap_equals_pandas_for_the_same_seed(kind, to_backend):  # noqa: F811
    plans = [
        SupportCap(duration="days", event="code", group="site", cap=[10, 30], cause=1,
                   competing=[2], inference=Bootstrap(reps=200, seed=5)),
        SupportCap(duration="frac", event="job", cap=[5, 20], kind="in_work",
                   inference=Bootstrap(reps=100, seed=1)),
    ]
    for want, got in fits(plans, kind, to_backend):
        assert_same(want, got)
        again = Bootstrap(reps=50, seed=9)
        assert_same(want.with_inference(again), got.with_inference(again))


# -- errors: the pandas path's, in substance ---------------------------------------------------
def _put(col, value, every=50):
    def change(df):
        out = df.copy()
        if value is None or isinstance(value, float):
            out[col] = out[col].astype(object if value is None else float)
        out.loc[out.index % every == 3, col] = value
        return out
    return change


ERROR_CASES = {
    "column not found": (KaplanMeier(duration="dayz", event="job"), None),
    "negative durations": (KaplanMeier(duration="days", event="job"), _put("days", -2)),
    "missing durations": (KaplanMeier(duration="frac", event="job"), _put("frac", np.nan)),
    "event coding": (KaplanMeier(duration="days", event="outcome"), None),
    "event value": (KaplanMeier(duration="days", event="outcome", event_value="jbo"), None),
    "event value of another type": (KaplanMeier(duration="days", event="job",
                                                event_value="job"), None),
    "missing events": (KaplanMeier(duration="days", event="job"), _put("job", np.nan)),
    "other events": (KaplanMeier(duration="days", event="job"), _put("job", 2)),
    "missing groups": (KaplanMeier(duration="days", event="job", group="site"),
                       _put("site", None)),
    "zero weights": (KaplanMeier(duration="days", event="job", weights="w"),
                     lambda df: df.assign(w=0.0)),
    "negative weights": (LogRank(duration="days", event="job", group="site", weights="w"),
                         _put("w", -1.0)),
    "late entry": (KaplanMeier(duration="days", event="job", entry="entry_days"),
                   lambda df: df.assign(entry_days=np.where(df.index % 50 == 3, df["days"],
                                                            df["entry_days"]))),
    "unlisted cause": (CumulativeIncidence(duration="days", event="code", causes=[1]), None),
    "codes not whole": (CumulativeIncidence(duration="days", event="code"),
                        _put("code", 1.5)),
    "cap codes": (SupportCap(duration="days", event="code", cap=[5], inference=None), None),
    "single group": (LogRank(duration="days", event="job", group="site"),
                     lambda df: df.assign(site="north")),
    "no events": (LogRank(duration="days", event="job", group="site"),
                  lambda df: df.assign(job=0)),
    "unknown reference": (RMST(duration="days", event="job", group="site", tau=20,
                               reference="west"), None),
    "no rows": (KaplanMeier(duration="days", event="job"), lambda df: df.iloc[:0]),
}


def _gist(message: str) -> str:
    """The message without its example row and the listing of values seen (engines differ in
    how they show a row and in which order distinct values come back)."""
    message = re.sub(r" \(e\.g\. [^()]*(\([^()]*\)[^()]*)*\)", "", message)
    return re.sub(r"values seen: (?:[^;()]|\([^()]*\))*", "values seen: ...", message)


def _error(plan, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as caught:
            plan.fit(data)
    return caught.value


@pytest.mark.parametrize("kind", ["duckdb", "parquet", "polars"])
def test_errors_say_what_the_pandas_path_says(kind, to_backend):  # noqa: F811
    base = spells(300)
    for name, (plan, change) in ERROR_CASES.items():
        df = base if change is None else change(base)
        want, got = _error(plan, df), _error(plan, to_backend(df, kind))
        assert type(got) is type(want), name
        assert _gist(str(got)) == _gist(str(want)), name


def test_text_and_dates_are_refused_by_the_engine_as_in_pandas(to_backend):  # noqa: F811
    df = spells(50).assign(when=pd.Timestamp("2024-01-01"))
    table = to_backend(df, "duckdb")
    for column, phrase in (("site", "must be numeric"), ("when", "holds dates")):
        plan = KaplanMeier(duration=column, event="job")
        assert phrase in str(_error(plan, df)) and phrase in str(_error(plan, table))


def test_errors_on_spark_match_pandas(to_backend):  # noqa: F811
    base = spells(300)
    for name in ("negative durations", "event coding", "missing groups"):
        plan, change = ERROR_CASES[name]
        df = base if change is None else change(base)
        want, got = _error(plan, df), _error(plan, to_backend(df, "spark"))
        assert _gist(str(got)) == _gist(str(want)), name
    spans = to_backend(base.assign(span=pd.to_timedelta(base["days"], unit="D")), "spark")
    message = str(_error(KaplanMeier(duration="span", event="job"), spans))
    assert "store it as a number of days first" in message  # Spark intervals: say how


def test_zero_weights_are_dropped_with_the_count_and_a_warning_at_the_caller(to_backend):  # noqa: F811
    df = spells().assign(w=lambda d: np.where(d.index < 7, 0.0, d["w"]))
    with pytest.warns(DroppedRowsWarning, match=r"^7 of 400 rows have zero weight") as seen:
        res = KaplanMeier(duration="days", event="job", weights="w").fit(
            to_backend(df, "duckdb"))
    assert seen[0].filename == __file__
    assert res.n_obs == 393 and res.warnings[0].startswith("7 of 400 rows")


# -- time spans, the guard, and the proof that rows stay in the engine --------------------------
@pytest.mark.parametrize("kind", ["duckdb", "pyarrow", "polars"])
def test_time_spans_are_read_as_days(kind, to_backend):  # noqa: F811
    df = spells().assign(span=lambda d: pd.to_timedelta(d["frac"], unit="D"))
    plan = KaplanMeier(duration="span", event="job", group="site")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, got = plan.fit(df), plan.fit(to_backend(df, kind))
    assert got.time_unit == "days" and got.warnings == want.warnings
    assert_same(want, got)


def test_only_counts_leave_the_engine(monkeypatch):
    seen = []
    collect = engine.Table.collect
    monkeypatch.setattr(engine.Table, "collect",
                        lambda self, query: seen.append(collect(self, query)) or seen[-1])
    df = pd.concat([spells(seed=s) for s in range(50)], ignore_index=True)  # 20,000 rows
    relation = engine.connection().from_df(df)
    for plan in (KaplanMeier(duration="days", event="job", group="site", strata="region",
                             weights="w"),
                 CumulativeIncidence(duration="days", event="code", group="site"),
                 SupportCap(duration="days", event="code", group="site", cap=[9], cause=1,
                            inference=None)):
        seen.clear()
        plan.fit(relation)
        assert len(seen) == 1 and len(seen[0]) < len(df) / 4  # one query, cells not rows


def test_too_many_cells_are_refused_with_what_to_do(monkeypatch, to_backend):  # noqa: F811
    from causalips.engine import survival_counts

    monkeypatch.setattr(survival_counts, "MAX_AGGREGATED_ROWS", 50)
    with pytest.raises(Exception, match="more than 50 cells.*Round the durations"):
        KaplanMeier(duration="frac", event="job").fit(to_backend(spells(), "duckdb"))


def test_a_spark_frame_too_big_to_collect_is_fitted_in_spark(spark):  # noqa: F811
    from pyspark.sql import functions as F

    n = 300_000
    ids = spark.range(n)
    frame = ids.select((F.col("id") % 97).alias("days"),
                       (F.col("id") % 3 == 0).cast("long").alias("job"),
                       (F.col("id") % 4).alias("site"), (F.col("id") * 0.5).alias("x"))
    with pytest.raises(Exception, match="maxResultSize"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyspark's note that its Arrow transfer failed
        frame.toPandas()  # the control: these rows cannot reach the driver
    plan = KaplanMeier(duration="days", event="job", group="site")
    got = plan.fit(frame)
    i = np.arange(n)
    want = plan.fit(pd.DataFrame({"days": i % 97, "job": (i % 3 == 0).astype(np.int64),
                                  "site": i % 4}))
    assert_same(want, got)
