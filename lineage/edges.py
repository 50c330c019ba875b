"""The edges a graph is built from: the declared ones, and under a lineage choice the store's
inferred ones beside them.

``lineage infer`` (:mod:`lineage.inference`) writes its proposals to the store's
``inferred_edges`` table, apart from the declared edges; this module reads them back
(:func:`read_inferred`) and merges them with the declared edges (:func:`lineage_edges`),
each edge marked ``lineage`` declared or inferred. :mod:`lineage.graph` builds on it.

It sits between the store and the graph: it imports the store and the schema, never the
graph or the algorithms over it (attribution, inference), which import the graph.
"""

from __future__ import annotations

import polars as pl

from .checks import check_choice, check_confidence
from .store import Store
from .vocabulary import LINEAGES


def read_inferred(store: Store, *, min_confidence: float | None = None) -> pl.DataFrame:
    """The store's inferred edges at ``min_confidence`` or more (all if None)."""
    check_confidence(min_confidence)
    frame = store.read("inferred_edges")
    if min_confidence is not None:
        frame = frame.filter(pl.col("confidence") >= min_confidence)
    return frame


def lineage_edges(
    declared: pl.DataFrame, inferred: pl.DataFrame, *, lineage: str = "declared"
) -> pl.DataFrame:
    """Edges for a graph under a lineage choice, each marked ``lineage`` declared|inferred.

    ``declared`` keeps the declared edges; ``inferred`` and ``both`` add the inferred ones
    (to their parent, or to their root when only a family was proposed), except for models
    that have since declared a parent. Inferred rows carry ``method`` and ``confidence``;
    their ``source`` is ``inferred:<method>``.

    Examples
    --------
    >>> from lineage.schema import EDGE_SCHEMA, INFERRED_SCHEMA
    >>> declared = pl.DataFrame({"child": ["a/x"], "parent": ["b/y"], "relation": ["finetune"],
    ...     "inferred": [False], "source": ["tags"], "position": [0]}, schema=EDGE_SCHEMA)
    >>> guess = pl.DataFrame({"child": ["c/z"], "parent": ["a/x"], "root": ["b/y"],
    ...     "relation": ["quantized"], "method": ["name-exact"], "confidence": [0.97],
    ...     "evidence": ["x"], "inferred_at": [None]}, schema=INFERRED_SCHEMA)
    >>> lineage_edges(declared, guess, lineage="both").select("child", "lineage").rows()
    [('a/x', 'declared'), ('c/z', 'inferred')]
    """
    check_choice("lineage", lineage, LINEAGES)
    marked = declared.with_columns(
        pl.lit("declared").alias("lineage"),
        pl.lit(None, pl.String).alias("method"),
        pl.lit(None, pl.Float64).alias("confidence"),
    )
    if lineage == "declared":
        return marked
    extra = (
        inferred.join(declared.select("child").unique(), on="child", how="anti")
        .select(
            "child",
            pl.coalesce("parent", "root").alias("parent"),
            "relation",
            pl.lit(True).alias("inferred"),
            (pl.lit("inferred:") + pl.col("method")).alias("source"),
            # A merge's sources in their order: the first is its first parent.
            pl.int_range(pl.len(), dtype=pl.Int32).over("child").alias("position"),
            pl.lit("inferred").alias("lineage"),
            "method",
            "confidence",
        )
        .filter(pl.col("parent").is_not_null())
    )
    return pl.concat([marked, extra.cast(marked.schema)])
