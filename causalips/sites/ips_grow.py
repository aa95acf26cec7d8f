"""The IPS Grow employment-rate rule and the mapping of status-at-first-contact values.

An employment rate by the IPS Grow method counts only people unemployed at first contact. Which
values of a status column mean "in work", "education only" and "unemployed" is part of the plan:
every value must be named in one of the three sets, because a value that fell into a default
would change the denominator without a word (an in-work label spelled ``"employed"`` would count
those people as unemployed and lower the rate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import narwhals as nw
import numpy as np
import pandas as pd

from .._checks import _plain, as_dataframe, check_columns, weight_column
from ..engine.frames import Table
from ..errors import DataError, SpecificationError
from ._people import Key, count_people, keep_rows

IPS_GROW_RULE = (
    "IPS Grow employment rate: only people unemployed at first contact count; people in work at "
    "first contact (job retention) and people supported only in education are excluded"
)
#: The three sets of status values, in the order they are checked, with what each means.
STATUS_SETS = {"in_work": "in work at first contact (job retention: excluded)",
               "education": "supported in education only (excluded)",
               "unemployed": "unemployed at first contact (counted)"}
DEFAULT_STATUSES = {"in_work": ("in_work",), "education": ("education",),
                    "unemployed": ("unemployed",)}


class UnknownStatusError(DataError):
    """Status values that none of the configured sets names (or missing statuses).

    Attributes
    ----------
    column : str
        The status column.
    unmapped : Mapping
        Each value not named in a set -> its number of rows (missing values under ``None``).
    seen : tuple
        Every distinct value of the column (sorted by text).
    mapping : Mapping
        The sets as given: ``{"in_work": (...), "education": (...), "unemployed": (...)}``.
    example_row :
        Index label of the first row with an unmapped value (None for data held by an engine,
        which have no row labels).

    ``explain(spell)`` rewrites the message with another spelling of the option names: the API
    says ``in_work=``; a report config would pass ``spell=lambda name: f"{name} = [...]"``.
    """

    def __init__(self, *, column, unmapped, seen, mapping, example_row):
        self.column = column
        self.unmapped = dict(unmapped)
        self.seen = tuple(seen)
        self.mapping = {k: tuple(v) for k, v in mapping.items()}
        self.example_row = example_row
        super().__init__(self.explain())

    def explain(self, spell: Callable[[str], str] = lambda name: f"{name}=") -> str:
        """The message, naming the options as ``spell(option_name)`` spells them."""
        counts = ", ".join(
            f"{'missing' if v is None else repr(v)} ({k} row{'s' if k != 1 else ''})"
            for v, k in self.unmapped.items())
        options = ", ".join(f"{spell(name)} ({what})" for name, what in STATUS_SETS.items())
        given = "; ".join(f"{spell(name)} {list(values)}" for name, values in self.mapping.items())
        missing_hint = (" Rows with no status cannot be placed: record it or drop them."
                        if None in self.unmapped else "")
        example = "" if self.example_row is None else f"; e.g. row {self.example_row!r}"
        return (f"column {self.column!r} (the status at first contact) has values that no set "
                f"names: {counts}{example}. Values seen: "
                f"{', '.join(repr(v) for v in self.seen)}. Name every value in one of "
                f"{options}; now {given}.{missing_hint}")


def status_sets(*, in_work: Sequence, education: Sequence,
                unemployed: Sequence) -> dict[str, tuple]:
    """The three sets as tuples, refusing a bare string (a set of letters) and overlaps."""
    sets = {}
    for name, values in (("in_work", in_work), ("education", education),
                         ("unemployed", unemployed)):
        if isinstance(values, str) or not hasattr(values, "__iter__"):
            raise SpecificationError(
                f"{name} must be a list of status values, e.g. {name}=[{values!r}]; "
                f"got {values!r}")
        sets[name] = tuple(_plain(v) for v in values)
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = set(sets[a]) & set(sets[b])
            if both:
                raise SpecificationError(
                    f"status values {sorted(both, key=str)} are in both {a}= and {b}=; "
                    "each value means one thing")
    return sets


def classify_status(df: pd.DataFrame, status: str, sets: Mapping[str, Sequence]
                    ) -> dict[str, np.ndarray]:
    """Boolean masks of the rows in each set; any value in none of them stops with
    :class:`UnknownStatusError` listing what was seen."""
    s = df[status]
    masks = {name: s.isin(list(values)).to_numpy() for name, values in sets.items()}
    placed = np.logical_or.reduce(list(masks.values()))
    if not placed.all():
        stray = s[~placed]
        counts = stray.value_counts(dropna=False, sort=False)
        unmapped = {None if pd.isna(v) else _plain(v): int(k) for v, k in counts.items()}
        seen = sorted((_plain(v) for v in pd.unique(s.dropna())), key=str)
        raise UnknownStatusError(column=status, unmapped=unmapped, seen=seen, mapping=sets,
                                 example_row=_plain(df.index[np.argmin(placed)]))
    return masks


def ips_grow_denominator(
    data: pd.DataFrame,
    *,
    status: str,
    in_work: Sequence = DEFAULT_STATUSES["in_work"],
    education: Sequence = DEFAULT_STATUSES["education"],
    unemployed: Sequence = DEFAULT_STATUSES["unemployed"],
    weight: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the IPS Grow employment-rate rule: keep only people unemployed at first contact.

    Parameters
    ----------
    data : DataFrame
        One row per person (or a count with ``weight``).
    status : str
        Column with the status at first contact.
    in_work, education, unemployed : sequence
        Values of ``status`` meaning "in work at first contact" (job retention, excluded),
        "supported in education only" (excluded) and "unemployed at first contact" (counted).
        Every value of the column must be in exactly one set: any other value (or a missing
        status) stops with :class:`UnknownStatusError` listing the values seen.
    weight : str, optional
        Column of counts: a row stands for that many people.

    Returns
    -------
    (kept, record) : the rows that count, and a table of how many were excluded and why.

    Example
    -------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"status": ["unemployed", "in_work", "education", "unemployed"]})
    >>> kept, record = ips_grow_denominator(df, status="status")
    >>> len(kept), record["n"].tolist()
    (2, [4, 1, 1, 2])
    """
    df = as_dataframe(data)
    check_columns(df, {"status": status, "weight": weight})
    sets = status_sets(in_work=in_work, education=education, unemployed=unemployed)
    masks = classify_status(df, status, sets)
    w = weight_column(df, weight)
    keep = masks["unemployed"]
    record = denominator_record(float(w.sum()), w[masks["in_work"]].sum(),
                                w[masks["education"]].sum(), w[keep].sum())
    return df.loc[keep], record


def denominator_record(total: float, in_work: float, education: float,
                       counted: float) -> pd.DataFrame:
    """The table of how many people the IPS Grow rule excluded and why."""
    rows = [("all people", total),
            ("excluded: in work at first contact", in_work),
            ("excluded: education only", education),
            ("counted (unemployed at first contact)", counted)]
    record = pd.DataFrame(rows, columns=["step", "n"])
    record["percent"] = 100 * record["n"] / total if total > 0 else np.nan
    if np.allclose(record["n"], np.round(record["n"])):
        record["n"] = record["n"].round().astype(np.int64)
    return record


def ips_grow_in_engine(table: Table, *, status: str, sets: Mapping[str, Sequence],
                       weight: str | None = None) -> tuple[Table, pd.DataFrame]:
    """:func:`ips_grow_denominator` for data held by an engine: the people per status value are
    counted there (the same :class:`UnknownStatusError`, its values from that distinct query),
    and the rows that count stay there, filtered."""
    counts = count_people(table, keys=[Key(status, "status at first contact", advice=None)],
                          weight=weight)
    values = counts.keys[status]
    missing = values.isna().to_numpy()
    placed = {name: values.isin(list(v)).to_numpy() & ~missing for name, v in sets.items()}
    stray = ~np.logical_or.reduce(list(placed.values()))
    if stray.any():
        unmapped: dict = {}
        for value, gap, rows in zip(values[stray], missing[stray], counts.rows[stray]):
            label = None if gap else _plain(value)
            unmapped[label] = unmapped.get(label, 0) + int(rows)
        unmapped = dict(sorted(unmapped.items(), key=lambda kv: (kv[0] is None, str(kv[0]))))
        seen = sorted((_plain(v) for v in values[~missing]), key=str)
        raise UnknownStatusError(column=status, unmapped=unmapped, seen=seen, mapping=sets,
                                 example_row=None)
    sums = {name: float(counts.n[mask].sum()) for name, mask in placed.items()}
    record = denominator_record(float(counts.n.sum()), sums["in_work"], sums["education"],
                                sums["unemployed"])
    return keep_rows(table, nw.col(status).is_in(list(sets["unemployed"]))), record


__all__ = ["ips_grow_denominator", "IPS_GROW_RULE", "UnknownStatusError", "classify_status",
           "status_sets", "denominator_record", "ips_grow_in_engine"]
