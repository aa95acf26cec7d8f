"""How the economics estimators take their draws: one ``Bootstrap`` spec, passed as ``inference=``.

``CostEffectiveness`` resamples people (or whole clusters), ``ParametricSurvival`` draws model
parameters and ``ReturnOnInvestment`` draws its uncertain inputs; all three read the number of
draws and the seed from the same :class:`~causalips.inference.Bootstrap`, checked in
``inference.py``. The loose ``reps=`` / ``seed=`` options of earlier releases still work for one
release: they build the spec, with a ``FutureWarning``; :func:`renamed` keeps other old
attribute names readable for that release.
"""

from __future__ import annotations

from ..errors import SpecificationError, warn
from ..inference import Bootstrap, check_spec, spec_from_old_options


def bootstrap_spec(where: str, inference, *, reps=None, seed=None, default_reps: int = 2000,
                   what: str, cluster: bool = False) -> Bootstrap:
    """The plan's Bootstrap: ``inference`` as given, or one built from the old reps/seed.

    ``what`` says what is drawn (for messages); ``cluster`` says whether ``Bootstrap(cluster=)``
    applies (only where rows are resampled).
    """
    check_spec(inference, (Bootstrap,), where=where, argument="inference")
    inference = spec_from_old_options(
        where, inference, reps=reps, seed=seed,
        build=lambda reps, seed: Bootstrap(reps=default_reps if reps is None else reps,
                                           seed=seed))
    if inference is None:
        inference = Bootstrap(reps=default_reps)
    if inference.cluster is not None and not cluster:
        raise SpecificationError(
            f"{where} draws {what}, not rows of the data, so Bootstrap(cluster=) does not apply; "
            f"use Bootstrap(reps=..., seed=...)")
    return inference


def redraw_spec(where: str, spec, *, what: str, cluster: bool = False) -> Bootstrap:
    """The spec given to a result's ``with_inference``: a Bootstrap, checked as in the plan."""
    if spec is None:
        raise SpecificationError(f"{where} results: with_inference() needs a spec, e.g. "
                                 "Bootstrap(reps=5000, seed=1)")
    return bootstrap_spec(f"{where} results", spec, what=what, cluster=cluster)


def renamed(old: str, new: str) -> property:
    """A read-only attribute ``old`` that still gives ``new`` (a dotted path), with a warning."""

    def get(self):
        warn(f"{type(self).__name__}.{old} is renamed {new}; {old} will be removed in the next "
             "release", FutureWarning)
        value = self
        for part in new.split("."):
            value = getattr(value, part)
        return value

    return property(get, doc=f"Deprecated name of ``{new}``.")


class DeprecatedDrawOptions:
    """``estimator.reps`` / ``estimator.seed`` of earlier releases: read from ``inference``."""

    reps = renamed("reps", "inference.reps")
    seed = renamed("seed", "inference.seed")
