"""Site comparison, reach and equity on bundled data, by code and by the no-code report.

Run: python examples/site_comparison.py [output folder]
"""

import sys
import tempfile
from pathlib import Path

import causalips as ci
from causalips.datasets import load_caseload, load_making_ips_work, simulate_wider_caseload
from causalips.report.config_report import config_report

out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
out_dir.mkdir(parents=True, exist_ok=True)

# 1. Six Making IPS Work sites (published counts) on a funnel plot: never a league table.
sites = ci.FunnelPlot(site="site", numerator="jobs", denominator="referrals",
                      overdispersion="additive").fit(load_making_ips_work())
print(sites.summary())

# 2. The no-code report on a person-level file (SYNTHETIC caseload of 6,165, 539 IPS users).
dates = ["person_id", "first_contact", "status_at_contact", "job_start", "discharge"]
people = simulate_wider_caseload(seed=2024).merge(load_caseload()[dates], on="person_id",
                                                  how="left")
data_file = out_dir / "caseload.csv"
people.to_csv(data_file, index=False)
config = Path(__file__).with_name("site_report.toml")
path = config_report(data_file, config, out_dir / "site_report.html", tables=out_dir / "tables")
print(f"report written to {path}; its tables as CSV in {out_dir / 'tables'}")
