"""Old resampling keywords of the staggered and synthetic estimators, kept for one release.

``StaggeredDiD(reps=, bootstrap_weights=, seed=)``, ``SyntheticDiD(reps=, seed=)`` and
``SyntheticControl(placebos=)`` became inference specs passed as ``inference=``. They are not
pure renames (several keywords build one spec), so ``Estimator._renamed`` cannot translate them:
the helpers here build the spec, warn with a ``FutureWarning`` and refuse a mix of old and new.
"""

from __future__ import annotations

import warnings

from ..errors import SpecificationError


def _warn(where: str, old: str, new: str) -> None:
    warnings.warn(f"{where}({old}) is replaced by inference={new}; the old keywords will be "
                  "removed in the next release", FutureWarning, stacklevel=5)


def resampling_from_legacy(where: str, inference, default, build, **old):
    """The inference spec: ``inference`` itself, or the spec ``build(**old)`` makes from the old
    keywords (``old`` maps their names to their values, None when not given).

    ``default`` is the very object the signature uses as ``inference``'s default, so that an
    explicit ``inference=`` given together with old keywords is refused.
    """
    given = {k: v for k, v in old.items() if v is not None}
    if not given:
        return inference
    if inference is not default:
        raise SpecificationError(
            f"{where}: pass inference= only ({', '.join(f'{k}=' for k in given)} "
            "is its old spelling)")
    spec = build(**old)
    _warn(where, ", ".join(f"{k}={v!r}" for k, v in given.items()),
          "None" if spec is None else spec.describe())
    return spec


class DeprecatedAttribute:
    """An estimator attribute that moved into its inference spec (reads warn once per use)."""

    def __init__(self, read, instead: str):
        self.read = read
        self.instead = instead

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        warnings.warn(f"{owner.__name__}.{self.name} is deprecated; read {self.instead} "
                      "instead", FutureWarning, stacklevel=2)
        return self.read(obj)
