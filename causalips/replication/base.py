"""The shape of a replication case and its result."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ..base import ReportSection, Summary


@dataclass(frozen=True)
class Comparison:
    """One published figure beside the reproduced one."""

    quantity: str
    published: float | str
    reproduced: float | str
    note: str = ""


@dataclass(frozen=True)
class ReplicationResult:
    """What a case produced: the comparisons, the results behind them, and report sections."""

    case: str
    citation: str
    data_note: str
    comparisons: tuple[Comparison, ...]
    sections: tuple[ReportSection, ...] = ()
    results: tuple = ()

    def table(self) -> pd.DataFrame:
        return pd.DataFrame([c.__dict__ for c in self.comparisons])

    def summary(self) -> Summary:
        return Summary(title=f"Replication: {self.case}", header=(("source", self.citation),
                       ("data", self.data_note)), tables=(("Published vs reproduced", self.table()),))

    def __str__(self) -> str:
        return str(self.summary())

    def report_section(self) -> ReportSection:
        return ReportSection(
            title=f"Replication: {self.case}",
            paragraphs=(self.citation, self.data_note),
            tables=(("Published vs reproduced", self.table(), ()),),
        )

    def to_dict(self) -> dict:
        from ..base import json_safe

        return json_safe({"case": self.case, "citation": self.citation, "data": self.data_note,
                          "comparisons": [c.__dict__ for c in self.comparisons]})


@dataclass(frozen=True)
class ReplicationCase:
    """A published study to reproduce.

    ``runner(**options)`` returns a :class:`ReplicationResult`. ``in_demo`` says whether
    ``causalips demo`` runs it (keep demo cases to a few seconds).
    """

    name: str
    title: str
    runner: Callable[..., ReplicationResult]
    in_demo: bool = True
    tags: Sequence[str] = field(default_factory=tuple)

    def run(self, **options) -> ReplicationResult:
        return self.runner(**options)
