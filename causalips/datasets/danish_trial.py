"""Synthetic two-arm trial calibrated to the Danish IPS cost-effectiveness trial.

SYNTHETIC DATA. Christensen et al. (European Psychiatry 2021) randomised 720 people to IPS, IPS
with cognitive remediation, or usual services; the person-level data are not public. This
generator draws the two arms used for the published IPS vs usual services comparison
(IPS n = 243, usual services n = 239) and calibrates them *by construction* to the published
figures: mean cost €9,543 lower with IPS, mean QALY gain 0.0329 (IPS) vs 0.0074 (usual services).
The spread of costs is chosen so that the probability that IPS is cost-effective at €35,000 per
QALY is about 95.6% (normal approximation to the incremental net benefit); the bootstrap
reproduces it only approximately. Arm mean cost levels, the shape of the cost distribution
(right-skewed: a floor plus a log-normal part), covariates and the days-worked outcome (many
zeros) are illustrative, not published.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
from scipy import stats

N_IPS, N_USUAL = 243, 239
ARMS = ("IPS", "usual services")
COST_DIFFERENCE = -9543.0  # IPS minus usual services, EUR (published)
QALY_GAIN = {"IPS": 0.0329, "usual services": 0.0074}  # published
PROB_CE_35K = 0.956  # published
WTP = 35000.0
USUAL_MEAN_COST = 80000.0  # illustrative level; only the difference is published
QALY_SD = 0.08  # illustrative
SHARE_WORKING = {"IPS": 0.40, "usual services": 0.30}  # illustrative
FILE = "danish_trial_synthetic.csv"
SEED = 2021


def cost_sd_for_probability(prob: float = PROB_CE_35K, *, wtp: float = WTP,
                            n: tuple[int, int] = (N_IPS, N_USUAL),
                            qaly_sd: float = QALY_SD) -> float:
    """Per-arm SD of costs giving P(incremental net benefit > 0) = ``prob`` (normal approx.).

    Derived: NMB = wtp * dE - dC = 35,000 * 0.0255 + 9,543; its SE must be NMB / z(prob).
    Effects are drawn independently of costs within arm here, so their variance adds.
    """
    d_e = QALY_GAIN["IPS"] - QALY_GAIN["usual services"]
    nmb = wtp * d_e - COST_DIFFERENCE
    se_nmb = nmb / stats.norm.ppf(prob)
    k = np.sqrt(1.0 / n[0] + 1.0 / n[1])
    se_cost_sq = se_nmb**2 - (wtp * qaly_sd * k) ** 2
    return float(np.sqrt(se_cost_sq) / k)


def _exact(values: np.ndarray, mean: float, sd: float) -> np.ndarray:
    return mean + (values - values.mean()) * (sd / values.std(ddof=1))


def simulate_danish_trial(seed: int = SEED, *, calibrate: bool = True) -> pd.DataFrame:
    """Draw the synthetic trial (one row per person). Same seed, same data. SYNTHETIC DATA.

    Columns: ``person_id``, ``arm`` ("IPS" / "usual services"), ``age``, ``female``,
    ``prior_admission`` (baseline), ``cost_eur`` (total cost per person over follow-up, skewed),
    ``qaly_gain``, ``days_worked`` (many zeros), ``worked`` (0/1) and ``synthetic`` (True).
    With ``calibrate=True`` (default) arm means of cost and QALY gain equal the published figures
    exactly and the cost SD per arm is :func:`cost_sd_for_probability`.
    """
    rng = np.random.default_rng(seed)
    arm = np.array([ARMS[0]] * N_IPS + [ARMS[1]] * N_USUAL, dtype=object)
    n = arm.size
    age = np.clip(np.round(rng.normal(32.0, 9.0, n)), 18, 60).astype(int)
    female = (rng.random(n) < 0.45).astype(int)
    severity = rng.normal(size=n)
    prior_admission = (severity + rng.normal(scale=1.0, size=n) > 0.6).astype(int)
    skew = np.exp(1.2 * (0.6 * severity + 0.8 * rng.normal(size=n)))
    qaly = 0.02 - 0.03 * severity + rng.normal(scale=0.07, size=n)
    worked = np.zeros(n, dtype=int)
    days = np.zeros(n)
    cost_sd = cost_sd_for_probability()
    cost = np.empty(n)
    for a in ARMS:  # two arms
        m = arm == a
        mean_cost = USUAL_MEAN_COST + (COST_DIFFERENCE if a == "IPS" else 0.0)
        g = skew[m]
        if calibrate:  # sample moments: arm mean and SD exact
            scale = cost_sd / g.std(ddof=1)
            floor = mean_cost - scale * g.mean()
        else:  # population moments of the log-normal part (sigma 1.2)
            g_mean = np.exp(0.72)
            scale = cost_sd / (g_mean * np.sqrt(np.expm1(1.44)))
            floor = mean_cost - scale * g_mean
        if floor < 0:
            floor, scale = 0.0, mean_cost / g.mean()
        cost[m] = floor + scale * g
        q = qaly[m] + (QALY_GAIN[a] - 0.02)
        qaly[m] = _exact(q, QALY_GAIN[a], QALY_SD) if calibrate else q
        p_work = SHARE_WORKING[a] * np.exp(-0.3 * severity[m]) / np.mean(np.exp(-0.3 * severity[m]))
        w = rng.random(m.sum()) < np.clip(p_work, 0, 1)
        worked[m] = w
        days[m] = np.where(w, np.ceil(rng.gamma(1.5, 80.0, m.sum())), 0.0)
    frame = pd.DataFrame({
        "person_id": [f"D{i + 1:04d}" for i in range(n)],
        "arm": arm,
        "age": age,
        "female": female,
        "prior_admission": prior_admission,
        "cost_eur": np.round(cost, 2),
        "qaly_gain": np.round(qaly, 6),
        "days_worked": days.astype(int),
        "worked": worked,
        "synthetic": True,
    })
    frame.attrs["synthetic"] = True
    return frame


def load_danish_trial() -> pd.DataFrame:
    """The bundled synthetic Danish trial (482 people, seed 2021). SYNTHETIC DATA.

    Calibrated to Christensen et al. (2021): IPS n = 243 vs usual services n = 239, mean cost
    difference -€9,543, QALY gains 0.0329 vs 0.0074 (see the module docstring for what is
    published and what is illustrative).

    Example
    -------
    >>> from causalips.datasets import load_danish_trial
    >>> df = load_danish_trial()
    >>> df.groupby("arm")["qaly_gain"].mean().round(4).to_dict()
    {'IPS': 0.0329, 'usual services': 0.0074}
    """
    with resources.files("causalips.datasets").joinpath("data", FILE).open("r") as fh:
        frame = pd.read_csv(fh)
    frame.attrs["synthetic"] = True
    frame.attrs["description"] = __doc__.splitlines()[0]
    return frame


def write_bundled(path=None) -> None:
    """Regenerate the bundled CSV (seed 2021)."""
    from pathlib import Path

    target = Path(path) if path else Path(__file__).parent / "data" / FILE
    simulate_danish_trial(SEED).to_csv(target, index=False)


__all__ = ["load_danish_trial", "simulate_danish_trial", "cost_sd_for_probability"]
