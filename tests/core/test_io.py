"""causalips.io.read_table: every format an analyst brings, labels and dates kept, one-line errors."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from causalips.errors import DataError
from causalips.io import detect_decimal, detect_separator, read_table

PEOPLE = pd.DataFrame({
    "person": [1, 2, 3, 4],
    "arm": [1, 2, 1, 2],
    "first_contact": pd.to_datetime(["2020-01-05", "2021-03-01", "2019-12-31", "2022-07-15"]),
    "days": [12.5, 30.0, 7.25, 100.0],
})
ARM_LABELS = {1: "IPS", 2: "usual care"}


def _expected_arm() -> pd.Categorical:
    return pd.Categorical(["IPS", "usual care", "IPS", "usual care"],
                          categories=["IPS", "usual care"])


def test_european_csv_semicolon_and_decimal_comma(tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("team;rate;people\nNorth;0,25;1.200\nSouth;0,5;30\n", encoding="utf-8")
    got = read_table(f)
    assert got.columns.tolist() == ["team", "rate", "people"]
    np.testing.assert_array_equal(got["rate"], [0.25, 0.5])
    np.testing.assert_array_equal(got["people"], [1200, 30])  # "." is a thousands mark there


def test_tsv_and_gzip_and_bom(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_text("a\tb\n1\t2.5\n", encoding="utf-8")
    assert read_table(tsv)["b"].tolist() == [2.5]
    gz = tmp_path / "a.csv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as handle:
        handle.write("x;y\n1;2,5\n")
    assert read_table(gz)["y"].tolist() == [2.5]
    bom = tmp_path / "excel.csv"
    bom.write_bytes("\ufeffid,v\n1,2\n".encode())
    assert read_table(bom).columns.tolist() == ["id", "v"]


def test_separator_and_decimal_can_be_given(tmp_path):
    f = tmp_path / "pipes.txt"
    f.write_text("a|b\n1|2,5\n", encoding="utf-8")
    assert read_table(f, sep="|", decimal=",")["b"].tolist() == [2.5]
    assert read_table(f, sep="pipe", decimal=",")["b"].tolist() == [2.5]


def test_one_column_read_says_why(tmp_path):
    f = tmp_path / "export.csv"
    f.write_text("team;rate\nNorth;0,25\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"read as one column .*--sep ';'") as info:
        read_table(f, sep=",")
    assert "\n" not in str(info.value)


def test_detection_helpers():
    assert detect_separator(["a;b;c", "1;2;3"]) == ";"
    assert detect_separator(["a,b", "1,2"]) == ","
    assert detect_separator(["a b"], ".tsv") == "\t"
    assert detect_decimal(["a;b", "1;2,5"], ";") == ","
    assert detect_decimal(["a;b", "1;2.5"], ";") == "."
    assert detect_decimal(["a,b", "1,2"], ",") == "."


def test_stata_labels_as_categories_and_dates(tmp_path):
    f = tmp_path / "trial.dta"
    PEOPLE.to_stata(f, write_index=False, convert_dates={"first_contact": "td"},
                    value_labels={"arm": ARM_LABELS})
    got = read_table(f)
    pd.testing.assert_series_equal(got["arm"], pd.Series(_expected_arm(), name="arm"))
    assert got["first_contact"].dtype.kind == "M"
    assert got["first_contact"].tolist() == PEOPLE["first_contact"].tolist()


def test_spss_labels_and_dates(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    f = tmp_path / "trial.sav"
    pyreadstat.write_sav(PEOPLE, str(f), variable_value_labels={"arm": ARM_LABELS})
    got = read_table(f)
    assert got["arm"].tolist() == list(_expected_arm())
    assert list(got["arm"].cat.categories) == ["IPS", "usual care"]
    assert got["first_contact"].tolist() == PEOPLE["first_contact"].tolist()
    np.testing.assert_allclose(got["days"], PEOPLE["days"])


def test_spss_unlabelled_codes_are_kept(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    f = tmp_path / "partial.sav"
    pyreadstat.write_sav(pd.DataFrame({"arm": [1.0, 2.0, 3.0]}), str(f),
                         variable_value_labels={"arm": {1: "IPS", 2: "usual care"}})
    assert read_table(f)["arm"].tolist() == ["IPS", "usual care", 3.0]


def test_sas_xport_day_counts_become_dates(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    f = tmp_path / "trial.xpt"
    # SAS stores dates as days since 1960-01-01; 21918 days is 2020-01-04
    days = pd.DataFrame({"id": [1.0, 2.0], "start": [21918.0, 0.0]})
    pyreadstat.write_xport(days, str(f), variable_format={"start": "DATE9"})
    got = read_table(f)
    assert got["start"].tolist() == [pd.Timestamp("2020-01-04"), pd.Timestamp("1960-01-01")]


def test_parquet_and_excel_sheet(tmp_path):
    pq = tmp_path / "a.parquet"
    PEOPLE.to_parquet(pq)
    pd.testing.assert_frame_equal(read_table(pq), PEOPLE)
    xl = tmp_path / "a.xlsx"
    with pd.ExcelWriter(xl) as writer:
        PEOPLE.head(1).to_excel(writer, sheet_name="first", index=False)
        PEOPLE.to_excel(writer, sheet_name="people", index=False)
    assert len(read_table(xl)) == 1 and len(read_table(xl, sheet="people")) == 4


@pytest.mark.parametrize("make, match", [
    (lambda p: p / "missing.csv", "file not found"),
    (lambda p: p, "is a folder"),
    (lambda p: (p / "a.json").write_text("{}") and p / "a.json", "unsupported file type '.json'"),
    (lambda p: (p / "e.csv").write_text("") or p / "e.csv", "is empty"),
    (lambda p: (p / "l.csv").write_bytes("name\nJos\xe9\n".encode("cp1252")) and p / "l.csv",
     r"not utf-8 text .*--encoding"),
    (lambda p: (p / "bad.dta").write_bytes(b"not stata") and p / "bad.dta", "could not read"),
])
def test_errors_are_one_line(tmp_path, make, match):
    with pytest.raises(DataError, match=match) as info:
        read_table(make(tmp_path))
    assert "\n" not in str(info.value)


def test_non_utf8_file_reads_with_its_encoding(tmp_path):
    f = tmp_path / "l.csv"
    f.write_bytes("name;x\nJosé;1,5\n".encode("cp1252"))
    got = read_table(f, encoding="cp1252")
    assert got["name"].tolist() == ["José"] and got["x"].tolist() == [1.5]


def test_csv_and_parquet_are_read_by_duckdb_with_the_same_values(tmp_path):
    # DuckDB reads the text (typed columns, ISO dates as dates); numbers and text equal pandas'
    f = tmp_path / "caseload.csv"
    f.write_text("id,team,first_contact,days,score\n1,North,2023-01-21,12,0.5\n"
                 "2,South,2022-09-25,,1.25\n", encoding="utf-8")
    got = read_table(f)
    want = pd.read_csv(f)
    assert pd.api.types.is_datetime64_any_dtype(got["first_contact"])
    pd.testing.assert_frame_equal(got.drop(columns="first_contact"),
                                  want.drop(columns="first_contact"), check_dtype=False)
    want.to_parquet(tmp_path / "caseload.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "caseload.parquet"), want,
                                  check_dtype=False)
