"""Time StaggeredDiD (panels and repeated cross-sections), SyntheticControl and SyntheticDiD.

Run: python benchmarks/bench_staggered.py  -> prints a table and writes
benchmarks/results/staggered.md. The numbers show the cost of each step at realistic sizes;
correctness against csdid / drdid is in tests/reference (their Python ports of R are much slower
and not timed here).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import machine, markdown, measure  # noqa: E402

from causalips.datasets import (  # noqa: E402
    load_mpdta,
    simulate_staggered_cross_sections,
    simulate_staggered_panel,
)
from causalips.did.staggered import StaggeredDiD  # noqa: E402
from causalips.did.synthetic import SyntheticControl, SyntheticDiD  # noqa: E402
from causalips.inference import MultiplierBootstrap, Placebo  # noqa: E402


def _boot(reps):
    return MultiplierBootstrap(reps=reps, seed=1, progress=False) if reps else None


def main() -> None:
    rows = []
    mpdta = load_mpdta()

    def cs(data, reps, **kw):
        def run():
            res = StaggeredDiD(outcome="lemp", time="year", first_treated="first.treat",
                               inference=_boot(reps), **kw).fit(data)
            for agg in ("simple", "group", "calendar", "dynamic"):
                res.aggregate(agg)
            return res
        return run

    rc = mpdta.drop(columns="countyreal")
    panel = {"unit": "countyreal"}
    for label, fn, n in [
        ("mpdta, no covariates, analytic SE", cs(mpdta, 0, **panel), 500),
        ("mpdta, no covariates, 999 bootstrap draws", cs(mpdta, 999, **panel), 500),
        ("mpdta, lpop, doubly robust, 999 draws", cs(mpdta, 999, covariates=["lpop"], **panel),
         500),
        ("mpdta as repeated cross-sections, analytic SE", cs(rc, 0, panel=False), 2500),
        ("same, lpop, doubly robust (drdid_rc), analytic SE",
         cs(rc, 0, panel=False, covariates=["lpop"]), 2500),
    ]:
        t, mem, _ = measure(fn)
        rows.append({"case": label, "units": n, "seconds": t, "peak_MB": mem})

    big = simulate_staggered_panel(n_municipalities=20_000, n_years=12, seed=1)

    def cs_big(reps, **kw):
        def run():
            res = StaggeredDiD(outcome="workdays", unit="municipality", time="year",
                               first_treated="first_treated", inference=_boot(reps),
                               **kw).fit(big)
            res.aggregate("dynamic")
            return res
        return run

    for label, fn in [
        ("simulated 20k units x 12 years, 33 ATT(g,t), 999 draws", cs_big(999)),
        ("same, covariate, doubly robust, 999 draws", cs_big(999, covariates=["unemployment"])),
    ]:
        t, mem, _ = measure(fn, repeat=1)
        rows.append({"case": label, "units": 20_000, "seconds": t, "peak_MB": mem})

    people = simulate_staggered_cross_sections(n_municipalities=300, n_years=8,
                                               cohorts=(2013, 2015), effect_start=(2.0, 1.0),
                                               effect_growth=(1.0, 0.5), people_per_year=55,
                                               seed=1)

    def registry(**kw):
        def run():
            res = StaggeredDiD(outcome="workdays", time="year", first_treated="first_treated",
                               panel=False, cluster="municipality", inference=_boot(999),
                               **kw).fit(people)
            res.aggregate("dynamic")
            return res
        return run

    for label, fn in [
        (f"registry extract, {len(people):,} person-years, 300 clusters, 999 draws",
         registry()),
        ("same, covariate, doubly robust (drdid_rc)", registry(covariates=["unemployment"])),
    ]:
        t, mem, _ = measure(fn, repeat=1)
        rows.append({"case": label, "units": len(people), "seconds": t, "peak_MB": mem})

    wide = Path(__file__).resolve().parents[1] / "tests" / "did" / "data"

    prop99 = pd.read_csv(wide / "california_prop99_wide.csv", sep=";").melt(
        id_vars="year", var_name="state", value_name="packs")
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989)
    quiet = Placebo(progress=False)
    t, mem, _ = measure(lambda: SyntheticControl(inference=quiet, **kw).fit(prop99))
    rows.append({"case": "Prop 99 synthetic control + 38 placebos", "units": 39, "seconds": t,
                 "peak_MB": mem})
    t, mem, _ = measure(lambda: SyntheticDiD(
        inference=Placebo(reps=200, seed=1, progress=False), **kw).fit(prop99))
    rows.append({"case": "Prop 99 SDID + 200 placebo draws", "units": 39, "seconds": t,
                 "peak_MB": mem})

    # the registry design of issue 13: 1 treated municipality, 280 donors, 3 pre-periods
    rng = np.random.default_rng(3)
    Y = 50 + rng.normal(0, 5, (281, 1)) + np.cumsum(rng.normal(0, 1, (281, 8)), axis=1)
    many = pd.DataFrame({"m": np.repeat([f"M{i:03d}" for i in range(281)], 8),
                         "year": np.tile(np.arange(2010, 2018), 281), "y": Y.ravel()})
    t, mem, _ = measure(lambda: SyntheticControl(
        outcome="y", unit="m", time="year", treated_unit="M000", treatment_start=2013,
        inference=quiet).fit(many), repeat=1)
    rows.append({"case": "synthetic control, 280 donors, 3 pre-periods, + 280 placebos",
                 "units": 281, "seconds": t, "peak_MB": mem})

    table = markdown(rows)
    text = (f"# Staggered DiD and synthetic control timings\n\n{machine()}\n\n{table}\n\n"
            "Before the simplex fit was polished on the donors' support only, the 280-donor "
            "synthetic control took 92 s on this machine (all of it in the 280 placebo fits).\n")
    print(text)
    out = Path(__file__).resolve().parent / "results" / "staggered.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
