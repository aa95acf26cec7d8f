"""The one estimator interface.

An :class:`Estimator` *is* the analysis plan: its constructor takes the column roles and options
(keyword-only, validated at once) and ``fit(data)`` takes only the data and returns a
:class:`Result`. Every result offers the same things: ``tidy()``, ``glance()``, ``summary()``,
``plot()``, ``to_dict()`` and ``report_section()``. Results are immutable records of what was done.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._version import __version__

#: Columns every ``tidy()`` table starts with (broom's names), in this order.
TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)


def tidy_frame(rows: pd.DataFrame | dict, extra_first: Sequence[str] = ()) -> pd.DataFrame:
    """Order a table as ``extra_first`` + the tidy columns + any others, filling absent tidy columns."""
    df = pd.DataFrame(rows).copy()
    for col in TIDY_COLUMNS:
        if col not in df.columns:
            df[col] = "" if col == "term" else np.nan
    first = [c for c in extra_first if c in df.columns]
    rest = [c for c in df.columns if c not in first and c not in TIDY_COLUMNS]
    return df[first + list(TIDY_COLUMNS) + rest].reset_index(drop=True)


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON types (NaN and inf become None)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [json_safe(r) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return json_safe(value.tolist())
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, bool | int | str):
        return value
    if hasattr(value, "to_dict"):
        return json_safe(value.to_dict())
    return str(value)


@dataclass(frozen=True)
class Summary:
    """Readable summary of a result: ``str()`` for the console, HTML for notebooks, Markdown."""

    title: str
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    notes: tuple[str, ...] = ()
    header: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for key, value in self.header:
            lines.append(f"{key}: {value}")
        for heading, table in self.tables:
            lines.append("")
            if heading:
                lines.append(heading)
            lines.append(_format_table(table))
        if self.notes:
            lines.append("")
            lines.extend(f"Note: {n}" for n in self.notes)
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        parts = [f"<h3>{html.escape(self.title)}</h3>"]
        if self.header:
            items = "".join(
                f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>" for k, v in self.header
            )
            parts.append(f"<ul>{items}</ul>")
        for heading, table in self.tables:
            if heading:
                parts.append(f"<h4>{html.escape(heading)}</h4>")
            parts.append(_rounded(table).to_html(index=False, escape=True, na_rep=""))
        parts.extend(f"<p><i>{html.escape(n)}</i></p>" for n in self.notes)
        return "\n".join(parts)

    def to_markdown(self) -> str:
        lines = [f"### {self.title}", ""]
        lines.extend(f"- **{k}**: {v}" for k, v in self.header)
        for heading, table in self.tables:
            lines.append("")
            if heading:
                lines.append(f"**{heading}**")
                lines.append("")
            lines.append(_markdown_table(_rounded(table)))
        lines.extend(f"\n_{n}_" for n in self.notes)
        return "\n".join(lines)


def _rounded(table: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.{digits}g}")
    return out


def _format_table(table: pd.DataFrame) -> str:
    if table.empty:
        return "(no rows)"
    return _rounded(table).to_string(index=False)


def _markdown_table(table: pd.DataFrame) -> str:
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class ReportSection:
    """A piece of the HTML report: a title, short paragraphs, tables and figures.

    ``tables`` holds (caption, DataFrame, count_columns): the report suppresses small numbers in
    ``count_columns``. ``figures`` holds (caption, matplotlib Figure). Text is escaped when rendered.
    """

    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[tuple[str, pd.DataFrame, tuple[str, ...]], ...] = ()
    figures: tuple[tuple[str, Any], ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


class Result:
    """Base class of every fitted result.

    Subclasses set their attributes in ``__init__`` and then call ``self._freeze()``; after that,
    assignment raises. ``tidy()`` returns a copy, so a result cannot be changed through it.
    """

    _frozen: bool = False
    #: tidy() columns that hold counts of people: the report suppresses small values in them.
    count_columns: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        estimator: Estimator,
        table: pd.DataFrame,
        n_obs: int,
        warnings: Sequence[str] = (),
    ) -> None:
        self.estimator = estimator
        self._table = table
        self.n_obs = int(n_obs)
        self.warnings = tuple(str(w) for w in warnings)

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(
                f"{type(self).__name__} is an immutable record of a fit; "
                "fit again (or use with_inference) to get a new result"
            )
        object.__setattr__(self, name, value)

    def _freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    # -- the common interface -------------------------------------------------------------
    def tidy(self) -> pd.DataFrame:
        """One row per estimate, broom-style columns first."""
        return self._table.copy()

    def glance(self) -> pd.DataFrame:
        """One row describing the fit as a whole."""
        return pd.DataFrame([{"n_obs": self.n_obs, "n_warnings": len(self.warnings)}])

    def summary(self) -> Summary:
        raise NotImplementedError

    def plot(self, ax=None, **style):
        raise NotImplementedError

    def report_section(self) -> ReportSection:
        """The section of the HTML report for this result (a summary table and the plot)."""
        import matplotlib.pyplot as plt

        ax = self.plot()
        fig = ax.get_figure()
        summ = self.summary()
        section = ReportSection(
            title=summ.title,
            paragraphs=tuple(f"{k}: {v}" for k, v in summ.header),
            tables=tuple((h, t, self.count_columns) for h, t in summ.tables),
            figures=((summ.title, fig),),
            notes=summ.notes + tuple(w for w in self.warnings if w not in summ.notes),
        )
        plt.close(fig)
        return section

    def to_dict(self) -> dict:
        """JSON-safe record: the plan, the estimates, warnings and the library version."""
        return json_safe(
            {
                "estimator": type(self.estimator).__name__,
                "plan": self.estimator.get_params(),
                "n_obs": self.n_obs,
                "glance": self.glance().to_dict(orient="records"),
                "estimates": self._table,
                "warnings": list(self.warnings),
                "causalips_version": __version__,
            }
        )

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    def __repr__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


class Estimator:
    """Base class of every estimator: the constructor is the plan, ``fit(data)`` runs it."""

    #: names of the constructor's parameters, in order (filled by subclasses).
    _param_names: ClassVar[tuple[str, ...]] = ()

    def get_params(self) -> dict:
        """The analysis plan as a dict (what the constructor was given)."""
        return {name: getattr(self, name) for name in self._param_names}

    def fit(self, data: pd.DataFrame) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def warn_all(messages: Sequence[str], category) -> None:
    """Issue each message as a Python warning as well as recording it on the result."""
    import warnings

    for m in messages:
        warnings.warn(m, category, stacklevel=3)
