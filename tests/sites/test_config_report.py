"""The no-code report: config checking, analyses run, small numbers protected, CLI."""

from __future__ import annotations

import pandas as pd
import pytest

from causalips.cli import main
from causalips.datasets import load_caseload, load_making_ips_work, simulate_wider_caseload
from causalips.disclosure import SECONDARY_MARKER
from causalips.errors import ColumnNotFoundError, DataError, SpecificationError
from causalips.report.config_report import (
    build_sections,
    check_config,
    config_report,
    load_config,
    protect_table,
)

pytestmark = pytest.mark.filterwarnings("ignore::causalips.errors.StatisticalWarning")

SITE_CONFIG = """
title = "Sites"
[funnel]
site = "site"
numerator = "jobs"
denominator = "referrals"
method = "normal"
[productivity]
site = "site"
people = "referrals"
outcomes = "jobs"
fte = "fte"
months = 18
[fidelity]
site = "site"
fidelity = "ips25"
numerator = "jobs"
denominator = "referrals"
"""


@pytest.fixture(scope="module")
def people():
    dates = ["person_id", "first_contact", "status_at_contact", "job_start", "discharge"]
    return simulate_wider_caseload(seed=2024).merge(load_caseload()[dates], on="person_id",
                                                    how="left")


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_site_level_report_from_csv_and_toml(tmp_path):
    sites = load_making_ips_work().assign(fte=[4.0, 3.5, 3.0, 4.5, 2.5, 3.0],
                                          ips25=[101, 108, 95, 110, 88, 99])
    data = tmp_path / "sites.csv"
    sites.to_csv(data, index=False)
    config = _write(tmp_path, "sites.toml", SITE_CONFIG)
    out = config_report(data, config, tmp_path / "r.html")
    text = out.read_text()
    assert "Funnel plot" in text and "Productivity" in text and "Fidelity" in text
    assert text.count("<img ") == 4  # funnel, caterpillar, productivity, fidelity
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert "Northamptonshire" in text


def test_yaml_config_gives_the_same_sections(tmp_path):
    toml = load_config(_write(tmp_path, "c.toml", SITE_CONFIG))
    yaml_text = ("title: Sites\nfunnel:\n  site: site\n  numerator: jobs\n"
                 "  denominator: referrals\n  method: normal\n")
    yml = load_config(_write(tmp_path, "c.yaml", yaml_text))
    assert yml["funnel"] == toml["funnel"]


def test_person_level_report_sections_and_numbers_match_the_api(people):
    from causalips import FunnelPlot, OutcomeEquity, site_counts

    config = check_config({
        "reach": {"participant": "ips_user", "by": ["age_band"]},
        "representativeness": {"source": "source", "reference": "rest of caseload",
                               "by": ["ethnicity"], "age": "age"},
        "outcomes": {"only": {"column": "ips_user", "value": 1}, "outcome_date": "job_start",
                     "ips_grow": True, "status": "status_at_contact", "by": ["ethnicity"]},
        "funnel": {"site": "team"},
    })
    sections, results = build_sections(people, config)
    titles = [s.title for s in sections]
    assert titles[0] == "Reach by age_band" and "Funnel plot: site comparison" in titles
    equity = [r for r in results if type(r).__name__ == "OutcomeEquityResult"][0]
    assert equity.glance()["n_obs"][0] == 499 and equity.glance()["n_events"][0] == 209
    users = people[people.ips_user == 1].assign(job=lambda d: d.job_start.notna().astype(int))
    users = users[users.status_at_contact == "unemployed"]
    api = OutcomeEquity(outcome="job", group="ethnicity").fit(users)
    pd.testing.assert_series_equal(equity.tidy()["rate"], api.tidy()["rate"])
    funnel = [r for r in results if type(r).__name__ == "FunnelPlotResult"][0]
    direct = FunnelPlot(site="team", numerator="numerator", denominator="denominator").fit(
        site_counts(users, site="team", outcome="job"))
    pd.testing.assert_frame_equal(funnel.tidy(), direct.tidy())


def test_small_cells_and_their_complements_are_hidden(people):
    config = check_config({"outcomes": {"only": {"column": "ips_user", "value": 1},
                                        "outcome_date": "job_start", "by": ["gender"]}})
    sections, results = build_sections(people, config)
    table = sections[0].tables[0][1]
    raw = results[0].tidy()
    hidden = table["n"].astype(str) == SECONDARY_MARKER
    assert hidden[(raw["n"] < 5) & (raw["n"] > 0)].all()
    events_hidden = table["events"].astype(str) == SECONDARY_MARKER
    small_events = (raw["events"] < 5) & (raw["events"] > 0)
    assert small_events.any() and events_hidden[small_events].all()
    assert events_hidden.sum() >= 2  # never a single hidden cell the total would reveal
    # a hidden count hides the rate and CI of its row too
    for i in table.index[events_hidden | hidden]:
        assert table.at[i, "rate"] == SECONDARY_MARKER


def test_protect_table_hides_derived_figures():
    t = pd.DataFrame({"group": list("abc"), "n": [40, 3, 25], "rate": [0.5, 0.33, 0.2]})
    out = protect_table(t, ["n"], 5)
    assert out["n"].tolist() == [40, SECONDARY_MARKER, SECONDARY_MARKER]
    assert out["rate"].tolist() == [0.5, SECONDARY_MARKER, SECONDARY_MARKER]


@pytest.mark.parametrize("text, match", [
    ("[funnel]\nsite = 'a'\noverdispersal = 'additive'\n", "did you mean 'overdispersion'"),
    ("[funnels]\nsite = 'a'\n", "unknown setting or section 'funnels'"),
    ("[productivity]\nsite = 'a'\n", r"\[productivity\] needs people"),
    ("title = 'x'\n", "no analyses"),
    ("title = 'x\n", "invalid TOML"),
    ("suppress_below = -1\n[funnel]\nsite='a'\n", "suppress_below must be"),
    ("[reach]\nby = ['a']\n", "needs participant"),
])
def test_bad_configs_give_one_line_errors(tmp_path, text, match):
    with pytest.raises(SpecificationError, match=match) as info:
        load_config(_write(tmp_path, "bad.toml", text))
    assert "\n" not in str(info.value)


def test_bad_files(tmp_path):
    with pytest.raises(SpecificationError, match="config file not found"):
        load_config(tmp_path / "none.toml")
    with pytest.raises(SpecificationError, match="use a .toml or .yaml"):
        load_config(_write(tmp_path, "c.ini", "x=1"))
    with pytest.raises(SpecificationError, match="invalid YAML"):
        load_config(_write(tmp_path, "c.yaml", "funnel: [\n"))
    config = _write(tmp_path, "c.toml", "[funnel]\nsite='sight'\nnumerator='jobs'\n"
                    "denominator='referrals'\n")
    data = tmp_path / "d.csv"
    load_making_ips_work().to_csv(data, index=False)
    with pytest.raises(ColumnNotFoundError, match="closest: 'site'"):
        config_report(data, config, tmp_path / "r.html")
    with pytest.raises(DataError, match="file not found"):
        config_report(tmp_path / "missing.csv", config, tmp_path / "r.html")


def test_cli_report_command(tmp_path, capsys):
    data = tmp_path / "sites.csv"
    load_making_ips_work().to_csv(data, index=False)
    config = _write(tmp_path, "c.toml", "[funnel]\nsite='site'\nnumerator='jobs'\n"
                    "denominator='referrals'\n")
    out = tmp_path / "report.html"
    assert main(["report", str(data), "--config", str(config), "--out", str(out)]) == 0
    assert out.exists() and "report written" in capsys.readouterr().err
    bad = _write(tmp_path, "b.toml", "[funnel]\nsite='site'\nnumerater='jobs'\n")
    assert main(["report", str(data), "--config", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("causalips: error: config b.toml: unknown key") and err.count("\n") == 1


def test_example_script_runs(tmp_path):
    import runpy
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "site_comparison.py"
    argv = sys.argv
    sys.argv = [str(script), str(tmp_path)]
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    assert (tmp_path / "site_report.html").exists()
