"""Publication tables: fitted results side by side (like ``fixest::etable`` / ``modelsummary``),
written as Markdown, LaTeX (booktabs), HTML and Word. See docs/tables.md."""

from .tables import Table, table

__all__ = ["Table", "table"]
