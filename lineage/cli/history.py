"""Change over time: ``diff`` between snapshots, ``adoption`` (RAM)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..render import frame_fields, render_json, scalar_fields
from .group import cli
from .options import (
    attribution_options,
    format_option,
    open_store,
    quiet_option,
    store_option,
    top_option,
)
from .streams import emit, emit_sections, note, write_data

if TYPE_CHECKING:
    from ..analysis import Context


@cli.command("diff")
@click.argument("before", required=False, metavar="[A]")
@click.argument("after", required=False, metavar="[B]")
@top_option(10, "How many added models and grown families to list.")
@attribution_options()
@format_option()
@store_option
def diff_command(before: str | None, after: str | None, top: int, ctx: Context, fmt: str) -> None:
    """What changed between two snapshot dates A and B (default: the last two).

    Models and edges added, the families that grew most, and downloads (last 30 days) by
    root region at A and at B. Dates as listed by `lineage snapshots` (YYYY-MM-DD).
    --format csv gives one table with a section column (summary, added, families,
    regions).
    """
    import polars as pl

    from ..diff import diff

    result = diff(ctx, before, after, top=top)
    if fmt == "json":
        write_data(render_json(result), nl=False)
        return
    if fmt == "csv":
        sections = {"summary": pl.DataFrame([scalar_fields(result)]), **frame_fields(result)}
        emit_sections(sections, "csv", {})
        return
    write_data(
        f"{result.before} -> {result.after}: {result.models_before:,} -> "
        f"{result.models_after:,} models ({result.models_added:,} added, "
        f"{result.models_gone:,} gone), {result.edges_added:,} edges added"
    )
    emit(result.added, "table", title=f"top {top} added models by downloads")
    emit(result.families, "table", title="families that grew most")
    emit(result.regions, "table", title="downloads (last 30 days) by root region")


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
    from ..adoption import adoption as relative_adoption

    if (model is None) == (family is None):
        raise click.UsageError("give a MODEL or --family ROOT")
    store = open_store(store_path, create=False)
    # One model needs no graph; a family builds it for its descendants.
    table = relative_adoption(store, model=model, family=family, peers=peers)
    emit(table, fmt, title=f"RAM of {model or f'the family of {family}'}")
    if table.height == 0:
        note(
            "no window covered: RAM needs snapshots 7-365 days after release and a known "
            "size (safetensors)"
        )
