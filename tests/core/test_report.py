"""The HTML report: one file, escaped text, suppressed small counts, embedded figures."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from causalips import KaplanMeier
from causalips.base import ReportSection
from causalips.report import render_html, suppress_small_counts


def test_user_text_is_escaped_and_report_is_self_contained():
    df = pd.DataFrame({"t<script>": [1, 2, 3, 4, 5, 6], "e": [1, 0, 1, 1, 0, 1],
                       "g": ["<b>x</b>"] * 3 + ["y"] * 3})
    res = KaplanMeier(duration="t<script>", event="e", group="g").fit(df)
    # threshold 0: groups of three would be left out of the published figure
    page = render_html([res.report_section(suppress_below=0)], title="<i>title</i>",
                       suppress_below=0)
    assert "<script" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "&lt;i&gt;title&lt;/i&gt;" in page
    assert re.search(r'<img src="data:image/png;base64,', page)
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from a network


def test_small_counts_suppressed_in_tables():
    fig, _ = plt.subplots()
    table = pd.DataFrame({"group": ["a", "b", "c"], "n": [3, 0, 12], "rate": [0.5, 0.1, 0.2]})
    section = ReportSection(title="s", tables=(("t", table, ("n",)),), figures=(("f", fig),))
    page = render_html([section], suppress_below=5)
    assert "<td>&lt;5</td>" in page and "<td>12</td>" in page and "<td>0</td>" in page
    assert "<td>3</td>" not in page
    assert "<td>0.5</td>" not in page and "<td>suppressed</td>" in page  # rate next to it hidden
    assert "<td>0.2</td>" in page
    assert "<td>3</td>" in render_html([section], suppress_below=0)


@given(st.lists(st.integers(0, 50), min_size=1, max_size=30), st.integers(2, 11))
def test_suppression_never_shows_a_small_count(counts, threshold):
    out = suppress_small_counts(pd.DataFrame({"n": counts}), ["n"], threshold)
    for original, shown in zip(counts, out["n"], strict=True):
        if 0 < original < threshold:
            assert shown == f"<{threshold}"
        else:
            assert shown == original


def test_template_escapes_every_field():
    payload = "<img src=x onerror=alert(1)>"
    fig, _ = plt.subplots()
    table = pd.DataFrame({payload: [payload], "n": [7]})
    section = ReportSection(title=payload, paragraphs=(payload,), notes=(payload,),
                            tables=((payload, table, ("n",)),), figures=((payload, fig),))
    page = render_html([section], title=payload, subtitle=payload, banner=payload)
    assert "<img src=x" not in page and page.count("&lt;img src=x onerror=alert(1)&gt;") >= 8


def test_figure_labels_are_plain_and_short():
    """$\\frac{$ in a label must not reach mathtext; a 5,000-character label must not make a
    30,000-pixel image."""
    import base64
    import io

    from PIL import Image

    from causalips.report.html import figure_to_data_uri

    fig, ax = plt.subplots()
    ax.barh([0, 1], [1, 2])
    ax.set_yticks([0, 1], ["$\\frac{$ site", "x" * 5000])
    ax.set_title("$\\frac{$")
    ax.legend(["a $\\frac{$ label"])
    png = base64.b64decode(figure_to_data_uri(fig).split(",", 1)[1])
    width, height = Image.open(io.BytesIO(png)).size
    assert width < 1500 and height < 1500


def test_km_section_labels_with_mathtext_render():
    df = pd.DataFrame({"t": list(range(1, 21)) * 2, "e": [1, 0] * 20,
                       "g": ["$\\frac{$"] * 20 + ["y" * 3000] * 20})
    res = KaplanMeier(duration="t", event="e", group="g").fit(df)
    from causalips.report.curves import kaplan_meier_section

    page = render_html([kaplan_meier_section(res, threshold=5)])
    assert "data:image/png;base64," in page and "y" * 3000 in page  # full text in tables


def test_csv_tables_hide_what_the_page_hides(tmp_path):
    from causalips.report.tables import write_tables

    fig, _ = plt.subplots()
    table = pd.DataFrame({"group": ["a", "b", "c"], "n": [3, 0, 12], "rate": [0.5, 0.1, 0.2]})
    section = ReportSection(title="Rates by group", tables=(("t", table, ("n",)),),
                            figures=(("f", fig),))
    paths = write_tables(tmp_path, [section], suppress_below=5)
    written = pd.read_csv(paths[0], dtype=str)
    assert written["n"].tolist() == ["<5", "0", "12"]
    assert written["rate"].tolist() == ["suppressed", "0.1", "0.2"]
    index = pd.read_csv(tmp_path / "index.csv")
    assert index.iloc[0].to_dict() == {"file": paths[0].name, "section": "Rates by group",
                                       "table": "t"}


def test_negative_threshold_is_refused():
    import pytest

    from causalips.errors import SpecificationError

    with pytest.raises(SpecificationError, match="whole number >= 0"):
        render_html([], suppress_below=-1)


def test_km_section_leaves_out_a_tiny_group_and_says_so():
    from causalips.report.curves import kaplan_meier_section

    df = pd.DataFrame({"t": list(range(1, 13)) + list(range(1, 41)),
                       "e": [1, 1] + [0] * 10 + [1, 0] * 20,
                       "g": ["Smallbrook"] * 12 + ["Large"] * 40})
    res = KaplanMeier(duration="t", event="e", group="g").fit(df)
    section = kaplan_meier_section(res, threshold=10)
    (caption, fig), = section.figures
    assert "1 group not drawn: fewer than 10 events" in caption
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()] \
        if fig.axes[0].get_legend() else []
    assert "Smallbrook" not in legend
    page = render_html([section], suppress_below=10)
    assert "0.9167" not in page and "0.8333" not in page


def _tables_of(section):
    return [(caption, table.to_json(), counts) for caption, table, counts in section.tables]


def test_one_km_section_builder_for_the_result_and_the_report():
    """KaplanMeierResult.report_section and report.curves.kaplan_meier_section are one builder:
    the same paragraphs, tables and notes at the same threshold."""
    from causalips.report.curves import kaplan_meier_section

    df = pd.DataFrame({"t": list(range(1, 13)) + list(range(1, 41)),
                       "e": [1, 1] + [0] * 10 + [1, 0] * 20,
                       "g": ["Smallbrook"] * 12 + ["Large"] * 40})
    res = KaplanMeier(duration="t", event="e", group="g").fit(df)
    for threshold in (0, 5, 10):
        mine = res.report_section(suppress_below=threshold)
        report = kaplan_meier_section(res, threshold=threshold)
        assert mine.paragraphs == report.paragraphs and mine.notes == report.notes
        assert _tables_of(mine) == _tables_of(report)
        assert [c for c, _ in mine.figures] == [c for c, _ in report.figures]
    # the result's default publishes at the report's default threshold (5), not the exact curve
    assert _tables_of(res.report_section()) == _tables_of(kaplan_meier_section(res, threshold=5))
    assert _tables_of(res.report_section()) != _tables_of(res.report_section(suppress_below=0))


def test_report_km_section_under_delayed_entry_has_no_log_rank_paragraph():
    from causalips.report.curves import kaplan_meier_section

    df = pd.DataFrame({"t": [3, 5, 5, 8, 10, 12, 15, 20] * 3, "e": [1, 1, 0, 1, 0, 1, 1, 0] * 3,
                       "g": list("abababab") * 3, "entry": [0.0, 0, 2, 0, 4, 0, 6, 1] * 3})
    res = KaplanMeier(duration="t", event="e", group="g", entry="entry").fit(df)
    section = kaplan_meier_section(res, threshold=0)  # raised before: no log-rank under entry
    assert not any("Log-rank" in p for p in section.paragraphs)
