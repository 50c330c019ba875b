"""Model names as evidence of lineage: format affixes, match keys, and spans of names.

A quantization or conversion is usually named after what it converts, plus a format:
``TheBloke/Llama-2-7B-Chat-GGUF``, ``mlx-community/Qwen2.5-7B-Instruct-4bit``,
``bartowski/gemma-2-9b-it-Q4_K_M-GGUF``, ``RichardErkhov/Qwen_-_Qwen2.5-7B-Instruct-gguf``.
A fine-tune is often named after its base plus words of its own
(``Vikhr-Llama-3.2-1B-Instruct``). This module turns names into what lineage inference
matches, column-wise (polars expressions, no Python per name):

- :func:`strip_formats`: the name without its format affixes (GGUF, GGML, AWQ, GPTQ, EXL2,
  EXL3, MLX, MLC, bnb, ONNX, OpenVINO, i1/imatrix, llama.cpp types such as Q4_K_M or IQ4_XS,
  bit widths such as 4bit or 4.0bpw, FP8/BF16/INT4/W4A16/NF4, GPTQ group sizes, LoRA/PEFT
  markers), peeled from the end (and a few from the start) up to :data:`MAX_PEELS` times;
- :func:`between_names`: the names between a name and its stem (a conversion of a
  conversion names both);
- :func:`match_key`: a case- and separator-insensitive key (``Qwen2.5_7B`` and
  ``qwen2-5-7b`` are the same name; a letter-digit boundary is a separator, so ``Llama3``
  matches ``Llama-3``);
- :func:`key_spans`: every run of whole tokens of a key, the known names a name may contain;
- :func:`embedded_id`: the ``owner_-_name`` form some re-uploaders use for the id they
  convert;
- :func:`reupload_key`: a name as re-uploaders change it: format affixes, the ``-hf``,
  ``-sharded``, ``-safetensors`` or ``-original`` they add and the ``Meta-`` they drop, off
  (``unsloth/llama-3-8b-bnb-4bit`` and ``meta-llama/Meta-Llama-3-8B`` share one key).

The suffix vocabulary here is lineage inference's own: it peels every format affix off a
name to find what the name converts. Whether a model looks quantized at all (what records.py
guesses an undeclared relation by, and ``quality`` checks) is the one shorter rule of
:data:`lineage.vocabulary.QUANTIZED_NAME`.

It must not read stores or decide lineage: :mod:`lineage.inference` does.
"""

from __future__ import annotations

import itertools

import polars as pl

# One format affix (matched case-insensitively as a whole token run at the end of a name).
FORMAT_TOKEN = (
    r"(?:gguf|ggml|ggufs|awq|gptq|gptqmodel|exl2|exl3|mlx|mlc|bnb|bitsandbytes|onnx|openvino"
    r"|ov|hqq|aqlm|eetq|quanto|marlin|autoround|nexa|mnn|rknn|ct2|ctranslate2|dwq"
    r"|i1|imat|imatrix|iq[-_]?imatrix"
    r"|i?q[1-8](?:_[0-9a-z]{1,3}){0,3}"  # llama.cpp types: Q4_K_M, Q8_0, IQ4_XS, Q4_0_4_4
    r"|q[0-9]f[0-9]+(?:_[0-9])?"  # MLC: q4f16_1
    r"|(?:int|uint)?(?:[2-8]|16)[-_]?bits?"  # 4bit, 8-bit, int4bit
    r"|[0-9]+(?:[._][0-9]+)?bpw(?:[-_]?h[0-9])?|h[468]"  # EXL2: 4.0bpw, 6_5bpw-h6
    r"|int[248]|fp8|fp4|fp16|fp32|bf16|f16|f32|nf4|mxfp4|w[48]a(?:4|8|16)"
    r"|(?:fp8|f8)[-_.](?:dynamic|static|block)"
    r"|[0-9]{2,3}g|act-?order"  # GPTQ group size, act-order
    r"|quanti[sz]ed|quant|quants|unsloth"
    r"|q?lora|adapters?|peft)"
)
# Affixes that mean the model is a conversion of another (quantized), not an adapter.
ADAPTER_TOKEN = r"(?:q?lora|adapters?|peft)"
_SUFFIX = rf"(?i)[-_. ]+{FORMAT_TOKEN}$"
_TWO_SUFFIXES = rf"(?i)[-_. ]+{FORMAT_TOKEN}[-_. ]+{FORMAT_TOKEN}$"
_PREFIX = r"(?i)^(?:gguf|ggml|awq|gptq|exl2|mlx|bnb|quanti[sz]ed|[2-8]bit)[-_. ]+"
MAX_PEELS = 6
MAX_TOKENS = 16  # longer keys keep their first tokens for spans (names this long are rare)
MAX_SPAN = 10  # known names longer than this many tokens are matched only whole


def model_name(model_id: pl.Expr) -> pl.Expr:
    """The part of a repo id after its namespace (the whole id when there is none).

    >>> pl.select(model_name(pl.lit(pl.Series(["Qwen/Qwen2.5-7B", "gpt2"])))).to_series().to_list()
    ['Qwen2.5-7B', 'gpt2']
    """
    return model_id.str.slice(model_id.str.find("/", literal=True).fill_null(-1) + 1)


def has_format(name: pl.Expr) -> pl.Expr:
    """Whether :func:`strip_formats` takes anything off a name (one regex pass).

    >>> pl.select(has_format(pl.lit(pl.Series(["x-GGUF", "x"])))).to_series().to_list()
    [True, False]
    """
    return name.str.contains(_SUFFIX) | name.str.contains(_PREFIX)


def strip_formats(name: pl.Expr) -> pl.Expr:
    """A name without its format affixes.

    >>> names = pl.Series(["Llama-2-7B-Chat-GGUF", "gemma-2-9b-it-Q4_K_M-GGUF",
    ...     "Qwen2.5-7B-Instruct-4bit", "x-gptq-4bit-32g-actorder", "Meta-Llama-3.1-8B-FP8-dynamic",
    ...     "mistral-7b-v0.1", "tinyllama-1.1b-i1-GGUF", "Mistral-7B-exl2-4.0bpw", "GGUF"])
    >>> pl.select(strip_formats(pl.lit(names))).to_series().to_list()
    ['Llama-2-7B-Chat', 'gemma-2-9b-it', 'Qwen2.5-7B-Instruct', 'x', 'Meta-Llama-3.1-8B', \
'mistral-7b-v0.1', 'tinyllama-1.1b', 'Mistral-7B', 'GGUF']
    """
    out = name
    for _ in range(MAX_PEELS):
        out = out.str.replace(_SUFFIX, "")
    return out.str.replace(_PREFIX, "")


def between_names(frame: pl.DataFrame, name: str, keep: list[str]) -> pl.DataFrame:
    """The names between each name and its :func:`strip_formats` stem, one row each
    (``keep`` columns and ``between``), for names that lose two affixes or more.

    ``qwen2-0.5b-instruct-mlx-q4`` has ``qwen2-0.5b-instruct-mlx`` between it and its stem
    ``qwen2-0.5b-instruct``: an MLX conversion that was then quantized.

    >>> frame = pl.DataFrame({"i": [1, 2], "n": ["qwen2-0.5b-instruct-mlx-q4", "x-GGUF"]})
    >>> between_names(frame, "n", ["i"]).rows()
    [(1, 'qwen2-0.5b-instruct-mlx')]
    """
    twice = frame.filter(pl.col(name).str.contains(_TWO_SUFFIXES)).select(
        *dict.fromkeys([*keep, name])
    )
    levels = [f"_between{i}" for i in range(MAX_PEELS)]
    previous = name
    for level in levels:
        twice = twice.with_columns(pl.col(previous).str.replace(_SUFFIX, "").alias(level))
        previous = level
    # A level is between when another affix came off after it.
    return (
        twice.with_columns(
            pl.when(pl.col(b) != pl.col(a)).then(pl.col(a)).alias(a)
            for a, b in itertools.pairwise(levels)
        )
        .unpivot(index=keep, on=levels[:-1], value_name="between")
        .drop_nulls("between")
        .select(*keep, "between")
    )


# What re-uploaders add to a name besides a format (converted to Hugging Face format,
# resharded, its files in safetensors, "the original"), peeled like format affixes.
REUPLOAD_TOKEN = (
    r"(?:hf|sharded|resharded|safetensors|original|pytorch|transformers|ckpt|fixed"
    rf"|{FORMAT_TOKEN[3:-1]})"
)
_REUPLOAD_SUFFIX = rf"(?i)[-_. ]+{REUPLOAD_TOKEN}$"
# Prefixes dropped or added by re-uploaders: Meta's own names start with "Meta-".
_REUPLOAD_PREFIX = r"(?i)^(?:meta)[-_. ]+"


def reupload_key(name: pl.Expr) -> pl.Expr:
    """The :func:`match_key` of a name without what re-uploaders add or drop: format
    affixes, ``-hf``, ``-sharded``, ``-safetensors``, ``-original``..., and a ``Meta-``
    prefix. Two models of different organizations with one key are the same weights,
    most likely (a re-upload), or siblings of one name.

    >>> names = pl.Series(["llama-3-8b-bnb-4bit", "Meta-Llama-3-8B",
    ...     "Llama-2-7b-chat-hf-sharded-bf16", "Llama-2-7b-chat-hf", "Mistral-7B-v0.2-hf",
    ...     "Llama-2-7B-bf16-sharded", "hf"])
    >>> pl.select(reupload_key(pl.lit(names))).to_series().to_list()
    ['llama-3-8b', 'llama-3-8b', 'llama-2-7b-chat', 'llama-2-7b-chat', 'mistral-7b-v-0-2', \
'llama-2-7b', 'hf']
    """
    out = strip_formats(name)
    for _ in range(MAX_PEELS):
        out = out.str.replace(_REUPLOAD_SUFFIX, "")
    out = out.str.replace(_REUPLOAD_PREFIX, "")
    # Nothing left (a name that is all affixes): keep the name.
    return match_key(pl.when(out.str.len_chars() > 0).then(out).otherwise(name))


def match_key(name: pl.Expr) -> pl.Expr:
    """A name as a key: lowercase, one '-' between tokens, letter-digit boundaries split.

    >>> keys = pl.Series(["Qwen2.5-7B-Instruct", "qwen2.5_7b_instruct", "Llama3-8B", "v0.1"])
    >>> pl.select(match_key(pl.lit(keys))).to_series().to_list()
    ['qwen-2-5-7b-instruct', 'qwen-2-5-7b-instruct', 'llama-3-8b', 'v-0-1']
    """
    return (
        name.str.to_lowercase()
        .str.replace_all(r"([a-z])([0-9])", "$1-$2")
        .str.replace_all(r"[^a-z0-9]+", "-")
        .str.strip_chars("-")
    )


def embedded_id(name: pl.Expr) -> pl.Expr:
    """The repo id a name embeds as ``owner_-_name`` (RichardErkhov's style), else null.

    >>> pl.select(embedded_id(pl.lit("Qwen_-_Qwen2.5-7B-Instruct"))).item()
    'Qwen/Qwen2.5-7B-Instruct'
    """
    return (
        pl.when(name.str.contains("_-_", literal=True))
        .then(name.str.replace("_-_", "/", literal=True))
        .otherwise(pl.lit(None, pl.String))
    )


def key_spans(frame: pl.DataFrame, key: str, by: str) -> pl.DataFrame:
    """One row per run of whole tokens of each ``key``: ``by``, ``key_tokens``, ``span``
    (the run, as a key) and ``span_tokens``.

    Keys longer than :data:`MAX_TOKENS` tokens use their first ones; runs are at most
    :data:`MAX_SPAN` tokens long. Built by shifting one exploded token column (a run of
    L tokens starting at a row ends L-1 rows further down), so no list is copied per run.

    >>> spans = key_spans(pl.DataFrame({"i": [7], "k": ["a-b-c"]}), "k", "i")
    >>> sorted(spans["span"].to_list())
    ['a', 'a-b', 'a-b-c', 'b', 'b-c', 'c']
    """
    tokens = (
        frame.select(by, pl.col(key).str.split("-").list.head(MAX_TOKENS).alias("span"))
        .with_columns(pl.col("span").list.len().cast(pl.Int32).alias("key_tokens"))
        .explode("span")
    )
    token, owner = tokens["span"], tokens[by]
    runs = tokens.with_columns(
        pl.lit(1, pl.Int32).alias("span_tokens"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
    )
    out = [runs]
    for length in range(2, MAX_SPAN + 1):
        runs = (
            runs.with_columns(
                token.shift(1 - length).gather(runs["_row"]).alias("_next"),
                owner.shift(1 - length).gather(runs["_row"]).alias("_owner"),
            )
            .filter(pl.col("_owner") == pl.col(by))
            .with_columns(
                (pl.col("span") + "-" + pl.col("_next")).alias("span"),
                pl.lit(length, pl.Int32).alias("span_tokens"),
            )
            .drop("_next", "_owner")
        )
        if runs.height == 0:
            break
        out.append(runs)
    return pl.concat(out).select(by, "key_tokens", "span", "span_tokens")
