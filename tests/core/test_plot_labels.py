"""Every plotting function draws user labels as plain, short text, for API users too.

A group or site called ``$\\frac{$`` must not stop ``fig.savefig`` with a mathtext parse error,
and a 3,000-character label must not stretch the figure; the caller's own texts on an Axes they
pass in are left as they were.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from causalips import Cox, CumulativeIncidence, FunnelPlot, KaplanMeier, LogRank, Representativeness
from causalips.plotting._text import LABEL_LIMIT
from causalips.plotting.survival import plot_kaplan_meier

MATH = "$\\frac{$ site"
LONG = "y" * 3000


def _survival():
    rng = np.random.default_rng(1)
    n = 90
    return pd.DataFrame({"t": rng.integers(1, 60, n), "e": rng.integers(0, 2, n),
                         "route": rng.integers(0, 3, n), "age": rng.normal(40, 9, n),
                         "g": rng.choice([MATH, LONG, "plain"], n)})


def _sites():
    return pd.DataFrame({"site": [MATH, LONG, "c", "d", "e"], "jobs": [5, 30, 12, 20, 9],
                         "people": [40, 60, 50, 45, 30]})


def _population():
    rng = np.random.default_rng(2)
    return pd.DataFrame({"category": rng.choice([MATH, LONG, "other"], 300),
                         "group": rng.choice(["caseload", "population"], 300)})


RESULTS = {
    "kaplan_meier": lambda: KaplanMeier(duration="t", event="e", group="g").fit(_survival()),
    "cumulative_incidence": lambda: CumulativeIncidence(duration="t", event="route",
                                                        group="g").fit(_survival()),
    "logrank": lambda: LogRank(duration="t", event="e", group="g").fit(_survival()),
    "cox": lambda: Cox(duration="t", event="e", covariates=["g", "age"]).fit(_survival()),
    "funnel": lambda: FunnelPlot(site="site", numerator="jobs",
                                 denominator="people",
                                 overdispersion="multiplicative").fit(_sites()),
    "representativeness": lambda: Representativeness(category="category", group="group",
                                                     reference="population").fit(_population()),
}


@pytest.mark.parametrize("make", RESULTS.values(), ids=RESULTS.keys())
def test_user_labels_are_drawn_as_plain_short_text(make):
    fig = make().plot().get_figure()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")  # a mathtext parse error raises here
    width, height = fig.get_size_inches() * fig.dpi
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert all(len(t) <= 2 * LABEL_LIMIT for t in texts), max(texts, key=len)[:60]
    ticks = [t.get_text() for ax in fig.axes for t in (*ax.get_xticklabels(),
                                                       *ax.get_yticklabels())]
    assert all(len(t) <= LABEL_LIMIT for t in ticks)
    assert width < 3000 and height < 3000
    plt.close(fig)


def test_the_callers_own_texts_on_a_given_axes_are_left_alone():
    fig, ax = plt.subplots()
    ax.set_title("$\\alpha$ by group")  # the caller's own mathtext
    res = KaplanMeier(duration="t", event="e", group="g").fit(_survival())
    plot_kaplan_meier(res, ax=ax, at_risk=False)
    assert ax.title.get_parse_math()
    legend = [t for t in ax.get_legend().get_texts()]
    assert legend and not any(t.get_parse_math() for t in legend)
    assert max(len(t.get_text()) for t in legend) <= LABEL_LIMIT
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
