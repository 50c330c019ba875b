"""A one-page report of the finding: ``lineage report -o report.html``.

:func:`write_report` writes one self-contained HTML page (its script, styles and data
inlined; it opens offline and requests nothing) that a researcher can send a colleague
instead of a notebook: the monthly share of new derivatives by the region of their root
family as an interactive chart (hover or arrow keys for a month's counts and shares, a
button per region to hide it), the share of downloads beside it where the store's
snapshots make a series, the families that drove each region's change between the first
and the last year shown, how much the region table leaves unknown, the quality summary,
and every choice behind the numbers in words (filters, root set, merge rule, lineage,
region table, the store's dates, lineage's version).

This module gathers the numbers (from :mod:`lineage.analysis`) and renders the page; it
computes no share itself, and draws nothing: the page's script (``templates/report.js``)
draws the charts. Text from the Hub (family ids, quality examples) travels only inside
the page's JSON, escaped as in the family trees (:func:`lineage.html.export.script_json`),
and is shown with ``textContent``; a Content-Security-Policy lets only the page's own
script (by its hash) run.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, cast

import polars as pl

from .analysis import (
    Context,
    download_share,
    lineage_label,
    observed_through,
    quality,
    share,
    unmapped_organizations,
)
from .checks import check_choice
from .errors import InputError
from .months import format_month
from .output import check_output, write_output
from .regions import attach_regions
from .vocabulary import DOWNLOAD_WINDOWS, REGIONS, DownloadWindow

__all__ = ["ReportSummary", "report_data", "write_report"]

REGION_COLORS = {
    "china": "#d62728",
    "us": "#1f77b4",
    "eu": "#e6b800",
    "other": "#7f7f7f",
    "unknown": "#c7c7c7",
}
REGION_NAMES = {
    "china": "China",
    "us": "the US",
    "eu": "Europe",
    "other": "other regions",
    "unknown": "unknown organizations",
}
MIN_MONTH_COUNT = 20
_DRIVERS = 3  # gainers and losers listed per region
_MULTI_PARENT = {
    "split": "a merge of k root families counts 1/k to each",
    "first": "a merge counts fully to its first declared parent's root family",
    "all": "a merge counts fully to each of its root families (months can add to over 100%)",
}


@dataclass(frozen=True)
class ReportSummary:
    """What :func:`write_report` wrote."""

    path: Path
    months: tuple[str, ...]  # the months the chart shows, YYYY-MM
    derivatives: int  # counted in those months
    download_months: int  # months with a snapshot (a series needs two)
    partial: dt.date | None  # the last month is counted to this date
    bytes: int


def _template(name: str) -> str:
    return resources.files("lineage").joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _periods(months: list[dt.date]) -> tuple[list[dt.date], list[dt.date], str, str]:
    """The first and last year shown (their months), or the two halves of a single year."""
    first, last = months[0].year, months[-1].year
    if first != last:
        a = [m for m in months if m.year == first]
        b = [m for m in months if m.year == last]
        return a, b, str(first), str(last)
    half = max(1, len(months) // 2)
    a, b = months[:half], months[-half:]

    def name(span: list[dt.date]) -> str:
        return format_month(span[0]) + (f" to {format_month(span[-1])}" if len(span) > 1 else "")

    return a, b, name(a), name(b)


def _period_shares(table: pl.DataFrame, span: list[dt.date]) -> pl.DataFrame:
    """Each group's share of all the weight in ``span``'s months: group, share."""
    part = table.filter(pl.col("month").is_in(span))
    total = part["weight"].sum() or 1.0
    return part.group_by("group").agg((pl.col("weight").sum() / total).alias("share"))


def _drivers(
    ctx: Context, families: pl.DataFrame, months: list[dt.date], partial: dt.date | None
) -> dict[str, Any]:
    """Per region: its share in the first and last period, and the families whose share
    rose or fell most between them (their changes add up to the region's)."""
    a, b, first_name, last_name = _periods(months)
    if partial is not None:
        last_name += f" (to {partial:%b} {partial.day})"
    both = (
        _period_shares(families, a)
        .rename({"share": "first"})
        .join(_period_shares(families, b).rename({"share": "last"}), on="group", how="full")
        .with_columns(
            pl.coalesce("group", "group_right").alias("family"),
            pl.col("first").fill_null(0.0),
            pl.col("last").fill_null(0.0),
        )
        .with_columns((pl.col("last") - pl.col("first")).alias("change"))
        .with_columns(
            pl.when(pl.col("family").str.contains("/"))
            .then(pl.col("family").str.split("/").list.first())
            .alias("org")
        )
    )
    both = attach_regions(both, ctx.regions, org="org", region="region")
    regions: list[dict[str, Any]] = []
    for region in REGIONS:
        mine = both.filter(pl.col("region") == region)
        if mine.height == 0:
            continue
        rows = mine.sort(["change", "family"], descending=[True, False])

        def listed(frame: pl.DataFrame) -> list[list[Any]]:
            return [
                [r["family"], round(r["first"], 6), round(r["last"], 6), round(r["change"], 6)]
                for r in frame.iter_rows(named=True)
            ]

        regions.append(
            {
                "region": region,
                "first": round(float(mine["first"].sum()), 6),
                "last": round(float(mine["last"].sum()), 6),
                "gainers": listed(rows.filter(pl.col("change") > 0).head(_DRIVERS)),
                "losers": listed(rows.filter(pl.col("change") < 0).sort("change").head(_DRIVERS)),
                "families": mine.height,
            }
        )
    regions.sort(key=lambda r: -abs(r["last"] - r["first"]))
    return {"first": first_name, "last": last_name, "regions": regions}


def _store_dates(ctx: Context) -> dict[str, Any]:
    store = ctx.store
    crawls = store.read("crawls")
    first: dt.date | None = None
    seen = store.scan("models").collect_schema().names()
    column = "last_seen" if "last_seen" in seen else "seen_at" if "seen_at" in seen else None
    if column:
        earliest = store.scan("models").select(pl.col(column).min()).collect().item()
        first = earliest.date() if isinstance(earliest, dt.datetime) else earliest
    snapshot_dates = store.read("snapshots", columns=["date"])["date"]
    candidates = [first, cast(dt.date | None, snapshot_dates.min())]
    if crawls.height and "started_at" in crawls.columns:
        candidates.append(cast(dt.datetime, crawls["started_at"].min()).date())
    dates = [d for d in candidates if d is not None]
    first = min(dates) if dates else None
    last_run = None
    if crawls.height:
        row = crawls.sort("finished_at").row(-1, named=True)
        last_run = {
            "finished": row["finished_at"].strftime("%Y-%m-%d %H:%M UTC"),
            "kind": row.get("kind") or "crawl",
            "strategy": row.get("strategy"),
        }
    observed = observed_through(store)
    return {
        "path": str(store.path),
        "first": first.isoformat() if first else None,
        "last": observed.isoformat() if observed else None,
        "runs": crawls.height,
        "last_run": last_run,
        "snapshots": snapshot_dates.n_unique(),
        "models": ctx.graph.n,
        "format": store.format_version,
    }


def _series(table: pl.DataFrame, months: list[dt.date], column: str) -> dict[str, list]:
    """Per region, the column's value each month (0 where the region has none)."""
    axis = pl.DataFrame({"month": months}, schema={"month": pl.Date})
    out: dict[str, list[Any]] = {}
    for region in REGIONS:
        values = axis.join(
            table.filter(pl.col("group") == region).select("month", column), on="month", how="left"
        )[column]
        if values.dtype.is_float():
            out[region] = [round(float(v), 6) if v is not None else 0.0 for v in values]
        else:
            out[region] = [int(v) if v is not None else 0 for v in values]
    return out


def report_data(
    ctx: Context,
    *,
    min_downloads: int = 5,
    downloads: DownloadWindow = "all",
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready values (see :func:`write_report`)."""
    from . import __version__

    check_choice("downloads", downloads, DOWNLOAD_WINDOWS)
    result = share(ctx, since=since, until=until, min_downloads=min_downloads, downloads=downloads)
    if result.table.height == 0:
        raise InputError("nothing to report: no derivatives pass the filters")
    # a Date column's min and max
    first, last = (
        cast(dt.date, result.table["month"].min()),
        cast(dt.date, result.table["month"].max()),
    )
    assert result.counts is not None  # share() counts the derivatives of each month
    months = pl.date_range(first, last, "1mo", eager=True).to_list()
    per_month = (
        pl.DataFrame({"month": months}, schema={"month": pl.Date})
        .join(result.counts, on="month", how="left")
        .fill_null(0)
    )
    families = share(
        ctx, by="family", since=since, until=until, min_downloads=min_downloads, downloads=downloads
    ).table
    downloads_result = download_share(ctx, since=since, until=until)
    download_months = sorted(downloads_result.table["month"].unique().to_list())
    window = "all-time" if downloads == "all" else "last-30-days"
    unknown = result.table.filter(pl.col("group") == "unknown")
    total_weight = float(result.table["weight"].sum())
    missing = result.unattributed
    filters = [
        f"New derivative models (a model with at least one declared parent) with more than "
        f"{min_downloads:,} {window} downloads, by the month they were created (UTC), "
        f"{format_month(first)} to {format_month(last)}.",
        "Each is counted for the region of the organization behind its root family: the "
        "model its parents lead back to, with no parent of its own"
        + (
            "."
            if ctx.attribution.root_set == "all"
            else f", or a member of the root set ({ctx.attribution.root_set})."
        ),
        f"Root set: {ctx.attribution.root_set}. Merges: {ctx.attribution.multi_parent}, "
        f"{_MULTI_PARENT.get(ctx.attribution.multi_parent, '')}.",
        "Regions: the ATOM Project's organization table, as shipped with lineage"
        + (f", extended by {ctx.regions_file}." if ctx.regions_file else ".")
        + " An organization it lacks is unknown, never guessed.",
        "Lineage: "
        + (lineage_label(ctx) or "declared only (what model cards declare), as published")
        + ".",
    ]
    if result.partial is not None:
        filters.append(
            f"{format_month(last)} is partial: the store's latest observation is "
            f"{result.partial.isoformat()}, so it holds the derivatives created up to then."
        )
    if missing.height and missing["unattributed_weight"].sum() > 0:
        filters.append(
            f"Not counted: {int(missing['unattributed'].sum()):,} of "
            f"{int(missing['derivatives'].sum()):,} derivatives whose ancestry never reaches "
            "the root set, and parts of merges weighing "
            f"{missing['unattributed_weight'].sum():,.1f}."
        )
    checks = quality(ctx)
    return {
        "meta": {
            "title": title or "Whose models does the world build on?",
            "generated": dt.date.today().isoformat(),
            "version": __version__,
            "filters": filters,
            "store": _store_dates(ctx),
            "min_month_count": MIN_MONTH_COUNT,
            "partial": result.partial.isoformat() if result.partial else None,
        },
        "regions": list(REGIONS),
        "names": REGION_NAMES,
        "colors": REGION_COLORS,
        "months": [format_month(m) for m in months],
        "derivatives": {
            "total": per_month["count"].to_list(),
            "share": _series(result.table, months, "share"),
            "count": _series(result.table, months, "count"),
        },
        "downloads": {
            "months": [format_month(m) for m in download_months],
            "share": _series(downloads_result.table, download_months, "share")
            if len(download_months) >= 2
            else None,
            "snapshots": len(download_months),
        },
        "drivers": _drivers(ctx, families, months, result.partial),
        "coverage": {
            "unknown_share": round(float(unknown["weight"].sum()) / (total_weight or 1), 6),
            "unknown_derivatives": int(unknown["count"].sum()),
            "derivatives": int(per_month["count"].sum()),
            "unmapped": [
                [r["org"], int(r["derivatives"]), round(float(r["weight"]), 2), r["example_roots"]]
                for r in unmapped_organizations(ctx, top=10).iter_rows(named=True)
            ],
        },
        "quality": [
            [r["check"], int(r["count"]), list(r["examples"] or [])]
            for r in checks.iter_rows(named=True)
        ],
    }


def write_report(
    ctx: Context,
    path: str | os.PathLike[str],
    *,
    min_downloads: int = 5,
    downloads: DownloadWindow = "all",
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    title: str | None = None,
) -> ReportSummary:
    """Write the report of the finding on ``ctx``'s store as one self-contained page.

    Parameters
    ----------
    ctx : :class:`lineage.analysis.Context`
        The store's attribution, under the root set, merge rule, regions and lineage chosen.
    path : path-like
        The HTML file to write (a regular file is replaced whole).
    min_downloads, downloads, since, until
        As for :func:`lineage.analysis.share`: which derivatives count, and the months.
    title : str, optional
        The page's title.

    Examples
    --------
    >>> import tempfile
    >>> from lineage.analysis import load_context
    >>> from lineage.records import parse_items
    >>> from lineage.store import Store
    >>> folder = tempfile.mkdtemp()
    >>> store = Store(folder + "/store")
    >>> batch, _ = parse_items(
    ...     [{"id": "Qwen/base", "createdAt": "2025-01-05T00:00:00Z"},
    ...      {"id": "me/base-GGUF", "tags": ["base_model:quantized:Qwen/base"],
    ...       "downloadsAllTime": 90, "createdAt": "2025-03-01T00:00:00Z"}],
    ...     seen_at=dt.datetime(2025, 3, 20, tzinfo=dt.UTC), source="doctest")
    >>> _ = store.commit(batch, observed=dt.date(2025, 3, 20))
    >>> summary = write_report(load_context(store), folder + "/report.html")
    >>> summary.months, summary.derivatives, summary.partial
    (('2025-03',), 1, datetime.date(2025, 3, 20))
    """
    out = check_output(path)
    data = report_data(
        ctx, min_downloads=min_downloads, downloads=downloads, since=since, until=until,
        title=title,
    )  # fmt: skip
    from .html.export import script_json

    script = _template("report.js")
    if "</script" in script.lower():
        raise RuntimeError("packaged asset report.js contains </script")
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(script)}; "
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    page = Template(_template("report.html")).substitute(
        csp=html.escape(csp),
        title=html.escape(data["meta"]["title"]),
        app_js=script,
        data=script_json(data),
    )
    size = write_output(out, page)
    return ReportSummary(
        path=out,
        months=tuple(data["months"]),
        derivatives=int(data["coverage"]["derivatives"]),
        download_months=int(data["downloads"]["snapshots"]),
        partial=dt.date.fromisoformat(data["meta"]["partial"]) if data["meta"]["partial"] else None,
        bytes=size,
    )
