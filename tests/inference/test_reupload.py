"""Re-uploads by name, and what shapes may not say: the rules that keep origins origins.

Real ids from the 30k real edges' consequential models (no dates there: the rules must
hold without them).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lineage.inference import infer_frames
from lineage.names import reupload_key
from lineage.schema import EDGE_SCHEMA, FILE_EVIDENCE_SCHEMA, LOOKUP_SCHEMA

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def frames(ids: list[str], declared: list[tuple[str, str]]) -> tuple[pl.DataFrame, ...]:
    models = pl.DataFrame({"id": ids, "crawled": [True] * len(ids)})
    edges = pl.DataFrame(
        {
            "child": [c for c, _ in declared],
            "parent": [p for _, p in declared],
            "relation": "finetune",
            "inferred": False,
            "source": "tags",
            "position": 0,
        },
        schema=EDGE_SCHEMA,
    )
    return models, edges, pl.DataFrame(schema=LOOKUP_SCHEMA)


def proposals(ids, declared, evidence=None) -> dict[str, tuple[str | None, str, str]]:
    result = infer_frames(*frames(ids, declared), now=WHEN, evidence=evidence)
    return {r["child"]: (r["parent"], r["root"], r["method"]) for r in result.edges.to_dicts()}


@pytest.mark.parametrize(
    "a, b",
    [
        ("llama-3-8b-bnb-4bit", "Meta-Llama-3-8B"),
        ("Llama-2-7b-chat-hf-sharded-bf16", "Llama-2-7b-chat-hf"),
        ("Llama-2-7B-bf16-sharded", "Llama-2-7b-hf"),
        ("Mistral-7B-v0.2-hf", "Mistral-7B-v0.2"),
        ("Meta-Llama-3.1-8B-Instruct-GGUF", "Llama-3.1-8B-Instruct"),
    ],
)
def test_what_re_uploaders_change_is_undone(a, b):
    keys = pl.select(reupload_key(pl.lit(pl.Series([a, b])))).to_series()
    assert keys[0] == keys[1]


def test_versions_sizes_and_words_are_not(tmp_path):
    names = pl.Series(["Mistral-7B-v0.1", "Mistral-7B-v0.2", "Llama-3-8B", "Llama-3-70B",
                       "Qwen2.5-7B", "Qwen2.5-7B-Instruct"])  # fmt: skip
    keys = pl.select(reupload_key(pl.lit(names))).to_series()
    assert keys.n_unique() == names.len()


def test_a_re_upload_gets_the_original_its_own_root():
    meta = "meta-llama/Meta-Llama-3-8B"
    ids = [meta, "unsloth/llama-3-8b", "unsloth/llama-3-8b-bnb-4bit", "a/ft", "b/ft", "c/ft"]
    got = proposals(ids, [("a/ft", meta), ("b/ft", "unsloth/llama-3-8b-bnb-4bit"),
                          ("c/ft", "unsloth/llama-3-8b")])  # fmt: skip
    # Both of unsloth's reach Meta's: the 4-bit one straight (the original is its own root,
    # of the organization the name is named after), not through its sibling.
    assert got["unsloth/llama-3-8b-bnb-4bit"][:2] == (meta, meta)
    assert got["unsloth/llama-3-8b"] == (meta, meta, "reupload")
    assert meta not in got


def test_a_model_of_its_names_own_organization_is_never_a_re_upload():
    # Without dates, Meta's Instruct and NousResearch's copy look alike; Meta's is named
    # after its own organization, NousResearch's is not: only the copy gets an original.
    meta, nous = "meta-llama/Llama-3.1-8B-Instruct", "NousResearch/Meta-Llama-3.1-8B-Instruct"
    ids = [meta, nous, "a/x", "b/y"]
    got = proposals(ids, [("a/x", meta), ("b/y", nous)])
    assert got[nous][0] == meta
    assert meta not in got or got[meta][0] != nous


def test_an_origins_model_gets_no_parent_outside_the_origins_by_name():
    qwen, unsloth = "Qwen/Qwen2.5-7B-Instruct", "unsloth/Qwen2.5-7B-Instruct"
    got = proposals([qwen, unsloth, "a/x", "b/y"], [("a/x", qwen), ("b/y", unsloth)])
    assert qwen not in got
    assert got[unsloth][0] == qwen


def test_a_shape_gives_no_family_to_an_origins_model():
    # Mistral's original and a model of an organization without a region share a config
    # shape with Llama 2's fine-tunes, whose configs were read: the unplaced one gets Llama
    # 2's family by shape; Mistral's original does not (its shape may be its own).
    shape = "llama|4096|32|11008|32000|32"
    llama = "meta-llama/Llama-2-7b-hf"
    fine = [f"u{i}/llama2-ft{i}" for i in range(3)]
    ids = [llama, *fine, "mistralai/Mistral-7B-v0.1", "someone/opaque-7b", "d/x", "e/y"]
    declared = [*((f, llama) for f in fine), ("d/x", "mistralai/Mistral-7B-v0.1"),
                ("e/y", "someone/opaque-7b")]  # fmt: skip
    rows = [
        {"model": m, "file": "config.json", "status": "read", "kind": "shape", "target": shape,
         "relation": None, "position": 0, "detail": shape, "fetched_at": WHEN}
        for m in [*fine, "mistralai/Mistral-7B-v0.1", "someone/opaque-7b"]
    ]  # fmt: skip
    evidence = pl.DataFrame(rows, schema=FILE_EVIDENCE_SCHEMA)
    got = proposals(ids, declared, evidence)
    assert got["someone/opaque-7b"] == (None, llama, "config-shape")
    assert "mistralai/Mistral-7B-v0.1" not in got
