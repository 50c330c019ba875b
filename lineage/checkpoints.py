"""The test hook: named points where a writer can be killed or stopped on purpose.

``LINEAGE_TEST_HOOK="STEP=ACTION[,STEP=ACTION...]"`` makes the process kill itself
(``kill``: SIGKILL) or stop (``stop``: SIGSTOP, for the test to send SIGCONT) when it
reaches STEP. Tests use it to cut commits, journal removals and derived-state writes at
exact points (tests/storecheck.py drives it); the variable is read nowhere else, and
without it :func:`checkpoint` does nothing.

Writers (lineage.store, lineage.journal, lineage.derived, lineage.backfill) call
:func:`checkpoint`; this module imports only the standard library and lineage.settings,
nothing of the tests.
"""

from __future__ import annotations

import os
import signal

from .settings import test_hook_spec


def checkpoint(step: str) -> None:
    """The test hook: die or stop at ``step`` when ``LINEAGE_TEST_HOOK`` names it.

    Steps: ``commit:wrote:<file>`` (a temporary file written), ``commit:manifest`` (the
    commit point passed), ``commit:renamed:<file>``, ``commit:done``, ``commit:removed:<file>``
    (a file the commit dropped from the store, such as a delta folded into its base, deleted);
    in the journal, ``journal:recorded:<event>``, ``journal:summary``, ``journal:committed``
    (renamed to its tombstone) and ``journal:removing`` (pages and events deleted; plan and
    summary not yet).
    ``<file>`` is store-relative (``models.parquet``, ``models-delta.parquet``,
    ``snapshots/date=2026-01-05/part-0.parquet``, ``lineage-store.json`` when a commit
    upgrades the store's format).

    Examples
    --------
    >>> checkpoint("commit:manifest")  # nothing happens unless the variable asks
    """
    spec = test_hook_spec()
    if not spec:
        return
    for item in spec.split(","):
        name, _, action = item.strip().rpartition("=")  # (file names hold "=" too)
        if name == step and action in ("kill", "stop"):
            os.kill(os.getpid(), signal.SIGKILL if action == "kill" else signal.SIGSTOP)
