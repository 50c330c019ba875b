"""The ``lineage`` command: a thin click layer over the library.

Each command parses options, calls one library function and renders its result. Exit
codes: 0 success; 1 a known failure (one line on stderr: ``error: ...``); 2 a usage
error (click's usage message, before any output); 130 interrupted (work done so far is
kept). ``--debug`` (or ``LINEAGE_DEBUG=1``) shows tracebacks.

One module a part: :mod:`~lineage.cli.group` (the group, and the one place known errors become
one line and an exit code), :mod:`~lineage.cli.options` (options more than one command takes,
each declared once), :mod:`~lineage.cli.streams` (data to stdout, notes and progress to
stderr), :mod:`~lineage.cli.summaries` (the lines long commands end with), then one module per
command group: ``crawl``, ``store`` (info, snapshots, ingest), ``analysis`` (share, families,
tree, quality, regions), ``infer``, ``history`` (diff, adoption), ``neo4j``, ``export``,
``report``.

This package's own import is cheap: :func:`main` takes over Ctrl-C (:mod:`lineage.interrupts`)
before it imports click and the commands, so that a Ctrl-C during start-up is one line, not a
traceback from inside an import. ``cli`` (the click group) is imported when first asked for.
"""

from __future__ import annotations

from typing import Any

__all__ = ["cli", "main"]


def main() -> None:
    """Console-script entry point."""
    from .. import interrupts
    from ..checkpoints import checkpoint

    interrupts.install()
    from .commands import cli

    checkpoint("start:imported")
    cli(prog_name="lineage")


def __getattr__(name: str) -> Any:
    if name == "cli":
        from .commands import cli

        return cli
    raise AttributeError(f"module 'lineage.cli' has no attribute {name!r}")
