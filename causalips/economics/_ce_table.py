"""The tidy table of a cost-effectiveness result, from point estimates and bootstrap draws.

Per comparison (group vs reference): incremental cost and effect, the ICER (a ratio only in the
quadrants where it is a price of health) and one net-benefit row per willingness-to-pay
threshold with the probability of cost-effectiveness and the EVPI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..base import tidy_frame
from .decision import acceptability, classify, expected_value_of_perfect_information, icer


def comparison_label(group, reference) -> str:
    return f"{group} vs {reference}"


def tidy_table(est, sample, pc, pe, dc, de) -> pd.DataFrame:
    alpha = 1.0 - est.conf_level
    lam = np.array(est.wtp)
    evpi = expected_value_of_perfect_information(dc, de, lam)
    _, vs_ref = acceptability(dc, de, lam)
    groups, sizes = sample.groups, sample.sizes
    rows = []
    for a in range(1, len(groups)):  # comparisons (few)
        d_cost, d_eff = pc[a] - pc[0], pe[a] - pe[0]
        kind = classify(d_cost, d_eff)
        b_cost, b_eff = dc[:, a] - dc[:, 0], de[:, a] - de[:, 0]
        common = {"comparison": comparison_label(groups[a], groups[0]), "group": groups[a],
                  "reference": groups[0], "icer": icer(d_cost, d_eff), "dominance": kind,
                  "n_group": int(sizes[a]), "n_reference": int(sizes[0])}
        rows.append({**common, "term": "incremental_cost", "wtp": np.nan,
                     **_interval(est, d_cost, b_cost, alpha)})
        rows.append({**common, "term": "incremental_effect", "wtp": np.nan,
                     **_interval(est, d_eff, b_eff, alpha)})
        rows.append({**common, "term": "icer", "wtp": np.nan, "estimate": common["icer"],
                     **_icer_interval(kind, b_cost, b_eff, alpha)})
        for i, w in enumerate(lam):
            rows.append({**common, "term": "net_benefit", "wtp": float(w),
                         **_interval(est, w * d_eff - d_cost, w * b_eff - b_cost, alpha),
                         "prob_cost_effective": float(vs_ref[i, a]),
                         "evpi": float(evpi[i])})
    return tidy_frame(rows, extra_first=("icer", "dominance", "n_group", "n_reference"))


def _icer_interval(kind, b_cost, b_eff, alpha) -> dict:
    """Percentile CI of the ICER, only when every draw lies in the estimate's quadrant.

    Within one quadrant (north-east or south-west) the ratio is a monotone summary and its
    percentiles are meaningful; once draws cross an axis they are not (use the CEAC).
    """
    if kind == "ICER":
        same = np.all((b_eff > 0) & (b_cost > 0))
    elif kind == "ICER_SW":
        same = np.all((b_eff < 0) & (b_cost < 0))
    else:
        same = False
    if not same:
        return {}
    ratios = b_cost / b_eff
    lo, hi = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    return {"std_error": float(np.std(ratios, ddof=1)), "conf_low": float(lo),
            "conf_high": float(hi)}


def _interval(est, estimate, draws, alpha) -> dict:
    se = float(np.std(draws, ddof=1))
    if est.ci_method == "percentile":
        lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    else:
        from scipy import stats

        z = stats.norm.ppf(1 - alpha / 2)
        lo, hi = estimate - z * se, estimate + z * se
    p = min(1.0, 2.0 * min(np.mean(draws <= 0), np.mean(draws >= 0)))
    stat = estimate / se if se > 0 else np.nan
    return {"estimate": float(estimate), "std_error": se, "statistic": stat,
            "p_value": float(p), "conf_low": float(lo), "conf_high": float(hi)}
