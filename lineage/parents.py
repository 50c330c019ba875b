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

    Computed on integer ids, one pass per level of the lineage, from the deepest up, so it
    ends when the lineage does, whatever its depth. A cycle of declarations (A declares B,
    B declares A) is one node whose members count once each: the parents under a cycle get
    its members' weight once, however many declarations go round it, and a member's impact
    is its cycle's.

    Examples
    --------
    >>> models = pl.DataFrame({"id": ["a/x", "a/y", "a/z"], "downloads": [0, 99, 0]})
    >>> parents = ["gone/p", "a/x", "Gone/Q"]
    >>> edges = pl.DataFrame({"child": ["a/x", "a/y", "a/z"], "parent": parents})
    >>> impact(models, edges, pl.DataFrame({"key": ["gone/p", "gone/q"]})).rows()
    [('gone/p', 2.0, 2), ('gone/q', 0.0, 1)]
    """
    import numpy as np

    downloads = pl.col("downloads")
    if "downloads_all_time" in models.columns:
        downloads = pl.coalesce("downloads_all_time", "downloads")
    weight = models.select(
        _key("id").alias("key"), (1.0 + downloads.fill_null(0).clip(0)).log10().alias("w")
    ).unique("key", keep="first", maintain_order=True)
    links = edges.select(_key("child").alias("child"), _key("parent").alias("parent")).unique()
    # One integer per lowercase id anywhere: models, declarations, the keys asked about.
    names = (
        pl.concat([weight["key"], links["child"], links["parent"], keys["key"]])
        .unique()
        .to_frame("key")
        .with_row_index("i")
    )
    n = names.height

    def ints(frame: pl.DataFrame, column: str) -> np.ndarray:
        return (
            frame.select(column)
            .join(names, left_on=column, right_on="key", how="left", maintain_order="left")["i"]
            .to_numpy()
            .astype(np.int64)
        )

    w = np.zeros(n)
    counted = np.zeros(n, dtype=np.int64)
    at = ints(weight, "key")
    w[at] = weight["w"].to_numpy()
    counted[at] = 1
    child, parent = ints(links, "child"), ints(links, "parent")
    keep = child != parent
    up, total = _path_sums(n, child[keep], parent[keep], w, counted)
    asked = ints(keys, "key")
    return keys.select("key").with_columns(
        pl.Series("impact", up[asked]).round(9),
        pl.Series("derivatives", total[asked], dtype=pl.Int64),
    )


def _path_sums(n, child, parent, w, counted):
    """Per node, the summed weight (``w``) and count of what lies below it, one term per
    path up to it, every cycle first made one node (its members' weights summed once)."""
    import numpy as np

    from .graph import topological_levels

    levels = topological_levels(n, child, parent)
    stuck = np.flatnonzero(levels < 0)
    member = np.arange(n)
    if stuck.size:
        import networkx as nx

        inside = (levels[child] < 0) & (levels[parent] < 0)
        tangle: nx.DiGraph[int] = nx.DiGraph()
        tangle.add_edges_from(zip(child[inside].tolist(), parent[inside].tolist(), strict=True))
        for component in nx.strongly_connected_components(tangle):
            if len(component) > 1:
                part = np.fromiter(component, dtype=np.int64)
                member[part] = part.min()
        child, parent = member[child], member[parent]
        pairs = np.unique(np.stack([child, parent], axis=1)[child != parent], axis=0)
        child, parent = pairs[:, 0], pairs[:, 1]
        w = np.bincount(member, weights=w, minlength=n)
        counted = np.bincount(member, weights=counted, minlength=n).astype(np.int64)
        levels = topological_levels(n, child, parent)
    up, total = w.copy(), counted.copy()
    order = np.argsort(-levels[child], kind="stable")
    child, parent = child[order], parent[order]
    bounds = np.flatnonzero(np.diff(levels[child])) + 1
    # Deepest first: a node's sums are whole before they go up to its parents.
    for kids, parents in zip(np.split(child, bounds), np.split(parent, bounds), strict=True):
        np.add.at(up, parents, up[kids])
        np.add.at(total, parents, total[kids])
    # A node's own weight is not its impact; a cycle's members share their cycle's.
    return (up - w)[member], (total - counted)[member]


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

    Returns ``parents`` (distinct lowercase ids) and ``derivatives`` (crawled models whose
    lineage runs through one of them). (Their impact orders lookups, :func:`lookup_order`.)
    """
    crawled = models.filter(pl.col("crawled"))
    declared = edges.join(crawled.select("id"), left_on="child", right_on="id", how="semi")
    known = pl.concat(
        [models.select(_key("id").alias("key")), lookups.select(_key("query").alias("key"))]
    )
    left = unknown_parents(declared, known)
    if not left.height:
        return {"parents": 0, "derivatives": 0}
    below = under(declared, left).join(
        crawled.select(_key("id").alias("key")), on="key", how="semi"
    )
    return {"parents": left.height, "derivatives": below.height}
