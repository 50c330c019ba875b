"""The attributed derivative graph as Neo4j holds it: labels, properties, and the rows.

The graph model (drawn and explained in cypher/README.md)::

    (:Organization {name, region})
          ^
          | PUBLISHED_BY
    (:Model:Derivative)-[:DERIVED_FROM {relation, inferred, position,
                                         lineage, method, confidence}]->(:Model)
          |
          +-[:ATTRIBUTED_TO {weight}]->(:Model:Root)          one per attributed root
    (:LineageInfo {key: 'lineage', root_set, multi_parent, ...})   what was loaded, and how

:func:`graph_frames` turns a store's graph and attribution into one table per node label
and relationship type. Both ways into Neo4j take their rows from it, the driver load
(:mod:`lineage.neo4j.loader`) and the bulk-import files (:mod:`lineage.neo4j.csv`), so the
two give the same graph.

This module owns the graph's shape (labels, relationship types, model properties and
their types) and its rows. It must not talk to Neo4j, hold Cypher, or write files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

import polars as pl

from .. import __version__
from ..regions import attach_regions
from ..vocabulary import Lineage, MultiParent

if TYPE_CHECKING:
    from ..analysis import Context

INFO_KEY = "lineage"  # the key of the one LineageInfo node

# Model properties, in CSV column order, with their neo4j-admin import types. ``id`` is the
# node key; ``created_at`` and ``month`` become Neo4j temporal values.
MODEL_PROPERTIES: dict[str, str] = {
    "org": "string",
    "status": "string",
    "crawled": "boolean",
    "created_at": "datetime",
    "month": "date",
    "downloads": "long",
    "downloads_all_time": "long",
    "likes": "long",
    "pipeline_tag": "string",
    "library_name": "string",
    "parameters": "long",
    "region": "string",
    # Attribution, on derivatives only (absent elsewhere; see ATTRIBUTION_PROPERTIES):
    "relation": "string",
    "depth": "long",
    "chain": "string",
    "family": "string",
    "family_region": "string",
    "attributed_weight": "double",
}
ATTRIBUTION_PROPERTIES = (
    "relation",
    "depth",
    "chain",
    "family",
    "family_region",
    "attributed_weight",
)
LABELS = ("Model", "Root", "Derivative", "Organization", "LineageInfo")
RELATIONSHIP_TYPES = ("DERIVED_FROM", "PUBLISHED_BY", "ATTRIBUTED_TO")


# -- the rows both paths write --------------------------------------------------------------


@dataclass(frozen=True)
class GraphFrames:
    """The graph as tables, one per node label or relationship type.

    ``models``: id, the :data:`MODEL_PROPERTIES` (``created_at`` a UTC datetime, ``month``
    a date), is_root, is_derivative, and the ids of its parents and of its roots (to
    remove relationships that no longer hold).
    ``organizations``: name, region. ``derived_from``: child, parent, relation, inferred,
    position, lineage (``declared``, or ``inferred`` for an edge from ``lineage infer``,
    loaded with ``--lineage both``), method and confidence (inferred edges only).
    ``published_by``: model, org. ``attributed_to``: derivative, root, weight.
    ``info``: what the graph was built from (root set, multi-parent rule, counts).
    """

    models: pl.DataFrame
    organizations: pl.DataFrame
    derived_from: pl.DataFrame
    published_by: pl.DataFrame
    attributed_to: pl.DataFrame
    info: GraphInfo


class GraphInfo(TypedDict):
    """What a loaded graph was built from, and its counts: the ``LineageInfo`` node's
    properties (and the ``lineage_info`` CSV's columns)."""

    root_set: str
    multi_parent: MultiParent
    regions: str
    store: str
    lineage_version: str
    models: int
    roots: int
    derivatives: int
    organizations: int
    derived_from: int
    lineage: Lineage
    min_confidence: float | None
    inferred_derived_from: int
    attributed_to: int
    cycle_edges_dropped: int


def graph_frames(ctx: Context, *, regions_source: str | None = None) -> GraphFrames:
    """Tables of the graph to load: nodes with their attribution, and relationships.

    Parameters
    ----------
    ctx : lineage.analysis.Context
        A store's graph and attribution (:func:`lineage.analysis.load_context`).
    regions_source : str, optional
        Where the region table came from, recorded on the ``LineageInfo`` node.

    Examples
    --------
    A small synthetic store:

    >>> import datetime as dt, tempfile
    >>> from lineage.analysis import load_context
    >>> from lineage.records import parse_raw
    >>> from lineage.store import Store
    >>> store = Store(tempfile.mkdtemp())
    >>> when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    >>> _ = store.commit(parse_raw(generate(400, seed=1).raw, seen_at=when, source="doc"))
    >>> ctx = load_context(store)
    >>> frames = graph_frames(ctx)
    >>> frames.models.height == frames.info["models"] == ctx.graph.n
    True
    >>> frames.attributed_to.columns
    ['derivative', 'root', 'weight']
    """
    graph, attribution = ctx.graph, ctx.attribution
    extra = (
        ctx.store.read("models")
        .unique("id", keep="last")
        .select("id", "pipeline_tag", "library_name", "parameters")
    )
    nodes = attach_regions(
        graph.nodes.select(
            "idx",
            "id",
            "org",
            "status",
            "crawled",
            "created_at",
            "downloads",
            "downloads_all_time",
            "likes",
        ).join(extra, on="id", how="left"),
        ctx.regions,
        org="org",
        region="region",
    )
    ids = nodes.select("idx", "id")
    region_of = nodes.select(pl.col("id").alias("family"), pl.col("region").alias("family_region"))
    derivatives = attribution.derivatives.select(
        "idx",
        "relation",
        "depth",
        "chain",
        pl.col("primary_root").alias("family"),
        "attributed_weight",
        "roots",
        pl.lit(True).alias("is_derivative"),
    ).join(region_of, on="family", how="left")
    root_idx = attribution.weights.select(pl.col("root").alias("idx")).unique()
    parent_ids = (
        graph.edges.join(ids.rename({"idx": "parent", "id": "parent_id"}), on="parent")
        .group_by("child")
        .agg(pl.col("parent_id").sort().alias("parents"))
    )
    models = (
        nodes.join(derivatives, on="idx", how="left")
        .join(root_idx.with_columns(pl.lit(True).alias("is_root")), on="idx", how="left")
        .join(parent_ids.rename({"child": "idx"}), on="idx", how="left")
        .with_columns(
            pl.col("is_root").fill_null(False),
            pl.col("is_derivative").fill_null(False),
            pl.col("parents").fill_null([]),
            pl.col("created_at").dt.convert_time_zone("UTC"),
            pl.col("created_at").dt.truncate("1mo").dt.date().alias("month"),
            pl.col("depth").cast(pl.Int64),
        )
        .sort("idx")
        .select("id", *MODEL_PROPERTIES, "is_root", "is_derivative", "parents", "roots")
    )
    organizations = (
        nodes.filter(pl.col("org").is_not_null())
        .group_by(pl.col("org").alias("name"))
        .agg(pl.col("region").first())
        .sort("name")
    )
    derived_from = (
        graph.edges.join(ids.rename({"idx": "child", "id": "child_id"}), on="child")
        .join(ids.rename({"idx": "parent", "id": "parent_id"}), on="parent")
        .sort("child", "position")
        .select(
            pl.col("child_id").alias("child"),
            pl.col("parent_id").alias("parent"),
            "relation",
            "inferred",
            pl.col("position").cast(pl.Int64),
            "lineage",
            "method",
            "confidence",
        )
    )
    published_by = models.filter(pl.col("org").is_not_null()).select(
        pl.col("id").alias("model"), "org"
    )
    attributed_to = (
        attribution.weights.join(
            ids.rename({"idx": "derivative", "id": "derivative_id"}), on="derivative"
        )
        .join(ids.rename({"idx": "root", "id": "root_id"}), on="root")
        .sort("derivative", "root")
        .select(
            pl.col("derivative_id").alias("derivative"), pl.col("root_id").alias("root"), "weight"
        )
    )
    info: GraphInfo = {
        "root_set": attribution.root_set,
        "multi_parent": attribution.multi_parent,
        "regions": regions_source or "packaged (ATOM)",
        "store": str(ctx.store.path),
        "lineage_version": __version__,
        "models": models.height,
        "roots": int(models["is_root"].sum()),
        "derivatives": int(models["is_derivative"].sum()),
        "organizations": organizations.height,
        "derived_from": derived_from.height,
        "lineage": ctx.lineage,
        "min_confidence": ctx.min_confidence,
        "inferred_derived_from": derived_from.filter(pl.col("lineage") == "inferred").height,
        "attributed_to": attributed_to.height,
        "cycle_edges_dropped": graph.broken.height,
    }
    return GraphFrames(models, organizations, derived_from, published_by, attributed_to, info)


def iso_datetime(expr: pl.Expr) -> pl.Expr:
    """UTC instants as ISO 8601 text with a ``Z``, as neo4j-admin reads a ``datetime``."""
    return expr.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
