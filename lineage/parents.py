"""Declared parents that match no known model: which to look up first, and what is left.

After a complete sweep the listing says which ids exist; a declared parent that matches
none of them (in any case) is either a rename (``model_info`` follows it to the current id)
or gone. Looking every such parent up costs one request each (two for a rename: the 307 and
the request it redirects to), which on the real Hub is thousands of requests, so a crawl
looks them up within a budget (:data:`DEFAULT_LOOKUP_BUDGET`), most consequential first,
and ``lineage crawl --resolve-parents`` continues with the rest later.

**Impact**, the order of lookups: the derivatives whose lineage runs through the parent,
each weighted by ``log10(1 + downloads)`` (all-time downloads where known, else the last
30 days': a model nobody downloads weighs nothing, 9 downloads weigh 1, 999 weigh 3), counted
once per path (a merge under two unknown parents counts for both); then the number of those
derivatives; then the parent's id in lowercase, so the order is the same in every run over
the same data. Analyses count derivatives with more than a few downloads (``lineage share
--min-downloads``, default 5), so a parent whose subtree nobody downloads is looked up last.

This module knows frames of models and edges, not the Hub or the journal.
"""

from __future__ import annotations

import polars as pl

DEFAULT_LOOKUP_BUDGET = 500
"""Parent lookups per crawl by default: about one anonymous rate-limit window of the Hub."""

_MAX_DEPTH = 64  # lineage deeper than this (or a cycle) stops adding weight


def _key(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase()


def unknown_parents(edges: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """Declared parents whose lowercase id is not in ``known`` (a frame of ``key``).

    Returns ``key`` (lowercase) and ``spellings`` (every declared spelling, sorted), one
    row per key, sorted by key.
    """
    return (
        edges.select("parent")
        .unique()
        .with_columns(_key("parent").alias("key"))
        .join(known.select("key").unique(), on="key", how="anti")
        .group_by("key")
        .agg(pl.col("parent").sort().alias("spellings"))
        .sort("key")
    )


def impact(models: pl.DataFrame, edges: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """The impact (module docstring) of each lowercase parent ``key`` in ``keys``.

    ``models`` needs ``id`` and ``downloads`` (and uses ``downloads_all_time`` if present);
    ``edges`` ``child`` and ``parent``. Returns ``key``, ``impact`` and ``derivatives`` (0 for
    a key nothing declares), in the order of ``keys``.

    Examples
    --------
    >>> models = pl.DataFrame({"id": ["a/x", "a/y", "a/z"], "downloads": [0, 99, 0]})
    >>> parents = ["gone/p", "a/x", "Gone/Q"]
    >>> edges = pl.DataFrame({"child": ["a/x", "a/y", "a/z"], "parent": parents})
    >>> impact(models, edges, pl.DataFrame({"key": ["gone/p", "gone/q"]})).rows()
    [('gone/p', 2.0, 2), ('gone/q', 0.0, 1)]
    """
    downloads = pl.col("downloads")
    if "downloads_all_time" in models.columns:
        downloads = pl.coalesce("downloads_all_time", "downloads")
    weight = models.select(
        _key("id").alias("key"),
        (1.0 + downloads.fill_null(0).clip(0)).log10().alias("w"),
        pl.lit(1, pl.Int64).alias("n"),
    ).unique("key")
    links = edges.select(_key("child").alias("child"), _key("parent").alias("parent")).unique()
    arrived: list[pl.DataFrame] = []
    frontier = weight
    for _ in range(_MAX_DEPTH):
        up = (
            links.join(frontier, left_on="child", right_on="key")
            .group_by("parent")
            .agg(pl.col("w").sum(), pl.col("n").sum())
            .rename({"parent": "key"})
        )
        if not up.height:
            break
        arrived.append(up)
        frontier = up
    totals = (
        pl.concat(arrived).group_by("key").agg(pl.col("w").sum(), pl.col("n").sum())
        if arrived
        else pl.DataFrame(schema={"key": pl.String, "w": pl.Float64, "n": pl.Int64})
    )
    return (
        keys.select("key")
        .join(totals, on="key", how="left", maintain_order="left")
        .select(
            "key",
            pl.col("w").fill_null(0.0).round(9).alias("impact"),
            pl.col("n").fill_null(0).alias("derivatives"),
        )
    )


def lookup_order(models: pl.DataFrame, edges: pl.DataFrame, unknown: pl.DataFrame) -> pl.DataFrame:
    """``unknown`` (from :func:`unknown_parents`) sorted most impactful first, with ``impact``."""
    scored = unknown.join(impact(models, edges, unknown), on="key", how="left")
    return scored.sort(["impact", "derivatives", "key"], descending=[True, True, False])


def under(edges: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """The models (lowercase ``key``) whose lineage runs through any of ``keys``."""
    from .update import descendants

    links = edges.select(_key("child").alias("child"), _key("parent").alias("parent")).unique()
    seeds = keys.select("key").unique()
    return descendants(links, seeds).join(seeds, on="key", how="anti")


def unresolved(models: pl.DataFrame, edges: pl.DataFrame, lookups: pl.DataFrame) -> dict:
    """Parents of crawled models never looked up that match no model, and what sits under them.

    Returns ``parents`` (distinct lowercase ids), ``derivatives`` (crawled models whose
    lineage runs through one of them) and ``impact`` (their summed impact).
    """
    crawled = models.filter(pl.col("crawled"))
    declared = edges.join(crawled.select("id"), left_on="child", right_on="id", how="semi")
    known = pl.concat(
        [models.select(_key("id").alias("key")), lookups.select(_key("query").alias("key"))]
    )
    left = unknown_parents(declared, known)
    if not left.height:
        return {"parents": 0, "derivatives": 0, "impact": 0.0}
    below = under(declared, left).join(
        crawled.select(_key("id").alias("key")), on="key", how="semi"
    )
    return {
        "parents": left.height,
        "derivatives": below.height,
        "impact": float(impact(crawled, declared, left)["impact"].sum()),
    }
