"""Contract cases for staggered DiD (Callaway-Sant'Anna), synthetic control and synthetic DiD."""

import numpy as np

from causalips.datasets import load_mpdta, simulate_staggered_panel
from causalips.did.staggered import StaggeredDiD
from causalips.did.synthetic import SyntheticControl, SyntheticDiD
from causalips.inference import MultiplierBootstrap, Placebo


def _one_treated():
    """Never-treated municipalities plus one adopting in 2016, relabelled 'IPS'."""
    df = simulate_staggered_panel(n_municipalities=30, seed=8)
    treated = df.loc[df["first_treated"] == 2016, "municipality"].iloc[0]
    df = df[(df["first_treated"] == 0) | (df["municipality"] == treated)].copy()
    df["municipality"] = np.where(df["municipality"] == treated, "IPS", df["municipality"])
    df["d"] = ((df["municipality"] == "IPS") & (df["year"] >= 2016)).astype(int)
    return df.reset_index(drop=True)


CASES = [
    ("staggered_mpdta", lambda: StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                                             first_treated="first.treat",
                                             inference=MultiplierBootstrap(reps=99, seed=1)),
     load_mpdta),
    ("staggered_repeated_cross_section", lambda: StaggeredDiD(
        outcome="lemp", time="year", first_treated="first.treat", panel=False,
        covariates=["lpop"], inference=MultiplierBootstrap(reps=49, seed=1)),
     lambda: load_mpdta().drop(columns="countyreal")),
    ("staggered_dr_not_yet", lambda: StaggeredDiD(
        outcome="workdays", unit="municipality", time="year", first_treated="first_treated",
        control="not_yet_treated", covariates=["unemployment"],
        inference=MultiplierBootstrap(reps=49, seed=2)),
     lambda: simulate_staggered_panel(n_municipalities=40, seed=3)),
    ("synthetic_control", lambda: SyntheticControl(
        outcome="workdays", unit="municipality", time="year", treated_unit="IPS",
        treatment_start=2016, inference=Placebo(reps=8, seed=1)), _one_treated),
    ("synthetic_did", lambda: SyntheticDiD(outcome="workdays", unit="municipality",
                                           time="year", treatment="d",
                                           inference=Placebo(reps=20, seed=1)),
     _one_treated),
    ("synthetic_did_first_treated", lambda: SyntheticDiD(
        outcome="workdays", unit="municipality", time="year", first_treated="first_treated",
        inference=Placebo(reps=20, seed=1)), _one_treated),
]
