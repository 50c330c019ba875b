"""Options more than one command takes, each declared once: --store, --quiet, --format,
--endpoint, --top, --min-downloads, --downloads, --since/--until, --plot, and the
attribution options that hand a command its ready :class:`~lineage.analysis.Context`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

import click

from ..errors import InputError
from ..render import FORMATS
from ..settings import ENDPOINT_ENV, STORE_ENV
from ..vocabulary import (
    LINEAGES,
    REGIONS,
    ROOT_SETS,
    DownloadWindow,
    Lineage,
    MultiParent,
)
from .phrasing import phrase


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


STORE_DECLS = ("--store", "store_path")


STORE_ATTRS: dict[str, Any] = {"type": click.Path(path_type=str), "envvar": STORE_ENV}


def _group_store(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The command's --store, else the group's (``lineage --store DIR share``)."""
    if value is not None:
        return value
    return (ctx.find_root().obj or {}).get("store_path")


store_option = click.option(
    *STORE_DECLS,
    **STORE_ATTRS,
    show_envvar=True,
    callback=_group_store,
    help="Store directory [default: your user data directory, e.g. ~/.local/share/lineage].",
)
"""The --store option every command takes (the group's when the command has none). Put it
last among a command's decorators (just above ``def``), so --help lists it last."""


def _endpoint(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--endpoint (or HF_ENDPOINT): an http(s) URL, else a usage error before any request."""
    if value is None or not value.strip():
        return None
    from ..hub import check_endpoint
    from ..repo_id import quote

    try:
        return check_endpoint(value)
    except InputError:
        raise click.BadParameter(
            f"{quote(value)!r} is not an http:// or https:// URL of a Hub, such as "
            "https://huggingface.co"
        ) from None


def endpoint_option(what: str) -> Callable:
    """--endpoint URL (HF_ENDPOINT): the Hub, a mirror, or a local test Hub."""
    return click.option(
        "--endpoint",
        envvar=ENDPOINT_ENV,
        show_envvar=True,
        metavar="URL",
        callback=_endpoint,
        help=f"{what}: an http(s) URL (a mirror, or a local test Hub) [default: "
        "https://huggingface.co]. Requests and the token go to its origin only.",
    )


def top_option(default: int, what: str) -> Callable:
    """--top N: how many rows a ranking lists."""
    return click.option(
        "--top",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        metavar="N",
        help=what,
    )


def min_downloads_option(default: int | None, what: str) -> Callable:
    """--min-downloads N: count only models with more than N downloads."""
    return click.option(
        "--min-downloads",
        type=click.IntRange(min=0),
        default=default,
        show_default=default is not None,
        metavar="N",
        help=what,
    )


def downloads_option(default: DownloadWindow | None, what: str) -> Callable:
    """--downloads all|30d: which download counter --min-downloads reads."""
    return click.option(
        "--downloads",
        type=click.Choice(get_args(DownloadWindow)),
        default=default,
        show_default=default is not None,
        help=what,
    )


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
        from ..months import parse_month

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
        from ..months import check_month_range

        try:
            check_month_range(kwargs.get("since"), kwargs.get("until"))
        except InputError as exc:
            raise click.UsageError(phrase(exc), click.get_current_context()) from None
        return func(*args, **kwargs)

    return wrapper


def _chart_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--plot FILE: .png or .svg (else a usage error), writable (checked before any work)."""
    if value is None:
        return None
    from ..charts import CHART_SUFFIXES
    from ..output import check_output

    if Path(value).suffix.lower() not in CHART_SUFFIXES:
        raise click.BadParameter(f"{value!r}: give a file ending in .png or .svg")
    check_output(value)
    return value


def check_output_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An output file, checked before the store is read: fail fast on a bad path."""
    if value is not None:
        from ..output import check_output

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


def open_store(path: str | None, *, create: bool = True):
    """The store at --store (else LINEAGE_STORE, else the default); a path the system
    refuses (a name too long, a component that is a file) is one line naming it."""
    from ..errors import StoreError
    from ..output import os_error_reason
    from ..repo_id import quote
    from ..store import Store

    try:
        return Store(path, create=create)
    except OSError as exc:
        raise StoreError(
            f"cannot use store directory {quote(str(path))}: {os_error_reason(exc)}; pass "
            "{store} DIR",
            params=("store",),
        ) from exc


_ATTRIBUTION = ("root_set", "multi_parent", "regions_file", "lineage", "min_confidence")
_VIEW = ("as_of", "include_deleted")


def attribution_options(
    lineage: Lineage | None = None,
    *,
    inferred_alone: bool = False,
    require_inferred: bool = True,
    check: Callable[[dict[str, Any]], None] | None = None,
    when: Callable[[dict[str, Any]], bool] | None = None,
    history: bool = False,
) -> Callable:
    """--roots, --multi-parent and --regions (with a ``lineage`` default, also --lineage and
    --min-confidence; with ``history``, also --as-of and --include-deleted): the command gets
    ``ctx``, the store's attributed graph under them (:func:`lineage.analysis.load_context`),
    from the store of its own ``@store_option`` (which it must also carry).

    ``check(options)`` runs first, so usage errors come before the store is read;
    ``when(options)`` false: ``ctx`` is None (the command needs no store that time). A
    command that names one of these options in its signature gets its value too.
    """

    def decorate(func: Callable) -> Callable:
        wanted = set(inspect.signature(func).parameters)

        @functools.wraps(func)
        def wrapper(**kwargs: Any) -> Any:
            from ..analysis import load_context

            chosen = {name: kwargs.pop(name) for name in _ATTRIBUTION if name in kwargs}
            viewed = {name: kwargs.pop(name) for name in _VIEW if name in kwargs}
            store_path = kwargs.pop("store_path")
            if check is not None:
                check({**kwargs, **chosen})
            view = chosen_view(**viewed) if viewed else None
            ctx = None
            if when is None or when({**kwargs, **chosen}):
                ctx = load_context(
                    open_store(store_path, create=False),
                    roots=chosen["root_set"],
                    multi_parent=chosen["multi_parent"],
                    regions=chosen["regions_file"],
                    lineage=chosen.get("lineage", "declared"),
                    min_confidence=chosen.get("min_confidence"),
                    require_inferred=require_inferred,
                    view=view,
                )
            kwargs.update({k: v for k, v in chosen.items() if k in wanted})
            return func(ctx=ctx, **kwargs)

        options = [
            click.option(
                "--roots",
                "root_set",
                default="all",
                show_default=True,
                metavar="|".join((*ROOT_SETS, "FILE")),
                help="Root set: every parentless model, ATOM's mainline models, or a file of ids.",
            ),
            click.option(
                "--multi-parent",
                type=click.Choice(get_args(MultiParent)),
                default="split",
                show_default=True,
                help="How a merge counts: 1/k to each of k roots, all to the first parent's "
                "root, or fully to each.",
            ),
            click.option(
                "--regions",
                "regions_file",
                type=click.Path(dir_okay=False, path_type=str),
                metavar="FILE",
                help="CSV of org,region lines (a header line is optional) extending or "
                f"overriding the packaged (ATOM) table; region one of {', '.join(REGIONS)}.",
            ),
        ]
        if lineage is not None:
            options += _lineage_options(lineage, inferred_alone=inferred_alone)
        if history:
            options += view_options()
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate


def view_options() -> list[Callable]:
    """--as-of and --include-deleted: which models count (see lineage.view)."""
    return [
        click.option(
            "--as-of",
            type=click.DateTime(formats=["%Y-%m-%d"]),
            metavar="YYYY-MM-DD",
            help="Count the Hub as it was that day: only the models of that day's complete "
            "observation (a whole-Hub crawl or a hub-stats dump), with their counters then. "
            "Card edits made since are not undone.",
        ),
        click.option(
            "--include-deleted",
            is_flag=True,
            help="Count every model ever observed, also those the Hub no longer lists "
            "[default: the models present at the latest complete observation, as a fresh "
            "crawl counts them].",
        ),
    ]


def chosen_view(as_of: Any = None, include_deleted: bool = False) -> Any:
    """The view --as-of and --include-deleted choose; both at once is a usage error."""
    from ..view import View

    if as_of is not None and include_deleted:
        raise click.UsageError(
            "--as-of counts one day's models, --include-deleted every model "
            "ever observed: give one of them"
        )
    return View.of(
        as_of=as_of.date() if as_of is not None else None, include_deleted=include_deleted
    )


def _lineage_options(default: Lineage, *, inferred_alone: bool) -> list[Callable]:
    """--lineage and --min-confidence: whether inferred lineage (`lineage infer`) counts.

    ``inferred_alone``: the command can count inferred lineage without the declared (a share
    can; a tree, a page or a database needs the declared graph under it)."""
    choices = LINEAGES if inferred_alone else tuple(x for x in LINEAGES if x != "inferred")
    meanings = {
        "declared": "only what model cards declare (what published figures use)",
        "inferred": "only models given inferred lineage by `lineage infer`",
        "both": "declared and inferred lineage together, inferred edges marked as such",
    }
    return [
        click.option(
            "--lineage",
            type=click.Choice(choices),
            default=default,
            show_default=True,
            help="; ".join(f"{c}: {meanings[c]}" for c in choices) + ".",
        ),
        click.option(
            "--min-confidence",
            type=click.FloatRange(0.0, 1.0),
            metavar="X",
            help="With inferred lineage: only inferred edges with at least this confidence "
            "[default: 0.8, chosen by `lineage infer --evaluate` on real lineage; see "
            "docs/methodology.md].",
        ),
    ]
