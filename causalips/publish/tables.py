"""``causalips.table``: several results side by side, as ``fixest::etable`` and ``modelsummary``.

The content (which rows, which cells, which notes) is decided here from the results' public
interface; the writers in :mod:`causalips.publish._writers` only lay it out in Markdown, LaTeX,
HTML or Word.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._checks import check_choice
from ..disclosure import is_suppressed, suppress_small_counts
from ..errors import SpecificationError
from ._columns import ModelColumn, read_result

STATISTICS = ("std_error", "conf_int", "p_value", "statistic", None)
DEFAULT_STATS = ("n_obs", "n_events", "n_clusters")
#: how glance() columns are labelled in the table (others show their own name)
STAT_LABELS = {
    "n_obs": "N", "n_events": "Events", "n_clusters": "Clusters", "n_units": "Units",
    "n_periods": "Periods", "n_treated_clusters": "Treated clusters", "r2_within": "R2 (within)",
    "concordance": "Concordance", "loglik": "Log likelihood", "n_competing": "Competing events",
    "n_censored": "Censored", "pretrend_p_value": "Pre-trend p-value",
}
#: glance() columns that count people: the disclosure rule applies to them (clusters are places)
COUNT_STATS = ("n_obs", "n_events", "n_units", "n_competing", "n_censored")
STARS = {"*": 0.1, "**": 0.05, "***": 0.01}
HIDDEN = "suppressed"
SECTIONS = ("Estimates", "Fixed effects", "Strata", "Fit statistics")


@dataclass(frozen=True)
class Table:
    """A publication table: ``frame`` holds the cells as text (``section``, ``term``, one column
    per model); ``to_markdown()``, ``to_latex()``, ``to_html()``, ``to_docx(path)`` and
    ``save(path)`` write it; in a notebook it shows as HTML."""

    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    title: str | None = None

    @property
    def models(self) -> list[str]:
        return [c for c in self.frame.columns if c not in ("section", "term")]

    @property
    def html_id(self) -> str:
        """A stable id for the HTML (derived from the content, so output is reproducible)."""
        digest = hashlib.sha1(self.frame.to_csv().encode() + repr(self.notes).encode())
        return "causalips-" + digest.hexdigest()[:10]

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def to_markdown(self) -> str:
        from ._writers import to_markdown

        return to_markdown(self)

    def to_latex(self) -> str:
        """booktabs LaTeX (``\\usepackage{booktabs}``; ``amssymb`` for the ticks)."""
        from ._writers import to_latex

        return to_latex(self)

    def to_html(self) -> str:
        from ._writers import to_html

        return to_html(self)

    def to_docx(self, path) -> Path:
        """Write a Word document holding the table; returns the path."""
        from ._writers import to_docx

        return to_docx(self, Path(path))

    def save(self, path) -> Path:
        """Write to ``path``, in the format its suffix names (.md, .tex, .html, .docx)."""
        path = Path(path)
        suffix = path.suffix.lower()
        writers = {".md": self.to_markdown, ".tex": self.to_latex, ".html": self.to_html}
        if suffix == ".docx":
            return self.to_docx(path)
        if suffix not in writers:
            raise SpecificationError(f"save() writes .md, .tex, .html or .docx files; got "
                                     f"{path.name!r}")
        path.write_text(writers[suffix](), encoding="utf-8")
        return path

    def __str__(self) -> str:
        return self.to_markdown()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        try:
            return self.to_html()
        except SpecificationError:  # without the publish extra: a plain table still shows
            return self.frame.drop(columns="section").to_html(index=False, escape=True)


def table(results, *, names: Sequence[str] | None = None, statistic: str | None = "std_error",
          stars: bool | Mapping[str, float] = False, digits: int = 3,
          rename: Mapping[str, str] | None = None, keep: Sequence[str] | None = None,
          drop: Sequence[str] | None = None, order: Sequence[str] | None = None,
          stats: Sequence[str] = DEFAULT_STATS, inference: bool = True,
          fixed_effects: bool = True, outcome: bool = True, exponentiate: bool = False,
          suppress: int | None = None, notes: Sequence[str] = (),
          title: str | None = None) -> Table:
    """Put fitted results side by side, one column each, as in ``fixest::etable``.

    Parameters
    ----------
    results : result, list of results, or dict {name: result}
        Any fitted results (DiD, EventStudy, StaggeredDiD aggregations, Cox, FineGray, ...).
    names : list of str, optional
        Column headers; default the dict keys, else ``(1)``, ``(2)``, ...
    statistic : {"std_error", "conf_int", "p_value", "statistic", None}
        What goes in the line under each estimate: (SE), [CI], (p) or (t / z); None: nothing.
    stars : bool or dict
        Significance stars, off by default. True uses ``* p<0.1, ** p<0.05, *** p<0.01``; a
        dict ``{"*": 0.05, ...}`` sets the marks.
    digits : int
        Decimals of estimates and statistics.
    rename : dict, optional
        Term -> label (rows of several models merge when they get the same label).
    keep, drop : list of str, optional
        Terms (labels after renaming, or regular expressions matching all of a label) to show
        or leave out. ``keep`` also orders the rows, unless ``order`` does.
    order : list of str, optional
        Terms (or patterns) shown first, in this order; the others follow as they come.
    stats : list of str
        ``glance()`` columns shown as fit statistics (blank where a model lacks one).
    inference, fixed_effects, outcome : bool
        Rows saying how the uncertainty was computed, which fixed effects (and strata) each
        model has (ticks), and each model's outcome.
    exponentiate : bool or list of bool
        Show ``exp(estimate)`` (hazard ratios of Cox / Fine–Gray models) with exponentiated
        CIs and delta-method SEs ``exp(b)·se``; one flag for all models or one per model.
    suppress : int, optional
        Disclosure threshold: counts of people (N, events, ...) between 1 and ``suppress - 1``
        show as ``<suppress``, and that model's estimates are hidden (``causalips.disclosure``).
    notes : list of str
        Extra notes under the table.
    title : str, optional
        Caption.

    Returns
    -------
    Table

    Example
    -------
    >>> import causalips as ci
    >>> from causalips.datasets import load_swiss_trial
    >>> trial = load_swiss_trial()
    >>> fit = ci.Cox.from_formula("Surv(months, employed) ~ C(budget, Treatment('40h'))").fit(trial)
    >>> tab = ci.table({"Cox": fit}, stats=["n_obs", "n_events"])
    >>> tab.frame["term"].tolist()
    ['Outcome', 'budget[25h]', '', 'budget[55h]', '', 'N', 'Events', 'Inference']
    """
    statistic = check_choice("statistic", statistic, STATISTICS)
    marks = _check_stars(stars)
    if not isinstance(digits, int) or not 0 <= digits <= 12:
        raise SpecificationError(f"digits must be a whole number from 0 to 12; got {digits!r}")
    if suppress is not None and (not isinstance(suppress, int) or suppress < 0):
        raise SpecificationError(f"suppress must be a whole number (the disclosure threshold, "
                                 f"e.g. 5) or None; got {suppress!r}")
    rename = dict(rename or {})
    columns = [read_result(r, n, rename) for n, r in _named(results, names)]
    columns = [_exponentiated(c) if flag else c
               for c, flag in zip(columns, _flags(exponentiate, len(columns)))]
    labels = _ordered_labels(columns, keep, drop, order)
    shown_stats, hidden = _stat_cells(columns, stats, digits, suppress)
    rows = [("Estimates", "Outcome", [c.outcome for c in columns])] if outcome else []
    rows += _estimate_rows(columns, labels, statistic, marks, digits, hidden)
    if fixed_effects:
        rows += _tick_rows("Fixed effects", [c.fixed_effects for c in columns])
        rows += _tick_rows("Strata", [c.strata for c in columns])
    rows += [("Fit statistics", label, cells) for label, cells in shown_stats]
    if inference:
        rows.append(("Fit statistics", "Inference", [c.inference for c in columns]))
    frame = pd.DataFrame([[s, t, *cells] for s, t, cells in rows],
                         columns=["section", "term", *[c.name for c in columns]])
    return Table(frame=frame, notes=_notes(columns, statistic, marks, suppress, hidden, notes),
                 title=title)


def _named(results, names) -> list[tuple[str, object]]:
    if isinstance(results, Mapping):
        pairs = [(str(k), v) for k, v in results.items()]
    elif isinstance(results, Sequence) and not isinstance(results, str):
        pairs = [(f"({i})", r) for i, r in enumerate(results, start=1)]
    else:
        pairs = [("(1)", results)]
    if not pairs:
        raise SpecificationError("table() needs at least one result")
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != len(pairs):
            raise SpecificationError(f"names has {len(names)} entries for {len(pairs)} results")
        pairs = [(n, r) for n, (_, r) in zip(names, pairs)]
    seen = [n for n, _ in pairs]
    if len(set(seen)) != len(seen):
        raise SpecificationError(f"model names must differ; got {seen}")
    return pairs


def _flags(value, n: int) -> list[bool]:
    if isinstance(value, bool):
        return [value] * n
    flags = list(value)
    if len(flags) != n or not all(isinstance(f, bool) for f in flags):
        raise SpecificationError(f"exponentiate must be True/False or one flag per model "
                                 f"({n}); got {value!r}")
    return flags


def _exponentiated(col: ModelColumn) -> ModelColumn:
    est = col.estimates.copy()
    b = est["estimate"].to_numpy()
    est["std_error"] = np.exp(b) * est["std_error"]  # delta method
    for c in ("estimate", "conf_low", "conf_high"):
        est[c] = np.exp(est[c])
    return dataclasses.replace(col, estimates=est, exponentiated=True)


def _check_stars(stars) -> dict[str, float]:
    if stars is False or stars is None:
        return {}
    if stars is True:
        return dict(STARS)
    if isinstance(stars, Mapping) and all(0 < float(v) < 1 for v in stars.values()):
        return {str(k): float(v) for k, v in stars.items()}
    raise SpecificationError(f"stars must be True/False or a dict {{mark: p threshold}} such as "
                             f"{STARS}; got {stars!r}")


def _matches(pattern: str, label: str) -> bool:
    if pattern == label:
        return True
    try:
        return re.fullmatch(pattern, label) is not None
    except re.error:
        return False


def _ordered_labels(columns: list[ModelColumn], keep, drop, order) -> list[str]:
    labels = list(dict.fromkeys(lab for c in columns for lab in c.estimates["label"]))
    for name, value in (("keep", keep), ("drop", drop), ("order", order)):
        if isinstance(value, str):
            raise SpecificationError(f"{name} takes a list of terms, e.g. {name}=[{value!r}]")
    if keep is not None:
        labels = [lab for lab in labels if any(_matches(p, lab) for p in keep)]
    if drop:
        labels = [lab for lab in labels if not any(_matches(p, lab) for p in drop)]
    first = order if order is not None else keep
    if first:
        ranked = [lab for p in first for lab in labels if _matches(p, lab)]
        ranked = list(dict.fromkeys(ranked))
        labels = ranked + [lab for lab in labels if lab not in ranked]
    if not labels:
        raise SpecificationError("no estimate is left to show: check keep= and drop= against "
                                 "the terms of tidy()")
    return labels


def _fmt(value: float, digits: int) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _estimate_rows(columns, labels, statistic, marks, digits, hidden):
    """Two rows per term: the estimates, and under them what ``statistic`` names."""
    rows = []
    for label in labels:
        cells = [_estimate_cells(c, label, statistic, marks, digits, c.name in hidden)
                 for c in columns]
        rows.append(("Estimates", label, [top for top, _ in cells]))
        if statistic is not None:
            rows.append(("Estimates", "", [below for _, below in cells]))
    return rows


def _estimate_cells(col: ModelColumn, label: str, statistic, marks, digits, hidden):
    rows = col.estimates[col.estimates["label"] == label]
    if rows.empty:
        return "", ""
    if hidden:
        return HIDDEN, ""
    r = rows.iloc[0]
    top = _fmt(r["estimate"], digits)
    p = r["p_value"]
    if top and marks and math.isfinite(p):
        top += next((m for m, t in sorted(marks.items(), key=lambda kv: kv[1]) if p < t), "")
    if statistic == "conf_int":
        lo, hi = _fmt(r["conf_low"], digits), _fmt(r["conf_high"], digits)
        below = f"[{lo}, {hi}]" if lo and hi else ""
    elif statistic == "p_value":
        floor = 10.0 ** -digits
        below = "" if not math.isfinite(p) else (f"(<{floor:.{digits}f})" if p < floor
                                                 else f"({p:.{digits}f})")
    else:
        value = _fmt(r[statistic], digits) if statistic else ""
        below = f"({value})" if value else ""
    return top, below


def _stat_cells(columns, stats, digits, suppress):
    """Fit-statistic rows [(label, cells)] and the models whose counts were suppressed."""
    if isinstance(stats, str):
        stats = [stats]
    values = pd.DataFrame([{s: c.stats.get(s) for s in stats} for c in columns], columns=stats)
    shown = values.astype(object).map(lambda v: _fmt_stat(v, digits))
    counts = [s for s in stats if s in COUNT_STATS]
    hidden = set()
    if suppress is not None and counts:
        marked = suppress_small_counts(values[counts], counts, threshold=suppress)
        for s in counts:
            small = marked[s].map(is_suppressed)
            shown.loc[small, s] = marked.loc[small, s]
            hidden |= {c.name for c, flag in zip(columns, small) if flag}
    rows = [(STAT_LABELS.get(s, s), shown[s].tolist()) for s in stats
            if any(cell != "" for cell in shown[s])]
    return rows, hidden


def _fmt_stat(value, digits: int) -> str:
    if value is None or isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int) or isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _tick_rows(section: str, per_model: list[tuple[str, ...]]):
    names = list(dict.fromkeys(n for model in per_model for n in model))
    return [(section, n, ["✓" if n in model else "" for model in per_model]) for n in names]


def _notes(columns, statistic, marks, suppress, hidden, extra) -> tuple[str, ...]:
    out = []
    if statistic == "conf_int":
        levels = {c.conf_level for c in columns if c.conf_level is not None}
        level = f"{levels.pop():.0%} " if len(levels) == 1 else ""
        out.append(f"{level}confidence intervals in brackets.")
    elif statistic is not None:
        out.append({"std_error": "Standard errors", "p_value": "p-values",
                    "statistic": "Test statistics"}[statistic] + " in parentheses.")
    if any(c.exponentiated for c in columns):
        which = [c.name for c in columns if c.exponentiated]
        whose = "" if len(which) == len(columns) else f" ({', '.join(which)})"
        out.append(f"Exponentiated estimates{whose} (hazard ratios for Cox models); their "
                   "standard errors by the delta method.")
    if marks:
        out.append(", ".join(f"{m} p < {t:g}" for m, t in sorted(marks.items(),
                                                                  key=lambda kv: -kv[1])) + ".")
    if hidden:
        out.append(f"Counts of 1 to {suppress - 1} people are shown as <{suppress}; the "
                   f"estimates of {', '.join(sorted(hidden))} are not shown (disclosure control).")
    return tuple(out) + tuple(str(n) for n in extra)
