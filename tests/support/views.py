"""What a family tree page drew, read back from Chromium, and the checks a reader's eye makes.

:data:`DRAWN` is a page function that returns the nodes and labels of the last frame in
CSS pixels of the canvas: ``nodes`` as ``[x, y, r, k, kind]`` (the circle each node's shape
fits in: a model's dot, a root's star, a "+N" node, a sub-family drawn closed as one disk)
and ``labels`` as ``[x, y, w, h, k, text]``. The page reports them itself
(``window.lineage.frame``); for pages from before issue 24, which reported only label boxes,
the function recomputes the nodes the way those pages drew them, so the same figures can
be taken of the old page and the new.

:func:`first_view_figures` turns one reading into the numbers the issue asks about: label
pairs that overlap, labels over a node other than their own, node circles that overlap,
labels that say the same thing twice, and the range of model node radii.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

__all__ = [
    "DRAWN",
    "circle_overlaps",
    "duplicate_labels",
    "first_view_figures",
    "label_node_overlaps",
    "label_overlaps",
]

DRAWN = """() => {
  const L = window.lineage, f = L.frame, canvas = document.querySelector('#graph');
  const size = [canvas.clientWidth, canvas.clientHeight];
  if (f.nodes) return {nodes: f.nodes, labels: f.labels, size: size, scale: f.scale};
  const st = L.state(), N = L.data.nodes, present = new Set(L.present());
  const floor = {org: 9, root: 3.5, group: 2.2, model: 1.6}, nodes = [];
  for (let k = 0; k < N.kind.length; k++) {
    if (!present.has(k)) continue;
    const kind = N.kind[k], x = N.x[k] * st.scale + st.tx, y = N.y[k] * st.scale + st.ty;
    let r = Math.max(floor[kind], N.size[k] * st.scale);
    if (kind === 'root') r *= 1.25;
    if (x + r < 0 || y + r < 0 || x - r > size[0] || y - r > size[1]) continue;
    nodes.push([x, y, r, k, kind]);
  }
  const labels = f.labels.map(b => [b[0], b[1], b[2], b[3], b[4], N.label[b[4]]]);
  return {nodes: nodes, labels: labels, size: size, scale: st.scale};
}"""

# Drawing is antialiased: shapes closer than this many pixels count as touching, not as
# overlapping.
EPS = 0.25


def label_overlaps(labels: list[list[Any]]) -> list[tuple[Any, Any]]:
    """Pairs of label boxes that intersect (touching edges do not)."""
    boxes = sorted(labels, key=lambda b: b[0])
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if b[0] >= a[0] + a[2] - EPS:
                break
            if b[1] < a[1] + a[3] - EPS and a[1] < b[1] + b[3] - EPS:
                pairs.append((a, b))
    return pairs


def _circle_hits_box(cx: float, cy: float, r: float, box: list[Any]) -> bool:
    x, y, w, h = box[:4]
    nx = min(max(cx, x), x + w)
    ny = min(max(cy, y), y + h)
    return math.hypot(cx - nx, cy - ny) < r - EPS


def label_node_overlaps(labels: list[list[Any]], nodes: list[list[Any]]) -> list[tuple]:
    """(label, node) pairs where a label covers part of a node that is not its own."""
    cell = 64.0
    grid: dict[tuple[int, int], list[list[Any]]] = {}
    for node in nodes:
        x, y, r = node[:3]
        for gx in range(math.floor((x - r) / cell), math.floor((x + r) / cell) + 1):
            for gy in range(math.floor((y - r) / cell), math.floor((y + r) / cell) + 1):
                grid.setdefault((gx, gy), []).append(node)
    hits = []
    for label in labels:
        x, y, w, h, own = label[:5]
        seen: set[int] = set()
        for gx in range(math.floor(x / cell), math.floor((x + w) / cell) + 1):
            for gy in range(math.floor(y / cell), math.floor((y + h) / cell) + 1):
                for node in grid.get((gx, gy), ()):
                    k = node[3]
                    if k == own or k in seen:
                        continue
                    seen.add(k)
                    if _circle_hits_box(node[0], node[1], node[2], label):
                        hits.append((label, node))
    return hits


def circle_overlaps(nodes: list[list[Any]]) -> list[tuple[Any, Any]]:
    """Pairs of node circles closer than the sum of their radii."""
    by_x = sorted(nodes, key=lambda n: n[0] - n[2])
    widest = max((n[2] for n in nodes), default=0.0)
    pairs = []
    for i, a in enumerate(by_x):
        for b in by_x[i + 1 :]:
            if b[0] - b[2] > a[0] + a[2] + widest:
                break
            if math.hypot(a[0] - b[0], a[1] - b[1]) < a[2] + b[2] - EPS:
                pairs.append((a, b))
    return pairs


def duplicate_labels(labels: list[list[Any]]) -> dict[str, int]:
    """Label texts drawn more than once, with how often."""
    counts = Counter(str(b[5]) for b in labels)
    return {text: n for text, n in counts.items() if n > 1}


def first_view_figures(page: Any) -> dict[str, Any]:
    """Read what ``page`` (a :class:`support.browser.PageResult`) drew and count the faults."""
    drawn = page.evaluate(DRAWN)
    nodes, labels = drawn["nodes"], drawn["labels"]
    models = [n for n in nodes if n[4] in ("model", 2)]
    radii = [n[2] for n in models]
    return {
        "nodes": len(nodes),
        "labels": len(labels),
        "label_overlaps": len(label_overlaps(labels)),
        "labels_over_nodes": len(label_node_overlaps(labels, nodes)),
        "node_overlaps": len(circle_overlaps(nodes)),
        "duplicate_labels": sum(n - 1 for n in duplicate_labels(labels).values()),
        "model_radius": (round(min(radii), 1), round(max(radii), 1)) if radii else None,
        "drawn": drawn,
    }
