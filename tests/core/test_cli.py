"""The command line: demo, km (text and JSON), one-line errors with exit status 2."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from causalips.cli import main


def test_demo_writes_report(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "median" in out and "synthetic" in out.lower()
    page = (tmp_path / "causalips-demo-report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "Synthetic data" in page


def test_km_json_roundtrip(tmp_path, capsys, reference_data):
    path = reference_data.path("survival/veteran.csv")
    assert main(["km", str(path), "--duration", "time", "--event", "status", "--group", "trt",
                 "--json", "--suppress", "0"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["estimator"] == "KaplanMeier"
    meds = {row["group"]: row["estimate"] for row in payload["quantiles"] if row["quantile"] == 0.5}
    assert meds == {1: 103.0, 2: 52.5}
    assert payload["logrank"]["df"] == 1


def test_km_text_and_report(tmp_path, capsys):
    df = pd.DataFrame({"days": [5, 8, 12, 20, 30, 31], "status": ["job", "none"] * 3})
    f = tmp_path / "d.parquet"
    df.to_parquet(f)
    out_html = tmp_path / "r.html"
    assert main(["km", str(f), "--duration", "days", "--event", "status", "--event-value", "job",
                 "--out", str(out_html)]) == 0
    assert "Kaplan-Meier" in capsys.readouterr().out and out_html.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["km", "missing.csv", "--duration", "t", "--event", "e"], "file not found"),
        (["km", "__VET__", "--duration", "tme", "--event", "status"], "closest: 'time'"),
        (["replicate", "no_such_case"], "case must be one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, reference_data):
    argv = [str(reference_data.path("survival/veteran.csv")) if a == "__VET__" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("causalips: error:")


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "demo" in capsys.readouterr().out


# -- reading files from the command line -----------------------------------------------------
def test_km_reads_european_csv_and_sets_separator(tmp_path, capsys):
    f = tmp_path / "export.csv"
    rows = "\n".join(f"{d},5;{e}" for d, e in zip(range(1, 41), [1, 0] * 20))
    f.write_text("days;job\n" + rows + "\n", encoding="utf-8")
    assert main(["km", str(f), "--duration", "days", "--event", "job", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["estimates"][0]
    assert first["time"] % 1 == 0.5  # 1,5 read as 1.5
    assert main(["km", str(f), "--duration", "days", "--event", "job", "--sep", ","]) == 2
    err = capsys.readouterr().err
    assert "read as one column" in err and "--sep ';'" in err


def test_km_reads_stata(tmp_path, capsys):
    f = tmp_path / "trial.dta"
    df = pd.DataFrame({"days": [float(d) for d in range(1, 31)], "job": [1, 0, 1] * 10,
                       "arm": [1, 2] * 15})
    df.to_stata(f, write_index=False, value_labels={"arm": {1: "IPS", 2: "usual care"}})
    assert main(["km", str(f), "--duration", "days", "--event", "job", "--group", "arm"]) == 0
    out = capsys.readouterr().out
    assert "IPS" in out and "usual care" in out


# -- errors in the command line's words ------------------------------------------------------
def test_errors_name_flags_and_spreadsheet_lines(tmp_path, capsys):
    f = tmp_path / "x.csv"
    pd.DataFrame({"t": [1, 2, 3, None, 5], "e": [1, 0, 1, 1, 0]}).to_csv(f, index=False)
    assert main(["km", str(f), "--duration", "t", "--event", "e"]) == 2
    err = capsys.readouterr().err
    # the header is line 1, so the row with index 3 is on line 5
    assert "(--duration)" in err and "line 5 of x.csv" in err and "row 3" not in err
    assert main(["km", str(f), "--duration", "e", "--event", "e", "--conf-level", "2"]) == 2
    err = capsys.readouterr().err
    assert "--conf-level must" in err and "conf_level" not in err


def test_negative_suppress_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["km", "x.csv", "--duration", "t", "--event", "e", "--suppress", "-1"])
    assert exc.value.code == 2
    assert "whole number >= 0" in capsys.readouterr().err


def test_control_characters_in_labels_are_not_printed_raw(tmp_path, capsys):
    f = tmp_path / "x.csv"
    pd.DataFrame({"t": range(1, 21), "e": [1] * 20,
                  "g": ["\x1b[31mred\x1b[0m"] * 10 + ["plain"] * 10}).to_csv(f, index=False)
    assert main(["km", str(f), "--duration", "t", "--event", "e", "--group", "g"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[31mred" in out


def test_closed_pipe_exits_quietly(tmp_path, reference_data):
    import subprocess
    import sys

    path = reference_data.path("survival/veteran.csv")
    code = ("import sys; from causalips.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.run(
        f"{sys.executable} -c '{code}' km {path} --duration time --event status --group trt "
        "--json --suppress 0 | head -c 300", shell=True, capture_output=True, text=True,
        timeout=120)
    assert len(proc.stdout) == 300
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    assert "Broken pipe" not in proc.stderr and "error" not in proc.stderr, proc.stderr


def test_quiet_silences_the_progress_bar(tmp_path, capsys, monkeypatch):
    from causalips import demo

    monkeypatch.setattr(demo, "_time_to_job", lambda threshold: ("line", []))
    monkeypatch.setattr("causalips.replication.cases", lambda: {})
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert "causalips demo" in capsys.readouterr().err  # the bar's label
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    assert "causalips demo" not in capsys.readouterr().err


def test_demo_shows_progress_on_stderr(tmp_path, capsys, monkeypatch):
    from causalips import demo

    monkeypatch.setattr(demo, "_time_to_job", lambda threshold: ("line", []))
    monkeypatch.setattr("causalips.replication.cases", lambda: {})
    demo.demo_sections(progress=True)
    captured = capsys.readouterr()
    assert "causalips demo" in captured.err and captured.out == ""


# -- disclosure in print and JSON --------------------------------------------------------------
TINY = pd.DataFrame({"days": list(range(1, 13)) + list(range(1, 41)),
                     "job": [1, 1] + [0] * 10 + [1, 0] * 20,
                     "team": ["Smallbrook"] * 12 + ["Large"] * 40})


@pytest.mark.parametrize("as_json", [False, True])
def test_km_suppress_hides_steps_of_small_groups(tmp_path, capsys, as_json):
    f = tmp_path / "k.csv"
    TINY.to_csv(f, index=False)
    argv = ["km", str(f), "--duration", "days", "--event", "job", "--group", "team",
            "--suppress", "10"] + (["--json"] if as_json else [])
    assert main(argv) == 0
    out = capsys.readouterr().out
    # Smallbrook (12 people, 1 then 2 events) would show 0.9167 / 0.8333
    for leak in ("0.9167", "0.8333", "0.91666", "0.83333"):
        assert leak not in out
    if as_json:
        payload = json.loads(out)
        assert payload["disclosure"] == {"threshold": 10, "groups_not_shown": 1,
                                         "notes": payload["disclosure"]["notes"]}
        assert {r["group"] for r in payload["estimates"]} == {"Large"}
        assert all(r["n_event"] >= 10 and r["n_risk"] >= 10 for r in payload["estimates"])
        small = [r for r in payload["numbers"] if r["group"] == "Smallbrook"][0]
        assert small["n_events"] == "<10"
    else:
        assert "1 group not drawn" in out


def test_km_json_exact_with_suppression_off(tmp_path, capsys):
    f = tmp_path / "k.csv"
    TINY.to_csv(f, index=False)
    assert main(["km", str(f), "--duration", "days", "--event", "job", "--group", "team",
                 "--suppress", "0", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    small = [r["estimate"] for r in payload["estimates"] if r["group"] == "Smallbrook"]
    assert small[:2] == pytest.approx([11 / 12, 10 / 12])


# -- km reads Parquet and CSV through the engine ---------------------------------------------
def _spells(n=3000, seed=4):
    import numpy as np

    rng = np.random.default_rng(seed)
    return pd.DataFrame({"days": rng.integers(1, 400, n), "job": rng.integers(0, 2, n),
                         "outcome": rng.choice(["job", "none"], n),
                         "team": rng.choice(["North", "South", "East"], n)})


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("event", [["--event", "job"], ["--event", "outcome", "--event-value",
                                                         "job"]])
def test_km_reads_the_file_in_the_engine_with_the_same_json(tmp_path, capsys, monkeypatch,
                                                            suffix, event):
    import causalips.cli as cli

    f = tmp_path / f"spells{suffix}"
    df = _spells()
    df.to_parquet(f) if suffix == ".parquet" else df.to_csv(f, index=False)
    argv = ["km", str(f), "--duration", "days", *event, "--group", "team", "--json",
            "--times", "30,90.5,365"]
    with monkeypatch.context() as m:  # the engine path may not load the file into pandas
        for name in ("read_parquet", "read_csv"):
            m.setattr(pd, name, lambda *a, **k: pytest.fail("the file was read by pandas"))
        assert main(argv) == 0
    in_engine = capsys.readouterr().out
    monkeypatch.setattr(cli, "_lazy_file", lambda args: None)  # the pandas reader, as before
    assert main(argv) == 0
    assert in_engine == capsys.readouterr().out
    assert json.loads(in_engine)["logrank"]["df"] == 2


def test_scan_progress_only_on_a_terminal_and_not_when_quiet(monkeypatch):
    from causalips import engine
    from causalips.cli import _ScanProgress

    def setting():
        return engine.connection().sql(
            "SELECT current_setting('enable_progress_bar')").fetchall()[0][0]

    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    with _ScanProgress(True, "reading x"):
        assert setting() is True
    assert setting() is False
    with _ScanProgress(False, "reading x"):  # --quiet or --json
        assert setting() is False
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    with _ScanProgress(True, "reading x"):
        assert setting() is False


# -- did: the data read in place by the engine -------------------------------------------------
def _did_panel():
    import numpy as np

    rng = np.random.default_rng(3)
    people, periods = 200, 6
    df = pd.DataFrame({"id": np.repeat(np.arange(people), periods),
                       "year": np.tile(np.arange(2015, 2015 + periods), people)})
    df["muni"] = df["id"] % 20
    df["ft"] = np.where(df["muni"] < 6, 2018.0, np.nan)
    df["y"] = rng.normal(size=len(df)) + 0.5 * df["id"] % 7 + 2.0 * (df["year"] >= df["ft"])
    return df


DID_ARGS = ["--outcome", "y", "--unit", "id", "--time", "year", "--first-treated", "ft",
            "--cluster", "muni"]


def test_did_reads_parquet_in_place_and_matches_the_api(tmp_path, capsys, monkeypatch):
    import warnings

    from causalips import DiD, WildBootstrap

    df = _did_panel()
    f = tmp_path / "panel.parquet"
    df.to_parquet(f, index=False)
    monkeypatch.setattr("causalips.io.read_table", lambda *a, **k: pytest.fail("loaded"))
    assert main(["did", str(f), *DID_ARGS, "--inference", "wild", "--reps", "199", "--seed",
                 "4", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = DiD(outcome="y", unit="id", time="year", first_treated="ft", cluster="muni",
                   inference=WildBootstrap(reps=199, seed=4)).fit(df).tidy().iloc[0]
    got = payload["estimates"][0]
    for col in ("estimate", "std_error", "p_value", "conf_low", "conf_high"):
        assert got[col] == pytest.approx(want[col], rel=1e-10)
    assert payload["glance"][0]["n_obs"] == len(df) and payload["notes"]
    assert main(["did", str(f), *DID_ARGS, "--fixed-effects", "cluster,time"]) == 0
    out = capsys.readouterr().out
    assert "Difference-in-differences" in out and "computed by duckdb" in out


def test_did_reads_csv_with_duckdb_and_other_formats_with_read_table(tmp_path, capsys):
    df = _did_panel()
    csv = tmp_path / "panel.csv"
    df.to_csv(csv, sep=";", index=False)
    assert main(["did", str(csv), *DID_ARGS, "--sep", ";", "--json"]) == 0
    from_csv = json.loads(capsys.readouterr().out)["estimates"][0]["estimate"]
    dta = tmp_path / "panel.dta"
    df.to_stata(dta, write_index=False)
    assert main(["did", str(dta), *DID_ARGS, "--json"]) == 0
    from_stata = json.loads(capsys.readouterr().out)["estimates"][0]["estimate"]
    assert from_csv == pytest.approx(from_stata, rel=1e-12)


@pytest.mark.parametrize("argv, message", [
    (["--outcome", "yy"], "column 'yy' (--outcome) not found; closest: 'y'"),
    (["--fixed-effects", "unit,region"], "'region' is not"),
    (["--reps", "99"], "--reps and --seed set the resampling; add --inference"),
    (["--conf-level", "2"], "--conf-level"),
])
def test_did_errors_name_the_flags(tmp_path, capsys, argv, message):
    f = tmp_path / "panel.parquet"
    _did_panel().to_parquet(f, index=False)
    base = dict(zip(DID_ARGS[::2], DID_ARGS[1::2]))
    base.update(dict(zip(argv[::2], argv[1::2])))
    flat = [x for kv in base.items() for x in kv]
    assert main(["did", str(f), *flat]) == 2
    err = capsys.readouterr().err
    assert err.startswith("causalips: error:") and err.count("\n") == 1 and message in err


def test_did_subprocess_json_is_clean_and_quiet(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    f = tmp_path / "panel.parquet"
    _did_panel().to_parquet(f, index=False)
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}
    proc = subprocess.run([sys.executable, "-m", "causalips", "did", str(f), *DID_ARGS,
                           "--inference", "randomization", "--json", "--quiet"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["estimates"][0]["inference"].startswith("randomization inference")
    assert proc.stderr == ""
