"""The ``lineage`` command: a thin click layer over the library.

Each command parses options, calls one library function and renders its result. Exit
codes: 0 success; 1 a known failure (one line on stderr: ``error: ...``); 2 a usage
error (click's usage message, before any output); 130 interrupted (work done so far is
kept). ``--debug`` (or ``LINEAGE_DEBUG=1``) shows tracebacks.

Shell behaviour lives in one place, :class:`LineageGroup`: a reader that stops early
(``lineage share | head -1``) ends the command quietly with exit 0, as ``ls | head`` does;
a full disk behind stdout (``> /dev/full``) is one ``error:`` line. Data goes to stdout
through :func:`_out`, notes and progress to stderr through :func:`_note` and
:func:`_progress`, which ``--quiet`` silences. Files go through :mod:`lineage.output`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import select
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import InputError, LineageError
from .render import FORMATS, render_json


class _Failure(click.ClickException):
    """A known failure, shown as one ``error:`` line."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _reader_gone(stream: Any) -> bool:
    """True when ``stream`` is a pipe whose reading end is closed (``| head`` has exited)."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


def _discard(stream: Any) -> None:
    """Point ``stream``'s descriptor at /dev/null, so that Python's own flush at exit
    does not fail again on what is still buffered."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


class LineageGroup(click.Group):
    """Turns lineage's known errors into one-line messages and exit codes, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # Our reader stopped early: nobody is left to tell, and it is not a failure.
            # (A broken socket to the Hub or Neo4j is: it leaves stdout and stderr open.)
            closed = [s for s in (sys.stdout, sys.stderr) if _reader_gone(s)]
            if not closed or _debug(ctx):
                return self._unexpected(ctx, sys.exc_info()[1])
            for stream in closed:
                _discard(stream)
            ctx.exit(0)
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
            return self._unexpected(ctx, exc)

    def _unexpected(self, ctx: click.Context, exc: BaseException | None) -> Any:
        if _debug(ctx):
            raise exc  # type: ignore[misc]
        raise _Failure(
            f"unexpected {exc.__class__.__name__}: {exc} (run with --debug for the traceback)"
        ) from exc


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug")) or os.environ.get("LINEAGE_DEBUG") == "1"


def _out(text: str, *, nl: bool = True) -> None:
    """Write data to stdout. A closed pipe propagates (the group ends quietly); any other
    failure (a full disk behind ``> file``) is one error line."""
    try:
        click.echo(text, nl=nl)
    except BrokenPipeError:
        raise
    except OSError as exc:
        from .output import os_error_reason

        _discard(sys.stdout)
        raise InputError(f"cannot write standard output: {os_error_reason(exc)}") from exc


def _quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("lineage.quiet"))


def _note(text: str) -> None:
    """A note on stderr (what was filtered, written, left out), unless --quiet."""
    if not _quiet():
        click.echo(text, err=True)


def _progress():
    """The progress bar for this command: on a terminal, unless --quiet."""
    from .progress import Progress

    return Progress(enabled=False if _quiet() else None)


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    ctx.meta["lineage.quiet"] = bool(ctx.meta.get("lineage.quiet")) or value
    return value


def quiet_option(func: Callable) -> Callable:
    """--quiet/-q: no progress bars and no notes on stderr (data and errors still print)."""
    return click.option(
        "--quiet",
        "-q",
        is_flag=True,
        expose_value=False,
        callback=_set_quiet,
        help="No progress bar and no notes or summary on stderr (data and errors still print).",
    )(func)


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
    """--format table|csv|json: how the data on stdout is written."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default="table",
        show_default=True,
        help="Output format: an aligned table, CSV with a header row, or JSON.",
    )


class MonthParam(click.ParamType):
    """A month as ``--since`` and ``--until`` take it: YYYY-MM, parsed to its first day."""

    name = "YYYY-MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        from .months import parse_month

        try:
            return parse_month(value)
        except InputError:
            self.fail(f"{value!r} is not a month; give YYYY-MM, e.g. 2025-01", param, ctx)


def month_range_options(func: Callable) -> Callable:
    """--since and --until (months, inclusive); --since after --until is a usage error."""

    @click.option(
        "--since", type=MonthParam(), help="First month to include (YYYY-MM) [default: the first]."
    )
    @click.option(
        "--until", type=MonthParam(), help="Last month to include (YYYY-MM) [default: the last]."
    )
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .months import check_month_range

        try:
            check_month_range(kwargs.get("since"), kwargs.get("until"))
        except InputError as exc:
            raise click.UsageError(exc.message, click.get_current_context()) from None
        return func(*args, **kwargs)

    return wrapper


def _chart_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--plot FILE: .png or .svg (else a usage error), writable (checked before any work)."""
    if value is None:
        return None
    from .charts import CHART_SUFFIXES
    from .output import check_output

    if Path(value).suffix.lower() not in CHART_SUFFIXES:
        raise click.BadParameter(f"{value!r}: give a file ending in .png or .svg")
    check_output(value)
    return value


def _output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An output file, checked before the store is read: fail fast on a bad path."""
    if value is not None:
        from .output import check_output

        check_output(value)
    return value


def plot_option(what: str) -> Callable:
    """--plot FILE.png|FILE.svg, checked before anything is computed or printed."""
    return click.option(
        "--plot",
        type=click.Path(dir_okay=False, path_type=str),
        metavar="FILE.png|FILE.svg",
        callback=_chart_path,
        help=f"Also draw {what} into this file (PNG or SVG, by the extension; devices, "
        "FIFOs and symlinks are written through, a regular file is replaced whole).",
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
    new_only: bool,
    strategy: str,
    hub_size: int | None,
    lookups: bool,
    lookup_budget: str,
    resolve_parents: bool,
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
      lineage crawl --all --new             # daily: what is new since the last crawl
      lineage crawl --resolve-parents       # 500 more of the parents left unresolved

    \b
    Cost of `--all` on a Hub of N models (README: Crawl cost):
      listing requests  ceil(N/1000)
      parent lookups    min(unresolved parents, --lookup-budget); none with --no-lookups
      HTTP requests     listing + lookups + one per renamed parent looked up (its 307)

    Every descendant of the roots is found transitively, with its parents and their
    relation (adapter, finetune, merge, quantized). An interrupted crawl (Ctrl-C, a
    killed process, lost network) resumes when the same command is run again. A
    re-crawl updates models in place and appends to the crawl log.
    """
    from .crawl import Crawler, CrawlRequest
    from .hub import RetryPolicy, make_client
    from .progress import Progress
    from .repo_id import parse_root

    parsed = tuple(parse_root(r) for r in roots if r.strip())
    budget = _lookup_budget(lookup_budget)
    if resolve_parents:
        if parsed or sweep_all or new_only or not lookups:
            raise click.UsageError(
                "--resolve-parents looks up what the store left unresolved; give it alone "
                "(with --lookup-budget, --endpoint, --store)"
            )
    elif not parsed and not sweep_all:
        raise click.UsageError("give --root ORG_OR_MODEL (repeatable) or --all")
    if parsed and sweep_all:
        raise click.UsageError("--all sweeps the whole Hub; do not combine it with --root")
    if sweep_all and strategy == "walk":
        raise click.UsageError("--all is a sweep; --strategy walk needs --root")
    if new_only and strategy != "auto":
        raise click.UsageError("--new lists the newest models; it takes no --strategy")
    store = _open_store(store_path)
    progress = Progress(enabled=False if quiet else None)
    client = make_client(endpoint, policy=RetryPolicy(give_up_after=give_up_after))
    request = CrawlRequest(
        roots=parsed,
        all=sweep_all,
        strategy=strategy,
        hub_size=hub_size,
        lookups=lookups,
        new=new_only,
        lookup_budget=budget,
        resolve_parents=resolve_parents,
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


def _lookup_budget(text: str) -> int | None:
    """--lookup-budget: a count, or `all` for no limit."""
    if text.strip().lower() in ("all", "none", "unlimited"):
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise click.BadParameter(f"{text!r}: give a number of lookups (0 or more) or `all`")
    return value


def format_crawl_summary(s: Any) -> str:
    """The few lines a crawl ends with."""
    what = ", ".join(s.roots) if s.roots else "the whole Hub"
    if s.strategy == "resolve-parents":
        what = "parents left unresolved"
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
    if s.new_since is not None:
        lines.append(f"  new since {s.new_since:%Y-%m-%d %H:%M} UTC (an update: see README)")
    if s.duplicates or s.order_breaks:
        lines.append(
            f"  warning: the Hub changed under the crawl: {s.duplicates:,} models served "
            f"twice, createdAt order broken {s.order_breaks:,} times; crawl again to be sure"
        )
    if s.unresolved_parents:
        lines.append(
            f"  unresolved: {s.unresolved_parents:,} parents match no model and were not looked "
            f"up ({s.unresolved_derivatives:,} models have one in their lineage); "
            + (
                "`lineage crawl --resolve-parents` looks them up"
                if s.lookup_budget != 0
                else "crawl with lookups to resolve them"
            )
        )
    if s.strategy in ("walk", "auto"):
        lines.append(
            "  a walk cannot see children that declare a parent in another case or by a "
            f"former name the store does not know ({s.walk_variants:,} known names walked); "
            "--strategy sweep sees them"
        )
    lines.append(
        f"  requests: {s.requests:,} ({s.listing_requests:,} listing, {s.lookup_requests:,} "
        f"lookups; {s.retries:,} retries, waited {s.waited:.0f} s) in {s.seconds:.1f} s; "
        f"{s.http_requests:,} HTTP requests with redirects"
    )
    return "\n".join(lines)


# -- info -----------------------------------------------------------------------------------


def _fields(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A nested summary as (field, value) rows: ``edges_by_relation.merge``, ``crawls.1.kind``."""
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in _fields(v, f"{prefix}{k}.")]
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return [r for i, v in enumerate(value, start=1) for r in _fields(v, f"{prefix}{i}.")]
    if isinstance(value, list):
        text = "|".join(str(v) for v in value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = "" if value is None else str(value)
    return [(prefix.rstrip("."), text)]


def _fields_csv(summary: dict) -> str:
    """A summary as CSV: one ``field,value`` row per (flattened) field."""
    import polars as pl

    rows = _fields(summary)
    frame = pl.DataFrame(rows, schema={"field": pl.String, "value": pl.String}, orient="row")
    return frame.write_csv()


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
    from .info import store_info

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
        lines.append(
            f"  {c['finished_at']:%Y-%m-%d %H:%M} {c['kind']} {roots} ({c['strategy']}): "
            f"{c['requests']:,} requests, {c['models_new']:,} new, "
            f"{c['models_updated']:,} updated"
        )
    if not r.crawls:
        lines.append("  none yet: run `lineage crawl --root ORG_OR_MODEL`")
    lines += _journal_lines(r)
    _out("\n".join(lines))


def _no_roots(r: Any) -> str:
    if not r.crawls:
        return "none (nothing crawled or ingested yet)"
    return "none (whole-Hub crawls and ingests only)"


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
    from .hubstats import ingest_hub_stats

    store = _open_store(store_path)
    progress = _progress()
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
    _note(format_ingest_summary(summary))


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

    _out(render(list_snapshots(_open_store(store_path, create=False)), fmt), nl=False)


# -- analysis: share, families, tree, quality, regions ------------------------------------


def attribution_options(func: Callable) -> Callable:
    """--roots, --multi-parent and --regions: the choices every attribution depends on."""
    func = click.option(
        "--regions",
        "regions_file",
        type=click.Path(dir_okay=False, path_type=str),
        metavar="FILE",
        help="CSV of org,region lines (a header line is optional) extending or overriding "
        "the packaged (ATOM) table; region one of us, china, eu, other, unknown.",
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


def _context(
    store_path: str | None,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    lineage: str = "declared",
    min_confidence: float | None = None,
    require_inferred: bool = True,
):
    from .analysis import load_context

    return load_context(
        _open_store(store_path, create=False),
        roots=root_set,
        multi_parent=multi_parent,
        regions=regions_file,
        lineage=lineage,
        min_confidence=min_confidence,
        require_inferred=require_inferred,
    )


def lineage_options(choices: tuple[str, ...], default: str) -> Callable:
    """--lineage and --min-confidence: whether inferred lineage (`lineage infer`) counts."""

    def decorate(func: Callable) -> Callable:
        func = click.option(
            "--min-confidence",
            type=click.FloatRange(0.0, 1.0),
            metavar="X",
            help="With inferred lineage: only inferred edges with at least this confidence "
            "[default: 0.8, chosen by `lineage infer --evaluate` on real lineage; see "
            "docs/methodology.md].",
        )(func)
        return click.option(
            "--lineage",
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help="declared: only what model cards declare (what published figures use); "
            "inferred: only models given inferred lineage by `lineage infer`; both: the two "
            "together, inferred edges marked as inferred.",
        )(func)

    return decorate


def _emit(frame: Any, fmt: str, *, title: str | None = None) -> None:
    from .render import render

    _out(render(frame, fmt, title=title if fmt == "table" else None), nl=False)


def _emit_sections(sections: dict, fmt: str, titles: dict[str, str]) -> None:
    from .render import render_sections

    _out(render_sections(sections, fmt, titles=titles), nl=False)


def _months_shown(result: Any, having: str) -> str:
    """'2024-02 to 2025-04 (7 months with derivatives)' for a share result, or 'none'."""
    from .months import format_month

    months = result.table["month"].unique().sort().to_list()
    if not months:
        return f"none (no {having})"
    span = format_month(months[0])
    if len(months) > 1:
        span += f" to {format_month(months[-1])}"
    return f"{span} ({len(months)} month{'s' if len(months) != 1 else ''} with {having})"


def _share_filters(
    result: Any,
    downloads_result: Any,
    *,
    min_downloads: int,
    downloads: str,
    ctx: Any,
    by: str,
    root_region: str | None,
) -> str:
    """The one stderr line that says what `lineage share` counted."""
    window = "all-time" if downloads == "all" else "last-30-days"
    grouping = "builder region" if by == "builder-region" else f"root {by}"
    parts = []
    if result is not None:
        parts.append(f"derivatives with more than {min_downloads:,} {window} downloads")
    if downloads_result is not None:
        parts.append("last-30-days downloads at each snapshot")
    parts += [
        f"by {grouping}",
        f"roots: {ctx.attribution.root_set}",
        f"merges: {ctx.attribution.multi_parent}",
    ]
    if root_region:
        parts.append(f"only {root_region} roots")
    if result is not None:
        label = "months shown" if downloads_result is None else "derivative months"
        parts.append(f"{label}: {_months_shown(result, 'derivatives')}")
    if downloads_result is not None:
        label = "months shown" if result is None else "snapshot months"
        parts.append(f"{label}: {_months_shown(downloads_result, 'snapshots')}")
    return "share of " + "; ".join(parts)


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
@month_range_options
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
    "(the chart then draws downloads as dark dashed lines over lighter derivative areas).",
)
@plot_option("the shares as a stacked area chart over a strip of monthly counts")
@click.option(
    "--min-month-count",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    metavar="N",
    help="On the chart, hatch months with fewer than N models counted: their shares swing "
    "on a handful of models.",
)
@attribution_options
@lineage_options(("declared", "inferred", "both"), "declared")
@format_option()
@quiet_option
@store_option
def share_command(
    by: str,
    metric: str,
    min_downloads: int,
    downloads: str,
    since: dt.date | None,
    until: dt.date | None,
    root_region: str | None,
    plot: str | None,
    min_month_count: int,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    lineage: str,
    min_confidence: float | None,
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
      lineage share --lineage both --min-confidence 0.95   # count inferred lineage too

    Output is tidy: month (YYYY-MM), group, count (derivatives), weight (after splitting
    merges), share (weight / month total). One line on stderr states the filters and the
    months shown. Derivatives whose ancestry never reaches the root set are reported on
    stderr, not counted. Only declared lineage counts unless --lineage says otherwise
    (run `lineage infer` first).
    """
    import polars as pl

    from .analysis import download_share, share

    if metric in ("downloads", "both") and (by == "builder-region" or root_region):
        raise click.UsageError(
            "--metric downloads groups by region, family or org (not --by builder-region "
            "or --root-region)"
        )
    if lineage == "inferred" and metric != "derivatives":
        raise click.UsageError("--lineage inferred counts derivatives: use --metric derivatives")
    ctx = _context(store_path, root_set, multi_parent, regions_file, lineage, min_confidence)
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
        downloads_result = download_share(ctx, by=by, since=since, until=until)
    if result is not None and downloads_result is not None:
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
    _note(
        _share_filters(
            result,
            downloads_result,
            min_downloads=min_downloads,
            downloads=downloads,
            ctx=ctx,
            by=by,
            root_region=root_region,
        )
    )
    missing = result.unattributed if result is not None else None
    if missing is not None and missing.height and missing["unattributed_weight"].sum() > 0:
        _note(
            f"unattributed: {missing['unattributed'].sum():,} of {missing['derivatives'].sum():,}"
            f" derivatives never reach the root set ({ctx.attribution.root_set}), and parts of "
            f"merges weighing {missing['unattributed_weight'].sum():,.1f} in all; not counted"
        )
    snapshot_months = 0
    if downloads_result is not None:
        snapshot_months = downloads_result.table["month"].n_unique()
        if snapshot_months < 2:
            _note(
                f"download share: {snapshot_months} month(s) of snapshots; a series needs "
                "snapshots over time (crawl or ingest hub-stats again later)"
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
        if result is not None and downloads_result is not None:
            title += (
                " (dashed: share of downloads)"
                if snapshot_months >= 2
                else " (download share: one snapshot, not drawn)"
            )
        base = result or downloads_result
        labels = (
            {"count_label": "derivatives"}
            if result is not None
            else {
                "count_label": "models",
                "area_label": "downloads (last 30 days)",
                "month_label": "month of the snapshot",
            }
        )
        plot_share(
            base.table,
            plot,
            title=title,
            subtitle=base.description,
            counts=base.counts,
            min_month_count=min_month_count,
            overlay=downloads_result.table if result is not None and downloads_result else None,
            overlay_label="downloads",
            **labels,
        )
        _note(f"chart written to {plot}")


def _families_rule(min_downloads: int | None, downloads: str) -> str:
    if min_downloads is None:
        return "every derivative in the store, any downloads (as `lineage tree ROOT` counts)"
    window = "all-time" if downloads == "all" else "last-30-days"
    return f"crawled derivatives with more than {min_downloads:,} {window} downloads"


@cli.command()
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    metavar="N",
    help="How many families to list, biggest first.",
)
@click.option(
    "--min-downloads",
    type=click.IntRange(min=0),
    metavar="N",
    help="Count only crawled derivatives with more than N downloads, as `lineage share` "
    "does [default: every derivative, as `lineage tree` counts descendants].",
)
@click.option(
    "--downloads",
    type=click.Choice(["all", "30d"]),
    help="The download counter --min-downloads looks at: all-time or the last 30 days "
    "[default: all].",
)
@plot_option("the families as bars stacked by relation")
@attribution_options
@format_option()
@quiet_option
@store_option
def families(
    top: int,
    min_downloads: int | None,
    downloads: str | None,
    plot: str | None,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """Top root families by number of derivatives, split by relation.

    By default every derivative in the store counts, whatever its downloads: the same
    models `lineage tree ROOT` counts as the root's descendants. The header says which
    rule the numbers follow.
    """
    from .analysis import families as top_families

    if downloads is not None and min_downloads is None:
        raise click.UsageError("--downloads chooses the counter for --min-downloads; give both")
    downloads = downloads or "all"
    ctx = _context(store_path, root_set, multi_parent, regions_file)
    table = top_families(ctx, top=top, min_downloads=min_downloads, downloads=downloads)
    rule = _families_rule(min_downloads, downloads)
    _emit(table, fmt, title=f"top {top} root families by derivatives: {rule}")
    if plot:
        from .charts import plot_families

        plot_families(table, plot, title=f"Top {top} root families by derivative models\n{rule}")
        _note(f"chart written to {plot}")


@cli.command()
@click.argument("model")
@attribution_options
@lineage_options(("declared", "both"), "both")
@format_option()
@store_option
def tree(
    model: str,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    lineage: str,
    min_confidence: float | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """A model's path(s) to its root(s) and a summary of its descendants.

    Descendants are every model in the store derived from MODEL, whatever its downloads
    (as `lineage families` counts by default). --format csv gives one table with a
    section column: the paths, step by step, then the descendants.

    Steps that `lineage infer` inferred (no card declares them) are shown as inferred:
    `~>` with their method and confidence, and descendants below one are counted apart
    (lineage column). --lineage declared leaves them out.
    """
    import polars as pl

    from .analysis import tree as model_tree

    ctx = _context(
        store_path,
        root_set,
        multi_parent,
        regions_file,
        lineage,
        min_confidence,
        require_inferred=False,
    )
    result = model_tree(ctx, model)
    if fmt == "json":
        _out(
            render_json(
                {
                    "model": result.model,
                    "status": result.status,
                    "roots": result.roots,
                    "paths": [
                        [{"model": m, "relation_to_next": r} for m, r in p] for p in result.paths
                    ],
                    "descendants": result.descendants.to_dicts(),
                    "inferred_steps": result.inferred_steps,
                }
            ),
            nl=False,
        )
        return
    if fmt == "csv":
        paths = pl.DataFrame(
            [
                (number, step, m, r)
                for number, path in enumerate(result.paths, start=1)
                for step, (m, r) in enumerate(path, start=1)
            ],
            schema={
                "path": pl.Int64,
                "step": pl.Int64,
                "model": pl.String,
                "relation_to_next": pl.String,
            },
            orient="row",
        )
        _emit_sections({"paths": paths, "descendants": result.descendants}, "csv", {})
        return
    guessed = {(s["child"], s["parent"]): s for s in result.inferred_steps}
    lines = [
        f"{result.model} ({result.status}); roots: {', '.join(result.roots)}",
        "paths to the root(s), each step labelled with its relation to the next:",
    ]
    for number, path in enumerate(result.paths, start=1):
        line = ""
        for (m, r), nxt in zip(path, [*path[1:], None], strict=True):
            step = guessed.get((m, nxt[0])) if nxt is not None else None
            if step is not None:
                line += f"{m} [{r}, inferred: {step['method']} {step['confidence']:.2f}] ~> "
            else:
                line += f"{m} [{r}] -> " if r else m
        lines.append(f"  {number}. {line}")
    if guessed:
        lines.append(
            "  (~> steps are inferred lineage from `lineage infer`: no card declares them)"
        )
    _out("\n".join(lines))
    total = result.descendants["count"].sum() if result.descendants.height else 0
    _emit(
        result.descendants,
        "table",
        title=f"descendants: {total:,} (every model derived from it, any downloads), "
        "by depth and relation",
    )


@cli.command()
@click.option(
    "--examples",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    metavar="N",
    help="Name up to N distinct example models per check, each in full.",
)
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
    "--evaluate",
    is_flag=True,
    help="Measure instead: hide the declarations of --sample declared derivatives, infer "
    "them, and report coverage and precision (the store is not changed).",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="With --evaluate: declared derivatives whose declarations are hidden.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="With --evaluate: the sample's seed."
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0.0, 1.0),
    metavar="X",
    help="Inferred edges listed (--list) or evaluated by method, at least this confident "
    "[default: 0.8].",
)
@click.option(
    "--list", "list_edges", is_flag=True, help="Print the inferred edges, not the summary."
)
@click.option(
    "--regions",
    "regions_file",
    type=click.Path(dir_okay=False, path_type=str),
    help="With --evaluate: CSV of org,region rows for region precision.",
)
@format_option()
@quiet_option
@store_option
def infer(
    evaluate: bool,
    sample: int,
    seed: int,
    min_confidence: float | None,
    list_edges: bool,
    regions_file: str | None,
    fmt: str,
    store_path: str | None,
) -> None:
    """Infer the lineage of models that declare no parent: a parent or root family each.

    \b
    Examples:
      lineage infer                        # infer, store, print a summary by method
      lineage infer --list --format csv    # the inferred edges (confidence >= 0.8)
      lineage infer --evaluate             # how well it recovers hidden declarations
      lineage share --lineage both         # then: shares with inferred lineage counted

    Methods, strongest evidence first: adapter-config (a PEFT adapter's config names its
    base), name-id (an owner_-_name id in the name), name-exact (the name without format
    affixes such as GGUF, AWQ, Q4_K_M or 4bit is a known model's), name-contained (the
    longest known name it contains), architecture (the root family of most declared
    derivatives of the same architecture and size). Confidence is the share of the store's
    own declared derivatives with the same evidence that the method puts in their declared
    family. Inferred edges are stored apart (inferred_edges.parquet) and never counted
    unless asked (--lineage). No extra requests are made.
    """
    from .inference import DEFAULT_MIN_CONFIDENCE
    from .inference import infer as infer_lineage

    at = DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence
    store = _open_store(store_path, create=False)
    if evaluate:
        if fmt == "csv" or list_edges:
            raise click.UsageError("--evaluate prints several tables: use --format table or json")
        _evaluate(store, sample=sample, seed=seed, at=at, regions=regions_file, fmt=fmt)
        return
    from .inference import save

    result = infer_lineage(store)
    save(store, result)
    if list_edges:
        _emit(
            result.edges.filter(_at_least(at)).drop("inferred_at"),
            fmt,
            title=f"inferred lineage, confidence >= {at:g}",
        )
    else:
        _emit(result.summary(at), fmt, title=f"inferred lineage by method (>= {at:g})")
    strong = result.edges.filter(_at_least(at)).height
    _note(
        f"inferred lineage for {result.edges.height:,} of {result.targets:,} crawled models "
        f"without a declared parent ({strong:,} at confidence >= {at:g}); stored apart "
        f"from declared lineage in {store.file('inferred_edges')}; count it with "
        "`lineage share --lineage both`"
    )


def _at_least(at: float) -> Any:
    import polars as pl

    return pl.col("confidence") >= at


def _evaluate(store: Any, *, sample: int, seed: int, at: float, regions: str | None, fmt: str):
    from .inference_eval import TARGET_PRECISION, evaluate

    result = evaluate(store, sample=sample, seed=seed, min_confidence=at, regions=regions)
    recommended = result.recommended_min_confidence()
    if fmt == "json":
        _out(
            render_json(
                {
                    "sample": result.sample,
                    "seed": result.seed,
                    "declared_derivatives": result.declared_derivatives,
                    "min_confidence": at,
                    "recommended_min_confidence": recommended,
                    "recommended_for_regions": result.recommended_min_confidence(
                        on="region_precision"
                    ),
                    "thresholds": result.thresholds.to_dicts(),
                    "by_method": result.by_method.to_dicts(),
                    "calibration": result.calibration.to_dicts(),
                    "heads": result.heads.to_dicts(),
                }
            ),
            nl=False,
        )
        return
    _out(
        f"hid the declarations of {result.sample:,} of {result.declared_derivatives:,} declared "
        f"derivatives (seed {result.seed}) and inferred them"
    )
    _emit(result.thresholds, "table", title="by minimum confidence")
    _emit(result.by_method, "table", title=f"by method, confidence >= {at:g}")
    _emit(result.calibration, "table", title="calibration: precision by confidence")
    _emit(
        result.heads,
        "table",
        title="family heads (no declared parent, declared children) given a parent",
    )
    for measure, name in (("root_precision", "root-family"), ("region_precision", "region")):
        found = result.recommended_min_confidence(on=measure)
        _out(
            f"lowest confidence with {name} precision >= {TARGET_PRECISION:.0%}: "
            + (f"{found:g}" if found is not None else "none")
        )


@cli.command()
@click.option(
    "--unmapped",
    is_flag=True,
    help="Root organizations the table lacks, by derivatives (to extend it).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    metavar="N",
    help="With --unmapped: how many organizations to list, most derivatives first.",
)
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

    Extend it with --regions FILE on any analysis command: org,region lines, with or
    without a header line, region one of us, china, eu, other, unknown.
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
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    metavar="N",
    help="How many added models and grown families to list.",
)
@attribution_options
@format_option()
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
    --format csv gives one table with a section column (summary, added, families,
    regions).
    """
    import polars as pl

    from .diff import diff

    ctx = _context(store_path, root_set, multi_parent, regions_file)
    result = diff(ctx, before, after, top=top)
    totals = {
        "before": result.before,
        "after": result.after,
        "models_before": result.models_before,
        "models_after": result.models_after,
        "models_added": result.models_added,
        "models_gone": result.models_gone,
        "edges_added": result.edges_added,
    }
    if fmt == "json":
        _out(
            render_json(
                {
                    **totals,
                    "added": result.added.to_dicts(),
                    "families": result.families.to_dicts(),
                    "regions": result.regions.to_dicts(),
                }
            ),
            nl=False,
        )
        return
    if fmt == "csv":
        sections = {
            "summary": pl.DataFrame([totals]),
            "added": result.added,
            "families": result.families,
            "regions": result.regions,
        }
        _emit_sections(sections, "csv", {})
        return
    _out(
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
@quiet_option
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
        _note(
            "no window covered: RAM needs snapshots 7-365 days after release and a known "
            "size (safetensors)"
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
@attribution_options
@lineage_options(("declared", "both"), "declared")
@quiet_option
@store_option
def neo4j_load(
    uri: str,
    user: str,
    password: str | None,
    database: str,
    batch_size: int,
    prune: bool,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    lineage: str,
    min_confidence: float | None,
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
    With --lineage both, inferred edges are DERIVED_FROM {lineage: 'inferred', method,
    confidence} (declared ones have lineage 'declared') and count in ATTRIBUTED_TO.
    """
    from .neo4j_loader import Neo4jTarget

    target = Neo4jTarget(uri=uri, user=user, password=password, database=database)
    ctx = _context(store_path, root_set, multi_parent, regions_file, lineage, min_confidence)
    _load_neo4j(ctx, target, batch_size=batch_size, prune=prune, quiet=False, regions=regions_file)


def _load_neo4j(
    ctx: Any, target: Any, *, batch_size: int, prune: bool, quiet: bool, regions: str | None
) -> None:
    """Load into Neo4j with a progress bar and a summary (``quiet``, or --quiet: neither)."""
    from .neo4j_loader import load
    from .progress import Progress

    quiet = quiet or _quiet()
    progress = Progress(enabled=False) if quiet else _progress()
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
        _note(format_load_summary(summary))


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
@attribution_options
@lineage_options(("declared", "both"), "declared")
@quiet_option
@store_option
def neo4j_export_csv(
    directory: str,
    database: str,
    import_dir: str | None,
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    lineage: str,
    min_confidence: float | None,
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

    ctx = _context(store_path, root_set, multi_parent, regions_file, lineage, min_confidence)
    summary = export_csv(
        ctx,
        directory,
        regions_source=f"packaged (ATOM) + {regions_file}" if regions_file else None,
    )
    _out(summary.command(database, import_dir=import_dir))
    files = ", ".join(f"{name} {rows:,}" for name, rows in summary.rows.items())
    _note(
        f"wrote {len(summary.rows) * 2} files to {summary.directory} in "
        f"{summary.seconds:.1f} s (rows: {files})\n"
        "stop Neo4j, run the command above, start Neo4j, then create the constraints "
        "and indexes: cypher-shell -f cypher/schema.cypher"
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
    callback=_output_path,
    help="The page to write: a regular file is replaced whole; a device, FIFO or symlink "
    "is written through.",
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
@attribution_options
@lineage_options(("declared", "both"), "declared")
@quiet_option
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
    root_set: str,
    multi_parent: str,
    regions_file: str | None,
    lineage: str,
    min_confidence: float | None,
    store_path: str | None,
) -> None:
    """Write a family's interactive tree as one self-contained HTML file.

    \b
    Examples:
      lineage export html --root Qwen -o qwen.html
      lineage export html --root Qwen/Qwen2.5-7B -o qwen2.5.html
      lineage export html --root mistralai -o mistral.html --depth 2 --color relation
      lineage export html --root meta-llama/Llama-3.1-8B -o llama.html \\
          --relations finetune,merge --min-downloads 100

    The page opens with no network in any browser (everything is inlined). An
    organization is drawn at the centre with each of its models' families in a disk of
    its own around it, oldest nearest; a model, at the centre of its own tree. Labels
    never overlap: the biggest families first, more as you zoom, any model's on hover.
    A month slider replays the family's growth with running counts by relation and
    builder region. Click or find a model to focus its path to the root and its
    descendants, with its details and a link to its Hub page. With --lineage both, parents
    that `lineage infer` proposed are drawn dotted grey and called inferred. Ends with a
    summary on stderr: what was drawn and what was collapsed.
    """
    from .html_export import export_family_html

    ctx = _context(store_path, root_set, multi_parent, regions_file, lineage, min_confidence)
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
    _note(format_export_summary(summary))


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
