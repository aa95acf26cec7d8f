"""Small simulated panels shared by the DiD tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def person_panel(seed=0, n_clusters=15, people=20, periods=8, treated_clusters=4, start=4,
                 effect=2.0, drop_frac=0.0, weights=False):
    """Person-year panel, cluster-level timing, optional unbalanced rows and weights."""
    rng = np.random.default_rng(seed)
    n = n_clusters * people
    df = pd.DataFrame({"id": np.repeat(np.arange(n), periods),
                       "t": np.tile(np.arange(periods), n)})
    df["m"] = df["id"] // people
    if drop_frac:
        df = df.sample(frac=1 - drop_frac, random_state=seed).sort_index()
    df["ft"] = np.where(df["m"] < treated_clusters, float(start), np.nan)
    df["d"] = ((df["m"] < treated_clusters) & (df["t"] >= start)).astype(float)
    df["x1"] = rng.normal(size=len(df))
    df["w"] = rng.uniform(0.5, 2.0, len(df))
    shock = rng.normal(size=(n_clusters, periods))
    df["y"] = (0.1 * df["id"] + 0.3 * df["t"] + effect * df["d"] + 0.5 * df["x1"]
               + rng.normal(size=len(df)) + shock[df["m"], df["t"]])
    return df.reset_index(drop=True)
