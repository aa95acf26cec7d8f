"""Replication cases: re-derive published IPS results and show published beside reproduced.

From Python, ``causalips.replications()`` lists the cases and ``causalips.replicate(name)`` runs
one; on the command line, ``causalips replicate [NAME]``. Each module in this package defines
``CASE``, a :class:`ReplicationCase`. They are discovered automatically, so adding a study means
adding a module.
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


def replications():
    """The published studies that can be replicated: a table of ``name``, ``title``, ``tags``.

    Example
    -------
    >>> import causalips as ci
    >>> "norway_did" in ci.replications()["name"].tolist()
    True
    """
    import pandas as pd

    return pd.DataFrame([{"name": c.name, "title": c.title, "tags": ", ".join(c.tags)}
                         for c in cases().values()], columns=["name", "title", "tags"])


def replicate(name: str, **options) -> ReplicationResult:
    """Run one replication case by name; its result puts published beside reproduced figures.

    ``options`` go to the case (e.g. ``reps=``, ``seed=`` where it resamples). The result has
    ``table()`` (one row per published figure), ``summary()``, ``to_dict()``, the fitted
    ``results`` behind it and its report ``sections``.

    Example
    -------
    >>> import causalips as ci
    >>> res = ci.replicate("making_ips_work")
    >>> list(res.table().columns)
    ['quantity', 'published', 'reproduced', 'note']
    """
    from .._checks import check_choice

    all_cases = cases()
    check_choice("case", name, tuple(all_cases))
    return all_cases[name].run(**options)


__all__ = ["cases", "replications", "replicate", "ReplicationCase", "ReplicationResult",
           "Comparison"]
