"""Plotting: pure functions ``f(result, *, ax=None, **style) -> Axes``. No estimation here."""
