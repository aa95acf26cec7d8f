"""The one estimator interface.

An :class:`Estimator` *is* the analysis plan: its constructor takes the column roles and options
(keyword-only, validated at once) and ``fit(data)`` takes only the data and returns a
:class:`Result`. Every result offers the same things: ``tidy()``, ``glance()``, ``summary()``,
``plot()``, ``to_dict()`` and ``report_section()``. Results are immutable records of what was done.
"""

from __future__ import annotations

import copy
import dataclasses
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ._version import __version__

#: The statistics every ``tidy()`` table has, in this order, after the identifying columns.
STAT_COLUMNS: tuple[str, ...] = (
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)
#: Columns that say *which* estimate a row holds, in the order they lead every ``tidy()`` table.
ID_COLUMNS: tuple[str, ...] = (
    "comparison",
    "group",
    "reference",
    "site",
    "stratum",
    "state",
    "cause",
    "cap",
    "wtp",
    "time",
    "event_time",
    "term",
)
#: Columns every ``tidy()`` table has (broom's names).
TIDY_COLUMNS: tuple[str, ...] = ("term", *STAT_COLUMNS)


def tidy_frame(rows: pd.DataFrame | dict, extra_first: Sequence[str] = ()) -> pd.DataFrame:
    """Order a table the one way every ``tidy()`` is ordered.

    Identifying columns first (those of :data:`ID_COLUMNS` present, in that order; ``term``
    always), then the statistics of :data:`STAT_COLUMNS` (absent ones filled with NaN), then any
    other columns: those named in ``extra_first`` first, then the rest in the order given.
    """
    df = pd.DataFrame(rows)
    present = set(df.columns) | {"term"}
    ids = [c for c in ID_COLUMNS if c in present]
    lead = [c for c in extra_first if c in present and c not in ids]
    rest = lead + [c for c in df.columns
                   if c not in ids and c not in STAT_COLUMNS and c not in lead]
    # one copy (reindex), whatever the size: tables of a million rows are common
    out = df.reindex(columns=ids + list(STAT_COLUMNS) + rest)
    if "term" not in df.columns:
        out["term"] = ""
    out.index = pd.RangeIndex(len(out))
    return out


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas values to plain JSON types (NaN and inf become None)."""
    if isinstance(value, Mapping):
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


class FrozenMapping(Mapping):
    """A read-only mapping whose tables come out as copies (a result's ``info``, ``details``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping) -> None:
        object.__setattr__(self, "_data", {k: freeze(v) for k, v in data.items()})

    def __getitem__(self, key):
        return _thawed(self._data[key])

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __setattr__(self, name, value):
        raise AttributeError("a result's mappings are read-only")

    def __or__(self, other):  # merging gives a new, ordinary dict, as MappingProxyType does
        return {**self, **other}

    def __ror__(self, other):
        return {**other, **self}

    def __repr__(self) -> str:
        return f"FrozenMapping({self._data!r})"

    def to_dict(self) -> dict:
        return {k: v.to_dict() if isinstance(v, FrozenMapping) else _thawed(v)
                for k, v in self._data.items()}


def freeze(value: Any) -> Any:
    """A read-only version of ``value``: arrays as read-only views, dicts as FrozenMapping,
    lists as tuples (recursively). Tables are kept and handed out as copies on access."""
    if isinstance(value, FrozenMapping | MappingProxyType):
        return value if isinstance(value, FrozenMapping) else FrozenMapping(dict(value))
    if isinstance(value, dict):
        return FrozenMapping(value)
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(freeze(v) for v in value)
    if isinstance(value, np.ndarray) and value.flags.writeable:
        view = value.view()
        view.setflags(write=False)
        return view
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # a record inside a result (a fit, an inference outcome): a copy with frozen fields
        clone = copy.copy(value)
        for f in dataclasses.fields(value):
            object.__setattr__(clone, f.name, freeze(getattr(value, f.name)))
        return clone
    return value


def _thawed(value: Any) -> Any:
    """What a reader gets: a copy of a table (so changing it cannot change the result)."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy()
    return value


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
        """Make the record read-only in depth.

        Public arrays become read-only views, dicts :class:`FrozenMapping`, lists tuples; public
        tables move to a private store and every read hands out a copy (``__getattr__``).
        Private attributes (caches of lazily computed pieces) stay as they are.
        """
        tables = {}
        for name, value in list(vars(self).items()):
            if name.startswith("_") or name == "estimator":
                continue
            if isinstance(value, pd.DataFrame | pd.Series):
                tables[name] = value
                del self.__dict__[name]
            else:
                self.__dict__[name] = freeze(value)
        self.__dict__["_tables_"] = tables
        object.__setattr__(self, "_frozen", True)

    def __getattr__(self, name: str):
        # only reached when normal lookup fails: public tables of a frozen result
        tables = self.__dict__.get("_tables_")
        if tables is not None and name in tables:
            return tables[name].copy()
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __dir__(self):
        return [*super().__dir__(), *self.__dict__.get("_tables_", {})]

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

    def with_inference(self, spec) -> Result:
        """A new result from the same fit with the uncertainty computed as ``spec`` says.

        Estimators that offer other inference override this; here it refuses clearly.
        """
        from .errors import SpecificationError

        name = type(getattr(self, "estimator", self)).__name__
        raise SpecificationError(
            f"{name} results have one inference method, chosen in the plan; "
            f"{type(spec).__name__} does not apply to them")

    def vcov_matrix(self) -> pd.DataFrame:
        """The variance–covariance matrix of the estimates (rows and columns named by term)."""
        from .errors import SpecificationError

        name = type(getattr(self, "estimator", self)).__name__
        raise SpecificationError(f"{name} results have no coefficient covariance matrix")

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
    """Base class of every estimator: the constructor is the plan, ``fit(data)`` runs it.

    Every subclass's ``__init__`` is checked on the way in (one place for all estimators):
    options are keyword-only; an unknown option is refused with the nearest names and the full
    list; an option listed in ``_renamed`` (old name -> new name) still works for one release,
    with a ``FutureWarning``.
    """

    #: names of the constructor's parameters, in order (filled by subclasses).
    _param_names: ClassVar[tuple[str, ...]] = ()
    #: deprecated option names still accepted: {old: new}
    _renamed: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_checked_options", False):
            cls.__init__ = _checked_init(cls, init)

    def get_params(self) -> dict:
        """The analysis plan as a dict (what the constructor was given)."""
        return {name: getattr(self, name) for name in self._param_names}

    @classmethod
    def from_formula(cls, formula: str, /, **options):
        """The same plan, written as an R / fixest / survival formula (see docs/formulas.md).

        ``options`` are the constructor's other keywords. Panel estimators read
        ``"outcome ~ treatment + covariates | unit + time"``; Cox and FineGray read
        ``"Surv(time, event) ~ terms"`` with ``C(x, Treatment('ref'))``, ``strata(x)`` and
        ``cluster(x)``; survival curves read ``"Surv(time, event) ~ group"``.

        Example
        -------
        >>> import causalips as ci
        >>> ci.DiD.from_formula("workdays ~ 1 | person + year", first_treated="first_treated",
        ...                     cluster="municipality").get_params() == ci.DiD(
        ...     outcome="workdays", unit="person", time="year", first_treated="first_treated",
        ...     cluster="municipality").get_params()
        True
        """
        from .formula import plan_from_formula

        return plan_from_formula(cls, formula, **options)

    def fit(self, data: pd.DataFrame) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _checked_init(cls, init):
    """Wrap ``init`` so that bad options get our error and renamed ones a FutureWarning."""
    import difflib
    import functools
    import inspect
    import warnings

    params = inspect.signature(init).parameters
    accepted = [n for n, p in params.items()
                if n != "self" and p.kind is inspect.Parameter.KEYWORD_ONLY]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        from .errors import OptionError, SpecificationError

        if args:
            raise OptionError(
                f"{cls.__name__} takes its options by name, e.g. "
                f"{cls.__name__}({', '.join(f'{a}=...' for a in accepted[:2])}); "
                f"got {len(args)} positional argument(s)")
        renamed = {**getattr(type(self), "_renamed", {}), **cls.__dict__.get("_renamed", {})}
        for old, new in renamed.items():
            if old in kwargs:
                if new in kwargs:
                    raise SpecificationError(
                        f"{cls.__name__}: pass {new}= only ({old}= is its old name)")
                warnings.warn(f"{cls.__name__}({old}=) is renamed {new}=; {old}= will be removed "
                              "in the next release", FutureWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
        unknown = [k for k in kwargs if k not in accepted]
        if unknown and not takes_any:
            k = unknown[0]
            close = difflib.get_close_matches(k, accepted, n=2)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            raise OptionError(
                f"{cls.__name__} has no option {k!r}{hint}; its options are: "
                f"{', '.join(accepted)}")
        init(self, **kwargs)

    __init__._checked_options = True
    return __init__


def warn_all(messages: Sequence[str], category) -> None:
    """Issue each message as a Python warning as well as recording it on the result."""
    import warnings

    for m in messages:
        warnings.warn(m, category, stacklevel=3)
