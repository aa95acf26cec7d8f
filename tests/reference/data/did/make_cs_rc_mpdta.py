"""Reference values for Callaway–Sant'Anna on repeated cross-sections (R did's panel = FALSE).

Runs the Python ports of R's did / DRDID (csdid 0.4.3, drdid 1.1.7) on mpdta treated as
repeated cross-sections: the unit id is dropped, so every row is its own draw (csdid then
numbers the rows itself, as R did's .rowid). Analytic influence-function SEs (bstrap=False).

    python tests/reference/data/did/make_cs_rc_mpdta.py   # writes cs_rc_mpdta.json beside it

Numbers are written with Python's repr (shortest round-trip), so json.load gives the doubles.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import platform
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from csdid.att_gt import ATTgt

HERE = Path(__file__).resolve().parent
MPDTA = HERE.parents[3] / "causalips" / "datasets" / "data" / "mpdta.csv"

SPECS = {
    "nevertreated_nocov_dr": dict(xformla=None, control_group="nevertreated", est="dr"),
    "nevertreated_lpop_dr": dict(xformla="lemp~lpop", control_group="nevertreated", est="dr"),
    "nevertreated_lpop_reg": dict(xformla="lemp~lpop", control_group="nevertreated", est="reg"),
    "nevertreated_lpop_ipw": dict(xformla="lemp~lpop", control_group="nevertreated", est="ipw"),
    "notyettreated_nocov_dr": dict(xformla=None, control_group="notyettreated", est="dr"),
    "notyettreated_lpop_dr": dict(xformla="lemp~lpop", control_group="notyettreated", est="dr"),
    "notyettreated_lpop_ipw": dict(xformla="lemp~lpop", control_group="notyettreated",
                                   est="ipw"),
}
AGGREGATIONS = ("simple", "group", "calendar", "dynamic")
LEVEL = {"group": "group", "calendar": "time", "dynamic": "event_time"}


def _floats(values):
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def run(data: pd.DataFrame, spec: dict) -> dict:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        att = ATTgt(yname="lemp", tname="year", idname=None, gname="first.treat",
                    data=data.copy(), xformla=spec["xformla"], panel=False,
                    control_group=spec["control_group"]).fit(est_method=spec["est"],
                                                             bstrap=False)
        r = att.results
        out = {"att_gt": {"group": _floats(r["group"]), "time": _floats(r["year"]),
                          "att": _floats(r["att"]), "se": _floats(r["se"])},
               "n": int(att.MP["n"]),
               "pretest_wald": {"W": float(att.MP["W"]), "p_value": float(att.MP["Wpval"])}}
        for kind in AGGREGATIONS:
            att.aggte(typec=kind, bstrap=False)
            a = att.atte
            entry = {"overall_att": float(a["overall_att"]), "overall_se": float(a["overall_se"])}
            if kind in LEVEL:
                entry["by"] = {LEVEL[kind]: _floats(a["egt"]), "att": _floats(a["att_egt"]),
                               "se": _floats(a["se_egt"])}
            out[kind] = entry
    return out


def main() -> None:
    raw = MPDTA.read_bytes()
    data = pd.read_csv(MPDTA).drop(columns="countyreal")
    calls = {name: (f"ATTgt(yname='lemp', tname='year', idname=None, gname='first.treat', "
                    f"data=mpdta.drop(columns='countyreal'), xformla={s['xformla']!r}, "
                    f"panel=False, control_group={s['control_group']!r})"
                    f".fit(est_method={s['est']!r}, bstrap=False); .aggte(typec=..., "
                    "bstrap=False) for simple, group, calendar, dynamic")
             for name, s in SPECS.items()}
    ref = {
        "description": "Callaway & Sant'Anna (2021) ATT(g,t) and aggregations on mpdta treated "
                       "as repeated cross-sections (R did's panel = FALSE; unit id dropped, "
                       "every row its own draw, n = 2500 rows). base_period='varying', "
                       "anticipation 0, analytic influence-function SEs, unclustered.",
        "data": {"file": "causalips/datasets/data/mpdta.csv",
                 "sha256": hashlib.sha256(raw).hexdigest(), "transformation":
                 "pandas.read_csv(...).drop(columns='countyreal')"},
        "software": {"csdid": metadata.version("csdid"), "drdid": metadata.version("drdid"),
                     "numpy": np.__version__, "pandas": pd.__version__,
                     "python": platform.python_version()},
        "generated_by": "tests/reference/data/did/make_cs_rc_mpdta.py",
        "calls": calls,
        "results": {name: run(data, spec) for name, spec in SPECS.items()},
    }
    (HERE / "cs_rc_mpdta.json").write_text(json.dumps(ref, indent=1) + "\n")


if __name__ == "__main__":
    main()
