"""Fine–Gray: the finegray() data expansion and the weighted Cox fit against R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalips.errors import DataError, DroppedRowsWarning, SpecificationError
from causalips.survival.finegray import FineGray, finegray_data, finegray_expand


@pytest.fixture(scope="module")
def pbc(reference_data):
    return reference_data.csv("survival/pbc.csv")


def test_expansion_small_closed_form():
    # times 1..6; censored at 2 and 5; cause 1 at 3 and 6; competing event at 1
    t = np.array([1.0, 2, 3, 4, 5, 6])
    s = np.array([2, 0, 1, 2, 0, 1])
    out = finegray_expand(t, s, 1)
    # censoring KM: G(2) = 1 - 1/5 = 0.8 (at risk 5 after the competing event at 1),
    # G(5) = 0.8 * (1 - 1/2) = 0.4. Intervals (.,2], (2,5], (5,6]: events of interest in 2nd, 3rd
    np.testing.assert_array_equal(out["row"], [0, 0, 0, 1, 2, 3, 3, 4, 5])
    np.testing.assert_array_equal(out["start"], [0, 2, 5, 0, 0, 0, 5, 0, 0])
    np.testing.assert_array_equal(out["stop"], [2, 5, 6, 2, 3, 5, 6, 5, 6])
    np.testing.assert_allclose(out["weight"], [1, 0.8, 0.4, 1, 1, 1, 0.5, 1, 1])
    np.testing.assert_array_equal(out["status"], [0, 0, 0, 0, 1, 0, 0, 0, 1])


def test_no_competing_events_changes_nothing():
    t = np.array([3.0, 1, 2, 5])
    s = np.array([1, 0, 1, 0])
    out = finegray_expand(t, s, 1)
    np.testing.assert_array_equal(out["stop"], t)
    np.testing.assert_array_equal(out["weight"], 1.0)
    np.testing.assert_array_equal(out["status"], [1, 0, 1, 0])


def test_expansion_bad_inputs(pbc):
    with pytest.raises(DataError, match="never occurs"):
        finegray_data(pbc, duration="time", event="status", cause=3)
    with pytest.raises(DataError, match="0 = censored"):
        finegray_data(pbc.assign(status=pbc["status"].astype(str)), duration="time",
                      event="status", cause=2)


# -- the estimator ------------------------------------------------------------------------------

TERMS = ["age", "edema", "log(bili)"]


def test_fine_gray_summary_plot_and_bad_inputs(pbc):
    res = FineGray(duration="time", event="status", cause=2, covariates=TERMS).fit(pbc)
    assert "subdistribution" in str(res.summary())
    ax = res.plot()
    assert "subdistribution" in ax.get_xlabel()
    with pytest.raises(SpecificationError, match="vcov"):
        FineGray(duration="time", event="status", cause=2, covariates=TERMS, vcov="cluster")
    with pytest.raises(SpecificationError, match="cause"):
        FineGray(duration="time", event="status", cause=0, covariates=TERMS)
    with pytest.raises(SpecificationError, match="covariates"):
        FineGray(duration="time", event="status", cause=2, covariates=[])
    with pytest.raises(DataError, match="never occurs"):
        FineGray(duration="time", event="status", cause=5, covariates=TERMS).fit(pbc)
    from causalips.errors import ColumnNotFoundError

    with pytest.raises(ColumnNotFoundError, match="agee"):
        FineGray(duration="time", event="status", cause=2, covariates=["agee"]).fit(pbc)


def test_rows_with_missing_covariates_are_dropped_before_weighting(pbc):
    with pytest.warns(DroppedRowsWarning, match="106 of 418 rows dropped"):
        res = FineGray(duration="time", event="status", cause=2, covariates=["age", "trt"]
                       ).fit(pbc)
    assert res.n_obs == 312
    direct = FineGray(duration="time", event="status", cause=2, covariates=["age", "trt"]
                      ).fit(pbc.iloc[:312])
    pd.testing.assert_frame_equal(res.tidy(), direct.tidy())


# -- variance vocabulary (issues 13 and 14) ------------------------------------------------------
def test_default_variance_is_the_per_person_sandwich(pbc):
    from causalips.inference import Cluster, Robust

    df = pbc.assign(person=np.arange(len(pbc)))
    default = FineGray(duration="time", event="status", cause=2, covariates=TERMS).fit(df)
    by_id = FineGray(duration="time", event="status", cause=2, covariates=TERMS,
                     vcov=Cluster("person")).fit(df)
    assert default.inference == Robust()
    pd.testing.assert_frame_equal(default.tidy(), by_id.tidy(), rtol=1e-12)
    assert "clustered on the person" in str(default.summary())
    assert default.glance()["n_clusters"].iloc[0] == len(df)


@pytest.mark.parametrize("alias, expected", [("robust", "ExpandedRowRobust"),
                                             ("subject", "Robust"), ("model", "ModelBased")])
def test_deprecated_vcov_strings_still_work(pbc, alias, expected):
    from causalips import inference
    from causalips.survival import finegray

    spec = getattr(finegray, expected, None) or getattr(inference, expected)
    with pytest.warns(FutureWarning, match=f"FineGray\\(vcov='{alias}'\\) is deprecated"):
        old = FineGray(duration="time", event="status", cause=2, covariates=TERMS, vcov=alias)
    assert type(old.vcov) is spec
    new = FineGray(duration="time", event="status", cause=2, covariates=TERMS, vcov=spec())
    pd.testing.assert_frame_equal(old.fit(pbc).tidy(), new.fit(pbc).tidy())


def test_with_inference_and_vcov_matrix(pbc):
    from causalips.inference import Bootstrap, ModelBased, Robust
    from causalips.survival.finegray import ExpandedRowRobust

    res = FineGray(duration="time", event="status", cause=2, covariates=TERMS,
                   vcov=ModelBased()).fit(pbc)
    for spec in (Robust(), ExpandedRowRobust(), ModelBased()):
        direct = FineGray(duration="time", event="status", cause=2, covariates=TERMS,
                          vcov=spec).fit(pbc)
        pd.testing.assert_frame_equal(res.with_inference(spec).tidy(), direct.tidy(), rtol=1e-5)
        pd.testing.assert_frame_equal(res.with_inference(spec).vcov_matrix(),
                                      direct.vcov_matrix(), rtol=1e-5)
    with pytest.warns(FutureWarning, match="vcov_matrix"):
        pd.testing.assert_frame_equal(res.vcov, res.vcov_matrix())
    with pytest.raises(SpecificationError, match="cannot use Bootstrap"):
        res.with_inference(Bootstrap(reps=99))


# -- bad input (issue 12) -----------------------------------------------------------------------
@pytest.mark.parametrize("bad", [-1, 1.5])
def test_event_codes_must_be_whole_numbers(pbc, bad):
    df = pbc.copy()
    df["status"] = df["status"].astype(float)
    df.loc[7, "status"] = bad
    with pytest.raises(DataError, match="whole-number codes >= 0.*1 rows do not \\(e.g. row 7"
                                        f".*Codes seen: .*{bad}"):
        FineGray(duration="time", event="status", cause=2, covariates=TERMS).fit(df)


@pytest.mark.parametrize("cause", [1.5, -1, "death", True])
def test_cause_must_be_a_whole_positive_code(cause):
    with pytest.raises(SpecificationError, match="whole-number code"):
        FineGray(duration="time", event="status", cause=cause, covariates=TERMS)


def test_timedelta_durations_are_days(pbc):
    days = FineGray(duration="time", event="status", cause=2, covariates=TERMS).fit(pbc)
    td = pbc.assign(time=pd.to_timedelta(pbc["time"], unit="D"))
    res = FineGray(duration="time", event="status", cause=2, covariates=TERMS).fit(td)
    pd.testing.assert_frame_equal(res.tidy(), days.tidy(), rtol=1e-12)
    assert "timedeltas converted to days" in str(res.summary())
    with pytest.raises(DataError, match="holds dates"):
        FineGray(duration="time", event="status", cause=2, covariates=TERMS).fit(
            pbc.assign(time=pd.Timestamp("2020-01-01") + td["time"]))
