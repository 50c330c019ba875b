"""The ``lineage`` command: a thin click layer over the library.

Each command parses options, calls one library function and renders its result. Exit
codes: 0 success; 1 a known failure (one line on stderr: ``error: ...``); 2 a usage
error; 130 interrupted (work done so far is kept). ``--debug`` (or ``LINEAGE_DEBUG=1``)
shows tracebacks.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from . import __version__
from .errors import LineageError
from .render import FORMATS, render_json


class _Failure(click.ClickException):
    """A known failure, shown as one ``error:`` line."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class LineageGroup(click.Group):
    """Turns lineage's known errors into one-line messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LineageError as exc:
            if _debug(ctx):
                raise
            raise _Failure(exc.message) from exc
        except KeyboardInterrupt as exc:
            if _debug(ctx):
                raise
            # The library says what it kept (a crawl: whether the same command resumes).
            click.echo(f"interrupted; {exc}" if str(exc) else "interrupted", err=True)
            ctx.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if _debug(ctx):
                raise
            raise _Failure(
                f"unexpected {exc.__class__.__name__}: {exc} (run with --debug for the traceback)"
            ) from exc


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or os.environ.get("LINEAGE_DEBUG") == "1"


@click.group(cls=LineageGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lineage")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.option(
    "--store",
    "store_path",
    type=click.Path(path_type=str),
    envvar="LINEAGE_STORE",
    help="Store directory for every command (each command also takes --store).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, store_path: str | None) -> None:
    """Map who builds on whose open models.

    lineage crawls the base_model declarations of Hugging Face models into a local store,
    attributes every derivative (fine-tune, adapter, quantization, merge) to its root
    family and region, and exports the graph to tables, charts, HTML and Neo4j.

    \b
    Start with:
      lineage crawl --root Qwen        # a family: an organization or a model id
      lineage info                     # what the store holds

    The store is a directory of Parquet files (--store DIR or LINEAGE_STORE; default:
    your user data directory). HF_TOKEN or `hf auth login` raise the Hub's rate limits.
    """
    ctx.obj = {"store_path": store_path}


def store_option(func: Callable) -> Callable:
    """The --store option every command shares."""

    @click.option(
        "--store",
        "store_path",
        type=click.Path(file_okay=True, dir_okay=True, path_type=str),
        envvar="LINEAGE_STORE",
        show_envvar=True,
        help="Store directory [default: your user data directory, e.g. ~/.local/share/lineage].",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("store_path") is None:
            obj = click.get_current_context().find_root().obj or {}
            kwargs["store_path"] = obj.get("store_path")
        return func(*args, **kwargs)

    return wrapper


def format_option(choices: tuple[str, ...] = FORMATS) -> Callable:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default="table",
        show_default=True,
        help="Output format.",
    )


def _open_store(path: str | None, *, create: bool = True):
    from .store import Store

    return Store(path, create=create)


# -- crawl ----------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--root",
    "roots",
    multiple=True,
    metavar="ORG_OR_MODEL",
    help="An organization (each of its models is a root) or a model id. Repeatable.",
)
@click.option("--all", "sweep_all", is_flag=True, help="Sweep the whole Hub (about 2.5k requests).")
@click.option(
    "--strategy",
    type=click.Choice(["auto", "walk", "sweep"]),
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
    "--endpoint",
    envvar="HF_ENDPOINT",
    show_envvar=True,
    metavar="URL",
    help="Hub endpoint (a mirror, or a local test Hub) [default: https://huggingface.co].",
)
@click.option(
    "--give-up-after",
    type=click.FloatRange(min=0),
    default=900,
    show_default=True,
    metavar="SECONDS",
    help="Stop retrying a failing request after this long (rate limits, 5xx, lost network).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
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
    strategy: str,
    hub_size: int | None,
    lookups: bool,
    endpoint: str | None,
    give_up_after: float,
    quiet: bool,
    to_neo4j: bool,
    store_path: str | None,
) -> None:
    """Crawl model families (or the whole Hub) into the store.

    \b
    Examples:
      lineage crawl --root Qwen
      lineage crawl --root Qwen/Qwen2.5-7B --root mistralai --strategy walk
      lineage crawl --all

    Every descendant of the roots is found transitively, with its parents and their
    relation (adapter, finetune, merge, quantized). An interrupted crawl (Ctrl-C, a
    killed process, lost network) resumes when the same command is run again. A
    re-crawl updates models in place and appends to the crawl log.
    """
    from .crawl import Crawler, CrawlRequest
    from .hub import RetryPolicy, make_client
    from .progress import Progress

    roots = tuple(r.strip() for r in roots if r.strip())
    if not roots and not sweep_all:
        raise click.UsageError("give --root ORG_OR_MODEL (repeatable) or --all")
    if roots and sweep_all:
        raise click.UsageError("--all sweeps the whole Hub; do not combine it with --root")
    if sweep_all and strategy == "walk":
        raise click.UsageError("--all is a sweep; --strategy walk needs --root")
    store = _open_store(store_path)
    progress = Progress(enabled=False if quiet else None)
    client = make_client(endpoint, policy=RetryPolicy(give_up_after=give_up_after))
    request = CrawlRequest(
        roots=roots, all=sweep_all, strategy=strategy, hub_size=hub_size, lookups=lookups
    )
    try:
        summary = Crawler(store, client, progress).run(request)
    finally:
        progress.close()
    if not quiet:
        click.echo(format_crawl_summary(summary), err=True)
    if to_neo4j:
        from .analysis import load_context
        from .neo4j_loader import DEFAULT_BATCH_SIZE, Neo4jTarget

        _load_neo4j(
            load_context(store),
            Neo4jTarget.from_env(),
            batch_size=DEFAULT_BATCH_SIZE,
            prune=True,
            quiet=quiet,
            regions=None,
        )


def format_crawl_summary(s: Any) -> str:
    """The few lines a crawl ends with."""
    what = ", ".join(s.roots) if s.roots else "the whole Hub"
    lines = [
        f"crawled {what} ({s.strategy}{', resumed' if s.resumed else ''}) into {s.store}",
        f"  family: {s.family:,} models ({s.models_new:,} new, {s.models_updated:,} updated); "
        f"parents outside it: {s.not_crawled:,} not crawled, {s.missing:,} missing, "
        f"{s.renamed:,} renamed",
    ]
    if s.edges_by_relation:
        edges = ", ".join(f"{k} {v:,}" for k, v in s.edges_by_relation.items())
        lines.append(f"  edges: {edges} ({s.inferred_edges:,} relations inferred)")
    if s.problems_by_kind:
        kinds = ", ".join(f"{k} {v:,}" for k, v in s.problems_by_kind.items())
        lines.append(f"  card problems: {sum(s.problems_by_kind.values()):,} ({kinds})")
    if s.skipped_items:
        lines.append(f"  skipped {s.skipped_items:,} malformed listing items")
    lines.append(
        f"  requests: {s.requests:,} ({s.listing_requests:,} listing, {s.lookup_requests:,} "
        f"lookups; {s.retries:,} retries, waited {s.waited:.0f} s) in {s.seconds:.1f} s"
    )
    return "\n".join(lines)


# -- info -----------------------------------------------------------------------------------


@cli.command()
@format_option(("table", "json"))
@store_option
def info(fmt: str, store_path: str | None) -> None:
    """What the store holds: models, edges, parents, roots, problems, last crawls.

    Also any crawl still in the journal: the command, when it started, how far it got
    (running the same command resumes it), and a commit cut short.
    """
    from .info import store_info

    result = store_info(_open_store(store_path, create=False))
    if fmt == "json":
        click.echo(render_json(result.to_dict()), nl=False)
        return
    r = result
    rel = ", ".join(f"{k} {v:,}" for k, v in r.edges_by_relation.items()) or "none"
    lines = [
        f"store: {r.store}",
        f"models: {r.models:,} ({r.crawled:,} crawled, {r.not_crawled:,} known only as parents)",
        f"edges: {r.edges:,} ({rel}; {r.inferred_edges:,} relations inferred)",
        f"parents: {r.parents_crawled:,} crawled, {r.parents_not_crawled:,} not crawled, "
        f"{r.parents_missing:,} missing, {r.parents_unresolved:,} never looked up",
        f"roots crawled: {', '.join(r.roots) or 'none (whole-Hub sweeps only)'}",
        "card problems: "
        + (", ".join(f"{k} {v:,}" for k, v in r.problems_by_kind.items()) or "none"),
        f"snapshot dates: {r.snapshots:,}",
        "last crawls:",
    ]
    for c in r.crawls:
        roots = ", ".join(c["roots"] or []) or "whole Hub"
        lines.append(
            f"  {c['finished_at']:%Y-%m-%d %H:%M} {c['kind']} {roots} ({c['strategy']}): "
            f"{c['requests']:,} requests, {c['models_new']:,} new, "
            f"{c['models_updated']:,} updated"
        )
    if not r.crawls:
        lines.append("  none yet: run `lineage crawl --root ORG_OR_MODEL`")
    lines += _journal_lines(r)
    click.echo("\n".join(lines))


def _journal_lines(r: Any) -> list[str]:
    """What `info` says about cut-short commits and crawls still in the journal."""
    lines = []
    if r.commit_pending:
        lines.append(
            "last commit: cut short after its commit point; reads see it whole, the next "
            "crawl or ingest finishes it"
        )
    for j in r.journals:
        if j["state"] == "committed":
            again = f"`{j['command']}`" if j["crawl_id"] else "the same crawl command"
            lines.append(
                f"journal: crawl {j['crawl_id'] or '(id not kept)'} is committed but its journal "
                f"was not cleared away; {again} clears it without fetching again"
            )
            continue
        when = f"{j['started_at']:%Y-%m-%d %H:%M} UTC" if j["started_at"] else "at an unknown time"
        last = j["last_progress"]
        last = f", last progress {last:%Y-%m-%d %H:%M} UTC" if last else ""
        got = f"{j['pages']:,} listing pages ({j['models']:,} models), {j['lookups']:,} lookups"
        if j["switched_to_sweep"]:
            got += ", switched to a sweep"
        if j["state"] == "fetched":
            got += "; everything was fetched but not committed"
        lines.append(
            f"interrupted crawl: `{j['command']}` started {when}{last}: {got}; run the same "
            "command to resume it"
        )
    return lines


# -- ingest ---------------------------------------------------------------------------------


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
@click.option(
    "--endpoint",
    envvar="HF_ENDPOINT",
    show_envvar=True,
    metavar="URL",
    help="Hub endpoint to download from (a mirror, or a local test Hub) "
    "[default: https://huggingface.co].",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars and no summary.")
@store_option
def hub_stats(
    path: str | None,
    snapshot_date: Any,
    endpoint: str | None,
    quiet: bool,
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
    from .hubstats import ingest_hub_stats
    from .progress import Progress

    store = _open_store(store_path)
    progress = Progress(enabled=False if quiet else None)
    try:
        summary = ingest_hub_stats(
            store,
            path,
            snapshot_date=snapshot_date.date() if snapshot_date is not None else None,
            endpoint=endpoint,
            progress=progress,
        )
    finally:
        progress.close()
    if not quiet:
        click.echo(format_ingest_summary(summary), err=True)


def format_ingest_summary(s: Any) -> str:
    """The few lines an ingest ends with."""
    dated = {
        "given": "as given",
        "revision": f"commit date of revision {(s.revision or '')[:12]}",
        "file": "the file's modification date",
    }[s.date_source]
    lines = [
        f"ingested hub-stats dump {s.source} into {s.store}",
        f"  models: {s.models:,} ({s.models_new:,} new, {s.models_updated:,} updated) from "
        f"{s.rows:,} rows; snapshot {s.snapshot_date.isoformat()} ({dated})",
    ]
    if s.offline:
        lines.append("  the endpoint was unreachable: ingested the dump downloaded earlier")
    if s.edges_by_relation:
        edges = ", ".join(f"{k} {v:,}" for k, v in s.edges_by_relation.items())
        lines.append(f"  edges: {edges} ({s.inferred_edges:,} relations inferred)")
    if s.problems_by_kind:
        kinds = ", ".join(f"{k} {v:,}" for k, v in s.problems_by_kind.items())
        lines.append(f"  card problems: {sum(s.problems_by_kind.values()):,} ({kinds})")
    lines.append(f"  requests: {s.requests:,} in {s.seconds:.1f} s")
    return "\n".join(lines)


@cli.command()
@format_option()
@store_option
def snapshots(fmt: str, store_path: str | None) -> None:
    """Dated snapshots of download counts: models and downloads per date, and their source.

    Each crawl keeps the counters of the models it saw on the day it ran; each hub-stats
    ingest, those of every model on the dump's date.
    """
    from .render import render
    from .snapshots import list_snapshots

    click.echo(render(list_snapshots(_open_store(store_path, create=False)), fmt), nl=False)


# -- analysis: share, families, tree, quality, regions ------------------------------------


def attribution_options(func: Callable) -> Callable:
    """--roots, --multi-parent and --regions: the choices every attribution depends on."""
    func = click.option(
        "--regions",
        "regions_file",
        type=click.Path(dir_okay=False, path_type=str),
        help="CSV of org,region rows extending or overriding the packaged (ATOM) table.",
    )(func)
    func = click.option(
        "--multi-parent",
        type=click.Choice(["split", "first", "all"]),
        default="split",
        show_default=True,
        help="How a merge counts: 1/k to each of k roots, all to the first parent's root, "
        "or fully to each.",
    )(func)
    return click.option(
        "--roots",
        "root_set",
        default="all",
        show_default=True,
        metavar="all|atom|atom-extended|FILE",
        help="Root set: every parentless model, ATOM's mainline models, or a file of ids.",
    )(func)


def _context(store_path: str | None, root_set: str, multi_parent: str, regions_file: str | None):
    from .analysis import load_context

    return load_context(
        _open_store(store_path, create=False),
        roots=root_set,
        multi_parent=multi_parent,
        regions=regions_file,
    )


def _emit(frame: Any, fmt: str, *, title: str | None = None) -> None:
    from .render import render

    click.echo(render(frame, fmt, title=title if fmt == "table" else None), nl=False)


@cli.command("share")
@click.option(
    "--by",
    type=click.Choice(["region", "family", "org", "builder-region"]),
    default="region",
    show_default=True,
    help="Group by the root's region, root model, root organization, or the builder's region.",
)
@click.option(
    "--min-downloads",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Count derivatives with more than this many downloads.",
)
@click.option(
    "--downloads",
    type=click.Choice(["all", "30d"]),
    default="all",
    show_default=True,
    help="Download counter for the filter: all-time or the last 30 days.",
)
@click.option("--since", metavar="YYYY-MM", help="First month to include.")
@click.option("--until", metavar="YYYY-MM", help="Last month to include.")
@click.option(
    "--root-region",
    type=click.Choice(["us", "china", "eu", "other", "unknown"]),
    help="Only derivatives of this region's roots (e.g. who builds on Chinese models).",
)
@click.option(
    "--metric",
    type=click.Choice(["derivatives", "downloads", "both"]),
    default="derivatives",
    show_default=True,
    help="Share of new derivatives, of last-30-days downloads at each snapshot, or both "
    "(the chart then draws downloads as dashed lines over the derivative areas).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE.png|FILE.svg",
    help="Also draw the shares as a stacked area chart.",
)
@attribution_options
@format_option()
@store_option
def share_command(
    by: str,
    metric: str,
    min_downloads: int,
    downloads: str,
    since: str | None,
    until: str | None,
    root_region: str | None,
    plot: str | None,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """Monthly share of new derivative models by the region of their root family.

    \b
    Examples:
      lineage share                              # by root region, >5 all-time downloads
      lineage share --by family --since 2025-01 --plot families.png
      lineage share --roots atom --multi-parent first --format csv
      lineage share --by builder-region --root-region china

    Output is tidy: month, group, count (derivatives), weight (after splitting merges),
    share (weight / month total). Derivatives whose ancestry never reaches the root set
    are reported on stderr, not counted.
    """
    import polars as pl

    from .analysis import download_share, share

    ctx = _context(store_path, root_set, multi_parent, regions_file)
    result = downloads_result = None
    if metric in ("derivatives", "both"):
        result = share(
            ctx,
            by=by,
            min_downloads=min_downloads,
            downloads=downloads,
            since=since,
            until=until,
            root_region=root_region,
        )
    if metric in ("downloads", "both"):
        if by == "builder-region" or root_region:
            raise click.UsageError("--metric downloads groups by region, family or org")
        downloads_result = download_share(ctx, by=by, since=since, until=until)
    if metric == "both":
        table = pl.concat(
            [
                result.table.with_columns(pl.lit("derivatives").alias("metric")),
                downloads_result.table.with_columns(pl.lit("downloads").alias("metric")),
            ]
        ).sort("month", "metric", "group")
        title = (
            f"share of {result.description} (metric derivatives), and of "
            f"{downloads_result.description} (metric downloads)"
        )
    else:
        shown = result or downloads_result
        table, title = shown.table, f"share of {shown.description}"
    _emit(table, fmt, title=title)
    missing = result.unattributed if result is not None else None
    if missing is not None and missing.height and missing["unattributed_weight"].sum() > 0:
        click.echo(
            f"unattributed: {missing['unattributed'].sum():,} of {missing['derivatives'].sum():,}"
            f" derivatives never reach the root set ({ctx.attribution.root_set}), and parts of "
            f"merges weighing {missing['unattributed_weight'].sum():,.1f} in all; not counted",
            err=True,
        )
    if downloads_result is not None:
        months = downloads_result.table["month"].n_unique()
        if months < 2:
            click.echo(
                f"download share: {months} month(s) of snapshots; a series needs snapshots over "
                "time (crawl or ingest hub-stats again later)",
                err=True,
            )
    if plot:
        from .charts import plot_share

        what = "new derivative models" if result is not None else "downloads"
        title = {
            "region": f"Share of {what} by region of the root family",
            "family": f"Share of {what} by root family",
            "org": f"Share of {what} by root organization",
            "builder-region": f"Share of {what} by the builder's region",
        }[by]
        base = result or downloads_result
        overlay = downloads_result.table if result is not None and downloads_result else None
        if overlay is not None:
            title += " (dashed: share of downloads)"
        plot_share(
            base.table,
            plot,
            title=title,
            subtitle=base.description,
            overlay=overlay,
            overlay_label="downloads",
        )
        click.echo(f"chart written to {plot}", err=True)


@cli.command()
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--min-downloads",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Count derivatives with more than this many downloads.",
)
@click.option("--downloads", type=click.Choice(["all", "30d"]), default="all", show_default=True)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE.png|FILE.svg",
    help="Also draw the families as bars.",
)
@attribution_options
@format_option()
@store_option
def families(
    top: int,
    min_downloads: int,
    downloads: str,
    plot: str | None,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """Top root families by number of derivatives, split by relation."""
    from .analysis import families as top_families

    ctx = _context(store_path, root_set, multi_parent, regions_file)
    table = top_families(ctx, top=top, min_downloads=min_downloads, downloads=downloads)
    _emit(table, fmt, title=f"top {top} root families by derivatives")
    if plot:
        from .charts import plot_families

        plot_families(table, plot, title=f"Top {top} root families by derivative models")
        click.echo(f"chart written to {plot}", err=True)


@cli.command()
@click.argument("model")
@attribution_options
@format_option()
@store_option
def tree(
    model: str,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """A model's path(s) to its root(s) and a summary of its descendants."""
    import polars as pl

    from .analysis import tree as model_tree

    ctx = _context(store_path, root_set, multi_parent, regions_file)
    result = model_tree(ctx, model)
    if fmt == "json":
        click.echo(
            render_json(
                {
                    "model": result.model,
                    "status": result.status,
                    "roots": result.roots,
                    "paths": [
                        [{"model": m, "relation_to_next": r} for m, r in p] for p in result.paths
                    ],
                    "descendants": result.descendants.to_dicts(),
                }
            ),
            nl=False,
        )
        return
    if fmt == "csv":
        _emit(result.descendants.with_columns(pl.lit(result.model).alias("model")), "csv")
        return
    click.echo(f"{result.model} ({result.status}); roots: {', '.join(result.roots)}")
    click.echo("paths to the root(s), each step labelled with its relation to the next:")
    for number, path in enumerate(result.paths, start=1):
        line = " -> ".join(f"{m} [{r}]" if r else m for m, r in path)
        click.echo(f"  {number}. {line}")
    total = result.descendants["count"].sum() if result.descendants.height else 0
    _emit(result.descendants, "table", title=f"descendants: {total:,}, by depth and relation")


@cli.command()
@click.option("--examples", type=click.IntRange(min=0), default=5, show_default=True)
@attribution_options
@format_option()
@store_option
def quality(
    examples: int,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """What the metadata gets wrong: undeclared derivatives, dangling parents, cycles, cards."""
    from .analysis import quality as check_quality

    ctx = _context(store_path, root_set, multi_parent, regions_file)
    _emit(check_quality(ctx, examples=examples), fmt, title="data quality")


@cli.command()
@click.option(
    "--unmapped",
    is_flag=True,
    help="Root organizations the table lacks, by derivatives (to extend it).",
)
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True)
@attribution_options
@format_option()
@store_option
def regions(
    unmapped: bool,
    top: int,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """The organization -> region table, or the root organizations it lacks.

    Extend it with --regions FILE (CSV: org,region with region one of us, china, eu,
    other, unknown) on any analysis command.
    """
    if not unmapped:
        from .regions import load_regions

        table = load_regions(regions_file).select("org", "region", "source").sort("org")
        _emit(table, fmt, title=f"{table.height} organizations with a region")
        return
    from .analysis import unmapped_organizations

    ctx = _context(store_path, root_set, multi_parent, regions_file)
    _emit(
        unmapped_organizations(ctx, top=top),
        fmt,
        title="root organizations without a region, by derivatives",
    )


# -- history: diff, adoption ------------------------------------------------------------


@cli.command("diff")
@click.argument("before", required=False, metavar="[A]")
@click.argument("after", required=False, metavar="[B]")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True)
@attribution_options
@format_option(("table", "json"))
@store_option
def diff_command(
    before: str | None,
    after: str | None,
    top: int,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """What changed between two snapshot dates A and B (default: the last two).

    Models and edges added, the families that grew most, and downloads (last 30 days) by
    root region at A and at B. Dates as listed by `lineage snapshots` (YYYY-MM-DD).
    """
    from .diff import diff

    ctx = _context(store_path, root_set, multi_parent, regions_file)
    result = diff(ctx, before, after, top=top)
    if fmt == "json":
        click.echo(
            render_json(
                {
                    "before": result.before,
                    "after": result.after,
                    "models_before": result.models_before,
                    "models_after": result.models_after,
                    "models_added": result.models_added,
                    "models_gone": result.models_gone,
                    "edges_added": result.edges_added,
                    "added": result.added.to_dicts(),
                    "families": result.families.to_dicts(),
                    "regions": result.regions.to_dicts(),
                }
            ),
            nl=False,
        )
        return
    click.echo(
        f"{result.before} -> {result.after}: {result.models_before:,} -> "
        f"{result.models_after:,} models ({result.models_added:,} added, "
        f"{result.models_gone:,} gone), {result.edges_added:,} edges added"
    )
    _emit(result.added, "table", title=f"top {top} added models by downloads")
    _emit(result.families, "table", title="families that grew most")
    _emit(result.regions, "table", title="downloads (last 30 days) by root region")


@cli.command()
@click.argument("model", required=False)
@click.option("--family", metavar="ROOT", help="RAM for every model of ROOT's family instead.")
@click.option(
    "--peers",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="How many top peers of the same size the median is taken over.",
)
@format_option()
@store_option
def adoption(
    model: str | None, family: str | None, peers: int, fmt: str, store_path: str | None
) -> None:
    """RAM, the Relative Adoption Metric of a model (or of a family's models).

    RAM at D days = cumulative downloads D days after release / the median of the top
    peers (same parameter-size bucket) at D days, for D in 7, 14, 30, 60, 90, 180, 365
    where the store's snapshots cover it. Sizes come from safetensors metadata.
    """
    from .adoption import adoption as relative_adoption
    from .graph import build_graph

    if (model is None) == (family is None):
        raise click.UsageError("give a MODEL or --family ROOT")
    store = _open_store(store_path, create=False)
    table = relative_adoption(store, build_graph(store), model=model, family=family, peers=peers)
    _emit(table, fmt, title=f"RAM of {model or 'the family of ' + family}")
    if table.height == 0:
        click.echo(
            "no window covered: RAM needs snapshots 7-365 days after release and a known "
            "size (safetensors)",
            err=True,
        )


# -- neo4j ----------------------------------------------------------------------------------


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
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@attribution_options
@store_option
def neo4j_load(
    uri: str,
    user: str,
    password: str | None,
    database: str,
    batch_size: int,
    prune: bool,
    quiet: bool,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    store_path: str | None,
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
    """
    from .neo4j_loader import Neo4jTarget

    target = Neo4jTarget(uri=uri, user=user, password=password, database=database)
    ctx = _context(store_path, root_set, multi_parent, regions_file)
    _load_neo4j(ctx, target, batch_size=batch_size, prune=prune, quiet=quiet, regions=regions_file)


def _load_neo4j(
    ctx: Any, target: Any, *, batch_size: int, prune: bool, quiet: bool, regions: str | None
) -> None:
    from .neo4j_loader import load
    from .progress import Progress

    progress = Progress(enabled=False if quiet else None)
    try:
        summary = load(
            ctx,
            target,
            batch_size=batch_size,
            prune=prune,
            progress=progress,
            regions_source=f"packaged (ATOM) + {regions}" if regions else None,
        )
    finally:
        progress.close()
    if not quiet:
        click.echo(format_load_summary(summary), err=True)


def format_load_summary(s: Any) -> str:
    """The few lines a Neo4j load ends with."""
    c, n, info = s.counts, s.counters, s.info
    rate = s.rows / s.seconds if s.seconds else 0.0
    return "\n".join(
        [
            f"loaded {info.get('store')} into Neo4j at {s.uri} (database {s.database}) "
            f"in {s.seconds:.1f} s",
            f"  nodes: {c['models']:,} Model ({c['roots']:,} Root, {c['derivatives']:,} "
            f"Derivative), {c['organizations']:,} Organization",
            f"  relationships: {c['derived_from']:,} DERIVED_FROM, {c['published_by']:,} "
            f"PUBLISHED_BY, {c['attributed_to']:,} ATTRIBUTED_TO",
            f"  attribution: roots {info.get('root_set')}, merges {info.get('multi_parent')}, "
            f"regions {info.get('regions')}",
            f"  this load: {n.get('nodes_created', 0):,} nodes created, "
            f"{n.get('nodes_deleted', 0):,} deleted; {n.get('relationships_created', 0):,} "
            f"relationships created, {n.get('relationships_deleted', 0):,} deleted; "
            f"{s.batches:,} transactions, {rate:,.0f} rows/s",
        ]
    )


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
@click.option("--quiet", "-q", is_flag=True, help="Print only the import command.")
@attribution_options
@store_option
def neo4j_export_csv(
    directory: str,
    database: str,
    import_dir: str | None,
    quiet: bool,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    store_path: str | None,
) -> None:
    """Write node and relationship CSV files for neo4j-admin database import full.

    \b
    Examples:
      lineage neo4j export-csv hub-import
      lineage neo4j export-csv ./neo4j-import --import-dir /import   # for compose.yaml

    The offline bulk loader is the fast way to put the whole Hub into a new database.
    Prints the import command on stdout. neo4j-admin creates no constraints or indexes:
    start Neo4j afterwards and run cypher/schema.cypher (cypher-shell -f).
    """
    from .neo4j_csv import export_csv

    ctx = _context(store_path, root_set, multi_parent, regions_file)
    summary = export_csv(
        ctx,
        directory,
        regions_source=f"packaged (ATOM) + {regions_file}" if regions_file else None,
    )
    click.echo(summary.command(database, import_dir=import_dir))
    if not quiet:
        files = ", ".join(f"{name} {rows:,}" for name, rows in summary.rows.items())
        click.echo(
            f"wrote {len(summary.rows) * 2} files to {summary.directory} in "
            f"{summary.seconds:.1f} s (rows: {files})\n"
            "stop Neo4j, run the command above, start Neo4j, then create the constraints "
            "and indexes: cypher-shell -f cypher/schema.cypher",
            err=True,
        )


# -- export html ----------------------------------------------------------------------------


def _relations(ctx: click.Context, param: click.Parameter, value: str | None):
    """--relations finetune,adapter -> ("finetune", "adapter"), or a usage error."""
    if value is None:
        return None
    known = ("finetune", "adapter", "quantized", "merge")
    chosen = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    bad = [v for v in chosen if v not in known]
    if bad or not chosen:
        what = repr(bad[0]) if bad else "nothing"
        raise click.BadParameter(f"{what} is not a relation; choose from {', '.join(known)}")
    return chosen


@cli.group("export")
def export_group() -> None:
    """Export a family as a file people open elsewhere (an interactive HTML tree)."""


@export_group.command("html")
@click.option(
    "--root",
    required=True,
    metavar="MODEL_OR_ORG",
    help="A model id (it and everything derived from it) or an organization (its models "
    "and everything derived from them).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=str),
    metavar="FILE.html",
    help="The page to write (replaced if it exists).",
)
@click.option(
    "--depth",
    type=click.IntRange(min=0),
    metavar="N",
    help="Only models at most N derivation steps below the root [default: all].",
)
@click.option(
    "--relations",
    callback=_relations,
    metavar="LIST",
    help="Follow only these relations, comma-separated, from finetune, adapter, quantized, "
    "merge [default: all].",
)
@click.option(
    "--min-downloads",
    type=click.IntRange(min=0),
    metavar="N",
    help="Only models with more than N all-time downloads (as `lineage share` counts); the "
    "models leading to them stay, faded [default: all models].",
)
@click.option(
    "--max-nodes",
    type=click.IntRange(min=1),
    metavar="N",
    default=5000,
    show_default=True,
    help="At most this many nodes; beyond it, the biggest groups of leaves, then the "
    "smallest subtrees, become '+N relation' nodes.",
)
@click.option(
    "--color",
    type=click.Choice(["region", "relation", "org"]),
    default="region",
    show_default=True,
    help="Node colour: the region of each model's organization, its relation to its "
    "parent, or its organization.",
)
@click.option("--title", help="The page's title [default: Family tree of ROOT].")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
@attribution_options
@store_option
def export_html(
    root: str,
    output: str,
    depth: int | None,
    relations: tuple[str, ...] | None,
    min_downloads: int | None,
    max_nodes: int,
    color: str,
    title: str | None,
    quiet: bool,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    store_path: str | None,
) -> None:
    """Write a family's interactive tree as one self-contained HTML file.

    \b
    Examples:
      lineage export html --root Qwen/Qwen2.5-7B -o qwen.html
      lineage export html --root mistralai -o mistral.html --depth 2 --color relation
      lineage export html --root meta-llama/Llama-3.1-8B -o llama.html \\
          --relations finetune,merge --min-downloads 100

    The page opens with no network in any browser (vis-network is inlined). Roots are
    stars, a model's size grows with its downloads, edge style shows the relation.
    Hover a model for its details; click it to pin them, with a link to its Hub page;
    find a model by name. Positions are computed here, so even big trees draw at once.
    Ends with a summary on stderr: what was drawn and what was collapsed.
    """
    from .html_export import check_output_path, export_family_html

    check_output_path(output)  # before the store is read: fail fast on a bad path
    ctx = _context(store_path, root_set, multi_parent, regions_file)
    summary = export_family_html(
        ctx,
        root,
        output,
        depth=depth,
        relations=relations,
        min_downloads=min_downloads,
        max_nodes=max_nodes,
        color=color,
        title=title,
    )
    if not quiet:
        click.echo(format_export_summary(summary), err=True)


def format_export_summary(s: Any) -> str:
    """The few lines `lineage export html` ends with: what it drew and collapsed."""
    tops = s.tops[0] if len(s.tops) == 1 else f"{len(s.tops):,} top models of {s.root}"
    lines = [
        f"wrote {s.path} ({s.bytes / 1e6:.1f} MB) in {s.seconds:.1f} s: the family of {tops}",
        f"  family: {s.family:,} models ({len(s.tops):,} root{'s' if len(s.tops) != 1 else ''}, "
        f"{s.family - len(s.tops):,} derivatives)",
    ]
    if s.below_min_downloads or s.connectors:
        kept = (
            f", {s.connectors:,} below it kept (faded): models above it derive from them"
            if s.connectors
            else ""
        )
        lines.append(f"  --min-downloads: {s.below_min_downloads:,} models left out{kept}")
    if not s.summary_nodes:
        lines.append(f"  drew all {s.drawn:,} models and {s.edges:,} edges; nothing collapsed")
        return "\n".join(lines)
    by_relation = ", ".join(f"{r} {n:,}" for r, n in s.collapsed_by_relation.items())
    largest = "; ".join(f"+{n:,} {r} under {parent}" for parent, r, n in s.largest[:3])
    lines += [
        f"  drew {s.drawn:,} models, {s.summary_nodes:,} +N nodes and {s.edges:,} edges "
        f"(--max-nodes {s.max_nodes:,})",
        f"  collapsed {s.collapsed:,} models into the +N nodes ({by_relation})",
        f"  largest: {largest}",
    ]
    return "\n".join(lines)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="lineage")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
