"""Replication cases: re-derive published IPS results and show published beside reproduced.

Each module in this package defines ``CASE``, a :class:`ReplicationCase`. They are discovered
automatically, so adding a study means adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import Comparison, ReplicationCase, ReplicationResult


def cases() -> dict[str, ReplicationCase]:
    """All registered cases by name, in a stable order."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        case = getattr(module, "CASE", None)
        if isinstance(case, ReplicationCase):
            found[case.name] = case
    return found


def replicate(name: str, **options) -> ReplicationResult:
    """Run one case by name (see :func:`cases`)."""
    from .._checks import check_choice

    all_cases = cases()
    check_choice("case", name, tuple(all_cases))
    return all_cases[name].run(**options)


__all__ = ["cases", "replicate", "ReplicationCase", "ReplicationResult", "Comparison"]
