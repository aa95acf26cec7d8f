"""DiD with one implementing municipality of 11: estimate, then inference that stays honest.

Run: python examples/did_one_treated_municipality.py  (uses the bundled SYNTHETIC panel)
"""

import warnings

import causalips as ci
from causalips.datasets import load_norway_panel
from causalips.did.size_study import size_study

panel = load_norway_panel()  # SYNTHETIC, calibrated to Brinchmann et al. (2024)
plan = dict(outcome="workdays", unit="person", time="year", first_treated="first_treated",
            cluster="municipality")

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    did = ci.DiD(**plan).fit(panel)
print(did.summary())
print("warning:", caught[0].message if caught else "none")

# inference asked for after the fit: nothing is refitted, and the assignment design that
# randomization inference and Conley-Taber need is built once, on first use
for spec in (ci.WildBootstrap(reps=9999, seed=1), ci.Randomization(), ci.ConleyTaber(),
             ci.ConleyTaber(heteroskedasticity=True)):
    row = did.with_inference(spec).tidy().iloc[0]
    print(f"{spec.describe():40s} p = {row['p_value']:.4f}  "
          f"CI {row['conf_low']:.2f} to {row['conf_high']:.2f}")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    es = ci.EventStudy(**plan, window=(-4, 3)).fit(panel)
print(es.tidy()[["term", "estimate", "std_error", "conf_low", "conf_high"]])
print("pre-trend test:", es.pretrend)
es.plot().get_figure().savefig("event_study.png", dpi=120, bbox_inches="tight")

print(ci.years_of_work(did, exposed=520, workdays_per_year=230))

# how do the methods behave in *this* design under no effect? (vectorised, ~1 s)
print(size_study(n_clusters=11, n_treated=1, n_periods=8, first_period=4, reps=2000,
                 alpha=0.10, seed=1))
