"""Time from first IPS contact to first job, on the bundled synthetic caseload.

Run: python examples/kaplan_meier_quickstart.py
"""

import causalips as ci
from causalips.datasets import load_caseload

spells = ci.durations_from_dates(
    load_caseload(), start="first_contact", event="job_start", end="discharge",
    cutoff="2024-02-27", event_name="job",
)
seekers = spells[spells["status_at_contact"] == "unemployed"]

km = ci.KaplanMeier(duration="duration", event="job", group="gender", curve="incidence")
result = km.fit(seekers)

print(result.summary())
print(result.at([91, 182, 273, 365])[["group", "time", "n_risk", "estimate", "conf_low", "conf_high"]])
print(result.logrank().summary())
ax = result.plot(suppress_below=5)
ax.get_figure().savefig("time_to_job.png", dpi=120, bbox_inches="tight")
print("figure written to time_to_job.png")
