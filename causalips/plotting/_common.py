"""Small helpers shared by the plotting functions."""

from __future__ import annotations


def get_ax(ax=None, *, figsize=(7, 4.5)):
    """Return ``ax`` or a fresh Axes on a new figure (never the implicit current one)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def step_xy(times, values, start_value):
    """x, y of a right-continuous step function equal to ``start_value`` before the first time."""
    import numpy as np

    x = np.concatenate([[0.0], np.repeat(np.asarray(times, dtype=float), 2)])
    prev = np.concatenate([[start_value], np.asarray(values, dtype=float)])
    y = np.empty(x.size)
    y[0] = start_value
    y[1::2] = prev[:-1]
    y[2::2] = prev[1:]
    return x, y


PALETTE = ("#1b6ca8", "#d1495b", "#66a182", "#edae49", "#6d597a", "#00798c", "#8d6a9f", "#a44a3f")
