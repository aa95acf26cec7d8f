"""Time StaggeredDiD, SyntheticControl and SyntheticDiD (no external peers installed here).

Run: python benchmarks/bench_staggered.py  -> prints a table and writes
benchmarks/results/staggered.md. Nothing is compared with an external package (csdid and
differences are not installed); the numbers show the cost of each step at realistic sizes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine, markdown, measure  # noqa: E402

from causalips.datasets import load_mpdta, simulate_staggered_panel  # noqa: E402
from causalips.did.staggered import StaggeredDiD  # noqa: E402
from causalips.did.synthetic import SyntheticControl, SyntheticDiD  # noqa: E402


def main() -> None:
    rows = []
    mpdta = load_mpdta()

    def cs(data, reps, **kw):
        def run():
            res = StaggeredDiD(outcome="lemp", unit="countyreal", time="year",
                               first_treated="first.treat", reps=reps, seed=1, **kw).fit(data)
            for agg in ("simple", "group", "calendar", "dynamic"):
                res.aggregate(agg)
            return res
        return run

    for label, fn in [
        ("mpdta, no covariates, analytic SE", cs(mpdta, 0)),
        ("mpdta, no covariates, 999 bootstrap draws", cs(mpdta, 999)),
        ("mpdta, lpop, doubly robust, 999 draws", cs(mpdta, 999, covariates=["lpop"])),
    ]:
        t, mem, _ = measure(fn)
        rows.append({"case": label, "units": 500, "seconds": t, "peak_MB": mem})

    big = simulate_staggered_panel(n_municipalities=20_000, n_years=12, seed=1)

    def cs_big(reps, **kw):
        def run():
            res = StaggeredDiD(outcome="workdays", unit="municipality", time="year",
                               first_treated="first_treated", reps=reps, seed=1, **kw).fit(big)
            res.aggregate("dynamic")
            return res
        return run

    for label, fn in [
        ("simulated 20k units x 12 years, 33 ATT(g,t), 999 draws", cs_big(999)),
        ("same, covariate, doubly robust, 999 draws", cs_big(999, covariates=["unemployment"])),
    ]:
        t, mem, _ = measure(fn, repeat=1)
        rows.append({"case": label, "units": 20_000, "seconds": t, "peak_MB": mem})

    wide = Path(__file__).resolve().parents[1] / "tests" / "did" / "data"
    import pandas as pd

    prop99 = pd.read_csv(wide / "california_prop99_wide.csv", sep=";").melt(
        id_vars="year", var_name="state", value_name="packs")
    kw = dict(outcome="packs", unit="state", time="year", treated_unit="California",
              treatment_start=1989)
    t, mem, _ = measure(lambda: SyntheticControl(**kw).fit(prop99))
    rows.append({"case": "Prop 99 synthetic control + 38 placebos", "units": 39, "seconds": t,
                 "peak_MB": mem})
    t, mem, _ = measure(lambda: SyntheticDiD(reps=200, seed=1, **kw).fit(prop99))
    rows.append({"case": "Prop 99 SDID + 200 placebo draws", "units": 39, "seconds": t,
                 "peak_MB": mem})

    table = markdown(rows)
    text = f"# Staggered DiD and synthetic control timings\n\n{machine()}\n\n{table}\n"
    print(text)
    out = Path(__file__).resolve().parent / "results" / "staggered.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
