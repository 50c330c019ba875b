"""Which models a family tree shows, and where: the family, its collapsing, its layout.

:func:`family_tops` finds the models a tree starts from (one model, or those of an
organization's models not derived from another of its models); :func:`select_view` takes
the family below them out of the store's graph as local arrays (within ``depth``, along
some relations, above a download threshold, keeping connectors; inferred lineage apart
from declared, see :func:`lineage_columns`); :func:`descendants_by_relation` counts what
lies below each model; :func:`collapse` fits the family under a node budget with "+N
relation" summary nodes, and :func:`collapsed_into` says which one each hidden model is
in; :func:`forest_layout` places the result: every sub-family in a disk of its own,
nested (:func:`ring_offsets` for the models with nothing below them, :func:`pack_circles`
for the disks, :func:`enclose` for the disk that holds them), the tops' disks packed
around the centre.

This module owns the graph side of ``lineage export html``: the in-memory graph in,
arrays and positions out. It must not know about HTML, colours, escaping or files (that
is :mod:`lineage.html.export`), and it fetches nothing.

Design choices, and why:

- **Positions computed here.** vis-network's force layouts take 30 s to minutes to settle
  10k nodes in headless Chromium; these layouts take well under a second in Python for
  the 5,000 nodes a page holds, and the browser then only draws.
- **A disk per family, packed in release order.** Laying out an organization as one
  forest on shared rings made each ring as long as the models at its busiest level: for
  200 roots and 5,000 drawn nodes, a thin annulus 31,800 units across, whose root labels
  piled up. Each family laid out on its own and packed as a circle (front-chain packing,
  the first families nearest the centre) keeps families visibly apart, and the same
  nodes take 11,400 units, so everything is drawn almost three times larger.
- **Nested disks, not one tree of rings.** Drawn as rings of generations, a 15,000-model
  family was a fan of dots in which no sub-family could be seen, and nodes and labels
  fell on each other. Each model with models below it now gets a disk: its childless
  children on rings round it (a model with thousands of direct derivatives makes a
  compact disk, not a ray), its other children's disks packed round those, and the
  smallest circle that holds them (Welzl's algorithm, as d3's ``packEnclose``). The
  page can then draw a sub-family as one disk, its area the models it holds, until there
  is room to open it; and since no two models are ever closer than :data:`SPACING`, it
  can size dots in pixels without overlaps. Nesting costs area: the root's disk has
  3.2-4.5 × SPACING² per model (tests/support/trees.py's families of 100 to 15,000).
- **Collapsing leaves first.** Above ``max_nodes``, the leaves of one parent and relation
  become one summary node ("+37 quantized"), biggest group first; if that is not enough,
  whole subtrees fold into their parent's summary node, smallest first (see
  :func:`collapse`). The tree stays connected, and every model is drawn or counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import polars as pl

from ..errors import InputError, NotInStore
from ..graph import adjacency, targets_of
from ..vocabulary import RELATION_ORDER

if TYPE_CHECKING:
    from ..analysis import Context

__all__ = [
    "INFERRED_LINEAGE",
    "SPACING",
    "FamilyView",
    "Layout",
    "SummaryGroup",
    "collapse",
    "collapsed_into",
    "descendants_by_relation",
    "enclose",
    "family_tops",
    "forest_layout",
    "lineage_columns",
    "pack_circles",
    "ring_offsets",
    "select_view",
]

#: The optional edge column that marks inferred lineage (see :func:`lineage_columns`).
INFERRED_LINEAGE = "inferred_lineage"
# A --root pasted as a Hub page address names the model or organization it shows.
_HUB_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/")


# -- choosing the family ---------------------------------------------------------------------


def _bfs_depth(
    n: int, offsets: np.ndarray, targets: np.ndarray, starts: np.ndarray, max_depth: int | None
) -> np.ndarray:
    """Shortest distance below ``starts`` (-1: not reached), a whole level at a time."""
    depth = np.full(n, -1, dtype=np.int32)
    depth[starts] = 0
    frontier = np.asarray(starts, dtype=np.int64)
    level = 0
    while frontier.size and (max_depth is None or level < max_depth):
        kids = targets_of(offsets, targets, frontier)
        kids = np.unique(kids[depth[kids] < 0])
        level += 1
        depth[kids] = level
        frontier = kids
    return depth


def family_tops(ctx: Context, root: str) -> tuple[np.ndarray, str]:
    """Node indices the tree starts from, and how to name the family in titles."""
    graph = ctx.graph
    name = root.strip()
    for prefix in _HUB_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
    name = name.strip("/")
    if not name:
        raise InputError(
            "{root} is empty: give a model id or an organization", params=("root",), value=root
        )
    if "/" in name:
        idx = graph.index_of(name)
        if idx is None:
            raise NotInStore(f"no model named '{name}' in the store at {ctx.store.path}")
        return np.array([idx], dtype=np.int64), str(graph.nodes["id"][idx])
    members = graph.nodes.filter(pl.col("org").str.to_lowercase() == name.lower())
    if members.height == 0:
        raise NotInStore(
            f"no model or organization named '{name}' in the store at {ctx.store.path}"
        )
    org_idx = members["idx"].to_numpy().astype(np.int64)
    # The org's own lineage decides its tops: a model derived (through anyone's models)
    # from another of its models is drawn under it, whatever --relations keeps.
    parent = graph.edges["parent"].to_numpy().astype(np.int64)
    child = graph.edges["child"].to_numpy().astype(np.int64)
    offsets, targets = adjacency(graph.n, parent, child)
    first = np.unique(targets_of(offsets, targets, org_idx))
    below = _bfs_depth(graph.n, offsets, targets, first, None)
    tops = org_idx[below[org_idx] < 0]
    return np.sort(tops), str(members["org"][0])


def lineage_columns(edges: pl.DataFrame) -> pl.DataFrame:
    """``edges`` with ``inferred_lineage`` as a clean flag, plus ``lineage_method`` and
    ``confidence`` (null where unknown).

    A graph's edges say in their ``lineage`` column whether an edge is declared or
    *inferred lineage* (a parent proposed by ``lineage infer`` for a model that declares
    none, see :func:`lineage.graph.build_graph`), with the ``method`` and ``confidence``
    of an inferred one. Without the column every edge is declared. This is not the
    ``inferred`` column, which says that the *relation word* of a declared edge was
    inferred.

    Examples
    --------
    >>> edges = pl.DataFrame({"child": [1, 2], "lineage": ["declared", "inferred"],
    ...     "method": [None, "name-exact"], "confidence": [None, 0.9]})
    >>> lineage_columns(edges).select("inferred_lineage", "lineage_method").rows()
    [(False, None), (True, 'name-exact')]
    >>> lineage_columns(pl.DataFrame({"child": [1]}))["inferred_lineage"].to_list()
    [False]
    """
    if "lineage" not in edges.columns:
        flag, method = pl.lit(False), pl.lit(None, pl.String)
    else:
        flag = (pl.col("lineage") == "inferred").fill_null(False)
        named = (
            pl.col("method").cast(pl.String)
            if "method" in edges.columns
            else pl.lit(None, pl.String)
        )
        method = pl.when(flag).then(named.fill_null("inferred")).otherwise(pl.lit(None, pl.String))
    confidence = (
        pl.when(flag).then(pl.col("confidence").cast(pl.Float64, strict=False))
        if "confidence" in edges.columns
        else pl.lit(None, pl.Float64)
    )
    return edges.with_columns(
        flag.alias(INFERRED_LINEAGE), method.alias("lineage_method"), confidence.alias("confidence")
    )


@dataclass
class FamilyView:
    """The family as local arrays: entry i is graph node ``idx[i]``."""

    idx: np.ndarray
    depth: np.ndarray
    parent: np.ndarray  # local index of the tree parent, -1 for tops
    relation: list[str | None]  # relation to the tree parent
    inferred: np.ndarray  # the relation word was inferred (not declared)
    # The edge to the tree parent is inferred lineage: None if declared, else the method
    # ("inferred" when the graph does not name one); and its confidence, if known.
    lineage: list[str | None]
    confidence: list[float | None]
    # child, parent (local), relation, inferred, inferred_lineage, tree (bool)
    edges: pl.DataFrame
    connector: np.ndarray  # kept only to connect models that pass --min-downloads
    family: int
    below_min: int


def select_view(
    ctx: Context,
    tops: np.ndarray,
    *,
    depth: int | None,
    relations: tuple[str, ...],
    min_downloads: int | None,
) -> FamilyView:
    """The family below ``tops`` (from :func:`family_tops`), parents before children.

    Follows only ``relations``, at most ``depth`` steps down; with ``min_downloads``, keeps
    the tops, the models with more all-time downloads than that, and the models on the
    tree path up to them (connectors). Each model's tree parent is a parent one level up,
    the first declared first.
    """
    graph = ctx.graph
    n = graph.n
    edges = lineage_columns(graph.edges)
    if set(relations) != set(RELATION_ORDER):
        edges = edges.filter(pl.col("relation").is_in(list(relations)))
    parent = edges["parent"].to_numpy().astype(np.int64)
    child = edges["child"].to_numpy().astype(np.int64)
    offsets, targets = adjacency(n, parent, child)
    dist = _bfs_depth(n, offsets, targets, tops, depth)
    inside = dist >= 0
    within = edges.filter(pl.Series(inside[child] & inside[parent]))
    # The tree parent is a parent one level up (so ring = depth): a declared parent before
    # an inferred one, then the first declared first.
    tree = (
        within.with_columns(
            pl.Series("child_depth", dist[within["child"].to_numpy()]),
            pl.Series("parent_depth", dist[within["parent"].to_numpy()]),
        )
        .filter(pl.col("parent_depth") == pl.col("child_depth") - 1)
        .sort("child", INFERRED_LINEAGE, "position")
        .unique("child", keep="first", maintain_order=True)
        .select(
            "child",
            "parent",
            "relation",
            "inferred",
            pl.when(INFERRED_LINEAGE)
            .then(pl.coalesce("lineage_method", pl.lit("inferred")))
            .alias("lineage"),
            "confidence",
        )
    )
    members = np.flatnonzero(inside)
    family = members.size
    tree_parent = np.full(n, -1, dtype=np.int64)
    tree_parent[tree["child"].to_numpy()] = tree["parent"].to_numpy()

    keep = np.zeros(n, dtype=bool)
    passes = np.ones(n, dtype=bool)
    if min_downloads is None:
        keep[members] = True
    else:
        downloads = graph.nodes["downloads_all_time"].fill_null(0).to_numpy()
        passes = downloads > min_downloads
        keep[members] = passes[members]
        keep[tops] = True
        # Keep the path up to every model that passes, deepest level first.
        for level in range(int(dist.max()), 0, -1):
            at = members[(dist[members] == level) & keep[members]]
            keep[tree_parent[at]] = True
    kept = members[keep[members]]
    kept = kept[np.lexsort((kept, dist[kept]))]  # parents before children
    local = np.full(n, -1, dtype=np.int64)
    local[kept] = np.arange(kept.size)
    by_child = pl.DataFrame({"child": kept}, schema={"child": tree.schema["child"]}).join(
        tree, on="child", how="left", maintain_order="left"
    )
    drawn_edges = within.filter(
        pl.Series(keep[within["child"].to_numpy()] & keep[within["parent"].to_numpy()])
    )
    c = drawn_edges["child"].to_numpy()
    p = drawn_edges["parent"].to_numpy()
    drawn_edges = drawn_edges.select(
        pl.Series("child", local[c]),
        pl.Series("parent", local[p]),
        "relation",
        "inferred",
        INFERRED_LINEAGE,
        pl.Series("tree", tree_parent[c] == p),
    )
    return FamilyView(
        idx=kept,
        depth=dist[kept],
        parent=np.where(tree_parent[kept] >= 0, local[np.maximum(tree_parent[kept], 0)], -1),
        relation=by_child["relation"].to_list(),
        inferred=by_child["inferred"].fill_null(False).to_numpy().astype(bool),
        lineage=by_child["lineage"].to_list(),
        confidence=by_child["confidence"].to_list(),
        edges=drawn_edges,
        connector=~passes[kept] & (dist[kept] > 0),
        family=family,
        below_min=int(family - kept.size),
    )


def descendants_by_relation(view: FamilyView) -> np.ndarray:
    """Per model, how many models of the view lie below it in the tree, by relation.

    Column j counts the descendants whose relation to their own tree parent is
    ``RELATION_ORDER[j]``.

    Examples
    --------
    >>> view = FamilyView(
    ...     idx=np.arange(4), depth=np.array([0, 1, 1, 2]), parent=np.array([-1, 0, 0, 1]),
    ...     relation=[None, "finetune", "adapter", "quantized"], inferred=np.zeros(4, bool),
    ...     lineage=[None] * 4, confidence=[None] * 4, edges=pl.DataFrame(),
    ...     connector=np.zeros(4, bool), family=4, below_min=0)
    >>> descendants_by_relation(view).tolist()
    [[1, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    """
    m = view.idx.size
    rank: dict[str | None, int] = {r: j for j, r in enumerate(RELATION_ORDER)}
    own = np.zeros((m, len(RELATION_ORDER)), dtype=np.int64)
    rel = np.array([rank.get(r, -1) for r in view.relation], dtype=np.int64)
    has = (view.parent >= 0) & (rel >= 0)
    own[np.flatnonzero(has), rel[has]] = 1
    total = own.copy()
    for level in range(int(view.depth.max(initial=0)), 0, -1):
        at = np.flatnonzero((view.depth == level) & (view.parent >= 0))
        np.add.at(total, view.parent[at], total[at])
    return total - own


def collapsed_into(view: FamilyView, drawn: np.ndarray, groups: list[SummaryGroup]) -> np.ndarray:
    """Per model, the index of the summary group it is drawn inside (-1: drawn itself)."""
    owner = np.full(view.idx.size, -1, dtype=np.int64)
    for g, group in enumerate(groups):
        owner[group.members] = g
    for level in range(1, int(view.depth.max(initial=0)) + 1):
        at = np.flatnonzero((view.depth == level) & ~drawn & (owner < 0) & (view.parent >= 0))
        owner[at] = owner[view.parent[at]]
    return owner


# -- collapsing -----------------------------------------------------------------------------


@dataclass
class SummaryGroup:
    """Models drawn as one "+N relation" node under their drawn parent."""

    parent: int  # local index of the drawn parent
    relation: str
    members: list[int]  # hidden children (local), the tops of hidden subtrees
    models: int  # every model inside: members and everything below them


def collapse(
    view: FamilyView, downloads: np.ndarray, ids: list[str], max_nodes: int, *, reserved: int = 0
) -> tuple[np.ndarray, list[SummaryGroup]]:
    """Which models to draw (a mask) and the summary nodes for the rest.

    Until models plus summary nodes fit in ``max_nodes`` (less ``reserved`` nodes the page
    draws besides, such as an organization's):

    1. the leaves of one parent and relation (two or more) become one summary node,
       the biggest such group first (ties: fewer downloads, then parent id);
    2. then whole subtrees fold into their parent's summary node for their relation,
       the smallest subtree first (ties: fewer downloads, then id); a summary node also
       takes in the leaves of its parent and relation that were still drawn.

    The tops are always drawn, and a drawn model's parent is always drawn.
    """
    limit = max_nodes - reserved
    m = view.idx.size
    parent = view.parent
    size = np.ones(m, dtype=np.int64)
    for level in range(int(view.depth.max(initial=0)), 0, -1):
        at = np.flatnonzero((view.depth == level) & (parent >= 0))
        np.add.at(size, parent[at], size[at])
    if m <= limit:
        return np.ones(m, dtype=bool), []
    # Plain lists and a bytearray from here: the loops below index them one model at a
    # time, which is several times faster than indexing numpy arrays.
    relation = view.relation
    parent_of = parent.tolist()
    size_of = size.tolist()
    down = np.asarray(downloads).tolist()
    drawn = bytearray(b"\x01") * m
    children: dict[int, list[int]] = {}
    leaves: dict[tuple[int, str], list[int]] = {}  # (parent, relation) -> leaf children
    for i in np.flatnonzero(parent >= 0).tolist():
        p = parent_of[i]
        children.setdefault(p, []).append(i)
        if size_of[i] == 1:
            # a child's relation to its parent is set (None only at the tops)
            leaves.setdefault((p, cast(str, relation[i])), []).append(i)
    groups: dict[tuple[int, str], list[int]] = {}
    groups_under: dict[int, set[str]] = {}
    count = m

    def total(members: list[int]) -> int:
        return sum(down[i] for i in members)

    for key in sorted(
        (k for k, v in leaves.items() if len(v) > 1),
        key=lambda k: (-len(leaves[k]), total(leaves[k]), ids[k[0]], k[1]),
    ):
        if count <= limit:
            break
        members = leaves[key]
        for i in members:
            drawn[i] = 0
        groups[key] = list(members)
        groups_under.setdefault(key[0], set()).add(key[1])
        count -= len(members) - 1

    subtrees = sorted(
        np.flatnonzero((size > 1) & (parent >= 0)).tolist(),
        key=lambda i: (size_of[i], down[i], ids[i]),
    )
    for c in subtrees:
        if count <= limit:
            break
        if not drawn[c]:
            continue  # inside a subtree already folded
        stack = [c]
        while stack:
            v = stack.pop()
            drawn[v] = 0
            under = groups_under.pop(v, set())
            count -= 1 + len(under)
            for r in under:
                del groups[(v, r)]
            stack.extend(k for k in children.get(v, ()) if drawn[k])
        key = (parent_of[c], cast(str, relation[c]))  # set below the tops
        if key not in groups:
            groups[key] = []
            groups_under.setdefault(key[0], set()).add(key[1])
            count += 1
        groups[key].append(c)
        for leaf in leaves.pop(key, []):  # once per group: later folds find none drawn
            if drawn[leaf]:
                drawn[leaf] = 0
                groups[key].append(leaf)
                count -= 1
    if count > limit:
        tops = int(np.count_nonzero(parent < 0))
        raise InputError(
            f"the family has {tops:,} top-level models: they and their +N nodes need more "
            f"than {{max_nodes}} {max_nodes:,}; choose one model as {{root}} or raise "
            "{max_nodes}",
            params=("max_nodes", "root"),
            value=max_nodes,
        )
    mask = np.frombuffer(bytes(drawn), dtype=np.uint8).astype(bool)
    rel_rank: dict[str, int] = {r: k for k, r in enumerate(RELATION_ORDER)}
    return mask, [
        SummaryGroup(p, r, sorted(members), int(size[members].sum()))
        for (p, r), members in sorted(groups.items(), key=lambda kv: (kv[0][0], rel_rank[kv[0][1]]))
    ]


# -- layout ---------------------------------------------------------------------------------

# Up to this many children with nothing below them are packed round their parent like
# its sub-families; more go on rings round it (as many as the first ring holds).
_FIRST_RING = 6
#: World units between neighbouring models: the layout's one length. The page draws each
#: model within half of it from its centre (scaled to the zoom), so no two models overlap.
SPACING = 24.0


@dataclass(frozen=True)
class Layout:
    """Where each item of a forest sits, and the disk each family and sub-family fills.

    ``positions[i]`` is item i's (x, y), y pointing down as on a screen. ``disk[i]`` is the
    disk (x, y, radius) that holds item i and everything below it, for a top, a model with
    models drawn below it (a sub-family) or a summary node (its disk sized by the models
    inside); None for a model with nothing drawn below it, which sits on its parent's
    rings. A model is not always at its disk's centre: a sub-family that grew to one side
    packs as tightly as a round one. ``room[i]`` is how far item i's own shape may reach
    from its centre without touching a neighbour's. With several tops, ``centre`` is the
    disk left free at (0, 0) for the organization; with one, the top itself sits at (0, 0)
    and ``centre`` is None. ``tops`` are the indices of the tops.
    """

    positions: list[tuple[float, float]]
    disk: list[tuple[float, float, float] | None]
    room: list[float]
    centre: tuple[float, float, float] | None
    tops: tuple[int, ...] = ()

    @property
    def disks(self) -> list[tuple[float, float, float]]:
        """(x, y, radius) of each top's disk, in order."""
        return [self.disk[t] or (*self.positions[t], 0.0) for t in self.tops]


def ring_offsets(count: int, first: float, spacing: float = SPACING) -> list[tuple[float, float]]:
    """Offsets of ``count`` models on rings around a centre, in order from the inside out.

    The first ring has radius ``first``, each next one ``spacing`` further out; a ring takes
    as many models as fit with neighbours ``spacing`` apart (a straight line, not the arc),
    and a last ring that is not full spreads its models evenly round. So any two models are
    at least ``spacing`` apart.

    Examples
    --------
    >>> [round(math.hypot(x, y)) for x, y in ring_offsets(8, 24.0)]
    [24, 24, 24, 24, 24, 24, 48, 48]
    """
    out: list[tuple[float, float]] = []
    r = first
    ring = 0
    while len(out) < count:
        fits = max(1, int(math.pi / math.asin(min(1.0, spacing / (2 * r))) + 1e-9))
        take = min(fits, count - len(out))
        turn = 0.5 * (ring % 2)  # alternate rings half a step apart
        for j in range(take):
            angle = -math.pi / 2 + 2 * math.pi * (j + turn) / take
            out.append((r * math.cos(angle), r * math.sin(angle)))
        r += spacing
        ring += 1
    return out


def forest_layout(
    parents: list[int] | np.ndarray,
    *,
    models: list[int] | np.ndarray | None = None,
    summary: list[bool] | np.ndarray | None = None,
    ring_order: list[int] | np.ndarray | None = None,
    centre: float = 90.0,
    margin: float = 30.0,
    spacing: float = SPACING,
) -> Layout:
    """Positions for a forest: every sub-family in a disk of its own, nested, no overlaps.

    ``parents[i]`` is the index of item i's parent (-1 for a top); a parent comes before
    its children, and children come in the order they are placed (oldest first, say).
    ``summary`` marks "+N" summary nodes and ``models`` how many models each stands for.

    Each model with models below it is laid out in a disk of its own around it: its
    children with nothing below them on rings round it (nearest first, each ring sorted by
    ``ring_order``, so that one relation's derivatives sit together), and the disks of its
    other children (sub-families, nested the same way, and summary nodes, whose disk has
    the area its models would take) packed round those rings by
    :func:`pack_circles`, in order: the first nearest. A disk reaches half a spacing past
    its outermost model, so models in different disks are at least ``spacing`` apart, as
    are models on one disk's rings: no two models are closer than ``spacing`` anywhere.

    One top: it sits at (0, 0). Several: their disks (``margin`` apart) are packed around a
    free disk of radius ``centre`` at (0, 0), in order, like the rings of a tree.

    Examples
    --------
    >>> layout = forest_layout([-1, 0, 0, 1])
    >>> layout.positions[0], layout.disk[0][2] > layout.disk[1][2] > 0, layout.disk[2]
    ((0.0, 0.0), True, None)
    >>> forest_layout([-1, -1, 0, 1]).centre
    (0.0, 0.0, 90.0)
    """
    parent = np.asarray(parents, dtype=np.int64).reshape(-1)
    n = parent.size
    count = np.ones(n) if models is None else np.asarray(models, dtype=float)
    grouped = np.zeros(n, dtype=bool) if summary is None else np.asarray(summary, dtype=bool)
    key = np.zeros(n) if ring_order is None else np.asarray(ring_order, dtype=float)
    children: list[list[int]] = [[] for _ in range(n)]
    for i in np.flatnonzero(parent >= 0).tolist():
        children[int(parent[i])].append(i)
    top = parent < 0
    owns = grouped | top | np.array([bool(c) for c in children], dtype=bool)
    radius = np.zeros(n)
    room = np.full(n, spacing / 2)
    offset = np.zeros((n, 2))  # from the parent to the item
    middle = np.zeros((n, 2))  # from the item to its disk's centre
    for v in range(n - 1, -1, -1):  # children before their parents
        if grouped[v]:
            radius[v] = room[v] = spacing * (0.53 * math.sqrt(max(count[v], 1.0)) + 0.5)
            continue
        room[v] = spacing * (1.1 if top[v] else 0.5)
        kids = children[v]
        if not kids:
            radius[v] = room[v]
            continue
        atoms = [c for c in kids if not owns[c]]
        disks = [c for c in kids if owns[c]]
        if len(atoms) > _FIRST_RING:
            # Rings: the oldest nearest, each ring sorted by ring_order (one relation's
            # derivatives side by side, in the same sector ring after ring).
            first = room[v] + spacing / 2
            spots = ring_offsets(len(atoms), first, spacing)
            start = 0
            while start < len(atoms):
                r = math.hypot(*spots[start])
                end = start
                while end < len(atoms) and abs(math.hypot(*spots[end]) - r) < 1e-6:
                    end += 1
                ring = sorted(atoms[start:end], key=lambda c: (key[c], c))
                for c, spot in zip(ring, spots[start:end], strict=True):
                    offset[c] = spot
                start = end
            core = [(0.0, 0.0, math.hypot(*spots[-1]) + spacing / 2)]
            packed = disks
        else:
            core = [(0.0, 0.0, room[v])]
            packed = atoms + disks  # a few models: packed round it like the disks
        radii = np.array([core[0][2], *np.where(owns[packed], radius[packed], spacing / 2)])
        centres = np.array(pack_circles(radii))
        centres -= centres[0]
        for c, spot in zip(packed, centres[1:], strict=True):
            offset[c] = spot - middle[c]
        mx, my, radius[v] = enclose(centres, radii)
        middle[v] = (mx, my)
    xy = np.zeros((n, 2))
    tops = np.flatnonzero(top)
    centre_disk = None
    if tops.size > 1:
        # The organization's disk grows with the forest, so that its name fits at the
        # zoom that shows the whole forest.
        centre = max(centre, 0.12 * math.sqrt(float(np.sum((radius[tops] + margin / 2) ** 2))))
        centres = np.array(pack_circles([centre, *(radius[tops] + margin / 2)]))
        xy[tops] = centres[1:] - centres[0] - middle[tops]
        centre_disk = (0.0, 0.0, float(centre))
    for i in range(n):  # parents first
        if parent[i] >= 0:
            xy[i] = xy[parent[i]] + offset[i]
    disk_xy = xy + middle
    return Layout(
        positions=[(round(x, 1), round(y, 1)) for x, y in xy.tolist()],
        disk=[
            (round(float(x), 1), round(float(y), 1), round(float(r), 1)) if o else None
            for (x, y), r, o in zip(disk_xy.tolist(), radius, owns, strict=True)
        ],
        room=[round(float(r), 1) for r in room],
        centre=centre_disk,
        tops=tuple(int(t) for t in tops),
    )


def enclose(centres: np.ndarray, radii: np.ndarray) -> tuple[float, float, float]:
    """The smallest circle (x, y, r) that holds circles of ``radii`` at ``centres``.

    Welzl's randomized algorithm for circles (expected linear time), as d3-hierarchy's
    ``packEnclose`` implements it, with the circles in a fixed pseudo-random order so the
    answer never changes between runs.

    Examples
    --------
    >>> x, y, r = enclose(np.array([[0.0, 0.0], [10.0, 0.0]]), np.array([1.0, 1.0]))
    >>> round(x, 1), round(r, 1)
    (5.0, 6.0)
    """
    xy = np.asarray(centres, dtype=float).reshape(-1, 2)
    circles = [
        (float(x), float(y), float(r))
        for (x, y), r in zip(xy.tolist(), np.asarray(radii, dtype=float).reshape(-1), strict=True)
    ]
    state = 1
    for i in range(len(circles) - 1, 0, -1):  # Fisher-Yates with a fixed LCG
        state = (1664525 * state + 1013904223) % 4294967296
        j = state % (i + 1)
        circles[i], circles[j] = circles[j], circles[i]
    basis: list[tuple[float, float, float]] = []
    e: tuple[float, float, float] | None = None
    i = 0
    while i < len(circles):
        p = circles[i]
        if e is not None and _encloses_weak(e, p):
            i += 1
            continue
        basis = _extend_basis(basis, p)
        e = _enclose_basis(basis)
        i = 0
    assert e is not None
    return e


def _encloses_not(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    dr, dx, dy = a[2] - b[2], b[0] - a[0], b[1] - a[1]
    return dr < 0 or dr * dr < dx * dx + dy * dy


def _encloses_weak(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    dr = a[2] - b[2] + max(a[2], b[2], 1.0) * 1e-9
    dx, dy = b[0] - a[0], b[1] - a[1]
    return dr > 0 and dr * dr > dx * dx + dy * dy


def _extend_basis(basis: list[tuple[float, float, float]], p: tuple[float, float, float]):
    if all(_encloses_weak(p, b) for b in basis):
        return [p]
    for b in basis:
        if _encloses_not(p, b) and all(_encloses_weak(_enclose2(b, p), c) for c in basis):
            return [b, p]
    for i in range(len(basis) - 1):
        for j in range(i + 1, len(basis)):
            a, b = basis[i], basis[j]
            if (
                _encloses_not(_enclose2(a, b), p)
                and _encloses_not(_enclose2(a, p), b)
                and _encloses_not(_enclose2(b, p), a)
                and all(_encloses_weak(_enclose3(a, b, p), c) for c in basis)
            ):
                return [a, b, p]
    raise ValueError("no basis encloses the circles (numerical trouble)")


def _enclose_basis(basis: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    if len(basis) == 1:
        return basis[0]
    if len(basis) == 2:
        return _enclose2(*basis)
    return _enclose3(*basis)


def _enclose2(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> tuple[float, float, float]:
    x1, y1, r1 = a
    x2, y2, r2 = b
    x21, y21, r21 = x2 - x1, y2 - y1, r2 - r1
    gap = math.hypot(x21, y21)
    if gap == 0:
        return a if r1 >= r2 else b
    return (
        (x1 + x2 + x21 / gap * r21) / 2,
        (y1 + y2 + y21 / gap * r21) / 2,
        (gap + r1 + r2) / 2,
    )


def _enclose3(
    a: tuple[float, float, float], b: tuple[float, float, float], c: tuple[float, float, float]
) -> tuple[float, float, float]:
    x1, y1, r1 = a
    x2, y2, r2 = b
    x3, y3, r3 = c
    a2, a3, b2, b3 = x1 - x2, x1 - x3, y1 - y2, y1 - y3
    c2, c3 = r2 - r1, r3 - r1
    d1 = x1 * x1 + y1 * y1 - r1 * r1
    d2 = d1 - x2 * x2 - y2 * y2 + r2 * r2
    d3 = d1 - x3 * x3 - y3 * y3 + r3 * r3
    ab = a3 * b2 - a2 * b3
    if ab == 0:  # collinear centres: the widest pair holds the third
        return max((_enclose2(a, b), _enclose2(a, c), _enclose2(b, c)), key=lambda e: e[2])
    xa = (b2 * d3 - b3 * d2) / (ab * 2) - x1
    xb = (b3 * c2 - b2 * c3) / ab
    ya = (a3 * d2 - a2 * d3) / (ab * 2) - y1
    yb = (a2 * c3 - a3 * c2) / ab
    qa = xb * xb + yb * yb - 1
    qb = 2 * (r1 + xa * xb + ya * yb)
    qc = xa * xa + ya * ya - r1 * r1
    r = -(
        (qb + math.sqrt(max(0.0, qb * qb - 4 * qa * qc))) / (2 * qa) if abs(qa) > 1e-6 else qc / qb
    )
    return (x1 + xa + xb * r, y1 + ya + yb * r, r)


def pack_circles(radii: list[float] | np.ndarray) -> list[tuple[float, float]]:
    """Centres for circles of these radii, packed without overlap, in order, spiralling out.

    The front-chain algorithm of Wang et al., "Visualization of large hierarchical data by
    circle packing" (CHI 2006), as d3-hierarchy's ``packSiblings`` implements it: each
    circle is placed tangent to two circles on the front chain, the pair closest to the
    first circle's centre, moving along the chain past any circle it would overlap. The
    first circle sits at (0, 0) and the others spiral round it (d3 starts from the point
    where the first two touch), so a parent packed first stays in the middle of its
    children.

    Examples
    --------
    >>> centres = pack_circles([1, 1, 1, 2])
    >>> all(math.dist(centres[i], centres[j]) >= [1, 1, 1, 2][i] + [1, 1, 1, 2][j] - 1e-6
    ...     for i in range(4) for j in range(i))
    True
    """
    r = [float(v) for v in radii]
    n = len(r)
    x = [0.0] * n
    y = [0.0] * n
    if n <= 1:
        return list(zip(x, y, strict=True))
    x[1] = r[0] + r[1]  # the first circle at the origin: the others spiral round it
    if n == 2:
        return list(zip(x, y, strict=True))

    def place(b: int, a: int, c: int) -> None:
        dx, dy = x[b] - x[a], y[b] - y[a]
        d2 = dx * dx + dy * dy
        if d2 <= 0:
            x[c], y[c] = x[a] + r[c], y[a]
            return
        a2 = (r[a] + r[c]) ** 2
        b2 = (r[b] + r[c]) ** 2
        if a2 > b2:
            u = (d2 + b2 - a2) / (2 * d2)
            v = math.sqrt(max(0.0, b2 / d2 - u * u))
            x[c], y[c] = x[b] - u * dx - v * dy, y[b] - u * dy + v * dx
        else:
            u = (d2 + a2 - b2) / (2 * d2)
            v = math.sqrt(max(0.0, a2 / d2 - u * u))
            x[c], y[c] = x[a] + u * dx - v * dy, y[a] + u * dy + v * dx

    def intersects(a: int, b: int) -> bool:
        dr = r[a] + r[b] - 1e-6
        dx, dy = x[b] - x[a], y[b] - y[a]
        return dr > 0 and dr * dr > dx * dx + dy * dy

    def score(a: int) -> float:
        b = nxt[a]
        ab = r[a] + r[b]
        dx = (x[a] * r[b] + x[b] * r[a]) / ab
        dy = (y[a] * r[b] + y[b] * r[a]) / ab
        return dx * dx + dy * dy

    place(1, 0, 2)
    # The front chain as a doubly linked ring of circle indices.
    nxt = [-1] * n
    prv = [-1] * n
    a, b, c = 0, 1, 2
    nxt[a], prv[b] = b, a
    nxt[b], prv[c] = c, b
    nxt[c], prv[a] = a, c
    i = 3
    while i < n:
        c = i
        place(a, b, c)
        j, k, sj, sk = nxt[b], prv[a], r[b], r[a]
        moved = False
        while True:
            if sj <= sk:
                if intersects(j, c):
                    b = j
                    nxt[a], prv[b] = b, a
                    moved = True
                    break
                sj += r[j]
                j = nxt[j]
            else:
                if intersects(k, c):
                    a = k
                    nxt[a], prv[b] = b, a
                    moved = True
                    break
                sk += r[k]
                k = prv[k]
            if j == nxt[k]:
                break
        if moved:
            continue  # try again between the new pair
        prv[c], nxt[c] = a, b
        nxt[a] = c
        prv[b] = c
        b = c
        best, best_score = a, score(a)
        walk = nxt[c]
        while walk != b:
            s = score(walk)
            if s < best_score:
                best, best_score = walk, s
            walk = nxt[walk]
        a = best
        b = nxt[a]
        i += 1
    return list(zip(x, y, strict=True))
