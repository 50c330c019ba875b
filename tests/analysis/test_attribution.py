"""Attribution on hand-built graphs: exact roots, weights, chains, cycles and root sets."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lineage.analysis import load_context, share
from lineage.attribution import attribute
from lineage.graph import build_graph, graph_from_frames, topological_levels
from lineage.records import parse_items
from lineage.schema import LOOKUP_SCHEMA
from lineage.store import Store

SEEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def model(
    mid: str,
    *parents: str,
    relation: str = "finetune",
    created: str = "2025-01-15",
    downloads: int = 100,
) -> dict:
    tags = [t for p in parents for t in (f"base_model:{p}", f"base_model:{relation}:{p}")]
    return {
        "id": mid,
        "createdAt": f"{created}T00:00:00.000Z",
        "downloadsAllTime": downloads,
        "downloads": downloads,
        "tags": tags,
        "cardData": {"base_model": list(parents)} if parents else {},
    }


def store_of(tmp_path, *items, lookups=()) -> Store:
    store = Store(tmp_path / "s")
    batch, _ = parse_items(list(items), seen_at=SEEN, source="list")
    frame = pl.DataFrame(
        [{"query": q, "id": i, "status": s, "looked_up_at": SEEN} for q, i, s in lookups],
        schema=LOOKUP_SCHEMA,
    )
    store.commit(batch, lookups=frame)
    return store


def roots_of(attribution, model_id: str) -> tuple[list[str], float]:
    row = attribution.derivatives.filter(pl.col("id") == model_id).row(0, named=True)
    return row["roots"], row["attributed_weight"]


def weights_of(attribution, model_id: str) -> dict[str, float]:
    nodes = attribution.graph.nodes.select("idx", "id")
    frame = (
        attribution.weights.join(nodes.rename({"idx": "derivative", "id": "d"}), on="derivative")
        .join(nodes.rename({"idx": "root", "id": "r"}), on="root")
        .filter(pl.col("d") == model_id)
    )
    return dict(zip(frame["r"], frame["weight"], strict=True))


def test_deep_chain_gets_its_root_depth_and_relation_chain(tmp_path):
    store = store_of(
        tmp_path,
        model("Qwen/base"),
        model("a/ft", "Qwen/base"),
        model("b/ft2", "a/ft"),
        model("c/q", "b/ft2", relation="quantized"),
    )
    a = attribute(build_graph(store))
    row = a.derivatives.filter(pl.col("id") == "c/q").row(0, named=True)
    assert row["roots"] == ["Qwen/base"]
    assert row["depth"] == 3
    assert row["chain"] == "finetune > finetune > quantized"
    assert row["primary_root"] == "Qwen/base"
    assert a.derivatives["id"].to_list() == ["a/ft", "b/ft2", "c/q"]  # the root is no derivative


def test_cross_region_merge_is_split_first_or_counted_in_full(tmp_path):
    store = store_of(
        tmp_path,
        model("Qwen/base"),
        model("meta-llama/base"),
        model("mistralai/base"),
        model("u/qft", "Qwen/base"),
        model("u/merge", "u/qft", "meta-llama/base", "mistralai/base", relation="merge"),
        model("u/merge2", "u/qft", "Qwen/base", relation="merge"),  # one root, twice
    )
    graph = build_graph(store)
    split = attribute(graph, multi_parent="split")
    assert weights_of(split, "u/merge") == pytest.approx(
        {"Qwen/base": 1 / 3, "meta-llama/base": 1 / 3, "mistralai/base": 1 / 3}
    )
    assert weights_of(split, "u/merge2") == {"Qwen/base": 1.0}  # distinct roots, not paths
    assert weights_of(attribute(graph, multi_parent="first"), "u/merge") == {"Qwen/base": 1.0}
    assert weights_of(attribute(graph, multi_parent="all"), "u/merge") == {
        "Qwen/base": 1.0,
        "meta-llama/base": 1.0,
        "mistralai/base": 1.0,
    }


def test_first_parent_means_first_declared_in_the_card(tmp_path):
    item = model("u/m", "z/second-alphabetically", "a/first-alphabetically", relation="merge")
    item["cardData"] = {"base_model": ["z/second-alphabetically", "a/first-alphabetically"]}
    store = store_of(
        tmp_path, model("z/second-alphabetically"), model("a/first-alphabetically"), item
    )
    first = attribute(build_graph(store), multi_parent="first")
    assert weights_of(first, "u/m") == {"z/second-alphabetically": 1.0}


def test_cycles_are_broken_by_dropping_the_newest_parent(tmp_path):
    store = store_of(
        tmp_path,
        model("Qwen/base", created="2024-01-01"),
        model("u/a", "Qwen/base", "u/b", created="2025-01-01"),  # wrongly names its child
        model("u/b", "u/a", created="2025-02-01"),
        model("u/x", "u/y", created="2025-03-01"),  # a cycle with no way out
        model("u/y", "u/x", created="2025-04-01"),
    )
    graph = build_graph(store)
    assert sorted(graph.broken.select("child", "parent").rows()) == [
        ("u/a", "u/b"),
        ("u/x", "u/y"),
    ]
    a = attribute(graph)
    assert roots_of(a, "u/b") == (["Qwen/base"], 1.0)
    # u/x loses its only (newer) parent and becomes a root of its own; u/y derives from it.
    assert roots_of(a, "u/y") == (["u/x"], 1.0)
    assert "u/x" not in a.derivatives["id"].to_list()


def test_cycles_below_and_between_others_are_broken_the_same_way(tmp_path):
    # Models below a cycle are stuck in topological order but in no cycle (networkx gets
    # only the nodes stuck from both sides): a chain runs from one cycle into another,
    # and a model hangs below the second.
    store = store_of(
        tmp_path,
        model("u/x", "u/y", created="2025-03-01"),
        model("u/y", "u/x", created="2025-04-01"),
        model("u/c1", "u/y", created="2025-05-01"),
        model("u/p", "u/c1", "u/q", created="2025-06-01"),
        model("u/q", "u/p", created="2025-07-01"),
        model("u/leaf", "u/q", created="2025-08-01"),
    )
    graph = build_graph(store)
    assert sorted(graph.broken.select("child", "parent").rows()) == [
        ("u/p", "u/q"),
        ("u/x", "u/y"),
    ]
    assert (graph.nodes["level"] >= 0).all()
    assert roots_of(attribute(graph), "u/leaf") == (["u/x"], 1.0)


def test_missing_renamed_and_wrong_case_parents(tmp_path):
    store = store_of(
        tmp_path,
        model("Qwen/base"),
        model("u/case", "qwen/BASE"),
        model("u/renamed", "Qwen/old-name"),
        model("u/orphan", "ghost/deleted"),
        model("u/half", "Qwen/base", "ghost/deleted", relation="merge"),
        model("u/never-looked-up", "someone/unknown"),
        lookups=[("Qwen/old-name", "Qwen/base", "renamed"), ("ghost/deleted", None, "missing")],
    )
    graph = build_graph(store)
    status = dict(graph.nodes.select("id", "status").iter_rows())
    assert status["ghost/deleted"] == "missing"
    assert status["someone/unknown"] == "unresolved"
    assert "qwen/BASE" not in status and "Qwen/old-name" not in status
    a = attribute(graph)
    assert roots_of(a, "u/case") == (["Qwen/base"], 1.0)
    assert roots_of(a, "u/renamed") == (["Qwen/base"], 1.0)
    # Under --roots all a missing parent is a root (its namespace is still an organization).
    assert roots_of(a, "u/orphan") == (["ghost/deleted"], 1.0)
    assert weights_of(a, "u/half") == {"Qwen/base": 0.5, "ghost/deleted": 0.5}


def test_a_root_set_stops_at_its_members_and_reports_the_rest_unattributed(tmp_path):
    store = store_of(
        tmp_path,
        model("Qwen/base"),
        model("Qwen/instruct", "Qwen/base"),
        model("u/ft", "Qwen/instruct"),
        model("u/indie-root"),
        model("u/indie-ft", "u/indie-root"),
        model("u/mix", "u/ft", "u/indie-ft", relation="merge"),
    )
    a = attribute(build_graph(store), roots=["qwen/instruct"], root_set="test")
    ids = a.derivatives["id"].to_list()
    assert "Qwen/instruct" not in ids  # a root-set member is not a derivative
    assert roots_of(a, "u/ft") == (["Qwen/instruct"], 1.0)
    assert roots_of(a, "u/indie-ft") == ([], 0.0)  # unattributed, still listed
    assert roots_of(a, "u/mix") == (["Qwen/instruct"], 0.5)


def test_share_counts_only_crawled_derivatives_above_the_download_threshold(tmp_path):
    store = store_of(
        tmp_path,
        model("Qwen/base", created="2024-01-01"),
        model("mistralai/base", created="2023-09-01"),
        model("someone-new/base", created="2023-09-01"),
        model("u/q1", "Qwen/base", created="2025-01-03"),
        model("u/q2", "Qwen/base", created="2025-01-20", downloads=5),  # not > 5
        model("u/m1", "mistralai/base", created="2025-01-31"),
        model("u/mix", "Qwen/base", "mistralai/base", created="2025-02-01", relation="merge"),
        model("u/s1", "someone-new/base", created="2025-02-02"),
    )
    result = share(load_context(store))
    assert result.table.select("month", "group", "count", "weight", "share").rows() == [
        (dt.date(2025, 1, 1), "china", 1, 1.0, 0.5),
        (dt.date(2025, 1, 1), "eu", 1, 1.0, 0.5),
        (dt.date(2025, 2, 1), "unknown", 1, 1.0, 0.5),
        (dt.date(2025, 2, 1), "china", 1, 0.5, 0.25),
        (dt.date(2025, 2, 1), "eu", 1, 0.5, 0.25),
    ]
    by_30d = share(load_context(store), downloads="30d", min_downloads=99)
    assert by_30d.table.height == 5  # all our counters are 100 > 99
    since = share(load_context(store), since="2025-02")
    assert since.table["month"].unique().to_list() == [dt.date(2025, 2, 1)]


def test_region_overrides_and_unmapped_organizations(tmp_path):
    from lineage.analysis import unmapped_organizations

    store = store_of(
        tmp_path,
        model("someone-new/base"),
        model("u/a", "someone-new/base"),
        model("u/b", "someone-new/base"),
    )
    ctx = load_context(store)
    assert unmapped_organizations(ctx).rows() == [("someone-new", 2, 2.0, ["someone-new/base"])]
    regions = tmp_path / "regions.csv"
    regions.write_text("org,region\nsomeone-new,eu\nQwen,us\n")
    ctx = load_context(store, regions=str(regions))
    assert unmapped_organizations(ctx).height == 0
    assert share(ctx).table["group"].to_list() == ["eu"]


def test_topological_levels_mark_cycles():
    levels = topological_levels(
        5, child=pl.Series([1, 2, 3, 4]).to_numpy(), parent=pl.Series([0, 1, 4, 3]).to_numpy()
    )
    assert levels.tolist() == [0, 1, 2, -1, -1]


def test_graph_from_frames_needs_no_store():
    models = pl.DataFrame(
        {
            "id": ["a/x", "b/y"],
            "crawled": [True, True],
            "created_at": [None, None],
            "downloads": [1, 1],
            "downloads_all_time": [1, 1],
            "likes": [0, 0],
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC")},
    )
    edges = pl.DataFrame(
        {
            "child": ["b/y"],
            "parent": ["A/X"],
            "relation": ["finetune"],
            "inferred": [False],
            "source": ["tags"],
            "position": [0],
        },
        schema_overrides={"position": pl.Int32},
    )
    graph = graph_from_frames(models, edges, pl.DataFrame(schema=LOOKUP_SCHEMA))
    assert graph.edges.select("child", "parent").rows() == [(1, 0)]
