"""Inference specifications: small frozen records that say how uncertainty is computed.

Two kinds, two arguments, one vocabulary for every estimator:

- **variance** specs, passed as ``vcov=``: an analytic variance of the estimates
  (:class:`ModelBased`, :class:`Robust`, :class:`Cluster`);
- **resampling** specs, passed as ``inference=``: a procedure that draws
  (:class:`Bootstrap`, :class:`MultiplierBootstrap`, :class:`WildBootstrap`,
  :class:`Randomization`, :class:`ConleyTaber`, :class:`Placebo`).

Every result's ``with_inference(spec)`` takes either kind and returns a new result from the same
fit, or refuses with the list of specs that apply. Every spec checks itself here, in one place:
``reps`` is a whole number within :data:`MAX_REPS`, ``seed`` is ``None`` or a non-negative whole
number, and option values are one of the listed choices.

Resampling specs take ``progress`` (default True): a tqdm progress bar on stderr for runs over
about 2 seconds; ``progress=False`` silences it. It changes no number, so it is left out of the
spec's equality and of summaries.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field, fields
from typing import Any, Literal

from ._checks import check_choice
from .errors import SpecificationError, warn

#: More draws than this change no reported digit and only cost time and memory.
MAX_REPS = 1_000_000


def check_reps(reps: Any, *, name: str = "reps", minimum: int = 1, allow_none: bool = False):
    """A whole number of draws in [minimum, MAX_REPS] (or None where the spec allows 'all')."""
    if reps is None and allow_none:
        return None
    if isinstance(reps, bool) or not isinstance(reps, numbers.Integral):
        raise SpecificationError(
            f"{name} must be a whole number of draws (e.g. {name}=999); got {reps!r}")
    if not minimum <= int(reps) <= MAX_REPS:
        raise SpecificationError(
            f"{name} must be between {minimum} and {MAX_REPS:,}; got {reps!r}. More draws than "
            f"{MAX_REPS:,} change no reported digit and only cost time and memory.")
    return int(reps)


def check_seed(seed: Any) -> int | None:
    """None (fresh entropy) or a non-negative whole number, as numpy's generators take."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise SpecificationError(
            f"seed must be None or a whole number >= 0 (e.g. seed=1); got {seed!r}")
    return int(seed)


class _Spec:
    """Shared behaviour: checking at construction and a readable label for summaries."""

    #: ``"variance"`` (passed as vcov=) or ``"resampling"`` (passed as inference=)
    kind: str = ""

    def __post_init__(self, *_):
        if hasattr(self, "reps"):
            allow_none = type(self) in (Randomization, ConleyTaber, Placebo)
            minimum = 2 if isinstance(self, Bootstrap | MultiplierBootstrap) else 1
            object.__setattr__(self, "reps", check_reps(self.reps, minimum=minimum,
                                                        allow_none=allow_none))
        if hasattr(self, "seed"):
            object.__setattr__(self, "seed", check_seed(self.seed))
        for name in ("cluster", "subcluster"):
            value = getattr(self, name, None)
            if value is not None and not isinstance(value, str):
                raise SpecificationError(
                    f"{type(self).__name__}({name}=) must be a column name; got {value!r}")

    def describe(self) -> str:
        """One line for summaries, e.g. ``WildBootstrap(reps=9999, weights='webb', seed=1)``."""
        shown = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                 if getattr(self, f.name) != f.default and f.name != "progress"]
        return f"{type(self).__name__}({', '.join(shown)})"


# -- variance specs (vcov=) -----------------------------------------------------------------
@dataclass(frozen=True)
class ModelBased(_Spec):
    """The model's own variance: the inverse information (Cox) or the iid OLS variance."""

    kind = "variance"


@dataclass(frozen=True)
class Robust(_Spec):
    """Heteroskedasticity-robust sandwich in which each row of *your* data is its own cluster.

    For survival models with several rows per person made internally (Fine–Gray's expanded
    rows), the person is the cluster, so the variance is the per-person sandwich.
    """

    kind = "variance"


@dataclass(frozen=True)
class Cluster(_Spec):
    """Cluster-robust (sandwich) variance, clustered on the column ``cluster``.

    ``correction=None`` uses the estimator's documented default: ``"CR1"`` for linear models
    (G/(G−1)·(N−1)/(N−K) with a t(G−1) reference, as Stata and fixest), none for survival models
    (as R's ``coxph``). ``"CR1"`` on a survival model applies G/(G−1) and a t(G−1) reference;
    ``"CR0"`` is the plain sandwich.
    """

    cluster: str | None = None
    correction: Literal["CR1", "CR0"] | None = None
    column: InitVar[str | None] = None
    kind = "variance"

    def __post_init__(self, column=None):
        if column is not None:
            warn("Cluster(column=) is renamed Cluster(cluster=); column= will be removed in the "
                 "next release", FutureWarning)
            if self.cluster is not None and self.cluster != column:
                raise SpecificationError("pass the cluster column once, as Cluster(cluster=...)")
            object.__setattr__(self, "cluster", column)
        if self.cluster is None:
            raise SpecificationError("Cluster needs the column that holds the clusters, "
                                     "e.g. Cluster('municipality')")
        if self.correction is not None:
            check_choice("correction", self.correction, ("CR1", "CR0"))
        super().__post_init__()


# -- resampling specs (inference=) ----------------------------------------------------------
@dataclass(frozen=True)
class Bootstrap(_Spec):
    """Bootstrap with ``reps`` draws: rows (or whole ``cluster``s) resampled with replacement.

    Where an estimator's draws come from a fitted distribution instead of the rows (parameter
    draws of a parametric survival model, input draws of a return-on-investment analysis,
    tables simulated under the null in the equity tests), its docstring says so; the spec and
    its checks are the same.
    """

    reps: int = 2000
    seed: int | None = None
    cluster: str | None = None
    progress: bool = field(default=True, compare=False)
    kind = "resampling"


@dataclass(frozen=True)
class MultiplierBootstrap(_Spec):
    """Multiplier bootstrap of influence functions (Callaway–Sant'Anna), by unit or cluster."""

    reps: int = 999
    weights: Literal["mammen", "rademacher"] = "mammen"
    seed: int | None = None
    progress: bool = field(default=True, compare=False)
    kind = "resampling"

    def __post_init__(self):
        check_choice("weights", self.weights, ("mammen", "rademacher"))
        super().__post_init__()


@dataclass(frozen=True)
class WildBootstrap(_Spec):
    """Wild cluster bootstrap (restricted = null imposed, WCR; unrestricted = WCU)."""

    reps: int = 9999
    weights: Literal["rademacher", "webb"] = "rademacher"
    restricted: bool = True
    cluster: str | None = None
    subcluster: str | None = None
    seed: int | None = None
    progress: bool = field(default=True, compare=False)
    kind = "resampling"

    def __post_init__(self):
        check_choice("weights", self.weights, ("rademacher", "webb"))
        super().__post_init__()


@dataclass(frozen=True)
class Randomization(_Spec):
    """Randomization inference: re-assign treatment across clusters (all assignments if few)."""

    reps: int | None = None
    seed: int | None = None
    cluster: str | None = None
    progress: bool = field(default=True, compare=False)
    kind = "resampling"


@dataclass(frozen=True)
class ConleyTaber(_Spec):
    """Conley–Taber interval from control-cluster residual placebos (one or few treated).

    Parameters
    ----------
    reps : int, optional
        Placebo sets to sample when the treated timings can be placed on control clusters in
        more ways than this (default: all ways up to 100 000).
    seed : int, optional
        Seed of the sample.
    heteroskedasticity : bool
        Rescale placebo errors for cluster size (Ferman & Pinto 2019); use it when the treated
        clusters are much smaller or larger than the controls.
    progress : bool
        Show a progress bar on runs over about 2 seconds (default True).
    """

    reps: int | None = None
    seed: int | None = None
    heteroskedasticity: bool = False
    progress: bool = field(default=True, compare=False)
    kind = "resampling"


@dataclass(frozen=True)
class Placebo(_Spec):
    """Placebo inference: each control unit in turn treated as if it were the treated one.

    ``reps=None`` uses every control unit (in-space placebos); a number samples that many
    placebo draws (synthetic DiD's placebo standard error).
    """

    reps: int | None = None
    seed: int | None = None
    progress: bool = field(default=True, compare=False)
    kind = "resampling"


VARIANCE_SPECS = (ModelBased, Robust, Cluster)
RESAMPLING_SPECS = (Bootstrap, MultiplierBootstrap, WildBootstrap, Randomization, ConleyTaber,
                    Placebo)


def check_spec(spec: Any, allowed: tuple[type, ...], *, where: str, argument: str) -> Any:
    """Refuse a spec the estimator cannot use, listing the ones it can."""
    if spec is None or isinstance(spec, allowed):
        return spec
    names = ", ".join(f"{a.__name__}()" for a in allowed) or "none"
    got = type(spec).__name__ if isinstance(spec, _Spec) else repr(spec)
    raise SpecificationError(f"{where} cannot use {got} as {argument}=; it takes {names}")


def _bootstrap_from(reps=None, seed=None) -> Bootstrap:
    return Bootstrap(reps=Bootstrap.reps if reps is None else reps, seed=seed)


def spec_from_old_options(where: str, inference: Any, default: Any = None,
                          build: Callable[..., Any] | None = None, **old: Any) -> Any:
    """``inference`` as given, or the spec that an estimator's old loose keywords build.

    Before resampling was a spec, estimators took ``reps=``, ``seed=`` (and the like) as options;
    they still work for one release, with a :class:`FutureWarning` naming the spec to pass
    instead. ``old`` maps each old keyword to its value (None when not given); ``build(**old)``
    makes the spec (default: ``Bootstrap(reps=, seed=)``). ``default`` is the value the
    estimator's signature gives ``inference``: any other ``inference`` given together with old
    keywords is refused, as the same thing said twice.

    Example
    -------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     spec_from_old_options("Reach", None, reps=999, seed=1).describe()
    'Bootstrap(reps=999, seed=1)'
    """
    given = {k: v for k, v in old.items() if v is not None}
    if not given:
        return inference
    if inference is not default:
        names = ", ".join(f"{k}=" for k in given)
        raise SpecificationError(f"{where}: pass inference= only ({names} "
                                 f"{'is' if len(given) == 1 else 'are'} its old spelling)")
    shown = ", ".join(f"{k}={v!r}" for k, v in given.items())

    def deprecated(instead: str) -> None:
        warn(f"{where}({shown}) is replaced by inference={instead}; the old keywords will be "
             "removed in the next release", FutureWarning)

    try:
        spec = (build or _bootstrap_from)(**old)
    except SpecificationError:  # a bad old value: both messages, the warning first
        deprecated("a spec")
        raise
    deprecated("None" if spec is None else spec.describe())
    return spec


__all__ = ["ModelBased", "Robust", "Cluster", "Bootstrap", "MultiplierBootstrap",
           "WildBootstrap", "Randomization", "ConleyTaber", "Placebo", "MAX_REPS",
           "check_reps", "check_seed", "check_spec", "spec_from_old_options"]
