"""Replication: municipality difference-in-differences of IPS for young adults (Norway).

Published (STUDIES.md §1): Brinchmann et al., Psychological Medicine 2024 — one municipality
implementing IPS vs ten controls, registry workdays per year of all young adults on a work
assessment allowance, four exposure years: +5.6 workdays per person-year (95% CI 2.7–8.4,
p = 0.001), stated as 12.7 years of work; +10.5 workdays three years after first exposure,
stated as 23.8 years.

The registry data are not public. The analysis runs on the bundled SYNTHETIC panel
(:func:`causalips.datasets.load_norway_panel`), simulated with the same design and a known true
effect (0.8, 3.5, 7.6, 10.5 days in exposure years 0–3; mean 5.6). So the reproduced numbers
show what the methods give on data of this shape — not a re-estimate of the study — and the
inference comparison shows why one treated municipality needs care: CR1 is far too narrow,
randomization inference cannot go below p = 1/11, and the restricted wild bootstrap is very
wide (see docs/did.md for the simulation evidence).

Each row compares like with like: the published p = 0.001 and CI 2.7–8.4 come from
cluster-robust standard errors with t(10) inference, so they stand beside our CR1 t(10) numbers;
randomization inference, Conley–Taber and the wild bootstrap, which the study did not report,
have rows of their own marked "not reported".
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..base import ReportSection
from .base import Comparison, ReplicationCase, ReplicationResult

CITATION = ("Brinchmann, Wittlund, Lorentzen, Moe, McDaid, Killackey, Rinaldi, Mykletun. "
            "Psychological Medicine 2024;54(8):1787-1795. doi:10.1017/S0033291723003744")
DATA_NOTE = ("SYNTHETIC data calibrated to the published design: "
             "causalips.datasets.load_norway_panel() (1 implementing + 10 control "
             "municipalities, 2012-2019, exposure from 2016, seed 2024); true effect known. "
             "Not the registry data.")
WORKDAYS_PER_YEAR = 230.0


def run(*, seed: int = 2024, boot_reps: int = 9999, progress: bool = True) -> ReplicationResult:
    from ..datasets.norway import load_norway_panel, simulate_norway_panel
    from ..did import DiD, EventStudy, years_of_work
    from ..inference import ConleyTaber, Randomization, WildBootstrap

    df = load_norway_panel() if seed == 2024 else simulate_norway_panel(seed=seed)
    kw = dict(outcome="workdays", unit="person", time="year", first_treated="first_treated",
              cluster="municipality")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        did = DiD(**kw).fit(df)
        es = EventStudy(**kw, window=(-4, 3)).fit(df)
    wcr = did.with_inference(WildBootstrap(reps=boot_reps, seed=seed, progress=progress))
    wcu = did.with_inference(WildBootstrap(reps=boot_reps, restricted=False, seed=seed,
                                           progress=progress))
    sub = did.with_inference(WildBootstrap(reps=boot_reps, subcluster="year", seed=seed,
                                           progress=progress))
    ri = did.with_inference(Randomization(progress=progress))
    ct = did.with_inference(ConleyTaber(progress=progress))
    ctfp = did.with_inference(ConleyTaber(heteroskedasticity=True, progress=progress))
    exposed = int(df.loc[df["implementing"] == 1, "person"].nunique())
    y_avg = years_of_work(did, exposed=exposed, workdays_per_year=WORKDAYS_PER_YEAR)
    y3 = years_of_work(es, exposed=exposed, workdays_per_year=WORKDAYS_PER_YEAR,
                       term="event_time::3")
    t = did.tidy().iloc[0]
    e3 = es.tidy().set_index("term").loc["event_time::3"]
    truth = df.attrs.get("true_att", np.nan)
    truth3 = df.attrs.get("true_effects", {}).get(3, np.nan)
    comps = (
        Comparison("effect, workdays per person-year (4 exposure years)", 5.6,
                   round(float(t["estimate"]), 2),
                   f"TWFE person + year FE; true effect in the synthetic data {truth:.2f}"),
        # the published inference: cluster-robust SEs with t(10) (G - 1 = 10 municipalities)
        Comparison("95% CI, cluster-robust t(10) (the published method)", "2.7 to 8.4",
                   _ci(did), "CR1, t(G-1): far too narrow with one treated municipality "
                             "(docs/did.md)"),
        Comparison("p-value, cluster-robust t(10) (the published method)", 0.001,
                   _p(did), "same method as the published p; over-rejects in this design"),
        # methods the study did not report, each in its own row
        Comparison("p-value, randomization inference", "not reported", _p(ri),
                   "exact: the 11 assignments of IPS to municipalities; the smallest "
                   "attainable p-value is 1/11 = 0.091"),
        Comparison("95% CI, restricted wild cluster bootstrap", "not reported", _ci(wcr),
                   _boot_note(wcr)),
        Comparison("95% CI, Conley-Taber", "not reported", _ci(ct),
                   "placebo errors from the 10 control municipalities"),
        Comparison("95% CI, Conley-Taber with the Ferman-Pinto size correction",
                   "not reported", _ci(ctfp), "placebo errors rescaled for municipality size"),
        Comparison("effect three years after first exposure", 10.5,
                   round(float(e3["estimate"]), 2),
                   f"event study, reference -1; true effect {truth3:.2f}"),
        Comparison("years of work gained (average effect)", 12.7,
                   round(float(y_avg["estimate"].iloc[0]), 1),
                   f"x {exposed} exposed people / {WORKDAYS_PER_YEAR:g} workdays per work-year"),
        Comparison("years of work gained (third year)", 23.8,
                   round(float(y3["estimate"].iloc[0]), 1),
                   "same constant: published 12.7/5.6 = 23.8/10.5 = 2.27 (derived)"),
    )
    table = inference_table(did, wcr, wcu, sub, ri, ct, ctfp)
    sections = _sections(did, es, ri, table)
    return ReplicationResult(case="norway_did", citation=CITATION, data_note=DATA_NOTE,
                             comparisons=comps, sections=sections,
                             results=(did, es, wcr, ri, ct))


def _boot_note(res) -> str:
    out = res.details["att"]
    if out.enumerated:
        return f"Rademacher weights, full enumeration of all {out.reps} sign vectors"
    return f"{out.reps} random {out.weights} draws (seeded)"


def _ci(res) -> str:
    lo, hi = res.tidy().loc[0, ["conf_low", "conf_high"]]
    return f"{lo:.2f} to {hi:.2f}"


def _p(res) -> float:
    return float(f"{float(res.tidy()['p_value'].iloc[0]):.3g}")  # small p-values keep digits


def inference_table(did, wcr, wcu, sub, ri, ct, ctfp) -> pd.DataFrame:
    rows = []
    for name, res, valid in (
        ("CR1 cluster-robust, t(G-1)", did, "over-rejects badly with 1 treated cluster"),
        ("wild cluster bootstrap, restricted (WCR)", wcr, "valid but extremely conservative"),
        ("wild cluster bootstrap, unrestricted (WCU)", wcu, "over-rejects with 1 treated"),
        ("WCR, subcluster (municipality x year)", sub, "weights per cell; size not guaranteed"),
        ("randomization inference (11 assignments)", ri,
         "exact; p cannot go below 1/11, so the 95% CI is unbounded"),
        ("Conley-Taber (10 control placebos)", ct, "valid if clusters exchangeable; CI from "
                                                   "the extreme placebos"),
        ("Conley-Taber, Ferman-Pinto size correction", ctfp,
         "approximately valid also when municipality sizes differ"),
    ):
        r = res.tidy().iloc[0]
        rows.append({"method": name, "estimate": r["estimate"], "p_value": r["p_value"],
                     "conf_low": r["conf_low"], "conf_high": r["conf_high"],
                     "in the 1-of-11 design": valid})
    return pd.DataFrame(rows)


def _sections(did, es, ri, table) -> tuple[ReportSection, ...]:
    import matplotlib.pyplot as plt

    from ..plotting.did import plot_placebo

    out = []
    figs = (
        (did.plot(), "Mean workdays by year: implementing vs control municipalities "
                     "(SYNTHETIC data)"),
        (es.plot(), "Event study: effect on workdays by year since first exposure (CR1 95% CI)"),
        (plot_placebo(ri), "Randomization inference: DiD with IPS assigned to each of the 11 "
                           "municipalities"),
    )
    for ax, caption in figs:
        fig = ax.get_figure()
        out.append(ReportSection(title=caption, figures=((caption, fig),)))
        plt.close(fig)
    out.append(ReportSection(
        title="Inference with one treated municipality: methods compared",
        paragraphs=("The same TWFE estimate with seven ways of computing its uncertainty. With "
                    "one treated cluster of 11, CR1 and the unrestricted bootstrap reject far "
                    "too often, the restricted bootstrap almost never, and randomization "
                    "inference is exact but cannot give p below 1/11 (simulation in "
                    "docs/did.md).",),
        tables=(("Inference comparison (SYNTHETIC data)", table, ()),),
    ))
    return tuple(out)


CASE = ReplicationCase(name="norway_did",
                       title="Municipality DiD of IPS for young adults (Norway, synthetic data)",
                       runner=run, in_demo=True, tags=("did", "few clusters"))
