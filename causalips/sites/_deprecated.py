"""Old option and attribute names of the site estimators, still accepted for one release.

Pure renames are listed in each estimator's ``_renamed`` (handled in ``base.py``); here are the
two things a rename table cannot do: loose ``reps=`` / ``seed=`` becoming an
``inference=Bootstrap(...)`` spec, and reading a plan's old attribute names.
"""

from __future__ import annotations

from ..errors import warn
from ..inference import spec_from_old_options


def legacy_resampling(where: str, inference, reps, seed):
    """``inference`` as given, or the :class:`Bootstrap` spec that old ``reps=``/``seed=`` mean."""
    return spec_from_old_options(where, inference, reps=reps, seed=seed)


class LegacyAttributes:
    """Reading a plan's old attribute names (``est.ci``, ``est.reps``) warns and answers."""

    def __getattr__(self, name: str):
        cls = type(self)
        renamed = {**getattr(cls, "_renamed", {}), **getattr(cls, "_old_attributes", {})}
        if name in renamed:
            new = renamed[name]
            value = getattr(self, new)
        elif name in ("reps", "seed") and "inference" in getattr(cls, "_param_names", ()):
            new = f"inference.{name}"
            value = getattr(self.inference, name)
        else:
            raise AttributeError(f"{cls.__name__!s} has no attribute {name!r}")
        warn(f"{cls.__name__}.{name} is renamed {new}; the old name will be removed in the next "
             "release", FutureWarning)
        return value


def moved_names(old_module: str, moved: dict[str, str]):
    """A module ``__getattr__`` for an old module path: each name in ``moved`` (name -> the
    module under ``causalips.sites`` that holds it now) still imports, with a FutureWarning."""

    def __getattr__(name: str):
        from importlib import import_module

        if name not in moved:
            raise AttributeError(f"module {old_module!r} has no attribute {name!r}")
        warn(f"{old_module} is a deprecated module path; import {name} from causalips.sites (the "
             "old path will be removed in the next release)", FutureWarning)
        return getattr(import_module(f"causalips.sites.{moved[name]}"), name)

    return __getattr__
