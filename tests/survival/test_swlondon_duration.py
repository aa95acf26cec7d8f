"""The South West London duration replication case (synthetic caseload)."""

from __future__ import annotations

import pytest

from causalips.replication import cases, replicate


@pytest.fixture(scope="module")
def result():
    return replicate("swlondon_duration", reps=200, seed=1)


def test_case_is_registered():
    assert "swlondon_duration" in cases()


def test_published_duration_figures_reproduced(result):
    table = result.table().set_index("quantity")
    exact = [
        "people who gained a job", "median days from first contact to job",
        "job-gainers employed by 6 months (182 days)",
        "job-gainers employed by 9 months (273 days)",
        "job-gainers employed by 12 months (365 days)",
        "median days of in-work support (time-limited)", "in-work support up to 6 months",
        "in-work support 6-9 months", "in-work support 9-12 months",
    ]
    for q in exact:
        pub, rep = table.loc[q, "published"], table.loc[q, "reproduced"]
        assert str(pub).replace(".0", "") == str(rep).replace(".0", ""), q
    assert table.loc["job-gainers employed by 3 months (91 days)", "reproduced"].startswith(
        "33.5%")
    assert "SYNTHETIC" in result.data_note


def test_competing_risk_and_cap_sections(result):
    titles = [s.title for s in result.sections]
    assert titles[0].startswith("Cumulative incidence")
    assert any("job-search" in t for t in titles) and any("in-work" in t for t in titles)
    incidence = result.results[0]
    at = incidence.at([365]).set_index("state")
    total = at["estimate"].sum()
    assert total == pytest.approx(1.0)  # event-free + job + discharged
    naive = result.results[1].at([365])["estimate"].iloc[0]
    assert naive > at.loc["job start", "estimate"]  # 1 - KM overstates the job share
    caps = result.results[2].wide().set_index("cap_label")
    lost = caps["job_starts_lost"]
    assert lost["3 months"] > lost["6 months"] > lost["9 months"] > lost["12 months"] >= 0
