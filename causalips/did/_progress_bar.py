"""The progress bar of long resampling runs (placebos, bootstrap draws): tqdm, on stderr.

It appears only once a run has taken two seconds, so quick runs stay silent; ``enabled=False``
(the estimators' ``progress=False``) silences it entirely.
"""

from __future__ import annotations

from tqdm.auto import tqdm

#: seconds before the bar appears
DELAY = 2.0


def progress_bar(total: int, *, desc: str, unit: str, enabled: bool = True):
    """A tqdm bar over ``total`` steps; use as a context manager and call ``update(k)``."""
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, delay=DELAY,
                leave=False, dynamic_ncols=True)
