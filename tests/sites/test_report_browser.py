"""The no-code report in a real headless browser (Debian's chromium).

Checks: the page loads with no console messages (the report has no scripts, so any message is an
error), every figure decodes to an image, and the funnel table in the rendered DOM shows the
same numbers as the API. Skipped when chromium is not installed.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from causalips import FunnelPlot
from causalips.datasets import load_making_ips_work
from causalips.report.config_report import config_report

pytestmark = pytest.mark.filterwarnings("ignore::causalips.errors.StatisticalWarning")

CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and
                 Path(p).exists()), None)

CONFIG = """
title = "Site comparison"
[funnel]
site = "site"
numerator = "jobs"
denominator = "referrals"
[productivity]
site = "site"
people = "referrals"
outcomes = "jobs"
fte = "fte"
months = 18
"""

#: appended to a copy of the report only: records how many images decoded once loaded
IMAGE_PROBE = ("<script>window.addEventListener('load',()=>{const i=[...document.images];"
               "document.body.setAttribute('data-images',i.length+'/'+"
               "i.filter(x=>x.complete&&x.naturalWidth>0).length)});</script>")


def _browse(page: Path, profile: Path) -> tuple[str, str]:
    """Load ``page`` in headless chromium; return (DOM after load, browser log)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=5000", "--dump-dom", page.as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"chromium could not run here: {exc}")
    if done.returncode != 0 or "<body" not in done.stdout:
        pytest.skip(f"chromium did not render (exit {done.returncode}): {done.stderr[-300:]}")
    return done.stdout, done.stderr


def _console_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if ":CONSOLE" in line]


class _Tables(HTMLParser):
    """Tables of the DOM keyed by the caption (h3) before them."""

    def __init__(self):
        super().__init__()
        self.tables, self._caption, self._in_h3 = {}, "", False
        self._rows, self._cell, self._in_cell = None, "", False

    def handle_starttag(self, tag, attrs):
        if tag == "h3":
            self._in_h3, self._caption = True, ""
        elif tag == "table":
            self._rows = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th"):
            self._in_cell, self._cell = True, ""

    def handle_endtag(self, tag):
        if tag == "h3":
            self._in_h3 = False
        elif tag in ("td", "th") and self._rows is not None:
            self._rows[-1].append(self._cell.strip())
            self._in_cell = False
        elif tag == "table" and self._rows is not None:
            self.tables.setdefault(self._caption, self._rows)
            self._rows = None

    def handle_data(self, data):
        if self._in_h3:
            self._caption += data
        if self._in_cell:
            self._cell += data


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    data = folder / "sites.csv"
    load_making_ips_work().assign(fte=[4.0, 3.5, 3.0, 4.5, 2.5, 3.0]).to_csv(data, index=False)
    config = folder / "report.toml"
    config.write_text(CONFIG)
    path = config_report(data, config, folder / "report.html")
    probed = folder / "probed.html"
    probed.write_text(path.read_text().replace("</body>", IMAGE_PROBE + "</body>"))
    return path, probed, folder


def test_report_loads_without_console_errors_and_every_figure_renders(report):
    path, probed, folder = report
    dom, log = _browse(path, folder / "profile1")
    assert _console_lines(log) == []
    assert "Funnel plot: site comparison" in dom
    dom_probed, log_probed = _browse(probed, folder / "profile2")
    assert _console_lines(log_probed) == []
    n_images = path.read_text().count("<img ")
    assert n_images == 3  # funnel, caterpillar, productivity
    assert f'data-images="{n_images}/{n_images}"' in dom_probed


def test_the_checks_catch_a_broken_figure_and_a_script_error(report):
    path, _, folder = report
    broken = folder / "broken.html"
    text = path.read_text().replace("<figure>", '<figure><img src="data:image/png;base64,AAAA">', 1)
    broken.write_text(text.replace("</body>", IMAGE_PROBE + "<script>noSuchFunction()</script>"
                                   "</body>"))
    dom, log = _browse(broken, folder / "profile3")
    assert any("noSuchFunction" in line for line in _console_lines(log))
    assert 'data-images="4/3"' in dom


def test_funnel_table_in_the_browser_matches_the_api(report):
    path, _, folder = report
    dom, _ = _browse(path, folder / "profile4")
    parser = _Tables()
    parser.feed(dom)
    rows = parser.tables["Sites (sorted by name)"]
    header, body = rows[0], rows[1:]
    api = FunnelPlot(site="site", numerator="jobs", denominator="referrals").fit(
        load_making_ips_work()).tidy()
    assert [r[header.index("site")] for r in body] == api["site"].tolist()
    for col in ("rate", "conf_low", "conf_high"):
        shown = [float(r[header.index(col)]) for r in body]
        assert shown == [float(f"{v:.4g}") for v in api[col]], col
    assert [int(r[header.index("numerator")]) for r in body] == api["numerator"].tolist()
    assert [r[header.index("flag")] for r in body] == api["flag"].tolist()
