"""``lineage neo4j load`` and ``export-csv``: the attributed graph into Neo4j."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .group import cli
from .options import attribution_options, quiet_option, store_option
from .streams import note, progress_bar, write_data
from .summaries import format_load_summary

if TYPE_CHECKING:
    from ..analysis import Context


def neo4j_target_options(func: Callable) -> Callable:
    """--uri, --user, --password, --database, defaulting to Neo4j's usual variables."""
    func = click.option(
        "--database",
        envvar="NEO4J_DATABASE",
        show_envvar=True,
        default="neo4j",
        show_default=True,
        help="Database to load into.",
    )(func)
    func = click.option(
        "--password",
        envvar="NEO4J_PASSWORD",
        show_envvar=True,
        help="Password (prefer the variable: options show up in the process list).",
    )(func)
    func = click.option(
        "--user",
        envvar="NEO4J_USERNAME",
        show_envvar=True,
        default="neo4j",
        show_default=True,
        help="User name.",
    )(func)
    return click.option(
        "--uri",
        envvar="NEO4J_URI",
        show_envvar=True,
        default="bolt://localhost:7687",
        show_default=True,
        help="Bolt URI of the server (bolt://, neo4j://, +s for TLS).",
    )(func)


@cli.group("neo4j")
def neo4j_group() -> None:
    """Put the attributed graph into Neo4j, for Cypher in Neo4j Browser.

    \b
    Start Neo4j (compose.yaml in the repository), load, open http://localhost:7474:
      NEO4J_PASSWORD=... docker compose up -d neo4j
      NEO4J_PASSWORD=... lineage neo4j load
    Ready-made queries, and the graph model, are in cypher/ (see cypher/README.md).
    """


@neo4j_group.command("load")
@neo4j_target_options
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Rows per transaction.",
)
@click.option(
    "--prune/--no-prune",
    default=True,
    show_default=True,
    help="Delete models and organizations the store no longer has (the database mirrors "
    "the store).",
)
@attribution_options("declared")
@quiet_option
@store_option
def neo4j_load(
    uri: str,
    user: str,
    password: str | None,
    database: str,
    batch_size: int,
    prune: bool,
    ctx: Context,
) -> None:
    """Load the store's graph, with its attribution, into Neo4j.

    \b
    Examples:
      NEO4J_PASSWORD=secret lineage neo4j load
      lineage neo4j load --uri neo4j://db.example:7687 --database lineage --roots atom

    Creates the constraints and indexes of cypher/schema.cypher, then writes models,
    organizations, DERIVED_FROM, PUBLISHED_BY and ATTRIBUTED_TO in transactions of
    --batch-size rows. Loading again updates what changed and adds what is new, never
    duplicates; an interrupted load completes when run again. Ends with the counts.
    With --lineage both, inferred edges are DERIVED_FROM {lineage: 'inferred', method,
    confidence} (declared ones have lineage 'declared') and count in ATTRIBUTED_TO.
    """
    from ..neo4j.loader import Neo4jTarget

    target = Neo4jTarget(uri=uri, user=user, password=password, database=database)
    load_into_neo4j(ctx, target, batch_size=batch_size, prune=prune)


def _regions_source(ctx: Context) -> str | None:
    """The region table in words, when --regions extended the packaged one."""
    return f"packaged (ATOM) + {ctx.regions_file}" if ctx.regions_file else None


def load_into_neo4j(ctx: Context, target: Any, *, batch_size: int, prune: bool) -> None:
    """Load into Neo4j with a progress bar and a summary (--quiet: neither)."""
    from ..neo4j.loader import load

    with progress_bar() as progress:
        summary = load(
            ctx,
            target,
            batch_size=batch_size,
            prune=prune,
            progress=progress,
            regions_source=_regions_source(ctx),
        )
    from ..neo4j.loader import cypher_dir

    note(format_load_summary(summary))
    note(f"  queries to paste into Neo4j Browser: {cypher_dir()}")


@neo4j_group.command("export-csv")
@click.argument("directory", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--database",
    envvar="NEO4J_DATABASE",
    default="neo4j",
    show_default=True,
    help="Database named in the printed import command.",
)
@click.option(
    "--import-dir",
    metavar="PATH",
    help="Where neo4j-admin sees DIRECTORY, for the printed command (e.g. /import in the "
    "compose container) [default: DIRECTORY's absolute path].",
)
@attribution_options("declared")
@quiet_option
@store_option
def neo4j_export_csv(directory: str, database: str, import_dir: str | None, ctx: Context) -> None:
    """Write node and relationship CSV files for neo4j-admin database import full.

    \b
    Examples:
      lineage neo4j export-csv hub-import
      lineage neo4j export-csv ./neo4j-import --import-dir /import   # for compose.yaml

    The offline bulk loader is the fast way to put the whole Hub into a new database.
    Prints the import command on stdout. neo4j-admin creates no constraints or indexes:
    start Neo4j afterwards and run schema.cypher with cypher-shell -f (the note on stderr
    says where lineage installed it, with the queries for Neo4j Browser).
    """
    from ..neo4j.csv import export_csv
    from ..neo4j.loader import cypher_dir

    summary = export_csv(ctx, directory, regions_source=_regions_source(ctx))
    write_data(summary.command(database, import_dir=import_dir))
    files = ", ".join(f"{name} {rows:,}" for name, rows in summary.rows.items())
    schema = shlex.quote(str(cypher_dir() / "schema.cypher"))
    note(
        f"wrote {len(summary.rows) * 2} files to {summary.directory} in "
        f"{summary.seconds:.1f} s (rows: {files})\n"
        "stop Neo4j, run the command above, start Neo4j, then create the constraints "
        f'and indexes: cypher-shell -u neo4j -p "$NEO4J_PASSWORD" -f {schema}\n'
        f"the queries to paste into Neo4j Browser are beside it, in {cypher_dir()}"
    )
