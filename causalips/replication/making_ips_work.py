"""Replication: comparing the six Making IPS Work sites (Hutchinson et al., IJERPH 2018).

Published (STUDIES.md §4): referrals and jobs at six NHS trust sites over 18 months, 421 jobs in
total. The paper reports counts; the per-site job rates (jobs / referrals) are derived from them.
The case reproduces the counts and rates from the bundled published table and puts the sites on
a funnel plot (Spiegelhalter 2005) instead of a league table, with and without allowance for
over-dispersion.
"""

from __future__ import annotations

import warnings

from .base import Comparison, ReplicationCase, ReplicationResult

CITATION = ("Hutchinson, Gilbert, Papworth, Boardman. Implementing supported employment: "
            "Making IPS Work. IJERPH 2018;15(7):1545 (six NHS trust sites, 18 months)")
DATA_NOTE = ("PUBLISHED COUNTS (not synthetic): causalips.datasets.load_making_ips_work(); "
             "rates are jobs / referrals (derived from the published counts).")
PUBLISHED = {"Berkshire": (240, 74), "Bradford": (193, 78), "Lincolnshire": (170, 65),
             "Luton & Bedfordshire": (264, 114), "Northamptonshire": (139, 27),
             "Wiltshire": (155, 63)}


def run() -> ReplicationResult:
    from ..datasets.sites import load_making_ips_work
    from ..errors import StatisticalWarning
    from ..sites import FunnelPlot

    data = load_making_ips_work()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        plain = FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(data)
    additive = FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                          overdispersion="additive").fit(data)
    t = plain.tidy().set_index("site")
    ta = additive.tidy().set_index("site")
    comps = [Comparison("total jobs", 421, int(t["numerator"].sum()), "published total"),
             Comparison("total referrals", sum(r for r, _ in PUBLISHED.values()),
                        int(t["denominator"].sum()), "sum of the published site counts")]
    for site, (refs, jobs) in PUBLISHED.items():
        row = t.loc[site]
        comps.append(Comparison(
            f"{site}: jobs / referrals", f"{jobs}/{refs} = {jobs / refs:.4f}",
            f"{int(row['numerator'])}/{int(row['denominator'])} = {row['rate']:.4f}",
            f"95% Wilson CI {row['conf_low']:.3f}-{row['conf_high']:.3f}; funnel: {row['flag']}"
            f" (exact limits), {ta.loc[site, 'flag']} (additive over-dispersion)"))
    g = plain.glance().iloc[0]
    comps.append(Comparison("pooled job rate", "421/1161 (derived)", round(float(g["target"]), 4),
                            f"over-dispersion phi = {g['phi']:.2f} (chi2 {g['dispersion_chisq']:.1f}"
                            f" on {g['dispersion_df']} df, p = {g['dispersion_p_value']:.3f}); "
                            f"additive tau2 = {additive.tau2:.4f}"))
    sections = (plain.report_section(), additive.report_section())
    return ReplicationResult(case="making_ips_work", citation=CITATION, data_note=DATA_NOTE,
                             comparisons=tuple(comps), sections=sections,
                             results=(plain, additive))


CASE = ReplicationCase(name="making_ips_work",
                       title="Making IPS Work: six sites on a funnel plot (published counts)",
                       runner=run, tags=("sites", "funnel"))
