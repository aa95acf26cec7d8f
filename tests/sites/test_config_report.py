"""The no-code report: config checking, analyses run, small numbers protected, CLI."""

from __future__ import annotations

import numpy as np
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


# -- config values are type-checked ------------------------------------------------------------
@pytest.mark.parametrize("text, match", [
    ("[funnel]\nsite = ['a', 'b']\n", r"\[funnel\] site must be one column name \(text\); got a list"),
    ("title = ['a']\n[funnel]\nsite = 'a'\n", "title must be text; got a list"),
    ("[outcomes]\nby = true\n", r"\[outcomes\] by must be a column name or a list"),
    ("[outcomes]\nby = 'g'\nips_grow = 'yes'\n", r"ips_grow must be true or false"),
    ("[outcomes]\nby = 'g'\nips_grow = true\n", "ips_grow = true needs status"),
    ("suppress_below = 2.5\n[funnel]\nsite = 'a'\n", "suppress_below must be a whole number"),
    ("[funnel]\nsite = 'a'\nlimits = 0.95\n", "limits must be a list of numbers"),
    ("[outcomes]\nby = 'g'\nonly = { column = 'x' }\n", r"only must be \{ column = \.\.\., value"),
    ("funnel = 3\n", r"\[funnel\] must be a table of settings; got 3"),
])
def test_config_types_give_one_line_errors(tmp_path, text, match):
    with pytest.raises(SpecificationError, match=match) as info:
        load_config(_write(tmp_path, "bad.toml", text))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, match", [
    ("funnel:\n  site: ~\n", r"site must be one column name \(text\); got nothing"),
    ("outcomes:\n  by: yes\n", "by must be a column name or a list of column names; got true"),
    ("title: [a, b]\nfunnel:\n  site: s\n", "title must be text; got a list"),
])
def test_yaml_types(tmp_path, text, match):
    with pytest.raises(SpecificationError, match=match):
        load_config(_write(tmp_path, "bad.yaml", text))


def test_config_that_is_not_utf8_or_a_folder(tmp_path):
    bad = tmp_path / "latin.toml"
    bad.write_bytes("title = 'Caf\xe9'\n[funnel]\nsite = 's'\n".encode("latin-1"))
    with pytest.raises(SpecificationError, match="not UTF-8 text"):
        load_config(bad)
    with pytest.raises(SpecificationError, match="is a folder"):
        load_config(tmp_path)


# -- IPS Grow: every status value must be mapped ----------------------------------------------
def _status_people(in_work_label: str) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 400
    status = rng.choice(["unemployed", in_work_label, "education"], size=n, p=[0.8, 0.15, 0.05])
    job = rng.random(n) < np.where(status == in_work_label, 0.9, 0.35)
    return pd.DataFrame({"status": status, "job": job.astype(int),
                         "team": rng.choice(["North", "South", "East"], size=n),
                         "gender": rng.choice(["F", "M"], size=n)})


def test_unknown_status_label_stops_the_report():
    people = _status_people("employed")
    config = {"outcomes": {"outcome": "job", "by": "gender", "ips_grow": True,
                           "status": "status"}}
    with pytest.raises(DataError, match=r"does not map: 'employed' \(\d+\); values seen: .*"
                       r"add each to in_work, education or unemployed in \[outcomes\]"):
        build_sections(people, config)


def test_mapped_status_label_gives_the_right_denominator():
    people = _status_people("employed")
    config = {"outcomes": {"outcome": "job", "by": "gender", "ips_grow": True,
                           "status": "status", "in_work": "employed"},
              "funnel": {"site": "team"}}
    sections, results = build_sections(people, config)
    unemployed = people[people.status == "unemployed"]
    equity = results[0]
    assert equity.glance()["n_obs"][0] == len(unemployed)
    assert equity.glance()["n_events"][0] == unemployed["job"].sum()
    funnel = results[1].tidy()
    assert funnel["denominator"].sum() == len(unemployed)  # [funnel] inherits the mapping


# -- missing values ------------------------------------------------------------------------------
def test_drop_missing_drops_and_counts_per_column():
    people = _status_people("in_work").astype({"gender": object})
    people.loc[[3, 7, 11], "gender"] = None
    people.loc[[20], "job"] = np.nan
    config = {"outcomes": {"outcome": "job", "by": "gender"}}
    with pytest.raises(DataError, match="missing"):
        build_sections(people, config)
    sections, results = build_sections(people, {**config, "drop_missing": True})
    assert results[0].glance()["n_obs"][0] == len(people) - 4
    assert any("4 rows with missing values left out of [outcomes] by gender "
               "(drop_missing = true): job 1, gender 3." in n for n in sections[0].notes)


def test_missing_values_error_points_to_drop_missing(tmp_path, capsys):
    people = _status_people("in_work").astype({"gender": object})
    people.loc[[3], "gender"] = None
    data = tmp_path / "p.csv"
    people.to_csv(data, index=False)
    config = _write(tmp_path, "c.toml", "[outcomes]\noutcome = 'job'\nby = 'gender'\n")
    assert main(["report", str(data), "--config", str(config), "--out",
                 str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "drop_missing = true" in err and "line 5 of p.csv" in err and err.count("\n") == 1


# -- tables as CSV ------------------------------------------------------------------------------
def test_cli_tables_folder_matches_the_html(tmp_path, people):
    data = tmp_path / "people.csv"
    people.to_csv(data, index=False)
    config = _write(tmp_path, "c.toml", "[outcomes]\nonly = { column = 'ips_user', value = 1 }\n"
                    "outcome_date = 'job_start'\nby = ['gender']\n")
    out, tables = tmp_path / "r.html", tmp_path / "tables"
    assert main(["report", str(data), "--config", str(config), "--out", str(out),
                 "--tables", str(tables), "--quiet"]) == 0
    index = pd.read_csv(tables / "index.csv")
    assert len(index) >= 1
    first = pd.read_csv(tables / index["file"][0], dtype=str)
    page = out.read_text()
    hidden = int((first == SECONDARY_MARKER).sum().sum())
    assert hidden > 0 and page.count("&lt;suppressed&gt;") >= hidden
