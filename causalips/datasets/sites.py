"""Site-level and wider-caseload data for site comparison, reach and equity.

* :func:`load_making_ips_work` — PUBLISHED COUNTS (not synthetic): referrals and jobs at the six
  Making IPS Work sites over 18 months (Hutchinson, Gilbert, Papworth, Boardman, IJERPH
  2018;15(7):1545); 421 jobs in total.
* :func:`simulate_wider_caseload` — SYNTHETIC: the 6,165 working-age people on the South West
  London community teams' caseload, of whom the 539 IPS users are the people of
  :func:`~causalips.datasets.load_caseload` (so reach is 539 / 6,165 = 8.7% by construction).
  The 5,626 others are drawn so that, as Rinaldi et al. (2024) report, IPS users are younger and
  differ in ethnicity (Black, Asian, mixed and other groups over-represented among users) but
  are alike in gender and diagnosis: the others' gender and diagnosis are drawn from the users'
  own shares, so a test of users against the others finds them alike for every seed (the
  difference is sampling noise of the others only). Distributions of the others are plausible,
  not published.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

SITES_FILE = "making_ips_work_sites.csv"
N_WIDER = 6165
AGE_BANDS = (18, 25, 35, 45, 55, 68)
AGE_LABELS = ("18-24", "25-34", "35-44", "45-54", "55+")
#: ethnicity of community-team patients not using IPS (users: see datasets.caseload.ETHNICITY)
OTHERS_ETHNICITY = {"White": 0.62, "Black": 0.17, "Asian": 0.12, "Mixed": 0.05, "Other": 0.04}


def load_making_ips_work() -> pd.DataFrame:
    """Referrals and jobs at the six Making IPS Work sites (PUBLISHED COUNTS, not synthetic).

    Returns
    -------
    DataFrame
        ``site``, ``referrals``, ``jobs`` (one row per site, 18 months).

    Example
    -------
    >>> from causalips.datasets import load_making_ips_work
    >>> int(load_making_ips_work()["jobs"].sum())
    421
    """
    with resources.files("causalips.datasets").joinpath("data", SITES_FILE).open("r") as fh:
        frame = pd.read_csv(fh)
    frame.attrs["synthetic"] = False
    frame.attrs["description"] = ("Making IPS Work site table (Hutchinson et al., IJERPH 2018): "
                                  "published counts")
    return frame


def age_band(age) -> pd.Series:
    """Working-age bands 18-24, 25-34, 35-44, 45-54, 55+ (as text)."""
    cut = pd.cut(pd.Series(age), bins=list(AGE_BANDS), right=False, labels=list(AGE_LABELS))
    return cut.astype(str).where(cut.notna(), "not known")


def simulate_wider_caseload(seed: int = 2024) -> pd.DataFrame:
    """SYNTHETIC wider caseload of 6,165 people: the 539 IPS users plus 5,626 others.

    Parameters
    ----------
    seed : int
        Seed of the numpy Generator for the 5,626 others (the users are the bundled caseload).

    Returns
    -------
    DataFrame
        ``person_id``, ``team``, ``age``, ``age_band``, ``gender``, ``ethnicity``, ``diagnosis``,
        ``ips_user`` (1 for the 539 users), ``source`` ("IPS caseload" / "rest of caseload"),
        ``synthetic``.

    Example
    -------
    >>> from causalips.datasets import simulate_wider_caseload
    >>> wider = simulate_wider_caseload(seed=1)
    >>> len(wider), int(wider["ips_user"].sum())
    (6165, 539)
    """
    from .caseload import load_caseload

    users = load_caseload()
    rng = np.random.default_rng(seed)
    n = N_WIDER - len(users)
    # Older than the users (mean about 41 vs 33.5 years), working age 18-67.
    age = np.clip(np.round(rng.gamma(12.0, 41.0 / 12.0, n) + rng.normal(0, 3, n)), 18, 67)
    # alike in gender and diagnosis: drawn from the users' own shares (not from the shares the
    # users were drawn from, whose sampling noise alone made the groups look different)
    genders = users["gender"].value_counts(normalize=True)
    diagnoses = users["diagnosis"].value_counts(normalize=True)
    others = pd.DataFrame({
        "person_id": [f"W{k:05d}" for k in range(1, n + 1)],
        "team": np.array([f"Team {k:02d}" for k in rng.integers(1, 19, n)]),
        "age": age.astype(int),
        "gender": rng.choice(genders.index.to_numpy(), n, p=genders.to_numpy()),
        "ethnicity": rng.choice(list(OTHERS_ETHNICITY), n, p=list(OTHERS_ETHNICITY.values())),
        "diagnosis": rng.choice(diagnoses.index.to_numpy(), n, p=diagnoses.to_numpy()),
        "ips_user": 0,
    })
    cols = ["person_id", "team", "age", "gender", "ethnicity", "diagnosis"]
    users = users[cols].assign(ips_user=1)
    frame = pd.concat([users, others], ignore_index=True)
    frame.insert(3, "age_band", age_band(frame["age"]).to_numpy())
    frame["source"] = np.where(frame["ips_user"] == 1, "IPS caseload", "rest of caseload")
    frame["synthetic"] = True
    frame.attrs["synthetic"] = True
    frame.attrs["description"] = ("SYNTHETIC wider community-team caseload (6,165) calibrated to "
                                  "Rinaldi et al. 2024")
    return frame


__all__ = ["load_making_ips_work", "simulate_wider_caseload", "age_band"]
