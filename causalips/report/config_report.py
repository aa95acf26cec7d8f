"""The no-code report: a data file plus a small TOML/YAML config -> one self-contained HTML file.

The config names the columns and the analyses; every analysis is one of the library's
estimators, so the report shows exactly what the API gives. Each table section is optional::

    title = "IPS service report"
    suppress_below = 5                 # counts 1-4 hidden; totals cannot reveal them

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
    status = "status_at_contact"
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

import difflib
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..base import ReportSection
from ..disclosure import DEFAULT_THRESHOLD, SECONDARY_NOTE, suppress_with_totals
from ..errors import DataError, SpecificationError

TOP_KEYS = {"title", "subtitle", "banner", "suppress_below"}
SECTIONS: dict[str, set[str]] = {
    "reach": {"participant", "eligible", "by", "ci", "only"},
    "representativeness": {"source", "reference", "by", "age", "correction", "weight"},
    "outcomes": {"outcome", "outcome_date", "by", "ips_grow", "status", "in_work", "education",
                 "adjust", "only", "weight", "ci"},
    "funnel": {"site", "numerator", "denominator", "outcome", "outcome_date", "overdispersion",
               "method", "limits", "case_mix", "only", "ips_grow", "status", "in_work",
               "education"},
    "time_to_job": {"start", "event", "end", "cutoff", "by", "only", "ips_grow", "status",
                    "in_work", "education"},
    "productivity": {"site", "people", "outcomes", "fte", "months", "stage", "caseload"},
    "fidelity": {"site", "fidelity", "numerator", "denominator"},
}
REQUIRED = {
    "representativeness": ("source", "by"),
    "outcomes": ("by",),
    "funnel": ("site",),
    "time_to_job": ("start", "event", "cutoff"),
    "productivity": ("site", "people", "outcomes", "fte"),
    "fidelity": ("site", "fidelity", "numerator", "denominator"),
}


# -- reading --------------------------------------------------------------------------------
def load_config(path: str | Path) -> dict:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) report config and check its keys."""
    p = Path(path)
    if not p.exists():
        raise SpecificationError(f"config file not found: {path}")
    suffix = p.suffix.lower()
    text = p.read_text(encoding="utf-8")
    if suffix == ".toml":
        import tomllib

        try:
            config = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecificationError(f"config {p.name}: invalid TOML ({exc})") from None
    elif suffix in (".yaml", ".yml"):
        import yaml

        try:
            config = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            msg = " ".join(str(exc).split())
            raise SpecificationError(f"config {p.name}: invalid YAML ({msg})") from None
    else:
        raise SpecificationError(f"config {p.name}: use a .toml or .yaml file; got {suffix!r}")
    return check_config(config, name=p.name)


def _unknown(key: str, allowed, where: str, name: str) -> SpecificationError:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return SpecificationError(
        f"config {name}: unknown {where} {key!r}{hint}; allowed: {', '.join(sorted(allowed))}")


def check_config(config: Any, *, name: str = "config") -> dict:
    """Refuse unknown sections and keys and missing required keys, naming them."""
    if not isinstance(config, Mapping):
        raise SpecificationError(f"config {name}: expected a table of settings at the top level")
    config = dict(config)
    for key, value in config.items():
        if key in SECTIONS:
            if not isinstance(value, Mapping):
                raise SpecificationError(f"config {name}: [{key}] must be a table of settings")
            for sub in value:
                if sub not in SECTIONS[key]:
                    raise _unknown(sub, SECTIONS[key], f"key in [{key}]", name)
            for req in REQUIRED.get(key, ()):
                if req not in value:
                    raise SpecificationError(f"config {name}: [{key}] needs {req} = ...")
        elif key not in TOP_KEYS:
            raise _unknown(key, TOP_KEYS | set(SECTIONS), "setting or section", name)
    if not any(k in SECTIONS for k in config):
        raise SpecificationError(
            f"config {name}: no analyses; add at least one of "
            + ", ".join(f"[{s}]" for s in SECTIONS))
    supp = config.get("suppress_below", DEFAULT_THRESHOLD)
    if not isinstance(supp, int) or isinstance(supp, bool) or supp < 0:
        raise SpecificationError(f"config {name}: suppress_below must be a whole number >= 0; "
                                 f"got {supp!r}")
    if "reach" in config and not ({"participant", "eligible"} & set(config["reach"])):
        raise SpecificationError(f"config {name}: [reach] needs participant = <0/1 column> or "
                                 "eligible = <number eligible>")
    return config


def read_data(path: str | Path) -> pd.DataFrame:
    """Read the CSV / Parquet / Excel data file (one-line errors)."""
    from ..cli import read_table

    return read_table(str(path))


# -- helpers ----------------------------------------------------------------------------------
def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _only(df: pd.DataFrame, spec, section: str) -> pd.DataFrame:
    if not spec:
        return df
    if not isinstance(spec, Mapping) or set(spec) != {"column", "value"}:
        raise SpecificationError(f"config: [{section}] only must be {{ column = ..., value = ... }}")
    col, value = spec["column"], spec["value"]
    if col not in df.columns:
        from .._checks import check_columns

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


def _ips_grow(df: pd.DataFrame, cfg: Mapping, section: str):
    if not cfg.get("ips_grow"):
        return df, None
    from ..sites import ips_grow_denominator

    if "status" not in cfg:
        raise SpecificationError(f"config: [{section}] ips_grow = true needs status = <column>")
    return ips_grow_denominator(df, status=cfg["status"],
                                in_work=_as_list(cfg.get("in_work", ["in_work"])),
                                education=_as_list(cfg.get("education", ["education"])))


def protect_table(table: pd.DataFrame, counts, threshold: int, *, line_by=None) -> pd.DataFrame:
    """Secondary suppression of the count columns; figures derived from a hidden count in the
    same row (rates, percentages, CIs) are hidden too."""
    counts = [c for c in counts if c in table.columns]
    if not counts or not threshold or threshold <= 1:
        return table
    out = suppress_with_totals(table, counts, threshold, line_by=line_by)
    hidden = np.zeros(len(out), dtype=bool)
    for c in counts:
        hidden |= out[c].map(lambda v: isinstance(v, str) and v.startswith("<")).to_numpy()
    if hidden.any():
        for c in out.columns:
            if c in counts or not pd.api.types.is_float_dtype(table[c]):
                continue
            col = out[c].astype(object)
            col[hidden] = "<suppressed>"
            out[c] = col
    return out


def _protected(section: ReportSection, threshold: int, line_by=None) -> ReportSection:
    tables = []
    any_hidden = False
    for caption, table, counts in section.tables:
        new = protect_table(table, counts, threshold, line_by=line_by
                            if line_by in table.columns else None)
        any_hidden |= not new.equals(table)
        tables.append((caption, new, counts))
    notes = section.notes + ((SECONDARY_NOTE,) if any_hidden else ())
    return ReportSection(title=section.title, paragraphs=section.paragraphs,
                         tables=tuple(tables), figures=section.figures, notes=notes)


# -- the analyses -------------------------------------------------------------------------------
def build_sections(data: pd.DataFrame, config: Mapping) -> tuple[list[ReportSection], list]:
    """Run the analyses the config names; return (report sections, fitted results)."""
    from ..sites import (
        FidelityOutcome,
        FunnelPlot,
        NumericComparison,
        OutcomeEquity,
        Productivity,
        Reach,
        Representativeness,
        RiskAdjustedComparison,
        site_counts,
    )

    config = check_config(config)
    threshold = config.get("suppress_below", DEFAULT_THRESHOLD)
    sections: list[ReportSection] = []
    results: list = []

    def add(result, title=None, line_by=None):
        section = result.report_section()
        if title:
            section = ReportSection(title=title, paragraphs=section.paragraphs,
                                    tables=section.tables, figures=section.figures,
                                    notes=section.notes)
        sections.append(_protected(section, threshold, line_by))
        results.append(result)

    if "reach" in config:
        cfg = config["reach"]
        df = _only(data, cfg.get("only"), "reach")
        if "participant" in cfg:
            for group in _as_list(cfg.get("by")) or [None]:  # by-group tables include overall
                res = Reach(participant=cfg["participant"], group=group,
                            ci=cfg.get("ci", "wilson")).fit(df)
                add(res, "Reach" + (f" by {group}" if group else ""))
        else:
            eligible = cfg["eligible"]
            if not isinstance(eligible, int | float) or eligible < len(df):
                raise SpecificationError(f"config: [reach] eligible must be a number >= the "
                                         f"{len(df)} rows (participants); got {eligible!r}")
            table = pd.DataFrame({"participant": [1, 0],
                                  "people": [len(df), eligible - len(df)]})
            add(Reach(participant="participant", weight="people",
                      ci=cfg.get("ci", "wilson")).fit(table), "Reach")

    if "representativeness" in config:
        cfg = config["representativeness"]
        for group in _as_list(cfg["by"]):
            res = Representativeness(group=group, source=cfg["source"], weight=cfg.get("weight"),
                                     reference_source=cfg.get("reference"),
                                     correction=bool(cfg.get("correction", False)),
                                     seed=1).fit(data)
            add(res, line_by="source")
        if "age" in cfg:
            add(NumericComparison(value=cfg["age"], source=cfg["source"],
                                  reference_source=cfg.get("reference")).fit(data))

    if "outcomes" in config:
        cfg = config["outcomes"]
        df = _only(data, cfg.get("only"), "outcomes")
        df, outcome = _with_outcome(df, cfg, "outcomes")
        for group in _as_list(cfg["by"]):
            res = OutcomeEquity(outcome=outcome, group=group, weight=cfg.get("weight"),
                                adjust=_as_list(cfg.get("adjust")) or None,
                                denominator="ips_grow" if cfg.get("ips_grow") else None,
                                status=cfg.get("status"),
                                in_work=_as_list(cfg.get("in_work", ["in_work"])),
                                education=_as_list(cfg.get("education", ["education"])),
                                ci=cfg.get("ci", "wilson"), seed=1).fit(df)
            add(res)

    if "funnel" in config:
        cfg = dict(config["funnel"])
        options = {k: cfg[k] for k in ("overdispersion", "method") if k in cfg}
        if "limits" in cfg:
            options["limits"] = tuple(cfg["limits"])
        if "numerator" in cfg or "denominator" in cfg:
            if not ("numerator" in cfg and "denominator" in cfg):
                raise SpecificationError("config: [funnel] needs both numerator and denominator "
                                         "for a site-level table")
            table = data
            numerator, denominator = cfg["numerator"], cfg["denominator"]
        else:
            source = config.get("outcomes", {})
            for key in ("outcome", "outcome_date", "only", "ips_grow", "status", "in_work",
                        "education"):
                if key not in cfg and key in source:
                    cfg[key] = source[key]
            df = _only(data, cfg.get("only"), "funnel")
            df, _ = _ips_grow(df, cfg, "funnel")
            df, outcome = _with_outcome(df, cfg, "funnel")
            table = site_counts(df, site=cfg["site"], outcome=outcome)
            numerator, denominator = "numerator", "denominator"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = FunnelPlot(site=cfg["site"], numerator=numerator, denominator=denominator,
                             **options).fit(table)
        add(res)
        if cfg.get("case_mix") and "numerator" not in config["funnel"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                adj = RiskAdjustedComparison(site=cfg["site"], outcome=outcome,
                                             case_mix=_as_list(cfg["case_mix"]),
                                             **options).fit(df)
            add(adj)

    if "time_to_job" in config:
        sections.extend(_time_to_job(data, config["time_to_job"], threshold, results))

    if "productivity" in config:
        cfg = config["productivity"]
        add(Productivity(site=cfg["site"], people=cfg["people"], outcomes=cfg["outcomes"],
                         fte=cfg["fte"], months=cfg.get("months", 12.0),
                         stage=cfg.get("stage", "mature"), caseload=cfg.get("caseload")).fit(data))

    if "fidelity" in config:
        cfg = config["fidelity"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            add(FidelityOutcome(site=cfg["site"], fidelity=cfg["fidelity"],
                                numerator=cfg["numerator"],
                                denominator=cfg["denominator"]).fit(data))
    return sections, results


def _time_to_job(data, cfg, threshold, results) -> list[ReportSection]:
    from ..spells import durations_from_dates
    from ..survival import KaplanMeier

    df = _only(data, cfg.get("only"), "time_to_job")
    df, _ = _ips_grow(df, cfg, "time_to_job")
    spells = durations_from_dates(df, start=cfg["start"], event=cfg["event"], end=cfg.get("end"),
                                  cutoff=cfg["cutoff"], event_after_end="keep",
                                  duration_name="days", event_name="got_job")
    out = []
    for group in [None, *_as_list(cfg.get("by"))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            km = KaplanMeier(duration="days", event="got_job", group=group,
                             curve="incidence").fit(spells)
        results.append(km)
        title = "Time from first contact to job" + (f" by {group}" if group else "")
        out.append(km.report_section(title=title, suppress_below=threshold))
    return out


def config_report(data_path: str | Path, config_path: str | Path,
                  out_path: str | Path) -> Path:
    """Read the data and the config, run the analyses, write the HTML report; return its path.

    Example
    -------
    >>> from causalips.report.config_report import config_report
    >>> config_report("caseload.csv", "examples/site_report.toml", "report.html")  # doctest: +SKIP
    """
    from .html import write_report

    config = load_config(config_path)
    data = read_data(data_path)
    with warnings.catch_warnings():  # the warnings are notes in the report sections
        warnings.simplefilter("ignore")
        sections, _ = build_sections(data, config)
    threshold = config.get("suppress_below", DEFAULT_THRESHOLD)
    subtitle = config.get("subtitle") or f"Data: {Path(data_path).name}; config: " \
                                          f"{Path(config_path).name}"
    return write_report(out_path, sections, title=config.get("title", "IPS service report"),
                        subtitle=subtitle, banner=config.get("banner"), suppress_below=threshold)


__all__ = ["config_report", "load_config", "check_config", "build_sections", "protect_table"]
