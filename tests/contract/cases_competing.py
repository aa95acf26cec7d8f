"""Contract cases for competing risks, RMST, Fine–Gray and the support-cap what-if."""

import numpy as np
import pandas as pd

from causalips.inference import Bootstrap
from causalips.survival.caps import SupportCap
from causalips.survival.competing import CumulativeIncidence
from causalips.survival.finegray import FineGray
from causalips.survival.rmst import RMST


def _data():
    rng = np.random.default_rng(4)
    n = 120
    t = rng.integers(5, 400, n).astype(float)
    route = rng.choice([0, 1, 2], n, p=[0.2, 0.5, 0.3])
    return pd.DataFrame({"days": t, "route": route, "job": (route == 1).astype(int),
                         "arm": rng.choice(["25h", "40h"], n), "age": rng.integers(18, 65, n),
                         "entry": np.floor(t * rng.uniform(0, 0.5, n))})


CASES = [
    ("cumulative_incidence", lambda: CumulativeIncidence(duration="days", event="route"), _data),
    ("cumulative_incidence_groups",
     lambda: CumulativeIncidence(duration="days", event="route", group="arm",
                                 causes={1: "job", 2: "discharged"}), _data),
    ("rmst", lambda: RMST(duration="days", event="job", tau=300), _data),
    ("rmst_groups", lambda: RMST(duration="days", event="job", group="arm", tau=300,
                                 reference="40h", measure="rmtl"), _data),
    ("fine_gray", lambda: FineGray(duration="days", event="route", cause=1,
                                   covariates=["arm", "age"]), _data),
    ("support_cap", lambda: SupportCap(duration="days", event="job", cap=[90, 180],
                                       inference=Bootstrap(reps=50, seed=1)), _data),
    ("support_cap_in_work", lambda: SupportCap(duration="days", event="job", cap=[3, 6],
                                               cap_unit="months", kind="in_work", group="arm",
                                               inference=Bootstrap(reps=20, seed=2)), _data),
    ("cumulative_incidence_entry",
     lambda: CumulativeIncidence(duration="days", event="route", entry="entry"), _data),
]
