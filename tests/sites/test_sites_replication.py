"""The two replication cases reproduce the published counts."""

from __future__ import annotations

import pytest

from causalips.replication import cases, replicate


def test_cases_are_registered():
    assert {"making_ips_work", "swlondon_reach"} <= set(cases())


def test_making_ips_work_counts_and_rates_reproduced_exactly():
    res = replicate("making_ips_work")
    table = res.table().set_index("quantity")
    assert table.loc["total jobs", "reproduced"] == 421
    assert table.loc["total referrals", "reproduced"] == 1161
    for quantity, row in table.iterrows():
        if quantity.endswith("jobs / referrals"):
            assert row["published"] == row["reproduced"], quantity
    assert "below 99.8%" in table.loc["Northamptonshire: jobs / referrals", "note"]
    assert len(res.sections) == 2 and res.sections[0].figures


def test_swlondon_reach_and_outcome_rates():
    res = replicate("swlondon_reach")
    t = res.table().set_index("quantity")
    assert t.loc["reach: IPS users / eligible caseload", "reproduced"] == "539/6165 = 8.7%"
    assert t.loc["unemployed at first contact (denominator)", "reproduced"] == 499
    assert t.loc["gained employment", "reproduced"] == 209
    assert t.loc["employment rate (IPS Grow)", "reproduced"] == "41.9%"  # 209/499; see note
    assert t.loc["overall positive outcome (gained, retained or education)",
                 "reproduced"] == "46.2% (249/539)"
    # like with like: each published finding on who uses IPS is reproduced in its own words
    for category, published in (("age_band", "differed"), ("gender", "alike"),
                                ("ethnicity", "differed"), ("diagnosis", "alike")):
        row = t.loc[f"IPS users vs rest of caseload by {category}"]
        assert row["published"] == published
        p = float(row["reproduced"].split("p = ")[1])
        assert row["reproduced"].startswith(published) and (p < 0.05) == (published == "differed")
    assert t.loc["age, IPS users vs rest of caseload", "reproduced"].startswith("users younger")
    assert t.loc["difference in employment rate by ethnicity", "reproduced"].startswith(
        "not significant")
    for eth, pub in (("Mixed", 47.8), ("Asian", 44.2), ("Black", 43.4), ("White", 40.2)):
        assert abs(float(t.loc[f"employment rate, {eth}", "reproduced"].rstrip("%")) - pub) < 1
    assert str(res)


@pytest.mark.parametrize("name", ["making_ips_work", "swlondon_reach"])
def test_cases_are_json_safe(name):
    import json

    json.dumps(replicate(name).to_dict())
