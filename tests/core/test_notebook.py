"""Every result shows itself in a notebook: a compact HTML table, and plot() hands back the
matplotlib object without showing it (the notebook decides when to draw)."""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

import matplotlib.axes
import matplotlib.figure
import matplotlib.pyplot as plt
import pytest

CONTRACT = Path(__file__).resolve().parents[1] / "contract"
#: a summary is a few short tables: anything bigger is not compact (a full curve, say)
MAX_HTML_CHARS = 30_000


def _cases():
    found = []
    for path in sorted(CONTRACT.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(f"nb_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found += [pytest.param(make_est, make_data, id=name)
                  for name, make_est, make_data, *_ in module.CASES]
    return found


def _fit(make_est, make_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_est().fit(make_data())


def _assert_compact_html(html: str):
    assert isinstance(html, str) and re.search(r"<table\b", html), "no HTML table"
    assert len(html) < MAX_HTML_CHARS, f"{len(html)} characters of HTML is not compact"
    assert "<script" not in html.lower()


def _assert_plot_not_shown(res, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("plot() called plt.show(); return the Axes/Figure instead")

    monkeypatch.setattr(plt, "show", refuse)
    monkeypatch.setattr(matplotlib.figure.Figure, "show", refuse)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drawn = res.plot()
    assert isinstance(drawn, matplotlib.axes.Axes | matplotlib.figure.Figure), type(drawn)


@pytest.mark.parametrize("make_est, make_data", _cases())
def test_result_renders_as_compact_html_and_plots_without_showing(make_est, make_data,
                                                                  monkeypatch):
    res = _fit(make_est, make_data)
    _assert_compact_html(res._repr_html_())
    _assert_plot_not_shown(res, monkeypatch)


def test_derived_results_render_too(monkeypatch):
    """Results made from results (aggregations, tables) behave the same."""
    import causalips as ci
    from causalips.datasets import load_mpdta

    fit = ci.StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                          first_treated="first.treat").fit(load_mpdta())
    for kind in ("simple", "group", "calendar", "dynamic"):
        agg = fit.aggregate(kind)
        _assert_compact_html(agg._repr_html_())
        _assert_plot_not_shown(agg, monkeypatch)
    _assert_compact_html(ci.table(fit.aggregate("simple"))._repr_html_())


def test_the_checks_catch_a_plot_that_shows_and_a_result_without_a_table(monkeypatch):
    class Shows:
        def plot(self):
            fig, ax = plt.subplots()
            plt.show()
            return ax

    with pytest.raises(AssertionError, match="plt.show"):
        _assert_plot_not_shown(Shows(), monkeypatch)
    with pytest.raises(AssertionError, match="no HTML table"):
        _assert_compact_html("<h3>a title only</h3>")
