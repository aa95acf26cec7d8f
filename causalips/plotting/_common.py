"""Small helpers shared by the plotting functions."""

from __future__ import annotations


def get_ax(ax=None, *, figsize=(7, 4.5)):
    """Return ``ax`` or a fresh Axes on a new figure (never the implicit current one)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig, new_ax = plt.subplots(figsize=figsize)
    return new_ax


PALETTE = ("#1b6ca8", "#d1495b", "#66a182", "#edae49", "#6d597a", "#00798c", "#8d6a9f", "#a44a3f")
