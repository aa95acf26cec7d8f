"""The ``causalips`` command: demo on bundled data, Kaplan–Meier on a file, replications, reports.

Bad input ends with a one-line error on stderr and exit status 2, naming command-line flags and
spreadsheet line numbers; ``--json`` prints a JSON record for scripting. Everything printed is
published under the same small-count rule as the report (``--suppress``, default 5).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from ._version import __version__
from .disclosure import DEFAULT_THRESHOLD
from .errors import CausalipsError, DataError

EXIT_BAD_INPUT = 2

#: plan option -> the flag that sets it (error messages name the flag)
KM_FLAGS = {"duration": "--duration", "event": "--event", "group": "--group",
            "event_value": "--event-value", "conf_type": "--conf-type",
            "ci_method": "--conf-type", "conf_level": "--conf-level", "curve": "--curve",
            "sep": "--sep", "decimal": "--decimal", "encoding": "--encoding", "sheet": "--sheet"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """``text`` with control characters (ANSI escapes among them) shown as ``\\x..`` codes.

    Labels come from the user's data; printed raw, an escape sequence could recolour or rewrite
    the analyst's terminal.
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _say(text: str = "", *, err: bool = False) -> None:
    print(terminal_safe(text), file=sys.stderr if err else sys.stdout)


def _print_json(obj) -> None:
    from .base import json_safe

    print(json.dumps(json_safe(obj), indent=2, ensure_ascii=True))


def _threshold(text: str) -> int:
    """argparse type of ``--suppress``: a whole number >= 0 (0 switches suppression off)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0 (0 turns suppression off); "
                                         f"got {value}")
    return value


def _parse_times(text: str | None):
    if not text:
        return [91, 182, 273, 365]
    try:
        times = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        times = []
    if not times or any(t < 0 for t in times):
        raise DataError(f"--times must be comma-separated numbers >= 0, e.g. 91,182,365; got "
                        f"{text!r}")
    return times


def _read(args):
    from .io import read_table

    path = args.file if hasattr(args, "file") else args.data
    return read_table(path, sep=args.sep, decimal=args.decimal, sheet=args.sheet,
                      encoding=args.encoding)


#: text files at most this big are re-read by pandas when the engine finds a problem in them, so
#: the error can name spreadsheet line numbers (nobody opens a bigger file in a spreadsheet)
SPREADSHEET_BYTES = 20 * 2**20


def _lazy_file(args):
    """The data file as a DuckDB relation read in place, or ``None`` for the pandas reader
    (:func:`causalips.io.scan_table` says which files the engine reads)."""
    from .io import scan_table

    return scan_table(args.file, sep=args.sep, decimal=args.decimal, encoding=args.encoding)


def cli_message(message: str, *, flags=None, file: str | None = None) -> str:
    """An API error message in the command line's words: options as flags, rows as lines.

    Data rows are numbered as a spreadsheet shows them: the header is line 1, so the row with
    index 0 is on line 2.
    """
    for option, flag in (flags or {}).items():
        message = message.replace(f"(the {option})", f"({flag})")
        message = re.sub(rf"\b{option}=(?=[\w'\"])", f"{flag} ", message)
        message = re.sub(rf"\b{option}=", flag, message)
        message = re.sub(rf"\b{option} must\b", f"{flag} must", message)
    if file:
        name = Path(file).name
        message = re.sub(r"\brow (\d+)\b", lambda m: f"line {int(m.group(1)) + 2} of {name}",
                         message)
    return message


# -- commands -------------------------------------------------------------------------------
def cmd_km(args) -> int:
    import warnings

    from .report import write_report
    from .report.curves import PublishedCurves, kaplan_meier_section
    from .survival import KaplanMeier

    relation = _lazy_file(args)
    data = _read(args) if relation is None else relation

    def fit(data):
        plan = KaplanMeier(duration=args.duration, event=args.event, group=args.group,
                           ci_method=args.conf_type, conf_level=args.conf_level,
                           event_value=_event_value(args, data), curve=args.curve)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return plan.fit(data)

    try:
        with _ScanProgress(not (args.quiet or args.json), f"reading {Path(args.file).name}"):
            res = fit(data)
    except DataError:
        if relation is None or Path(args.file).stat().st_size > SPREADSHEET_BYTES:
            raise
        res = fit(_read(args))  # a small file: pandas' error names spreadsheet lines
    times = _parse_times(args.times)
    shown = PublishedCurves(res, args.suppress)
    if args.json:
        out = shown.to_dict()
        out["at"] = shown.at(times).drop(columns="n_censor")
        out["quantiles"] = shown.quantiles([0.25, 0.5, 0.75])
        if len(res.groups) > 1:
            lr = res.logrank()
            out["logrank"] = {"chisq": lr.chisq, "df": lr.df, "p_value": lr.p_value}
        _print_json(out)
    else:
        _print_km(res, shown, times, args.suppress)
    if args.out:
        section = kaplan_meier_section(res, threshold=args.suppress)
        path = write_report(args.out, [section], title="Kaplan–Meier analysis",
                            subtitle=f"Data: {Path(args.file).name}", suppress_below=args.suppress)
        _say(f"report written to {path}", err=True)
    return 0


def _event_value(args, data):
    """``--event-value`` as a number when the event column holds numbers (the flag is text)."""
    import pandas as pd

    from .engine import as_table

    value = args.event_value
    columns = data.columns if isinstance(data, pd.DataFrame) else as_table(data).schema
    if value is None or args.event not in columns:
        return value
    if isinstance(data, pd.DataFrame):
        kind = data[args.event].dtype.kind
    else:
        dtype = columns[args.event]
        kind = "i" if dtype.is_integer() else "f" if dtype.is_float() else ""
    if kind and kind in "iuf":
        try:
            return float(value) if kind == "f" else int(value)
        except ValueError:
            pass
    return value


def _published(table, counts, threshold):
    from .disclosure import published_table

    return published_table(table, counts, threshold)


def _print_km(res, shown, times, threshold) -> None:
    from .base import Summary

    what = "Cumulative incidence (1 - Kaplan-Meier)" if res.curve == "incidence" \
        else "Kaplan-Meier survival"
    numbers = shown.numbers().merge(shown.quantiles([0.5]).drop(columns="quantile"),
                                    on="group", how="left")
    at = shown.at(times)
    at = at[[c for c in ("group", "time", "as_of", "n_risk", "estimate", "conf_low", "conf_high")
             if c in at.columns]]
    header = (("duration", res.estimator.duration), ("event", res.estimator.event),
              ("groups", res.estimator.group or "(none)"),
              ("small counts", f"shown as <{threshold}" if threshold > 1 else "not suppressed"))
    summary = Summary(title=what, header=header, tables=(
        ("People, events and median time (estimate, conf_low, conf_high)",
         _published(numbers, ("n_obs", "n_events"), threshold)),
        ("At horizons", _published(at, ("n_risk",), threshold))),
        notes=shown.notes() + tuple(res.warnings))
    _say(str(summary))
    if len(res.groups) > 1:
        lr = res.logrank()
        _say(f"\nLog-rank test: chi-squared {lr.chisq:.4g} on {lr.df} df, p = {lr.p_value:.4g}")


#: DiD plan option -> the flag that sets it
DID_FLAGS = {"outcome": "--outcome", "unit": "--unit", "time": "--time",
             "treatment": "--treatment", "first_treated": "--first-treated",
             "cluster": "--cluster", "fixed_effects": "--fixed-effects",
             "covariates": "--covariates", "conf_level": "--conf-level", "reps": "--reps",
             "seed": "--seed", "inference": "--inference"}
def _did_data(args):
    """The did command's data: read in place by the engine where it can, else by pandas."""
    relation = _lazy_file(args)
    return _read(args) if relation is None else relation


def _did_inference(args):
    from .inference import ConleyTaber, Randomization, WildBootstrap

    if args.inference is None:
        if args.reps is not None or args.seed is not None:
            raise DataError("--reps and --seed set the resampling; add --inference wild, "
                            "randomization or conley-taber")
        return None
    spec = {"wild": WildBootstrap, "randomization": Randomization,
            "conley-taber": ConleyTaber}[args.inference]
    opts = {k: v for k, v in (("reps", args.reps), ("seed", args.seed)) if v is not None}
    return spec(progress=not args.quiet, **opts)


class _ScanProgress:
    """A progress bar for DuckDB's scans (stderr, after 2 s, on a terminal, unless quiet).

    DuckDB's own bar prints to stdout, which would corrupt ``--json``; we read its query
    progress instead and draw a tqdm bar on stderr.
    """

    def __init__(self, enabled: bool, desc: str):
        self.enabled, self.desc = enabled and sys.stderr.isatty(), desc

    def __enter__(self):
        import threading

        from tqdm.auto import tqdm

        from .engine import connection

        if not self.enabled:
            return self
        con = connection()
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false;"
                    " SET progress_bar_time = 0")
        self._stop = threading.Event()
        bar = tqdm(total=100, desc=self.desc, unit="%", delay=2.0, leave=False,
                   bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")

        def poll():
            while not self._stop.wait(0.2):
                done = con.query_progress()
                if done >= 0:
                    bar.n = min(100.0, done)
                    bar.refresh()
            bar.close()

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            from .engine import connection

            self._stop.set()
            self._thread.join()
            connection().execute("RESET enable_progress_bar; RESET enable_progress_bar_print;"
                                 " RESET progress_bar_time")
        return False


def cmd_did(args) -> int:
    import warnings

    from .did import DiD

    fixed = tuple(f.strip() for f in args.fixed_effects.split(",") if f.strip())
    covariates = tuple(c.strip() for c in (args.covariates or "").split(",") if c.strip())
    try:
        est = DiD(outcome=args.outcome, unit=args.unit, time=args.time,
                  treatment=args.treatment, first_treated=args.first_treated,
                  cluster=args.cluster, fixed_effects=fixed, covariates=covariates,
                  conf_level=args.conf_level, panel=not args.repeated_cross_sections,
                  inference=_did_inference(args))
        data = _did_data(args)
        with warnings.catch_warnings(record=True) as caught, \
                _ScanProgress(not args.quiet and not args.json, f"reading {Path(args.file).name}"):
            warnings.simplefilter("always")
            res = est.fit(data)
            # inside the bar: the within R² of an engine fit is one more scan, run when asked
            out = res.to_dict() if args.json else str(res.summary())
    except CausalipsError as exc:
        raise type(exc)(cli_message(str(exc), flags=DID_FLAGS)) from None
    if args.json:
        out["notes"] = list(res.inference_notes)
        _print_json(out)
    else:
        _say(out)
    for w in caught:
        if not args.json and str(w.message) not in res.warnings:
            _say(f"warning: {w.message}", err=True)
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    path, lines = run_demo(args.out, suppress_below=args.suppress,
                           progress=not (args.quiet or args.json))
    if args.json:
        _print_json({"report": str(path), "summary": lines})
    else:
        _say("causalips demo (synthetic data calibrated to published IPS studies)")
        for line in lines:
            _say(line)
        _say(f"\nHTML report: {path}")
    return 0


def cmd_replicate(args) -> int:
    from .replication import cases, replicate

    if args.name is None:
        for name, case in cases().items():
            _say(f"{name}: {case.title}")
        return 0
    res = replicate(args.name)
    if args.json:
        _print_json(res.to_dict())
    else:
        _say(str(res))
    return 0


def cmd_report(args) -> int:
    from .report.config_report import config_report

    path = config_report(args.data, args.config, args.out, tables=args.tables, sep=args.sep,
                         decimal=args.decimal, sheet=args.sheet, encoding=args.encoding)
    _say(f"report written to {path}", err=True)
    if args.tables:
        _say(f"tables written to {args.tables}", err=True)
    return 0


# -- parser ---------------------------------------------------------------------------------
def _file_options(parser) -> None:
    group = parser.add_argument_group("reading the file")
    group.add_argument("--sep", default=None,
                       help="column separator of a text file (default: detected; e.g. ';' or tab)")
    group.add_argument("--decimal", default=None, choices=[".", ","],
                       help="decimal mark of a text file (default: detected)")
    group.add_argument("--encoding", default="utf-8", help="text encoding (default: %(default)s)")
    group.add_argument("--sheet", default=None, help="Excel sheet name (default: the first)")


FILE_TYPES = ".csv/.tsv, .parquet, .xlsx, Stata .dta, SAS .sas7bdat/.xpt, SPSS .sav"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="causalips",
        description="Causal-impact evaluation of supported employment (IPS): survival curves, "
        "difference-in-differences, site comparison, economics. Reports are self-contained HTML "
        "with small counts suppressed.",
    )
    parser.add_argument("--version", action="version", version=f"causalips {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    suppress = {"type": _threshold, "default": DEFAULT_THRESHOLD,
                "help": "counts from 1 to N-1 are not published, in print, JSON or report "
                        "(default %(default)s; 0 = off, for internal use)"}

    demo = sub.add_parser("demo", help="run the analyses on bundled synthetic data and write an HTML report")
    demo.add_argument("--out", default="causalips-report", help="folder for the report (default: %(default)s)")
    demo.add_argument("--suppress", **suppress)
    demo.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    demo.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    demo.set_defaults(func=cmd_demo)

    km = sub.add_parser("km", help=f"Kaplan-Meier curves from a data file ({FILE_TYPES})")
    km.add_argument("file", help=f"data file ({FILE_TYPES}), one row per person")
    km.add_argument("--duration", required=True, help="column with time to event or censoring")
    km.add_argument("--event", required=True, help="column with the event indicator")
    km.add_argument("--event-value", default=None, help="value of --event meaning the event (if not 0/1)")
    km.add_argument("--group", default=None, help="column with groups to compare")
    km.add_argument("--conf-type", default="log", choices=["log", "log-log", "plain"])
    km.add_argument("--conf-level", type=float, default=0.95)
    km.add_argument("--curve", default="survival", choices=["survival", "incidence"],
                    help="report S(t) or the share with the event 1-S(t)")
    km.add_argument("--times", default=None, help="horizons, comma-separated (default 91,182,273,365)")
    km.add_argument("--json", action="store_true", help="print the published result as JSON")
    km.add_argument("--out", default=None, help="also write an HTML report to this file")
    km.add_argument("--suppress", **suppress)
    km.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _file_options(km)
    km.set_defaults(func=cmd_km)

    did = sub.add_parser("did", help="difference-in-differences (two-way fixed effects, cluster-"
                         "robust) from a data file; Parquet and CSV are read in place by DuckDB")
    did.add_argument("file", help=f"data file or glob ({FILE_TYPES}), one row per unit "
                     "and period")
    did.add_argument("--outcome", required=True, help="column with the outcome")
    did.add_argument("--unit", required=True, help="column with the unit (person) id")
    did.add_argument("--time", required=True, help="column with the period (e.g. year)")
    timing = did.add_mutually_exclusive_group(required=True)
    timing.add_argument("--treatment", default=None, help="0/1 exposure column")
    timing.add_argument("--first-treated", default=None,
                        help="first exposed period per unit (empty, 0 or inf = never)")
    did.add_argument("--cluster", default=None,
                     help="cluster column (e.g. municipality; default: the unit)")
    did.add_argument("--fixed-effects", default="unit,time",
                     help="comma-separated: unit, time, cluster (default: %(default)s)")
    did.add_argument("--covariates", default=None, help="comma-separated control columns")
    did.add_argument("--repeated-cross-sections", action="store_true",
                     help="different people each period: --unit is the level where timing is set")
    did.add_argument("--inference", default=None,
                     choices=["wild", "randomization", "conley-taber"],
                     help="resampling p-values and intervals (default: analytic CR1, t(G-1))")
    did.add_argument("--reps", type=int, default=None, help="resampling draws")
    did.add_argument("--seed", type=int, default=None, help="seed of the resampling")
    did.add_argument("--conf-level", type=float, default=0.95)
    did.add_argument("--json", action="store_true", help="print the result as JSON")
    did.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _file_options(did)
    did.set_defaults(func=cmd_did)

    rep = sub.add_parser("replicate", help="list or run the published-study replication cases")
    rep.add_argument("name", nargs="?", default=None, help="case name (omit to list them)")
    rep.add_argument("--json", action="store_true")
    rep.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    rep.set_defaults(func=cmd_replicate)

    report = sub.add_parser("report", help="no-code report: a data file + a TOML/YAML config -> HTML")
    report.add_argument("data", help=f"data file ({FILE_TYPES}), one row per person or per site")
    report.add_argument("--config", required=True,
                        help="TOML or YAML file naming the columns and analyses "
                        "(see examples/site_report.toml)")
    report.add_argument("--out", default="report.html", help="HTML file to write (default: %(default)s)")
    report.add_argument("--tables", default=None, metavar="DIR",
                        help="also write every table as CSV into DIR (suppressed as in the HTML)")
    report.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    _file_options(report)
    report.set_defaults(func=cmd_report)
    return parser


def _run(args) -> int:
    try:
        return args.func(args)
    except CausalipsError as exc:
        flags = KM_FLAGS if args.command == "km" else {k: v for k, v in KM_FLAGS.items()
                                                        if k in ("sep", "decimal", "encoding",
                                                                 "sheet")}
        file = getattr(args, "file", None) or getattr(args, "data", None)
        _say(f"causalips: error: {cli_message(str(exc), flags=flags, file=file)}", err=True)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        raise  # the reader went away: main() stops quietly
    except OSError as exc:
        _say(f"causalips: error: {exc}", err=True)
        return EXIT_BAD_INPUT


def main(argv=None) -> int:
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    quiet = getattr(args, "quiet", False) and "TQDM_DISABLE" not in os.environ
    if quiet:
        os.environ["TQDM_DISABLE"] = "1"  # every tqdm bar, whichever estimator draws it
    try:
        return _run(args)
    except BrokenPipeError:
        # the reader went away (``causalips km ... --json | head``): stop quietly, and point
        # stdout at nothing so Python's own flush at exit cannot complain either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        _say("causalips: interrupted", err=True)
        return 130
    finally:
        if quiet:
            del os.environ["TQDM_DISABLE"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
