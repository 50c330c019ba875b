"""Lineage inference on hand-written fixtures whose right answers are known exactly.

fixtures/hub/undeclared.jsonl: four roots, a dozen declared derivatives, and models that
declare nothing: one per format family, an id embedded in a name, a LoRA adapter whose
config names its base, one whose config holds a hostile path, a merge, `Llama-3-8B` under
three namespaces (one too new, one bare, one with declared lineage), a quantization older
than the only model of its name, a GGUF known only by its architecture, and an original.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from support.toyhub import FIXTURES

from lineage.edges import lineage_edges, read_inferred
from lineage.graph import graph_from_frames
from lineage.inference import METHODS, infer, infer_frames, save
from lineage.inference_eval import evaluate, evaluate_frames
from lineage.records import parse_items, parse_raw
from lineage.schema import EDGE_SCHEMA, INFERRED_SCHEMA, LOOKUP_SCHEMA
from lineage.store import Store
from lineage.testing.synthetic import generate

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
Q, QI = "Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B-Instruct"
L3, L31, M = "meta-llama/Meta-Llama-3-8B", "meta-llama/Llama-3.1-8B", "mistralai/Mistral-7B-v0.1"

# child: (parent, root, method, relation)
EXPECTED = {
    "u1/Qwen2.5-7B-Instruct-AWQ": (QI, Q, "name-exact", "quantized"),
    "u2/Qwen2.5-7B-Instruct-GPTQ-Int4": (QI, Q, "name-exact", "quantized"),
    "u3/Mistral-7B-v0.1-exl2-4.0bpw": (M, M, "name-exact", "quantized"),
    "mlx-community/Qwen2.5-7B-Instruct-4bit": (QI, Q, "name-exact", "quantized"),
    "u5/Meta-Llama-3-8B-bnb-4bit": (L3, L3, "name-exact", "quantized"),
    "mradermacher/qwen-chat-ft-i1-GGUF": ("alice/qwen-chat-ft", Q, "name-exact", "quantized"),
    "u7/Qwen2.5-7B-Q4_K_M-GGUF": (Q, Q, "name-exact", "quantized"),
    "u8/mistral-ft-MLX": ("nina/mistral-ft", M, "name-exact", "quantized"),
    "u9/Llama-3.1-8B-FP8-Dynamic": (L31, L31, "name-exact", "quantized"),
    "u10/GGUF-Qwen2.5-7B": (Q, Q, "name-exact", "quantized"),
    "RichardErkhov/Qwen_-_Qwen2.5-7B-Instruct-gguf": (QI, Q, "name-id", "quantized"),
    "u12/Vikhr-Qwen2.5-7B-Instruct-sft": (QI, Q, "name-contained", "finetune"),
    # Three Llama-3-8B: c/ is newer than the child, a/ declares nothing; b/ declares Llama 3.
    # Each names Meta's Meta-Llama-3-8B once re-uploaders' changes are undone (Meta- drops
    # off): a re-upload of the original itself, which its own root, of the organization the
    # name is named after, beats a same-named fine-tune.
    "quant/Llama-3-8B-GGUF": (L3, L3, "reupload", "quantized"),
    "a/Llama-3-8B": (L3, L3, "reupload", "finetune"),
    "dan/my-adapter": (QI, Q, "adapter-config", "adapter"),
    # Both parents' names are in it, as long: the one with more declared children wins.
    "eve/Qwen2.5-7B-Instruct-Mistral-7B-v0.1-slerp": (QI, Q, "name-contained", "merge"),
    "zed/mystery-GGUF": (None, Q, "architecture", "quantized"),
}
# No proposal: only model of its name is newer; a hostile adapter base and a name with
# nothing in it; an original; a plain checkpoint (architecture is not enough for those).
NOTHING = [
    "early/Nemo-12B-GGUF",
    "dan/bad-adapter",
    "someone/totally-original",
    L31,
    Q,
    L3,
    M,
]


def fixture_items() -> list[dict]:
    lines = (FIXTURES / "hub" / "undeclared.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def store_of(path, items, *, skipped: int = 0) -> Store:
    store = Store(path)
    batch, dropped = parse_items(items, seen_at=WHEN, source="test")
    assert dropped == skipped
    store.commit(batch)
    return store


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory) -> Store:
    return store_of(tmp_path_factory.mktemp("undeclared") / "store", fixture_items())


@pytest.fixture(scope="module")
def inferred(fixture_store):
    return infer(fixture_store, now=WHEN)


def test_every_inference_on_the_fixture_is_the_expected_one(inferred):
    got = {
        r["child"]: (r["parent"], r["root"], r["method"], r["relation"])
        for r in inferred.edges.iter_rows(named=True)
    }
    assert got == EXPECTED
    assert inferred.targets == len(EXPECTED) + len(NOTHING)


def test_confidences_are_probabilities_and_rank_the_evidence(inferred):
    edges = inferred.edges
    assert edges.schema == pl.Schema(INFERRED_SCHEMA)
    assert edges["confidence"].is_between(0, 1).all()
    mean = dict(edges.group_by("method").agg(pl.col("confidence").mean()).iter_rows())
    # A format stripped to a known name says more than a name somewhere inside another.
    assert mean["name-exact"] > mean["name-contained"]
    assert mean["adapter-config"] > mean["name-contained"]
    assert (edges["inferred_at"] == WHEN).all()


def test_calibration_counts_the_stores_own_declared_derivatives(inferred):
    cal = inferred.calibration
    assert set(cal["method"]) <= set(METHODS)
    assert (cal["right"] <= cal["declared"]).all()
    assert cal["confidence"].is_between(0, 1).all()
    # bob/qwen-lora declares Qwen2.5-7B-Instruct and its config says the same: a hit.
    adapter = cal.filter((pl.col("method") == "adapter-config") & (pl.col("bucket") != "*"))
    assert adapter["declared"].sum() == 1 and adapter["right"].sum() == 1


def test_a_parent_must_not_be_newer_than_its_child(tmp_path):
    items = [
        {"id": "org/Foo-7B", "createdAt": "2025-01-01T00:00:00Z", "tags": []},
        {"id": "q/Foo-7B-GGUF", "createdAt": "2024-12-31T00:00:00Z", "tags": ["gguf"]},
        {"id": "r/Foo-7B-AWQ", "createdAt": "2025-01-02T00:00:00Z", "tags": ["awq"]},
    ]
    edges = infer(store_of(tmp_path / "s", items), now=WHEN).edges
    assert edges.select("child", "parent").rows() == [("r/Foo-7B-AWQ", "org/Foo-7B")]


def test_a_models_own_descendants_are_never_its_parent(tmp_path):
    # Base declares nothing; its fine-tune shares its name in another namespace and
    # declares it. Without dates the fine-tune would be the base's best match.
    items = [
        {"id": "org/Bar-1B", "tags": []},
        {"id": "fan/Bar-1B", "tags": ["base_model:org/Bar-1B"]},
    ]
    assert infer(store_of(tmp_path / "s", items), now=WHEN).edges.height == 0


def test_hostile_values_are_no_evidence(tmp_path):
    base = "Qwen/Qwen2.5-7B"
    items = [
        {"id": base, "createdAt": "2024-01-01T00:00:00Z", "tags": []},
        *(
            {
                "id": f"x/adapter-{i}",
                "createdAt": "2025-01-01T00:00:00Z",
                "library_name": "peft",
                "tags": ["peft"],
                "config": {"peft": {"base_model_name_or_path": value}},
            }
            for i, value in enumerate(
                ["../../etc/passwd", "a" * 100_000, "Qwen/Qwen2.5-7B/../../x", 42, {"id": base}]
            )
        ),
        {"id": "y/" + "GGUF-" * 18 + "x", "tags": ["gguf"]},
        {"id": "z/_-_", "tags": []},
        # not repo ids (too long; a `..`): the listing parser skips them before inference
        {"id": "y/" + "GGUF-" * 40 + "x", "tags": ["gguf"]},
        {"id": "w/Qwen_-_..-GGUF", "tags": []},
    ]
    edges = infer(store_of(tmp_path / "s", items, skipped=2), now=WHEN).edges
    assert edges.filter(pl.col("method") == "adapter-config").height == 0
    assert edges.height == 0


def test_inference_is_deterministic(fixture_store):
    first = infer(fixture_store, now=WHEN).edges
    shuffled = fixture_items()[::-1]
    models, edges = fixture_store.read("models"), fixture_store.read("edges")
    again = infer_frames(
        models.sample(fraction=1.0, shuffle=True, seed=3),
        edges.sample(fraction=1.0, shuffle=True, seed=4),
        fixture_store.read("lookups"),
        now=WHEN,
    ).edges
    assert len(shuffled) == models.height
    assert again.equals(first)


def test_name_matching_in_slices_gives_the_edges_of_one_pass(fixture_store):
    # Big stores are name-matched a slice of models at a time; a slice boundary may fall
    # anywhere, between a model's spans and its namespace's candidates included.
    models, edges, lookups = (fixture_store.read(t) for t in ("models", "edges", "lookups"))
    whole = infer_frames(models, edges, lookups, now=WHEN, chunk_rows=models.height).edges
    assert whole.filter(pl.col("method").str.starts_with("name-")).height >= 10
    for rows in (1, 2, 7):
        sliced = infer_frames(models, edges, lookups, now=WHEN, chunk_rows=rows).edges
        assert sliced.equals(whole)


def test_saved_apart_from_declared_edges(tmp_path, inferred):
    store = store_of(tmp_path / "s", fixture_items())
    declared = store.file("edges").read_bytes()
    assert not store.exists("inferred_edges")
    save(store, infer(store, now=WHEN))
    assert store.file("inferred_edges").name == "inferred_edges.parquet"
    assert store.file("edges").read_bytes() == declared
    assert read_inferred(store).equals(inferred.edges)
    assert read_inferred(store, min_confidence=0.9)["confidence"].min() >= 0.9


def test_lineage_edges_keeps_inferred_apart_and_drops_stale_ones(inferred, fixture_store):
    declared = fixture_store.read("edges")
    assert lineage_edges(declared, inferred.edges, lineage="declared").height == declared.height
    both = lineage_edges(declared, inferred.edges, lineage="both")
    extra = both.filter(pl.col("lineage") == "inferred")
    assert extra.height == inferred.edges.height
    assert (extra["source"] == "inferred:" + extra["method"]).all()
    # The architecture proposal names only a root: the edge goes to that root.
    assert extra.filter(pl.col("child") == "zed/mystery-GGUF")["parent"].to_list() == [Q]
    # A model that has since declared a parent keeps only its declaration.
    now_declared = pl.DataFrame(
        {
            "child": ["u1/Qwen2.5-7B-Instruct-AWQ"],
            "parent": [Q],
            "relation": ["quantized"],
            "inferred": [False],
            "source": ["tags"],
            "position": [0],
        },
        schema=EDGE_SCHEMA,
    )
    later = lineage_edges(pl.concat([declared, now_declared]), inferred.edges, lineage="both")
    assert later.filter(pl.col("child") == "u1/Qwen2.5-7B-Instruct-AWQ").rows(named=True) == [
        {
            **now_declared.row(0, named=True),
            "lineage": "declared",
            "method": None,
            "confidence": None,
        }
    ]


def test_an_inferred_edge_closing_a_cycle_is_dropped_before_a_declared_one():
    models = pl.DataFrame(
        {"id": ["a/x", "b/y"], "crawled": [True, True], "created_at": [None, None]},
        schema_overrides={"created_at": pl.Datetime("us", "UTC")},
    ).with_columns(
        pl.lit(None, pl.Int64).alias(c) for c in ("downloads", "downloads_all_time", "likes")
    )
    declared = pl.DataFrame(
        {
            "child": ["a/x"],
            "parent": ["b/y"],
            "relation": ["finetune"],
            "inferred": [False],
            "source": ["tags"],
            "position": [0],
        },
        schema=EDGE_SCHEMA,
    )
    guess = pl.DataFrame(
        {
            "child": ["b/y"],
            "parent": ["a/x"],
            "root": ["a/x"],
            "relation": ["finetune"],
            "method": ["name-exact"],
            "confidence": [0.99],
            "evidence": ["x"],
            "inferred_at": [WHEN],
        },
        schema=INFERRED_SCHEMA,
    )
    graph = graph_from_frames(
        models, lineage_edges(declared, guess, lineage="both"), pl.DataFrame(schema=LOOKUP_SCHEMA)
    )
    assert graph.broken.select("child", "parent", "lineage").rows() == [("b/y", "a/x", "inferred")]
    assert graph.edges["lineage"].to_list() == ["declared"]


def test_evaluate_hides_declarations_without_writing(fixture_store):
    before = sorted(p.name for p in fixture_store.path.iterdir())
    result = evaluate(fixture_store, sample=5, seed=1)
    assert sorted(p.name for p in fixture_store.path.iterdir()) == before
    assert result.sample == 5 and result.declared_derivatives == 11
    row = result.thresholds.row(0, named=True)
    assert row["min_confidence"] == 0.0 and 0 <= row["coverage"] <= 1
    assert result.by_method["method"].to_list() == list(METHODS)
    # Qwen2.5-7B, Meta-Llama-3-8B, Mistral-7B-v0.1 (Llama-3.1-8B has no declared children)
    assert result.heads["heads"].unique().to_list() == [3]
    again = evaluate(fixture_store, sample=5, seed=1)
    assert again.thresholds.equals(result.thresholds)


def test_evaluation_on_a_population_named_after_its_families():
    """Synthetic derivatives are named after their root family (user1/Qwen3-7B-ft-123): with
    their declarations hidden, names give back every family, and confidence is calibrated."""
    hub = generate(20_000, seed=7)
    batch = parse_raw(hub.raw, seen_at=WHEN, source="synthetic")
    result = evaluate_frames(
        batch.models, batch.edges, pl.DataFrame(schema=LOOKUP_SCHEMA), sample=1000, seed=2
    )
    everything = result.thresholds.row(0, named=True)
    assert everything["coverage"] > 0.95
    assert everything["root_precision"] > 0.97
    assert everything["region_precision"] >= everything["root_precision"]
    calibrated = result.calibration.filter(pl.col("proposals") >= 50)
    assert (calibrated["root_precision"] - calibrated["mean_confidence"]).abs().max() < 0.1


def test_a_hub_stats_dump_gives_gguf_evidence_but_no_config(tmp_path):
    from support.hubstats_dump import write_hub_stats_dump

    from lineage.hubstats import ingest_hub_stats

    dump = write_hub_stats_dump(fixture_items(), tmp_path / "models.parquet")
    store = Store(tmp_path / "store")
    ingest_hub_stats(store, dump, snapshot_date=dt.date(2026, 1, 5))
    models = {r["id"]: r for r in store.read("models").iter_rows(named=True)}
    assert models["zed/mystery-GGUF"]["gguf_architecture"] == "qwen2"
    assert models["zed/mystery-GGUF"]["gguf_parameters"] == 7615616512
    assert models["dan/my-adapter"]["adapter_base"] is None  # the dump has no config column
    got = {r["child"]: (r["parent"], r["method"]) for r in infer(store).edges.iter_rows(named=True)}
    assert "dan/my-adapter" not in got  # its name says nothing, and its config is not there
    assert got["zed/mystery-GGUF"] == (None, "architecture")
    assert got["quant/Llama-3-8B-GGUF"] == (L3, "reupload")
