"""The columns of a Cox plan read where the data live (``_model_frame`` run as queries).

The engine-side twin of ``_model_frame`` and ``_model_matrix``: the same checks with the same
messages, the same rows dropped (missing values, zero weights) with the same warnings, factor
levels from one distinct query per factor, and the design columns as engine expressions
(0/1 indicators per factor level, log/sqrt/exp, products for interactions). Only counts,
levels and column summaries come back; messages show an example row's values (lazy tables
have no row labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

import narwhals as nw
import numpy as np
import pandas as pd

from .._checks import coded_column
from ..engine import Table, as_table
from ..engine.aggregate import event_indicator
from ..engine.checks import _example, _is_numeric, numeric_expr, require_columns
from ..errors import DataError, DroppedRowsWarning, EstimationError, SpecificationError, warn
from ._model_matrix import MAX_LEVELS, expand_terms, factor_info, source_columns

#: the plan's columns as the fit reads them (added to the engine's rows)
STOP, START, EVENT, WEIGHT = "__cx_stop", "__cx_start", "__cx_event", "__cx_w"
FACTOR_TYPES = (nw.String, nw.Categorical, nw.Enum, nw.Boolean)
#: log/sqrt/exp are finite exactly where these conditions fail (as numpy's)
DOMAIN = {"log": ("positive", lambda x: x <= 0), "sqrt": ("positive", lambda x: x < 0),
          "exp": ("moderate", lambda x: x > 709.78)}


@dataclass
class EngineModel:
    """The rows of a fit held by an engine, and what was learnt about them."""

    table: Table  # the rows used, with STOP (START), EVENT, WEIGHT, strata keys and x columns
    n: int
    n_events: int
    names: tuple[str, ...]
    assign: dict
    factors: dict
    indicator: tuple[bool, ...]
    x: list[str]  # the centred design columns of ``table``
    means: np.ndarray
    lower: np.ndarray  # min and max of the centred columns (a safe exp() shift)
    upper: np.ndarray
    strata: list[str]  # stratum key columns of ``table``
    clusters: list[str]
    has_entry: bool
    weighted: bool
    time_unit: str | None
    warnings: list[str] = field(default_factory=list)


def read_in_engine(plan, data) -> EngineModel:
    """Check the plan's columns in the engine and describe the rows a Cox fit uses."""
    table = as_table(data, what="data")
    roles = plan._roles()
    require_columns(table, roles)
    schema = table.schema
    used = [c for c in dict.fromkeys(roles.values()) if c is not None]
    stop, start, unit = _times(table, plan)
    warnings: list[str] = []
    fast_event = _numeric_event(schema, plan)
    weight = numeric_expr(table, plan.weights, "weights") if plan.weights else None
    # one query over the rows as given: count, missing values, the event coding and the
    # weights' signs (counted again on the kept rows only if rows were dropped)
    row_checks = _row_checks(plan, fast_event, weight)
    n, table, stats = _drop_missing(table, used, row_checks, warnings)
    if fast_event is not None and int(stats.get("__event_bad", 0) or 0) == 0:
        event = fast_event
    else:  # text codes, event_value=, or bad codes: the engine layer's checks and messages
        event = event_indicator(table, plan.event, event_value=plan.event_value)
    if weight is not None:
        n, table = _drop_zero_weights(table, plan.weights, weight, n, stats, warnings)
    else:
        weight = nw.lit(1.0)
    strata = [f"__cx_s{i}" for i in range(len(plan.strata))]
    frame = table.frame.with_columns(
        stop.alias(STOP), event.alias(EVENT), weight.alias(WEIGHT),
        *([start.alias(START)] if start is not None else []),
        *[_key(schema, s).alias(k) for s, k in zip(plan.strata, strata, strict=True)])
    table = Table(frame, table.backend, table.source)
    factors = {c for c in source_columns(plan._terms) if _is_factor(plan, schema, c)}
    design = _Design(table, factors, plan.reference, n)
    exprs, names, indicator, assign = expand_terms(plan._terms, design.part, _product)
    # one query over the rows used: the interval checks, the events, the transforms'
    # domains and the design columns' summaries (a transform only where it is finite)
    guarded = design.guarded(exprs)
    stats = table.collect(table.frame.select(**_time_checks(plan), **design.domain_counts(),
                                             **_summaries(guarded))).iloc[0]
    n_events = _check_times(table, plan, stats, n)
    if not names:
        raise SpecificationError("covariates is empty; a Cox model needs at least one term")
    design.check_domains(stats)
    p = len(exprs)
    means = np.array([float(stats[f"s{j}"]) for j in range(p)]) / n
    lower = np.array([float(stats[f"lo{j}"]) for j in range(p)]) - means
    upper = np.array([float(stats[f"hi{j}"]) for j in range(p)]) - means
    x = [f"__cx_x{j}" for j in range(p)]
    frame = table.frame.with_columns(*[(e - m).alias(c) for e, m, c in zip(exprs, means, x,
                                                                           strict=True)])
    return EngineModel(
        table=Table(frame, table.backend, table.source), n=n, n_events=n_events,
        names=tuple(names), assign=assign, factors=design.factors, indicator=tuple(indicator),
        x=x, means=means, lower=lower, upper=upper, strata=strata,
        clusters=plan._cluster_columns(), has_entry=start is not None,
        weighted=plan.weights is not None, time_unit=unit, warnings=warnings)


def _key(schema, column: str):
    """A stratum as a join key: categoricals as text (their codes differ between tables)."""
    if isinstance(schema[column], nw.Categorical | nw.Enum):
        return nw.col(column).cast(nw.String)
    return nw.col(column)


def _is_factor(plan, schema, column: str) -> bool:
    """As ``_model_matrix.factor_columns``: text, categorical and boolean columns, and columns
    named in ``categorical`` or ``reference``, are factors (when not transformed)."""
    plain = any(p.column == column and p.func is None for t in plan._terms for p in t.parts)
    return plain and (column in plan.categorical or column in plan.reference
                      or isinstance(schema[column], FACTOR_TYPES))


def _times(table: Table, plan):
    """The duration (and entry) as float expressions, and the unit timedeltas became."""
    schema = table.schema
    units = {c: ("days" if isinstance(schema[c], nw.Duration) else None)
             for c in (plan.duration, plan.entry) if c is not None}
    if len(set(units.values())) > 1:
        raise DataError(f"columns {list(units)} mix timedeltas and numbers; give both as "
                        "timedeltas or both as numbers of days")
    stop = numeric_expr(table, plan.duration, "duration")
    start = numeric_expr(table, plan.entry, "entry") if plan.entry else None
    return stop, start, units[plan.duration]


def _missing(schema, column: str):
    expr = nw.col(column).is_null()
    if isinstance(schema[column], nw.Float32 | nw.Float64):
        expr = expr | nw.col(column).is_nan()
    return expr


def _numeric_event(schema, plan):
    """The event as a float expression when the column is boolean or numeric (checked to be
    0/1 in the first query), else None."""
    if plan.event_value is not None:
        return None
    dtype = schema[plan.event]
    if isinstance(dtype, nw.Boolean) or (_is_numeric(dtype) and not isinstance(dtype, nw.Decimal)):
        return nw.col(plan.event).cast(nw.Float64)
    return None


def _row_checks(plan, event, weight) -> dict:
    out = {}
    if event is not None:
        out["__event_bad"] = (~event.is_in([0.0, 1.0])).cast(nw.Int64).sum()
    if weight is not None:
        out["__w_neg"] = (weight < 0).cast(nw.Int64).sum()
        out["__w_zero"] = (weight == 0).cast(nw.Int64).sum()
    return out


def _drop_missing(table: Table, columns: list[str], checks: dict, warnings: list[str]):
    """Rows with a missing value in any column of the plan are dropped (one warning).

    Returns (rows kept, the table of those rows, ``checks`` counted on them).
    """
    schema = table.schema
    counts = table.collect(table.frame.select(
        nw.len().alias("__n"), **checks,
        **{f"__miss_{i}": _missing(schema, c).cast(nw.Int64).sum()
           for i, c in enumerate(columns)})).iloc[0]
    n_all = int(counts["__n"])
    if n_all == 0:
        raise DataError("data has no rows; nothing to estimate.")
    holes = [c for i, c in enumerate(columns) if int(counts[f"__miss_{i}"] or 0)]
    if not holes:
        return n_all, table, counts
    incomplete = reduce(lambda a, b: a | b, [_missing(schema, c) for c in holes])
    kept = Table(table.frame.filter(~incomplete), table.backend, table.source)
    again = table.collect(kept.frame.select(nw.len().alias("__n"), **checks)).iloc[0]
    n_drop = n_all - int(again["__n"])
    if n_drop == n_all:
        raise DataError("no rows left after dropping rows with missing values")
    message = (f"{n_drop} of {n_all} rows dropped for missing values in {holes} (e.g. the "
               f"row with {_example(table, incomplete, holes)})")
    warn(message, DroppedRowsWarning, n_dropped=n_drop)
    warnings.append(message)
    return n_all - n_drop, kept, again


def _drop_zero_weights(table: Table, column: str, weight, n: int, stats, warnings: list[str]):
    """Negative weights are an error; rows of weight 0 are dropped (one warning)."""
    if int(stats["__w_neg"]):
        raise DataError(
            f"column {column!r} (the weights) has {int(stats['__w_neg'])} negative values (e.g. "
            f"the row with {_example(table, weight < 0, [column])}); case weights must be >= 0.")
    n_zero = int(stats["__w_zero"])
    if not n_zero:
        return n, table
    if n_zero == n:
        raise DataError(f"all weights in {column!r} are zero")
    message = (f"{n_zero} of {n} rows dropped with zero weight in {column!r} (e.g. the row "
               f"with {_example(table, weight == 0, [column])}); they carry no information")
    warn(message, DroppedRowsWarning, n_dropped=n_zero)
    warnings.append(message)
    return n - n_zero, Table(table.frame.filter(weight != 0), table.backend, table.source)


def _time_checks(plan) -> dict:
    stop, start = nw.col(STOP), nw.col(START)
    bad = (stop < 0) if plan.entry is None else ~(start < stop)
    return {"__bad": bad.cast(nw.Int64).sum(), "__events": nw.col(EVENT).sum()}


def _check_times(table: Table, plan, stats, n: int) -> int:
    """Durations >= 0 (or entry < duration) and at least one event; returns the events."""
    n_bad = int(stats["__bad"])
    if n_bad and plan.entry is None:
        raise DataError(
            f"column {plan.duration!r} (the duration) has {n_bad} negative values (e.g. the row "
            f"with {_example(table, nw.col(STOP) < 0, [plan.duration])}); durations count "
            "days from the start date, so check the dates that produced them.")
    if n_bad:
        raise DataError(
            f"{n_bad} rows have {plan.entry} >= {plan.duration} (e.g. the row with "
            f"{_example(table, ~(nw.col(START) < nw.col(STOP)), [plan.entry, plan.duration])});"
            " each interval must have entry < duration")
    n_events = int(round(float(stats["__events"] or 0)))
    if not n_events:
        raise EstimationError(
            f"there are no events in {plan.event!r} among the {n} rows used; a Cox model "
            "needs events")
    return n_events


def _summaries(exprs) -> dict:
    """Sums, minima and maxima of the design columns (means and a safe exp() shift)."""
    out = {}
    for j, e in enumerate(exprs):
        out.update({f"s{j}": e.sum(), f"lo{j}": e.min(), f"hi{j}": e.max()})
    return out


class _Design:
    """Design columns as engine expressions (the in-memory ``_Columns`` fills arrays)."""

    def __init__(self, table: Table, factors: set[str], reference: dict, n: int):
        self.table, self.factor_names, self.reference, self.n = table, factors, reference, n
        self.factors: dict[str, dict] = {}
        self._raw: dict[str, tuple] = {}
        self.domains: list[tuple] = []

    def part(self, part):
        if part.func is None and part.column in self.factor_names:
            info, raw = self._levels(part.column)
            exprs, names = [], []
            for value, level in zip(raw, info["levels"], strict=True):
                if level == info["reference"]:
                    continue
                exprs.append((nw.col(part.column) == value).cast(nw.Float64))
                names.append(f"{part.column}[{level}]")
            return exprs, names, True
        label = part.column if part.func is None else f"{part.func}({part.column})"
        x = numeric_expr(self.table, part.column, "covariate")
        if part.func is not None:
            self.domains.append((label, part, x))
            x = {"log": x.log, "sqrt": x.sqrt, "exp": x.exp}[part.func]()
        return [x], [label], False

    def _levels(self, column: str):
        """Levels of a factor from one distinct query (sorted as the in-memory coding)."""
        if column not in self.factors:
            frame = self.table.frame.filter(~nw.col(column).is_null()).select(column).unique()
            values = self.table.collect(frame.head(MAX_LEVELS + 1))
            if len(values) > MAX_LEVELS:  # factor_info refuses it with the count
                n_levels = int(self.table.collect(frame.select(nw.len().alias("k")))["k"].iloc[0])
                values = pd.DataFrame({column: np.arange(n_levels)})
            coded = coded_column(values, column)
            self.factors[column] = factor_info(coded, self.n, self.reference)
            self._raw[column] = coded.levels
        return self.factors[column], self._raw[column]

    def guarded(self, exprs) -> list:
        """The design columns, with a transform's rows outside its domain left empty (null):
        an engine may refuse log(0) outright, before the check could report it."""
        if not self.domains:
            return list(exprs)
        ok = reduce(lambda a, b: a & b, [~DOMAIN[p.func][1](x) for _, p, x in self.domains])
        return [nw.when(ok).then(e) for e in exprs]

    def domain_counts(self) -> dict:
        """Rows where a log/sqrt/exp term would not be finite, per transformed part."""
        return {f"__d{i}": DOMAIN[p.func][1](x).cast(nw.Int64).sum()
                for i, (_, p, x) in enumerate(self.domains)}

    def check_domains(self, counts) -> None:
        """log/sqrt/exp must be finite on every row used (the in-memory message)."""
        for i, (label, part, x) in enumerate(self.domains):
            if int(counts[f"__d{i}"]):
                need, bad = DOMAIN[part.func]
                raise DataError(
                    f"{label} is not finite for {int(counts[f'__d{i}'])} rows (e.g. the row "
                    f"with {_example(self.table, bad(x), [part.column])}); {part.func}() needs "
                    f"{need} values")


def _product(exprs):
    return reduce(lambda a, b: a * b, exprs)
