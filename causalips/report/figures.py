"""Figures as the report publishes them: labels as plain, short text.

Site and group names come from the user's data. Matplotlib reads ``$...$`` in any text as
mathematics (``$\\frac{$`` in a site name stops the drawing with a parse error), and a
5,000-character label stretches a tight bounding box to tens of thousands of pixels. Before a
figure is saved into a report every text in it is set to plain text and labels longer than
:data:`LABEL_LIMIT` characters are shortened with an ellipsis; tables keep the full text.
"""

from __future__ import annotations

#: longest label drawn in a figure, in characters
LABEL_LIMIT = 40


def shorten(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (the last one an ellipsis) when longer."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_text_figure(fig, limit: int = LABEL_LIMIT) -> None:
    """Make every text in ``fig`` plain (no mathtext) and at most ``limit`` characters long.

    Tick labels are made when the figure is drawn, so the axes' formatters are wrapped too.
    Titles may be longer than labels (twice the limit).
    """
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        text.set_parse_math(False)
        content = text.get_text()
        if len(content) > 2 * limit or ("\n" not in content and len(content) > limit
                                         and not _is_title(text)):
            text.set_text(shorten(content, limit))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            _shorten_labels(axis, limit)
        for label in (*ax.get_xticklabels(), *ax.get_yticklabels()):
            label.set_parse_math(False)


def _shorten_labels(axis, limit: int) -> None:
    """Shorten tick labels that come from data (fixed or categorical), not numeric ticks."""
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    formatter = axis.get_major_formatter()
    if isinstance(formatter, FixedFormatter):
        formatter.seq = [shorten(s, limit) for s in formatter.seq]
    elif isinstance(formatter, FuncFormatter):  # what set_ticks(labels=...) leaves
        formatter.func = lambda x, pos, f=formatter.func: shorten(f(x, pos), limit)
    elif isinstance(formatter, StrCategoryFormatter):
        axis.set_major_formatter(FuncFormatter(lambda x, pos, f=formatter: shorten(f(x, pos),
                                                                                   limit)))


def _is_title(text) -> bool:
    axes = text.axes
    return axes is not None and text in (axes.title, axes._left_title, axes._right_title)


__all__ = ["plain_text_figure", "shorten", "LABEL_LIMIT"]
