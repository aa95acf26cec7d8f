"""Replication: placement budgets and time to employment (Swiss RCT, STUDIES.md §2).

Published: Rössler, Kawohl, Nordt, Haker, Rüsch, Hengartner, BJPsych 2020;216(6):308–313. 116
people randomised to 25 h, 40 h or 55 h placement budgets; competitive employment 55.1% / 37.8% /
35.8%; Cox HR 1.78 (0.88–3.57) for 25 h vs 40 h and 1.74 (0.86–3.49) for 25 h vs 55 h; 80.4% of
job starts within 12 months.

The person-level data are not public. The analysis (Kaplan–Meier by arm, Cox model with the
budget as a factor, reference 40 h and then 55 h) is run on the bundled SYNTHETIC trial
(:func:`causalips.datasets.load_swiss_trial`), a draw from a model calibrated to the published
figures. Agreement is therefore expected up to sampling noise; it shows that the pipeline
reproduces the published kind of result, not that it re-derives the trial's numbers.
"""

from __future__ import annotations

import warnings

from ..base import ReportSection
from .base import Comparison, ReplicationCase, ReplicationResult

CITATION = ("Rössler W, Kawohl W, Nordt C, Haker H, Rüsch N, Hengartner MP. Placement budgets "
            "for supported employment. British Journal of Psychiatry 2020;216(6):308-313")
DATA_NOTE = ("SYNTHETIC data: causalips.datasets.load_swiss_trial() (116 people, 3 arms, "
             "36-month follow-up), drawn from a proportional-hazards model calibrated to the "
             "published shares, hazard ratios and the 80.4%-within-12-months figure. Not the "
             "trial's data.")


def run() -> ReplicationResult:
    from ..datasets.swiss_trial import (
        PUBLISHED_HR,
        SHARE_OF_JOBS_IN_YEAR_ONE,
        SHARES_36,
        load_swiss_trial,
    )
    from ..survival.cox import Cox
    from ..survival.kaplan_meier import KaplanMeier

    df = load_swiss_trial()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        km = KaplanMeier(duration="months", event="employed", group="budget",
                         curve="incidence").fit(df)
        fits = {ref: Cox(duration="months", event="employed", covariates=["budget"],
                         reference={"budget": ref}).fit(df) for ref in ("40h", "55h")}
    at36 = km.at([36.0]).set_index("group")
    comps = []
    for arm in ("25h", "40h", "55h"):
        row = at36.loc[arm]
        comps.append(Comparison(
            f"employed by 36 months, {arm}", f"{SHARES_36[arm]:.1%}",
            f"{row['estimate']:.1%} ({row['conf_low']:.1%}-{row['conf_high']:.1%})",
            "1 - Kaplan-Meier at 36 months, 95% log CI"))
    for ref, res in fits.items():
        t = res.tidy().set_index("term").loc["budget[25h]"]
        hr, lo, hi = PUBLISHED_HR[f"25h vs {ref}"]
        comps.append(Comparison(
            f"hazard ratio 25h vs {ref}", f"{hr:.2f} ({lo:.2f}-{hi:.2f})",
            f"{t['hazard_ratio']:.2f} ({t['hr_conf_low']:.2f}-{t['hr_conf_high']:.2f}), "
            f"p = {t['p_value']:.3f}",
            "Cox, Efron ties, model-based SE"))
    jobs = df["employed"] == 1
    share12 = float((df.loc[jobs, "months"] <= 12).mean())
    comps.append(Comparison("job starts within the first 12 months",
                            f"{SHARE_OF_JOBS_IN_YEAR_ONE:.1%}", f"{share12:.1%}",
                            f"{int(jobs.sum())} job starts in the synthetic data"))
    zph = fits["40h"].check_proportional_hazards()
    glob = zph[zph["term"] == "GLOBAL"].iloc[0]
    comps.append(Comparison("proportional hazards (cox.zph, KM transform)", "not reported",
                            f"chi2 = {glob['chisq']:.2f} on {int(glob['df'])} df, "
                            f"p = {glob['p_value']:.2f}", "score test as R survival >= 3"))
    sections = _sections(km, fits)
    return ReplicationResult(case="swiss_trial", citation=CITATION, data_note=DATA_NOTE,
                             comparisons=tuple(comps), sections=sections,
                             results=(km, fits["40h"], fits["55h"]))


def _sections(km, fits) -> tuple[ReportSection, ...]:
    import matplotlib.pyplot as plt

    ax = km.plot(time_label="months", title="Share in competitive employment by budget "
                 "(SYNTHETIC trial)")
    fig_km = ax.get_figure()
    fig, axes = plt.subplots(1, 2, figsize=(11, 2.6))
    for axis, (ref, res) in zip(axes, fits.items(), strict=True):
        res.plot(ax=axis, title=f"Hazard of a job start vs {ref}")
    fig.tight_layout()
    tidy = {ref: res.tidy()[["term", "hazard_ratio", "hr_conf_low", "hr_conf_high",
                             "p_value"]] for ref, res in fits.items()}
    sections = (
        ReportSection(title="Time to employment by placement budget: Kaplan-Meier",
                      paragraphs=("1 - Kaplan-Meier: share who started a competitive job, by "
                                  "arm, with 95% CIs and numbers at risk. SYNTHETIC data "
                                  "calibrated to Rössler et al. (2020).",),
                      figures=(("Kaplan-Meier by arm", fig_km),)),
        ReportSection(title="Hazard ratios of a job start (Cox model)",
                      paragraphs=("Cox proportional hazards with the budget as a factor; "
                                  "reference 40 h (left) and 55 h (right). Efron ties.",),
                      tables=tuple((f"reference {ref}", t, ()) for ref, t in tidy.items()),
                      figures=(("Hazard-ratio forest plots", fig),)),
    )
    plt.close(fig_km)
    plt.close(fig)
    return sections


CASE = ReplicationCase(name="swiss_trial",
                       title="Placement budgets and time to employment (Swiss RCT, synthetic)",
                       runner=run, in_demo=True, tags=("survival",))

__all__ = ["CASE", "run"]
