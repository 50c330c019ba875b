"""The words lineage's options and columns are made of, each defined once.

Every closed set of choices (crawl strategies, multi-parent rules, groupings, download
windows, regions, relations, lineage kinds, metrics, colour modes) is a ``Literal`` type and a
tuple of its values, taken from the type with :func:`typing.get_args`, so that a type
checker, the library's own validation and the CLI's ``click.Choice(get_args(...))`` cannot
drift apart. Two rules that several modules apply also live here: the order relations are
shown in, and what makes a model's name, library or tags "look quantized".

It must not import anything from lineage: every other module may import it.

>>> RELATIONS
('adapter', 'finetune', 'merge', 'quantized')
>>> RELATION_ORDER
('finetune', 'adapter', 'quantized', 'merge')
>>> import re
>>> [bool(re.search(QUANTIZED_NAME, n)) for n in ("me/Qwen2.5-7B-Q4_K_M", "me/Qwen2.5-7B-it")]
[True, False]
"""

from __future__ import annotations

from typing import Literal, get_args

Strategy = Literal["auto", "walk", "sweep"]
"""How a crawl finds a family: walk child by child, sweep the Hub, or pick by size."""
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)

MultiParent = Literal["split", "first", "all"]
"""How a model with several roots counts: 1/k to each, all to the first parent's, 1 to each."""
MULTI_PARENT: tuple[MultiParent, ...] = get_args(MultiParent)

Grouping = Literal["region", "family", "org", "builder-region"]
"""What ``share`` groups by: the root's region, root model, root organization, the builder's
region."""
GROUPINGS: tuple[Grouping, ...] = get_args(Grouping)

DownloadWindow = Literal["all", "30d"]
"""Which download counter a filter reads: all-time or the last 30 days."""
DOWNLOAD_WINDOWS: tuple[DownloadWindow, ...] = get_args(DownloadWindow)

Region = Literal["us", "china", "eu", "other", "unknown"]
"""A root organization's region (the packaged table's, or the user's)."""
REGIONS: tuple[Region, ...] = get_args(Region)

RootSet = Literal["all", "atom", "atom-extended"]
"""The named root sets (``--roots`` also takes a file of ids)."""
ROOT_SETS: tuple[RootSet, ...] = get_args(RootSet)

Relation = Literal["adapter", "finetune", "merge", "quantized"]
"""A derivative's relation to its parent, as the Hub's ``base_model:<relation>:`` tags and
cards' ``base_model_relation`` spell it (alphabetical: the order of the Hub's docs)."""
RELATIONS: tuple[Relation, ...] = get_args(Relation)

RELATION_ORDER: tuple[Relation, ...] = ("finetune", "adapter", "quantized", "merge")
"""The order relations are shown in (tables, charts, legends, the HTML page): most common
first, merges last."""

Lineage = Literal["declared", "inferred", "both"]
"""Which lineage an analysis counts: declared by cards, inferred by ``lineage infer``, both."""
LINEAGES: tuple[Lineage, ...] = get_args(Lineage)

# The confidence at or above which inferred lineage counts (``--min-confidence``), chosen by
# `lineage infer --evaluate` on 30k real declared edges (docs/methodology.md): the lowest
# confidence whose region precision reached 95% (root-family precision there: 92%, at about
# half of hidden derivatives covered); higher thresholds gained little precision for much
# coverage.
DEFAULT_MIN_CONFIDENCE = 0.8

Metric = Literal["derivatives", "downloads", "both"]
"""What ``share`` measures: new derivatives, last-30-days downloads at each snapshot, both."""
METRICS: tuple[Metric, ...] = get_args(Metric)

Cadence = Literal["month", "week"]
"""How often ``ingest hub-stats --repo`` takes a dump: the last one of each month or ISO week."""
CADENCES: tuple[Cadence, ...] = get_args(Cadence)

ColorMode = Literal["region", "relation", "org"]
"""How the HTML family tree colours its nodes."""
COLOR_MODES: tuple[ColorMode, ...] = get_args(ColorMode)

# "Looks quantized": a model whose name carries a quantization format (GGUF, AWQ, GPTQ, EXL2,
# MLX, bitsandbytes, 4bit/int8bit, llama.cpp's Q4_K_M and kin, FP8, NF4, "quantized"), whose
# library is a quantized runtime, or whose tags name a quantization tool. records.py uses it
# to guess an undeclared relation, analysis.py's quality check to find parentless models
# that look derived; they used to keep two rules, and the narrower one (analysis.py's)
# missed Q4_K_M, -int4bit, bitsandbytes and -quantized names that records.py calls quantized.
QUANTIZED_NAME = (
    r"(?i)(gguf|awq|gptq|exl2|exl3|mlx|bnb|bitsandbytes|[-_.](?:int)?[48]-?bits?\b"
    r"|[-_.]q[2-8](?:_k)?(?:_[msl0-9])?\b|fp8|nf4|quantized)"
)
QUANTIZED_LIBRARIES = ("gguf", "mlx")
QUANTIZED_TAGS = ("gguf", "awq", "gptq", "exl2", "mlx", "bitsandbytes", "4-bit", "8-bit")
ADAPTER_TAGS = ("peft", "lora", "adapter")
MERGE_TAGS = ("merge", "mergekit")
