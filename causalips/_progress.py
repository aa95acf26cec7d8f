"""The progress bar of long runs (resampling draws, placebos, design blocks, the demo): tqdm.

One helper, so every bar behaves alike: it goes to stderr, appears only once a run has taken
:data:`DELAY` seconds (quick runs stay silent), disappears when done, and ``enabled=False`` (the
``progress=False`` of every resampling spec) silences it. The CLI's ``--quiet`` sets
``TQDM_DISABLE``, which silences every bar at once.
"""

from __future__ import annotations

from tqdm.auto import tqdm

#: seconds before a bar appears
DELAY = 2.0


def progress_bar(total: int | None = None, *, desc: str, unit: str, enabled: bool = True,
                 delay: float | None = None):
    """A tqdm bar over ``total`` steps (None: a counter); a context manager with ``update(k)``.

    ``delay`` overrides :data:`DELAY` for runs known to be long (the demo shows its bar at once).

    Example
    -------
    >>> with progress_bar(3, desc="draws", unit="draw", enabled=False) as bar:
    ...     bar.update(3)
    """
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled,
                delay=DELAY if delay is None else delay,
                leave=False, dynamic_ncols=True)


__all__ = ["progress_bar", "DELAY"]
