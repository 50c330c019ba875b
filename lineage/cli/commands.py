"""The ``lineage`` group with every command registered on it (importing this is the slow part
of the start-up: click, and each command module)."""

from . import analysis, crawl, export, history, infer, neo4j, report, store  # noqa: F401 (commands)
from .group import cli, give_every_command_quiet

give_every_command_quiet(cli)

__all__ = ["cli"]
