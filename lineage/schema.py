"""Every table's columns and types, in one place: what the store keeps, what parsing makes,
what the listing and export commands print.

- The parsed record tables (:mod:`lineage.records` fills them): :data:`RAW_SCHEMA` (a Hub
  answer laid out, no interpretation), :data:`MODEL_SCHEMA`, :data:`EDGE_SCHEMA`,
  :data:`PROBLEM_SCHEMA`.
- The store's tables (:mod:`lineage.store` reads and writes them), by name in :data:`TABLES`,
  with the columns without which a file is not that table in :data:`TABLE_KEYS`. Their files
  and columns are a public interface (the README's "Store format"): change them only with a
  new format version (:data:`lineage.store.FORMAT_VERSION`).
- What commands print or write outside the store: :data:`SNAPSHOTS_SCHEMA` (``lineage
  snapshots``), :data:`ATTRIBUTION_SCHEMA` (``lineage export attribution``).

This module holds declarations only: it imports polars and nothing of lineage, so every other
module can import it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, NotRequired, TypedDict

import polars as pl

UTC_US = pl.Datetime("us", "UTC")

RAW_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "author": pl.String(),
    "created_at": UTC_US,
    "last_modified": UTC_US,
    "downloads": pl.Int64(),
    "downloads_all_time": pl.Int64(),
    "likes": pl.Int64(),
    "pipeline_tag": pl.String(),
    "library_name": pl.String(),
    "tags": pl.List(pl.String()),
    "parameters": pl.Int64(),
    # What the Hub says of the weights themselves (listing ``config`` and ``gguf``, the
    # dump's ``gguf``): evidence for lineage inference, never a declaration.
    "model_type": pl.String(),  # config.model_type
    "gguf_architecture": pl.String(),  # gguf.architecture
    "gguf_parameters": pl.Int64(),  # gguf.total
    "adapter_base": pl.String(),  # config.peft.base_model_name_or_path, as written
    "base_models_relation": pl.String(),
    "base_models": pl.List(pl.String()),
    "card_base_model": pl.String(),
    "card_base_model_relation": pl.String(),
}

MODEL_SCHEMA: dict[str, pl.DataType] = {
    **{k: v for k, v in RAW_SCHEMA.items() if not k.startswith(("base_models", "card_"))},
    # True when the model's descendants were crawled (it belongs to a crawled family);
    # False for parents known only because a family member declared them.
    "crawled": pl.Boolean(),
    "seen_at": UTC_US,
    "source": pl.String(),
}

EDGE_SCHEMA: dict[str, pl.DataType] = {
    "child": pl.String(),
    "parent": pl.String(),
    "relation": pl.String(),
    "inferred": pl.Boolean(),
    "source": pl.String(),  # tags | baseModels | card
    "position": pl.Int32(),  # declaration order among the child's parents, from 0
}

PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "kind": pl.String(),
    "detail": pl.String(),
}

# What the store keeps per model beyond its record (see the module docstring).
STORED_MODEL_SCHEMA: dict[str, pl.DataType] = {
    **MODEL_SCHEMA,
    "last_seen": pl.Date(),  # the date of the observation its record came from
    "seen_commit": pl.Int64(),  # the commit generation of that observation (0: adopted)
    "key": pl.Int32(),  # its snapshot key: given once, at first sight, never changed
}

LOOKUP_SCHEMA: dict[str, pl.DataType] = {
    "query": pl.String(),  # the id as declared
    "id": pl.String(),  # the Hub's current id, null when missing
    "status": pl.String(),  # found | renamed | missing
    "looked_up_at": UTC_US,
}

COUNTERS = ("downloads", "downloads_all_time", "likes")

# The snapshots as the store reads them out: one row per model and date.
SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "date": pl.Date(),
    "downloads": pl.Int64(),
    "downloads_all_time": pl.Int64(),
    "likes": pl.Int64(),
}
# A snapshot file (snapshots/date=YYYY-MM-DD/part-0.parquet): the date is its directory's.
SNAPSHOT_FILE_SCHEMA: dict[str, pl.DataType] = {
    "key": pl.Int32(),
    "downloads": pl.Int64(),
    "downloads_all_time": pl.Int64(),
    "likes": pl.Int64(),
}

CRAWL_SCHEMA: dict[str, pl.DataType] = {
    "crawl_id": pl.String(),
    "kind": pl.String(),  # crawl | ingest
    "started_at": UTC_US,
    "finished_at": UTC_US,
    "endpoint": pl.String(),
    "roots": pl.List(pl.String()),
    "strategy": pl.String(),  # walk | sweep | auto | auto: sweep | all | new | hub-stats
    "requests": pl.Int64(),
    "lookups": pl.Int64(),
    "retries": pl.Int64(),
    "models_seen": pl.Int64(),
    "models_new": pl.Int64(),
    "models_updated": pl.Int64(),
    "edges": pl.Int64(),
    "problems": pl.Int64(),
    "snapshot_date": pl.Date(),  # the date its download counters were recorded under
    # A crawl's listing self-checks (lineage.paging): models served twice across pages, and
    # createdAt going up; nonzero means the Hub changed under the crawl. Null: not checked.
    "listing_duplicates": pl.Int64(),
    "listing_order_breaks": pl.Int64(),
    # The observation (format 3): its date, whether it listed every public model, and the
    # commit generation that recorded it.
    "observed": pl.Date(),
    "complete": pl.Boolean(),
    "generation": pl.Int64(),
}


class CrawlRecord(TypedDict):
    """What a run tells :meth:`Store.commit` for its crawl-log row (``crawls`` table).

    The rest of the row (``models_seen``, ``models_new``, ``models_updated``, ``edges``,
    ``problems``, ``snapshot_date``, ``observed``, ``complete``, ``generation``) is the
    commit's own; see :data:`CRAWL_SCHEMA`.
    """

    crawl_id: str | None  # None only for a journal written before crawl ids
    kind: Literal["crawl", "ingest"]
    started_at: dt.datetime
    finished_at: dt.datetime
    endpoint: str
    roots: list[str]
    strategy: str
    requests: int
    lookups: int
    retries: int
    # A crawl's listing self-checks; an ingest has none (null in the table).
    listing_duplicates: NotRequired[int]
    listing_order_breaks: NotRequired[int]


# Lineage proposed by `lineage infer` for models that declare none (lineage.inference):
# kept apart from the declared edges, never counted unless asked (--lineage).
INFERRED_SCHEMA: dict[str, pl.DataType] = {
    "child": pl.String(),
    "parent": pl.String(),  # null when only a root family is proposed (architecture)
    "root": pl.String(),  # the root family the proposal puts the child in
    "relation": pl.String(),  # adapter | finetune | merge | quantized, guessed
    "method": pl.String(),  # adapter-config | name-id | name-exact | name-contained | architecture
    "confidence": pl.Float64(),  # estimated probability that ``root`` is right
    "evidence": pl.String(),  # what matched: a name, an adapter base, an architecture
    "inferred_at": UTC_US,
}

# What models' own files (model card, config.json, adapter_config.json) say of their
# parents, read by `lineage infer --resolve-roots` (lineage.roots, lineage.evidence): one
# row per finding, and one row with a null kind for a file read (or asked for) that said
# nothing, so that no file is asked for twice. Evidence, not lineage: lineage.inference
# turns it into inferred edges.
FILE_EVIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),  # the model whose file it is
    "file": pl.String(),  # README.md | config.json | adapter_config.json
    "status": pl.String(),  # read | absent | missing | refused | unreadable
    "kind": pl.String(),  # base_model | mergekit | link | name_or_path | adapter_base | shape
    "target": pl.String(),  # the repo id named (a shape: its fingerprint), as written
    "relation": pl.String(),  # what the file says the model is of it, when it says
    "position": pl.Int32(),  # order of the findings of a kind in the file
    "detail": pl.String(),  # the words that said it (at most 200 characters)
    "fetched_at": UTC_US,
}

TABLES: dict[str, dict[str, pl.DataType]] = {
    "models": STORED_MODEL_SCHEMA,
    "edges": EDGE_SCHEMA,
    "problems": PROBLEM_SCHEMA,
    "lookups": LOOKUP_SCHEMA,
    "snapshots": SNAPSHOT_SCHEMA,
    "crawls": CRAWL_SCHEMA,
    "inferred_edges": INFERRED_SCHEMA,
    "file_evidence": FILE_EVIDENCE_SCHEMA,
}

# The columns without which a file is not that table (others read as nulls if absent).
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "models": ("id", "crawled"),
    "edges": ("child", "parent"),
    "problems": ("model", "kind"),
    "lookups": ("query", "status"),
    "snapshots": ("key",),
    "crawls": ("crawl_id", "kind"),
    "inferred_edges": ("child", "method"),
    "file_evidence": ("model", "file"),
}
LEGACY_SNAPSHOT_KEYS = ("id", "date")

# `lineage snapshots`: one row per snapshot date (lineage.snapshots).
SNAPSHOTS_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "models": pl.UInt32(),
    "downloads": pl.Int64(),
    "downloads_all_time": pl.Int64(),
    "complete": pl.Boolean(),
    "made_by": pl.List(pl.String()),
}

# A date's totals: kept in its snapshot file's metadata (lineage.store), or in derived/
# for files that keep none (lineage.snapshots.snapshot_totals).
SNAPSHOT_TOTALS_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "models": pl.UInt32(),
    "downloads": pl.Int64(),
    "downloads_all_time": pl.Int64(),
}

# `lineage export attribution` (lineage.attribution_export): one row per (model, root).
ATTRIBUTION_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),  # the model's id
    "model_org": pl.String(),  # its namespace (null for legacy ids without one)
    "kind": pl.String(),  # derivative | root (a root counts for itself)
    "relation": pl.String(),  # a derivative's relation to its first-declared parent
    "depth": pl.Int32(),  # steps from its root along first-declared parents (0: a root)
    "root": pl.String(),  # the root (family) id the weight goes to
    "root_org": pl.String(),
    "root_region": pl.String(),  # us | china | eu | other | unknown
    "weight": pl.Float64(),  # the model's weight for that root (a derivative's sum to <= 1)
    # The rule, stated in every row:
    "root_set": pl.String(),  # all | atom | atom-extended | file:PATH
    "multi_parent": pl.String(),  # split | first | all
    "lineage": pl.String(),  # declared | inferred | both (with its confidence)
    "regions": pl.String(),  # packaged, or packaged+FILE
    "view": pl.String(),  # present | all | as-of YYYY-MM-DD: which models the graph held
}
