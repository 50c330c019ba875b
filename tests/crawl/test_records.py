"""Parsing Hub JSON into typed records: every malformed-card case, relations, order."""

from __future__ import annotations

import datetime as dt

import pytest

from lineage.cards import normalize_parent_id, parse_card_parents
from lineage.records import parse_items

SEEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def parse(*items):
    batch, skipped = parse_items(list(items), seen_at=SEEN, source="list")
    return batch, skipped


def edges(batch):
    return [(c, p, r, i, s) for c, p, r, i, s, _ in batch.edges.rows()]


@pytest.mark.parametrize(
    ("value", "expected", "kinds"),
    [
        ("Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B", []),
        ("  Qwen/Qwen2.5-7B\n", "Qwen/Qwen2.5-7B", ["whitespace"]),
        ("https://huggingface.co/Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B", ["url_form"]),
        ("http://www.huggingface.co/Qwen/Qwen2.5-7B/", "Qwen/Qwen2.5-7B", ["url_form"]),
        ("huggingface.co/models/Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B", ["url_form"]),
        ("https://hf.co/Qwen/Qwen2.5-7B/blob/main/config.json", "Qwen/Qwen2.5-7B", ["url_form"]),
        ("https://huggingface.co/gpt2?x=1", "gpt2", ["url_form"]),
        ("gpt2", "gpt2", []),
        ("", None, ["empty"]),
        ("not an id!", None, ["invalid_id"]),
        ("a/b/c", None, ["invalid_id"]),
        ("../etc/passwd", None, ["invalid_id"]),
        ("x" * 97, None, ["invalid_id"]),
        (3, None, ["non_string"]),
        (None, None, ["non_string"]),
        ({"id": "a/b"}, None, ["non_string"]),
    ],
)
def test_parent_id_normalization(value, expected, kinds):
    parent, problems = normalize_parent_id(value)
    assert parent == expected
    assert [p.kind for p in problems] == kinds


def test_card_reader_keeps_declaration_order_and_drops_self_and_duplicates():
    parents, relation, problems = parse_card_parents(
        "me/merge", '["b/two","a/one","B/TWO","me/MERGE",false]', "Merge "
    )
    assert parents == ["b/two", "a/one"]
    assert relation == "merge"
    assert [p.kind for p in problems] == ["duplicate", "self_reference", "non_string"]


def test_tags_give_parents_and_relations_and_card_order_gives_position():
    batch, _ = parse(
        {
            "id": "x/merge",
            "tags": [
                "base_model:a/one",
                "base_model:merge:a/one",
                "base_model:b/two",
                "base_model:merge:b/two",
            ],
            "cardData": {"base_model": ["b/two", "a/one"]},
        }
    )
    assert batch.edges.select("parent", "position").rows() == [("b/two", 0), ("a/one", 1)]
    assert set(batch.edges["relation"]) == {"merge"}
    assert batch.problems.height == 0


def test_base_models_is_used_when_there_are_no_tags():
    batch, _ = parse(
        {
            "id": "x/q",
            "tags": [],
            "baseModels": {"relation": "Quantized", "models": [{"id": "a/one"}]},
        }
    )
    assert edges(batch) == [("x/q", "a/one", "quantized", False, "baseModels")]


def test_card_is_the_last_resort_and_its_problems_are_counted():
    batch, _ = parse({"id": "x/c", "cardData": {"base_model": " https://huggingface.co/a/one "}})
    assert edges(batch) == [("x/c", "a/one", "finetune", True, "card")]
    assert sorted(batch.problems["kind"]) == ["url_form", "whitespace"]


def test_card_parents_the_hub_ignored_are_flagged_not_followed():
    batch, _ = parse(
        {
            "id": "x/f",
            "tags": ["base_model:a/one", "base_model:finetune:a/one"],
            "cardData": {"base_model": ["a/one", "Some-Model-Without-Namespace"]},
        }
    )
    assert edges(batch) == [("x/f", "a/one", "finetune", False, "tags")]
    assert batch.problems.rows() == [("x/f", "not_on_hub", "Some-Model-Without-Namespace")]


@pytest.mark.parametrize(
    ("item", "relation"),
    [
        ({"id": "u/m-GGUF", "tags": ["gguf"]}, "quantized"),
        ({"id": "u/m-AWQ"}, "quantized"),
        ({"id": "u/m-GPTQ-Int4"}, "quantized"),
        ({"id": "u/m-exl2-4.0bpw"}, "quantized"),
        ({"id": "u/m-bnb-4bit"}, "quantized"),
        ({"id": "u/m", "library_name": "mlx"}, "quantized"),
        ({"id": "u/m-Q4_K_M"}, "quantized"),
        ({"id": "u/m", "library_name": "peft"}, "adapter"),
        ({"id": "u/m-bnb-4bit-lora", "library_name": "peft"}, "adapter"),
        ({"id": "u/m", "tags": ["mergekit"]}, "merge"),
        ({"id": "u/m"}, "finetune"),
        ({"id": "u/m", "cardData": {"base_model_relation": "adapter"}}, "adapter"),
    ],
)
def test_relation_inference_when_nothing_declares_one(item, relation):
    item = {**item, "tags": [*item.get("tags", []), "base_model:org/base"]}
    batch, _ = parse(item)
    [(_, _, got, inferred, _)] = edges(batch)
    assert got == relation
    assert inferred is ("cardData" not in item)


def test_two_bare_parents_are_a_merge():
    batch, _ = parse({"id": "u/m", "tags": ["base_model:a/one", "base_model:b/two"]})
    assert set(batch.edges["relation"]) == {"merge"}
    assert batch.edges["inferred"].all()


def test_self_reference_in_tags_is_dropped_and_counted():
    batch, _ = parse({"id": "u/m", "tags": ["base_model:U/M", "base_model:a/one"]})
    assert batch.edges["parent"].to_list() == ["a/one"]
    assert batch.problems.rows() == [("u/m", "self_reference", "U/M")]


def test_malformed_items_and_fields_are_skipped_or_nulled_not_fatal():
    batch, skipped = parse(
        "not an object",
        {"no": "id"},
        {"id": 5},
        {
            "id": "u/odd",
            "createdAt": "yesterday",
            "downloads": "many",
            "likes": 2.0,
            "tags": ["ok", 3, None],
            "cardData": "a string card",
            "baseModels": [1, 2],
        },
    )
    assert skipped == 3
    row = batch.models.row(0, named=True)
    assert row["created_at"] is None and row["downloads"] is None and row["likes"] == 2
    assert row["tags"] == ["ok"]
    assert row["author"] == "u"


def test_dates_are_utc():
    batch, _ = parse({"id": "u/m", "createdAt": "2024-03-01T23:59:59.000Z"})
    assert batch.models["created_at"].item() == dt.datetime(2024, 3, 1, 23, 59, 59, tzinfo=dt.UTC)


def test_ids_from_tags_and_base_models_pass_the_one_rule():
    import datetime as dt

    from lineage.records import parse_items

    huge = "x" * 100_000
    batch, skipped = parse_items(
        [
            {"id": "me/a", "tags": ["base_model:finetune:a/..", f"base_model:{huge}"]},
            {"id": "me/b", "baseModels": {"models": [{"id": "a/b/c"}, {"id": "ok/parent"}]}},
            {"id": "me/../c", "tags": []},
        ],
        seen_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        source="info",
    )
    assert skipped == 1  # the item whose own id is hostile
    assert batch.edges.select("child", "parent").rows() == [("me/b", "ok/parent")]
    problems = batch.problems.sort("model", "detail").rows()
    assert problems[0] == ("me/a", "bad_tag", "base_model:finetune:a/..")
    assert problems[1][:2] == ("me/a", "bad_tag") and problems[1][2].endswith("(100011 chars)")
    assert problems[2] == ("me/b", "invalid_id", "baseModels: a/b/c")


CARD_VALUES = [
    "Qwen/Qwen2.5-7B",
    '["Qwen/Qwen2.5-7B","meta-llama/Llama-3.1-8B"]',
    '["a/b","A/B"]',  # a duplicate in another case
    '["me/x","a/b"]',  # the model itself
    "ME/X",
    "gpt2",  # no namespace
    "123",
    "inf/x",
    " a/b",
    "a/b ",
    "https://huggingface.co/a/b",
    "hf.co/a",
    "huggingface.co/a/b/tree/main",
    '["a/b", "c/d"]',  # JSON with spaces: not the compact form
    '["a/b\\u0041","c/d"]',
    '["a/b",3]',
    "[]",
    '{"a": 1}',
    "true",
    "a/..",
    "a/b" + "c" * 200,
    '["é/x","a/b"]',  # (characters, not bytes)
    '[""]',
    '["a/b","c/d","A/B"]',
    '["a/b","c/d","e/f"]',
    '["a/b","a/b"]',
    "ü/ß",
    '["a/b","c/d","e/f","g/h"]',
    "",
    None,
]
CARD_RELATIONS = [None, "finetune", "FineTune", " merge", "distill", "quantized", ""]


def test_the_column_wise_card_reader_reads_as_the_per_row_reader_does():
    import polars as pl

    from lineage.records import _card_parents

    rows = [
        (f"me/x{i}" if value != '["me/x","a/b"]' and value != "ME/X" else "me/x", value, rel)
        for i, (value, rel) in enumerate(
            (v, r) for v in CARD_VALUES for r in CARD_RELATIONS if v is not None or r is not None
        )
    ]
    raw = pl.DataFrame(
        rows,
        schema={
            "id": pl.String,
            "card_base_model": pl.String,
            "card_base_model_relation": pl.String,
        },
        orient="row",
    )
    parents, relations, problems = _card_parents(raw)
    want_parents, want_relations, want_problems = [], [], []
    for model_id, value, rel in rows:
        found, declared, issues = parse_card_parents(model_id, value, rel)
        want_parents += [(model_id, p, i) for i, p in enumerate(found)]
        if declared is not None:
            want_relations.append((model_id, declared))
        want_problems += [(model_id, p.kind, p.detail) for p in issues]
    assert parents.select("child", "parent", "card_position").rows() == want_parents
    assert relations.rows() == want_relations
    assert problems.rows() == want_problems


HOSTILE_TAGS = [
    "base_model:a/one",
    "base_model:merge:A/One",  # the same parent in another case: its relation joins it
    "base_model:adapter",  # a relation word without its colon: a legacy id
    "base_model:merge:",
    "base_model:finetune:a/b:c",
    "base_model:quantized:adapter:x/y",
    "base_model:Adapter:a/b",
    "base_model:merge:merge:a/b",
    "base_model::a/b",
    "base_model:c/d\n",
    "base_model:finetune:\nc/d",
    "base_model:" + "x" * 97,
    "base_model:finetune:" + "a" * 96 + "/" + "b" * 96,
    "base_model:a/b/",
    "base_model:é/x",
    "base_model:b/two",
    "base_model:quantized:b/two",
    "base_model:adapter:b/TWO",
    "base_model",
    "xbase_model:a/b",
    "gguf",
]
_TAG_PATTERN = r"base_model:(?:(adapter|finetune|merge|quantized):)?(.*)"


def read_tags(model_id, tags):
    """One model's base_model: tags read one at a time, as the records module says it does:
    the tag pattern, then the repo-id rule; a parent named twice (in any case) is kept once,
    where first named, with the first relation any of its tags gives."""
    import re

    from lineage.repo_id import is_repo_id, quote

    parents, bad = {}, []
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        match = re.fullmatch(_TAG_PATTERN, tag)
        if match is None or not is_repo_id(match.group(2)):
            bad.append((model_id, "bad_tag", quote(tag)))
            continue
        relation, parent = match.groups()
        known = parents.setdefault(parent.lower(), [parent, None])
        known[1] = known[1] or relation
    return [(model_id, p, r) for p, r in parents.values()], bad


def test_base_model_tags_read_column_wise_as_one_at_a_time():
    import random

    import polars as pl

    from lineage.records import _tag_edges

    rng = random.Random(21)
    rows = [(f"me/m{i}", rng.sample(HOSTILE_TAGS, rng.randint(0, 8))) for i in range(300)]
    rows.append(("me/all", HOSTILE_TAGS))
    raw = pl.DataFrame(rows, schema={"id": pl.String, "tags": pl.List(pl.String)}, orient="row")
    edges, bad = _tag_edges(raw)
    want_edges, want_bad = [], []
    for model_id, tags in rows:
        found, problems = read_tags(model_id, tags)
        want_edges += found
        want_bad += problems
    # In each model's tags' order: the order of the rows, and of the positions within one.
    assert edges.sort("row", "tag_position").select("child", "parent", "relation").rows() == (
        want_edges
    )
    assert bad.rows() == want_bad
    assert ("me/all", "adapter", None) in want_edges and len(want_bad) > 300  # both kinds


def test_relations_of_many_models_in_one_batch_go_to_their_own_edges():
    batch, _ = parse(
        {"id": "u/bare", "tags": ["base_model:a/one", "base_model:b/two"]},
        {
            "id": "u/mixed",
            "tags": [
                "base_model:a/x",
                "base_model:merge:b/y",
                "base_model:c/z",
                "base_model:adapter:d/w",
            ],
        },
        {"id": "u/peft", "tags": ["base_model:a/one"], "library_name": "peft"},
        {"id": "u/hub", "baseModels": {"relation": "QUANTIZED", "models": [{"id": "a/one"}]}},
        {"id": "u/card", "cardData": {"base_model": "a/one", "base_model_relation": "adapter"}},
        {"id": "u/tagged", "tags": ["base_model:finetune:a/one"]},
        {"id": "u/card-x", "cardData": {"base_model": ["a/one", "b/two"]}},
    )
    got = {(c, p): (r, i) for c, p, r, i, _ in edges(batch)}
    assert got == {
        ("u/bare", "a/one"): ("merge", True),
        ("u/bare", "b/two"): ("merge", True),
        # a relation on one parent's tag goes to the bare ones: the first in tag order
        ("u/mixed", "a/x"): ("merge", False),
        ("u/mixed", "b/y"): ("merge", False),
        ("u/mixed", "c/z"): ("merge", False),
        ("u/mixed", "d/w"): ("adapter", False),
        ("u/peft", "a/one"): ("adapter", True),
        ("u/hub", "a/one"): ("quantized", False),
        ("u/card", "a/one"): ("adapter", False),
        ("u/tagged", "a/one"): ("finetune", False),
        ("u/card-x", "a/one"): ("merge", True),
        ("u/card-x", "b/two"): ("merge", True),
    }
