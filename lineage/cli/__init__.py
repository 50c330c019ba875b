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
"""

from . import analysis, crawl, export, history, infer, neo4j, report, store  # noqa: F401 (commands)
from .group import cli, main

__all__ = ["cli", "main"]
