"""Is IPS cost-effective? Bootstrap CE plane and acceptability curve on the synthetic Danish trial.

Run: python examples/cost_effectiveness.py
"""

import causalips as ci
from causalips.datasets import load_danish_trial

trial = load_danish_trial()  # SYNTHETIC, calibrated to Christensen et al. (2021)

ce = ci.CostEffectiveness(group="arm", cost="cost_eur", effect="qaly_gain",
                          reference="usual services", wtp=[0, 20_000, 35_000, 50_000],
                          inference=ci.Bootstrap(reps=2000, seed=1))
result = ce.fit(trial)

print(result.summary())
print(result.ceac([0, 10_000, 35_000, 100_000]))
ax = result.plot(kind="ceac")
ax.get_figure().savefig("ceac.png", dpi=120, bbox_inches="tight")
print("figure written to ceac.png")
