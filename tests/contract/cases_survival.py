"""Contract cases for the foundation's survival estimators."""

import pandas as pd

from causalips import KaplanMeier, LogRank


def _data():
    return pd.DataFrame({"t": [3, 5, 5, 8, 10, 12, 15, 20], "e": [1, 1, 0, 1, 0, 1, 1, 0],
                         "arm": list("abababab"), "entry": [0.0, 0, 2, 0, 4, 0, 6, 1]})


CASES = [
    ("kaplan_meier", lambda: KaplanMeier(duration="t", event="e"), _data),
    ("kaplan_meier_groups", lambda: KaplanMeier(duration="t", event="e", group="arm",
                                                curve="incidence"), _data),
    ("kaplan_meier_entry", lambda: KaplanMeier(duration="t", event="e", group="arm",
                                               entry="entry"), _data),
    ("logrank", lambda: LogRank(duration="t", event="e", group="arm"), _data),
]
