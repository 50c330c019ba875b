"""``lineage crawl``: model families (or the whole Hub) into the store."""

from __future__ import annotations

from typing import Any, get_args

import click

from ..errors import InputError
from ..vocabulary import (
    Strategy,
)
from .group import cli
from .neo4j import load_into_neo4j
from .options import endpoint_option, open_store, quiet_option, store_option
from .phrasing import phrase
from .streams import note, progress_bar
from .summaries import format_crawl_summary, plural


@cli.command()
@click.option(
    "--root",
    "roots",
    multiple=True,
    metavar="ORG_OR_MODEL",
    help="An organization (each of its models is a root) or a model id, in any case, or "
    "its Hub URL. Repeatable.",
)
@click.option(
    "--all",
    "sweep_all",
    is_flag=True,
    help="Sweep the whole Hub: about 2.5k listing requests, plus up to --lookup-budget "
    "parent lookups (see the cost table above).",
)
@click.option(
    "--new",
    "new_only",
    is_flag=True,
    help="Update: only the models created since the last crawl of the same roots (or of "
    "the whole Hub, with --all); about one request per 1000 new models. Card edits and "
    "download counters of older models need a full crawl or `lineage ingest hub-stats`.",
)
@click.option(
    "--strategy",
    type=click.Choice(get_args(Strategy)),
    default="auto",
    show_default=True,
    help="walk: one request per model; sweep: list the whole Hub; auto: walk small "
    "families, sweep big ones (see README: Strategies).",
)
@click.option(
    "--hub-size",
    type=click.IntRange(min=1),
    metavar="N",
    help="Models on the Hub, for the auto rule and sweep ETA [default: last --all count, "
    "else 2,500,000].",
)
@click.option(
    "--lookups/--no-lookups",
    default=True,
    show_default=True,
    help="Look up declared parents that match no known model (renames, case, missing).",
)
@click.option(
    "--lookup-budget",
    default="500",
    show_default=True,
    metavar="N|all",
    help="At most N parent lookups (one request each; a renamed parent costs one more HTTP "
    "request for its redirect), most consequential first; `all`: no limit. What is left "
    "is counted in the summary; `lineage crawl --resolve-parents` continues later.",
)
@click.option(
    "--resolve-parents",
    is_flag=True,
    help="Fetch no listing: look up the parents earlier crawls left unresolved (within "
    "--lookup-budget), most consequential first.",
)
@endpoint_option("Hub endpoint")
@click.option(
    "--give-up-after",
    type=click.FloatRange(min=0),
    default=900,
    show_default=True,
    metavar="SECONDS",
    help="Stop retrying a failing request after this long (rate limits, 5xx, lost network).",
)
@quiet_option
@click.option(
    "--abandon",
    is_flag=True,
    help="Do not resume: delete what an interrupted run of this same crawl command fetched "
    "(its journal; `lineage info` lists them). The store is not changed.",
)
@click.option(
    "--neo4j",
    "to_neo4j",
    is_flag=True,
    help="Then load the store into Neo4j, as `lineage neo4j load` does with its defaults "
    "(NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD, NEO4J_DATABASE).",
)
@store_option
def crawl(
    roots: tuple[str, ...],
    sweep_all: bool,
    new_only: bool,
    strategy: Strategy,
    hub_size: int | None,
    lookups: bool,
    lookup_budget: str,
    resolve_parents: bool,
    endpoint: str | None,
    give_up_after: float,
    abandon: bool,
    to_neo4j: bool,
    store_path: str | None,
) -> None:
    """Crawl model families (or the whole Hub) into the store.

    \b
    Examples:
      lineage crawl --root Qwen
      lineage crawl --root Qwen/Qwen2.5-7B --root mistralai --strategy walk
      lineage crawl --all
      lineage crawl --all --new             # daily: what is new since the last crawl
      lineage crawl --resolve-parents       # 500 more of the parents left unresolved

    \b
    Cost of `--all` on a Hub of N models (README: Crawl cost):
      listing requests  ceil(N/1000)
      parent lookups    min(unresolved parents, --lookup-budget); none with --no-lookups
      HTTP requests     listing + lookups + one per renamed parent looked up (its 307)

    Every descendant of the roots is found transitively, with its parents and their
    relation (adapter, finetune, merge, quantized). An interrupted crawl (Ctrl-C, a
    killed process, lost network) resumes when the same command is run again (the
    message and `lineage info` print it); the same command with --abandon drops it
    instead. A re-crawl updates models in place and appends to the crawl log.
    """
    from .. import interrupts

    # Ctrl-C stops the crawl where it can resume, and never between here and its start.
    with interrupts.deferred():
        store = _crawl(
            roots, sweep_all, new_only, strategy, hub_size, lookups, lookup_budget,
            resolve_parents, endpoint, give_up_after, abandon, to_neo4j, store_path,
        )  # fmt: skip
    if to_neo4j and store is not None:  # a Ctrl-C stops the load as any other command
        from ..analysis import load_context
        from ..neo4j.loader import DEFAULT_BATCH_SIZE, Neo4jTarget

        try:
            load_into_neo4j(
                load_context(store),
                Neo4jTarget.from_env(),
                batch_size=DEFAULT_BATCH_SIZE,
                prune=True,
            )
        except KeyboardInterrupt:
            raise KeyboardInterrupt(
                "the crawl is committed; the Neo4j load stopped: `lineage neo4j load` completes it"
            ) from None


def _crawl(
    roots: tuple[str, ...],
    sweep_all: bool,
    new_only: bool,
    strategy: Strategy,
    hub_size: int | None,
    lookups: bool,
    lookup_budget: str,
    resolve_parents: bool,
    endpoint: str | None,
    give_up_after: float,
    abandon: bool,
    to_neo4j: bool,
    store_path: str | None,
) -> Any:
    """The crawl itself; returns the store (None when it only abandoned a journal)."""
    from .. import interrupts
    from ..crawl import Crawler, CrawlRequest
    from ..hub import RetryPolicy, make_client
    from ..repo_id import parse_root

    parsed = tuple(parse_root(r) for r in roots if r.strip())
    try:  # the library checks the combination; a wrong one is a usage error here
        request = CrawlRequest(
            roots=parsed,
            all=sweep_all,
            strategy=strategy,
            hub_size=hub_size,
            lookups=lookups,
            new=new_only,
            lookup_budget=_lookup_budget(lookup_budget),
            resolve_parents=resolve_parents,
        )
    except InputError as exc:
        raise click.UsageError(phrase(exc)) from None
    if abandon and to_neo4j:  # both the CLI's own options
        raise click.UsageError("--abandon crawls nothing; it takes no --neo4j")
    store = open_store(store_path, create=not abandon)
    client = make_client(endpoint, policy=RetryPolicy(give_up_after=give_up_after))
    if abandon:
        _abandon(Crawler(store, client), request)
        return None
    with progress_bar() as progress:
        summary = Crawler(store, client, progress).run(request)
    note(format_crawl_summary(summary))
    if interrupts.pending():  # it came while the crawl committed: too late to stop it
        interrupts.forget()
        note("  Ctrl-C came while the crawl was committing: it finished first; nothing to resume")
    return store


def _abandon(crawler: Any, request: Any) -> None:
    found = crawler.abandon(request)
    command = crawler.journal_command(request)
    if found is None:
        note(f"no interrupted crawl of `{command}` in {crawler.store.path}: nothing to abandon")
        return
    what = (
        f"{plural(found.pages, 'listing page')} ({plural(found.models, 'model')}) and "
        f"{plural(found.lookups, 'lookup')}"
    )
    note(f"abandoned the interrupted crawl `{command}`: dropped {what}; the store is unchanged")


def _lookup_budget(text: str) -> int | None:
    """--lookup-budget: a count, or `all` for no limit."""
    if text.strip().lower() in ("all", "none", "unlimited"):
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise click.BadParameter(
            f"{text!r}: give a number of lookups (0 or more) or `all`",
            param_hint="'--lookup-budget'",
        )
    return value
