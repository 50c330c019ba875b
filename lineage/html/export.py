"""Interactive HTML family trees that open offline in any browser.

:func:`export_family_html` draws one family (a model, or every model of an organization,
with everything derived from them) as one self-contained page: its own drawing script,
its styles and its data are inlined, so the file opens with no network.

This module owns the page: checking the options and the output path, turning the drawn
family into the page's data (details, colours, label priorities, the month each model
appeared, the running counts, the legend), the template, escaping, and writing the file.
Which models are drawn, what is collapsed and where each node sits come from
:mod:`lineage.html.family_view`; this module must not decide them itself. It fetches nothing,
and never puts text that came from the Hub into the page unescaped.

Design choices, and why:

- **Our own canvas renderer, not vis-network.** What makes a big tree readable changes
  with every frame: which labels fit without overlapping at this zoom, which models
  existed at the slider's month, what is dimmed around the focused model. vis-network
  (the copy pinned in pyvis, which this page used before) draws every label it has and
  can only change a node's look through its DataSet, rebuilding thousands of node objects
  per slider step; and its 690 KB of JavaScript and CSS went into every file. The page's
  script (``templates/family.js``, about 1,100 lines, no dependencies) draws the laid-out
  nodes and edges on one canvas, draws a sub-family as one disk until its models would be
  9 px apart, places labels greedily by importance in screen space (none over another
  label or over a node not its own, none saying what another says; more fit as you zoom
  in), and exposes what it drew so that the browser tests can check it.
- **Sizes in pixels.** A model's dot is 2.5-9 px by its downloads (:data:`MODEL_PX`),
  whatever the tree's size: a 3-model tree is not drawn with dots a third of the canvas
  wide, nor a 2,000-model one with specks. The layout's spacing gives every dot its room.
- **Labels that name one model.** A model is labelled by its name, or by its whole id
  where another model of the page has the same name (`bartowski/...-GGUF` and
  `mradermacher/...-GGUF`).
- **Positions computed here.** :func:`lineage.html.family_view.forest_layout`: the browser only
  draws (well under a second for 5,000 nodes) instead of settling a force layout.
- **Time in the data.** Each node carries its creation month, each "+N" node the months
  of the models inside it, and the page the running counts by relation and by builder
  region, so the month slider needs no recomputation of the tree.
- **Safety.** Model data travels as JSON in a ``<script type="application/json">`` block
  with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, and the page shows it with
  ``textContent`` or canvas text only; node references are integers, never model ids.
  Titles and legend text go through :func:`html.escape`; colours are checked against
  ``#rrggbb``. A Content-Security-Policy lets only the page's one inlined script (by hash)
  run.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import math
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import numpy as np
import polars as pl

from ..checks import check_choice
from ..errors import InputError
from ..output import check_output, write_output
from ..regions import attach_regions, region_of
from ..vocabulary import COLOR_MODES, RELATION_ORDER, ColorMode
from .family_view import (
    SPACING,
    FamilyView,
    Layout,
    SummaryGroup,
    collapse,
    collapsed_into,
    descendants_by_relation,
    family_tops,
    forest_layout,
    select_view,
)

if TYPE_CHECKING:
    from ..analysis import Context

__all__ = [
    "COLOR_MODES",
    "ExportSummary",
    "export_family_html",
    "script_json",
]

HUB = "https://huggingface.co/"

RELATION_COLORS = {
    "finetune": "#2f9e44",
    "adapter": "#f08c00",
    "quantized": "#7048e8",
    "merge": "#d6336c",
}
ROOT_COLOR = "#343a40"
INFERRED_LINEAGE_COLOR = "#868e96"
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
# Canvas dash patterns: [dash, gap, ...]; an empty list is a solid line.
RELATION_DASHES: dict[str, list[float]] = {
    "finetune": [],
    "adapter": [6, 4],
    "quantized": [2, 3],
    "merge": [10, 3, 2, 3],
}
INFERRED_LINEAGE_DASHES = [1, 4]
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_TOP_IN_GROUP = 10  # members a summary node's card lists


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
    months: tuple[str, ...] = ()  # the slider's months, YYYY-MM, first to last
    organization: str | None = None  # drawn at the centre, its families around it

    @property
    def nodes(self) -> int:
        """Nodes on the page: models, summary nodes and the organization (at most
        ``max_nodes``)."""
        return self.drawn + self.summary_nodes + (1 if self.organization else 0)


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
    elif shape == "disk":
        body = (
            f'<circle cx="7" cy="7" r="5.5" fill="{c}" fill-opacity=".3" stroke="#2f9e44" '
            'stroke-width="2" stroke-dasharray="20 15"/>'
            '<circle cx="7" cy="7" r="5.5" fill="none" stroke="#f08c00" stroke-width="2" '
            'stroke-dasharray="0 20 15 0"/>'
        )
    elif shape == "ring":
        body = f'<circle cx="7" cy="7" r="5" fill="#fff" stroke="{c}" stroke-width="2.5"/>'
    else:
        body = f'<circle cx="7" cy="7" r="5.5" fill="{c}" stroke="#0003"/>'
    return (
        '<svg class="sw" width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">'
        f"{body}</svg>"
    )


def _line_swatch(color: str, dashes: Sequence[float]) -> str:
    dash = f' stroke-dasharray="{" ".join(str(int(d)) for d in dashes)}"' if dashes else ""
    return (
        '<svg class="sw line" width="36" height="10" viewBox="0 0 36 10" aria-hidden="true">'
        f'<line x1="1" y1="5" x2="35" y2="5" stroke="{_color(color)}" stroke-width="2"{dash}/>'
        "</svg>"
    )


def _legend(
    color: str,
    entries: list[tuple[str, str]],
    relations: tuple[str, ...],
    *,
    organization: bool,
    inferred_lineage: bool,
) -> str:
    title = {
        "region": "Node colour: region of the model's organization",
        "relation": "Node colour: relation to its parent",
        "org": "Node colour: organization",
    }[color]
    items = [f"<h2>{html.escape(title)}</h2><ul>"]
    for swatch_color, label in entries:
        items.append(f"<li>{_swatch(swatch_color)}{html.escape(label)}</li>")
    items.append("</ul><h2>Edges: parent to derivative, outwards</h2><ul>")
    for relation in relations:
        swatch = _line_swatch(RELATION_COLORS[relation], RELATION_DASHES[relation])
        items.append(f"<li>{swatch}{html.escape(relation)}</li>")
    if inferred_lineage:
        swatch = _line_swatch(INFERRED_LINEAGE_COLOR, INFERRED_LINEAGE_DASHES)
        items.append(f"<li>{swatch}inferred lineage (no parent declared)</li>")
    items.append("</ul><h2>Nodes</h2><ul>")
    if organization:
        items.append(
            f"<li>{_swatch(ROOT_COLOR, 'ring')}the organization; its models' families "
            "around it, oldest nearest</li>"
        )
    items.append(f"<li>{_swatch('#ffffff', 'star')}root of this tree</li>")
    items.append(f"<li>{_swatch('#868e96')}model; size grows with log(downloads)</li>")
    items.append(
        f"<li>{_swatch('#868e96', 'disk')}a sub-family (a model and those built on it) as one "
        "disk until there is room to open it: its area the models it holds, its rim what "
        "they are, by relation</li>"
    )
    items.append(
        f"<li>{_swatch('#868e96', 'hexagon')}collapsed models: +N of one relation, the area "
        "of the models inside</li></ul>"
    )
    return "".join(items)


def _render(*, title: str, subtitle: str, legend: str, payload: dict[str, Any]) -> str:
    app_js = _template("family.js")
    if "</script" in app_js.lower():  # would end its own block early
        raise RuntimeError("packaged asset family.js contains </script")
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(app_js)}; "
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    return Template(_template("family.html")).substitute(
        csp=html.escape(csp),
        title=html.escape(title),
        subtitle=html.escape(subtitle),
        legend=legend,
        app_js=app_js,
        data=script_json(payload),
    )


# -- the export -----------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def export_family_html(
    ctx: Context,
    root: str,
    path: str | os.PathLike[str],
    *,
    depth: int | None = None,
    relations: tuple[str, ...] | list[str] | None = None,
    min_downloads: int | None = None,
    max_nodes: int = 5000,
    color: ColorMode = "region",
    title: str | None = None,
) -> ExportSummary:
    """Write an interactive, self-contained HTML family tree of ``root``.

    The page draws the family laid out by :func:`lineage.html.family_view.forest_layout` (an
    organization's models each with their family in a disk of their own, around the
    organization, oldest nearest), labels as many models as fit without overlapping (the
    biggest families first; more as you zoom in; any model on hover), and has a month
    slider that shows the family as it stood at the end of each month, a search box, a
    focus mode (a model's path to its root and everything below it) and a details panel.

    Parameters
    ----------
    ctx : :class:`lineage.analysis.Context`
        The store's graph, attribution and region table. Edges of inferred lineage (a
        context loaded with ``lineage="both"``, see
        :func:`lineage.html.family_view.lineage_columns`) are drawn dotted grey and said so in
        the details.
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
        "+N relation" nodes (see :func:`lineage.html.family_view.collapse`).
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
    ...     [{"id": "org/base", "downloadsAllTime": 900, "createdAt": "2025-01-05T00:00:00Z"},
    ...      {"id": "me/base-GGUF", "tags": ["base_model:quantized:org/base"],
    ...       "createdAt": "2025-03-01T00:00:00Z"}],
    ...     seen_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), source="doctest")
    >>> _ = store.commit(batch)
    >>> summary = export_family_html(load_context(store), "org/base", folder + "/tree.html")
    >>> summary.drawn, summary.edges, summary.collapsed, summary.months
    (2, 1, 0, ('2025-01', '2025-02', '2025-03'))
    """
    started = time.perf_counter()
    out = check_output(path)
    check_choice("color", color, COLOR_MODES)
    chosen = tuple(RELATION_ORDER) if not relations else tuple(dict.fromkeys(relations))
    unknown = [r for r in chosen if r not in RELATION_ORDER]
    if unknown:
        raise InputError(
            f"unknown relation {unknown[0]!r}: choose from {', '.join(RELATION_ORDER)}"
        )
    if max_nodes < 1:
        raise InputError("{max_nodes} must be at least 1", params=("max_nodes",), value=max_nodes)
    if depth is not None and depth < 0:
        raise InputError("{depth} must be 0 or more", params=("depth",), value=depth)

    tops, family_name = family_tops(ctx, root)
    view = select_view(ctx, tops, depth=depth, relations=chosen, min_downloads=min_downloads)
    graph_nodes = ctx.graph.nodes
    ids = graph_nodes["id"].gather(view.idx).to_list()
    downloads_all = graph_nodes["downloads_all_time"].fill_null(0).to_numpy()[view.idx]
    # An organization's page has one node more: the organization, its families around it.
    organization = family_name if "/" not in family_name and len(tops) > 1 else None
    drawn, groups = collapse(view, downloads_all, ids, max_nodes, reserved=1 if organization else 0)

    family = _family_frame(ctx, view)
    models = _model_frame(ctx, view, drawn)
    items_parent, items = _items(view, drawn, groups, family["created_s"].to_numpy())
    rel_rank: dict[str | None, int] = {r: j for j, r in enumerate(RELATION_ORDER)}
    layout = forest_layout(
        items_parent,
        models=[groups[ref].models if kind == "group" else 1 for kind, ref in items],
        summary=[kind == "group" for kind, _ in items],
        ring_order=[
            rel_rank.get(groups[ref].relation if kind == "group" else view.relation[ref], 9)
            for kind, ref in items
        ],
    )
    owner = collapsed_into(view, drawn, groups)
    timeline = _timeline(view, family, owner, len(groups))
    timeline["below"] = _below_by_month(view, items, items_parent, owner, timeline)
    top_ids = [ids[ref] for kind, ref in items if kind == "model" and view.parent[ref] < 0]
    org_region = region_of(ctx.regions, [organization])[0] if organization else None
    payload, legend_entries, org_count = _payload(
        view,
        groups,
        models,
        items,
        items_parent,
        layout,
        color,
        ids,
        downloads_all,
        descendants_by_relation(view),
        timeline,
        organization,
        org_region,
    )
    kept_edges = view.edges.filter(
        pl.Series(drawn[view.edges["child"].to_numpy()] & drawn[view.edges["parent"].to_numpy()])
    )
    local_to_item = {local: k for k, (kind, local) in enumerate(items) if kind == "model"}
    edge_from = [local_to_item[int(p)] for p in kept_edges["parent"]]
    edge_to = [local_to_item[int(c)] for c in kept_edges["child"]]
    edge_rel = kept_edges["relation"].to_list()
    edge_inf = [bool(v) for v in kept_edges["inferred"]]
    edge_lineage = [bool(v) for v in kept_edges["inferred_lineage"]]
    edge_tree = [bool(v) for v in kept_edges["tree"]]
    group_items = [k for k, (kind, _) in enumerate(items) if kind == "group"]
    for k in group_items:
        group = groups[items[k][1]]
        edge_from.append(local_to_item[group.parent])
        edge_to.append(k)
        edge_rel.append(group.relation)
        edge_inf.append(False)
        edge_lineage.append(False)
        edge_tree.append(True)
    payload["hidden"] = _hidden_index(ids, owner, drawn, items)
    payload["edges"] = {
        "from": edge_from,
        "to": edge_to,
        "relation": edge_rel,
        "inferred": edge_inf,
        "lineage": edge_lineage,
        "tree": edge_tree,
    }

    drawn_count = int(drawn.sum())
    collapsed = sum(g.models for g in groups)
    by_relation: dict[str, int] = {}
    for g in groups:
        by_relation[g.relation] = by_relation.get(g.relation, 0) + g.models
    what = family_name if len(top_ids) == 1 and "/" in family_name else f"{family_name} models"
    page_title = title if title is not None else f"Family tree of {what}"
    filters = []
    if depth is not None:
        filters.append(f"depth ≤ {depth}")
    if set(chosen) != set(RELATION_ORDER):
        filters.append("relations: " + ", ".join(chosen))
    if min_downloads is not None:
        filters.append(f"more than {min_downloads:,} all-time downloads")
    drawn_text = f"{drawn_count:,} models drawn"
    if groups:
        drawn_text += f", {collapsed:,} collapsed into {len(groups):,} +N nodes"
    months = timeline["months"]
    subtitle = " · ".join(
        [
            f"{len(top_ids):,} root{'s' if len(top_ids) != 1 else ''} and "
            f"{view.idx.size - len(top_ids):,} derivatives"
            + (f", created {months[0]} to {months[-1]}" if months else ""),
            drawn_text,
            *filters,
            f"exported {dt.date.today().isoformat()} by lineage",
        ]
    )
    payload["meta"] = {
        "title": page_title,
        "root": family_name,
        "tops": top_ids,
        "organization": organization,
        "hub": HUB,
        "color": color,
        "max_nodes": max_nodes,
        "family": view.family,
        "models": int(view.idx.size),
        "drawn": drawn_count,
        "collapsed": collapsed,
        "orgs": org_count,
        "months": months,
        "undated": timeline["undated"],
        "counts": timeline["counts"],
    }
    text = _render(
        title=page_title,
        subtitle=subtitle,
        legend=_legend(
            color,
            legend_entries,
            chosen,
            organization=organization is not None,
            inferred_lineage=any(edge_lineage),
        ),
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
        months=tuple(months),
        organization=organization,
    )


def _items(
    view: FamilyView, drawn: np.ndarray, groups: list[SummaryGroup], created: np.ndarray
) -> tuple[list[int], list[tuple[str, int]]]:
    """Page nodes in layout order: ("model", local) and ("group", group number).

    Parents come before their children (breadth first). The tops come by creation date,
    and so do each model's children and summary nodes (a summary node by its oldest
    model; undated last, then by relation): the layout packs them in this order, so the
    oldest sit nearest their parent and a family grows outwards, like the rings of a tree.
    """
    rel_rank: dict[str | None, int] = {r: k for k, r in enumerate(RELATION_ORDER)}
    m = view.idx.size
    when = np.where(np.isnan(created), np.inf, created)
    children: list[list[tuple[str, int]]] = [[] for _ in range(m)]
    for i in np.flatnonzero(drawn & (view.parent >= 0)):
        children[view.parent[i]].append(("model", int(i)))
    for g, group in enumerate(groups):
        children[group.parent].append(("group", g))

    def order(entry: tuple[str, int]) -> tuple[float, int, int, int]:
        kind, ref = entry
        if kind == "group":
            group = groups[ref]
            return (float(when[group.members].min()), rel_rank.get(group.relation, 9), 1, ref)
        return (float(when[ref]), rel_rank.get(view.relation[ref], 9), 0, ref)

    items: list[tuple[str, int]] = []
    parents: list[int] = []
    tops = sorted((("model", int(t)) for t in np.flatnonzero(view.parent < 0)), key=order)
    queue: list[tuple[tuple[str, int], int]] = [(t, -1) for t in tops]
    head = 0
    while head < len(queue):
        entry, parent = queue[head]
        head += 1
        position = len(items)
        items.append(entry)
        parents.append(parent)
        if entry[0] == "model":
            queue.extend((c, position) for c in sorted(children[entry[1]], key=order))
    return parents, items


def _family_frame(ctx: Context, view: FamilyView) -> pl.DataFrame:
    """Per model of the view (in local order): org, builder region, creation time."""
    frame = (
        pl.DataFrame({"idx": view.idx}, schema={"idx": pl.UInt32})
        .with_row_index("local")
        .join(ctx.graph.nodes.select("idx", "org", "created_at"), on="idx", how="left")
    )
    frame = attach_regions(frame, ctx.regions, org="org", region="region").sort("local")
    return frame.with_columns(
        pl.col("created_at")
        .dt.epoch("s")
        .cast(pl.Float64)
        .fill_null(float("nan"))
        .alias("created_s")
    )


def _timeline(
    view: FamilyView, family: pl.DataFrame, owner: np.ndarray, group_count: int
) -> dict[str, Any]:
    """The slider's months, each model's month, running counts, and each group's months.

    A model appears in the month it was created (UTC); one without a date (a parent known
    only by its id) counts from the first month. Counts are cumulative: at month t, the
    models created up to the end of it, by relation to the tree parent ("root" for the
    tops) and by the region of the model's own organization (its builder).
    """
    stamp = family["created_at"]
    number = stamp.dt.year().cast(pl.Int64) * 12 + stamp.dt.month().cast(pl.Int64) - 1
    m = view.idx.size
    undated = int(number.null_count())
    if undated == m:
        return {
            "months": [],
            "index": [None] * m,
            "undated": undated,
            "counts": {},
            "groups": [[] for _ in range(group_count)],
        }
    start, end = int(cast(int, number.min())), int(cast(int, number.max()))
    span = end - start + 1
    months = [f"{(start + t) // 12:04d}-{(start + t) % 12 + 1:02d}" for t in range(span)]
    index = (number - start).to_list()
    at = (number - start).fill_null(0).to_numpy().astype(np.int64)

    def running(mask: np.ndarray) -> list[int]:
        return np.cumsum(np.bincount(at[mask], minlength=span)).tolist()

    relation = np.array(
        [
            "root" if p < 0 else (r or "finetune")
            for p, r in zip(view.parent, view.relation, strict=True)
        ],
        dtype=object,
    )
    region = family["region"].to_numpy().astype(object)
    counts = {
        "total": running(np.ones(m, dtype=bool)),
        "relation": {
            key: running(relation == key)
            for key in ("root", *RELATION_ORDER)
            if (relation == key).any()
        },
        "region": {key: running(region == key) for key in REGION_COLORS if (region == key).any()},
    }
    group_months: list[list[list[int]]] = [[] for _ in range(group_count)]
    inside = owner >= 0
    if inside.any():
        table = (
            pl.DataFrame({"g": owner[inside], "t": at[inside]})
            .group_by("g", "t")
            .len()
            .sort("g", "t")
            .with_columns(pl.col("len").cum_sum().over("g").alias("running"))
        )
        for g, t, total in table.select("g", "t", "running").iter_rows():
            group_months[g].append([t, total])
    return {
        "months": months,
        "index": index,
        "undated": undated,
        "counts": counts,
        "groups": group_months,
    }


def _below_by_month(
    view: FamilyView,
    items: list[tuple[str, int]],
    items_parent: list[int],
    owner: np.ndarray,
    timeline: dict[str, Any],
) -> list[list[list[int]] | None]:
    """Per page node with nodes below it: [month, models at or below it by then] pairs,
    at each month the count changes (the models inside its "+N" nodes included); None for
    the others. The page draws a sub-family shown as one disk with the area of the models
    it had at the slider's month."""
    span = len(timeline["months"])
    n = len(items)
    if not span:
        return [None] * n
    at = np.array([t if t is not None else 0 for t in timeline["index"]], dtype=np.int64)
    counts = np.zeros((n, span), dtype=np.int64)
    group_item = {ref: k for k, (kind, ref) in enumerate(items) if kind == "group"}
    for k, (kind, ref) in enumerate(items):
        if kind == "model":
            counts[k, at[ref]] += 1
    inside = np.flatnonzero(owner >= 0)
    if inside.size:
        rows = np.array([group_item[int(g)] for g in owner[inside]], dtype=np.int64)
        np.add.at(counts, (rows, at[inside]), 1)
    has_below = np.zeros(n, dtype=bool)
    for k in range(n - 1, 0, -1):  # children after their parents
        p = items_parent[k]
        if p >= 0:
            counts[p] += counts[k]
            has_below[p] = True
    running = np.cumsum(counts, axis=1)
    out: list[list[list[int]] | None] = []
    for k in range(n):
        if not has_below[k]:
            out.append(None)
            continue
        row = running[k]
        changes = np.flatnonzero(np.diff(row, prepend=0))
        out.append([[int(t), int(row[t])] for t in changes])
    return out


def _hidden_index(
    ids: list[str], owner: np.ndarray, drawn: np.ndarray, items: list[tuple[str, int]]
) -> dict[str, Any]:
    """The models inside "+N" nodes, for the page's search: their ids, one per line (by
    id), and the page node each is inside."""
    group_item = {ref: k for k, (kind, ref) in enumerate(items) if kind == "group"}
    inside = [int(i) for i in np.flatnonzero((owner >= 0) & ~drawn)]
    inside.sort(key=lambda i: ids[i].lower())
    return {
        "ids": "\n".join(ids[i].replace("\n", " ") for i in inside),
        "node": [group_item[int(owner[i])] for i in inside],
    }


def _model_frame(ctx: Context, view: FamilyView, drawn: np.ndarray) -> pl.DataFrame:
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


#: A model's dot on the page: its radius in screen pixels grows with log(downloads) from
#: MODEL_PX[0] to MODEL_PX[1] (1 to 100k+ all-time downloads), whatever the tree's size
#: or the zoom; the page draws it smaller only where its neighbours are closer (never
#: under 2 px in a first view). Roots are drawn as stars of ROOT_PX.
MODEL_PX = (2.5, 9.0)
ROOT_PX = 11.0


def _size_for(downloads: int | None) -> float:
    """The radius in pixels a model's dot is drawn with, room permitting."""
    grow = 1.3 * math.log10(1 + max(0, downloads or 0))
    return round(min(MODEL_PX[1], MODEL_PX[0] + grow), 1)


def _distinct_labels(names: dict[int, str], ids: dict[int, str]) -> dict[int, str]:
    """Labels for models: the name, or the whole id where two models share a name.

    Examples
    --------
    >>> ids = {0: "a/m-GGUF", 1: "b/M-gguf", 2: "c/x"}
    >>> _distinct_labels({k: i.split("/")[1] for k, i in ids.items()}, ids)
    {0: 'a/m-GGUF', 1: 'b/M-gguf', 2: 'x'}
    """
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name.lower()] = seen.get(name.lower(), 0) + 1
    return {k: ids[k] if seen[name.lower()] > 1 else name for k, name in names.items()}


_NODE_COLUMNS = (
    "id", "kind", "label", "x", "y", "size", "disk", "room", "below", "color", "status",
    "relation", "inferred",
    "lineage", "confidence", "parent", "created", "month", "downloads", "downloads_all_time",
    "likes", "org", "region", "pipeline", "library", "roots", "parents_not_drawn",
    "connector", "url", "group", "desc", "rank",
)  # fmt: skip


def _payload(
    view: FamilyView,
    groups: list[SummaryGroup],
    models: pl.DataFrame,
    items: list[tuple[str, int]],
    items_parent: list[int],
    layout: Layout,
    color: str,
    ids: list[str],
    downloads: np.ndarray,
    desc: np.ndarray,
    timeline: dict[str, Any],
    organization: str | None,
    org_region: str | None,
) -> tuple[dict[str, Any], list[tuple[str, str]], int]:
    """The page's data (columns, one entry per node) and the legend's colour entries.

    With ``organization``, one more node comes last: the organization, at the centre.
    """
    rows = {int(r["local"]): r for r in models.iter_rows(named=True)}
    n = len(items) + (1 if organization else 0)
    cols: dict[str, list[Any]] = {key: [None] * n for key in _NODE_COLUMNS}
    org_counts: dict[str, int] = {}
    for r in rows.values():
        if r["org"] is not None:
            org_counts[r["org"]] = org_counts.get(r["org"], 0) + 1
    top_orgs = sorted(org_counts, key=lambda o: (-org_counts[o], o))[: len(ORG_PALETTE)]
    org_color = dict(zip(top_orgs, ORG_PALETTE, strict=False))
    used: set[str] = set()
    month_of = timeline["index"]
    weight = [0] * n  # what a label is worth: the models at or below the node
    for k, (kind, ref) in enumerate(items):
        cols["x"][k], cols["y"][k] = layout.positions[k]
        disk = layout.disk[k]
        cols["disk"][k] = list(disk) if disk else None
        cols["room"][k] = layout.room[k]
        cols["below"][k] = timeline["below"][k]
        parent_item = items_parent[k]
        cols["parent"][k] = parent_item if parent_item >= 0 else None
        if kind == "group":
            group = groups[ref]
            members = sorted(group.members, key=lambda i: (-int(downloads[i]), ids[i]))
            months = timeline["groups"][ref]
            cols["kind"][k] = "group"
            cols["label"][k] = f"+{group.models:,} {group.relation}"
            cols["size"][k] = None
            cols["color"][k] = _color(RELATION_COLORS[group.relation])
            cols["relation"][k] = group.relation
            cols["month"][k] = months[0][0] if months else None
            cols["group"][k] = {
                "parent": ids[group.parent],
                "children": len(group.members),
                "models": group.models,
                "top": [
                    [ids[i], int(downloads[i]), _hub_url(ids[i])] for i in members[:_TOP_IN_GROUP]
                ],
                "months": months,
            }
            weight[k] = group.models
            continue
        r = rows[ref]
        top = view.parent[ref] < 0
        status = r["status"]
        cols["id"][k] = r["id"]
        cols["kind"][k] = "root" if top else "model"
        name = r["id"].rsplit("/", 1)[-1]
        in_org = organization is not None and r["org"] == organization
        cols["label"][k] = (name if in_org else r["id"]) if top else name
        cols["size"][k] = ROOT_PX if top else _size_for(r["downloads_all_time"])
        cols["status"][k] = status
        cols["relation"][k] = view.relation[ref]
        cols["inferred"][k] = bool(view.inferred[ref]) if not top else None
        cols["lineage"][k] = view.lineage[ref] if not top else None
        cols["confidence"][k] = view.confidence[ref] if not top else None
        cols["created"][k] = r["created_at"].date().isoformat() if r["created_at"] else None
        cols["month"][k] = month_of[ref]
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
        cols["desc"][k] = desc[ref].tolist()
        weight[k] = int(desc[ref].sum()) + 1
        if color == "region":
            key = r["region"]
            node_color = REGION_COLORS[key]
        elif color == "relation":
            key = "root" if top else cast(str, view.relation[ref])  # set below the tops
            node_color = ROOT_COLOR if top else RELATION_COLORS[key]
        else:
            key = r["org"] if r["org"] in org_color else "other"
            node_color = org_color.get(r["org"], OTHER_ORG_COLOR)
        used.add(key)
        cols["color"][k] = _color(node_color)
    # Two models never carry one label: where names collide, the whole id.
    plain = {k: cols["label"][k] for k, (kind, _) in enumerate(items) if kind == "model"}
    for k, label in _distinct_labels(plain, {k: cols["id"][k] for k in plain}).items():
        cols["label"][k] = label
    tops = [k for k, (kind, ref) in enumerate(items) if kind == "model" and view.parent[ref] < 0]
    if organization is not None:
        k = n - 1
        cols["id"][k] = organization
        cols["kind"][k] = "org"
        cols["label"][k] = organization
        cols["x"][k], cols["y"][k] = 0.0, 0.0
        cols["size"][k] = 14.0
        cols["room"][k] = layout.centre[2] if layout.centre else 90.0
        cols["color"][k] = _color(REGION_COLORS.get(org_region or "unknown", ROOT_COLOR))
        cols["org"][k] = organization
        cols["region"][k] = org_region
        cols["url"][k] = _hub_url(organization)
        cols["desc"][k] = np.sum([desc[items[t][1]] for t in tops], axis=0).tolist()
        weight[k] = sum(weight[t] for t in tops) + 1
    # Label priority: the organization, then the biggest families and subtrees (a root's
    # family counts double: a family matters more than a branch of the same size); ties
    # by all-time downloads.
    all_time = [cols["downloads_all_time"][k] or 0 for k in range(n)]
    boost = {"org": math.inf, "root": 2}
    order = sorted(
        range(n),
        key=lambda k: (-weight[k] * boost.get(cols["kind"][k], 1), -all_time[k], k),
    )
    for rank, k in enumerate(order):
        cols["rank"][k] = rank
    if color == "region":
        entries = [(REGION_COLORS[g], g) for g in REGION_COLORS if g in used]
    elif color == "relation":
        entries = [(ROOT_COLOR, "root")] if "root" in used else []
        entries += [(RELATION_COLORS[g], g) for g in RELATION_ORDER if g in used]
    else:
        entries = [(org_color[o], o) for o in top_orgs if o in used]
        if "other" in used:
            entries.append((OTHER_ORG_COLOR, "other organizations"))
    payload = {
        "nodes": cols,
        "layout": {
            "tops": tops,
            "centre": list(layout.centre) if layout.centre else None,
            "spacing": SPACING,
        },
        "style": {
            "relation_colors": RELATION_COLORS,
            "relation_dashes": RELATION_DASHES,
            "region_colors": REGION_COLORS,
            "inferred_lineage": {
                "color": INFERRED_LINEAGE_COLOR,
                "dashes": INFERRED_LINEAGE_DASHES,
            },
        },
    }
    return payload, entries, len(org_counts)
