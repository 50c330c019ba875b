"""Names as lineage evidence: every format family comes off, keys compare names, spans."""

from __future__ import annotations

import polars as pl
import pytest

from lineage.names import (
    between_names,
    embedded_id,
    key_spans,
    match_key,
    model_name,
    strip_formats,
)

# Real naming patterns, one or more per format family, with the stem a parent would have.
STEMS = [
    ("Llama-2-7B-Chat-GGUF", "Llama-2-7B-Chat"),  # TheBloke
    ("Llama-2-7B-Chat-GGML", "Llama-2-7B-Chat"),
    ("Mistral-7B-Instruct-v0.2-AWQ", "Mistral-7B-Instruct-v0.2"),
    ("Qwen2.5-7B-Instruct-GPTQ-Int4", "Qwen2.5-7B-Instruct"),  # Qwen's own
    ("Llama-2-13B-chat-GPTQ-4bit-32g-actorder", "Llama-2-13B-chat"),
    ("Mistral-7B-v0.1-exl2-4.0bpw", "Mistral-7B-v0.1"),  # EXL2 bits per weight
    ("Magnum-12b-v2-6.5bpw-h8-exl2", "Magnum-12b-v2"),
    ("Mistral-Small-24B-Instruct-2501-EXL3", "Mistral-Small-24B-Instruct-2501"),
    ("Qwen2.5-7B-Instruct-4bit", "Qwen2.5-7B-Instruct"),  # mlx-community
    ("Qwen2.5-7B-Instruct-MLX-8bit", "Qwen2.5-7B-Instruct"),
    ("phi-4-mlx-3Bit", "phi-4"),
    ("Llama-3.2-1B-Instruct-bnb-4bit", "Llama-3.2-1B-Instruct"),  # unsloth
    ("gemma-3-4b-it-unsloth-bnb-4bit", "gemma-3-4b-it"),
    ("tinyllama-1.1b-layla-v4-i1-GGUF", "tinyllama-1.1b-layla-v4"),  # mradermacher
    ("Qwen2.5-1.5B-Instruct-abliterated-Q6_K-GGUF", "Qwen2.5-1.5B-Instruct-abliterated"),
    ("gemma-2-9b-it-Q4_K_M-GGUF", "gemma-2-9b-it"),
    ("Llama-3.2-1B-Instruct-IQ4_XS-GGUF", "Llama-3.2-1B-Instruct"),
    ("Meta-Llama-3.1-8B-Instruct-Q8_0-GGUF", "Meta-Llama-3.1-8B-Instruct"),
    ("Meta-Llama-3.1-8B-Instruct-FP8-dynamic", "Meta-Llama-3.1-8B-Instruct"),  # neuralmagic
    ("Meta-Llama-3.1-8B-Instruct-quantized.w4a16", "Meta-Llama-3.1-8B-Instruct"),
    ("Llama-3-8B-Instruct-q4f16_1-MLC", "Llama-3-8B-Instruct"),  # MLC LLM
    ("Qwen2.5-1.5B-Instruct-openvino-8bit", "Qwen2.5-1.5B-Instruct"),
    ("phi-3-mini-int4-ov", "phi-3-mini"),
    ("mistral-7b-nf4", "mistral-7b"),
    ("Llama-3.1-8B-bf16", "Llama-3.1-8B"),
    ("Qwen2-7B-lora", "Qwen2-7B"),
    ("GGUF-Qwen2.5-7B", "Qwen2.5-7B"),  # a prefix
    ("Qwen_-_Qwen2.5-7B-Instruct-gguf", "Qwen_-_Qwen2.5-7B-Instruct"),  # RichardErkhov
]
# Names that must keep their ending: versions, sizes and words are not formats.
KEPT = [
    "Mistral-7B-v0.1",
    "Llama-2-7b-hf",
    "Qwen2.5-7B-Instruct",
    "Meta-Llama-3-8B",
    "phi-2",
    "gpt2",
    "Mixtral-8x7B-v0.1",
    "starcoder2-15b",
    "DeepSeek-R1-Distill-Qwen-7B",
    "GGUF",  # nothing is left if it all went: keep the name
]


@pytest.mark.parametrize(("name", "stem"), STEMS)
def test_every_format_family_comes_off(name, stem):
    assert pl.select(strip_formats(pl.lit(name))).item() == stem


@pytest.mark.parametrize("name", KEPT)
def test_names_without_a_format_are_kept(name):
    assert pl.select(strip_formats(pl.lit(name))).item() == name


def test_keys_ignore_case_separators_and_letter_digit_boundaries():
    names = pl.Series(["Qwen2.5-7B-Instruct", "qwen2_5-7b_instruct", "QWEN 2.5 7B INSTRUCT"])
    keys = pl.select(match_key(pl.lit(names))).to_series().to_list()
    assert keys == ["qwen-2-5-7b-instruct"] * 3
    assert (
        pl.select(match_key(pl.lit("Llama3-8B"))).item()
        == pl.select(match_key(pl.lit("llama-3-8b"))).item()
    )
    assert pl.select(match_key(pl.lit("--"))).item() == ""


def test_model_name_and_embedded_ids():
    ids = pl.Series(["Qwen/Qwen2.5-7B", "gpt2", "a/b/c"])
    assert pl.select(model_name(pl.lit(ids))).to_series().to_list() == ["Qwen2.5-7B", "gpt2", "b/c"]
    assert pl.select(embedded_id(pl.lit("meta-llama_-_Llama-3.1-8B"))).item() == (
        "meta-llama/Llama-3.1-8B"
    )
    assert pl.select(embedded_id(pl.lit("Llama-3.1-8B"))).item() is None


def test_names_between_a_conversion_of_a_conversion_and_its_stem():
    frame = pl.DataFrame(
        {
            "i": [1, 2, 3],
            "n": ["qwen2-0.5b-instruct-mlx-q4", "x-Q4_K_M-GGUF", "plain-GGUF"],
        }
    )
    assert sorted(between_names(frame, "n", ["i"]).rows()) == [
        (1, "qwen2-0.5b-instruct-mlx"),
        (2, "x-Q4_K_M"),
    ]


def test_spans_are_every_run_of_whole_tokens_up_to_the_limits():
    frame = pl.DataFrame({"i": [1, 2], "k": ["a-b-c", "x"]})
    spans = key_spans(frame, "k", "i").sort("i", "span")
    assert spans.filter(pl.col("i") == 1)["span"].to_list() == [
        "a",
        "a-b",
        "a-b-c",
        "b",
        "b-c",
        "c",
    ]
    assert spans.filter(pl.col("i") == 2).rows() == [(2, 1, "x", 1)]
    long = pl.DataFrame({"i": [1], "k": ["-".join(f"t{n}" for n in range(30))]})
    runs = key_spans(long, "k", "i")
    # 16 tokens kept, runs of at most 10: 16 + 15 + ... + 7
    assert runs.height == sum(range(7, 17))
    assert runs["span_tokens"].max() == 10 and runs["key_tokens"].unique().to_list() == [16]
