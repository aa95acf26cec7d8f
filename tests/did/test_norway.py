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


def test_replication_compares_like_with_like():
    """The published p and CI (CR1, t(10)) stand beside our CR1 t(10) numbers; the other
    methods have rows of their own, marked as not reported by the study."""
    out = replicate("norway_did", boot_reps=999, progress=False)
    tab = out.table().set_index("quantity")
    did, ri = out.results[0], out.results[3]
    published_p = tab.loc["p-value, cluster-robust t(10) (the published method)"]
    assert published_p["published"] == 0.001
    assert published_p["reproduced"] == pytest.approx(did.tidy()["p_value"].iloc[0], rel=1e-2)
    assert did.tidy()["inference"].iloc[0] == "cluster-robust CR1, t(10)"
    ci_row = tab.loc["95% CI, cluster-robust t(10) (the published method)"]
    assert ci_row["published"] == "2.7 to 8.4"
    ri_row = tab.loc["p-value, randomization inference"]
    assert ri_row["published"] == "not reported"
    assert ri_row["reproduced"] == pytest.approx(1 / 11, abs=1e-4)
    assert ri.tidy()["inference"].iloc[0].startswith("randomization")
    for name in ("95% CI, restricted wild cluster bootstrap", "95% CI, Conley-Taber"):
        assert tab.loc[name, "published"] == "not reported"
