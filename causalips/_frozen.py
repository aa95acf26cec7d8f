"""Immutability in depth: what ``Result._freeze`` turns a result's attributes into.

Arrays become read-only views, dicts :class:`FrozenMapping`, lists tuples, records (dataclasses)
frozen copies; tables are kept aside and handed out as copies, so that nothing a reader does
with what they get can change the result (``with_inference`` reads the fit back from it).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd


class FrozenMapping(Mapping):
    """A read-only mapping whose tables come out as copies (a result's ``info``, ``details``)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping) -> None:
        object.__setattr__(self, "_data", {k: freeze(v) for k, v in data.items()})

    def __getitem__(self, key):
        return thawed(self._data[key])

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
        return {k: v.to_dict() if isinstance(v, FrozenMapping) else thawed(v)
                for k, v in self._data.items()}


def freeze(value: Any) -> Any:
    """A read-only version of ``value``: arrays as read-only views, dicts as FrozenMapping,
    lists as tuples (recursively). Tables are kept and handed out as copies on access.

    Example
    -------
    >>> frozen = freeze({"coef": np.zeros(2), "terms": ["a", "b"]})
    >>> frozen["terms"], frozen["coef"].flags.writeable
    (('a', 'b'), False)
    """
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


def thawed(value: Any) -> Any:
    """What a reader gets: a copy of a table (so changing it cannot change the result)."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy()
    return value


__all__ = ["FrozenMapping", "freeze", "thawed"]
