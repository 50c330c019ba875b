"""Progress on stderr for long work: a bar with counts, rate and ETA, only on a terminal.

When stderr is not a terminal (CI, pipes, cron) nothing is drawn; commands print only
their final summary. ``Progress(enabled=False)`` is the quiet variant.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


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
        """Start a new phase (closing the previous bar)."""
        self.close()
        if not self.enabled:
            return
        self._bar = tqdm(
            total=total,
            desc=description,
            unit=unit,
            file=self.file,
            dynamic_ncols=True,
            leave=False,
            smoothing=0.05,
        )

    def advance(self, n: int = 1, **postfix: object) -> None:
        if self._bar is None:
            return
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
