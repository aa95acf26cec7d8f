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
