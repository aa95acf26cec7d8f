"""Sufficient statistics computed in each engine equal pandas' on random data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import BACKENDS

from causalips import engine
from causalips.engine.aggregate import event_counts
from causalips.errors import DataError


def spells(n=500, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"days": rng.integers(0, 60, n), "job": rng.integers(0, 2, n),
                         "site": rng.choice(["north", "south", "east"], n),
                         "w": rng.uniform(0.5, 2, n)})


def expected(df, weights=None):
    w = df[weights] if weights else pd.Series(1.0, index=df.index)
    out = pd.DataFrame({"group": df["site"], "time": df["days"].astype(float),
                        "n_event": w * df["job"], "n_censor": w * (1 - df["job"]),
                        "n_rows": 1})
    return out.groupby(["group", "time"], as_index=False).sum()


@pytest.mark.parametrize("kind", BACKENDS)
@pytest.mark.parametrize("weights", [None, "w"])
def test_event_counts_equal_pandas(kind, weights, to_backend):
    df = spells()
    got = event_counts(engine.as_table(to_backend(df, kind)), duration="days", event="job",
                       group="site", weights=weights)
    want = expected(df, weights)
    pd.testing.assert_frame_equal(got[want.columns].astype({"n_rows": "int64"}), want,
                                  check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("kind", ["duckdb", "polars"])
def test_event_coding_errors_match_the_pandas_path(kind, to_backend):
    df = spells().assign(job=lambda d: d["job"].map({0: "open", 1: "job"}))
    table = engine.as_table(to_backend(df, kind))
    with pytest.raises(DataError, match="must be 0/1 or boolean.*values seen"):
        event_counts(table, duration="days", event="job")
    got = event_counts(table, duration="days", event="job", event_value="job")
    assert got["n_event"].sum() == (df["job"] == "job").sum()
    with pytest.raises(DataError, match="never occurs"):
        event_counts(table, duration="days", event="job", event_value="jbo")
    nan_group = spells().astype({"site": object})
    nan_group.loc[4, "site"] = None
    with pytest.raises(DataError, match="'site' \\(the group\\) has 1 missing"):
        event_counts(engine.as_table(to_backend(nan_group, kind)), duration="days",
                     event="job", group="site")
