"""The no-code report: a data file plus a small TOML/YAML config -> one self-contained HTML file.

The config names the columns and the analyses; every analysis is one of the library's
estimators, so the report shows exactly what the API gives. Each table section is optional::

    title = "IPS service report"
    suppress_below = 5                 # counts 1-4 hidden; totals cannot reveal them
    drop_missing = true                # drop rows missing a value an analysis needs (counted)

    [reach]                            # RE-AIM reach
    participant = "ips_user"           # 0/1 over the eligible caseload ...
    # eligible = 6165                  # ... or the number eligible (rows = participants)
    by = ["age_band"]

    [representativeness]               # IPS caseload vs the wider caseload
    source = "source"
    reference = "rest of caseload"
    by = ["age_band", "gender", "ethnicity", "diagnosis"]
    age = "age"

    [outcomes]                         # outcome rates by group
    outcome_date = "job_start"         # or outcome = "<0/1 column>"
    by = ["ethnicity", "diagnosis"]
    ips_grow = true                    # IPS Grow employment-rate denominator
    status = "status_at_contact"       # every value must be mapped:
    in_work = ["employed"]             #   in work at first contact (excluded)
    education = ["education"]          #   in education only (excluded)
    unemployed = ["unemployed"]        #   the denominator
    only = { column = "ips_user", value = 1 }

    [funnel]                           # site comparison
    site = "team"                      # person-level: outcome from [outcomes]
    # numerator = "jobs"               # site-level table instead
    # denominator = "referrals"
    overdispersion = "additive"

    [time_to_job]                      # Kaplan-Meier, where dates exist
    start = "first_contact"
    event = "job_start"
    end = "discharge"
    cutoff = "2024-02-27"

    [productivity]                     # site-level: per FTE specialist per year
    site = "site"
    people = "people"
    outcomes = "jobs"
    fte = "fte"

    [fidelity]                         # site-level: fidelity score vs outcome rate
    site = "site"
    fidelity = "ips25"
    numerator = "jobs"
    denominator = "people"

Problems with the file or the config raise :class:`~causalips.errors.DataError` or
:class:`~causalips.errors.SpecificationError` with a one-line message (the CLI prints it).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import ReportSection
from ..disclosure import DEFAULT_THRESHOLD
from ..errors import DataError, SpecificationError
from .config import as_list, check_config, load_config, status_labels
from .protect import protect_table, protected_section


def read_data(path: str | Path, **options) -> pd.DataFrame:
    """Read the data file (any format :func:`causalips.io.read_table` reads; one-line errors)."""
    from ..io import read_table

    return read_table(path, **options)


class _Run:
    """The sections and results of one report, and the rules every analysis follows."""

    def __init__(self, config: Mapping):
        self.config = config
        self.threshold = config.get("suppress_below", DEFAULT_THRESHOLD)
        self.drop_missing = bool(config.get("drop_missing", False))
        self.sections: list[ReportSection] = []
        self.results: list = []

    def complete(self, df: pd.DataFrame, columns, where: str) -> tuple[pd.DataFrame, tuple]:
        """With ``drop_missing = true``, the rows with every column present and a note of how
        many were dropped per column; otherwise ``df`` as it is (the estimator will refuse)."""
        columns = [c for c in dict.fromkeys(columns) if c and c in df.columns]
        if not self.drop_missing or not columns:
            return df, ()
        missing = df[columns].isna()
        rows = missing.any(axis=1).to_numpy()
        if not rows.any():
            return df, ()
        per_column = ", ".join(f"{c} {int(n)}" for c, n in missing.sum().items() if n)
        return df[~rows], (f"{int(rows.sum())} rows with missing values left out of {where} "
                           f"(drop_missing = true): {per_column}.",)

    def add(self, result, *, title=None, line_by=None, notes=()) -> None:
        section = result.report_section()
        self.sections.append(protected_section(section, self.threshold, result=result,
                                               line_by=line_by, title=title, notes=notes))
        self.results.append(result)

    def fit(self, estimator, df, columns, where, **add_options) -> None:
        df, notes = self.complete(df, columns, where)
        self.add(estimator.fit(df), notes=notes, **add_options)


# -- shared preparation -------------------------------------------------------------------------
def _only(df: pd.DataFrame, spec, section: str) -> pd.DataFrame:
    if not spec:
        return df
    from .._checks import check_columns

    col, value = spec["column"], spec["value"]
    check_columns(df, {f"[{section}] only column": col})
    out = df[df[col] == value]
    if out.empty:
        raise DataError(f"[{section}] only: no rows have {col} == {value!r}")
    return out


def _with_outcome(df: pd.DataFrame, cfg: Mapping, section: str) -> tuple[pd.DataFrame, str]:
    """Return the data and the 0/1 outcome column (made from a date column if asked)."""
    from .._checks import check_columns

    if "outcome" in cfg:
        check_columns(df, {f"[{section}] outcome": cfg["outcome"]})
        return df, cfg["outcome"]
    if "outcome_date" in cfg:
        col = cfg["outcome_date"]
        check_columns(df, {f"[{section}] outcome_date": col})
        name = f"{col} (recorded)"
        return df.assign(**{name: df[col].notna().astype(np.int64)}), name
    raise SpecificationError(f"config: [{section}] needs outcome = <0/1 column> or "
                             "outcome_date = <date column>")


def _count(values: pd.Series) -> str:
    counts = values.value_counts(dropna=False)
    return ", ".join(f"{v!r} ({n})" for v, n in counts.items())


def _mapped_status(df: pd.DataFrame, cfg: Mapping, section: str, run: _Run):
    """The status column recoded to in_work / education / unemployed by the config's labels.

    Every value must be mapped: an in-work label the config does not know would otherwise be
    counted as unemployed and lower the employment rate without a word.
    """
    from .._checks import check_columns

    status = cfg.get("status")
    if not cfg.get("ips_grow"):
        return df, None, ()
    if status is None:
        raise SpecificationError(f"config: [{section}] ips_grow = true needs status = <column>")
    check_columns(df, {f"[{section}] status": status})
    labels = status_labels(cfg)
    owners: dict = {}
    for key, values in labels.items():
        for v in values:
            if v in owners:
                raise SpecificationError(f"config: [{section}] the status value {v!r} is in both "
                                         f"{owners[v]} and {key}")
            owners[v] = key
    df, notes = run.complete(df, [status], f"[{section}]")
    values = df[status]
    if values.isna().any():
        raise DataError(f"[{section}] status column {status!r} has {int(values.isna().sum())} "
                        "missing values; fill them or set drop_missing = true in the config")
    unknown = ~values.isin(list(owners))
    if unknown.any():
        now = "; ".join(f"{k} = {list(v)!r}" for k, v in labels.items())
        raise DataError(
            f"[{section}] ips_grow = true, but status column {status!r} has values the config "
            f"does not map: {_count(values[unknown])}; values seen: {_count(values)}; add each "
            f"to in_work, education or unemployed in [{section}] (now {now})")
    name = f"{status} (IPS Grow)"
    return df.assign(**{name: values.map(owners).astype(str)}), name, notes


def _ips_grow(df: pd.DataFrame, cfg: Mapping, section: str, run: _Run):
    """Keep the people the IPS Grow employment rate counts (unemployed at first contact)."""
    df, mapped, notes = _mapped_status(df, cfg, section, run)
    if mapped is None:
        return df, notes
    from ..sites import ips_grow_denominator

    kept, _ = ips_grow_denominator(df, status=mapped, in_work=["in_work"],
                                   education=["education"], unemployed=["unemployed"])
    return kept, notes


# -- the analyses -------------------------------------------------------------------------------
def _reach(run: _Run, data, cfg) -> None:
    from ..sites import Reach

    df = _only(data, cfg.get("only"), "reach")
    ci = cfg.get("ci_method", cfg.get("ci", "wilson"))
    if "participant" in cfg:
        for group in as_list(cfg.get("by")) or [None]:  # by-group tables include overall
            run.fit(Reach(participant=cfg["participant"], group=group, ci_method=ci), df,
                    [cfg["participant"], group], "[reach]",
                    title="Reach" + (f" by {group}" if group else ""))
        return
    eligible = cfg["eligible"]
    if eligible < len(df):
        raise SpecificationError(f"config: [reach] eligible must be a number >= the "
                                 f"{len(df)} rows (participants); got {eligible!r}")
    table = pd.DataFrame({"participant": [1, 0], "people": [len(df), eligible - len(df)]})
    run.add(Reach(participant="participant", weight="people", ci_method=ci).fit(table), title="Reach")


def _representativeness(run: _Run, data, cfg) -> None:
    from ..inference import Bootstrap
    from ..sites import NumericComparison, Representativeness

    for group in as_list(cfg["by"]):
        estimator = Representativeness(category=group, group=cfg["source"],
                                       weight=cfg.get("weight"),
                                       reference=cfg.get("reference"),
                                       correction=bool(cfg.get("correction", False)),
                                       inference=Bootstrap(seed=1))
        run.fit(estimator, data, [group, cfg["source"], cfg.get("weight")],
                "[representativeness]")
    if "age" in cfg:
        run.fit(NumericComparison(value=cfg["age"], group=cfg["source"],
                                  reference=cfg.get("reference")),
                data, [cfg["age"], cfg["source"]], "[representativeness]")


def _outcomes(run: _Run, data, cfg) -> None:
    from ..inference import Bootstrap
    from ..sites import OutcomeEquity

    df = _only(data, cfg.get("only"), "outcomes")
    df, mapped, notes = _mapped_status(df, cfg, "outcomes", run)
    df, outcome = _with_outcome(df, cfg, "outcomes")
    adjust = as_list(cfg.get("adjust"))
    for group in as_list(cfg["by"]):
        estimator = OutcomeEquity(outcome=outcome, group=group, weight=cfg.get("weight"),
                                  adjust=adjust or None,
                                  denominator="ips_grow" if mapped else None, status=mapped,
                                  in_work=["in_work"], education=["education"],
                                  unemployed=["unemployed"],
                                  ci_method=cfg.get("ci_method", cfg.get("ci", "wilson")),
                                  inference=Bootstrap(seed=1))
        part, dropped = run.complete(df, [outcome, group, cfg.get("weight"), *adjust],
                                     f"[outcomes] by {group}")
        run.add(estimator.fit(part), notes=notes + dropped)


def _funnel(run: _Run, data, cfg) -> None:
    from ..sites import FunnelPlot, RiskAdjustedComparison, site_counts

    cfg = dict(cfg)
    options = {k: cfg[k] for k in ("overdispersion", "method") if k in cfg}
    if "limits" in cfg:
        options["limits"] = tuple(cfg["limits"])
    site = cfg["site"]
    if "numerator" in cfg or "denominator" in cfg:
        if not ("numerator" in cfg and "denominator" in cfg):
            raise SpecificationError("config: [funnel] needs both numerator and denominator "
                                     "for a site-level table")
        table, notes = run.complete(data, [site, cfg["numerator"], cfg["denominator"]],
                                    "[funnel]")
        numerator, denominator = cfg["numerator"], cfg["denominator"]
    else:
        source = run.config.get("outcomes", {})
        for key in ("outcome", "outcome_date", "only", "ips_grow", "status", "in_work",
                    "education", "unemployed"):
            if key not in cfg and key in source:
                cfg[key] = source[key]
        df = _only(data, cfg.get("only"), "funnel")
        df, notes = _ips_grow(df, cfg, "funnel", run)
        df, outcome = _with_outcome(df, cfg, "funnel")
        df, dropped = run.complete(df, [site, outcome, *as_list(cfg.get("case_mix"))],
                                   "[funnel]")
        notes += dropped
        table = site_counts(df, site=site, outcome=outcome)
        numerator, denominator = "numerator", "denominator"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = FunnelPlot(site=site, numerator=numerator, denominator=denominator,
                         **options).fit(table)
    run.add(res, notes=notes)
    if cfg.get("case_mix") and "numerator" not in cfg:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            adj = RiskAdjustedComparison(site=site, outcome=outcome,
                                         case_mix=as_list(cfg["case_mix"]), **options).fit(df)
        run.add(adj, notes=notes)


def _time_to_job(run: _Run, data, cfg) -> None:
    from ..spells import durations_from_dates
    from ..survival import KaplanMeier
    from .curves import kaplan_meier_section

    df = _only(data, cfg.get("only"), "time_to_job")
    df, notes = _ips_grow(df, cfg, "time_to_job", run)
    df, dropped = run.complete(df, [cfg["start"], *as_list(cfg.get("by"))], "[time_to_job]")
    spells = durations_from_dates(df, start=cfg["start"], event=cfg["event"], end=cfg.get("end"),
                                  cutoff=cfg["cutoff"], event_after_end="keep",
                                  duration_name="days", event_name="got_job")
    for group in [None, *as_list(cfg.get("by"))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            km = KaplanMeier(duration="days", event="got_job", group=group,
                             curve="incidence").fit(spells)
        run.results.append(km)
        title = "Time from first contact to job" + (f" by {group}" if group else "")
        section = kaplan_meier_section(km, threshold=run.threshold, title=title)
        run.sections.append(protected_section(section, run.threshold, notes=notes + dropped))


def _productivity(run: _Run, data, cfg) -> None:
    from ..sites import Productivity

    estimator = Productivity(site=cfg["site"], people=cfg["people"], outcomes=cfg["outcomes"],
                             fte=cfg["fte"], months=cfg.get("months", 12.0),
                             stage=cfg.get("stage", "mature"), caseload=cfg.get("caseload"))
    run.fit(estimator, data, [cfg[k] for k in ("site", "people", "outcomes", "fte")]
            + [cfg.get("caseload")], "[productivity]")


def _fidelity(run: _Run, data, cfg) -> None:
    from ..sites import FidelityOutcome

    columns = [cfg[k] for k in ("site", "fidelity", "numerator", "denominator")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run.fit(FidelityOutcome(site=cfg["site"], fidelity=cfg["fidelity"],
                                numerator=cfg["numerator"], denominator=cfg["denominator"]),
                data, columns, "[fidelity]")


ANALYSES = {"reach": _reach, "representativeness": _representativeness, "outcomes": _outcomes,
            "funnel": _funnel, "time_to_job": _time_to_job, "productivity": _productivity,
            "fidelity": _fidelity}


def build_sections(data: pd.DataFrame, config: Mapping) -> tuple[list[ReportSection], list]:
    """Run the analyses the config names; return (report sections, fitted results)."""
    run = _Run(check_config(config))
    for name, analysis in ANALYSES.items():
        if name in run.config:
            analysis(run, data, run.config[name])
    return run.sections, run.results


def config_report(data_path: str | Path, config_path: str | Path, out_path: str | Path, *,
                  tables: str | Path | None = None, **read_options) -> Path:
    """Read the data and the config, run the analyses, write the HTML report; return its path.

    ``tables`` names a folder to also write every table to as CSV, hidden cells as in the HTML.
    ``read_options`` go to :func:`causalips.io.read_table` (``sep``, ``decimal``, ``sheet``).

    Example
    -------
    >>> from causalips.report.config_report import config_report
    >>> config_report("caseload.csv", "examples/site_report.toml", "report.html")  # doctest: +SKIP
    """
    import matplotlib as mpl

    from .html import write_report
    from .tables import write_tables

    config = load_config(config_path)
    data = read_data(data_path, **read_options)
    with warnings.catch_warnings(), mpl.rc_context({"text.parse_math": False}):
        warnings.simplefilter("ignore")  # the warnings are notes in the report sections
        try:
            sections, _ = build_sections(data, config)
        except DataError as exc:
            if "missing" in str(exc) and not config.get("drop_missing"):
                raise DataError(f"{exc} (or set drop_missing = true in the config to leave "
                                "such rows out, counted in the report)") from None
            raise
    threshold = config.get("suppress_below", DEFAULT_THRESHOLD)
    subtitle = config.get("subtitle") or (f"Data: {Path(data_path).name}; config: "
                                          f"{Path(config_path).name}")
    if tables is not None:
        write_tables(tables, sections, suppress_below=threshold)
    return write_report(out_path, sections, title=config.get("title", "IPS service report"),
                        subtitle=subtitle, banner=config.get("banner"), suppress_below=threshold)


__all__ = ["config_report", "load_config", "check_config", "build_sections", "protect_table",
           "read_data"]
