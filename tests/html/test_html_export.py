"""`lineage export html`: what a family tree page embeds (nodes, edges, collapsing), that Hub
text is escaped everywhere, and one-line errors. The page in a real browser:
test_html_browser.py."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import html
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner
from support.browser import XSS_PAYLOADS
from support.pages import HOSTILE_ROOT, hostile_store, page_data
from support.toyhub import toy_models

from lineage.analysis import load_context
from lineage.cli import cli
from lineage.errors import InputError, NotInStore
from lineage.html.export import REGION_COLORS, RELATION_COLORS, export_family_html
from lineage.html.family_view import SPACING, enclose, forest_layout, pack_circles, ring_offsets
from lineage.records import parse_items, parse_raw
from lineage.store import Store
from lineage.testing.synthetic import Mess, generate, organization
from lineage.vocabulary import RELATION_ORDER

SEEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

# The toy Hub's Qwen family as declared in fixtures/hub/toy.jsonl: (parent, child, relation).
# Each model hangs under a parent one level up (ivan's second parent is drawn as a cross
# edge); carol's and judy's other parents belong to other families and are not drawn.
QWEN_EDGES = {
    ("Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B-Instruct", "finetune"),
    ("Qwen/Qwen2.5-7B", "bob/qwen-lora-2", "adapter"),
    ("Qwen/Qwen2.5-7B", "dave/url-card", "finetune"),
    ("Qwen/Qwen2.5-7B", "erin/ws-case", "finetune"),
    ("Qwen/Qwen2.5-7B", "ivan/renamed-parent", "merge"),
    ("Qwen/Qwen2.5-7B", "kim/nonstring-card", "finetune"),
    ("Qwen/Qwen2.5-7B", "leo/unknown-relation", "finetune"),
    ("Qwen/Qwen2.5-7B", "pat/dup-and-empty", "finetune"),
    ("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct-AWQ", "quantized"),
    ("Qwen/Qwen2.5-7B-Instruct", "alice/qwen-chat-ft", "finetune"),
    ("Qwen/Qwen2.5-7B-Instruct", "bob/qwen-lora", "adapter"),
    ("Qwen/Qwen2.5-7B-Instruct", "frank/self-ref", "finetune"),
    ("Qwen/Qwen2.5-7B-Instruct", "grace/cycle-a", "merge"),
    ("Qwen/Qwen2.5-7B-Instruct", "heidi/missing-parent", "merge"),
    ("alice/qwen-chat-ft", "alice/qwen-chat-ft-GGUF", "quantized"),
    ("alice/qwen-chat-ft", "alice/qwen-chat-ft-v2", "finetune"),
    ("alice/qwen-chat-ft", "carol/qwen-llama-merge", "merge"),
    ("alice/qwen-chat-ft", "ivan/renamed-parent", "merge"),
    ("alice/qwen-chat-ft", "judy/wrong-case-parent", "merge"),
    ("alice/qwen-chat-ft", "mlx-community/qwen-chat-4bit", "quantized"),
    ("alice/qwen-chat-ft", "omar/declared-merge", "merge"),
    ("grace/cycle-a", "grace/cycle-b", "finetune"),
}
QWEN_FAMILY = {c for _, c, _ in QWEN_EDGES} | {"Qwen/Qwen2.5-7B"}


# -- helpers shared with test_html_browser.py ------------------------------------------------


def models_of(data: dict) -> set[str]:
    n = data["nodes"]
    return {n["id"][k] for k, kind in enumerate(n["kind"]) if kind in ("root", "model")}


def edges_of(data: dict) -> set[tuple[str, str, str]]:
    """(parent, child, relation); a summary node appears as its label, e.g. '+6 adapter'."""
    n, e = data["nodes"], data["edges"]

    def name(k: int) -> str:
        return n["label"][k] if n["kind"][k] == "group" else n["id"][k]

    return {
        (name(f), name(t), r) for f, t, r in zip(e["from"], e["to"], e["relation"], strict=True)
    }


def groups_of(data: dict) -> dict[str, dict]:
    """Summary nodes by '<parent> <label>'."""
    n = data["nodes"]
    return {
        f"{g['parent']} {n['label'][k]}": g
        for k, g in enumerate(n["group"])
        if n["kind"][k] == "group"
    }


def node(data: dict, model_id: str) -> dict:
    n = data["nodes"]
    k = n["id"].index(model_id)
    return {key: values[k] for key, values in n.items()}


def item(model_id, parent=None, relation="finetune", downloads=0, **extra) -> dict:
    """A Hub API listing item whose parent comes from the Hub's base_model tag."""
    tags = [f"base_model:{relation}:{parent}"] if parent else []
    return {
        "id": model_id,
        "createdAt": "2025-01-02T03:04:05.000Z",
        "downloads": downloads // 10,
        "downloadsAllTime": downloads,
        "likes": 3,
        "tags": tags,
        **extra,
    }


def store_of(path: Path, items: list[dict]) -> Store:
    store = Store(path)
    batch, skipped = parse_items(items, seen_at=SEEN, source="test")
    assert skipped == 0
    store.commit(batch)
    return store


def org_store(path: Path, roots: int, models: int, seed: int = 3) -> Store:
    """A synthetic organization ("Qwen") with ``roots`` models and ``models`` in all, every
    one of them in its family (no messy declarations, so the tops are exactly the roots)."""
    hub = organization(roots, models, seed=seed, mess=Mess.none())
    store = Store(path)
    store.commit(parse_raw(hub.raw, seen_at=SEEN, source="synthetic"))
    return store


def family_ids(ctx, tops: tuple[str, ...]) -> set[int]:
    """Graph indices of the tops and everything below them, by the graph's own walk."""
    found: set[int] = set()
    for top in tops:
        found.update(ctx.graph.descendants(ctx.graph.index_of(top)))
    return found


def created_by_month(ctx, members: set[int], months: list[str]) -> list[int]:
    """How many of ``members`` were created by the end of each month (undated: from the
    start), counted from the store's dates."""
    created = ctx.graph.nodes["created_at"].to_list()
    out = []
    for month in months:
        year, mon = int(month[:4]), int(month[5:])
        end = dt.datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=dt.UTC)
        out.append(sum(1 for i in members if created[i] is None or created[i] < end))
    return out


# Hand-built family for the collapsing rules (23 models):
#   lab/base -+- a/ft1 (finetune) -+- 5 quantized leaves, 1 adapter leaf
#             +- b/ft2 (finetune) --- 2 quantized leaves
#             +- c/ft3 (finetune) --- c/ft3-ft (finetune) --- 1 quantized leaf
#             +- 6 adapter leaves, 3 quantized leaves
def rules_items() -> list[dict]:
    items = [item("lab/base", downloads=10_000)]
    items += [item("a/ft1", "lab/base", downloads=500), item("b/ft2", "lab/base", downloads=50)]
    items += [item("c/ft3", "lab/base", downloads=10), item("c/ft3-ft", "c/ft3", downloads=5)]
    items += [item(f"a/ft1-q{i}", "a/ft1", "quantized", downloads=i) for i in range(5)]
    items += [item("a/ft1-lora", "a/ft1", "adapter", downloads=7)]
    items += [item(f"b/ft2-q{i}", "b/ft2", "quantized", downloads=i) for i in range(2)]
    items += [item("c/ft3-ft-q", "c/ft3-ft", "quantized", downloads=1)]
    items += [item(f"u{i}/lora", "lab/base", "adapter", downloads=100 + i) for i in range(6)]
    items += [item(f"v{i}/q", "lab/base", "quantized", downloads=20 + i) for i in range(3)]
    return items


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_ctx(toy_store):
    return load_context(Store(toy_store))


@pytest.fixture(scope="module")
def rules_ctx(tmp_path_factory):
    return load_context(store_of(tmp_path_factory.mktemp("rules"), rules_items()))


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# -- the subgraph ---------------------------------------------------------------------------


def test_model_family_embeds_exactly_its_subgraph(toy_ctx, tmp_path):
    summary = export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", tmp_path / "t.html")
    data = page_data(tmp_path / "t.html")
    assert models_of(data) == QWEN_FAMILY
    assert edges_of(data) == QWEN_EDGES
    assert (summary.family, summary.drawn, summary.summary_nodes, summary.edges) == (22, 22, 0, 22)
    assert summary.tops == ("Qwen/Qwen2.5-7B",)
    tree_edges = [t for t in data["edges"]["tree"] if t]
    assert len(tree_edges) == 21  # a spanning tree; ivan's edge to alice is the extra one
    n = data["nodes"]
    assert [n["id"][k] for k, kind in enumerate(n["kind"]) if kind == "root"] == ["Qwen/Qwen2.5-7B"]


def test_case_insensitive_ids_hub_urls_and_orgs(toy_ctx, tmp_path):
    by_url = export_family_html(toy_ctx, "https://huggingface.co/qwen/qwen2.5-7b", tmp_path / "a")
    assert by_url.tops == ("Qwen/Qwen2.5-7B",) and by_url.drawn == 22
    # An organization: its models not derived from another of its models, and all below.
    org = export_family_html(toy_ctx, "qwen", tmp_path / "b.html")
    assert org.tops == ("Qwen/Qwen2.5-7B",)
    assert models_of(page_data(tmp_path / "b.html")) == QWEN_FAMILY
    alice = export_family_html(toy_ctx, "alice", tmp_path / "c.html")
    assert alice.tops == ("alice/qwen-chat-ft",)  # -v2 and -GGUF derive from it
    assert models_of(page_data(tmp_path / "c.html")) == {
        c for p, c, _ in QWEN_EDGES if p == "alice/qwen-chat-ft"
    } | {"alice/qwen-chat-ft"}


def test_depth_relations_and_download_filters(toy_ctx, tmp_path):
    out = tmp_path / "t.html"
    export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", out, depth=1)
    assert models_of(page_data(out)) == {c for p, c, _ in QWEN_EDGES if p == "Qwen/Qwen2.5-7B"} | {
        "Qwen/Qwen2.5-7B"
    }

    export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", out, relations=["finetune"])
    assert edges_of(page_data(out)) == {e for e in QWEN_EDGES if e[2] == "finetune"} - {
        ("grace/cycle-a", "grace/cycle-b", "finetune")  # under a merge: not reached
    }

    export_family_html(toy_ctx, "Qwen/Qwen2.5-7B-Instruct", out, relations=["quantized"])
    assert edges_of(page_data(out)) == {
        ("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct-AWQ", "quantized")
    }

    # More than 4,000 all-time downloads: alice's fine-tune (3,400) stays, faded, because
    # two quantizations above the bar derive from it.
    summary = export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", out, min_downloads=4000)
    data = page_data(out)
    assert models_of(data) == {
        "Qwen/Qwen2.5-7B",
        "Qwen/Qwen2.5-7B-Instruct",
        "Qwen/Qwen2.5-7B-Instruct-AWQ",
        "alice/qwen-chat-ft",
        "alice/qwen-chat-ft-GGUF",
        "mlx-community/qwen-chat-4bit",
    }
    assert [m for m in models_of(data) if node(data, m)["connector"]] == ["alice/qwen-chat-ft"]
    assert (summary.family, summary.below_min_downloads, summary.connectors) == (22, 16, 1)


def test_tooltip_data_for_each_model(toy_ctx, tmp_path):
    export_family_html(toy_ctx, "Qwen", tmp_path / "t.html")
    data = page_data(tmp_path / "t.html")
    gguf = node(data, "alice/qwen-chat-ft-GGUF")
    assert {k: gguf[k] for k in ("kind", "relation", "inferred", "org", "region", "status")} == {
        "kind": "model",
        "relation": "quantized",
        "inferred": True,  # declared without a relation; read from the name
        "org": "alice",
        "region": "unknown",
        "status": "crawled",
    }
    assert gguf["url"] == "https://huggingface.co/alice/qwen-chat-ft-GGUF"
    assert data["nodes"]["id"][gguf["parent"]] == "alice/qwen-chat-ft"
    raw = {m["id"]: m for m in toy_models()}["alice/qwen-chat-ft-GGUF"]
    assert gguf["created"] == raw["createdAt"][:10]
    assert (gguf["downloads"], gguf["downloads_all_time"], gguf["likes"]) == (
        raw["downloads"],
        raw["downloadsAllTime"],
        raw["likes"],
    )
    assert gguf["library"] == raw.get("library_name")
    root = node(data, "Qwen/Qwen2.5-7B")
    assert (root["kind"], root["region"], root["org"]) == ("root", "china", "Qwen")
    carol = node(data, "carol/qwen-llama-merge")
    assert carol["parents_not_drawn"] == ["meta-llama/Llama-3.1-8B-Instruct"]
    assert sorted(carol["roots"]) == ["Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B"]
    assert data["meta"]["tops"] == ["Qwen/Qwen2.5-7B"]


def test_colors_legend_and_layout(toy_ctx, tmp_path):
    out = tmp_path / "t.html"
    export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", out, color="relation")
    data, text = page_data(out), out.read_text()
    n = data["nodes"]
    for k, kind in enumerate(n["kind"]):
        if kind == "model":
            assert n["color"][k] == RELATION_COLORS[n["relation"][k]]
    assert "Node colour: relation to its parent" in text
    export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", out)  # by region
    data, text = page_data(out), out.read_text()
    assert node(data, "Qwen/Qwen2.5-7B")["color"] == REGION_COLORS["china"]
    assert node(data, "bob/qwen-lora")["color"] == REGION_COLORS["unknown"]
    legend = re.search(r'<details id="legend".*?</details>', text, re.DOTALL).group(0)
    for label in ("china", "unknown", "finetune", "adapter", "quantized", "merge"):
        assert f"</svg>{label}</li>" in legend
    assert "us</li>" not in legend  # only colours the page uses
    export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", out, color="org")
    data = page_data(out)
    assert node(data, "alice/qwen-chat-ft")["color"] == node(data, "alice/qwen-chat-ft-v2")["color"]
    assert node(data, "alice/qwen-chat-ft")["color"] != node(data, "bob/qwen-lora")["color"]

    # Positions: the root at the centre, each model on its own spot, each model inside the
    # disk of its tree parent (its sub-family).
    x, y = n["x"], n["y"]
    assert (x[0], y[0]) == (0.0, 0.0)
    assert len({(a, b) for a, b in zip(x, y, strict=True)}) == len(x)
    for child, parent in enumerate(n["parent"]):
        if parent is not None:
            cx, cy, r = n["disk"][parent]
            assert math.hypot(x[child] - cx, y[child] - cy) <= r


def test_rings_of_many_leaves_are_compact():
    star = forest_layout([-1] + [0] * 2000)
    distinct = {(round(x), round(y)) for x, y in star.positions}
    assert len(distinct) == 2001
    # 2,000 leaves on rings round the root: a compact disk, not a ring 2,000 models long
    assert star.disk[0][2] < 0.1 * 2000 * SPACING / (2 * math.pi) * 2
    assert min_distance(star.positions) >= SPACING - 0.2
    assert [round(math.hypot(*p)) for p in ring_offsets(7, 24.0)] == [24] * 6 + [48]


def min_distance(points) -> float:
    xy = np.array(points, dtype=float)
    gaps = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(gaps, np.inf)
    return float(gaps.min())


def test_nested_disks_hold_their_sub_families_and_never_overlap():
    """Every sub-family in a disk of its own inside its parent's; no two models closer than
    the spacing anywhere; summary nodes get the area of the models they stand for."""
    rng = np.random.default_rng(9)
    for case in range(4):
        size = int(rng.integers(50, 900))
        parents = [-1] + [int(rng.integers(max(1, i // (2 + case)))) for i in range(1, size)]
        summary = [bool(i and rng.random() < 0.05) for i in range(size)]
        # a summary node has no children of its own
        parents = [p if p < 0 or not summary[p] else 0 for p in parents]
        models = [int(rng.integers(2, 400)) if g else 1 for g in summary]
        layout = forest_layout(parents, models=models, summary=summary)
        atoms = [p for p, g in zip(layout.positions, summary, strict=True) if not g]
        assert min_distance(atoms) >= SPACING - 0.2
        disks = {i: d for i, d in enumerate(layout.disk) if d is not None}
        for i, p in enumerate(parents):
            if p < 0:
                continue
            px, py, pr = disks[p]
            x, y = layout.positions[i]
            reach = disks[i][2] if i in disks else 0.0
            centre = disks[i][:2] if i in disks else (x, y)
            assert math.hypot(centre[0] - px, centre[1] - py) + reach <= pr + 0.5
        for i, g in enumerate(summary):
            if g:
                assert disks[i][2] >= SPACING * 0.5 * math.sqrt(models[i])
        kids: dict[int, list[int]] = {}
        for i, p in enumerate(parents):
            if p >= 0 and i in disks:
                kids.setdefault(p, []).append(i)
        for siblings in kids.values():
            for a in range(len(siblings)):
                for b in range(a):
                    (ax, ay, ar), (bx, by, br) = disks[siblings[a]], disks[siblings[b]]
                    assert math.hypot(ax - bx, ay - by) >= ar + br - 0.5


def test_enclose_is_close_to_the_smallest_circle():
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 100, (40, 2))
    radii = rng.uniform(1, 20, 40)
    x, y, r = enclose(centres, radii)
    assert all(
        math.hypot(cx - x, cy - y) + cr <= r + 1e-6
        for (cx, cy), cr in zip(centres, radii, strict=True)
    )
    # no circle centred anywhere on a fine grid holds them all with a smaller radius
    grid = np.linspace(-300, 300, 121)
    best = min(
        float(np.max(np.hypot(centres[:, 0] - gx, centres[:, 1] - gy) + radii))
        for gx in grid
        for gy in grid
    )
    assert r <= best + 1e-6  # the smallest: no grid point does better


def random_forest(tops: int, size: int, seed: int) -> list[int]:
    """Parent indices of a random forest, parents first, families of very different sizes."""
    rng = np.random.default_rng(seed)
    parents = [-1] * tops
    weights = rng.lognormal(0, 1.5, tops)
    family = list(range(tops))
    for i in range(tops, size):
        f = int(rng.choice(tops, p=weights / weights.sum()))
        members = [j for j in range(i) if family[j] == f]
        parents.append(int(members[int(rng.integers(len(members)))]))
        family.append(f)
    return parents


def test_forest_layout_gives_each_family_a_disk_of_its_own():
    parents = random_forest(60, 1500, seed=2)
    layout = forest_layout(parents, margin=30.0)
    centre = layout.centre[2]
    assert layout.centre[:2] == (0.0, 0.0) and centre >= 90.0
    assert len(layout.disks) == 60
    # every item inside its own family's disk
    family = []
    for i, p in enumerate(parents):
        family.append(family[p] if p >= 0 else len([q for q in parents[:i] if q < 0]))
    for i, (x, y) in enumerate(layout.positions):
        cx, cy, r = layout.disks[family[i]]
        assert math.hypot(x - cx, y - cy) <= r + 0.5
    # disks never overlap each other or the centre, and keep the margin between them
    circles = [layout.centre, *layout.disks]
    for a in range(len(circles)):
        for b in range(a):
            (ax, ay, ar), (bx, by, br) = circles[a], circles[b]
            gap = 30.0 if a and b else 15.0
            assert math.hypot(ax - bx, ay - by) >= ar + br + gap - 0.5
    # in order: the first families touch the centre, the last sit further out
    distance = [math.hypot(x, y) - r for x, y, r in layout.disks]
    assert distance[0] == pytest.approx(centre + 15, abs=0.5)
    assert distance[1] == pytest.approx(centre + 15, abs=0.5)
    assert sum(distance[-10:]) > sum(distance[:10])
    # one top: the tree itself, its top at the centre
    single = forest_layout([-1, 0, 0, 1])
    assert single.centre is None and single.positions[0] == (0.0, 0.0)


def test_pack_circles_never_overlaps():
    rng = np.random.default_rng(4)
    radii = rng.lognormal(3, 1, 300).tolist()
    centres = pack_circles(radii)
    for a in range(300):
        for b in range(a):
            assert math.dist(centres[a], centres[b]) >= radii[a] + radii[b] - 1e-6
    # compact (a row of them would cover 0.002 of its enclosing circle)
    enclosing = enclose(np.array(centres), np.array(radii))[2]
    assert sum(r * r for r in radii) / enclosing**2 > 0.35


# -- collapsing -----------------------------------------------------------------------------


def test_under_max_nodes_nothing_is_collapsed(rules_ctx, tmp_path):
    summary = export_family_html(rules_ctx, "lab/base", tmp_path / "t.html", max_nodes=23)
    assert (summary.family, summary.drawn, summary.summary_nodes) == (23, 23, 0)


@pytest.mark.parametrize(
    ("max_nodes", "groups", "drawn"),
    [
        # 1. the biggest group of leaves first: the root's six adapters
        (18, {"lab/base +6 adapter": 6}, 17),
        # ... then a/ft1's five quantizations, the root's three, b/ft2's two
        (14, {"lab/base +6 adapter": 6, "a/ft1 +5 quantized": 5}, 12),
        (
            11,
            {
                "lab/base +6 adapter": 6,
                "a/ft1 +5 quantized": 5,
                "lab/base +3 quantized": 3,
                "b/ft2 +2 quantized": 2,
            },
            7,
        ),
        # 2. then whole subtrees, the smallest first: c/ft3-ft (2 models) into c/ft3's
        (
            10,
            {
                "lab/base +6 adapter": 6,
                "a/ft1 +5 quantized": 5,
                "lab/base +3 quantized": 3,
                "b/ft2 +2 quantized": 2,
                "c/ft3 +2 finetune": 2,
            },
            5,
        ),
        # ... c/ft3 (3, fewer downloads than b/ft2), b/ft2 (3), a/ft1 (7) into the root's
        (6, {"lab/base +6 adapter": 6, "lab/base +3 quantized": 3, "lab/base +13 finetune": 13}, 1),
    ],
)
def test_collapsing_rules(rules_ctx, tmp_path, max_nodes, groups, drawn):
    out = tmp_path / "t.html"
    summary = export_family_html(rules_ctx, "lab/base", out, max_nodes=max_nodes)
    data = page_data(out)
    assert {k: g["models"] for k, g in groups_of(data).items()} == groups
    assert summary.drawn == drawn == len(models_of(data))
    assert summary.nodes <= max_nodes
    assert summary.collapsed == sum(groups.values()) == 23 - drawn
    # every summary node hangs from its parent, styled as its relation
    for parent, child, relation in edges_of(data):
        if child.startswith("+"):
            assert f"{parent} {child}" in groups and child.endswith(relation)


def test_summary_node_lists_its_top_models(rules_ctx, tmp_path):
    out = tmp_path / "t.html"
    export_family_html(rules_ctx, "lab/base", out, max_nodes=6)
    g = groups_of(page_data(out))
    adapters = g["lab/base +6 adapter"]
    assert (adapters["children"], adapters["models"]) == (6, 6)
    assert [t[:2] for t in adapters["top"]] == [[f"u{i}/lora", 100 + i] for i in range(5, -1, -1)]
    assert adapters["top"][0][2] == "https://huggingface.co/u5/lora"
    finetunes = g["lab/base +13 finetune"]
    assert (finetunes["children"], finetunes["models"]) == (3, 13)
    assert [t[0] for t in finetunes["top"]] == ["a/ft1", "b/ft2", "c/ft3"]


def test_big_family_draws_at_most_max_nodes_and_accounts_for_every_model(tmp_path):
    population = generate(60_000, seed=5)
    store = Store(tmp_path / "s")
    store.commit(parse_raw(population.raw, seen_at=SEEN, source="synthetic"))
    ctx = load_context(store)
    out = tmp_path / "t.html"
    summary = export_family_html(ctx, "Qwen", out, max_nodes=300)
    data = page_data(out)
    n, e = data["nodes"], data["edges"]
    assert summary.family > 1500  # the org's models and their derivatives
    assert len(n["kind"]) == summary.nodes <= 300
    drawn = models_of(data)
    groups = [g for g in n["group"] if g]
    assert len(drawn) + sum(g["models"] for g in groups) == summary.family
    assert all(g["parent"] in drawn for g in groups)
    assert all(0 <= k < len(n["kind"]) for k in e["from"] + e["to"])
    assert {n["id"][k] for k, kind in enumerate(n["kind"]) if kind == "root"} == set(summary.tops)
    # each summary node stands for one parent's derivatives of one relation
    keys = [(g["parent"], n["relation"][k]) for k, g in enumerate(n["group"]) if g]
    assert len(keys) == len(set(keys))


# -- escaping -------------------------------------------------------------------------------


def test_hostile_ids_and_card_text_are_inert_in_the_page(tmp_path):
    ctx = load_context(hostile_store(tmp_path / "s"))
    out = tmp_path / "t.html"
    title = XSS_PAYLOADS[4] + XSS_PAYLOADS[3]
    summary = export_family_html(ctx, HOSTILE_ROOT, out, title=title, max_nodes=9)
    assert summary.summary_nodes > 0  # hostile ids in a summary node's top list too
    text = out.read_text(encoding="utf-8")
    for payload in XSS_PAYLOADS:
        if "<" in payload:
            assert payload not in text
    assert "\u2028" not in text and "\u2029" not in text
    head = text[: text.index("<style>")]
    assert f"<title>{html.escape(title)}</title>" in head
    # the data round-trips exactly: the page shows the text, it never parses it
    data = page_data(out)
    ids = set(data["nodes"]["id"]) | {t[0] for g in data["nodes"]["group"] if g for t in g["top"]}
    expected = set(ctx.graph.nodes["id"].to_list())
    assert ids - {None} == expected
    assert set(data["nodes"]["pipeline"]) - {None} <= set(XSS_PAYLOADS)
    assert all(
        u is None or (u.startswith("https://huggingface.co/") and "<" not in u and '"' not in u)
        for u in data["nodes"]["url"]
    )
    # default title from a hostile root id, escaped in <title> and <h1>
    export_family_html(ctx, HOSTILE_ROOT, out)
    text = out.read_text(encoding="utf-8")
    assert f"<h1>Family tree of {html.escape(HOSTILE_ROOT)}</h1>" in text
    assert XSS_PAYLOADS[1] not in text


def test_only_the_inlined_script_may_run(toy_ctx, tmp_path):
    out = tmp_path / "t.html"
    export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", out)
    text = out.read_text(encoding="utf-8")
    scripts = re.findall(r"<script>(.*?)</script>", text, re.DOTALL)
    assert len(scripts) == 1  # the page's own renderer; no library
    outside = re.sub(r"(<script[^>]*>).*?</script>", r"\1", text, flags=re.DOTALL)
    assert len(re.findall(r"<script\b", outside)) == 2  # plus the inert JSON block
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text).group(1)
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"&#x27;sha256-{digest}&#x27;" in csp
    assert csp.count("sha256-") == 1
    assert "default-src &#x27;none&#x27;" in csp
    # self-contained: nothing is loaded from anywhere
    assert not re.search(r"<script[^>]*\ssrc=|<link\b|@import|<iframe|<img\b", outside)
    assert not re.search(r"url\(\s*(?![\"']?data:)", text)


# -- errors ---------------------------------------------------------------------------------


def test_unknown_model_or_org(toy_ctx, toy_store, tmp_path):
    with pytest.raises(NotInStore, match="no model named 'nobody/model'"):
        export_family_html(toy_ctx, "nobody/model", tmp_path / "t.html")
    for root, message in (
        ("nobody/model", "no model named 'nobody/model' in the store at"),
        ("nobody", "no model or organization named 'nobody' in the store at"),
    ):
        result = run("export", "html", "--store", toy_store, "--root", root, "-o", "x.html")
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: {message}")
        assert result.stderr.count("\n") == 1
    assert not (tmp_path / "t.html").exists()


def test_unwritable_output_paths(toy_store, tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = {
        str(tmp_path / "missing" / "t.html"): f"directory {tmp_path / 'missing'} does not exist",
        str(tmp_path): "it is a directory",
        str(a_file / "t.html"): f"directory {a_file} does not exist",
        "/proc/lineage-tree.html": "",  # as root: refused only when written
    }
    for path, why in cases.items():
        result = run("export", "html", "--store", toy_store, "--root", "Qwen", "-o", path)
        assert result.exit_code == 1, path
        assert result.stderr.startswith(f"error: cannot write {path}: {why}"), result.stderr
        assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]  # no temp files left


def test_bad_options(toy_ctx, toy_store, tmp_path):
    result = run(
        "export", "html", "--store", toy_store, "--root", "Qwen", "-o", "x", "--relations", "fork"
    )
    assert result.exit_code == 2 and "'fork' is not a relation" in result.stderr
    with pytest.raises(InputError, match="unknown relation 'fork'"):
        export_family_html(toy_ctx, "Qwen", tmp_path / "t.html", relations=["fork"])
    with pytest.raises(InputError, match="color must be one of"):
        export_family_html(toy_ctx, "Qwen", tmp_path / "t.html", color="rainbow")
    Store(tmp_path / "empty")
    empty = run("export", "html", "--store", str(tmp_path / "empty"), "--root", "Qwen", "-o", "x")
    assert empty.exit_code == 1 and "is empty" in empty.stderr


def test_cli_writes_the_page_and_says_what_it_collapsed(rules_ctx, toy_store, tmp_path):
    out = tmp_path / "tree.html"
    result = run("export", "html", "--store", toy_store, "--root", "Qwen", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in "
        + result.stderr.split(" in ", 1)[1].split("\n")[0],
        "  family: 22 models (1 root, 21 derivatives)",
        "  drew all 22 models and 22 edges; nothing collapsed",
    ]
    assert models_of(page_data(out)) == QWEN_FAMILY

    rules = tmp_path / "rules"
    store_of(rules, rules_items())
    result = run(
        "export", "html", "--store", str(rules), "--root", "lab", "-o", str(out), "--max-nodes", "6"
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[2:] == [
        "  drew 1 models, 3 +N nodes and 3 edges (--max-nodes 6)",
        "  collapsed 22 models into the +N nodes (finetune 13, adapter 6, quantized 3)",
        "  largest: +13 finetune under lab/base; +6 adapter under lab/base; "
        "+3 quantized under lab/base",
    ]
    quiet = run("export", "html", "--store", str(rules), "--root", "lab", "-o", str(out), "-q")
    assert quiet.exit_code == 0 and quiet.stderr == ""


# -- organizations, months, descendants, inferred lineage -------------------------------------


@pytest.fixture(scope="module")
def org_ctx(tmp_path_factory):
    return load_context(org_store(tmp_path_factory.mktemp("org"), 40, 3000))


def test_organization_families_in_release_order_around_the_organization(org_ctx, tmp_path):
    out = tmp_path / "org.html"
    summary = export_family_html(org_ctx, "qwen", out, max_nodes=800)
    data = page_data(out)
    n, lay = data["nodes"], data["layout"]
    assert len(summary.tops) == 40 and summary.family == 3000 and summary.summary_nodes > 0
    # the organization: one node more, last, at the centre, linking to its Hub page
    org = len(n["kind"]) - 1
    assert n["kind"].count("org") == 1 and n["kind"][org] == "org"
    assert (n["id"][org], n["x"][org], n["y"][org]) == ("Qwen", 0.0, 0.0)
    assert n["url"][org] == "https://huggingface.co/Qwen" and n["region"][org] == "china"
    assert data["meta"]["organization"] == "Qwen" and lay["centre"][:2] == [0.0, 0.0]
    assert n["room"][org] == lay["centre"][2] >= 90.0  # room for its name at the first zoom
    # its roots, by release date, each with a disk that holds its whole family
    tops = lay["tops"]
    assert [n["kind"][t] for t in tops] == ["root"] * 40
    assert sorted(n["id"][t] for t in tops) == sorted(summary.tops)
    created = [n["created"][t] for t in tops]
    assert created == sorted(created)
    assert [n["label"][t] for t in tops] == [n["id"][t].split("/", 1)[1] for t in tops]
    top_of = {}
    for k in range(org):
        up = k
        while n["parent"][up] is not None:
            up = n["parent"][up]
        top_of[k] = tops.index(up)
    for k, j in top_of.items():
        x, y, r = n["disk"][tops[j]]
        assert math.hypot(n["x"][k] - x, n["y"][k] - y) <= r + 0.5
    # label priority: the organization, then by the models at or below a node, a root's
    # family counting double
    rank = n["rank"]
    assert sorted(rank) == list(range(len(rank))) and rank[org] == 0
    by_rank = sorted(range(len(rank)), key=rank.__getitem__)

    def worth(k):
        below = n["group"][k]["models"] if n["kind"][k] == "group" else sum(n["desc"][k]) + 1
        return below * (2 if n["kind"][k] == "root" else 1)

    worths = [worth(k) for k in by_rank[1:]]
    assert worths == sorted(worths, reverse=True)
    biggest = max(tops, key=worth)
    assert rank[biggest] == 1
    # descendants by relation add up to the family
    assert sum(n["desc"][org]) == 3000 - 40


def test_months_and_running_counts_match_the_store(org_ctx, tmp_path):
    out = tmp_path / "org.html"
    summary = export_family_html(org_ctx, "Qwen", out, max_nodes=800)
    data = page_data(out)
    n, meta = data["nodes"], data["meta"]
    months = meta["months"]
    assert list(summary.months) == months
    assert months[0] == "2023-06" and months[-1] == "2026-06" and len(months) == 37
    members = family_ids(org_ctx, summary.tops)
    assert len(members) == 3000
    expected = created_by_month(org_ctx, members, months)
    assert meta["counts"]["total"] == expected
    for t in range(len(months)):
        assert sum(v[t] for v in meta["counts"]["relation"].values()) == expected[t]
        assert sum(v[t] for v in meta["counts"]["region"].values()) == expected[t]
    assert meta["counts"]["relation"]["root"][-1] == 40
    assert set(meta["counts"]["region"]) >= {"china", "us", "eu", "unknown"}  # builders
    # each drawn model carries its creation month; each +N node its members' months
    for k, kind in enumerate(n["kind"]):
        if kind in ("root", "model"):
            assert months[n["month"][k]] == n["created"][k][:7]
        elif kind == "group":
            running = n["group"][k]["months"]
            assert running[-1][1] == n["group"][k]["models"]
            assert [t for t, _ in running] == sorted({t for t, _ in running})
            assert n["month"][k] == running[0][0]
    # drawn models plus the models inside +N nodes, month by month: the store's count
    for t in (0, 10, 20, 36):
        drawn = sum(
            1
            for k, kind in enumerate(n["kind"])
            if kind in ("root", "model") and n["month"][k] <= t
        )
        inside = 0
        for g in n["group"]:
            if g:
                inside += max([c for m, c in g["months"] if m <= t], default=0)
        assert drawn + inside == expected[t]


def test_descendants_by_relation(toy_ctx, tmp_path):
    export_family_html(toy_ctx, "Qwen/Qwen2.5-7B", tmp_path / "t.html")
    data = page_data(tmp_path / "t.html")
    relation_of = {c: r for _, c, r in QWEN_EDGES}  # ivan's two edges are both merges
    expected = [sum(1 for r in relation_of.values() if r == rel) for rel in RELATION_ORDER]
    assert node(data, "Qwen/Qwen2.5-7B")["desc"] == expected == [10, 2, 3, 6]
    below_alice = [c for p, c, _ in QWEN_EDGES if p == "alice/qwen-chat-ft"]
    tree_children = [
        c
        for c in below_alice
        if data["nodes"]["parent"][data["nodes"]["id"].index(c)]
        == data["nodes"]["id"].index("alice/qwen-chat-ft")
    ]
    assert sum(node(data, "alice/qwen-chat-ft")["desc"]) == len(tree_children)
    assert node(data, "grace/cycle-b")["desc"] == [0, 0, 0, 0]


def with_edges(ctx, edges: pl.DataFrame):
    """The same context, its graph's edges replaced (as a graph built with more columns)."""
    return dataclasses.replace(ctx, graph=dataclasses.replace(ctx.graph, edges=edges))


def test_inferred_lineage_is_drawn_and_described_apart(rules_ctx, tmp_path):
    graph = rules_ctx.graph
    index = {m: graph.index_of(m) for m in ("c/ft3", "c/ft3-ft", "a/ft1-lora", "b/ft2")}
    target = (pl.col("child") == index["c/ft3-ft"]) & (pl.col("parent") == index["c/ft3"])
    edges = graph.edges.with_columns(
        pl.when(target).then(pl.lit("inferred")).otherwise(pl.col("lineage")).alias("lineage"),
        pl.when(target).then(pl.lit("name-suffix")).alias("method"),
        pl.when(target).then(pl.lit(0.8)).alias("confidence"),
    )
    # a second, inferred parent one level up: the declared one stays the tree parent
    extra = pl.DataFrame(
        [
            {
                **{name: None for name in edges.columns},
                "child": index["a/ft1-lora"],
                "parent": index["b/ft2"],
                "relation": "adapter",
                "inferred": False,
                "position": 0,
                "lineage": "inferred",
                "method": "name-suffix",
                "confidence": 0.3,
            }
        ],
        schema=edges.schema,
    )
    ctx = with_edges(rules_ctx, pl.concat([extra, edges]))
    out = tmp_path / "t.html"
    export_family_html(ctx, "lab/base", out)
    data, text = page_data(out), out.read_text()
    n, e = data["nodes"], data["edges"]
    ft = node(data, "c/ft3-ft")
    assert (ft["lineage"], ft["confidence"], ft["relation"]) == ("name-suffix", 0.8, "finetune")
    lora = node(data, "a/ft1-lora")
    assert n["id"][lora["parent"]] == "a/ft1" and lora["lineage"] is None
    flagged = {
        (n["id"][f], n["id"][t])
        for f, t, lin in zip(e["from"], e["to"], e["lineage"], strict=True)
        if lin
    }
    assert flagged == {("c/ft3", "c/ft3-ft"), ("b/ft2", "a/ft1-lora")}
    assert all(lin is None for k, lin in enumerate(n["lineage"]) if n["id"][k] not in ("c/ft3-ft",))
    assert "inferred lineage (no parent declared)" in text
    # an inferred edge without a method is still inferred; a declared graph has none
    ctx = with_edges(rules_ctx, graph.edges.with_columns(pl.lit("inferred").alias("lineage")))
    export_family_html(ctx, "lab/base", out)
    data = page_data(out)
    assert all(data["edges"]["lineage"]) and node(data, "c/ft3-ft")["lineage"] == "inferred"
    export_family_html(rules_ctx, "lab/base", out)
    assert not any(page_data(out)["edges"]["lineage"])
    assert "inferred lineage (no parent declared)" not in out.read_text()  # legend


# -- what the page needs for big families (issue 24) -----------------------------------------


@pytest.fixture(scope="module")
def hub_family(tmp_path_factory):
    """A 3,000-model family shaped and named like the Hub's, and its page (max 600 nodes)."""
    from support.trees import family_store

    folder = tmp_path_factory.mktemp("hub-family")
    ctx = load_context(family_store(folder / "store", 3000, seed=2))
    out = folder / "t.html"
    return ctx, export_family_html(ctx, "Qwen/Qwen2.5-7B", out, max_nodes=600), page_data(out)


def test_labels_are_distinct_and_name_the_namespace_where_names_collide(hub_family):
    _, _, data = hub_family
    n = data["nodes"]
    models = [k for k, kind in enumerate(n["kind"]) if kind in ("root", "model")]
    labels = [n["label"][k].lower() for k in models]
    assert len(set(labels)) == len(labels)
    names = [n["id"][k].split("/")[1].lower() for k in models]
    for k, name in zip(models, names, strict=True):
        whole = names.count(name) > 1 or n["kind"][k] == "root"  # the tree's root: its id
        expected = n["id"][k] if whole else n["id"][k].split("/")[1]
        assert n["label"][k] == expected
    assert any("/" in n["label"][k] for k in models)  # collisions happen on this family


def test_sub_family_counts_by_month_add_up(hub_family):
    """A node's running count at the last month is itself and every model below it, those
    inside its "+N" nodes included; counts never fall."""
    _, summary, data = hub_family
    n = data["nodes"]
    months = data["meta"]["months"]
    for k, runs in enumerate(n["below"]):
        if runs is None:
            assert n["kind"][k] == "group" or not any(p == k for p in n["parent"])
            continue
        assert runs[-1][1] == sum(n["desc"][k]) + 1
        assert [t for t, _ in runs] == sorted({t for t, _ in runs})
        assert [c for _, c in runs] == sorted(c for _, c in runs)
        assert runs[-1][0] <= len(months) - 1
    root = n["kind"].index("root")
    assert n["below"][root][-1][1] == summary.family


def test_models_inside_summary_nodes_are_listed_for_the_search(hub_family):
    ctx, summary, data = hub_family
    hidden = data["hidden"]
    ids = hidden["ids"].split("\n")
    assert len(ids) == len(hidden["node"]) == summary.collapsed
    assert ids == sorted(ids, key=str.lower)
    n = data["nodes"]
    drawn = {n["id"][k] for k, kind in enumerate(n["kind"]) if kind != "group"}
    assert not drawn & set(ids) and len(drawn) + len(ids) == summary.family
    # each is below the parent of the node said to hold it, by that node's relation
    graph = ctx.graph
    for model, k in list(zip(ids, hidden["node"], strict=True))[::97]:
        assert n["kind"][k] == "group"
        parent = graph.index_of(n["group"][k]["parent"])
        assert parent in graph.ancestry(graph.index_of(model)).nodes
