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

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from .checks import check_choice
from .graph import ModelGraph
from .vocabulary import MultiParent

if TYPE_CHECKING:
    import numpy as np

    from .graph import Array
else:
    from .graph import np  # numpy, imported when first used (see lineage.graph)
from .vocabulary import MULTI_PARENT

Scan = Callable[[str], pl.LazyFrame]
"""A part's name -> a lazy frame over it (see :meth:`Attribution.collect`)."""
Plan = Callable[[Scan], list[pl.LazyFrame]]


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
    root_set: str  # a label: all, atom, custom, file:PATH
    multi_parent: MultiParent
    root_ids: list[str] | None = None

    def roots_of_their_own(self) -> pl.DataFrame:
        """Models that are attributed roots themselves (root-set members, or parentless
        models under ``--roots all``): idx, id, org."""
        parents = self.graph.edges.select(pl.col("child").alias("idx")).unique()
        nodes = self.graph.nodes.filter("crawled")
        if self.root_ids is None:
            own = nodes.join(parents, on="idx", how="anti")
        else:
            own = nodes.filter(
                pl.col("id")
                .str.to_lowercase()
                .is_in(pl.Series(self.root_ids).str.to_lowercase().implode())
            )
        return own.select("idx", "id", "org")

    @property
    def roots(self) -> pl.DataFrame:
        """The attributed roots (a few thousand of millions of nodes): idx, id, org, by idx."""
        used = self.weights.select(pl.col("root").alias("idx")).unique().sort("idx")
        return self.graph.rows(used["idx"], ["idx", "id", "org"])

    def frame(self, part: str, columns: list[str] | None = None) -> pl.DataFrame:
        """``derivatives`` or ``weights``, or some of its columns: an attribution kept on
        disk (:mod:`lineage.derived`) reads only those."""
        frame: pl.DataFrame = getattr(self, part)
        return frame if columns is None else frame.select(columns)

    def collect(self, plan: Plan) -> list[pl.DataFrame]:
        """The queries ``plan(scan)`` builds, collected together (:func:`polars.collect_all`):
        ``scan(part)`` is a lazy frame over ``derivatives``, ``weights`` or ``roots``. Over
        an attribution kept on disk (:mod:`lineage.derived`) the scans read its files, so
        filters and column choices read only what they keep, and one pass answers several
        questions."""
        return pl.collect_all(plan(lambda part: getattr(self, part).lazy()))


def attribute(
    graph: ModelGraph,
    *,
    roots: list[str] | None = None,
    multi_parent: MultiParent = "split",
    root_set: str | None = None,  # a label: all, atom, custom, file:PATH
) -> Attribution:
    """Attribute every derivative of ``graph``.

    Parameters
    ----------
    roots : model ids of the root set, or None for every parentless model.
    multi_parent : ``split``, ``first`` or ``all`` (see the module docstring).
    root_set : a label for reports (defaults to ``all`` or ``custom``).
    """
    check_choice("multi_parent", multi_parent, MULTI_PARENT)
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
    derivative_mask = has_parent & ~in_set
    nodes_of = weighted["node"].to_numpy()
    endpoint_of = weighted["endpoint"].to_numpy()
    keep = derivative_mask[nodes_of]
    weighted = weighted.filter(pl.Series(keep)).with_columns(
        pl.Series("valid", valid[endpoint_of[keep]])
    )
    weights = (
        weighted.filter("valid")
        .select(pl.col("node").alias("derivative"), pl.col("endpoint").alias("root"), "weight")
        .sort("derivative", "root")
    )
    # Node index == row number, so per-derivative columns are gathers, not joins.
    ids = graph.nodes["id"]
    derivative_idx = np.flatnonzero(derivative_mask)
    attributed = np.bincount(
        weights["derivative"].to_numpy(), weights=weights["weight"].to_numpy(), minlength=n
    )
    root_lists = (
        weights.select("derivative", ids.gather(weights["root"]).alias("name"))
        .sort("derivative", "name")
        .group_by("derivative", maintain_order=True)
        .agg(pl.col("name").alias("roots"))
    )
    n_parents = np.bincount(child, minlength=n)
    derivatives = (
        graph.nodes[derivative_idx]
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
        .with_columns(
            pl.Series("attributed_weight", attributed[derivative_idx]),
            pl.Series("n_parents", n_parents[derivative_idx], dtype=pl.Int32),
        )
        .join(root_lists.rename({"derivative": "idx"}), on="idx", how="left", maintain_order="left")
        .with_columns(pl.col("roots").fill_null([]))
        .hstack(first_line.select("relation", "depth", "chain"))
        .with_columns(ids.gather(first_line["primary"]).alias("primary_root"))
    )
    label = root_set or ("all" if roots is None else "custom")
    return Attribution(graph, derivatives, weights, label, multi_parent, roots)


def primary_roots(graph: ModelGraph) -> Array:
    """Each node's primary root under ``--roots all``: the end of its line of
    first-declared parents (a model with no parent is its own).

    >>> from lineage.graph import graph_from_frames
    >>> counts = ("downloads", "downloads_all_time", "likes")
    >>> models = pl.DataFrame({"id": ["a/r", "b/x", "c/y"], "crawled": [True] * 3}).with_columns(
    ...     pl.lit(None, pl.Datetime("us", "UTC")).alias("created_at"),
    ...     *(pl.lit(None, pl.Int64).alias(c) for c in counts))
    >>> edges = pl.DataFrame({"child": ["b/x", "c/y"], "parent": ["a/r", "b/x"],
    ...     "relation": ["finetune"] * 2, "inferred": [False] * 2, "source": ["tags"] * 2,
    ...     "position": [0, 0]}, schema_overrides={"position": pl.Int32})
    >>> lookups = pl.DataFrame(schema={"query": pl.String, "id": pl.String})
    >>> primary_roots(graph_from_frames(models, edges, lookups)).tolist()
    [0, 0, 0]
    """
    child = graph.edges["child"].to_numpy()
    stop = np.bincount(child, minlength=graph.n) == 0
    line = _primary_lines(graph, graph.edges, stop, graph.nodes["level"].to_numpy())
    out = np.arange(graph.n, dtype=np.int64)
    out[line["node"].to_numpy()] = line["primary"].to_numpy()
    return out


def _root_mask(graph: ModelGraph, roots: list[str] | None) -> Array:
    mask = np.zeros(graph.n, dtype=bool)
    if roots is None:
        return mask
    wanted = pl.DataFrame({"id": roots}, schema={"id": pl.String})
    exact = graph.nodes.join(wanted, on="id", how="semi")["idx"].to_numpy()
    loose = graph.nodes.filter(
        pl.col("id").str.to_lowercase().is_in(wanted["id"].str.to_lowercase().implode())
    )["idx"].to_numpy()
    mask[exact] = True
    mask[loose] = True
    return mask


def _endpoints(edges: pl.DataFrame, stop: Array, level: Array) -> pl.DataFrame:
    """(node, endpoint) pairs: the distinct root-set members or parentless ancestors."""
    # Seed only the stops someone derives from: most models on the Hub have no children.
    is_parent = np.zeros(stop.size, dtype=bool)
    is_parent[edges["parent"].to_numpy()] = True
    stops = np.flatnonzero(stop & is_parent)
    known = pl.DataFrame(
        {"node": stops, "endpoint": stops}, schema={"node": pl.UInt32, "endpoint": pl.UInt32}
    )
    children = edges["child"].to_numpy()
    walking = (
        edges.select("child", "parent")
        .with_columns(pl.Series("level", level[children]), pl.Series("stop", stop[children]))
        .filter(~pl.col("stop") & (pl.col("level") > 0))
    )
    for _, at_level in sorted(
        walking.partition_by("level", as_dict=True, include_key=False).items()
    ):
        step = (
            at_level.join(known, left_on="parent", right_on="node")
            .select(pl.col("child").alias("node"), "endpoint")
            .unique()
        )
        known = pl.concat([known, step])
    return known.sort("node", "endpoint")


def _primary_lines(
    graph: ModelGraph, edges: pl.DataFrame, stop: Array, level: Array
) -> pl.DataFrame:
    """Per node: endpoint, depth and relation chain along first-declared parents.

    Chains are built as integers (one base-5 digit per step, 1-4 for the relations) and
    spelled out once per distinct chain, since a few hundred chains cover the Hub.
    """
    n = graph.n
    codes = {"adapter": 1, "finetune": 2, "merge": 3, "quantized": 4}
    firsts = edges.sort("child", "position").unique("child", keep="first")
    primary_parent = np.full(n, -1, dtype=np.int64)
    step = np.zeros(n, dtype=np.int64)
    kids = firsts["child"].to_numpy().astype(np.int64)
    primary_parent[kids] = firsts["parent"].to_numpy()
    step[kids] = firsts["relation"].replace_strict(codes, default=2, return_dtype=pl.Int64)
    primary = np.arange(n, dtype=np.int64)
    depth = np.zeros(n, dtype=np.int32)
    chain = np.zeros(n, dtype=np.int64)
    walking = np.flatnonzero(~stop & (primary_parent >= 0))
    order = walking[np.argsort(level[walking], kind="stable")]
    bounds = np.flatnonzero(np.diff(level[order])) + 1
    deepest = 26  # 5**27 overflows int64; deeper lines keep their last 26 steps
    for group in np.split(order, bounds):
        if group.size == 0:
            continue
        parents = primary_parent[group]
        primary[group] = primary[parents]
        depth[group] = depth[parents] + 1
        chain[group] = (chain[parents] % 5**deepest) * 5 + step[group]
    names = {v: k for k, v in codes.items()}

    def spell(code: int) -> str:
        words = []
        while code:
            code, digit = divmod(code, 5)
            words.append(names[digit])
        return " > ".join(reversed(words))

    distinct = np.unique(chain[walking])
    spelled = pl.DataFrame(
        {"code": distinct, "chain": [spell(int(c)) for c in distinct]},
        schema={"code": pl.Int64, "chain": pl.String},
    )
    return (
        pl.DataFrame(
            {
                "node": walking,
                "primary": primary[walking],
                "relation": step[walking],
                "depth": depth[walking],
                "code": chain[walking],
            },
            schema={
                "node": pl.UInt32,
                "primary": pl.UInt32,
                "relation": pl.Int64,
                "depth": pl.Int32,
                "code": pl.Int64,
            },
        )
        .join(spelled, on="code", how="left")
        .with_columns(pl.col("relation").replace_strict(names, return_dtype=pl.String))
        .drop("code")
        .sort("node")
    )
