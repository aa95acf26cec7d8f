"""The report config: reading a TOML/YAML file and checking every key's name and type.

A policy analyst writes the config by hand; each mistake gets one line naming the key, what it
should be and what was given (a list or ``~`` where one column name is expected, ``by: yes``,
a list as the title, a file that is not UTF-8, a folder given as the config). See
:mod:`causalips.report.config_report` for what each section runs.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..disclosure import DEFAULT_THRESHOLD, check_threshold
from ..errors import SpecificationError

# The kind of value of every key: "column" (one column name), "columns" (a name or a list of
# names), "labels" (values of a column: text or numbers), "text", "flag" (true/false),
# "number", "numbers" (a list), "date", "only" ({column, value}), "count" (whole number >= 0).
_IPS_GROW = {"ips_grow": "flag", "status": "column", "in_work": "labels",
             "education": "labels", "unemployed": "labels"}
TOP_KEYS = {"title": "text", "subtitle": "text", "banner": "text", "suppress_below": "count",
            "drop_missing": "flag"}
SECTIONS: dict[str, dict[str, str]] = {
    "reach": {"participant": "column", "eligible": "number", "by": "columns", "ci": "text",
              "ci_method": "text", "only": "only"},
    "representativeness": {"source": "column", "reference": "label", "by": "columns",
                           "age": "column", "correction": "flag", "weight": "column"},
    "outcomes": {"outcome": "column", "outcome_date": "column", "by": "columns",
                 "adjust": "columns", "only": "only", "weight": "column", "ci": "text",
                 "ci_method": "text", **_IPS_GROW},
    "funnel": {"site": "column", "numerator": "column", "denominator": "column",
               "outcome": "column", "outcome_date": "column", "overdispersion": "text",
               "method": "text", "limits": "numbers", "case_mix": "columns", "only": "only",
               **_IPS_GROW},
    "time_to_job": {"start": "column", "event": "column", "end": "column", "cutoff": "date",
                    "by": "columns", "only": "only", **_IPS_GROW},
    "productivity": {"site": "column", "people": "column", "outcomes": "column",
                     "fte": "column", "months": "number", "stage": "text", "caseload": "column"},
    "fidelity": {"site": "column", "fidelity": "column", "numerator": "column",
                 "denominator": "column"},
}
REQUIRED = {
    "representativeness": ("source", "by"),
    "outcomes": ("by",),
    "funnel": ("site",),
    "time_to_job": ("start", "event", "cutoff"),
    "productivity": ("site", "people", "outcomes", "fte"),
    "fidelity": ("site", "fidelity", "numerator", "denominator"),
}
#: IPS Grow status labels when the config does not name them
DEFAULT_STATUS_LABELS = {"in_work": ("in_work",), "education": ("education",),
                         "unemployed": ("unemployed",)}


def load_config(path: str | Path) -> dict:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) report config and check it."""
    p = Path(path)
    if not p.exists():
        raise SpecificationError(f"config file not found: {path}")
    if p.is_dir():
        raise SpecificationError(f"config {path} is a folder; give the .toml or .yaml file")
    suffix = p.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise SpecificationError(f"config {p.name}: use a .toml or .yaml file; got {suffix!r}")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecificationError(f"config {p.name} is not UTF-8 text (byte "
                                 f"{exc.object[exc.start]:#04x} at position {exc.start}); "
                                 "save it as UTF-8") from None
    return check_config(_parse(text, suffix, p.name), name=p.name)


def _parse(text: str, suffix: str, name: str):
    if suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecificationError(f"config {name}: invalid TOML ({exc})") from None
    import yaml

    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        msg = " ".join(str(exc).split())
        raise SpecificationError(f"config {name}: invalid YAML ({msg})") from None


def _unknown(key: str, allowed, where: str, name: str) -> SpecificationError:
    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return SpecificationError(
        f"config {name}: unknown {where} {key!r}{hint}; allowed: {', '.join(sorted(allowed))}")


def check_config(config: Any, *, name: str = "config") -> dict:
    """Refuse unknown sections and keys, values of the wrong type and missing required keys."""
    if not isinstance(config, Mapping):
        raise SpecificationError(f"config {name}: expected a table of settings at the top level")
    config = dict(config)
    for key, value in config.items():
        if key in SECTIONS:
            _check_section(key, value, name)
        elif key in TOP_KEYS:
            _check_value(value, TOP_KEYS[key], key, name)
        else:
            raise _unknown(key, set(TOP_KEYS) | set(SECTIONS), "setting or section", name)
    if not any(k in SECTIONS for k in config):
        raise SpecificationError(
            f"config {name}: no analyses; add at least one of "
            + ", ".join(f"[{s}]" for s in SECTIONS))
    check_threshold(config.get("suppress_below", DEFAULT_THRESHOLD),
                    name=f"config {name}: suppress_below")
    if "reach" in config and not ({"participant", "eligible"} & set(config["reach"])):
        raise SpecificationError(f"config {name}: [reach] needs participant = <0/1 column> or "
                                 "eligible = <number eligible>")
    return config


def _check_section(section: str, value, name: str) -> None:
    if not isinstance(value, Mapping):
        raise SpecificationError(f"config {name}: [{section}] must be a table of settings; got "
                                 f"{_shown(value)}")
    keys = SECTIONS[section]
    for sub, item in value.items():
        if sub not in keys:
            raise _unknown(sub, keys, f"key in [{section}]", name)
        _check_value(item, keys[sub], f"[{section}] {sub}", name)
    for req in REQUIRED.get(section, ()):
        if req not in value:
            raise SpecificationError(f"config {name}: [{section}] needs {req} = ...")
    if value.get("ips_grow") and "status" not in value and section != "funnel":
        raise SpecificationError(f"config {name}: [{section}] ips_grow = true needs status = "
                                 "<column with the status at first contact>")


def _shown(value) -> str:
    if value is None:
        return "nothing (~ or an empty value)"
    kind = {list: "a list", dict: "a table", bool: "true/false"}.get(type(value))
    text = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
    return f"{kind} {text}" if kind else text


_WANTS = {
    "column": "one column name (text)",
    "columns": "a column name or a list of column names",
    "labels": "a value or a list of values (text or numbers)",
    "label": "one value (text or a number)",
    "text": "text",
    "flag": "true or false",
    "number": "a number",
    "numbers": "a list of numbers",
    "date": "a date (e.g. \"2024-02-27\")",
    "only": "{ column = ..., value = ... }",
    "count": "a whole number >= 0",
}


def _is_scalar(v) -> bool:
    return isinstance(v, str | int | float) and not isinstance(v, bool)


def _valid(value, kind: str) -> bool:
    checks = {
        "column": lambda v: isinstance(v, str) and v != "",
        "columns": lambda v: (isinstance(v, str) and v != "") or (
            isinstance(v, list) and len(v) > 0 and all(isinstance(x, str) and x for x in v)),
        "labels": lambda v: _is_scalar(v) or (isinstance(v, list) and all(map(_is_scalar, v))),
        "label": _is_scalar,
        "text": lambda v: isinstance(v, str),
        "flag": lambda v: isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "numbers": lambda v: isinstance(v, list) and len(v) > 0 and all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in v),
        "date": lambda v: isinstance(v, str | _dt.date),
        "only": lambda v: isinstance(v, Mapping) and set(v) == {"column", "value"}
        and isinstance(v["column"], str) and _is_scalar(v["value"]),
        "count": lambda v: isinstance(v, int) and not isinstance(v, bool),
    }
    return checks[kind](value)


def _check_value(value, kind: str, key: str, name: str) -> None:
    if not _valid(value, kind):
        raise SpecificationError(f"config {name}: {key} must be {_WANTS[kind]}; got "
                                 f"{_shown(value)}")


def as_list(value) -> list:
    """A config value that may be one item or a list, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def status_labels(cfg: Mapping) -> dict[str, tuple]:
    """The in-work / education / unemployed labels a section maps the status column with."""
    return {key: tuple(as_list(cfg[key])) if key in cfg else default
            for key, default in DEFAULT_STATUS_LABELS.items()}


__all__ = ["load_config", "check_config", "SECTIONS", "REQUIRED", "TOP_KEYS", "as_list",
           "status_labels"]
