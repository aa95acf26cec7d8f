"""Self-contained HTML reports built from results' report sections.

One file, figures embedded as PNG data, no scripts or network requests, every piece of user text
escaped, small counts suppressed.
"""

from ..disclosure import suppress_small_counts
from .html import render_html, write_report
from .tables import write_tables

__all__ = ["render_html", "write_report", "write_tables", "suppress_small_counts"]
