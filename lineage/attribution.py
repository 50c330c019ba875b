"""Attributing every derivative to its root family, with a weight per root.

A *derivative* is a model with at least one parent that is not itself in the root set.
Its *endpoints* are found by following parents up to a member of the root set or to a
model with no parent; with ``roots=None`` (``--roots all``) every parentless model is a
root, so every endpoint counts. With a root set (``atom`` or a file), an endpoint outside
it is *unattributed*: its share of the derivative's weight is reported, not dropped.

Weights (``multi_parent``):

- ``split`` (default): 1/k to each of the k distinct endpoints;
- ``first``: all of it to the endpoint of the first-declared parent's line;
- ``all``: 1 to every distinct endpoint (a merge counts fully in each family).

Each derivative also gets its *primary line*: the chain of relations from its root along
first-declared parents (``finetune > quantized`` is a quantization of a fine-tune), and
that chain's length as its depth.

Whole-graph work is column-wise: one polars join per topological level, numpy within.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .graph import ModelGraph

MULTI_PARENT = ("split", "first", "all")


@dataclass(frozen=True)
class Attribution:
    """The attribution of a graph under one root set and one multi-parent rule.

    ``derivatives``: one row per derivative: idx, id, org, status, crawled, created_at,
    month, downloads, downloads_all_time, n_parents, relation (of its first parent), depth,
    chain, primary_root, roots (attributed endpoint ids), attributed_weight.
    ``weights``: derivative idx, root idx, weight, for attributed endpoints only.
    """

    graph: ModelGraph
    derivatives: pl.DataFrame
    weights: pl.DataFrame
    root_set: str
    multi_parent: str

    @property
    def roots(self) -> pl.DataFrame:
        """The attributed roots: idx, id, org."""
        used = self.weights.select(pl.col("root").alias("idx")).unique()
        return self.graph.nodes.join(used, on="idx", how="semi").select("idx", "id", "org")


def attribute(
    graph: ModelGraph,
    *,
    roots: list[str] | None = None,
    multi_parent: str = "split",
    root_set: str | None = None,
) -> Attribution:
    """Attribute every derivative of ``graph``.

    Parameters
    ----------
    roots : model ids of the root set, or None for every parentless model.
    multi_parent : ``split``, ``first`` or ``all`` (see the module docstring).
    root_set : a label for reports (defaults to ``all`` or ``custom``).
    """
    if multi_parent not in MULTI_PARENT:
        raise ValueError(f"multi_parent must be one of {MULTI_PARENT}")
    n = graph.n
    edges = graph.edges
    child = edges["child"].to_numpy().astype(np.int64)
    has_parent = np.bincount(child, minlength=n) > 0
    in_set = _root_mask(graph, roots)
    stop = ~has_parent | in_set
    valid = in_set if roots is not None else ~has_parent
    level = graph.nodes["level"].to_numpy()

    endpoints = _endpoints(edges, stop, level)
    first_line = _primary_lines(graph, edges, stop, level)

    counted = endpoints.join(endpoints.group_by("node").agg(pl.len().alias("k")), on="node")
    if multi_parent == "split":
        weighted = counted.with_columns((1.0 / pl.col("k")).alias("weight"))
    elif multi_parent == "all":
        weighted = counted.with_columns(pl.lit(1.0).alias("weight"))
    else:
        weighted = first_line.select(
            "node", pl.col("primary").alias("endpoint"), pl.lit(1.0).alias("weight")
        )
    weighted = weighted.with_columns(pl.Series("valid", valid[weighted["endpoint"].to_numpy()]))

    derivative_mask = has_parent & ~in_set
    derivative_idx = pl.DataFrame(
        {"node": np.flatnonzero(derivative_mask)}, schema={"node": pl.UInt32}
    )
    weighted = weighted.join(derivative_idx, on="node", how="semi")
    weights = (
        weighted.filter("valid")
        .select(pl.col("node").alias("derivative"), pl.col("endpoint").alias("root"), "weight")
        .sort("derivative", "root")
    )
    names = graph.nodes.select(pl.col("idx"), pl.col("id").alias("name"))
    attributed = (
        weighted.join(names, left_on="endpoint", right_on="idx")
        .sort("node", "name")
        .group_by("node")
        .agg(
            pl.col("weight").filter("valid").sum().alias("attributed_weight"),
            pl.col("name").filter("valid").alias("roots"),
        )
    )
    n_parents = np.bincount(child, minlength=n)
    derivatives = (
        graph.nodes.join(derivative_idx.rename({"node": "idx"}), on="idx", how="semi")
        .select(
            "idx",
            "id",
            "org",
            "status",
            "crawled",
            "created_at",
            pl.col("created_at").dt.truncate("1mo").dt.date().alias("month"),
            "downloads",
            "downloads_all_time",
        )
        .join(attributed.rename({"node": "idx"}), on="idx", how="left")
        .join(first_line.rename({"node": "idx"}), on="idx", how="left")
        .join(names.rename({"idx": "primary", "name": "primary_root"}), on="primary", how="left")
        .sort("idx")
    )
    derivatives = derivatives.with_columns(
        pl.Series("n_parents", n_parents[derivatives["idx"].to_numpy()], dtype=pl.Int32),
        pl.col("attributed_weight").fill_null(0.0),
        pl.col("roots").fill_null([]),
    ).drop("primary")
    label = root_set or ("all" if roots is None else "custom")
    return Attribution(graph, derivatives, weights, label, multi_parent)


def _root_mask(graph: ModelGraph, roots: list[str] | None) -> np.ndarray:
    mask = np.zeros(graph.n, dtype=bool)
    if roots is None:
        return mask
    wanted = pl.DataFrame({"id": roots}, schema={"id": pl.String})
    exact = graph.nodes.join(wanted, on="id", how="semi")["idx"].to_numpy()
    loose = graph.nodes.join(
        wanted.select(pl.col("id").str.to_lowercase().alias("key")), on="key", how="semi"
    )["idx"].to_numpy()
    mask[exact] = True
    mask[loose] = True
    return mask


def _endpoints(edges: pl.DataFrame, stop: np.ndarray, level: np.ndarray) -> pl.DataFrame:
    """(node, endpoint) pairs: the distinct root-set members or parentless ancestors."""
    stops = np.flatnonzero(stop)
    pairs = [
        pl.DataFrame(
            {"node": stops, "endpoint": stops}, schema={"node": pl.UInt32, "endpoint": pl.UInt32}
        )
    ]
    children = edges["child"].to_numpy()
    walking = (
        edges.select("child", "parent")
        .with_columns(pl.Series("level", level[children]), pl.Series("stop", stop[children]))
        .filter(~pl.col("stop") & (pl.col("level") > 0))
    )
    by_level = walking.partition_by("level", as_dict=True, include_key=False)
    known = pairs[0]
    for key in sorted(by_level):
        step = (
            by_level[key]
            .join(known, left_on="parent", right_on="node")
            .select(pl.col("child").alias("node"), "endpoint")
            .unique()
        )
        pairs.append(step)
        known = pl.concat([known, step])
    return known.sort("node", "endpoint")


def _primary_lines(
    graph: ModelGraph, edges: pl.DataFrame, stop: np.ndarray, level: np.ndarray
) -> pl.DataFrame:
    """Per node: endpoint, depth and relation chain along first-declared parents."""
    n = graph.n
    firsts = edges.sort("child", "position").unique("child", keep="first")
    primary_parent = np.full(n, -1, dtype=np.int64)
    relation = np.full(n, None, dtype=object)
    kids = firsts["child"].to_numpy().astype(np.int64)
    primary_parent[kids] = firsts["parent"].to_numpy()
    relation[kids] = firsts["relation"].to_numpy()
    primary = np.arange(n, dtype=np.int64)
    depth = np.zeros(n, dtype=np.int32)
    chain = np.full(n, "", dtype=object)
    walking = np.flatnonzero(~stop & (primary_parent >= 0))
    order = walking[np.argsort(level[walking], kind="stable")]
    levels_sorted = level[order]
    bounds = np.flatnonzero(np.diff(levels_sorted)) + 1
    for group in np.split(order, bounds):
        if group.size == 0:
            continue
        parents = primary_parent[group]
        primary[group] = primary[parents]
        depth[group] = depth[parents] + 1
        prefix = chain[parents]
        chain[group] = np.where(prefix == "", relation[group], prefix + " > " + relation[group])
    nodes = np.flatnonzero(~stop & (primary_parent >= 0))
    return pl.DataFrame(
        {
            "node": nodes,
            "primary": primary[nodes],
            "relation": relation[nodes],
            "depth": depth[nodes],
            "chain": chain[nodes],
        },
        schema={
            "node": pl.UInt32,
            "primary": pl.UInt32,
            "relation": pl.String,
            "depth": pl.Int32,
            "chain": pl.String,
        },
    )
