"""Interactive HTML family trees that open offline in any browser.

:func:`export_family_html` draws one family (a model, or every model of an organization,
with everything derived from them) as one self-contained page: vis-network's JavaScript
and CSS, the copy pinned inside pyvis, are inlined, so the file opens with no network.

This module owns the page: checking the options and the output path, turning the drawn
family into the page's data (tooltips, colours, legend), the template, escaping, and
writing the file. Which models are drawn, what is collapsed and where each node sits come
from :mod:`lineage.family_view`; this module must not decide them itself. It fetches
nothing, and never puts text that came from the Hub into the page unescaped.

Design choices, and why:

- **pyvis's assets, our page.** pyvis 0.3.2's own template always loads bootstrap from a
  CDN and puts several of its inputs into the page as raw HTML; its ``add_node`` and
  ``add_edge`` check membership in lists (10k nodes take about 2 s to add, 100k a few
  minutes). So the page is our template (``templates/family.html``) around pyvis's
  vis-network 9.1.2 files, and the nodes are built column-wise here.
- **Physics off.** Positions come from :func:`lineage.family_view.radial_layout`, so the
  browser only draws (about 1 s for 10k nodes) instead of settling a force layout.
- **Safety.** Model data travels as JSON in a ``<script type="application/json">`` block
  with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, and the page builds tooltips from it
  with ``textContent``; vis node ids are integers, never model ids. Titles and legend text
  go through :func:`html.escape`; colours are checked against ``#rrggbb``. A
  Content-Security-Policy lets only the two inlined scripts (by hash) run.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import importlib.util
import json
import math
import os
import re
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

import numpy as np
import polars as pl

from .errors import InputError
from .family_view import (
    RELATIONS,
    FamilyView,
    SummaryGroup,
    collapse,
    family_tops,
    radial_layout,
    select_view,
)
from .output import check_output, write_output
from .regions import attach_regions

__all__ = [
    "COLOR_MODES",
    "ExportSummary",
    "export_family_html",
    "script_json",
]

COLOR_MODES = ("region", "relation", "org")
HUB = "https://huggingface.co/"

RELATION_COLORS = {
    "finetune": "#2f9e44",
    "adapter": "#f08c00",
    "quantized": "#7048e8",
    "merge": "#d6336c",
}
ROOT_COLOR = "#343a40"
REGION_COLORS = {
    "us": "#1c7ed6",
    "china": "#e03131",
    "eu": "#fab005",
    "other": "#0ca678",
    "unknown": "#adb5bd",
}
ORG_PALETTE = (
    "#1c7ed6", "#e03131", "#2f9e44", "#f08c00", "#7048e8", "#0ca678",
    "#d6336c", "#5c940d", "#1098ad", "#862e9c", "#e8590c", "#364fc7",
)  # fmt: skip
OTHER_ORG_COLOR = "#ced4da"
# vis-network dash patterns: [dash, gap, ...]; False is a solid line.
RELATION_DASHES: dict[str, Any] = {
    "finetune": False,
    "adapter": [6, 4],
    "quantized": [2, 3],
    "merge": [10, 3, 2, 3],
}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_TOP_IN_GROUP = 10  # members a summary node's tooltip lists
_VIS = ("pyvis", "templates/lib/vis-9.1.2")


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_family_html` wrote, drew and collapsed."""

    path: Path
    root: str  # as asked
    tops: tuple[str, ...]  # the models the tree starts from
    family: int  # models in the family (within --depth and --relations)
    below_min_downloads: int  # left out by --min-downloads
    connectors: int  # below --min-downloads but kept to connect models that pass
    drawn: int  # model nodes drawn
    summary_nodes: int  # "+N relation" nodes
    collapsed: int  # models inside summary nodes
    collapsed_by_relation: dict[str, int]  # by the relation of each summary node
    largest: tuple[tuple[str, str, int], ...]  # (parent, relation, models), biggest first
    edges: int  # edges drawn
    max_nodes: int
    color: str
    bytes: int
    seconds: float

    @property
    def nodes(self) -> int:
        """Nodes on the page: models plus summary nodes (at most ``max_nodes``)."""
        return self.drawn + self.summary_nodes


def script_json(value: Any) -> str:
    """JSON that is inert inside ``<script>`` and any other HTML context.

    Examples
    --------
    >>> script_json({"id": "</script><b>&"})
    '{"id":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    >>> json.loads(script_json(["a\\u2028b"])) == ["a\\u2028b"]
    True
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# -- the page -------------------------------------------------------------------------------


def _template(name: str) -> str:
    return resources.files("lineage").joinpath("templates", name).read_text(encoding="utf-8")


def _vis_asset(name: str) -> str:
    # Located without importing pyvis, whose import pulls in IPython (0.15 s).
    package, folder = _VIS
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{package} is not installed; it provides vis-network")
    return (Path(spec.submodule_search_locations[0]) / folder / name).read_text(encoding="utf-8")


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _color(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return value


def _hub_url(model_id: str) -> str:
    return HUB + quote(model_id, safe="/-._~")


def _swatch(color: str, shape: str = "dot") -> str:
    c = _color(color)
    if shape == "star":
        body = f'<polygon points="7,1 8.8,5.2 13,5.5 9.8,8.4 10.8,13 7,10.6 3.2,13 4.2,8.4 1,5.5 5.2,5.2" fill="{c}" stroke="#111"/>'  # noqa: E501
    elif shape == "hexagon":
        body = f'<polygon points="7,1 12.2,4 12.2,10 7,13 1.8,10 1.8,4" fill="#f1f3f5" stroke="{c}" stroke-width="2"/>'  # noqa: E501
    else:
        body = f'<circle cx="7" cy="7" r="5.5" fill="{c}" stroke="#0003"/>'
    return (
        '<svg class="sw" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">'
        f"{body}</svg>"
    )


def _line_swatch(color: str, dashes: Any) -> str:
    dash = f' stroke-dasharray="{" ".join(str(int(d)) for d in dashes)}"' if dashes else ""
    return (
        '<svg class="sw line" width="36" height="10" viewBox="0 0 36 10" aria-hidden="true">'
        f'<line x1="1" y1="5" x2="35" y2="5" stroke="{_color(color)}" stroke-width="2"{dash}/>'
        "</svg>"
    )


def _legend(color: str, entries: list[tuple[str, str]], relations: tuple[str, ...]) -> str:
    title = {
        "region": "Node colour: region of the model's organization",
        "relation": "Node colour: relation to its parent",
        "org": "Node colour: organization",
    }[color]
    items = [f"<h2>{html.escape(title)}</h2><ul>"]
    for swatch_color, label in entries:
        items.append(f"<li>{_swatch(swatch_color)}{html.escape(label)}</li>")
    items.append("</ul><h2>Edges: parent to derivative</h2><ul>")
    for relation in relations:
        swatch = _line_swatch(RELATION_COLORS[relation], RELATION_DASHES[relation])
        items.append(f"<li>{swatch}{html.escape(relation)}</li>")
    items.append("</ul><h2>Nodes</h2><ul>")
    items.append(f"<li>{_swatch('#ffffff', 'star')}root of this tree</li>")
    items.append(f"<li>{_swatch('#868e96')}model; size grows with log(downloads)</li>")
    items.append(
        f"<li>{_swatch('#868e96', 'hexagon')}collapsed models: +N of one relation</li></ul>"
    )
    return "".join(items)


def _render(*, title: str, subtitle: str, legend: str, payload: dict[str, Any]) -> str:
    vis_js = _vis_asset("vis-network.min.js")
    vis_css = _vis_asset("vis-network.css")
    app_js = _template("family.js")
    for name, text, closer in (
        ("vis-network.min.js", vis_js, "</script"),
        ("family.js", app_js, "</script"),
        ("vis-network.css", vis_css, "</style"),
    ):
        if closer in text.lower():  # would end its own block early
            raise RuntimeError(f"packaged asset {name} contains {closer}")
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(vis_js)} {_csp_hash(app_js)}; "
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    return Template(_template("family.html")).substitute(
        csp=html.escape(csp),
        title=html.escape(title),
        subtitle=html.escape(subtitle),
        legend=legend,
        vis_css=vis_css,
        vis_js=vis_js,
        app_js=app_js,
        data=script_json(payload),
    )


# -- the export -----------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def export_family_html(
    ctx: Any,
    root: str,
    path: str | os.PathLike[str],
    *,
    depth: int | None = None,
    relations: tuple[str, ...] | list[str] | None = None,
    min_downloads: int | None = None,
    max_nodes: int = 5000,
    color: str = "region",
    title: str | None = None,
) -> ExportSummary:
    """Write an interactive, self-contained HTML family tree of ``root``.

    Parameters
    ----------
    ctx : :class:`lineage.analysis.Context`
        The store's graph, attribution and region table.
    root : str
        A model id (the family is it and everything derived from it) or an organization
        (its models and everything derived from them; the tree starts from those of its
        models not derived from another of its models). Case-insensitive.
    path : path-like
        The HTML file to write (replaced atomically).
    depth : int, optional
        Only models at most this many derivation steps below the root(s).
    relations : sequence of str, optional
        Follow only these relations (finetune, adapter, quantized, merge); default all.
    min_downloads : int, optional
        Only models with more than this many all-time downloads (as ``lineage share``
        counts); models below it that lead to one above it are kept, as connectors.
    max_nodes : int
        At most this many nodes on the page; beyond it, models are collapsed into
        "+N relation" nodes (see :func:`lineage.family_view.collapse`).
    color : {"region", "relation", "org"}
        Node colour: the region of each model's organization, its relation to its parent,
        or its organization.
    title : str, optional
        The page's title [default: "Family tree of ROOT"].

    Returns
    -------
    ExportSummary

    Raises
    ------
    NotInStore
        ``root`` names no model or organization in the store.
    InputError
        A bad option, or ``path`` cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from lineage.analysis import load_context
    >>> from lineage.records import parse_items
    >>> from lineage.store import Store
    >>> folder = tempfile.mkdtemp()
    >>> store = Store(folder + "/store")
    >>> batch, _ = parse_items(
    ...     [{"id": "org/base", "downloadsAllTime": 900},
    ...      {"id": "me/base-GGUF", "tags": ["base_model:quantized:org/base"]}],
    ...     seen_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), source="doctest")
    >>> _ = store.commit(batch)
    >>> summary = export_family_html(load_context(store), "org/base", folder + "/tree.html")
    >>> summary.drawn, summary.edges, summary.collapsed
    (2, 1, 0)
    """
    started = time.perf_counter()
    out = check_output(path)
    if color not in COLOR_MODES:
        raise InputError(f"color must be one of {', '.join(COLOR_MODES)}, not {color!r}")
    chosen = tuple(RELATIONS) if not relations else tuple(dict.fromkeys(relations))
    unknown = [r for r in chosen if r not in RELATIONS]
    if unknown:
        raise InputError(f"unknown relation {unknown[0]!r}: choose from {', '.join(RELATIONS)}")
    if max_nodes < 1:
        raise InputError("--max-nodes must be at least 1")
    if depth is not None and depth < 0:
        raise InputError("--depth must be 0 or more")

    tops, family_name = family_tops(ctx, root)
    view = select_view(ctx, tops, depth=depth, relations=chosen, min_downloads=min_downloads)
    graph_nodes = ctx.graph.nodes
    ids_all = graph_nodes["id"]
    ids = ids_all.gather(view.idx).to_list()
    downloads_all = graph_nodes["downloads_all_time"].fill_null(0).to_numpy()[view.idx]
    drawn, groups = collapse(view, downloads_all, ids, max_nodes)

    models = _model_frame(ctx, view, drawn)
    items_parent, items = _items(view, drawn, groups)
    positions = radial_layout(items_parent)
    payload, legend_entries, org_count = _payload(
        view, groups, models, items, items_parent, positions, color, ids, downloads_all
    )
    kept_edges = view.edges.filter(
        pl.Series(drawn[view.edges["child"].to_numpy()] & drawn[view.edges["parent"].to_numpy()])
    )
    local_to_item = {local: k for k, (kind, local) in enumerate(items) if kind == "model"}
    edge_from = [local_to_item[int(p)] for p in kept_edges["parent"]]
    edge_to = [local_to_item[int(c)] for c in kept_edges["child"]]
    edge_rel = kept_edges["relation"].to_list()
    edge_inf = [bool(v) for v in kept_edges["inferred"]]
    edge_tree = [bool(v) for v in kept_edges["tree"]]
    group_items = [k for k, (kind, _) in enumerate(items) if kind == "group"]
    for k in group_items:
        group = groups[items[k][1]]
        edge_from.append(local_to_item[group.parent])
        edge_to.append(k)
        edge_rel.append(group.relation)
        edge_inf.append(False)
        edge_tree.append(True)
    payload["edges"] = {
        "from": edge_from,
        "to": edge_to,
        "relation": edge_rel,
        "inferred": edge_inf,
        "tree": edge_tree,
    }

    drawn_count = int(drawn.sum())
    collapsed = sum(g.models for g in groups)
    by_relation: dict[str, int] = {}
    for g in groups:
        by_relation[g.relation] = by_relation.get(g.relation, 0) + g.models
    top_ids = [ids[int(t)] for t in np.flatnonzero(view.parent < 0)]
    what = family_name if len(top_ids) == 1 and "/" in family_name else f"{family_name} models"
    page_title = title if title is not None else f"Family tree of {what}"
    filters = []
    if depth is not None:
        filters.append(f"depth ≤ {depth}")
    if set(chosen) != set(RELATIONS):
        filters.append("relations: " + ", ".join(chosen))
    if min_downloads is not None:
        filters.append(f"more than {min_downloads:,} all-time downloads")
    drawn_text = f"{drawn_count:,} models drawn"
    if groups:
        drawn_text += f", {collapsed:,} collapsed into {len(groups):,} +N nodes"
    subtitle = " · ".join(
        [
            f"{len(top_ids):,} root{'s' if len(top_ids) != 1 else ''} and "
            f"{view.idx.size - len(top_ids):,} derivatives",
            drawn_text,
            *filters,
            f"exported {dt.date.today().isoformat()} by lineage",
        ]
    )
    payload["meta"] = {
        "title": page_title,
        "root": family_name,
        "tops": top_ids,
        "hub": HUB,
        "color": color,
        "max_nodes": max_nodes,
        "family": view.family,
        "drawn": drawn_count,
        "collapsed": collapsed,
        "orgs": org_count,
    }
    text = _render(
        title=page_title,
        subtitle=subtitle,
        legend=_legend(color, legend_entries, chosen),
        payload=payload,
    )
    size = write_output(out, text)
    largest = sorted(groups, key=lambda g: (-g.models, ids[g.parent], g.relation))[:5]
    return ExportSummary(
        path=out,
        root=root,
        tops=tuple(top_ids),
        family=view.family,
        below_min_downloads=view.below_min,
        connectors=int(view.connector.sum()),
        drawn=drawn_count,
        summary_nodes=len(groups),
        collapsed=collapsed,
        collapsed_by_relation=dict(sorted(by_relation.items(), key=lambda kv: -kv[1])),
        largest=tuple((ids[g.parent], g.relation, g.models) for g in largest),
        edges=len(edge_from),
        max_nodes=max_nodes,
        color=color,
        bytes=size,
        seconds=time.perf_counter() - started,
    )


def _items(
    view: FamilyView, drawn: np.ndarray, groups: list[SummaryGroup]
) -> tuple[list[int], list[tuple[str, int]]]:
    """Page nodes in layout order: ("model", local) and ("group", group number).

    Children are ordered by relation, so that one relation's derivatives sit together,
    then as in the view; summary nodes follow their siblings.
    """
    rel_rank = {r: k for k, r in enumerate(RELATIONS)}
    m = view.idx.size
    children: list[list[int]] = [[] for _ in range(m)]
    for i in np.flatnonzero(drawn & (view.parent >= 0)):
        children[view.parent[i]].append(int(i))
    group_of: list[list[int]] = [[] for _ in range(m)]
    for g, group in enumerate(groups):
        group_of[group.parent].append(g)
    items: list[tuple[str, int]] = []
    parents: list[int] = []
    position: dict[int, int] = {}
    queue = [int(t) for t in np.flatnonzero(view.parent < 0)]
    for t in queue:
        position[t] = len(items)
        items.append(("model", t))
        parents.append(-1)
    head = 0
    while head < len(queue):
        node = queue[head]
        head += 1
        for c in sorted(children[node], key=lambda c: (rel_rank.get(view.relation[c], 9), c)):
            position[c] = len(items)
            items.append(("model", c))
            parents.append(position[node])
            queue.append(c)
        for g in group_of[node]:
            items.append(("group", g))
            parents.append(position[node])
    return parents, items


def _model_frame(ctx: Any, view: FamilyView, drawn: np.ndarray) -> pl.DataFrame:
    """Per drawn model: graph columns, card fields, region, roots and parents not drawn."""
    graph = ctx.graph
    local = np.flatnonzero(drawn)
    frame = graph.nodes.select(pl.all().gather(view.idx[local])).with_columns(
        pl.Series("local", local)
    )
    card = (
        ctx.store.scan("models")
        .select("id", "pipeline_tag", "library_name")
        .join(frame.lazy().select("id"), on="id", how="semi")
        .collect()
    )
    roots = ctx.attribution.derivatives.select("idx", pl.col("roots").alias("root_families"))
    drawn_idx = pl.DataFrame({"idx": view.idx[local]}, schema={"idx": pl.UInt32})
    elsewhere = (
        graph.edges.join(drawn_idx, left_on="child", right_on="idx", how="semi")
        .join(drawn_idx, left_on="parent", right_on="idx", how="anti")
        .sort("child", "position")
        .join(
            graph.nodes.select(pl.col("idx").alias("parent"), pl.col("id").alias("pid")),
            on="parent",
        )
        .group_by("child", maintain_order=True)
        .agg(pl.col("pid").alias("parents_not_drawn"))
    )
    frame = (
        frame.join(card, on="id", how="left")
        .join(roots, on="idx", how="left")
        .join(elsewhere, left_on="idx", right_on="child", how="left")
    )
    return attach_regions(frame, ctx.regions, org="org", region="region").sort("local")


def _size_for(downloads: int | None) -> float:
    return round(6 + 3 * math.log10(1 + max(0, downloads or 0)), 1)


def _payload(
    view: FamilyView,
    groups: list[SummaryGroup],
    models: pl.DataFrame,
    items: list[tuple[str, int]],
    items_parent: list[int],
    positions: list[tuple[float, float]],
    color: str,
    ids: list[str],
    downloads: np.ndarray,
) -> tuple[dict[str, Any], list[tuple[str, str]], int]:
    """The page's data (columns, one entry per node) and the legend's colour entries."""
    rows = {int(r["local"]): r for r in models.iter_rows(named=True)}
    n = len(items)
    cols: dict[str, list[Any]] = {
        key: [None] * n
        for key in (
            "id", "kind", "label", "x", "y", "size", "color", "status", "relation",
            "inferred", "parent", "created", "downloads", "downloads_all_time", "likes",
            "org", "region", "pipeline", "library", "roots", "parents_not_drawn",
            "connector", "url", "group",
        )
    }  # fmt: skip
    org_counts: dict[str, int] = {}
    for r in rows.values():
        if r["org"] is not None:
            org_counts[r["org"]] = org_counts.get(r["org"], 0) + 1
    top_orgs = sorted(org_counts, key=lambda o: (-org_counts[o], o))[: len(ORG_PALETTE)]
    org_color = dict(zip(top_orgs, ORG_PALETTE, strict=False))
    used: set[str] = set()
    extent = max((max(abs(x), abs(y)) for x, y in positions), default=0.0)
    for k, (kind, ref) in enumerate(items):
        cols["x"][k], cols["y"][k] = positions[k]
        parent_item = items_parent[k]
        cols["parent"][k] = parent_item if parent_item >= 0 else None
        if kind == "group":
            group = groups[ref]
            members = sorted(group.members, key=lambda i: (-int(downloads[i]), ids[i]))
            cols["id"][k] = None
            cols["kind"][k] = "group"
            cols["label"][k] = f"+{group.models:,} {group.relation}"
            cols["size"][k] = round(12 + 4 * math.log10(1 + group.models), 1)
            cols["color"][k] = _color(RELATION_COLORS[group.relation])
            cols["relation"][k] = group.relation
            cols["group"][k] = {
                "parent": ids[group.parent],
                "children": len(group.members),
                "models": group.models,
                "top": [
                    [ids[i], int(downloads[i]), _hub_url(ids[i])] for i in members[:_TOP_IN_GROUP]
                ],
            }
            continue
        r = rows[ref]
        top = view.parent[ref] < 0
        status = r["status"]
        cols["id"][k] = r["id"]
        cols["kind"][k] = "root" if top else "model"
        cols["label"][k] = r["id"] if top else r["id"].rsplit("/", 1)[-1]
        size = _size_for(r["downloads_all_time"])
        cols["size"][k] = max(30.0, size + 8) if top else size
        cols["status"][k] = status
        cols["relation"][k] = view.relation[ref]
        cols["inferred"][k] = bool(view.inferred[ref]) if not top else None
        cols["created"][k] = r["created_at"].date().isoformat() if r["created_at"] else None
        cols["downloads"][k] = _int(r["downloads"])
        cols["downloads_all_time"][k] = _int(r["downloads_all_time"])
        cols["likes"][k] = _int(r["likes"])
        cols["org"][k] = r["org"]
        cols["region"][k] = r["region"]
        cols["pipeline"][k] = r["pipeline_tag"]
        cols["library"][k] = r["library_name"]
        cols["roots"][k] = list(r["root_families"]) if r["root_families"] else None
        cols["parents_not_drawn"][k] = (
            list(r["parents_not_drawn"]) if r["parents_not_drawn"] else None
        )
        cols["connector"][k] = bool(view.connector[ref])
        cols["url"][k] = _hub_url(r["id"]) if status in ("crawled", "not_crawled") else None
        if color == "region":
            key = r["region"]
            node_color = REGION_COLORS[key]
        elif color == "relation":
            key = "root" if top else view.relation[ref]
            node_color = ROOT_COLOR if top else RELATION_COLORS[key]
        else:
            key = r["org"] if r["org"] in org_color else "other"
            node_color = org_color.get(r["org"], OTHER_ORG_COLOR)
        used.add(key)
        cols["color"][k] = _color(node_color)
    # Root labels must stay legible when a big tree is zoomed out to fit the window.
    root_font = max(28, round(extent / 25))
    if color == "region":
        entries = [(REGION_COLORS[g], g) for g in REGION_COLORS if g in used]
    elif color == "relation":
        entries = [(ROOT_COLOR, "root")] if "root" in used else []
        entries += [(RELATION_COLORS[g], g) for g in RELATIONS if g in used]
    else:
        entries = [(org_color[o], o) for o in top_orgs if o in used]
        if "other" in used:
            entries.append((OTHER_ORG_COLOR, "other organizations"))
    payload = {
        "nodes": cols,
        "style": {
            "relation_colors": RELATION_COLORS,
            "relation_dashes": RELATION_DASHES,
            "root_font": root_font,
        },
    }
    return payload, entries, len(org_counts)
