"""Synthetic IPS caseload calibrated to the South West London evaluation (Rinaldi et al. 2024).

SYNTHETIC DATA. The real records are not public. This generator draws a caseload of 539 people
with administrative dates whose published summaries are reproduced by construction: 33 in work
and 7 in education at first contact, 209 of the 499 unemployed gaining a job, time from first
contact to job with median 132 days and 33.5 / 68.9 / 84.2 / 93.8 % of job-gainers employed by
3 / 6 / 9 / 12 months, 177 job-gainers on time-limited in-work support (median 146 days; 108 /
37 / 18 / 14 up to 6 / 6–9 / 9–12 / over 12 months), discharge without a job after a median of
about 124 days (120 in the bundled file), a median of 310 days on the caseload for job-gainers
with time-limited in-work support, follow-up cut-off 27 February 2024. Demographics are plausible, not published.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

CUTOFF = pd.Timestamp("2024-02-27")
ENROLMENT = (pd.Timestamp("2022-04-01"), pd.Timestamp("2023-03-31"))
N_PEOPLE = 539
N_IN_WORK, N_EDUCATION, N_JOB = 33, 7, 209
# Cumulative counts of job-gainers by 91/182/273/365 days (33.5, 68.9, 84.2, 93.8 % of 209).
JOB_KNOTS = ((0, 0), (91, 70), (132, 104.5), (182, 144), (273, 176), (365, 196), (450, 209))
N_TIME_LIMITED = 177
SUPPORT_KNOTS = ((7, 0), (146, 88.5), (182, 108), (273, 145), (365, 163), (420, 177))
ETHNICITY = {"White": 0.47, "Black": 0.22, "Asian": 0.16, "Mixed": 0.09, "Other": 0.06}
# Published employment rates by ethnicity among people unemployed at first contact.
JOB_RATE_BY_ETHNICITY = {"Mixed": 0.478, "Asian": 0.442, "Black": 0.434, "White": 0.402}
DIAGNOSIS = {"Psychosis": 0.36, "Depression or anxiety": 0.33, "Personality disorder": 0.12,
             "Bipolar disorder": 0.11, "Other": 0.08}
FILE = "swlondon_caseload_synthetic.csv"


def _stratified_times(knots, n, rng) -> np.ndarray:
    """n times whose empirical CDF passes exactly through the count ``knots`` (ceil to days)."""
    t, c = np.array(knots, dtype=float).T
    u = (np.arange(n) + rng.uniform(0.05, 0.95, n))
    return np.maximum(1, np.ceil(np.interp(u, c, t))).astype(np.int64)


def _gainers_by_ethnicity(unemployed, ethnicity, rng) -> np.ndarray:
    """Pick the 209 job-gainers so each ethnic group has its published employment rate."""
    picked = []
    for group, rate in JOB_RATE_BY_ETHNICITY.items():
        members = unemployed[ethnicity[unemployed] == group]
        picked.append(rng.choice(members, int(round(rate * members.size)), replace=False))
    chosen = np.concatenate(picked)
    rest = unemployed[~np.isin(ethnicity[unemployed], list(JOB_RATE_BY_ETHNICITY))]
    missing = N_JOB - chosen.size
    if 0 <= missing <= rest.size:
        return np.concatenate([chosen, rng.choice(rest, missing, replace=False)])
    pool = np.setdiff1d(unemployed, chosen) if missing > 0 else chosen
    extra = rng.choice(pool, abs(missing), replace=False)
    return np.concatenate([chosen, extra]) if missing > 0 else np.setdiff1d(chosen, extra)


def simulate_caseload(seed: int = 2025) -> pd.DataFrame:
    """Draw the synthetic caseload (one row per person). Same seed, same data."""
    rng = np.random.default_rng(seed)
    status = np.array(["in_work"] * N_IN_WORK + ["education"] * N_EDUCATION
                      + ["unemployed"] * (N_PEOPLE - N_IN_WORK - N_EDUCATION), dtype=object)
    rng.shuffle(status)
    unemployed = np.flatnonzero(status == "unemployed")
    ethnicity = rng.choice(list(ETHNICITY), N_PEOPLE, p=list(ETHNICITY.values()))
    gainers = _gainers_by_ethnicity(unemployed, ethnicity, rng)

    time_to_job = _stratified_times(JOB_KNOTS, N_JOB, rng)
    time_to_job[104] = 132  # the published median exactly (the 105th of 209)
    rng.shuffle(time_to_job)
    window = (CUTOFF - ENROLMENT[0]).days
    support = _stratified_times(SUPPORT_KNOTS, N_TIME_LIMITED, rng)
    support[88] = 146
    # Give the longest support spells to people who found work soon enough to finish it.
    limited = np.zeros(N_JOB, dtype=bool)
    support_days = np.full(N_JOB, -1)
    for days in np.sort(support)[::-1]:
        fits = np.flatnonzero(~limited & (time_to_job + days + 30 <= window))
        pick = rng.choice(fits)
        limited[pick], support_days[pick] = True, days

    n = N_PEOPLE
    latest_start = np.full(n, (ENROLMENT[1] - ENROLMENT[0]).days)
    needed = np.zeros(n, dtype=np.int64)
    needed[gainers] = time_to_job + np.where(limited, support_days + 30, 0)
    latest_start = np.minimum(latest_start, window - needed)
    offset = np.floor(rng.uniform(0, 1, n) * (latest_start + 1)).astype(np.int64)
    first_contact = ENROLMENT[0] + pd.to_timedelta(offset, unit="D")

    job_start = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    job_start.iloc[gainers] = first_contact[gainers] + pd.to_timedelta(time_to_job, unit="D")
    support_end = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    g_lim = gainers[limited]
    support_end.iloc[g_lim] = (job_start.iloc[g_lim].to_numpy()
                               + pd.to_timedelta(support_days[limited], unit="D").to_numpy())

    # Discharge: job-gainers soon after time-limited support ends; time-unlimited support stays
    # open; others after a median of ~124 days, 8% still open at the cut-off.
    discharge = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    gap = rng.integers(0, 8, g_lim.size)
    discharge.iloc[g_lim] = support_end.iloc[g_lim].to_numpy() + pd.to_timedelta(gap, unit="D").to_numpy()
    others = np.setdiff1d(np.arange(n), gainers)
    stay = np.maximum(7, np.round(rng.lognormal(np.log(124), 0.65, others.size))).astype(np.int64)
    planned = first_contact[others] + pd.to_timedelta(stay, unit="D")
    still_open = (rng.uniform(size=others.size) < 0.08) | (planned > CUTOFF)
    discharge.iloc[others] = pd.Series(planned).where(~still_open).to_numpy()

    age = np.clip(np.round(rng.gamma(9.0, 33.5 / 9.0, n) + rng.normal(0, 2, n)), 18, 67)
    gender = rng.choice(["Female", "Male", "Non-binary"], n, p=[0.47, 0.515, 0.015])
    diagnosis = rng.choice(list(DIAGNOSIS), n, p=list(DIAGNOSIS.values()))
    team = np.array([f"Team {k:02d}" for k in rng.integers(1, 19, n)])
    unlimited = np.zeros(n, dtype=bool)
    unlimited[gainers[~limited]] = True

    frame = pd.DataFrame(
        {
            "person_id": [f"P{k:04d}" for k in range(1, n + 1)],
            "team": team,
            "first_contact": first_contact,
            "status_at_contact": status,
            "job_start": job_start,
            "in_work_support_end": support_end,
            "time_unlimited_support": unlimited,
            "discharge": discharge,
            "age": age.astype(int),
            "gender": gender,
            "ethnicity": ethnicity,
            "diagnosis": diagnosis,
            "synthetic": True,
        }
    )
    frame.attrs["synthetic"] = True
    frame.attrs["description"] = __doc__.splitlines()[0]
    return frame


def load_caseload() -> pd.DataFrame:
    """The bundled synthetic caseload (539 people; see the module docstring). SYNTHETIC DATA."""
    with resources.files("causalips.datasets").joinpath("data", FILE).open("r") as fh:
        frame = pd.read_csv(fh, parse_dates=["first_contact", "job_start", "in_work_support_end",
                                             "discharge"], date_format="%Y-%m-%d")
    frame.attrs["synthetic"] = True
    frame.attrs["description"] = __doc__.splitlines()[0]
    return frame


def write_bundled(path=None) -> None:
    """Regenerate the bundled CSV (seed 2025: its caseload-time medians are 310 and 120 days)."""
    from pathlib import Path

    target = Path(path) if path else Path(__file__).parent / "data" / FILE
    simulate_caseload(2025).to_csv(target, index=False, date_format="%Y-%m-%d")
