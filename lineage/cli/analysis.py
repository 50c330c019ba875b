"""Questions asked of an attribution: ``share``, ``families``, ``tree``, ``quality``,
``regions``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, get_args

import click

from ..render import render_json
from ..vocabulary import (
    DownloadWindow,
    Grouping,
    Metric,
    Region,
)
from .group import cli
from .options import (
    attribution_options,
    downloads_option,
    format_option,
    min_downloads_option,
    month_range_options,
    plot_option,
    quiet_option,
    store_option,
    top_option,
)
from .streams import emit, emit_sections, note, write_data
from .summaries import plural

if TYPE_CHECKING:
    from ..analysis import Context


def _months_shown(result: Any, having: str) -> str:
    """'2024-02 to 2025-04 (7 months with derivatives)' for a share result, or 'none'."""
    from ..months import format_month

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
    downloads: DownloadWindow,
    ctx: Context,
    by: Grouping,
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
    view = getattr(ctx, "view", None)
    if view is not None and view.kind == "as-of":
        parts.append(f"the Hub as of {view.date} (that day's models and counters)")
    elif view is not None and view.kind == "all":
        parts.append("every model ever observed, deleted ones too")
    if result is not None:
        label = "months shown" if downloads_result is None else "derivative months"
        parts.append(f"{label}: {_months_shown(result, 'derivatives')}")
    if downloads_result is not None:
        label = "months shown" if result is None else "snapshot months"
        parts.append(f"{label}: {_months_shown(downloads_result, 'snapshots')}")
    return "share of " + "; ".join(parts)


def _share_usage(options: dict[str, Any]) -> None:
    """What `lineage share` cannot combine: usage errors, before the store is read."""
    metric = options["metric"]
    if metric in ("downloads", "both") and (
        options["by"] == "builder-region" or options["root_region"]
    ):
        raise click.UsageError(
            "--metric downloads groups by region, family or org (not --by builder-region "
            "or --root-region)"
        )
    if options["lineage"] == "inferred" and metric != "derivatives":
        raise click.UsageError("--lineage inferred counts derivatives: use --metric derivatives")


@cli.command("share")
@click.option(
    "--by",
    type=click.Choice(get_args(Grouping)),
    default="region",
    show_default=True,
    help="Group by the root's region, root model, root organization, or the builder's region.",
)
@min_downloads_option(5, "Count derivatives with more than this many downloads.")
@downloads_option("all", "Download counter for the filter: all-time or the last 30 days.")
@month_range_options
@click.option(
    "--root-region",
    type=click.Choice(get_args(Region)),
    help="Only derivatives of this region's roots (e.g. who builds on Chinese models).",
)
@click.option(
    "--metric",
    type=click.Choice(get_args(Metric)),
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
@attribution_options("declared", inferred_alone=True, check=_share_usage, history=True)
@format_option()
@quiet_option
@store_option
def share_command(
    by: Grouping,
    metric: Metric,
    min_downloads: int,
    downloads: DownloadWindow,
    since: dt.date | None,
    until: dt.date | None,
    root_region: str | None,
    plot: str | None,
    min_month_count: int,
    ctx: Context,
    fmt: str,
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

    from ..analysis import download_share, share

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
        ).sort(  # groups within a month as plain `share` orders them: biggest share first
            ["month", "metric", "share", "group"], descending=[False, False, True, False]
        )
        title = (
            f"share of {result.description} (metric derivatives), and of "
            f"{downloads_result.description} (metric downloads)"
        )
    else:
        shown = result or downloads_result
        assert shown is not None  # metric is derivatives, downloads or both
        table, title = shown.table, f"share of {shown.description}"
    emit(table, fmt, title=title)
    note(
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
    if result is not None and result.partial is not None:
        note(
            f"partial month: {result.partial:%Y-%m} is counted to {result.partial.isoformat()}, "
            "the store's latest observation; derivatives created later that month are not in it"
        )
    missing = result.unattributed if result is not None else None
    if missing is not None and missing.height and missing["unattributed_weight"].sum() > 0:
        note(
            f"unattributed: {missing['unattributed'].sum():,} of {missing['derivatives'].sum():,}"
            f" derivatives never reach the root set ({ctx.attribution.root_set}), and parts of "
            f"merges weighing {missing['unattributed_weight'].sum():,.1f} in all; not counted"
        )
    if result is not None and ctx.lineage != "declared":
        _note_weight_moved(ctx, min_downloads, downloads, since, until)
    snapshot_months = 0
    if downloads_result is not None:
        snapshot_months = downloads_result.table["month"].n_unique()
        if snapshot_months < 2:
            note(
                f"download share: {plural(snapshot_months, 'month')} of snapshots; a series needs "
                "snapshots over time (crawl or ingest hub-stats again later)"
            )
    if plot:
        from ..charts import plot_share

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
        assert base is not None  # metric is derivatives, downloads or both
        labels: dict[str, str] = (
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
            partial=result.partial if result is not None else None,
            **labels,  # type: ignore[arg-type]  # mypy reads **dict[str, str] as every parameter
        )
        note(f"chart written to {plot}")


def _note_weight_moved(
    ctx: Context, min_downloads: int, downloads: DownloadWindow, since: Any, until: Any
) -> None:
    """With inferred lineage: how much weight it moved into regions, and by which method."""
    from ..moved import weight_moved

    moved = weight_moved(
        ctx, min_downloads=min_downloads, downloads=downloads, since=since, until=until
    )
    if moved is None:
        return

    def parts(values: dict[str, float]) -> str:
        return ", ".join(f"{k} {v:,.1f}" for k, v in values.items())

    line = (
        f"inferred lineage moved {moved.gained:,.1f} of {moved.weight:,.1f} derivative weight "
        f"into regions (from unknown {moved.from_unknown:,.1f}, from unattributed "
        f"{moved.from_unattributed:,.1f})"
    )
    if moved.by_method:
        line += f": {parts(moved.by_method)}"
    if moved.into:
        line += f"; into {parts(moved.into)}"
    if moved.lost:
        line += f"; {moved.lost:,.1f} moved out of regions"
    note(line)
    if moved.new_models:
        note(
            f"inferred lineage also counts {moved.new_models:,} models that declare no parent "
            f"(weight {moved.new_weight:,.1f}, {moved.new_in_regions:,.1f} in regions): "
            f"{parts(moved.new_by_method)}"
        )


def _families_rule(min_downloads: int | None, downloads: DownloadWindow) -> str:
    if min_downloads is None:
        return "every derivative in the store, any downloads (as `lineage tree ROOT` counts)"
    window = "all-time" if downloads == "all" else "last-30-days"
    return f"crawled derivatives with more than {min_downloads:,} {window} downloads"


def _families_usage(options: dict[str, Any]) -> None:
    if options["downloads"] is not None and options["min_downloads"] is None:
        raise click.UsageError("--downloads chooses the counter for --min-downloads; give both")


@cli.command()
@top_option(20, "How many families to list, biggest first.")
@min_downloads_option(
    None,
    "Count only crawled derivatives with more than N downloads, as `lineage share` "
    "does [default: every derivative, as `lineage tree` counts descendants].",
)
@downloads_option(
    None,
    "The download counter --min-downloads looks at: all-time or the last 30 days [default: all].",
)
@plot_option("the families as bars stacked by relation")
@attribution_options(check=_families_usage, history=True)
@format_option()
@quiet_option
@store_option
def families(
    top: int,
    min_downloads: int | None,
    downloads: DownloadWindow | None,
    plot: str | None,
    ctx: Context,
    fmt: str,
) -> None:
    """Top root families by number of derivatives, split by relation.

    By default every derivative in the store counts, whatever its downloads: the same
    models `lineage tree ROOT` counts as the root's descendants. The header says which
    rule the numbers follow.
    """
    from ..analysis import families as top_families

    downloads = downloads or "all"
    table = top_families(ctx, top=top, min_downloads=min_downloads, downloads=downloads)
    rule = _families_rule(min_downloads, downloads)
    emit(table, fmt, title=f"top {top} root families by derivatives: {rule}")
    if plot:
        from ..charts import plot_families

        plot_families(table, plot, title=f"Top {top} root families by derivative models\n{rule}")
        note(f"chart written to {plot}")


@cli.command()
@click.argument("model")
@attribution_options("both", require_inferred=False)
@format_option()
@store_option
def tree(model: str, ctx: Context, fmt: str) -> None:
    """A model's path(s) to its root(s) and a summary of its descendants.

    Descendants are every model in the store derived from MODEL, whatever its downloads
    (as `lineage families` counts by default). --format csv gives one table with a
    section column: the paths, step by step, then the descendants.

    Steps that `lineage infer` inferred (no card declares them) are shown as inferred:
    `~>` with their method and confidence, and descendants below one are counted apart
    (lineage column). --lineage declared leaves them out.
    """
    import polars as pl

    from ..analysis import tree as model_tree

    result = model_tree(ctx, model)
    if fmt == "json":
        write_data(render_json(result), nl=False)
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
        emit_sections({"paths": paths, "descendants": result.descendants}, "csv", {})
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
    write_data("\n".join(lines))
    total = result.descendants["count"].sum() if result.descendants.height else 0
    emit(
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
    help="Name up to N distinct example models per check, each in full (a table shows as "
    "many as fit in 80 characters and counts the rest; CSV and JSON give all N).",
)
@attribution_options()
@format_option()
@store_option
def quality(examples: int, ctx: Context, fmt: str) -> None:
    """What the metadata gets wrong: undeclared derivatives, dangling parents, cycles, cards."""
    from ..analysis import quality as check_quality

    table = check_quality(ctx, examples=examples)
    if fmt == "table":
        import polars as pl

        table = table.with_columns(
            pl.col("examples").map_elements(_fitting, return_dtype=pl.List(pl.String))
        )
    emit(table, fmt, title="data quality")


EXAMPLES_WIDTH = 80


def _fitting(examples: Any) -> list[str]:
    """The whole ids that fit in :data:`EXAMPLES_WIDTH` characters (at least one, whole),
    then how many more there are: a terminal line stays readable with ids of 193 characters.

    >>> _fitting(["a" * 50, "b" * 50, "c"])
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '(+2 more)']
    """
    shown: list[str] = []
    width = 0
    for example in examples:
        if shown and width + len(example) + 2 > EXAMPLES_WIDTH:
            return [*shown, f"(+{len(examples) - len(shown)} more)"]
        shown.append(example)
        width += len(example) + 2
    return shown


@cli.command()
@click.option(
    "--unmapped",
    is_flag=True,
    help="Root organizations the table lacks, by derivatives (to extend it).",
)
@top_option(20, "With --unmapped: how many organizations to list, most derivatives first.")
@attribution_options(when=lambda options: options["unmapped"])
@format_option()
@store_option
def regions(unmapped: bool, top: int, ctx: Context, regions_file: str | None, fmt: str) -> None:
    """The organization -> region table, or the root organizations it lacks.

    Extend it with --regions FILE on any analysis command: org,region lines, with or
    without a header line, region one of us, china, eu, other, unknown.
    """
    if not unmapped:
        from ..regions import load_regions

        table = load_regions(regions_file).select("org", "region", "source").sort("org")
        emit(table, fmt, title=f"{table.height} organizations with a region")
        return
    from ..analysis import unmapped_organizations

    emit(
        unmapped_organizations(ctx, top=top),
        fmt,
        title="root organizations without a region, by derivatives",
    )
