"""The attribution as a Parquet table other engines join: model -> root weights.

Library twin of ``lineage export attribution -o FILE.parquet``. One row per (model, root)
with the weight the model gives that root, for every model that counts towards some root:
each derivative once per attributed root (``kind`` ``derivative``), and each attributed root
for itself with weight 1 (``kind`` ``root``, what download shares count). The rule that made
the weights is stated in every row (``root_set``, ``multi_parent``, ``lineage``, ``regions``,
``view``), so a file read months later, or beside another, says what it holds.

With the store's tables (see the README's *The store as a dataset*), this is what the
queries in ``sql/`` need to compute shares in Spark, DuckDB or Trino; attribution itself
(resolving parents, following them to roots, splitting merges) stays lineage's.

It must not: compute shares (``analysis`` does, and ``sql/`` in other engines), or print.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import polars as pl

from .analysis import Context
from .regions import attach_regions
from .schema import ATTRIBUTION_SCHEMA


@dataclass(frozen=True)
class AttributionExport:
    """What ``export attribution`` wrote."""

    path: str
    rows: int
    derivatives: int
    roots: int
    rule: dict[str, str]


def attribution_table(ctx: Context) -> pl.DataFrame:
    """Every (model, root, weight) of the context's attribution, with the rule in columns.

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> from lineage.analysis import load_context
    >>> from lineage.records import parse_raw
    >>> from lineage.store import Store
    >>> store = Store(tempfile.mkdtemp())
    >>> seen = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    >>> _ = store.commit(parse_raw(generate(2000, seed=1).raw, seen_at=seen, source="synthetic"))
    >>> table = attribution_table(load_context(store))
    >>> table.columns[:4], sorted(table["kind"].unique())
    (['model', 'model_org', 'kind', 'relation'], ['derivative', 'root'])
    >>> table.filter(pl.col("kind") == "derivative").group_by("model").agg(
    ...     pl.col("weight").sum()).get_column("weight").max() <= 1.0
    True
    """
    att = ctx.attribution
    nodes = ctx.graph.nodes.select("idx", "id", "org")
    derivatives = att.weights.join(
        att.derivatives.select(
            pl.col("idx").alias("derivative"), "relation", pl.col("depth").cast(pl.Int32)
        ),
        on="derivative",
    ).select(
        pl.col("derivative").alias("node"),
        pl.lit("derivative").alias("kind"),
        "relation",
        "depth",
        "root",
        "weight",
    )
    own = att.roots_of_their_own().select(
        pl.col("idx").alias("node"),
        pl.lit("root").alias("kind"),
        pl.lit(None, pl.String).alias("relation"),
        pl.lit(0, pl.Int32).alias("depth"),
        pl.col("idx").alias("root"),
        pl.lit(1.0).alias("weight"),
    )
    rows = (
        pl.concat([derivatives, own])
        .join(nodes.rename({"idx": "node", "id": "model", "org": "model_org"}), on="node")
        .join(nodes.rename({"idx": "root", "id": "root_id", "org": "root_org"}), on="root")
    )
    rows = attach_regions(rows, ctx.regions, org="root_org", region="root_region")
    rule = rule_of(ctx)
    return (
        rows.with_columns(
            pl.col("root_id").alias("root"), *(pl.lit(v).alias(k) for k, v in rule.items())
        )
        .select(list(ATTRIBUTION_SCHEMA))
        .cast(ATTRIBUTION_SCHEMA)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
        .sort("model", "root")
    )


def rule_of(ctx: Context) -> dict[str, str]:
    """The attribution's rule in words, one value per rule column."""
    lineage: str = ctx.lineage
    if ctx.lineage != "declared":
        lineage = f"{ctx.lineage} (inferred at confidence >= {ctx.min_confidence:g})"
    return {
        "root_set": ctx.attribution.root_set,
        "multi_parent": ctx.attribution.multi_parent,
        "lineage": lineage,
        "regions": "packaged" if ctx.regions_file is None else f"packaged+{ctx.regions_file}",
        "view": ctx.view.label if ctx.view is not None else "present",
    }


def export_attribution(ctx: Context, path: str | os.PathLike[str]) -> AttributionExport:
    """Write :func:`attribution_table` to ``path`` as Parquet (atomically, see
    :mod:`lineage.output`)."""
    from .output import open_output

    table = attribution_table(ctx)
    with open_output(path) as fh:
        table.write_parquet(fh, statistics=True)
    kinds = table["kind"]
    return AttributionExport(
        path=os.fspath(path),
        rows=table.height,
        derivatives=table.filter(kinds == "derivative")["model"].n_unique(),
        roots=table.filter(kinds == "root").height,
        rule=rule_of(ctx),
    )
