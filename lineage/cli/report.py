"""``lineage report``: the finding as one page to send a colleague."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from ..vocabulary import DownloadWindow
from .group import cli
from .options import (
    attribution_options,
    check_output_path,
    downloads_option,
    min_downloads_option,
    month_range_options,
    quiet_option,
    store_option,
)
from .streams import note
from .summaries import plural

if TYPE_CHECKING:
    from ..analysis import Context


@cli.command("report")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=str),
    metavar="FILE.html",
    callback=check_output_path,
    help="The page to write: a regular file is replaced whole; a device, FIFO or symlink "
    "is written through.",
)
@min_downloads_option(5, "Count derivatives with more than this many downloads.")
@downloads_option("all", "Download counter for the filter: all-time or the last 30 days.")
@month_range_options
@click.option("--title", help="The page's title [default: Whose models does the world build on?].")
@attribution_options("declared", inferred_alone=True)
@quiet_option
@store_option
def report(
    output: str,
    min_downloads: int,
    downloads: DownloadWindow,
    since: dt.date | None,
    until: dt.date | None,
    title: str | None,
    ctx: Context,
) -> None:
    """Write the finding as one self-contained HTML page: what to send a colleague.

    \b
    Examples:
      lineage report -o report.html
      lineage report -o report.html --since 2024-01 --roots atom
      lineage report -o report.html --lineage both --min-confidence 0.9

    The page opens offline in any browser and requests nothing. It shows the monthly
    share of new derivatives by the region of their root family (hover or use the arrow
    keys for a month's counts and shares; a button per region hides it), the share of
    downloads beside it where the store's snapshots make a series, the families that
    drove each region's change between the first and the last year shown, how much the
    region table leaves unknown, the quality summary, and the filters, root set, merge
    rule, lineage, region table, store dates and lineage version in words. The same
    options as `lineage share` choose what is counted.
    """
    from ..report import write_report

    summary = write_report(
        ctx,
        output,
        min_downloads=min_downloads,
        downloads=downloads,
        since=since,
        until=until,
        title=title,
    )
    months = summary.months
    span = months[0] + (f" to {months[-1]}" if len(months) > 1 else "")
    notes = [f"report written to {summary.path}: {summary.derivatives:,} derivatives, {span}"]
    if summary.partial is not None:
        notes.append(
            f"the last month is partial (the store's latest observation: {summary.partial})"
        )
    if summary.download_months < 2:
        notes.append(
            f"download share: {plural(summary.download_months, 'month')} of snapshots, not a series"
        )
    note("; ".join(notes))
