"""Which models a family tree shows, and where: the family, its collapsing, its layout.

:func:`family_tops` finds the models a tree starts from (one model, or those of an
organization's models not derived from another of its models); :func:`select_view` takes
the family below them out of the store's graph as local arrays (within ``depth``, along
some relations, above a download threshold, keeping connectors); :func:`collapse` fits it
under a node budget with "+N relation" summary nodes; :func:`radial_layout` places the
resulting forest on rings.

This module owns the graph side of ``lineage export html``: the in-memory graph in,
arrays and positions out. It must not know about HTML, colours, escaping or files (that
is :mod:`lineage.html_export`), and it fetches nothing.

Design choices, and why:

- **Positions computed here.** vis-network's force layouts take 30 s to minutes to settle
  10k nodes in headless Chromium; a radial tree layout takes milliseconds in Python and
  the browser then only draws (about 1 s for 10k nodes).
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

from .errors import InputError, NotInStore

__all__ = [
    "RELATIONS",
    "FamilyView",
    "SummaryGroup",
    "collapse",
    "family_tops",
    "radial_layout",
    "select_view",
]

RELATIONS = ("finetune", "adapter", "quantized", "merge")
# A --root pasted as a Hub page address names the model or organization it shows.
_HUB_PREFIXES = ("https://huggingface.co/", "http://huggingface.co/", "huggingface.co/")


# -- choosing the family ---------------------------------------------------------------------


def _csr(n: int, parent: np.ndarray, child: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Children of every node as offsets into one array (compressed rows)."""
    order = np.argsort(parent, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(parent, minlength=n))])
    return offsets, child[order]


def _children_of(offsets: np.ndarray, targets: np.ndarray, frontier: np.ndarray) -> np.ndarray:
    starts = offsets[frontier]
    counts = offsets[frontier + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=targets.dtype)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return targets[np.repeat(starts, counts) + within]


def _bfs_depth(
    n: int, offsets: np.ndarray, targets: np.ndarray, starts: np.ndarray, max_depth: int | None
) -> np.ndarray:
    """Shortest distance below ``starts`` (-1: not reached), a whole level at a time."""
    depth = np.full(n, -1, dtype=np.int32)
    depth[starts] = 0
    frontier = np.asarray(starts, dtype=np.int64)
    level = 0
    while frontier.size and (max_depth is None or level < max_depth):
        kids = _children_of(offsets, targets, frontier)
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
        raise InputError("--root is empty: give a model id or an organization")
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
    offsets, targets = _csr(graph.n, parent, child)
    first = np.unique(_children_of(offsets, targets, org_idx))
    below = _bfs_depth(graph.n, offsets, targets, first, None)
    tops = org_idx[below[org_idx] < 0]
    return np.sort(tops), str(members["org"][0])


@dataclass
class FamilyView:
    """The family as local arrays: entry i is graph node ``idx[i]``."""

    idx: np.ndarray
    depth: np.ndarray
    parent: np.ndarray  # local index of the tree parent, -1 for tops
    relation: list[str | None]  # relation to the tree parent
    inferred: np.ndarray
    edges: pl.DataFrame  # child, parent (local), relation, inferred, tree (bool)
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
    edges = graph.edges
    if set(relations) != set(RELATIONS):
        edges = edges.filter(pl.col("relation").is_in(list(relations)))
    parent = edges["parent"].to_numpy().astype(np.int64)
    child = edges["child"].to_numpy().astype(np.int64)
    offsets, targets = _csr(n, parent, child)
    dist = _bfs_depth(n, offsets, targets, tops, depth)
    inside = dist >= 0
    within = edges.filter(pl.Series(inside[child] & inside[parent]))
    # The tree parent is a parent one level up (so ring = depth), first declared first.
    tree = (
        within.with_columns(
            pl.Series("child_depth", dist[within["child"].to_numpy()]),
            pl.Series("parent_depth", dist[within["parent"].to_numpy()]),
        )
        .filter(pl.col("parent_depth") == pl.col("child_depth") - 1)
        .sort("child", "position")
        .unique("child", keep="first", maintain_order=True)
        .select("child", "parent", "relation", "inferred")
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
    relation_of = dict(zip(tree["child"].to_list(), tree["relation"].to_list(), strict=True))
    inferred_of = dict(zip(tree["child"].to_list(), tree["inferred"].to_list(), strict=True))
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
        pl.Series("tree", tree_parent[c] == p),
    )
    return FamilyView(
        idx=kept,
        depth=dist[kept],
        parent=np.where(tree_parent[kept] >= 0, local[np.maximum(tree_parent[kept], 0)], -1),
        relation=[relation_of.get(int(i)) for i in kept],
        inferred=np.array([bool(inferred_of.get(int(i), False)) for i in kept]),
        edges=drawn_edges,
        connector=~passes[kept] & (dist[kept] > 0),
        family=family,
        below_min=int(family - kept.size),
    )


# -- collapsing -----------------------------------------------------------------------------


@dataclass
class SummaryGroup:
    """Models drawn as one "+N relation" node under their drawn parent."""

    parent: int  # local index of the drawn parent
    relation: str
    members: list[int]  # hidden children (local), the tops of hidden subtrees
    models: int  # every model inside: members and everything below them


def collapse(
    view: FamilyView, downloads: np.ndarray, ids: list[str], max_nodes: int
) -> tuple[np.ndarray, list[SummaryGroup]]:
    """Which models to draw (a mask) and the summary nodes for the rest.

    Until models plus summary nodes fit in ``max_nodes``:

    1. the leaves of one parent and relation (two or more) become one summary node,
       the biggest such group first (ties: fewer downloads, then parent id);
    2. then whole subtrees fold into their parent's summary node for their relation,
       the smallest subtree first (ties: fewer downloads, then id); a summary node also
       takes in the leaves of its parent and relation that were still drawn.

    The tops are always drawn, and a drawn model's parent is always drawn.
    """
    m = view.idx.size
    parent = view.parent
    size = np.ones(m, dtype=np.int64)
    for level in range(int(view.depth.max(initial=0)), 0, -1):
        at = np.flatnonzero((view.depth == level) & (parent >= 0))
        np.add.at(size, parent[at], size[at])
    drawn = np.ones(m, dtype=bool)
    if m <= max_nodes:
        return drawn, []
    relation = view.relation
    children: list[list[int]] = [[] for _ in range(m)]
    leaves: dict[tuple[int, str], list[int]] = {}  # (parent, relation) -> leaf children
    for i in np.flatnonzero(parent >= 0):
        i = int(i)
        children[parent[i]].append(i)
        if size[i] == 1:
            leaves.setdefault((int(parent[i]), relation[i]), []).append(i)
    groups: dict[tuple[int, str], list[int]] = {}
    groups_under: list[set[str]] = [set() for _ in range(m)]
    count = m

    def total(members: list[int]) -> int:
        return sum(int(downloads[i]) for i in members)

    for key in sorted(
        (k for k, v in leaves.items() if len(v) > 1),
        key=lambda k: (-len(leaves[k]), total(leaves[k]), ids[k[0]], k[1]),
    ):
        if count <= max_nodes:
            break
        members = leaves[key]
        drawn[members] = False
        groups[key] = list(members)
        groups_under[key[0]].add(key[1])
        count -= len(members) - 1

    subtrees = sorted(
        (int(i) for i in np.flatnonzero((size > 1) & (parent >= 0))),
        key=lambda i: (int(size[i]), int(downloads[i]), ids[i]),
    )
    for c in subtrees:
        if count <= max_nodes:
            break
        if not drawn[c]:
            continue  # inside a subtree already folded
        stack = [c]
        while stack:
            v = stack.pop()
            drawn[v] = False
            count -= 1 + len(groups_under[v])
            for r in groups_under[v]:
                del groups[(v, r)]
            groups_under[v].clear()
            stack.extend(k for k in children[v] if drawn[k])
        key = (int(parent[c]), relation[c])
        if key not in groups:
            groups[key] = []
            groups_under[key[0]].add(key[1])
            count += 1
        groups[key].append(c)
        for leaf in leaves.pop(key, []):  # once per group: later folds find none drawn
            if drawn[leaf]:
                drawn[leaf] = False
                groups[key].append(leaf)
                count -= 1
    if count > max_nodes:
        tops = int(np.count_nonzero(parent < 0))
        raise InputError(
            f"the family has {tops:,} top-level models: they and their +N nodes need more "
            f"than --max-nodes {max_nodes:,}; choose one model as --root or raise --max-nodes"
        )
    rel_rank = {r: k for k, r in enumerate(RELATIONS)}
    return drawn, [
        SummaryGroup(p, r, sorted(members), int(size[members].sum()))
        for (p, r), members in sorted(groups.items(), key=lambda kv: (kv[0][0], rel_rank[kv[0][1]]))
    ]


# -- layout ---------------------------------------------------------------------------------


def radial_layout(
    parents: list[int], *, ring: float = 220.0, spacing: float = 30.0
) -> list[tuple[float, float]]:
    """Positions for a forest: roots at the centre, each level on a ring further out.

    ``parents[i]`` is the index of item i's parent (-1 for a root); a parent comes before
    its children. Each subtree gets a wedge of the circle in proportion to its width; the
    leaves of one parent are packed in rows inside their own wedge, so a model with
    thousands of direct derivatives makes a dense block, not a ring miles wide. Several
    roots sit on the first ring around an empty centre.

    Examples
    --------
    >>> pos = radial_layout([-1, 0, 0, 1])
    >>> pos[0]
    (0.0, 0.0)
    >>> [round(math.hypot(x, y)) for x, y in pos[1:]]
    [220, 220, 440]
    """
    n = len(parents)
    roots = [i for i, p in enumerate(parents) if p < 0]
    if len(roots) == 1:
        order_parents = list(parents)
        virtual = None
    else:  # a hidden centre for a forest, so that the roots share the first ring
        virtual = n
        order_parents = [virtual if p < 0 else p for p in parents] + [-1]
    total_items = len(order_parents)
    kids: list[list[int]] = [[] for _ in range(total_items)]
    for i, p in enumerate(order_parents):
        if p >= 0:
            kids[p].append(i)
    depth = [0] * total_items
    order = [virtual] if virtual is not None else [roots[0]]
    for item in order:  # breadth-first: parents before children
        for k in kids[item]:
            depth[k] = depth[item] + 1
            order.append(k)

    def block_width(leaves: int) -> float:
        # Rows of leaves: one row for a few, up to 12 for thousands (a band, not a ray).
        rows = min(12, max(1, math.ceil(math.sqrt(leaves) / 2)))
        return float(math.ceil(leaves / rows)) if leaves else 0.0

    width = [0.0] * total_items
    for item in reversed(order):
        inner = [k for k in kids[item] if kids[k]]
        leaves = len(kids[item]) - len(inner)
        width[item] = max(1.0, sum(width[k] for k in inner) + block_width(leaves))
    top = order[0]
    unit = 2 * math.pi / width[top]
    max_depth = max(depth[i] for i in order)
    radius = [0.0] * (max_depth + 2)
    first = max(ring, spacing / unit)  # one unit of width must hold one node
    for d in range(1, max_depth + 2):
        radius[d] = first + (d - 1) * ring
    pos = [(0.0, 0.0)] * total_items
    span = {top: (-math.pi / 2, 3 * math.pi / 2)}
    for item in order:
        if item not in span:  # a leaf: placed with its parent's block
            continue
        a0, a1 = span[item]
        if item != top:
            angle = (a0 + a1) / 2
            r = radius[depth[item]]
            pos[item] = (r * math.cos(angle), r * math.sin(angle))
        inner = [k for k in kids[item] if kids[k]]
        leaves = [k for k in kids[item] if not kids[k]]
        scale = (a1 - a0) / width[item]
        half = len(inner) // 2
        cursor = a0
        for k in inner[:half]:
            span[k] = (cursor, cursor + width[k] * scale)
            cursor += width[k] * scale
        if leaves:
            b0 = cursor
            cursor += max(block_width(len(leaves)), 1.0 if not inner else 0.0) * scale
            _pack_leaves(leaves, b0, cursor, radius[depth[item] + 1], spacing, pos)
        for k in inner[half:]:
            span[k] = (cursor, cursor + width[k] * scale)
            cursor += width[k] * scale
    return [(round(x, 1), round(y, 1)) for x, y in pos[:n]]


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
        capacity = max(1, int((a1 - a0) * r / spacing))
        batch = leaves[placed : placed + capacity]
        step = (a1 - a0) / len(batch)
        for j, item in enumerate(batch):
            angle = a0 + (j + 0.5) * step
            pos[item] = (r * math.cos(angle), r * math.sin(angle))
        placed += len(batch)
        row += 1
