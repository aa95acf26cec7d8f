"""What one result contributes to a publication table, read through the public interface only.

A result gives its estimates through ``tidy()``, its fit statistics through ``glance()``, its
plan through ``estimator.get_params()`` and its uncertainty through the ``inference`` column of
``tidy()`` or the header of ``summary()``. Anything absent is left blank, so results of every
estimator (and estimators restructured later) fit in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SpecificationError

#: where ``summary()`` states the uncertainty, in the order looked for
INFERENCE_KEYS = ("inference", "variance", "standard errors")
#: roles ``glance()["fixed_effects"]`` may name instead of columns
FE_ROLES = ("unit", "time", "cluster")


@dataclass(frozen=True)
class ModelColumn:
    """One result as a table column: estimates by term label, statistics, plan facts."""

    name: str
    estimates: pd.DataFrame  # label, estimate, std_error, statistic, p_value, conf_low, conf_high
    stats: dict
    outcome: str
    inference: str
    fixed_effects: tuple[str, ...]
    strata: tuple[str, ...]
    conf_level: float | None
    exponentiated: bool = False


def read_result(result, name: str, rename: dict) -> ModelColumn:
    """Read ``result`` into a :class:`ModelColumn` (terms renamed by ``rename``)."""
    if not (hasattr(result, "tidy") and hasattr(result, "glance")):
        raise SpecificationError(
            f"table() takes fitted results (with tidy() and glance()); model {name!r} is a "
            f"{type(result).__name__}: call .fit(data) first")
    tidy = result.tidy()
    glance = result.glance()
    stats = glance.iloc[0].to_dict() if len(glance) else {}
    params = _params(result)
    labels = [rename.get(t, t) for t in _term_labels(tidy)]
    dup = pd.Series(labels)[pd.Series(labels).duplicated()].tolist()
    if dup:
        raise SpecificationError(
            f"model {name!r}: two estimates would share the row {dup[0]!r} (check rename=)")
    cols = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]
    estimates = pd.DataFrame({"label": labels})
    for col in cols:
        estimates[col] = (pd.to_numeric(tidy[col], errors="coerce").to_numpy(dtype=float)
                          if col in tidy.columns else np.nan)
    return ModelColumn(
        name=name, estimates=estimates, stats=stats, outcome=_outcome(params),
        inference=_inference(result, tidy, stats, params), fixed_effects=_fixed_effects(stats, params),
        strata=_as_tuple(params.get("strata")), conf_level=_number(params.get("conf_level")))


def _params(result) -> dict:
    est = getattr(result, "estimator", None)
    try:
        return dict(est.get_params()) if est is not None else {}
    except Exception:  # a plan that cannot describe itself still tabulates
        return {}


def _term_labels(tidy: pd.DataFrame) -> list[str]:
    """``term``, prefixed by the other identifying columns when terms repeat (per group...)."""
    terms = tidy["term"].astype(str) if "term" in tidy.columns else pd.Series([""] * len(tidy))
    if not terms.duplicated().any():
        return terms.tolist()
    ids = [c for c in tidy.columns[: tidy.columns.get_loc("estimate")] if c != "term"]
    parts = [tidy[c].map(_plain) for c in ids] + [terms]
    return [" ".join(p for p in row if p) for row in zip(*parts)]


def _plain(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _outcome(params: dict) -> str:
    if params.get("outcome"):
        return str(params["outcome"])
    if params.get("duration") and params.get("event"):
        return f"Surv({params['duration']}, {params['event']})"
    return ""


def _inference(result, tidy: pd.DataFrame, stats: dict, params: dict) -> str:
    """How the uncertainty was computed, in a few words (and the cluster column)."""
    text = ""
    if "inference" in tidy.columns:
        shown = tidy.loc[np.isfinite(pd.to_numeric(tidy["std_error"], errors="coerce")),
                         "inference"].dropna()
        if len(shown):
            text = str(shown.iloc[0])
    if not text:
        try:
            header = dict(result.summary().header)
        except Exception:  # a summary that cannot be built leaves the row blank
            header = {}
        said = next((str(header[k]) for k in INFERENCE_KEYS if k in header), None)
        if said is not None:
            text = _first_clause(said)
        elif not _missing(stats.get("vcov")):
            text = str(stats["vcov"])
    cluster = params.get("cluster")
    if text and isinstance(cluster, str) and cluster not in text:
        text += f", clustered by {cluster}"
    return text


def _first_clause(text: str) -> str:
    """The words before the first top-level comma or semicolon, without remarks in brackets:
    'model-based (inverse information)' -> 'model-based'."""
    depth, out = 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif depth == 0 and ch in ",;":
            break
        elif depth == 0:
            out.append(ch)
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _fixed_effects(stats: dict, params: dict) -> tuple[str, ...]:
    """The fixed effects as column names (glance names roles such as ``unit``)."""
    text = stats.get("fixed_effects")
    if not isinstance(text, str) or text in ("", "(none)"):
        return ()
    out = []
    for role in text.split("+"):
        role = role.strip()
        column = params.get(role) if role in FE_ROLES else role
        if role == "cluster" and not column:
            column = params.get("unit")  # the plan's default cluster
        out.append(str(column or role))
    return tuple(out)


def _as_tuple(value) -> tuple[str, ...]:
    if value is None or value is False:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
