"""``lineage export html``: a family's interactive tree as one self-contained file."""

from __future__ import annotations

from typing import TYPE_CHECKING, get_args

import click

from ..vocabulary import (
    RELATION_ORDER,
    ColorMode,
)
from .group import cli
from .options import (
    attribution_options,
    check_output_path,
    min_downloads_option,
    quiet_option,
    store_option,
)
from .streams import note
from .summaries import format_export_summary

if TYPE_CHECKING:
    from ..analysis import Context


def _relations(ctx: click.Context, param: click.Parameter, value: str | None):
    """--relations finetune,adapter -> ("finetune", "adapter"), or a usage error."""
    if value is None:
        return None
    known = RELATION_ORDER
    chosen = tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))
    bad = [v for v in chosen if v not in known]
    if bad or not chosen:
        what = repr(bad[0]) if bad else "nothing"
        raise click.BadParameter(f"{what} is not a relation; choose from {', '.join(known)}")
    return chosen


@cli.group("export")
def export_group() -> None:
    """Export to files other tools open: a family as an interactive HTML tree, the
    attribution as Parquet."""


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
    callback=check_output_path,
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
@min_downloads_option(
    None,
    "Only models with more than N all-time downloads (as `lineage share` counts); the "
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
    type=click.Choice(get_args(ColorMode)),
    default="region",
    show_default=True,
    help="Node colour: the region of each model's organization, its relation to its "
    "parent, or its organization.",
)
@click.option("--title", help="The page's title [default: Family tree of ROOT].")
@attribution_options("declared")
@quiet_option
@store_option
def export_html(
    root: str,
    output: str,
    depth: int | None,
    relations: tuple[str, ...] | None,
    min_downloads: int | None,
    max_nodes: int,
    color: ColorMode,
    title: str | None,
    ctx: Context,
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
    from ..html.export import export_family_html

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
    note(format_export_summary(summary))


def _parquet_path(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """-o FILE.parquet: the suffix says the format; checked before the store is read."""
    if value is not None and not value.lower().endswith(".parquet"):
        raise click.BadParameter(f"{value!r}: give a file ending in .parquet")
    return check_output_path(ctx, param, value)


@export_group.command("attribution")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=str),
    metavar="FILE.parquet",
    callback=_parquet_path,
    help="The Parquet file to write: a regular file is replaced whole; a device, FIFO or "
    "symlink is written through.",
)
@attribution_options("declared", history=True)
@quiet_option
@store_option
def export_attribution_command(output: str, ctx: Context) -> None:
    """Write model -> root weights as Parquet, for Spark, DuckDB or Trino (see sql/).

    \b
    Examples:
      lineage export attribution -o attribution.parquet
      lineage export attribution --roots atom --multi-parent first -o atom.parquet

    One row per model and root it counts for: each derivative with its weight for each
    of its roots (a merge splits 1/k under --multi-parent split), each root for itself
    with weight 1; its root's organization and region; and the rule in columns of their
    own (root_set, multi_parent, lineage, regions, view), so the file says how it was
    made. The queries in sql/ join it with the store's tables.
    """
    from ..attribution_export import export_attribution

    result = export_attribution(ctx, output)
    rule = ", ".join(f"{k} {v}" for k, v in result.rule.items())
    note(
        f"wrote {result.rows:,} rows to {result.path}: {result.derivatives:,} derivatives and "
        f"{result.roots:,} root{'s' if result.roots != 1 else ''} ({rule})"
    )
