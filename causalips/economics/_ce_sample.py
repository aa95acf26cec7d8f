"""The analysis sample of a cost-effectiveness fit, read from the data once.

Columns are read and checked, costs and effects discounted by year, person-year rows summed per
person, groups coded (reference first, the others sorted) and rows ordered by group - the order
the bootstrap's draws are defined on (see ``_bootstrap``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._checks import (
    _example_rows,
    as_dataframe,
    check_columns,
    check_not_empty,
    coded_column,
    numeric_column,
    refuse_missing,
)
from ..errors import DataError
from ._bootstrap import design, nested
from .decision import discount_factors

#: Fewer people (or clusters) than this in a group: bootstrap intervals may be too narrow.
FEW = 30


@dataclass(frozen=True)
class CESample:
    """People (rows) ordered by group; what the point estimates and every redraw need."""

    groups: tuple  # labels, reference first
    codes: np.ndarray  # group code of each row (0 = reference), non-decreasing
    sizes: np.ndarray  # people per group
    cost: np.ndarray
    effect: np.ndarray
    x: np.ndarray | None  # design (intercept, group dummies, centred covariates) or None
    clusters: np.ndarray | None  # cluster code of each row, when the plan clusters

    @property
    def n(self) -> int:
        return int(self.cost.size)

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.sizes)[:-1]]).astype(np.int64)


def read_sample(est, data) -> tuple[CESample, list[str]]:
    """The checked, discounted, per-person sample of ``est``'s plan, and warnings about it."""
    df = as_dataframe(data)
    cluster = est.inference.cluster
    roles = {"group": est.group, "cost": est.cost, "effect": est.effect, "year": est.year,
             "id": est.id, "cluster": cluster}
    for i, c in enumerate(est.covariates or ()):
        roles[f"covariates[{i}]"] = c
    check_columns(df, roles)
    check_not_empty(df)
    cost = numeric_column(df, est.cost, role="cost")
    effect = numeric_column(df, est.effect, role="effect")
    if not est.allow_negative_costs and np.any(cost < 0):
        neg = cost < 0
        raise DataError(
            f"column {est.cost!r} (the cost) has {int(neg.sum())} negative values (e.g. row "
            f"{_example_rows(df, neg)}: {float(cost[neg][0])!r}); costs cannot be negative. If "
            "these are net costs after savings, pass allow_negative_costs=True.")
    coded = _labelled(df, est.group, "group")
    groups = _ordered_groups(coded, est)
    cov = (np.column_stack([numeric_column(df, c, role="covariate") for c in est.covariates])
           if est.covariates else None)
    clusters = _labelled(df, cluster, "cluster").codes if cluster is not None else None
    if est.year is not None:
        year = numeric_column(df, est.year, role="year")
        bad = (year < 1) | (year != np.round(year))
        if bad.any():
            raise DataError(f"column {est.year!r} (the year) must hold whole years 1, 2, ... "
                            f"({int(bad.sum())} rows do not, e.g. row {_example_rows(df, bad)}: "
                            f"{float(year[bad][0])!r}); year 1 is undiscounted.")
        rate_cost, rate_effect = est._rates
        cost = cost * discount_factors(year, rate_cost)
        effect = effect * discount_factors(year, rate_effect)
    # codes in the order of `groups`: reference 0, then the others (a lookup over levels)
    position = {g: i for i, g in enumerate(groups)}
    codes = np.array([position[g] for g in coded.levels], dtype=np.int64)[coded.codes]
    if est.id is not None:
        codes, cost, effect, cov, clusters = _per_person(df, est, codes, cost, effect, cov,
                                                         clusters)
    order = np.argsort(codes, kind="stable")
    codes, cost, effect = codes[order], cost[order], effect[order]
    cov = None if cov is None else cov[order]
    clusters = None if clusters is None else clusters[order]
    sizes = np.bincount(codes, minlength=len(groups))
    return _finish(est, groups, codes, sizes, cost, effect, cov, clusters)


def _labelled(df, col, role):
    coded = coded_column(df, col)
    refuse_missing(df, col, role=role, mask=coded.missing,
                   advice=f"drop them or give them a {role}.")
    return coded


def _ordered_groups(coded, est) -> tuple:
    levels = list(coded.levels)
    if est.reference not in levels:
        shown = ", ".join(repr(v) for v in levels[:8])
        raise DataError(f"reference={est.reference!r} is not a group in column {est.group!r} "
                        f"(groups seen: {shown}); pass one of them.")
    if len(levels) < 2:
        raise DataError(f"column {est.group!r} has a single group ({levels[0]!r}); a "
                        "cost-effectiveness comparison needs the reference and at least one "
                        "other group.")
    reference = levels[levels.index(est.reference)]
    return (reference, *sorted((v for v in levels if v != est.reference), key=str))


def _per_person(df, est, codes, cost, effect, cov, clusters):
    """Sum discounted person-year rows per person (people, not rows, are resampled)."""
    person = pd.factorize(df[est.id])[0]  # in order of first appearance
    refuse_missing(df, est.id, role="id", mask=person < 0,
                   advice="every row needs its person.")
    frame = pd.DataFrame({"person": person, "group": codes, "cost": cost, "effect": effect})
    if clusters is not None:
        frame["cluster"] = clusters
    by = frame.groupby("person", sort=False)
    for col, role in (("group", f"group of {est.group!r}"), ("cluster", "cluster")):
        if col not in frame:
            continue
        several = by[col].nunique() > 1
        if several.any():
            label = df[est.id].to_numpy()[np.argmax(person == several.index[several][0])]
            raise DataError(f"person {label!r} (column {est.id!r}) appears in more than one "
                            f"{role}; each person must stay in one.")
    agg = by.agg(group=("group", "first"), cost=("cost", "sum"), effect=("effect", "sum"))
    if cov is not None:
        cov = pd.DataFrame(cov).groupby(person, sort=False).first().loc[agg.index]
        cov = cov.to_numpy(dtype=float)
    if clusters is not None:
        clusters = by["cluster"].first().loc[agg.index].to_numpy()
    return (agg["group"].to_numpy(np.int64), agg["cost"].to_numpy(float),
            agg["effect"].to_numpy(float), cov, clusters)


def _finish(est, groups, codes, sizes, cost, effect, cov, clusters):
    k = len(groups)
    small = [f"{groups[a]!r} ({sizes[a]})" for a in range(k) if sizes[a] < 2]
    if small:
        raise DataError(f"groups need at least 2 people each to bootstrap; too few in "
                        f"{', '.join(small)}")
    warns = [f"group {groups[a]!r} has only {sizes[a]} people; bootstrap intervals may be too "
             "narrow" for a in range(k) if sizes[a] < FEW]
    x = design(codes, k, cov) if cov is not None else None
    if x is not None and np.linalg.matrix_rank(x) < x.shape[1]:
        raise DataError("the covariates are collinear with each other or with the groups; "
                        f"drop one of {list(est.covariates)}")
    if x is not None and est.adjustment == "glm" and np.mean(cost) <= 0:
        raise DataError("a gamma log-link cost model needs positive mean costs")
    if clusters is not None:
        clusters = pd.factorize(clusters, sort=True)[0].astype(np.int64)
    arrays = [np.array(a) if a is not None else None  # own copies, read-only: results redraw
              for a in (codes, sizes, cost, effect, x, clusters)]
    for a in arrays:
        if a is not None:
            a.setflags(write=False)
    return CESample(tuple(groups), *arrays), warns


def cluster_warnings(sample: CESample, column: str) -> list[str]:
    """Warnings about too few clusters for a cluster bootstrap (per group when nested)."""
    few = ("a cluster bootstrap with few clusters gives intervals that are too narrow")
    if not nested(sample.codes, sample.clusters):
        g = int(sample.clusters.max()) + 1
        return [f"only {g} clusters ({column!r}); {few}"] if g < FEW else []
    first = np.unique(sample.clusters, return_index=True)[1]
    n_clusters = np.bincount(sample.codes[first], minlength=len(sample.groups))
    return [f"group {g!r} has only {c} clusters ({column!r}); {few}"
            for g, c in zip(sample.groups, n_clusters, strict=True) if c < FEW]
