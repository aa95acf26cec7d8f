"""The one estimator interface.

An :class:`Estimator` *is* the analysis plan: its constructor takes the column roles and options
(keyword-only, validated at once) and ``fit(data)`` takes only the data and returns a
:class:`Result`. Every result offers the same things: ``tidy()``, ``glance()``, ``summary()``,
``plot()``, ``to_dict()`` and ``report_section()``. Results are immutable records of what was done.

The pieces a result hands out (the tidy column order, :class:`Summary`, :class:`ReportSection`,
:func:`json_safe`) live in :mod:`causalips._presentation`, the freezing in
:mod:`causalips._frozen`, and :func:`warn_all` in :mod:`causalips.errors`; all are importable from
here as before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

import pandas as pd

from ._frozen import FrozenMapping, freeze
from ._presentation import (
    ID_COLUMNS,
    STAT_COLUMNS,
    TIDY_COLUMNS,
    ReportSection,
    Summary,
    json_safe,
    tidy_frame,
)
from ._version import __version__
from .errors import OptionError, SpecificationError, warn, warn_all


class Result:
    """Base class of every fitted result.

    Subclasses set their attributes in ``__init__`` and then call ``self._freeze()``; after that,
    assignment raises. ``tidy()`` returns a copy, so a result cannot be changed through it.
    """

    _frozen: bool = False
    #: columns (of tidy() and of the summary's tables) that hold counts of people: the report
    #: suppresses small values in them.
    count_columns: ClassVar[tuple[str, ...]] = ()
    #: the figures of report_section(): (caption, the ``kind=`` of plot()) each; empty: one
    #: plot() captioned by the summary's title
    report_plots: ClassVar[tuple[tuple[str, str], ...]] = ()

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
        name = type(getattr(self, "estimator", self)).__name__
        raise SpecificationError(
            f"{name} results have one inference method, chosen in the plan; "
            f"{type(spec).__name__} does not apply to them")

    def vcov_matrix(self) -> pd.DataFrame:
        """The variance–covariance matrix of the estimates (rows and columns named by term)."""
        name = type(getattr(self, "estimator", self)).__name__
        raise SpecificationError(f"{name} results have no coefficient covariance matrix")

    def report_section(self) -> ReportSection:
        """The section of the HTML report for this result: the summary's tables, its header as
        paragraphs, and the figures of :attr:`report_plots` (default: one ``plot()``)."""
        import matplotlib.pyplot as plt

        summ = self.summary()
        figures = []
        for caption, kind in self.report_plots or ((summ.title, None),):
            fig = (self.plot() if kind is None else self.plot(kind=kind)).get_figure()
            figures.append((caption, fig))
            plt.close(fig)
        return ReportSection(
            title=summ.title,
            paragraphs=tuple(f"{k}: {v}" for k, v in summ.header),
            tables=tuple((h, t, self.count_columns) for h, t in summ.tables),
            figures=tuple(figures),
            notes=summ.notes + tuple(w for w in self.warnings if w not in summ.notes),
        )

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

    params = inspect.signature(init).parameters
    accepted = [n for n, p in params.items()
                if n != "self" and p.kind is inspect.Parameter.KEYWORD_ONLY]
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
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
                warn(f"{cls.__name__}({old}=) is renamed {new}=; {old}= will be removed in the "
                     "next release", FutureWarning)
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


__all__ = ["Estimator", "Result", "Summary", "ReportSection", "tidy_frame", "json_safe",
           "freeze", "FrozenMapping", "warn_all", "ID_COLUMNS", "STAT_COLUMNS", "TIDY_COLUMNS"]
