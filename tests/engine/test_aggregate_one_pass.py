"""One-pass grouped aggregation and site tables read from an engine."""

from __future__ import annotations

import narwhals as nw
import numpy as np
import pandas as pd
import pytest
from conftest import BACKENDS

from causalips import engine
from causalips._checks import check_no_duplicates
from causalips.engine.aggregate import grouped, grouped_at_most, one_row_per_key
from causalips.errors import DataError


def people(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"site": rng.choice(["a", "b", "c", "d"], n),
                         "job": rng.integers(0, 2, n), "w": rng.uniform(0.5, 2, n)})


@pytest.mark.parametrize("kind", BACKENDS)
def test_one_pass_gives_the_groups_of_grouped(kind, to_backend):
    table = engine.as_table(to_backend(people(), kind))
    aggs = {"jobs": (nw.col("job") * nw.col("w")).sum(), "n": nw.len()}
    want = grouped(table, ["site"], aggs)
    got = grouped_at_most(table, ["site"], aggs).sort_values("site", ignore_index=True)
    pd.testing.assert_frame_equal(got.astype({"n": "int64"}), want.astype({"n": "int64"}),
                                  check_exact=False, rtol=1e-12)


@pytest.mark.parametrize("kind", ["duckdb", "polars_lazy"])
def test_more_groups_than_allowed_stop_before_the_rows_move(kind, to_backend):
    table = engine.as_table(to_backend(people().assign(row=np.arange(400)), kind))
    with pytest.raises(DataError, match=r"by \['row'\] gives more than 100 groups"):
        grouped_at_most(table, ["row"], {"n": nw.len()}, max_groups=100)
    with pytest.raises(DataError, match="^band it$"):
        grouped_at_most(table, ["row"], {"n": nw.len()}, max_groups=100, too_many="band it")
    assert len(grouped_at_most(table, ["row"], {"n": nw.len()}, max_groups=400)) == 400


@pytest.mark.parametrize("kind", ["parquet", "csv", "polars", "spark"])
def test_a_site_table_comes_back_as_it_is_and_a_repeated_site_is_refused(kind, to_backend):
    sites = pd.DataFrame({"site": ["x", "y", "z"], "people": [10, 20, 30],
                          "score": [1.5, np.nan, 2.0], "name": ["X", None, "Z"]})
    table = engine.as_table(to_backend(sites, kind))
    got = one_row_per_key(table, ["site"], ["people", "score", "name"], what="one per site")
    got = got.sort_values("site", ignore_index=True)
    assert got["people"].tolist() == [10, 20, 30] and got["name"].tolist()[::2] == ["X", "Z"]
    assert pd.isna(got["score"].iloc[1]) and pd.isna(got["name"].iloc[1])
    doubled = pd.concat([sites, sites.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError) as want:
        check_no_duplicates(doubled, ["site"], what="one per site")
    with pytest.raises(DataError) as info:
        one_row_per_key(engine.as_table(to_backend(doubled, kind)), ["site"], ["people"],
                        what="one per site")
    assert str(info.value) == str(want.value)
