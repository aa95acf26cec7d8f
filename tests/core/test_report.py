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
    page = render_html([res.report_section()], title="<i>title</i>")
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
