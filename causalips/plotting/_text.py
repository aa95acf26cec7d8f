"""Figures draw user labels as plain, short text, whoever calls the plotting function.

Site and group names come from the user's data. Matplotlib reads ``$...$`` in any text as
mathematics (``$\\frac{$`` in a site name stops the drawing with a parse error), and a
5,000-character label stretches a tight bounding box to tens of thousands of pixels. Every
public plotting function is wrapped in :func:`plain_text`: the texts it adds are set to plain
text and labels longer than :data:`LABEL_LIMIT` characters are shortened with an ellipsis
(titles may be twice as long); tick labels that come from data are escaped and shortened by
wrapping their formatter. What the caller drew on a given Axes before is left alone. The report
applies :func:`plain_text_figure` to figures it did not draw itself. Tables keep the full text.
"""

from __future__ import annotations

import functools

#: longest label drawn in a figure, in characters
LABEL_LIMIT = 40


def shorten(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (the last one an ellipsis) when longer.

    Example
    -------
    >>> shorten("Kingston upon Thames and Richmond", 12)
    'Kingston up…'
    """
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tick_text(text: str, limit: int) -> str:
    """A data tick label shortened, its dollar signs escaped (a tick never reads mathtext)."""
    return shorten(text, limit).replace("$", r"\$")


def plain_text_figure(fig, limit: int = LABEL_LIMIT, *, keep=frozenset(), keep_formatters=()
                      ) -> None:
    """Make the texts in ``fig`` plain (no mathtext) and at most ``limit`` characters long.

    Texts in ``keep`` and axes formatters in ``keep_formatters`` (what a caller drew before)
    are left as they are. Tick labels are made when the figure is drawn, so the formatters of
    data labels are wrapped instead.
    """
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        if text in keep or _is_tick_label(text):
            continue
        text.set_parse_math(False)
        content = text.get_text()
        if len(content) > 2 * limit or ("\n" not in content and len(content) > limit
                                         and not _is_title(text)):
            text.set_text(shorten(content, limit))
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_major_formatter() not in keep_formatters:
                _plain_tick_labels(axis, limit)


def _plain_tick_labels(axis, limit: int) -> None:
    """Wrap the formatter of tick labels that come from data (fixed or categorical), not
    numeric ticks; a formatter already wrapped is left alone."""
    from matplotlib.category import StrCategoryFormatter
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    formatter = axis.get_major_formatter()
    if getattr(formatter, "_causalips_plain", False):
        return
    if isinstance(formatter, FixedFormatter):
        formatter.seq = [_tick_text(s, limit) for s in formatter.seq]
    elif isinstance(formatter, FuncFormatter):  # what set_ticks(labels=...) leaves
        formatter.func = lambda x, pos, f=formatter.func: _tick_text(f(x, pos), limit)
    elif isinstance(formatter, StrCategoryFormatter):
        formatter = FuncFormatter(lambda x, pos, f=formatter: _tick_text(f(x, pos), limit))
        axis.set_major_formatter(formatter)
    else:
        return
    formatter._causalips_plain = True


def _is_tick_label(text) -> bool:
    axes = text.axes
    if axes is None:
        return False
    return any(text in (t.label1, t.label2)
               for axis in (axes.xaxis, axes.yaxis)
               for t in (*axis.majorTicks, *axis.minorTicks))


def _is_title(text) -> bool:
    axes = text.axes
    return axes is not None and text in (axes.title, axes._left_title, axes._right_title)


def _axes_given(args, kwargs):
    from matplotlib.axes import Axes

    return next((a for a in (*args, *kwargs.values()) if isinstance(a, Axes)), None)


def plain_text(draw):
    """Decorate a plotting function: what it draws shows labels as plain, short text."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        from matplotlib.text import Text

        given = _axes_given(args, kwargs)
        keep, keep_formatters = frozenset(), ()
        if given is not None:  # the caller's own texts and tick labels stay as they are
            keep = frozenset(given.get_figure().findobj(Text))
            keep_formatters = tuple(axis.get_major_formatter() for ax in given.get_figure().axes
                                    for axis in (ax.xaxis, ax.yaxis))
        ax = draw(*args, **kwargs)
        plain_text_figure(ax.get_figure(), keep=keep, keep_formatters=keep_formatters)
        return ax

    return drawn


__all__ = ["plain_text", "plain_text_figure", "shorten", "LABEL_LIMIT"]
