"""Old resampling keywords of the staggered and synthetic estimators, kept for one release.

``StaggeredDiD(reps=, bootstrap_weights=, seed=)``, ``SyntheticDiD(reps=, seed=)`` and
``SyntheticControl(placebos=)`` became inference specs passed as ``inference=``. They are not
pure renames (several keywords build one spec), so ``Estimator._renamed`` cannot translate them:
``inference.spec_from_old_options`` (named ``resampling_from_legacy`` here) builds the
spec, warns with a ``FutureWarning`` and refuses a mix of old and new.
"""

from __future__ import annotations

from ..errors import warn
from ..inference import spec_from_old_options as resampling_from_legacy


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
        warn(f"{owner.__name__}.{self.name} is deprecated; read {self.instead} instead",
             FutureWarning)
        return self.read(obj)


__all__ = ["resampling_from_legacy", "DeprecatedAttribute"]
