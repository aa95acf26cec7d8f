"""A minimal progress display for the command line (stderr, only when it is a terminal)."""

from __future__ import annotations

import sys
import time


class Progress:
    """Step counter: ``with Progress(total) as p: p.step("fitting")``.

    Shows ``[2/5] fitting... (1.3 s)`` on a terminal; silent otherwise (CI, pipes, --json).
    """

    def __init__(self, total: int, *, enabled: bool | None = None, stream=None):
        self.total = max(1, int(total))
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            width = 24
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            elapsed = time.perf_counter() - self.start
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40} {elapsed:5.1f}s")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
        return False
