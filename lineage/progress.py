"""Progress on stderr for long work: a bar with counts, rate and ETA, only on a terminal.

When stderr is not a terminal (CI, pipes, cron) nothing is drawn; commands print only
their final summary. ``Progress(enabled=False)`` is the quiet variant.

A phase's total is what the caller knows, never a guess: with ``total=None`` the bar counts
(pages, and the models in the postfix) and shows the rate, with no ETA; a bar whose count
outgrows its total drops the total rather than show a wrong ETA. A terminal that reports
zero columns (a pty nobody sized, some CI consoles) still gets a one-line status, 80
columns wide, instead of nothing.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tqdm import tqdm

FALLBACK_COLUMNS, FALLBACK_ROWS = 80, 24


def _columns(file: TextIO) -> int:
    """The terminal's width in columns, 0 when it reports none (or is no terminal)."""
    try:
        return os.get_terminal_size(file.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


class Progress:
    """A phase-by-phase progress bar.

    Examples
    --------
    >>> p = Progress(enabled=False)
    >>> p.phase("walking", total=None, unit="req")
    >>> p.advance(3, models=120)
    >>> p.close()
    """

    def __init__(self, enabled: bool | None = None, file: TextIO | None = None) -> None:
        self.file = file or sys.stderr
        if enabled is None:
            enabled = self.file.isatty()
        self.enabled = enabled
        self._bar: tqdm | None = None

    def phase(self, description: str, *, total: int | None = None, unit: str = "req") -> None:
        """Start a new phase (closing the previous bar); ``total=None``: not known yet."""
        self.close()
        if not self.enabled:
            return
        sized = _columns(self.file) > 0
        self._bar = tqdm(
            total=total,
            desc=description,
            unit=unit,
            file=self.file,
            # tqdm draws nothing on a 0-column terminal; a fixed width still shows a line.
            dynamic_ncols=sized,
            ncols=None if sized else FALLBACK_COLUMNS,
            nrows=None if sized else FALLBACK_ROWS,
            leave=False,
            smoothing=0.05,
        )

    def advance(self, n: int = 1, **postfix: object) -> None:
        if self._bar is None:
            return
        if self._bar.total is not None and self._bar.n + n > self._bar.total:
            self._bar.total = None  # the work outgrew its estimate: count on, no ETA
        if postfix:
            self._bar.set_postfix(
                {k: v for k, v in postfix.items() if v is not None}, refresh=False
            )
        self._bar.update(n)

    def describe(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_description_str(text, refresh=True)

    def message(self, text: str) -> None:
        """A line above the bar (e.g. 'rate limited, waiting 40 s')."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.file)
        else:
            print(text, file=self.file)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
