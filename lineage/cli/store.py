"""What the store holds and what fills it besides a crawl: ``info``, ``snapshots``,
``ingest hub-stats``.
"""

from __future__ import annotations

from typing import Any

import click

from .. import vocabulary
from ..render import render_json
from .group import cli
from .options import (
    MonthParam,
    chosen_view,
    endpoint_option,
    format_option,
    open_store,
    quiet_option,
    store_option,
    view_options,
)
from .streams import note, progress_bar, write_data
from .summaries import (
    fields_csv,
    format_backfill_summary,
    format_ingest_summary,
    journal_lines,
    plural,
)


def _with_view_options(func: Any) -> Any:
    for option in reversed(view_options()):
        func = option(func)
    return func


@cli.command()
@_with_view_options
@format_option()
@store_option
def info(fmt: str, as_of: Any, include_deleted: bool, store_path: str | None) -> None:
    """What the store holds: models, edges, parents, roots, problems, last crawls.

    Models are those present on the Hub: listed by the latest whole-Hub observation
    (`crawl --all`, a hub-stats dump) or seen since; models it no longer listed are
    counted on a line of their own (gone), kept in history.

    Also any crawl still in the journal: the command, when it started, how far it got
    (running that command resumes it; the same command with --abandon drops it), and a
    commit cut short. Models and edges are those present at the latest complete
    observation (--as-of DATE: that day's; --include-deleted: every model ever observed).

    --format csv gives one field,value row per figure (nested ones as
    edges_by_relation.merge, crawls.1.kind, ...).
    """
    from ..info import store_info

    view = chosen_view(as_of, include_deleted)
    result = store_info(open_store(store_path, create=False), view=view)
    if fmt == "json":
        write_data(render_json(result.to_dict()), nl=False)
        return
    if fmt == "csv":
        write_data(fields_csv(result.to_dict()), nl=False)
        return
    r = result
    rel = ", ".join(f"{k} {v:,}" for k, v in r.edges_by_relation.items()) or "none"
    lines = [
        f"store: {r.store}" + _view_words(r.view),
        f"models: {r.models:,} ({r.crawled:,} crawled, {r.not_crawled:,} known only as parents)",
        *_gone_lines(r),
        f"edges: {r.edges:,} ({rel}; {r.inferred_edges:,} relations inferred)",
        _inferred_line(r),
        f"parents: {r.parents_crawled:,} crawled, {r.parents_not_crawled:,} not crawled, "
        f"{r.parents_missing:,} missing, {r.parents_unresolved:,} never looked up",
        f"roots crawled: {', '.join(r.roots) or _no_roots(r)}",
        "card problems: "
        + (", ".join(f"{k} {v:,}" for k, v in r.problems_by_kind.items()) or "none"),
        f"snapshot dates: {r.snapshots:,}",
        "last crawls:",
    ]
    for c in r.crawls:
        roots = ", ".join(c["roots"] or []) or "whole Hub"
        if c["strategy"] == "resolve-parents":
            roots = "parents left unresolved"
        elif c["strategy"] == "resolve-roots":
            roots = "files of consequential roots"
        lines.append(
            f"  {c['finished_at']:%Y-%m-%d %H:%M} {c['kind']} {roots} ({c['strategy']}): "
            f"{plural(c['requests'], 'request')}, {c['models_new']:,} new, "
            f"{c['models_updated']:,} updated"
        )
    if not r.crawls:
        lines.append("  none yet: run `lineage crawl --root ORG_OR_MODEL`")
    lines += journal_lines(r)
    write_data("\n".join(lines))


@cli.group()
def ingest() -> None:
    """Load bulk dumps of Hub metadata into the store, instead of crawling."""


@ingest.command("hub-stats")
@click.argument("path", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "--date",
    "snapshot_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The date one dump's download counts describe [default: a YYYY-MM-DD or YYYYMMDD "
    "in its path, else the commit date of the downloaded revision, or a single PATH's "
    "modification date].",
)
@click.option(
    "--repo",
    metavar="DATASET",
    help="Backfill from this dataset repository on the Hub: dated paths in one revision "
    "(models/2024-07-24/models.parquet), or one models.parquet across dated commits.",
)
@click.option(
    "--since",
    type=MonthParam(),
    help="With --repo: the first month to fetch (YYYY-MM).",
)
@click.option(
    "--every",
    type=click.Choice(vocabulary.CADENCES),
    default="month",
    show_default=True,
    help="With --repo: one dump per calendar month or ISO week, the last one in it.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Read a dump even if the store holds its date from an earlier ingest (otherwise "
    "that date is skipped, unread: ingesting a date twice changes nothing).",
)
@endpoint_option("Hub endpoint to download from")
@quiet_option
@store_option
def hub_stats(
    path: tuple[str, ...],
    snapshot_date: Any,
    repo: str | None,
    since: Any,
    every: str,
    replace: bool,
    endpoint: str | None,
    store_path: str | None,
) -> None:
    """Ingest hub-stats dumps of every public model on the Hub: the latest, or your own.

    \b
    Examples:
      lineage ingest hub-stats                          # download the latest dump
      lineage ingest hub-stats models.parquet --date 2026-01-05
      lineage ingest hub-stats archive/                 # backfill: every dated dump below
      lineage ingest hub-stats 'archive/models/*/models.parquet'
      lineage ingest hub-stats --repo cfahlgren1/hub-stats --since 2024-07

    Without PATH, downloads the latest models.parquet of the dataset cfahlgren1/hub-stats
    into the Hugging Face cache (once per revision). Every model is parsed as a crawl
    parses it (parents from tags, then baseModels, then the card), and its download
    counts are kept as a snapshot dated by the dump. The store changes only if the whole
    dump could be read.

    PATH may be files, directories (every models.parquet below, else every .parquet) and
    globs. Several dumps are dated by a YYYY-MM-DD or YYYYMMDD in each path
    (archive/models/2024-07-24/models.parquet) and ingested newest first, each date
    committed on its own: interrupted, the same command skips the dates the store holds
    and finishes.

    --repo DATASET --since YYYY-MM fetches dated dumps from a dataset repository, one per
    month (or --every week): from dated paths in one revision, or from the commits of one
    models.parquet. Downloads go to the Hugging Face cache and resume like any ingest.

    Dumps may come in any order: a model's record is the one of the latest date that
    listed it, so an older dump adds its snapshot and the models deleted since (read
    cheaply: only the rows it makes current are parsed) and replaces nothing newer. A
    model a dump does not list is gone from the Hub from that date on (analysis counts
    the models present at the latest whole-Hub observation; see `lineage info`).
    """
    paths = path
    if snapshot_date is not None and len(paths) > 1:
        raise click.UsageError(
            "--date dates one dump; several PATHs take their dates from their paths "
            "(YYYY-MM-DD or YYYYMMDD)"
        )
    if repo is not None:
        if paths or snapshot_date is not None or since is None:
            raise click.UsageError(
                "--repo takes --since YYYY-MM (and --every), no PATH and no --date: each "
                "dump is dated by its path or by the commit that wrote it"
            )
        _backfill_from_repo(store_path, repo, since, every, endpoint, replace)
        return
    if since is not None:
        raise click.UsageError("--since and --every choose dumps of a --repo")
    from ..backfill import local_dumps
    from ..hubstats import ingest_hub_stats

    day = snapshot_date.date() if snapshot_date is not None else None
    dumps = local_dumps(paths, snapshot_date=day) if paths else []
    store = open_store(store_path)
    if len(dumps) > 1:
        from ..backfill import backfill

        with progress_bar() as progress:
            result = backfill(store, dumps, replace_held=replace, progress=progress)
        note(format_backfill_summary(result))
        return
    with progress_bar() as progress:
        summary = ingest_hub_stats(
            store,
            dumps[0].path if dumps else None,
            snapshot_date=dumps[0].date if dumps else day,
            date_source=dumps[0].date_source if dumps else None,
            endpoint=endpoint,
            progress=progress,
            replace=replace,
        )
    note(format_ingest_summary(summary))


def _backfill_from_repo(
    store_path: str | None, repo: str, since: Any, every: str, endpoint: str | None, replace: bool
) -> None:
    from ..backfill import backfill
    from ..hub_archive import repo_dumps

    store = open_store(store_path)
    store.verify()  # a damaged store is named before any request
    with progress_bar() as progress:
        plan = repo_dumps(
            repo, since=since, every=every, endpoint=endpoint, progress_bars=progress.enabled
        )
        result = backfill(store, plan.dumps, replace_held=replace, progress=progress, verify=False)
    result.plan = plan
    note(format_backfill_summary(result))


@cli.command()
@format_option()
@store_option
def snapshots(fmt: str, store_path: str | None) -> None:
    """Dated snapshots of download counts: one line per date, its models, downloads and makers.

    Each crawl keeps the counters of the models it saw on the day it ran; each hub-stats
    ingest, those of every model on the dump's date. complete says whether a whole-Hub
    observation (a crawl --all, a dump) made it: those are the dates --as-of takes, and
    the ones a month's download share is read from. The table names the makers in a few
    words; --format csv and json list each crawl or ingest with its id.
    """
    import polars as pl

    from ..render import render
    from ..snapshots import list_snapshots, made_by_words

    table = list_snapshots(open_store(store_path, create=False))
    if fmt == "table":
        table = table.with_columns(
            pl.col("made_by").map_elements(made_by_words, return_dtype=pl.String)
        )
    write_data(render(table, fmt), nl=False)


def _view_words(view: str) -> str:
    if view.startswith("as-of "):
        return f" (as of {view.removeprefix('as-of ')}: that day's models and edges)"
    return " (every model ever observed, deleted ones too)" if view == "all" else ""


def _no_roots(r: Any) -> str:
    if not r.crawls:
        return "none (nothing crawled or ingested yet)"
    return "none (whole-Hub crawls and ingests only)"


def _inferred_line(r: Any) -> str:
    if not r.inferred_lineage:
        return "inferred lineage: none (`lineage infer` proposes it for undeclared models)"
    return (
        f"inferred lineage: {r.inferred_lineage:,} undeclared models given a parent or family "
        f"by `lineage infer`, {r.inferred_lineage_confident:,} at the default confidence "
        "(counted with --lineage both)"
    )


def _gone_lines(r: Any) -> list[str]:
    """Models deleted from the Hub: none is said only once a whole-Hub observation could
    have seen some."""
    if not r.gone:
        return []
    since = ", ".join(f"{day}: {n:,}" for day, n in r.gone_since.items())
    return [
        f"gone: {r.gone:,} models no longer on the Hub, kept in history (absent from the "
        f"whole-Hub observation of {since}); counted as present: {r.models:,}"
    ]
