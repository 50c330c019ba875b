"""The derivative graph: every model and declared parent as an integer node, edges resolved.

:func:`build_graph` reads a store and resolves each declared parent id to a node:

1. the exact id of a model in the store;
2. the current id the Hub gave when the crawler looked it up (renames, case);
3. a model whose id differs only in case (Hub ids are case-insensitive);
4. otherwise a node of its own, *missing* if the Hub said so, else *unresolved*.

Cycles (A declares B, B declares A) are broken deterministically: in each strongly connected
component the declaration whose parent is newest relative to its child is dropped (a model
cannot derive from one published after it; ties by id), until none is left. An inferred
edge (``lineage`` inferred, see :mod:`lineage.inference`) is always dropped before a
declared one. The dropped edges are kept in :attr:`ModelGraph.broken`.

Edges are declared lineage unless asked otherwise: ``build_graph(store, lineage="both")``
adds the store's inferred edges, marked ``lineage = "inferred"`` with their method and
confidence, so every view can show them as inferred.

Everything whole-graph is column-wise (polars joins, numpy over integer ids); networkx is
used only on the few nodes caught in cycles and for per-family views (:meth:`subgraph`,
:meth:`ancestry`, :meth:`descendants`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from .edges import lineage_edges, read_inferred
from .store import Store
from .vocabulary import Lineage

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[Any]  # integer ids, offsets, levels, masks: the dtype varies by use


class _Numpy:
    """numpy, imported when first used: a command answered from kept state
    (:mod:`lineage.derived`) never needs it, and importing it costs more than its answer."""

    def __getattr__(self, name: str) -> Any:
        import numpy

        return getattr(numpy, name)


if not TYPE_CHECKING:
    np = _Numpy()


@dataclass(frozen=True)
class ModelGraph:
    """Nodes (``idx`` = row number), acyclic edges child -> parent, and broken edges.

    ``nodes``: idx, id, status, org (namespace), created_at, downloads,
    downloads_all_time, likes, crawled, level (longest path from a parentless node).
    ``edges``: child, parent (node idx), relation, inferred (the relation word was
    inferred), position (0 = first declared), lineage (``declared`` or ``inferred``: the
    edge itself was inferred by ``lineage infer``), method and confidence (inferred only).
    ``resolution``: declared parent id -> node idx and how it was resolved.
    """

    nodes: pl.DataFrame
    edges: pl.DataFrame
    broken: pl.DataFrame
    resolution: pl.DataFrame

    @property
    def n(self) -> int:
        return self.nodes.height

    def frame(self, part: str, columns: list[str] | None = None) -> pl.DataFrame:
        """One of the graph's frames (``nodes``, ``edges``, ``broken``, ``resolution``), or
        some of its columns: a graph kept on disk (:mod:`lineage.derived`) reads only those."""
        frame: pl.DataFrame = getattr(self, part)
        return frame if columns is None else frame.select(columns)

    def query(self, part: str, plan: Callable[[pl.LazyFrame], pl.LazyFrame]) -> pl.DataFrame:
        """``plan`` run over one of the graph's frames, collected: over a graph kept on
        disk, its filters and selections read only what they keep."""
        frame: pl.DataFrame = getattr(self, part)
        return plan(frame.lazy()).collect()

    def index_of(self, model_id: str) -> int | None:
        """Node index of a model id (exact, else case-insensitive)."""
        exact = self.query("nodes", lambda f: f.filter(pl.col("id") == model_id).select("idx"))
        if exact.height:
            return int(exact["idx"][0])
        loose = self.query(
            "nodes",
            lambda f: f.select("idx", "id").filter(
                pl.col("id").str.to_lowercase() == model_id.lower()
            ),
        )
        return int(loose["idx"][0]) if loose.height else None

    def ids(self, indices: Iterable[int]) -> list[str]:
        ids = self.frame("nodes", ["id"])["id"]
        return [ids[int(i)] for i in indices]

    def rows(self, indices: Iterable[int], columns: list[str] | None = None) -> pl.DataFrame:
        """The nodes of some indices (in index order), all or some columns."""
        keep = pl.Series("idx", list(indices), dtype=pl.UInt32).implode()

        def plan(frame: pl.LazyFrame) -> pl.LazyFrame:
            frame = frame.filter(pl.col("idx").is_in(keep))
            return frame.select(columns) if columns is not None else frame

        return self.query("nodes", plan)

    # -- networkx views for one family -----------------------------------------------------

    def walks(self) -> Walks:
        """The edges in both directions as offsets into edge rows (:class:`Walks`): what
        every walk up or down the graph steps through. Built from ``edges`` here; kept
        beside a graph kept on disk (:mod:`lineage.derived`), so a walk reads, not sorts."""
        return Walks.of(self.frame("edges", ["child", "parent"]), self.n)

    def _reach(self, start: int, *, down: bool, max_depth: int | None = None) -> list[int]:
        nodes, _, _ = self._walk(start, down=down, max_depth=max_depth)
        return nodes.append(pl.Series([start], dtype=pl.UInt32)).sort().to_list()

    def _walk(
        self, start: int, *, down: bool, max_depth: int | None = None
    ) -> tuple[pl.Series, pl.Series, pl.Series]:
        """Breadth first from ``start``, down to children or up to parents: each node
        reached, its depth and the edge (row of ``edges``) that first reached it.

        Within a depth, nodes come in the order the walk finds them: the nodes they were
        reached from in the order those were found, each one's edges in edge order; a node
        reachable from several at one depth is reached through the first of them."""
        walks = self.walks()
        rows, at = (walks.down, walks.down_at) if down else (walks.up, walks.up_at)
        ends = self.frame("edges", ["child" if down else "parent"]).to_series()
        seen = pl.repeat(False, self.n, dtype=pl.Boolean, eager=True).scatter(start, True)
        frontier = pl.Series([start], dtype=pl.UInt32)
        found: list[pl.DataFrame] = []
        depth = 0
        while frontier.len() and (max_depth is None or depth < max_depth):
            via = rows.gather(
                pl.int_ranges(
                    at.gather(frontier), at.gather(frontier + 1), dtype=pl.UInt32, eager=True
                )
                .explode()
                .drop_nulls()
            )
            reached = ends.gather(via)
            # Each node once, through the first edge that reached it (a mask of first
            # occurrences: a third cheaper than unique(maintain_order=True) here).
            step = pl.DataFrame({"node": reached, "edge": via}).filter(~seen.gather(reached))
            step = step.filter(step["node"].is_first_distinct())
            depth += 1
            seen = seen.scatter(step["node"], True)
            found.append(step.with_columns(pl.lit(depth, pl.Int32).alias("depth")))
            frontier = step["node"]
        walked = (
            pl.concat(found)
            if found
            else pl.DataFrame(schema={"node": pl.UInt32, "edge": pl.UInt32, "depth": pl.Int32})
        )
        return walked["node"], walked["depth"], walked["edge"]

    def descendants(self, idx: int, *, max_depth: int | None = None) -> list[int]:
        """Node indices of a model and everything derived from it."""
        return self._reach(idx, down=True, max_depth=max_depth)

    def ancestors(self, idx: int) -> list[int]:
        """Node indices of a model and everything it derives from."""
        return self._reach(idx, down=False)

    def subgraph(self, indices: list[int]) -> nx.DiGraph[int]:
        """A networkx view (child -> parent edges) of some nodes, with their attributes."""
        import networkx as nx

        keep = pl.Series("idx", list(indices), dtype=pl.UInt32).implode()
        graph: nx.DiGraph[int] = nx.DiGraph()
        for row in self.rows(indices).iter_rows(named=True):
            graph.add_node(row["idx"], **row)
        edges = self.query(
            "edges", lambda f: f.filter(pl.col("child").is_in(keep) & pl.col("parent").is_in(keep))
        )
        for row in edges.iter_rows(named=True):
            child, parent = row.pop("child"), row.pop("parent")
            graph.add_edge(child, parent, **row)
        return graph

    def ancestry(self, idx: int) -> nx.DiGraph[int]:
        """A model's ancestry as a networkx graph: paths run from it to its roots."""
        return self.subgraph(self.ancestors(idx))

    def descent(self, idx: int) -> tuple[pl.Series, pl.Series, pl.Series]:
        """Everything derived from a model, breadth first: each descendant's node index,
        depth below the model, and the edge (row of ``edges``) that first reached it.

        Within a depth, descendants come in the order the walk finds them: their parents
        in the order those were found, each parent's children in edge order; a descendant
        with several parents at one depth is reached through the first of them.
        """
        return self._walk(idx, down=True)


WALK_PARTS = ("down", "down_at", "up", "up_at")


@dataclass(frozen=True)
class Walks:
    """A graph's edges as compressed rows, both ways: node ``i``'s edges to its children
    are the edge rows ``down[down_at[i]:down_at[i + 1]]`` (in edge order), to its parents
    ``up[up_at[i]:up_at[i + 1]]``. A walk gathers slices instead of sorting every edge.

    >>> walks = Walks.of(pl.DataFrame({"child": [1, 2, 2], "parent": [0, 1, 0]}), 3)
    >>> walks.down.to_list(), walks.down_at.to_list()
    ([0, 2, 1], [0, 2, 3, 3])
    """

    down: pl.Series
    down_at: pl.Series
    up: pl.Series
    up_at: pl.Series

    @classmethod
    def of(cls, edges: pl.DataFrame, n: int) -> Walks:
        rows = edges.select("child", "parent").with_row_index("edge")

        def by(column: str) -> tuple[pl.Series, pl.Series]:
            ordered = rows.sort(column, maintain_order=True)
            counts = ordered[column].value_counts()
            per_node = pl.repeat(0, n, dtype=pl.UInt32, eager=True).scatter(
                counts[column], counts["count"]
            )
            at = pl.Series([0], dtype=pl.UInt32).append(per_node.cum_sum())
            return ordered["edge"], at

        down, down_at = by("parent")
        up, up_at = by("child")
        return cls(down, down_at, up, up_at)

    def frames(self) -> dict[str, pl.DataFrame]:
        return {part: getattr(self, part).to_frame(part) for part in WALK_PARTS}


def build_graph(
    store: Store, *, lineage: Lineage = "declared", min_confidence: float | None = None
) -> ModelGraph:
    """Build the graph from a store's models, edges and lookups.

    ``lineage``: ``declared`` (the default) uses declared edges only; ``inferred`` and
    ``both`` add the store's inferred edges with at least ``min_confidence`` (see
    :func:`lineage.edges.lineage_edges`).
    """
    columns = ["id", "crawled", "created_at", "downloads", "downloads_all_time", "likes"]
    edges = store.read("edges")
    inferred = (
        read_inferred(store, min_confidence=min_confidence) if lineage != "declared" else None
    )
    if inferred is not None:
        edges = lineage_edges(edges, inferred, lineage=lineage)
    return graph_from_frames(store.read("models", columns=columns), edges, store.read("lookups"))


def graph_from_frames(
    models: pl.DataFrame, edges: pl.DataFrame, lookups: pl.DataFrame
) -> ModelGraph:
    """Build the graph from the three tables (see :func:`build_graph`).

    ``models`` must hold each id once (the store guarantees it); node indices follow its
    row order. Only the declared parents (far fewer than models) go through the
    rename/case resolution; the models table is joined once, on exact ids. ``edges`` may
    carry ``lineage``, ``method`` and ``confidence`` (:func:`lineage.edges.lineage_edges`);
    without them every edge is declared.
    """
    if "lineage" not in edges.columns:
        edges = edges.with_columns(pl.lit("declared").alias("lineage"))
    for name, dtype in (("method", pl.String), ("confidence", pl.Float64)):
        if name not in edges.columns:
            edges = edges.with_columns(pl.lit(None, dtype).alias(name))
    known = models.select(
        "id",
        pl.when(pl.col("crawled"))
        .then(pl.lit("crawled"))
        .otherwise(pl.lit("not_crawled"))
        .alias("status"),
        "created_at",
        "downloads",
        "downloads_all_time",
        "likes",
        "crawled",
    ).with_row_index("idx")
    index = known.select("id", "idx")
    renamed = lookups.filter(pl.col("id").is_not_null()).select(
        pl.col("query").alias("parent"), pl.col("id").alias("renamed_to")
    )
    missing = (
        lookups.filter(pl.col("id").is_null())
        .select(
            pl.col("query").str.to_lowercase().alias("key"), pl.lit(True).alias("looked_up_missing")
        )
        .unique("key")
    )

    # 1. exact id; 2. the id a lookup found (renames, case); 3. any case; 4. a phantom.
    declared = (
        edges.select("parent")
        .unique()
        .join(index.rename({"id": "parent", "idx": "exact"}), on="parent", how="left")
    )
    pending = (
        declared.filter(pl.col("exact").is_null())
        .drop("exact")
        .join(renamed, on="parent", how="left")
        .with_columns(pl.coalesce("renamed_to", "parent").alias("target"))
        .join(index.rename({"id": "target", "idx": "via_lookup"}), on="target", how="left")
        .with_columns(pl.col("target").str.to_lowercase().alias("key"))
    )
    loose_keys = pending.filter(pl.col("via_lookup").is_null()).select("key").unique()
    by_case = (
        index.with_columns(pl.col("id").str.to_lowercase().alias("key"))
        .join(loose_keys, on="key", how="semi")
        .sort("id")
        .unique("key", keep="first")
        .select("key", pl.col("idx").alias("via_case"))
    )
    pending = pending.join(by_case, on="key", how="left")
    phantoms = (
        pending.filter(pl.col("via_lookup").is_null() & pl.col("via_case").is_null())
        .select(pl.col("target").alias("id"), "key")
        .sort("id")
        .unique("key", keep="first", maintain_order=True)
        .join(missing, on="key", how="left")
        .select(
            "id",
            "key",
            pl.when(pl.col("looked_up_missing"))
            .then(pl.lit("missing"))
            .otherwise(pl.lit("unresolved"))
            .alias("status"),
        )
        .with_row_index("idx", offset=known.height)
    )
    resolution = pl.concat(
        [
            declared.filter(pl.col("exact").is_not_null()).select(
                "parent", pl.col("exact").alias("idx"), pl.lit("exact").alias("how")
            ),
            pending.join(
                phantoms.select("key", pl.col("idx").alias("phantom")), on="key", how="left"
            ).select(
                "parent",
                pl.coalesce("via_lookup", "via_case", "phantom").alias("idx"),
                pl.when(pl.col("via_lookup").is_not_null() & (pl.col("target") != pl.col("parent")))
                .then(pl.lit("renamed"))
                .when(pl.col("via_lookup").is_not_null())
                .then(pl.lit("exact"))
                .when(pl.col("via_case").is_not_null())
                .then(pl.lit("case"))
                .otherwise(pl.lit("phantom"))
                .alias("how"),
            ),
        ]
    )
    nodes = pl.concat([known, phantoms.drop("key")], how="diagonal_relaxed").with_columns(
        pl.col("crawled").fill_null(False),
        pl.col("id").str.extract(r"^([^/]+)/").alias("org"),
    )
    resolved = (
        edges.join(resolution.select("parent", pl.col("idx").alias("parent_idx")), on="parent")
        .join(index.rename({"id": "child", "idx": "child_idx"}), on="child")
        .filter(pl.col("child_idx") != pl.col("parent_idx"))
        .sort("child_idx", "position")
        .unique(["child_idx", "parent_idx"], keep="first", maintain_order=True)
        .select(
            pl.col("child_idx").alias("child"),
            pl.col("parent_idx").alias("parent"),
            "relation",
            "inferred",
            "position",
            "lineage",
            "method",
            "confidence",
        )
    )
    return _assemble(
        nodes,
        resolved,
        resolution.join(nodes.select("idx", pl.col("id").alias("node_id")), on="idx", how="left"),
    )


def with_edges(graph: ModelGraph, extra: pl.DataFrame) -> ModelGraph:
    """The graph with more edges between its nodes (``extra``: node indices ``child`` and
    ``parent`` plus the edge columns), cycles broken again, an inferred edge first.

    Column-wise, like :func:`graph_from_frames`, but with no id to resolve: this is how
    lineage inference adds its provisional edges to a store's graph.
    """
    edges = pl.concat(
        [graph.edges, extra.select(graph.edges.columns).cast(graph.edges.schema)]
    ).unique(["child", "parent"], keep="first", maintain_order=True)
    return _assemble(graph.nodes.drop("level"), edges, graph.resolution)


def _assemble(nodes: pl.DataFrame, edges: pl.DataFrame, resolution: pl.DataFrame) -> ModelGraph:
    acyclic, broken, levels = _break_cycles(nodes, edges)
    nodes = nodes.with_columns(pl.Series("level", levels))
    ids = nodes["id"]
    broken_ids = pl.DataFrame(
        {
            "child": ids.gather(broken["child"]),
            "parent": ids.gather(broken["parent"]),
            "relation": broken["relation"],
            "lineage": broken["lineage"],
        }
    )
    return ModelGraph(nodes=nodes, edges=acyclic, broken=broken_ids, resolution=resolution)


def adjacency(n: int, src: Array, dst: Array) -> tuple[Array, Array]:
    """The edges ``src -> dst`` of ``n`` nodes as compressed rows: node ``i``'s targets are
    ``targets[offsets[i]:offsets[i + 1]]``, in edge order.

    >>> offsets, targets = adjacency(3, np.array([0, 1, 0]), np.array([1, 2, 2]))
    >>> offsets.tolist(), targets.tolist()
    ([0, 2, 3, 3], [1, 2, 2])
    """
    order = np.argsort(src, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(src, minlength=n))])
    return offsets, dst[order]


def targets_of(offsets: Array, targets: Array, frontier: Array) -> Array:
    """Every target of the ``frontier`` nodes (with repeats), from :func:`adjacency`'s rows.

    >>> targets_of(*adjacency(3, np.array([0, 1, 0]), np.array([1, 2, 2])), np.array([0, 1]))
    array([1, 2, 2])
    """
    starts = offsets[frontier]
    counts = offsets[frontier + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=targets.dtype)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    found: Array = targets[np.repeat(starts, counts) + within]
    return found


def topological_levels(n: int, child: Array, parent: Array) -> Array:
    """Longest-path level of each node from a parentless one; -1 for nodes in or below cycles.

    Kahn's algorithm, a whole frontier at a time: one pass per level, numpy within it.

    >>> topological_levels(4, np.array([1, 2, 2]), np.array([0, 1, 0]))
    array([0, 1, 2, 0], dtype=int32)
    """
    remaining = np.bincount(child, minlength=n).astype(np.int64)
    offsets, children_sorted = adjacency(n, parent, child)
    level = np.full(n, -1, dtype=np.int32)
    frontier = np.flatnonzero(remaining == 0)
    ready = np.zeros(n, dtype=bool)
    depth = 0
    while frontier.size:
        level[frontier] = depth
        kids = targets_of(offsets, children_sorted, frontier)
        if kids.size == 0:
            break
        remaining -= np.bincount(kids, minlength=n)
        # Deduplicate through a mark array: cheaper than hashing when most kids finish.
        finished = kids[remaining[kids] == 0]
        ready[finished] = True
        frontier = np.flatnonzero(ready)
        ready[frontier] = False
        depth += 1
    return level


def _break_cycles(
    nodes: pl.DataFrame, edges: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, Array]:
    """Drop, per cycle, the declaration of the newest parent (see the module docstring).

    Returns the acyclic edges, the dropped ones, and every node's topological level.
    """
    child, parent = edges["child"].to_numpy(), edges["parent"].to_numpy()
    levels = topological_levels(nodes.height, child, parent)
    if not (levels < 0).any():
        return edges, edges.clear(), levels
    # Stuck: in a cycle or below one. Only the nodes stuck from their children's side too
    # (in a cycle, or above one as well) can be in a cycle, and networkx gets only those:
    # lineage inference's provisional edges put ~40% of the models below some cycle.
    above = topological_levels(nodes.height, parent, child)
    stuck = np.flatnonzero((levels < 0) & (above < 0))
    import networkx as nx

    stuck_frame = pl.DataFrame({"idx": stuck}, schema={"idx": pl.UInt32})
    inner = edges.join(stuck_frame, left_on="child", right_on="idx", how="semi").join(
        stuck_frame, left_on="parent", right_on="idx", how="semi"
    )
    involved = nodes.join(stuck_frame, on="idx", how="semi").select("idx", "id", "created_at")
    created = dict(zip(involved["idx"].to_list(), involved["created_at"].to_list(), strict=True))
    name = dict(zip(involved["idx"].to_list(), involved["id"].to_list(), strict=True))
    graph: nx.DiGraph[int] = nx.DiGraph()
    graph.add_edges_from((c, p) for c, p in inner.select("child", "parent").iter_rows())
    guessed = {
        (c, p)
        for c, p, lin in inner.select("child", "parent", "lineage").iter_rows()
        if lin == "inferred"
    }
    removed: list[tuple[int, int]] = []

    def newest_parent_first(edge: tuple[int, int]) -> tuple[bool, float, str, str]:
        c, p = created.get(edge[0]), created.get(edge[1])
        gap = (p - c).total_seconds() if c is not None and p is not None else float("-inf")
        return (edge not in guessed, -gap, name[edge[1]], name[edge[0]])

    components = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    while components:
        component = components.pop()
        edge = min(graph.subgraph(component).edges, key=newest_parent_first)
        graph.remove_edge(*edge)
        removed.append(edge)
        components.extend(
            c for c in nx.strongly_connected_components(graph.subgraph(component)) if len(c) > 1
        )
    removed_frame = pl.DataFrame(
        removed, schema={"child": pl.UInt32, "parent": pl.UInt32}, orient="row"
    )
    broken = edges.join(removed_frame, on=["child", "parent"], how="semi")
    acyclic = edges.join(removed_frame, on=["child", "parent"], how="anti", maintain_order="left")
    levels = topological_levels(
        nodes.height, acyclic["child"].to_numpy(), acyclic["parent"].to_numpy()
    )
    return acyclic, broken, levels
