import numpy as np
import pytest

from causalips.did import implied_factor, years_of_work
from causalips.errors import SpecificationError


def test_published_pairs_share_one_constant():
    lo1, hi1 = implied_factor(5.6, 12.7)
    lo2, hi2 = implied_factor(10.5, 23.8)
    lo, hi = max(lo1, lo2), min(hi1, hi2)
    assert lo < hi  # one factor is consistent with both published conversions
    assert lo < 2.27 < hi
    for days, years in ((5.6, 12.7), (10.5, 23.8)):
        out = years_of_work(days, exposed=2.27 * 230, workdays_per_year=230)
        assert round(float(out["estimate"].iloc[0]), 1) == years


def test_ci_carried_through_linearly():
    out = years_of_work(5.6, exposed=522, workdays_per_year=230, conf_low=2.7, conf_high=8.4)
    f = 522 / 230
    row = out.iloc[0]
    assert row["factor"] == pytest.approx(f)
    assert (row["conf_low"], row["estimate"], row["conf_high"]) == pytest.approx(
        (2.7 * f, 5.6 * f, 8.4 * f))
    assert np.isnan(years_of_work(1.0, exposed=10)["conf_low"].iloc[0])


def test_from_result_and_errors():
    import warnings

    from causalips.datasets.norway import load_norway_panel
    from causalips.did import DiD

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = DiD(outcome="workdays", unit="person", time="year", first_treated="first_treated",
                  cluster="municipality").fit(load_norway_panel())
    out = years_of_work(res, exposed=520, workdays_per_year=230)
    assert out["effect_days"].iloc[0] == pytest.approx(res.att)
    assert out["conf_low"].iloc[0] == pytest.approx(res.tidy()["conf_low"].iloc[0] * 520 / 230)
    with pytest.raises(SpecificationError, match="term 'nope' not in the result"):
        years_of_work(res, exposed=520, term="nope")
    with pytest.raises(SpecificationError, match="workdays_per_year must lie in"):
        years_of_work(5.6, exposed=520, workdays_per_year=0)
