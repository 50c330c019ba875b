"""What the store holds and what fills it besides a crawl: ``info``, ``snapshots``,
``ingest hub-stats``.
"""

from __future__ import annotations

from typing import Any

import click

from ..render import render_json
from .group import cli
from .options import _open_store, endpoint_option, format_option, quiet_option, store_option
from .streams import _note, _out, _progress
from .summaries import _fields_csv, _journal_lines, format_ingest_summary


@cli.command()
@format_option()
@store_option
def info(fmt: str, store_path: str | None) -> None:
    """What the store holds: models, edges, parents, roots, problems, last crawls.

    Also any crawl still in the journal: the command, when it started, how far it got
    (running the same command resumes it), and a commit cut short.

    --format csv gives one field,value row per figure (nested ones as
    edges_by_relation.merge, crawls.1.kind, ...).
    """
    from ..info import store_info

    result = store_info(_open_store(store_path, create=False))
    if fmt == "json":
        _out(render_json(result.to_dict()), nl=False)
        return
    if fmt == "csv":
        _out(_fields_csv(result.to_dict()), nl=False)
        return
    r = result
    rel = ", ".join(f"{k} {v:,}" for k, v in r.edges_by_relation.items()) or "none"
    lines = [
        f"store: {r.store}",
        f"models: {r.models:,} ({r.crawled:,} crawled, {r.not_crawled:,} known only as parents)",
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
            f"{c['requests']:,} requests, {c['models_new']:,} new, "
            f"{c['models_updated']:,} updated"
        )
    if not r.crawls:
        lines.append("  none yet: run `lineage crawl --root ORG_OR_MODEL`")
    lines += _journal_lines(r)
    _out("\n".join(lines))


@cli.group()
def ingest() -> None:
    """Load bulk dumps of Hub metadata into the store, instead of crawling."""


@ingest.command("hub-stats")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--date",
    "snapshot_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The date the dump's download counts describe [default: the commit date of the "
    "downloaded revision, or PATH's modification date].",
)
@endpoint_option("Hub endpoint to download from")
@quiet_option
@store_option
def hub_stats(
    path: str | None,
    snapshot_date: Any,
    endpoint: str | None,
    store_path: str | None,
) -> None:
    """Ingest the daily hub-stats dump of every public model on the Hub.

    \b
    Examples:
      lineage ingest hub-stats                          # download the latest dump
      lineage ingest hub-stats models.parquet --date 2026-01-05

    Without PATH, downloads the latest models.parquet of the dataset cfahlgren1/hub-stats
    into the Hugging Face cache (once per revision). Every model is parsed as a crawl
    parses it (parents from tags, then baseModels, then the card), and its download
    counts are kept as a snapshot dated by the dump. The store changes only if the whole
    dump could be read.
    """
    from ..hubstats import ingest_hub_stats

    store = _open_store(store_path)
    with _progress() as progress:
        summary = ingest_hub_stats(
            store,
            path,
            snapshot_date=snapshot_date.date() if snapshot_date is not None else None,
            endpoint=endpoint,
            progress=progress,
        )
    _note(format_ingest_summary(summary))


@cli.command()
@format_option()
@store_option
def snapshots(fmt: str, store_path: str | None) -> None:
    """Dated snapshots of download counts: models and downloads per date, and their source.

    Each crawl keeps the counters of the models it saw on the day it ran; each hub-stats
    ingest, those of every model on the dump's date.
    """
    from ..render import render
    from ..snapshots import list_snapshots

    _out(render(list_snapshots(_open_store(store_path, create=False)), fmt), nl=False)


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
