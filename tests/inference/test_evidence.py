"""Reading what models' own files say of their sources: real card shapes, hostile files.

fixtures/cards/ holds cards written in the shapes real ones have (a LazyMergekit card, a
mergekit TIES card, a Trainer card, a TheBloke GGUF card whose front matter the Hub cannot
parse, an Unsloth card, a card whose links are all distractors).
"""

from __future__ import annotations

import json

import pytest
from support.toyhub import FIXTURES

from lineage.evidence import (
    MAX_CARD_BYTES,
    MAX_FINDINGS,
    read_adapter_config,
    read_card,
    read_config,
)


def card(name: str) -> bytes:
    return (FIXTURES / "cards" / name).read_bytes()


def found(findings) -> list[tuple[str, str, str | None]]:
    return [(f.kind, f.target, f.relation) for f in findings]


def test_a_lazymergekit_card_names_its_sources_in_order():
    got = found(read_card("mlabonne/Marcoro14-7B-slerp", card("lazymergekit.md")))
    sources = ["AIDC-ai-business/Marcoroni-7B-v3", "EmbeddedLLM/Mistral-7B-Merge-14-v0.1"]
    assert [t for k, t, _ in got if k == "mergekit"] == sources
    assert [t for k, t, _ in got if k == "link"] == sources  # its list of merged models
    # The leaderboard table names the model itself and a model it was compared with.
    assert "teknium/OpenHermes-2.5-Mistral-7B" not in {t for _, t, _ in got}


def test_a_mergekit_card_its_base_first_and_a_lora_suffix_dropped():
    got = found(read_card("someone/merged", card("mergekit-ties.md")))
    assert [t for k, t, _ in got if k == "mergekit"] == [
        "mistralai/Mistral-7B-v0.1",
        "FelixChao/WestSeverus-7B-DPO",
        "jsfs11/WestOrcaNeuralMarco-DPO-v2-DARETIES-7B",
    ]
    assert all(r == "merge" for k, _, r in got if k in ("mergekit", "link"))


def test_a_trainer_card_says_fine_tuned_version_of():
    got = found(read_card("HuggingFaceH4/zephyr-7b-sft-full", card("trainer.md")))
    assert ("link", "mistralai/Mistral-7B-v0.1", "finetune") in got
    assert ("base_model", "mistralai/Mistral-7B-v0.1", None) in got


def test_a_front_matter_the_hub_cannot_parse_is_read_line_by_line():
    # A tab in the YAML: the Hub reads no metadata at all, so no base_model tag.
    got = found(read_card("TheBloke/Llama-2-7B-Chat-GGUF", card("thebloke-gguf.md")))
    assert got[0] == ("base_model", "meta-llama/Llama-2-7b-chat-hf", None)
    # "Original model:" and "GGUF format model files for" name the same model once; the
    # list of other repositories (its siblings, and the original again) is not lineage.
    assert [t for k, t, _ in got if k == "link"] == ["meta-llama/Llama-2-7b-chat-hf"]
    assert all("TheBloke/" not in t for _, t, _ in got)


def test_an_unsloth_card_names_its_base_without_a_link():
    got = found(read_card("someone/llama-3-8b-ft", card("unsloth.md")))
    assert ("link", "unsloth/llama-3-8b-bnb-4bit", "finetune") in got


def test_links_that_are_not_lineage_are_not_evidence():
    # Its own quantizations, other models of the author, a dataset, a space.
    assert read_card("SanjiWatsuki/Kunoichi-7B", card("distractors.md")) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("This is a quantized version of [x/Base-7B](https://hf.co/x/Base-7B).", "x/Base-7B"),
        ("GGUF quants of https://huggingface.co/x/Base-7B/tree/main by llama.cpp", "x/Base-7B"),
        ("Built on top of `x/Base-7B` with DPO.", "x/Base-7B"),
        ("This model is based on **[x/Base-7B](https://huggingface.co/x/Base-7B)**.", "x/Base-7B"),
        ("A LoRA adapter for x/Base-7B trained on cooking.", "x/Base-7B"),
    ],
)
def test_prose_phrases_name_their_model(text, expected):
    assert [f.target for f in read_card("me/model", text.encode())] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "A quantized version of this model: [GGUF](https://huggingface.co/me/model-GGUF).",
        "Based on it, [someone/other](https://huggingface.co/someone/other) was trained.\n\nx",
        "Based on the ideas of the paper.\n\nSee [x/y](https://huggingface.co/x/y) too.",
        "Fine-tuned from scripts in src/train.py and configs/base.yaml.",
        "Original model: [repo](https://github.com/org/repo)",
        "Based on [data](https://huggingface.co/datasets/org/data)",
        "Built on [meta](https://huggingface.co/meta-llama) models",  # an organization
    ],
)
def test_what_is_not_a_source(text):
    assert read_card("me/model", text.encode()) == []


def test_a_card_naming_itself_or_one_model_twice_gives_it_once():
    text = b"---\nbase_model: [me/model, x/a, X/A]\n---\nFine-tuned from [x/a](https://hf.co/x/a)"
    assert found(read_card("Me/Model", text)) == [
        ("base_model", "x/a", None),
        ("link", "x/a", "finetune"),
    ]


def test_misspelled_keys_and_a_relation():
    text = b"---\nBase_Models:\n  - x/a\nbase_model_relation: Quantized\n---\n"
    assert found(read_card("me/m", text)) == [("base_model", "x/a", "quantized")]


def test_hostile_cards_are_read_within_bounds():
    bomb = (
        b"---\na: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
        b"base_model: x/ok\n---\n"
    )
    assert found(read_card("me/m", bomb)) == [("base_model", "x/ok", None)]
    deep = b"---\nbase_model: " + b"[" * 5000 + b"]" * 5000 + b"\n---\n"
    assert read_card("me/m", deep) == []
    many = "\n".join(f"  - model: org/m{i}" for i in range(300))
    merge = f"```yaml\nmodels:\n{many}\nmerge_method: linear\n```".encode()
    assert len(read_card("me/m", merge)) == MAX_FINDINGS
    assert read_card("me/m", b"\x89PNG\r\n\x1a\n\x00\x00\x00") is None  # not text
    bad_ids = b"---\nbase_model: [../../etc/passwd, 'a/b/c', 42, {x: y}, " + b"a" * 300 + b"]\n---"
    assert read_card("me/m", bad_ids) == []
    # Past the limit nothing is read: a card is cut at MAX_CARD_BYTES.
    late = b"x" * MAX_CARD_BYTES + b"\nFine-tuned from [x/a](https://hf.co/x/a)"
    assert read_card("me/m", late) == []


def test_configs():
    config = {
        "_name_or_path": "/home/user/checkpoints/run-3",  # a local path is no id
        "model_type": "llama",
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "intermediate_size": 14336,
        "vocab_size": 128256,
        "num_key_value_heads": 8,
    }
    assert found(read_config("me/m", json.dumps(config).encode())) == [
        ("shape", "llama|4096|32|14336|128256|8", None)
    ]
    config["_name_or_path"] = "meta-llama/Meta-Llama-3-8B"
    config["vocab_size"] = "128256"  # a size that is not an integer: no shape
    assert found(read_config("me/m", json.dumps(config).encode())) == [
        ("name_or_path", "meta-llama/Meta-Llama-3-8B", None)
    ]
    # A multimodal config keeps the language model's sizes under text_config.
    nested = {"model_type": "gemma3", "text_config": {**config, "vocab_size": 262208}}
    assert found(read_config("me/m", json.dumps(nested).encode()))[-1][1].startswith("llama|")
    assert read_config("me/m", b"[1, 2]") is None
    assert read_config("me/m", b"\xff\xfe") is None
    assert read_config("Me/M", b'{"_name_or_path": "me/m"}') == []  # itself


def test_adapter_configs():
    assert found(read_adapter_config("me/l", b'{"base_model_name_or_path": " x/a "}')) == [
        ("adapter_base", "x/a", "adapter")
    ]
    assert read_adapter_config("me/l", b'{"base_model_name_or_path": ["x/a"]}') == []
    assert read_adapter_config("me/l", b"null") is None
