"""Replication: duration of support in South West London (Rinaldi et al., BJPsych Bull 2024).

Published (STUDIES.md §3): of the job-gainers, 33.5 / 68.9 / 84.2 / 93.8 % were employed by 3 / 6
/ 9 / 12 months after first IPS contact (median 132 days; 13, 6.2%, after 12 months); 177
(84.7%) did not need time-unlimited in-work support, whose median length was 146 days (108 up to
6 months, 37 for 6–9, 18 for 9–12, 14 over 12). Median time on the caseload: 310 days for people
who gained work (with in-work support) and 124 days for people discharged unemployed.

The published shares are simple proportions of the job-gainers (not survival estimates): the
case reproduces them that way, with 3 / 6 / 9 / 12 months taken as 91 / 182 / 273 / 365 days.
It then adds what the paper did not estimate: the cumulative incidence of a job start with
discharge without a job as a competing event (Aalen–Johansen, among the 499 unemployed at first
contact), and the what-if of capping job-search support (IPS-LITE withdrew it at 9 months) and
in-work support.

Data: the bundled SYNTHETIC caseload (``load_caseload``), calibrated to these figures by
construction; the caseload-time medians by the choice of seed (310 and 120 days).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .base import Comparison, ReplicationCase, ReplicationResult

CITATION = ("Rinaldi, Perkins, Baxter, Dorrington, Saville. Duration of support, reach and "
            "equity of IPS in routine practice. BJPsych Bulletin 2024, doi:10.1192/bjb.2024.68")
DATA_NOTE = ("SYNTHETIC data: causalips.datasets.load_caseload() (539 people), generated to "
             "match the published duration figures; not the service's records.")
CUTOFF = "2024-02-27"
MONTH_DAYS = (91, 182, 273, 365)
PUBLISHED_JOB_SHARES = (0.335, 0.689, 0.842, 0.938)
PUBLISHED_JOB_COUNTS = (None, 144, 176, 196)
PUBLISHED_SUPPORT_BANDS = (("up to 6 months", 108, 0.61), ("6-9 months", 37, 0.209),
                           ("9-12 months", 18, 0.102), ("over 12 months", 14, 0.080))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def spells(caseload: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The analysis data sets built from the caseload dates.

    ``search``: people unemployed at first contact, days to a job start with discharge without
    a job as a competing event (``event_type`` 0/1/2). ``gainers``: days from first contact to
    the job for everyone who gained one. ``in_work``: days of in-work support from the job
    start, censored at the cut-off for time-unlimited (still open) support.
    """
    from ..spells import durations_from_dates

    unemployed = caseload[caseload["status_at_contact"] == "unemployed"]
    search = durations_from_dates(unemployed, start="first_contact", event="job_start",
                                  end="discharge", cutoff=CUTOFF, end_is_competing=True)
    gainers = caseload[caseload["job_start"].notna()].copy()
    gainers["days_to_job"] = (gainers["job_start"] - gainers["first_contact"]).dt.days
    in_work = durations_from_dates(gainers, start="job_start", event="in_work_support_end",
                                   cutoff=CUTOFF, duration_name="support_days",
                                   event_name="support_ended")
    return {"search": search, "gainers": gainers, "in_work": in_work}


def run(reps: int = 2000, seed: int = 2024) -> ReplicationResult:
    from ..datasets import load_caseload
    from ..errors import StatisticalWarning
    from ..inference import Bootstrap
    from ..survival import CumulativeIncidence, KaplanMeier, SupportCap

    caseload = load_caseload()
    data = spells(caseload)
    gainers, search, in_work = data["gainers"], data["search"], data["in_work"]
    days = gainers["days_to_job"].to_numpy(dtype=float)
    n_gain = days.size
    comps = [
        Comparison("people who gained a job", 209, n_gain, "among 499 unemployed at contact"),
        Comparison("median days from first contact to job", 132, float(np.median(days)),
                   "job-gainers only"),
    ]
    for m, t, share, count in zip((3, 6, 9, 12), MONTH_DAYS, PUBLISHED_JOB_SHARES,
                                  PUBLISHED_JOB_COUNTS, strict=True):
        got = int((days <= t).sum())
        pub = _pct(share) if count is None else f"{_pct(share)} ({count})"
        comps.append(Comparison(f"job-gainers employed by {m} months ({t} days)", pub,
                                f"{_pct(got / n_gain)} ({got})", "share of job-gainers"))
    late = int((days > 365).sum())
    comps.append(Comparison("job-gainers employed after 12 months", "6.2% (13)",
                            f"{_pct(late / n_gain)} ({late})", ""))

    limited = gainers[gainers["in_work_support_end"].notna()]
    support = (limited["in_work_support_end"] - limited["job_start"]).dt.days.to_numpy()
    comps.append(Comparison("job-gainers not needing time-unlimited in-work support",
                            "84.7% (177)", f"{_pct(support.size / n_gain)} ({support.size})", ""))
    comps.append(Comparison("median days of in-work support (time-limited)", 146,
                            float(np.median(support)), ""))
    bands = ((support <= 182), (support > 182) & (support <= 273),
             (support > 273) & (support <= 365), (support > 365))
    for (label, count, share), mask in zip(PUBLISHED_SUPPORT_BANDS, bands, strict=True):
        got = int(mask.sum())
        note = "of the time-limited; 6/9/12 months = 182/273/365 days"
        if label == "over 12 months":
            note += "; 14/177 is 7.9% (the paper rounds to 8.0%)"
        comps.append(Comparison(f"in-work support {label}", f"{_pct(share)} ({count})",
                                f"{_pct(got / support.size)} ({got})", note))

    closed = gainers[gainers["discharge"].notna() & gainers["in_work_support_end"].notna()]
    stay_gain = float(np.median((closed["discharge"] - closed["first_contact"]).dt.days))
    gone = caseload[(caseload["status_at_contact"] == "unemployed")
                    & caseload["job_start"].isna() & caseload["discharge"].notna()]
    stay_unemp = float(np.median((gone["discharge"] - gone["first_contact"]).dt.days))
    comps.append(Comparison("median days on caseload, gained work (with in-work support)", 310,
                            stay_gain, "synthetic discharge dates; the bundled seed was chosen to match"))
    comps.append(Comparison("median days on caseload, discharged unemployed", 124, stay_unemp,
                            "synthetic discharge dates; the bundled seed was chosen to match"))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        incidence = CumulativeIncidence(duration="duration", event="event_type",
                                        causes={1: "job start", 2: "discharged without job"}
                                        ).fit(search)
        naive = KaplanMeier(duration="duration", event="event", curve="incidence").fit(search)
        boot = Bootstrap(reps=reps, seed=seed) if reps else None
        cap_search = SupportCap(duration="duration", event="event_type", cause=1,
                                competing=[2], cap=[3, 6, 9, 12], cap_unit="months",
                                horizon=548, inference=boot).fit(search)
        cap_in_work = SupportCap(duration="support_days", event="support_ended",
                                 cap=[4, 6, 9, 12], cap_unit="months", kind="in_work",
                                 horizon=548, inference=boot).fit(in_work)
    at12 = incidence.at([365]).set_index("state")
    km12 = naive.at([365]).iloc[0]
    comps.append(Comparison(
        "unemployed at contact with a job start by 12 months (competing risks)",
        "not published", f"{_pct(at12.loc['job start', 'estimate'])} "
        f"(95% CI {_pct(at12.loc['job start', 'conf_low'])}-"
        f"{_pct(at12.loc['job start', 'conf_high'])})",
        f"Aalen-Johansen; 1 - KM censoring discharge would say {_pct(km12['estimate'])}"))
    comps.append(Comparison(
        "discharged without a job by 12 months", "not published",
        _pct(at12.loc["discharged without job", "estimate"]), "Aalen-Johansen"))
    w = cap_search.tidy().set_index(["cap_label", "term"])
    lost = w.loc[("9 months", "job_starts_lost")]
    freed = w.loc[("9 months", "caseload_time_freed")]
    comps.append(Comparison(
        "IPS-LITE-style 9-month job-search cap: job starts lost per 100 starting", "not published",
        f"{lost['estimate']:.1f} (95% CI {lost['conf_low']:.1f}-{lost['conf_high']:.1f})",
        f"upper bound; frees {freed['estimate']:.0f} caseload days per 100 "
        f"({freed['conf_low']:.0f}-{freed['conf_high']:.0f}); horizon 18 months"))
    sections = (incidence.report_section(), cap_search.report_section(),
                cap_in_work.report_section())
    return ReplicationResult(case="swlondon_duration", citation=CITATION, data_note=DATA_NOTE,
                             comparisons=tuple(comps), sections=sections,
                             results=(incidence, naive, cap_search, cap_in_work))


CASE = ReplicationCase(name="swlondon_duration",
                       title="South West London: time to job, in-work support, support caps",
                       runner=run, tags=("survival", "competing risks", "caps"))
