"""Site comparison where the data live: every engine gives the pandas answer (issue 11, item 2).

Each estimator is fitted on the same random people held by pandas and by every kind of data
``fit`` accepts (Parquet, CSV, DuckDB, pyarrow, polars, polars lazy, Spark); tidy() and glance()
must agree to 1e-10, and bad data must stop with the pandas path's message. A Spark session
that refuses to send more than 4 MB to the driver proves the work stays in Spark.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from _engine_fixtures import BACKENDS  # noqa: E402 (spark, to_backend: tests/conftest.py)

import causalips as ci
from causalips.errors import ColumnNotFoundError, DataError
from causalips.sites import UnknownStatusError


def people(n=3000, seed=0) -> pd.DataFrame:
    """Random people: seven teams, four ethnic groups, a job more likely with age and bipolar."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 66, n)
    diagnosis = rng.choice(["psychosis", "bipolar", "depression"], n)
    team = rng.choice(["north", "south", "east", "west", "central", "coast", "hills"], n)
    score = -1 + 0.02 * (age - 40) + 0.4 * (diagnosis == "bipolar") + 0.3 * (team == "north")
    return pd.DataFrame({
        "team": team, "ethnicity": rng.choice(["White", "Black", "Asian", "Mixed"], n),
        "age": age, "band": np.array(["b18", "b25", "b35", "b45", "b55"])[
            np.searchsorted([25, 35, 45, 55], age, side="right")],
        "diagnosis": diagnosis,
        "job": (rng.uniform(size=n) < 1 / (1 + np.exp(-score))).astype(np.int64),
        "ips": rng.integers(0, 2, n),
        "status": rng.choice(["unemployed"] * 8 + ["in_work", "education"], n),
        "w": rng.integers(1, 4, n).astype(float)})


def sites(seed=0) -> pd.DataFrame:
    """One row per site: people, jobs, specialists and fidelity scores."""
    rng = np.random.default_rng(seed)
    people_n = rng.integers(40, 400, 9)
    return pd.DataFrame({"site": [f"site {c}" for c in "ABCDEFGHI"], "people": people_n,
                         "jobs": rng.binomial(people_n, 0.35), "fte": rng.uniform(1, 4, 9),
                         "fidelity": rng.integers(70, 120, 9)})


#: (name, plan, which table it is fitted on)
CASES = [
    ("reach", lambda: ci.Reach(participant="ips", group="ethnicity", weight="w"), people),
    ("reach_overall", lambda: ci.Reach(participant="ips"), people),
    ("representativeness", lambda: ci.Representativeness(category="band", group="ips"), people),
    ("outcome_equity", lambda: ci.OutcomeEquity(outcome="job", group="ethnicity"), people),
    ("outcome_equity_ips_grow", lambda: ci.OutcomeEquity(
        outcome="job", group="ethnicity", weight="w", denominator="ips_grow", status="status"),
     people),
    ("outcome_equity_adjusted", lambda: ci.OutcomeEquity(
        outcome="job", group="ethnicity", adjust=["age", "diagnosis"]), people),
    ("risk_adjusted", lambda: ci.RiskAdjustedComparison(
        site="team", outcome="job", case_mix=["age", "diagnosis"], overdispersion="additive"),
     people),
    ("funnel", lambda: ci.FunnelPlot(site="site", numerator="jobs", denominator="people"), sites),
    ("productivity", lambda: ci.Productivity(site="site", people="people", outcomes="jobs",
                                             fte="fte"), sites),
    ("fidelity", lambda: ci.FidelityOutcome(site="site", fidelity="fidelity",
                                            numerator="jobs", denominator="people"), sites),
]


def assert_same_result(got, want):
    for part in ("tidy", "glance"):
        pd.testing.assert_frame_equal(getattr(got, part)(), getattr(want, part)(),
                                      check_exact=False, rtol=1e-10, atol=1e-12)
    assert got.n_obs == want.n_obs


def quiet_fit(plan, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return plan.fit(data)


@pytest.mark.parametrize("kind", [k for k in BACKENDS if k != "spark"])
@pytest.mark.parametrize("name, plan, table", CASES, ids=[c[0] for c in CASES])
def test_every_engine_gives_the_pandas_result(kind, name, plan, table, to_backend):
    df = table()
    assert_same_result(quiet_fit(plan(), to_backend(df, kind)), quiet_fit(plan(), df))


def test_spark_gives_the_pandas_result(spark, to_backend):
    for table in (people, sites):
        df = table()
        frame = to_backend(df, "spark")
        for _name, plan, of in CASES:
            if of is table:
                assert_same_result(quiet_fit(plan(), frame), quiet_fit(plan(), df))


@pytest.mark.parametrize("kind", ["parquet", "polars_lazy"])
def test_site_counts_in_the_engine_feed_the_same_funnel(kind, to_backend):
    df = people()
    want = ci.site_counts(df, site="team", outcome="job", weight="w")
    got = ci.site_counts(to_backend(df, kind), site="team", outcome="job", weight="w")
    pd.testing.assert_frame_equal(got, want)
    plan = ci.FunnelPlot(site="team", numerator="numerator", denominator="denominator")
    assert_same_result(quiet_fit(plan, got), quiet_fit(plan, want))


@pytest.mark.parametrize("kind", ["duckdb", "polars"])
def test_fractional_weights_warn_in_the_engine_as_in_pandas(kind, to_backend):
    df = people().assign(w=lambda d: d["w"] / 2)
    plan = ci.Representativeness(category="band", group="ips", weight="w")
    with pytest.warns(ci.StatisticalWarning, match=r"'w' \(the weight\) holds \d+ counts") as a:
        want = plan.fit(df)
    with pytest.warns(ci.StatisticalWarning) as b:
        got = plan.fit(to_backend(df, kind))
    assert str(a[0].message).split(" (e.g.")[0] == str(b[0].message).split(" (e.g.")[0]
    assert_same_result(got, want)


# -- bad data: the pandas path's messages --------------------------------------------------------
def _broken(kind: str):
    """(plan, bad table) pairs, each with one problem."""
    df = people(300)
    text_weight = df.assign(w=df["w"].map(lambda v: f"{v:g} people"))
    nan_outcome = df.assign(job=df["job"].astype(float))
    nan_outcome.loc[[4, 9], "job"] = np.nan
    coded = df.assign(ips=df["ips"].map({0: "no", 1: "yes"}))
    no_label = df.astype({"ethnicity": object})
    no_label.loc[[2, 5, 7], "ethnicity"] = None
    negative = df.assign(w=np.where(np.arange(len(df)) == 3, -1.0, df["w"]))
    reach = ci.Reach(participant="ips", group="ethnicity", weight="w")
    equity = ci.OutcomeEquity(outcome="job", group="ethnicity", adjust=["age"])
    return {
        "missing column": (ci.Reach(participant="ipz"), df),
        "text weights": (reach, text_weight),
        "missing outcome": (equity, nan_outcome),
        "not 0/1": (reach, coded),
        "missing label": (reach, no_label),
        "negative weight": (reach, negative),
        "tiny weights": (reach, df.assign(w=1e-300)),
        "empty": (reach, df.iloc[:0]),
        "duplicate site": (ci.FunnelPlot(site="team", numerator="job", denominator="w"), df),
        "numerator above denominator": (
            ci.FunnelPlot(site="site", numerator="people", denominator="jobs"), sites()),
        "text case-mix missing": (ci.RiskAdjustedComparison(
            site="team", outcome="job", case_mix=["diagnosis"]),
            df.assign(diagnosis=df["diagnosis"].where(df.index != 11))),
    }


def _message(plan, data) -> str:
    with pytest.raises(DataError) as info:
        quiet_fit(plan, data)
    return str(info.value)


def _substance(message: str) -> str:
    """The message without its example row (pandas names a row number, an engine its values).

    A text column where numbers belong is described by the engine from its type ("stores it as
    VARCHAR") and by pandas from its values: the substance is the column, its role and the
    advice.
    """
    if "must be numeric" in message:
        assert "Convert it to numbers first" in message
        return message.split(" must be numeric")[0]
    return re.sub(r" \(e\.g\. [^;]*?\)(?=[;.]|$)|; e\.g\. \{[^}]*\}", "", message)


@pytest.mark.parametrize("kind", ["parquet", "duckdb", "polars", "pyarrow"])
def test_bad_data_stops_with_the_pandas_message(kind, to_backend):
    for problem, (plan, df) in _broken(kind).items():
        want = _message(plan, df)
        got = _message(plan, to_backend(df, kind))
        assert _substance(got) == _substance(want), problem


def test_bad_data_in_spark_stops_with_the_pandas_message(spark, to_backend):
    for problem in ("missing outcome", "not 0/1", "missing label", "duplicate site"):
        plan, df = _broken("spark")[problem]
        assert _substance(_message(plan, to_backend(df, "spark"))) == \
            _substance(_message(plan, df)), problem


def test_examples_in_engine_messages_show_the_row_values(to_backend):
    plan, df = _broken("duckdb")["missing label"]
    message = _message(plan, to_backend(df, "duckdb"))
    assert "3 missing values (e.g. the row with ethnicity=None)" in message
    plan, df = _broken("duckdb")["negative weight"]
    assert "w=-1.0" in _message(plan, to_backend(df, "polars"))


def test_missing_columns_are_named_as_in_pandas(to_backend):
    df = people(50)
    plan = ci.RiskAdjustedComparison(site="team", outcome="job", case_mix=["agee"])
    with pytest.raises(ColumnNotFoundError) as want:
        plan.fit(df)
    with pytest.raises(ColumnNotFoundError) as got:
        plan.fit(to_backend(df, "parquet"))
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("kind", ["csv", "polars_lazy", "spark"])
def test_unknown_status_lists_every_value_seen_from_the_engine(kind, to_backend):
    df = people(400).assign(status=lambda d: d["status"].replace({"in_work": "employed"}))
    df.loc[[0, 1], "status"] = None
    plan = ci.OutcomeEquity(outcome="job", group="ethnicity", denominator="ips_grow",
                            status="status")
    with pytest.raises(UnknownStatusError) as want:
        plan.fit(df)
    with pytest.raises(UnknownStatusError) as got:
        plan.fit(to_backend(df, kind))
    assert got.value.unmapped == want.value.unmapped == {
        "employed": int((df["status"] == "employed").sum()), None: 2}
    assert got.value.seen == want.value.seen == ("education", "employed", "unemployed")
    assert got.value.mapping == want.value.mapping
    assert "e.g. row" not in str(got.value) and "Values seen: 'education'" in str(got.value)
    mapped = ci.OutcomeEquity(outcome="job", group="ethnicity", denominator="ips_grow",
                              status="status", in_work=["employed"])
    kept = df.dropna(subset=["status"])
    assert_same_result(quiet_fit(mapped, to_backend(kept, kind)), quiet_fit(mapped, kept))


def test_a_case_mix_model_with_a_cell_per_person_names_the_banding_to_do(monkeypatch,
                                                                         to_backend):
    df = people(400).assign(income=lambda d: np.random.default_rng(1).lognormal(10, 1, len(d)))
    for module in ("risk", "outcome_equity"):
        monkeypatch.setattr(f"causalips.sites.{module}.MODEL_CELLS", 100)
    for plan in (ci.RiskAdjustedComparison(site="team", outcome="job", case_mix=["income"]),
                 ci.OutcomeEquity(outcome="job", group="ethnicity", adjust=["income"])):
        with pytest.raises(DataError, match=r"per cell of .*income.* has more than 100 "
                                            r"such cells.*\(income\?\).*Band it first"):
            plan.fit(to_backend(df, "duckdb"))
        plan.fit(df)  # in memory, the cells are counted by pandas: no limit


def test_numeric_comparison_says_it_needs_the_values(to_backend):
    with pytest.raises(DataError, match="needs each person's 'age'.*into pandas first"):
        ci.NumericComparison(value="age", group="ips").fit(to_backend(people(50), "parquet"))


# -- the work stays in Spark ----------------------------------------------------------------------
N_BIG = 300_000


def _big_in_spark(spark):
    """300,000 people made in Spark (never on the driver), columns from id arithmetic."""
    from pyspark.sql import functions as F

    return spark.range(N_BIG).select(
        F.concat(F.lit("t"), F.pmod(F.col("id") * 7, F.lit(13)).cast("string")).alias("team"),
        F.concat(F.lit("g"), F.pmod(F.col("id") * 31 + 3, F.lit(5)).cast("string"))
        .alias("ethnicity"),
        F.concat(F.lit("a"), F.pmod(F.col("id") * 11, F.lit(4)).cast("string")).alias("band"),
        (F.pmod(F.col("id") * 48271, F.lit(7)) < 3).cast("long").alias("job"),
        (F.pmod(F.col("id") * 16807, F.lit(9)) < 4).cast("long").alias("ips"),
        F.when(F.pmod(F.col("id") * 69621, F.lit(10)) == 0, "in_work")
        .when(F.pmod(F.col("id") * 69621, F.lit(10)) == 1, "education")
        .otherwise("unemployed").alias("status"))


def _big_in_pandas():
    i = np.arange(N_BIG, dtype=np.int64)

    def label(prefix, values):
        return np.char.add(prefix, values.astype(str)).astype(object)

    return pd.DataFrame({
        "team": label("t", (i * 7) % 13), "ethnicity": label("g", (i * 31 + 3) % 5),
        "band": label("a", (i * 11) % 4), "job": ((i * 48271) % 7 < 3).astype(np.int64),
        "ips": ((i * 16807) % 9 < 4).astype(np.int64),
        "status": np.select([(i * 69621) % 10 == 0, (i * 69621) % 10 == 1],
                            ["in_work", "education"], "unemployed").astype(object)})


def test_spark_fits_without_collecting_rows_past_max_result_size(spark):
    frame = _big_in_spark(spark)
    with pytest.raises(Exception, match="maxResultSize|bigger than"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyspark's note that Arrow could not finish
        frame.toPandas()  # the frame is too big to collect: the limit would catch a collect
    df = _big_in_pandas()
    plans = [ci.Reach(participant="ips", group="ethnicity"),
             ci.Representativeness(category="band", group="ethnicity"),
             ci.OutcomeEquity(outcome="job", group="ethnicity", denominator="ips_grow",
                              status="status"),
             ci.RiskAdjustedComparison(site="team", outcome="job", case_mix=["band"])]
    for plan in plans:
        assert_same_result(quiet_fit(plan, frame), quiet_fit(plan, df))
    counts = ci.site_counts(frame, site="team", outcome="job")
    pd.testing.assert_frame_equal(counts, ci.site_counts(df, site="team", outcome="job"))
    with pytest.raises(DataError, match="share the same team"):
        ci.FunnelPlot(site="team", numerator="job", denominator="ips").fit(frame)
