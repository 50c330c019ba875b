"""A small Hub whose consequential roots are what the real Hub's are: re-uploads, merges
whose cards name their sources, fine-tunes with Trainer cards, a GGUF whose front matter
the Hub cannot parse, a config that names the base, a gated model, an original.

Every root's right answer is in ``EXPECTED``. Cards come from fixtures/cards/.
"""

from __future__ import annotations

import json

from support.toyhub import FIXTURES

CARDS = FIXTURES / "cards"
MISTRAL, LLAMA3, LLAMA2C, QWEN = (
    "mistralai/Mistral-7B-v0.1",
    "meta-llama/Meta-Llama-3-8B",
    "meta-llama/Llama-2-7b-chat-hf",
    "Qwen/Qwen2.5-7B",
)
MISTRAL_SHAPE = {
    "model_type": "mistral",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "intermediate_size": 14336,
    "vocab_size": 32000,
    "num_key_value_heads": 8,
}

MERGE_14 = f"""---
tags: [merge]
---
# Mistral-7B-Merge-14-v0.1

```yaml
models:
  - model: {MISTRAL}
  - model: HuggingFaceH4/zephyr-7b-sft-full
    parameters:
      weight: 0.5
merge_method: linear
dtype: float16
```
"""

# root: (parents it gets, root family, methods) -- None: nothing is inferred for it.
EXPECTED = {
    # Its card's mergekit configuration and its list of merged models say the same.
    "mlabonne/Marcoro14-7B-slerp": (
        ["AIDC-ai-business/Marcoroni-7B-v3", "EmbeddedLLM/Mistral-7B-Merge-14-v0.1"],
        MISTRAL,
        {"card-mergekit", "card-link"},
    ),
    "EmbeddedLLM/Mistral-7B-Merge-14-v0.1": (
        [MISTRAL, "HuggingFaceH4/zephyr-7b-sft-full"],
        MISTRAL,
        {"card-mergekit"},
    ),
    "unsloth/llama-3-8b-bnb-4bit": ([LLAMA3], LLAMA3, {"reupload"}),
    "TheBloke/Llama-2-7B-Chat-GGUF": ([LLAMA2C], LLAMA2C, {"card-base-model"}),
    "HuggingFaceH4/zephyr-7b-sft-full": ([MISTRAL], MISTRAL, {"card-base-model", "card-link"}),
    "someone/secret-sauce-7b": ([MISTRAL], MISTRAL, {"config-name"}),
    "gated-org/gated-ft": ([QWEN], QWEN, {"card-link"}),
    "obscure-lab/Original-1B": None,
}


def _model(model_id: str, created: str, tags=(), downloads: int = 1000, **fields) -> dict:
    return {
        "id": model_id,
        "author": model_id.split("/")[0],
        "createdAt": f"{created}T00:00:00.000Z",
        "downloads": downloads // 10,
        "downloadsAllTime": downloads,
        "likes": 1,
        "tags": list(tags),
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        **fields,
    }


def _children(parent: str, n: int, created: str, downloads: int = 100) -> list[dict]:
    name = parent.split("/")[1]
    return [
        _model(f"fan{i}/{name}-ft{i}", created, [f"base_model:finetune:{parent}"], downloads)
        for i in range(n)
    ]


def roots_hub() -> list[dict]:
    """The Hub as JSON records, each model's files under ``files`` (split_files)."""
    trainer = (CARDS / "trainer.md").read_text()
    models = [
        _model(MISTRAL, "2023-09-20", files={"config.json": MISTRAL_SHAPE}),
        _model(LLAMA3, "2024-04-18", gated="manual", files={"README.md": "# Meta Llama 3"}),
        _model(LLAMA2C, "2023-07-18", gated="manual"),
        _model(QWEN, "2024-09-15"),
        _model(
            "AIDC-ai-business/Marcoroni-7B-v3",
            "2023-12-01",
            [f"base_model:finetune:{MISTRAL}"],
            files={"README.md": trainer, "config.json": MISTRAL_SHAPE},
        ),
        # A source of Marcoro14 that declares nothing either, and no derivative: read
        # because Marcoro14's card names it, its own mergekit card leads on.
        _model(
            "EmbeddedLLM/Mistral-7B-Merge-14-v0.1",
            "2023-12-10",
            ["merge"],
            files={"README.md": MERGE_14},
        ),
        # The consequential roots.
        _model(
            "mlabonne/Marcoro14-7B-slerp",
            "2023-12-20",
            ["merge", "mergekit"],
            files={"README.md": (CARDS / "lazymergekit.md").read_text()},
        ),
        _model(
            "unsloth/llama-3-8b-bnb-4bit",
            "2024-04-19",
            ["bitsandbytes", "4-bit"],
            files={"config.json": {"_name_or_path": "unsloth/llama-3-8b", "model_type": "llama"}},
        ),
        _model(
            "TheBloke/Llama-2-7B-Chat-GGUF",
            "2023-09-01",
            ["gguf"],
            library_name="gguf",
            files={"README.md": (CARDS / "thebloke-gguf.md").read_text()},
        ),
        _model(
            "HuggingFaceH4/zephyr-7b-sft-full",
            "2023-10-20",
            files={"README.md": trainer, "config.json": MISTRAL_SHAPE},
        ),
        _model(
            "someone/secret-sauce-7b",
            "2024-01-05",
            files={
                "README.md": "# Secret sauce\n\nOur best model yet. Based on our own research.",
                "config.json": {**MISTRAL_SHAPE, "_name_or_path": MISTRAL},
            },
        ),
        _model(
            "gated-org/gated-ft",
            "2024-10-01",
            gated="auto",
            files={
                "README.md": f"Fine-tuned from [{QWEN}](https://huggingface.co/{QWEN}).",
                "config.json": {"_name_or_path": "/data/run-7"},
            },
        ),
        _model(
            "obscure-lab/Original-1B",
            "2024-02-01",
            files={
                "README.md": "# Original-1B\n\nTrained from scratch on 2T tokens.",
                "config.json": {"model_type": "llama", "hidden_size": 2048},
            },
        ),
    ]
    models += _children("mlabonne/Marcoro14-7B-slerp", 6, "2024-01-10", downloads=5000)
    models += _children("unsloth/llama-3-8b-bnb-4bit", 5, "2024-05-01", downloads=3000)
    models += _children("TheBloke/Llama-2-7B-Chat-GGUF", 3, "2023-10-01")
    models += _children("HuggingFaceH4/zephyr-7b-sft-full", 4, "2023-11-01")
    models += _children("someone/secret-sauce-7b", 3, "2024-02-01")
    models += _children("gated-org/gated-ft", 2, "2024-11-01")
    models += _children("obscure-lab/Original-1B", 2, "2024-03-01", downloads=10)
    # Declared derivatives with derivatives of their own: what calibration reads.
    models += _children("AIDC-ai-business/Marcoroni-7B-v3", 2, "2024-01-01")
    models += _children(MISTRAL, 3, "2023-11-15")
    models += _children(LLAMA3, 2, "2024-05-15")
    return models


def write_jsonl(path) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in roots_hub():
            handle.write(json.dumps(record) + "\n")
