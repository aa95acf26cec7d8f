import numpy as np
import pytest

from causalips.datasets.norway import (
    TRUE_ATT,
    TRUE_EFFECTS,
    load_norway_panel,
    simulate_norway_panel,
)
from causalips.panel import validate_panel
from causalips.replication import cases, replicate


def test_bundled_panel_is_the_seeded_simulation_and_labelled_synthetic():
    df = load_norway_panel()
    sim = simulate_norway_panel(seed=2024)
    assert df.equals(sim[df.columns].astype(df.dtypes.to_dict()))
    assert "SYNTHETIC" in df.attrs["source"] and (df["synthetic"] == 1).all()
    assert df.attrs["true_att"] == pytest.approx(sim.attrs["true_att"]) == TRUE_ATT
    assert df.attrs["true_effects"] == pytest.approx(sim.attrs["true_effects"])
    assert TRUE_EFFECTS == pytest.approx(sim.attrs["true_effects"])


def test_design_matches_the_published_study():
    df = load_norway_panel()
    p = validate_panel(df, outcome="workdays", unit="person", time="year",
                       first_treated="first_treated", cluster="municipality")
    assert p.n_clusters == 11 and p.n_treated_clusters == 1
    assert p.n_periods == 8 and (p.periods >= 2016).sum() == 4  # four exposure years
    assert df["workdays"].between(0, 230).all()
    assert abs(df.attrs["true_att"] - 5.6) < 0.1
    assert df.attrs["true_effects"][3] == pytest.approx(10.5, abs=0.1)
    assert np.all(np.diff([df.attrs["true_effects"][e] for e in range(4)]) > 0)


def test_simulation_recovers_the_truth_on_average():
    """Unbiasedness: mean TWFE estimate over seeds within 3 MC SE of the mean true effect."""
    from causalips.did._within_ols import FixedEffects

    est, truth = [], []
    for seed in range(40):  # 40 small panels (loop over data sets, not rows)
        df = simulate_norway_panel(seed=seed, n_treated_people=100, control_sizes=(60, 120))
        u = df["person"].to_numpy() - 1
        t = df["year"].to_numpy() - 2012
        fe = FixedEffects.build([u, t], [u.max() + 1, 8], ["u", "t"], np.ones(len(df)))
        d = (df["first_treated"].notna() & (df["year"] >= 2016)).to_numpy(float)
        both = fe.residualise(np.column_stack([df["workdays"].to_numpy(float), d]))
        est.append(both[:, 0] @ both[:, 1] / (both[:, 1] @ both[:, 1]))
        truth.append(df.attrs["true_att"])
    err = np.array(est) - np.array(truth)
    assert abs(err.mean()) < 3 * err.std(ddof=1) / np.sqrt(err.size)


def test_replication_case_runs_and_labels_synthetic():
    assert "norway_did" in cases() and cases()["norway_did"].in_demo
    out = replicate("norway_did", boot_reps=999)
    tab = out.table()
    assert "SYNTHETIC" in out.data_note
    assert tab["published"].tolist()[0] == 5.6
    assert {"12.7", "23.8"} <= {str(v) for v in tab["published"]}
    assert len(out.sections) == 4
    assert any(s.figures for s in out.sections) and out.sections[-1].tables
