"""Contract cases for the DiD estimators of causalips.did.twfe / event_study."""

from causalips.datasets.norway import simulate_norway_panel
from causalips.did import DiD, EventStudy
from causalips.inference import ConleyTaber, Randomization, WildBootstrap


def _panel():
    df = simulate_norway_panel(seed=3, n_treated_people=40, control_sizes=(20, 40))
    df.attrs = {}
    return df


KW = dict(outcome="workdays", unit="person", time="year", first_treated="first_treated",
          cluster="municipality")

CASES = [
    ("did_cr1", lambda: DiD(**KW), _panel),
    ("did_wild_bootstrap", lambda: DiD(**KW, inference=WildBootstrap(reps=999, seed=1)), _panel),
    ("did_randomization", lambda: DiD(**KW, inference=Randomization()), _panel),
    ("did_conley_taber", lambda: DiD(**KW, inference=ConleyTaber()), _panel),
    ("event_study_twfe", lambda: EventStudy(**KW, window=(-3, 3)), _panel),
    ("event_study_sun_abraham", lambda: EventStudy(**KW, method="sun_abraham"), _panel),
    ("event_study_randomization",
     lambda: EventStudy(**KW, window=(-3, 3), inference=Randomization()), _panel),
    ("did_repeated_cross_sections",
     lambda: DiD(outcome="workdays", unit="municipality", time="year",
                 first_treated="first_treated", panel=False), _panel),
]
