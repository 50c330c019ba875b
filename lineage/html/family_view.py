"""Which models a family tree shows, and where: the family, its collapsing, its layout.

:func:`family_tops` finds the models a tree starts from (one model, or those of an
organization's models not derived from another of its models); :func:`select_view` takes
the family below them out of the store's graph as local arrays (within ``depth``, along
some relations, above a download threshold, keeping connectors; inferred lineage apart
from declared, see :func:`lineage_columns`); :func:`descendants_by_relation` counts what
lies below each model; :func:`collapse` fits the family under a node budget with "+N
relation" summary nodes, and :func:`collapsed_into` says which one each hidden model is
in; :func:`forest_layout` places the result: each top's family by :func:`radial_layout`
in a disk of its own, the disks packed around the centre by :func:`pack_circles`.

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
- **Angles sized at each ring.** A subtree gets the angle it needs at the radius where its
  members sit (outer rings are longer), and a parent's leaves are packed in a compact
  block, so a model with thousands of direct derivatives makes a patch, not a ray.
- **Collapsing leaves first.** Above ``max_nodes``, the leaves of one parent and relation
  become one summary node ("+37 quantized"), biggest group first; if that is not enough,
  whole subtrees fold into their parent's summary node, smallest first (see
  :func:`collapse`). The tree stays connected, and every model is drawn or counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ..errors import InputError, NotInStore
from ..graph import adjacency, targets_of
from ..vocabulary import RELATION_ORDER

__all__ = [
    "INFERRED_LINEAGE",
    "FamilyView",
    "Layout",
    "SummaryGroup",
    "collapse",
    "collapsed_into",
    "descendants_by_relation",
    "family_tops",
    "forest_layout",
    "lineage_columns",
    "pack_circles",
    "radial_layout",
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


def family_tops(ctx: Any, root: str) -> tuple[np.ndarray, str]:
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
    ctx: Any,
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
    rank = {r: j for j, r in enumerate(RELATION_ORDER)}
    own = np.zeros((m, len(RELATION_ORDER)), dtype=np.int64)
    rel = np.array([rank.get(r, -1) if r is not None else -1 for r in view.relation], dtype=int)
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
            leaves.setdefault((p, relation[i]), []).append(i)
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
        key = (parent_of[c], relation[c])
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
    rel_rank = {r: k for k, r in enumerate(RELATION_ORDER)}
    return mask, [
        SummaryGroup(p, r, sorted(members), int(size[members].sum()))
        for (p, r), members in sorted(groups.items(), key=lambda kv: (kv[0][0], rel_rank[kv[0][1]]))
    ]


# -- layout ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where each item of a forest sits, and the disk each family occupies.

    ``positions[i]`` is item i's (x, y), y pointing down as on a screen. ``disks[j]`` is
    (x, y, radius) of the j-th top's family: its top and family lie inside it. With several
    tops, ``centre`` is the disk left free at (0, 0) for the organization; with one, the
    top itself sits at (0, 0) and ``centre`` is None.
    """

    positions: list[tuple[float, float]]
    disks: list[tuple[float, float, float]]
    centre: tuple[float, float, float] | None


def _block_shape(leaves: np.ndarray) -> np.ndarray:
    """Leaves per row in a parent's block of leaves: rows about half as many as columns,
    so that a model with thousands of direct derivatives makes a compact patch, not a ray
    or a ring miles wide."""
    rows = np.maximum(1, np.ceil(np.sqrt(leaves / 2.0)))
    return np.ceil(leaves / rows)


def radial_layout(
    parents: list[int] | np.ndarray, *, ring: float = 110.0, spacing: float = 24.0
) -> list[tuple[float, float]]:
    """Positions for one tree: its top at (0, 0), each level on a ring further out.

    ``parents[i]`` is the index of item i's parent (-1 for the top, which must be the only
    one); a parent comes before its children. Each subtree gets the angle it needs at the
    radius where its members sit (a node needs ``spacing`` of arc on its ring; a parent's
    leaves are packed in rows, in a block of their own), and the first ring is made just
    large enough for the tree to fit around the circle. Outer rings are longer than inner
    ones, so deep trees do not push the first ring outwards.

    Examples
    --------
    >>> pos = radial_layout([-1, 0, 0, 1])
    >>> pos[0]
    (0.0, 0.0)
    >>> [round(math.hypot(x, y)) for x, y in pos[1:]]
    [110, 110, 220]
    """
    parent = np.asarray(parents, dtype=np.int64).reshape(-1)
    n = parent.size
    tops = np.flatnonzero(parent < 0)
    if tops.size != 1:
        raise ValueError(f"radial_layout lays out one tree, not {tops.size} tops")
    top = int(tops[0])
    depth = np.zeros(n, dtype=np.int64)
    for i in range(n):  # parents come first
        if parent[i] >= 0:
            depth[i] = depth[parent[i]] + 1
    has_kids = np.zeros(n, dtype=bool)
    has_kids[parent[parent >= 0]] = True
    leaves = np.bincount(parent[(parent >= 0) & ~has_kids], minlength=n)
    per_row = _block_shape(leaves)
    max_depth = int(depth.max())
    levels = [np.flatnonzero(depth == d) for d in range(max_depth + 1)]

    def radii(first: float) -> np.ndarray:
        d = np.arange(max_depth + 2, dtype=float)
        return np.where(d == 0, 0.0, first + (d - 1) * ring)

    def needs(first: float) -> np.ndarray:
        """The angle each subtree needs with the first ring at radius ``first``."""
        r = radii(first)
        own = np.where(depth > 0, spacing / np.maximum(r[depth], 1e-9), 0.0)
        block = np.where(leaves > 0, per_row * spacing / r[depth + 1], 0.0)
        inner = np.zeros(n)
        need = own.copy()
        for at in reversed(levels):
            need[at] = np.maximum(own[at], inner[at] + block[at])
            up = at[(parent[at] >= 0) & has_kids[at]]
            np.add.at(inner, parent[up], need[up])
        return need

    lo = hi = ring
    while needs(hi)[top] > 2 * math.pi:
        lo, hi = hi, hi * 1.5
    if hi > ring:  # the smallest first ring that fits, to within 1%
        while hi - lo > 0.01 * lo:
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if needs(mid)[top] <= 2 * math.pi else (mid, hi)
    r = radii(hi)
    need = needs(hi)
    kids: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        if parent[i] >= 0:
            kids[parent[i]].append(i)
    pos = [(0.0, 0.0)] * n
    span = {top: (-math.pi / 2, 3 * math.pi / 2)}
    order = [top]
    for item in order:  # breadth-first: parents before children
        order.extend(kids[item])
    for item in order:
        if item not in span:  # a leaf: placed with its parent's block
            continue
        a0, a1 = span[item]
        if item != top:
            angle = (a0 + a1) / 2
            pos[item] = (r[depth[item]] * math.cos(angle), r[depth[item]] * math.sin(angle))
        inner = [k for k in kids[item] if has_kids[k]]
        leafs = [k for k in kids[item] if not has_kids[k]]
        block = float(per_row[item] * spacing / r[depth[item] + 1]) if leafs else 0.0
        wanted = sum(float(need[k]) for k in inner) + block
        scale = (a1 - a0) / wanted if wanted > 0 else 1.0
        half = len(inner) // 2
        cursor = a0
        for k in inner[:half]:
            span[k] = (cursor, cursor + float(need[k]) * scale)
            cursor = span[k][1]
        if leafs:
            b0 = cursor
            cursor += block * scale
            _pack_leaves(leafs, b0, cursor, float(r[depth[item] + 1]), spacing, pos)
        for k in inner[half:]:
            span[k] = (cursor, cursor + float(need[k]) * scale)
            cursor = span[k][1]
    return [(round(x, 1), round(y, 1)) for x, y in pos]


def _pack_leaves(
    leaves: list[int],
    a0: float,
    a1: float,
    r0: float,
    spacing: float,
    pos: list[tuple[float, float]],
) -> None:
    """Leaves in rows across the wedge [a0, a1], from radius r0 outwards."""
    placed = 0
    row = 0
    while placed < len(leaves):
        r = r0 + row * spacing
        capacity = max(1, int((a1 - a0) * r / spacing + 1e-9))
        batch = leaves[placed : placed + capacity]
        step = (a1 - a0) / len(batch)
        for j, item in enumerate(batch):
            angle = a0 + (j + 0.5) * step
            pos[item] = (r * math.cos(angle), r * math.sin(angle))
        placed += len(batch)
        row += 1


def forest_layout(
    parents: list[int],
    *,
    centre: float = 90.0,
    margin: float = 30.0,
    ring: float = 110.0,
    spacing: float = 24.0,
) -> Layout:
    """Positions for a forest: each top's family as a disk of its own, packed around a centre.

    ``parents`` as for :func:`radial_layout`, with any number of tops, in the order their
    families are placed (an organization's models by release date). One top: its tree as
    :func:`radial_layout` draws it. Several: each family is laid out by
    :func:`radial_layout` around its top, and the disks (``margin`` apart) are packed
    around a free disk of radius ``centre`` at (0, 0), in order, each as close to the
    centre as the ones before allow: the first families nearest the centre, the last on
    the outside, like the rings of a tree.

    Examples
    --------
    >>> layout = forest_layout([-1, -1, 0, 1])
    >>> layout.centre
    (0.0, 0.0, 90.0)
    >>> [round(math.hypot(x, y)) > 90 for x, y, _ in layout.disks]
    [True, True]
    >>> layout.positions[2] != layout.positions[3]
    True
    """
    parent = np.asarray(parents, dtype=np.int64).reshape(-1)
    n = parent.size
    tops = np.flatnonzero(parent < 0)
    if tops.size == 1:
        pos = radial_layout(parent, ring=ring, spacing=spacing)
        radius = max((math.hypot(x, y) for x, y in pos), default=0.0) + spacing
        return Layout(pos, [(0.0, 0.0, round(radius, 1))], None)
    family = np.full(n, -1, dtype=np.int64)
    family[tops] = np.arange(tops.size)
    for i in range(n):
        if parent[i] >= 0:
            family[i] = family[parent[i]]
    order = np.argsort(family, kind="stable")  # each family's items, parents first
    bounds = np.searchsorted(family[order], np.arange(tops.size + 1))
    local = np.empty(n, dtype=np.int64)
    local[order] = np.arange(n) - bounds[family[order]]
    relative = np.zeros((n, 2))
    radius = np.zeros(tops.size)
    for j in range(tops.size):
        members = order[bounds[j] : bounds[j + 1]]
        if members.size == 1:
            radius[j] = spacing
            continue
        sub = np.where(parent[members] >= 0, local[np.maximum(parent[members], 0)], -1)
        xy = np.array(radial_layout(sub, ring=ring, spacing=spacing))
        # The family's disk is centred on its bounding box, not on its top: a family that
        # grew to one side packs as tightly as a round one.
        mid = (xy.min(axis=0) + xy.max(axis=0)) / 2
        relative[members] = xy - mid
        radius[j] = float(np.hypot(*(xy - mid).T).max()) + spacing
    centres = pack_circles([centre, *(radius + margin / 2)])
    shift = centres[0]
    disks = [
        (round(cx - shift[0], 1), round(cy - shift[1], 1), round(float(r), 1))
        for (cx, cy), r in zip(centres[1:], radius, strict=True)
    ]
    offset = np.array([disks[j][:2] for j in range(tops.size)])[family]
    xy = relative + offset
    return Layout(
        positions=[(round(x, 1), round(y, 1)) for x, y in xy.tolist()],
        disks=disks,
        centre=(0.0, 0.0, float(centre)),
    )


def pack_circles(radii: list[float] | np.ndarray) -> list[tuple[float, float]]:
    """Centres for circles of these radii, packed without overlap, in order, spiralling out.

    The front-chain algorithm of Wang et al., "Visualization of large hierarchical data by
    circle packing" (CHI 2006), as d3-hierarchy's ``packSiblings`` implements it: each
    circle is placed tangent to two circles on the front chain, the pair closest to the
    centroid, moving along the chain past any circle it would overlap.

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
    x[0], x[1] = -r[1], r[0]
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
