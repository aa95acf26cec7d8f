"""Replication: reach and equity of IPS in South West London (Rinaldi et al., BJPsych Bull 2024).

Published (STUDIES.md §3): 539 people used the service out of 6,165 working-age people on the
community teams' caseload (reach 8.7%); by the IPS Grow method (only people unemployed at first
contact count: 33 in work and 7 in education excluded) 209 of 499 gained employment, reported as
41.2%; an overall positive outcome (gained, retained or education) for 46.2% (249/539). IPS users
were younger than the caseload and differed in ethnicity, alike in gender and diagnosis.

Data: the bundled SYNTHETIC caseload (``load_caseload``) and SYNTHETIC wider caseload
(``simulate_wider_caseload``). Note: 209 / 499 is 41.9%, not 41.2%; 41.2% equals 209 / 507. The
case prints both and does not force the published percentage.
"""

from __future__ import annotations

import warnings

import pandas as pd

from .base import Comparison, ReplicationCase, ReplicationResult

CITATION = ("Rinaldi, Perkins, Baxter, Dorrington, Saville. Duration of support, reach and "
            "equity of IPS in routine practice. BJPsych Bulletin 2024, doi:10.1192/bjb.2024.68")
DATA_NOTE = ("SYNTHETIC data: causalips.datasets.load_caseload() (539 people) and "
             "simulate_wider_caseload(seed=2024) (6,165 people), calibrated to the published "
             "counts; employment rates by ethnicity are drawn to the published ones (whole "
             "people, so equal to within a point); the other 5,626 people's gender and diagnosis "
             "are drawn from the users' own shares (published: alike), their age and ethnicity "
             "differ (published: users younger, ethnicity differed).")
#: The published equity findings on who uses IPS (users against the community teams' caseload).
PUBLISHED_MAKE_UP = {"age_band": "differed", "gender": "alike", "ethnicity": "differed",
                     "diagnosis": "alike"}
#: Significance level that turns a p-value into the published wording.
ALPHA = 0.05
PUBLISHED_BY_ETHNICITY = {"Mixed": 0.478, "Asian": 0.442, "Black": 0.434, "White": 0.402}


def positive_outcome(caseload: pd.DataFrame) -> pd.Series:
    """Gained a job, or in work at first contact (retained), or supported in education."""
    return (caseload["job_start"].notna()
            | caseload["status_at_contact"].isin(["in_work", "education"])).astype(int)


def run() -> ReplicationResult:
    from ..datasets import load_caseload
    from ..datasets.sites import simulate_wider_caseload
    from ..errors import StatisticalWarning
    from ..inference import Bootstrap
    from ..sites import NumericComparison, OutcomeEquity, Reach, Representativeness

    caseload = load_caseload().assign(
        gained_job=lambda d: d["job_start"].notna().astype(int))
    caseload["positive_outcome"] = positive_outcome(caseload)
    wider = simulate_wider_caseload(seed=2024)
    published_counts = pd.DataFrame({"ips_user": [1, 0], "people": [539, 6165 - 539]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        reach = Reach(participant="ips_user", weight="people").fit(published_counts)
        reach_groups = Reach(participant="ips_user", group="age_band").fit(wider)
        employment = OutcomeEquity(outcome="gained_job", group="ethnicity",
                                   denominator="ips_grow", status="status_at_contact",
                                   inference=Bootstrap(seed=1)).fit(caseload)
        overall = OutcomeEquity(outcome="positive_outcome", group="diagnosis",
                                inference=Bootstrap(seed=1)).fit(caseload)
        represent = {c: Representativeness(category=c, group="source",
                                           reference="rest of caseload",
                                           inference=Bootstrap(seed=1)).fit(wider)
                     for c in PUBLISHED_MAKE_UP}
        age = NumericComparison(value="age", group="source",
                                reference="IPS caseload").fit(wider)
    r = reach.glance().iloc[0]
    e = employment.glance().iloc[0]
    o = overall.glance().iloc[0]
    rec = employment.denominator_record.set_index("step")["n"]
    comps = [
        Comparison("reach: IPS users / eligible caseload", "539/6165 = 8.7%",
                   f"{int(r['participants'])}/{int(r['eligible'])} = {r['rate']:.1%}",
                   f"95% Wilson CI {r['conf_low']:.1%}-{r['conf_high']:.1%}"),
        Comparison("excluded: in work at first contact", 33,
                   int(rec["excluded: in work at first contact"]), "IPS Grow rule"),
        Comparison("excluded: education only", 7, int(rec["excluded: education only"]),
                   "IPS Grow rule"),
        Comparison("unemployed at first contact (denominator)", 499, int(e["n_obs"]), ""),
        Comparison("gained employment", 209, int(e["n_events"]), ""),
        Comparison("employment rate (IPS Grow)", "41.2%", f"{e['rate']:.1%}",
                   "209/499 = 41.9%; the published 41.2% equals 209/507, so the published "
                   "percentage and counts disagree slightly; the counts are reproduced"),
        Comparison("overall positive outcome (gained, retained or education)", "46.2% (249/539)",
                   f"{o['rate']:.1%} ({int(o['n_events'])}/{int(o['n_obs'])})",
                   "counts everyone in work or education at first contact as a positive outcome"),
    ]
    comps += _make_up_rows(represent)
    a = age.glance().iloc[0]
    found = ("alike" if a["p_value"] >= ALPHA
             else "users younger" if a["mean_difference"] > 0 else "users older")
    comps.append(Comparison("age, IPS users vs rest of caseload", "users younger",
                            f"{found}: {a['test']}, rest of caseload older by "
                            f"{a['mean_difference']:.1f} years, p = {a['p_value']:.2g}",
                            a["rule"]))
    et = employment.tidy().set_index("group")
    for eth, pub in PUBLISHED_BY_ETHNICITY.items():
        comps.append(Comparison(f"employment rate, {eth}", f"{pub:.1%}",
                                f"{et.loc[eth, 'rate']:.1%}",
                                "synthetic caseload drawn to the published rate "
                                "(whole people, so within a point)"))
    found = "significant" if e["p_value"] < ALPHA else "not significant"
    comps.append(Comparison("difference in employment rate by ethnicity", "not significant",
                            f"{found}: p = {e['p_value']:.2g}", e["test"]))
    sections = (reach.report_section(), reach_groups.report_section(),
                *(res.report_section() for res in represent.values()), age.report_section(),
                employment.report_section(), overall.report_section())
    return ReplicationResult(case="swlondon_reach", citation=CITATION, data_note=DATA_NOTE,
                             comparisons=tuple(comps), sections=sections,
                             results=(reach, employment, overall, *represent.values(), age))


def _make_up_rows(represent) -> list:
    """Who uses IPS, category by category: the published finding beside the reproduced one."""
    rows = []
    for category, res in represent.items():
        g = res.glance().iloc[0]
        found = "differed" if g["p_value"] < ALPHA else "alike"
        rows.append(Comparison(
            f"IPS users vs rest of caseload by {category}", PUBLISHED_MAKE_UP[category],
            f"{found}: chi2 = {g['chisq']:.1f}, df = {g['df']}, p = {g['p_value']:.2g}",
            f"{g['test']}; 'differed' means p < {ALPHA}. The paper compares users with the "
            "community teams' caseload; the users are part of it, so the test here compares "
            "them with the rest of the caseload (two separate groups, as a chi-squared test "
            "needs)"))
    return rows


CASE = ReplicationCase(name="swlondon_reach",
                       title="South West London: reach 8.7%, employment 41.2%, equity",
                       runner=run, tags=("reach", "equity"))
