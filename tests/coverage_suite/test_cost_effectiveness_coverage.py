"""Coverage of the cost-effectiveness bootstrap: incremental cost and incremental net benefit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _coverage_check import CoverageChecks, covers, replications

from causalips import Bootstrap, CostEffectiveness


@pytest.mark.slow
def test_joint_bootstrap_percentile_intervals():
    """Two arms of 150. Costs: 1,000 + Gamma(shape 2, scale 1,000) (skewed, mean 3,000) in
    usual services, 400 less under IPS; effects (QALYs): N(0.10, 0.20), 0.05 more under IPS.
    At a willingness to pay of 10,000 per QALY the incremental net benefit is
    10,000 x 0.05 + 400 = 900. Percentile intervals from Bootstrap(reps=999) per replication."""
    reps, n = replications(2000), 150
    d_cost, d_effect, wtp = -400.0, 0.05, 10_000.0
    truth = {"incremental_cost": d_cost, "net_benefit": wtp * d_effect - d_cost}
    arm = np.repeat(["usual", "ips"], n)
    is_ips = arm == "ips"
    rng = np.random.default_rng(20261212)
    hits = np.empty((reps, 2), dtype=bool)
    for r in range(reps):
        df = pd.DataFrame({
            "arm": arm,
            "cost": 1000 + rng.gamma(2.0, 1000.0, 2 * n) + np.where(is_ips, d_cost, 0.0),
            "effect": rng.normal(0.10, 0.20, 2 * n) + np.where(is_ips, d_effect, 0.0)})
        tidy = CostEffectiveness(group="arm", cost="cost", effect="effect", reference="usual",
                                 wtp=[wtp], inference=Bootstrap(reps=999, seed=r, progress=False)
                                 ).fit(df).tidy().set_index("term")
        hits[r] = [covers(tidy.loc[term, "conf_low"], tidy.loc[term, "conf_high"], value)
                   for term, value in truth.items()]
    design = "Cost-effectiveness 2x150, gamma costs: {} = {:g}"
    with CoverageChecks() as check:
        check.nominal(design.format("incremental cost", d_cost), "Bootstrap percentile (999)",
                      hits[:, 0])
        check.nominal(design.format("INB at 10,000/QALY", truth["net_benefit"]),
                      "Bootstrap percentile (999)", hits[:, 1])
