"""Publication tables: content from tidy()/glance(), and golden files for every format."""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalips as ci
from causalips.base import Estimator, Result, Summary
from causalips.errors import SpecificationError

GOLDEN = Path(__file__).resolve().parent / "golden"
#: set CAUSALIPS_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change
UPDATE = os.environ.get("CAUSALIPS_UPDATE_GOLDEN") == "1"


# -- fixed stand-in results: the golden files depend on the table code only -------------------
class _Plan(Estimator):
    _param_names = ("outcome", "unit", "time", "cluster", "strata", "conf_level")

    def __init__(self, *, outcome=None, unit=None, time=None, cluster=None, strata=None,
                 conf_level=0.95):
        self.outcome, self.unit, self.time, self.cluster = outcome, unit, time, cluster
        self.strata, self.conf_level = strata, conf_level


class _Fixed(Result):
    def __init__(self, plan, tidy, glance, header=()):
        super().__init__(estimator=plan, table=pd.DataFrame(tidy), n_obs=glance["n_obs"])
        self._glance = pd.DataFrame([glance])
        self._header = tuple(header)
        self._freeze()

    def glance(self):
        return self._glance.copy()

    def summary(self):
        return Summary(title="fixed", header=self._header, tables=(("", self._table),))


def _did_like():
    return _Fixed(
        _Plan(outcome="work_days", unit="person", time="year", cluster="municipality"),
        {"term": ["att", "age_10%"], "estimate": [4.97746, -0.5], "std_error": [0.2783, 0.25],
         "statistic": [17.885, -2.0], "p_value": [6.4e-9, 0.0734],
         "conf_low": [4.357, -1.057], "conf_high": [5.598, 0.057],
         "inference": ["cluster-robust CR1, t(10)"] * 2},
        {"n_obs": 48240, "n_clusters": 11, "fixed_effects": "unit+time", "r2_within": 0.00174})


def _cox_like():
    return _Fixed(
        _Plan(strata=["site & region"]),
        {"term": ["att", "log(bili)", "age:sex[m]|x"], "estimate": [0.51, 1.2, -0.0161],
         "std_error": [0.4336, 0.1, 0.0463], "statistic": [1.176, 12.0, -0.348],
         "p_value": [0.2396, 0.0, 0.728], "conf_low": [-0.34, 1.004, -0.107],
         "conf_high": [1.36, 1.396, 0.0747]},
        {"n_obs": 116, "n_events": 4, "n_clusters": 6},
        header=(("variance", "cluster-robust by 'clinic' (6 clusters; Lin-Wei sandwich)"),))


def _golden_table():
    return ci.table({"TWFE <b>": _did_like(), "Cox_1": _cox_like()}, stars=True, suppress=5,
                    stats=["n_obs", "n_events", "n_clusters", "r2_within"],
                    title="Golden: effects & 100% of <them>", notes=["Synthetic numbers."])


def _check_golden(name: str, text: str):
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{name} missing; run with CAUSALIPS_UPDATE_GOLDEN=1 once"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; if intended, rerun with CAUSALIPS_UPDATE_GOLDEN=1 and review the diff")


def test_golden_markdown():
    _check_golden("table.md", _golden_table().to_markdown())


def test_golden_latex_is_booktabs_and_escaped():
    latex = _golden_table().to_latex()
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert rule in latex
    assert "|" not in latex.split(r"\toprule")[0], "no vertical rules"
    assert r"age\_10\%" in latex and r"\&" in latex and r"$\checkmark$" in latex
    _check_golden("table.tex", latex)


def test_golden_html_is_escaped_and_stable():
    html = _golden_table().to_html()
    assert "TWFE &lt;b&gt;" in html and "TWFE <b>" not in html
    assert html == _golden_table().to_html(), "HTML differs between two runs"
    _check_golden("table.html", html)


def test_golden_docx_read_back(tmp_path):
    import docx

    path = _golden_table().to_docx(tmp_path / "table.docx")
    doc = docx.Document(str(path))
    cells = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    paragraphs = [p.text for p in doc.paragraphs]
    _check_golden("table_docx.json", json.dumps({"cells": cells, "paragraphs": paragraphs},
                                                ensure_ascii=False, indent=1) + "\n")


# -- content ----------------------------------------------------------------------------------
def _rows(tab) -> dict[str, list[str]]:
    frame = tab.frame
    return {t: frame.loc[i, tab.models].tolist() for i, t in enumerate(frame["term"]) if t}


def test_estimates_with_standard_errors_below_and_no_stars_by_default():
    tab = ci.table([_did_like(), _cox_like()])
    frame = tab.frame
    i = frame.index[frame["term"] == "att"][0]
    assert frame.loc[i, ["(1)", "(2)"]].tolist() == ["4.977", "0.510"]
    assert frame.loc[i + 1, ["(1)", "(2)"]].tolist() == ["(0.278)", "(0.434)"]
    rows = _rows(tab)
    assert rows["N"] == ["48,240", "116"]
    assert rows["Events"] == ["", "4"]
    assert rows["person"] == ["✓", ""] and rows["site & region"] == ["", "✓"]
    assert rows["Inference"] == ["cluster-robust CR1, t(10), clustered by municipality",
                                 "cluster-robust by 'clinic'"]
    assert rows["Outcome"] == ["work_days", ""]
    assert not any("*" in c for c in frame[["(1)", "(2)"]].to_numpy().ravel())
    assert tab.notes == ("Standard errors in parentheses.",)


@pytest.mark.parametrize("p, marks", [(0.2, ""), (0.09, "*"), (0.049, "**"), (0.0099, "***"),
                                      (0.1, ""), (0.05, "*")])
def test_star_thresholds_are_strict(p, marks):
    res = _Fixed(_Plan(), {"term": ["b"], "estimate": [1.0], "std_error": [0.5],
                           "p_value": [p]}, {"n_obs": 10})
    top = ci.table(res, stars=True).frame.loc[1, "(1)"]
    assert top == "1.000" + marks


def test_confidence_intervals_p_values_and_statistics_below():
    res = _did_like()
    assert ci.table(res, statistic="conf_int").frame.loc[2, "(1)"] == "[4.357, 5.598]"
    assert ci.table(res, statistic="conf_int").notes[0].startswith("95% confidence intervals")
    assert ci.table(res, statistic="p_value").frame.loc[2, "(1)"] == "(<0.001)"
    assert ci.table(res, statistic="statistic").frame.loc[2, "(1)"] == "(17.885)"
    assert "" not in ci.table(res, statistic=None).frame.loc[1:2, "term"].tolist()


def test_rename_merges_rows_keep_drop_order_and_patterns():
    tab = ci.table([_did_like(), _cox_like()], rename={"log(bili)": "att2"},
                   keep=["att2", "att", "age.*"], outcome=False)
    labels = [t for t in tab.frame.loc[tab.frame["section"] == "Estimates", "term"] if t]
    assert labels == ["att2", "att", "age_10%", "age:sex[m]|x"]
    tab = ci.table([_did_like(), _cox_like()], drop=["age.*"], order=["log(bili)"],
                   outcome=False)
    labels = [t for t in tab.frame.loc[tab.frame["section"] == "Estimates", "term"] if t]
    assert labels == ["log(bili)", "att"]
    merged = ci.table([_did_like(), _cox_like()], keep=["att"], digits=2).frame
    assert merged.loc[1, ["(1)", "(2)"]].tolist() == ["4.98", "0.51"]


def test_exponentiated_estimates_are_hazard_ratios_with_delta_method_ses():
    tab = ci.table(_cox_like(), exponentiate=True, keep=["att"], digits=4)
    assert tab.frame.loc[1, "(1)"] == f"{np.exp(0.51):.4f}"
    assert tab.frame.loc[2, "(1)"] == f"({np.exp(0.51) * 0.4336:.4f})"
    assert "delta method" in " ".join(tab.notes)


def test_suppression_marks_small_counts_and_hides_that_models_estimates():
    tab = ci.table([_did_like(), _cox_like()], suppress=5, stats=["n_obs", "n_events",
                                                                  "n_clusters"])
    rows = _rows(tab)
    assert rows["Events"] == ["", "<5"]
    assert rows["N"] == ["48,240", "116"]
    assert rows["Clusters"] == ["11", "6"]  # places, not people
    assert rows["att"] == ["4.977", "suppressed"]
    assert any("disclosure" in n for n in tab.notes)
    zero = _Fixed(_Plan(), {"term": ["b"], "estimate": [1.0]}, {"n_obs": 50, "n_events": 0})
    assert _rows(ci.table(zero, suppress=5))["Events"] == ["0"]  # zero discloses nobody
    assert _rows(ci.table(_cox_like()))["Events"] == ["4"]  # off unless asked


def test_missing_glance_columns_leave_blanks_not_errors():
    bare = _Fixed(_Plan(), {"term": ["b"], "estimate": [1.0], "std_error": [np.nan]},
                  {"n_obs": 3})
    tab = ci.table([bare, _did_like()], stats=["n_obs", "not_a_stat", "n_clusters"])
    rows = _rows(tab)
    assert rows["b"] == ["1.000", ""] and "not_a_stat" not in rows
    assert rows["Clusters"] == ["", "11"] and rows["Inference"][0] == ""


@pytest.mark.parametrize("kwargs, match", [
    ({"statistic": "se"}, "statistic must be one of"),
    ({"names": ["a"]}, "names has 1 entries for 2"),
    ({"names": ["a", "a"]}, "must differ"),
    ({"keep": "att"}, "takes a list"),
    ({"keep": ["nothing"]}, "no estimate is left"),
    ({"rename": {"att": "x", "age_10%": "x"}}, "share the row 'x'"),
    ({"stars": 0.05}, "stars must be"),
    ({"suppress": 2.5}, "suppress must be"),
    ({"exponentiate": [True]}, "one flag per model"),
])
def test_bad_options_are_specification_errors(kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        ci.table([_did_like(), _cox_like()], **kwargs)


def test_an_unfitted_plan_is_refused_with_what_to_do():
    with pytest.raises(SpecificationError, match="call .fit\\(data\\) first"):
        ci.table(ci.DiD(outcome="y", unit="u", time="t", treatment="d"))


def test_save_by_suffix(tmp_path):
    tab = _golden_table()
    assert tab.save(tmp_path / "t.md").read_text(encoding="utf-8") == tab.to_markdown()
    assert tab.save(tmp_path / "t.tex").read_text(encoding="utf-8") == tab.to_latex()
    assert tab.save(tmp_path / "t.html").read_text(encoding="utf-8") == tab.to_html()
    assert tab.save(tmp_path / "t.docx").stat().st_size > 0
    with pytest.raises(SpecificationError, match=".md, .tex, .html or .docx"):
        tab.save(tmp_path / "t.pdf")
    assert tab._repr_html_() == tab.to_html() and str(tab) == tab.to_markdown()


# -- real estimators --------------------------------------------------------------------------
def _fit(est, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data)


def _cell_of(tab, label, model, below=False):
    frame = tab.frame
    i = frame.index[(frame["term"] == label) & (frame["section"] == "Estimates")][0]
    return frame.loc[i + int(below), model]


def test_did_event_study_staggered_cox_and_fine_gray_side_by_side():
    from causalips.datasets import load_mpdta, load_norway_panel, load_swiss_trial

    panel, trial = load_norway_panel(), load_swiss_trial()
    rng = np.random.default_rng(3)
    compete = pd.DataFrame({"t": rng.exponential(1, 300), "ev": rng.integers(0, 3, 300),
                            "x": rng.normal(size=300)})
    kw = dict(first_treated="first_treated", cluster="municipality")
    fits = {
        "DiD": _fit(ci.DiD.from_formula("workdays ~ 1 | person + year", **kw), panel),
        "SA": _fit(ci.EventStudy.from_formula("workdays ~ 1 | person + year",
                                              method="sun_abraham", **kw), panel),
        "CS": _fit(ci.StaggeredDiD.from_formula("lemp ~ 1 | countyreal + year",
                                                first_treated="first.treat"),
                   load_mpdta()).aggregate("dynamic"),
        "Cox": _fit(ci.Cox.from_formula("Surv(months, employed) ~ C(budget, Treatment('40h'))"
                                        " + strata(sex) + cluster(clinic)"), trial),
        "FG": _fit(ci.FineGray.from_formula("Surv(t, ev) ~ x", cause=1), compete),
    }
    tab = ci.table(fits, digits=4)
    for name, res in fits.items():
        tidy = res.tidy()
        row = tidy.iloc[-1] if name == "SA" else tidy.iloc[0]  # SA: post_average
        label = row["term"]
        assert _cell_of(tab, label, name) == f"{row['estimate']:.4f}"
        assert _cell_of(tab, label, name, below=True) == f"({row['std_error']:.4f})"
        n = tab.frame.loc[tab.frame["term"] == "N", name].iloc[0]
        assert n == f"{int(res.glance()['n_obs'].iloc[0]):,}"
    rows = _rows(tab)
    assert rows["person"] == ["✓", "✓", "", "", ""] and rows["sex"] == ["", "", "", "✓", ""]
    assert rows["Clusters"][:2] == ["11", "11"] and rows["Clusters"][3] == "6"
    assert rows["Inference"][0].startswith("cluster-robust CR1, t(10)")
    assert rows["Inference"][2] == "influence function"
    assert rows["Inference"][3] == "cluster-robust by 'clinic'"
    assert rows["Events"][3] == str(int(fits["Cox"].glance()["n_events"].iloc[0]))
    assert rows["Outcome"] == ["workdays", "workdays", "lemp", "Surv(months, employed)",
                               "Surv(t, ev)"]
    for fmt in ("to_markdown", "to_latex", "to_html"):
        assert "budget[25h]" in getattr(tab, fmt)()


def test_the_stata_to_latex_example_of_the_docs_runs(tmp_path, monkeypatch):
    """docs/tables.md: a .dta file to a LaTeX table of TWFE, Sun-Abraham and CS in five lines."""
    from causalips.datasets import load_norway_panel

    doc = (Path(__file__).resolve().parents[2] / "docs" / "tables.md").read_text(encoding="utf-8")
    section = doc.split("## From a Stata file", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([ln for ln in code.splitlines() if ln.strip() and not ln.startswith(" ")]) == 5
    panel = load_norway_panel()
    panel.to_stata(tmp_path / "norway.dta", write_index=False)
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, "docs/tables.md", "exec"), {})
    latex = (tmp_path / "did.tex").read_text(encoding="utf-8")
    twfe = _fit(ci.DiD(outcome="workdays", unit="person", time="year",
                       first_treated="first_treated", cluster="municipality"), panel)
    assert r"\toprule" in latex and r"\bottomrule" in latex
    assert "TWFE & Sun-Abraham & Callaway-Sant'Anna" in latex
    att_row = next(ln for ln in latex.splitlines() if ln.startswith("att &"))
    cells = [c.strip(" \\") for c in att_row.split("&")[1:]]
    assert cells[0] == f"{twfe.att:.3f}" and all(cells), att_row


def test_docstring_example_runs():
    import doctest

    import causalips.publish.tables as table_module

    failures, tried = doctest.testmod(table_module, extraglobs={"ci": ci},
                                      optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
