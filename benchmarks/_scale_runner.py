"""Running benchmark methods in fresh processes and writing benchmarks/results/scale.md.

Shared by the ``scale_<section>.py`` scripts that run one method per process
(``python scale_x.py --child SECTION:METHOD --data PATH``), so one method's memory never counts
against another's; BLAS is pinned to one thread (``_common``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from _common import machine, markdown  # noqa: E402, F401  (pins BLAS threads first)

RESULTS = HERE / "results" / "scale.md"
ROOT = HERE.parent
_SCRIPT = {"path": None}


def measured(setup: str, work: str, report: str = "{}", python: str = sys.executable,
             timeout: float = 3600, strict: bool = True) -> dict:
    """Run ``setup`` then time ``work`` in a fresh process; ``report`` (an expression) adds
    fields. Returns ``{"wall_s", "peak_RSS_MB", ...}``; a failure stops the run (``strict``)
    or comes back as ``{"error": ...}`` for the table."""
    code = "\n".join([
        "import json, resource, time", setup, "t0 = time.perf_counter()", work,
        "wall = time.perf_counter() - t0",
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024",
        f"print(json.dumps({{'wall_s': wall, 'peak_RSS_MB': peak, **({report})}}))"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's causalips, not another
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        if strict:
            raise SystemExit(f"this case timed out after {timeout:.0f} s:\n{code}") from None
        return {"error": f"timed out after {timeout:.0f} s"}
    if out.returncode:
        if strict:
            raise SystemExit(f"this case failed:\n{code}\n{out.stderr[-2000:]}")
        last = [ln for ln in out.stderr.strip().splitlines() if ln.strip()]
        return {"error": last[-1][:300] if last else f"exit status {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_space(workdir: Path, need_bytes: float) -> None:
    free = shutil.disk_usage(workdir).free
    if free < 3 * need_bytes:
        raise SystemExit(f"{workdir} has {free / 2**30:.1f} GiB free; the files need about "
                         f"{need_bytes / 2**30:.1f} GiB (x3 margin). Use --workdir.")


def run_child(section: str, method: str, data: str, repeat: int,
              timeout: float | None = None) -> dict:
    """Median wall time of ``repeat`` fresh processes and the largest peak RSS among them."""
    walls, peaks, answer = [], [], None
    for _ in range(repeat):
        out = subprocess.run([sys.executable, _SCRIPT["path"], "--child", f"{section}:{method}",
                              "--data", data], capture_output=True, text=True, check=True,
                             timeout=timeout)
        report = json.loads(out.stdout.strip().splitlines()[-1])
        walls.append(report["wall_s"])
        peaks.append(report["peak_rss_MB"])
        answer = report["answer"]
    return {"wall_s": statistics.median(walls), "peak_rss_MB": max(peaks), "answer": answer}


def child(methods: dict, spec: str, data: str) -> None:
    section, method = spec.split(":")
    fn = methods[section][method]
    import duckdb  # noqa: F401  (imports are not timed)
    import pandas  # noqa: F401

    if not method.endswith("_floor"):
        import statsmodels.api  # noqa: F401

        import causalips  # noqa: F401
    t0 = time.perf_counter()
    answer = fn(data)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"wall_s": wall, "peak_rss_MB": peak, "answer": answer}))

# -- the results file: one part per section -------------------------------------------------------
def write_section(text: str, command: str) -> None:
    title = text.splitlines()[0]
    head = (f"# Registry scale benchmark\n\nMachine: {machine()}.\n\n")
    old = RESULTS.read_text() if RESULTS.exists() else head
    body = f"{title}\n\nCommand: `{command}`.\n\n" + text.split("\n", 2)[2]
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: body, old) if pattern.search(old) else old.rstrip() + "\n\n" + body
    RESULTS.write_text(new)


def run_main(script: str, sections: dict, methods: dict) -> None:
    _SCRIPT["path"] = script
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=float, default=1e5)
    parser.add_argument("--sections", default=",".join(sections))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="folder for the data files")
    parser.add_argument("--in-memory-up-to", type=float, default=1e7,
                        help="largest file also fitted in memory (pandas, lifelines)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per method run")
    parser.add_argument("--child")
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.child:
        child(methods, args.child, args.data)
        return
    args.rows = int(args.rows)
    for name in args.sections.split(","):
        text = sections[name](args)
        command = (f"python benchmarks/bench_scale.py --only {name} -- --rows {args.rows:.0e} "
                   f"--repeat {args.repeat}")
        write_section(text, command)
        print(text)

