"""lineage: map who builds on whose open models.

The library behind the ``lineage`` command: each command is a thin layer over one of the
functions below, its library twin (README: Python API), importable from here.

>>> import datetime as dt, tempfile
>>> import lineage
>>> from lineage.records import parse_items
>>> batch, _ = parse_items([
...     {"id": "Qwen/Qwen2.5-7B", "createdAt": "2024-09-19T00:00:00Z", "downloadsAllTime": 900},
...     {"id": "mistralai/Mistral-7B-v0.1", "createdAt": "2023-09-20T00:00:00Z"},
...     {"id": "ana/qwen-ft", "createdAt": "2025-01-10T00:00:00Z", "downloadsAllTime": 50,
...      "tags": ["base_model:Qwen/Qwen2.5-7B"]},
...     {"id": "bo/qwen-ft-GGUF", "createdAt": "2025-01-20T00:00:00Z", "downloadsAllTime": 40,
...      "tags": ["base_model:quantized:ana/qwen-ft"]},
...     {"id": "cy/mistral-ft", "createdAt": "2025-01-25T00:00:00Z", "downloadsAllTime": 30,
...      "tags": ["base_model:mistralai/Mistral-7B-v0.1"]},
... ], seen_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), source="doc")
>>> store = lineage.Store(tempfile.mkdtemp())
>>> store.commit(batch).models_new
5
>>> result = lineage.share(lineage.load_context(store))  # as `lineage share` counts
>>> [(group, count, round(share, 3)) for _, group, count, _, share in result.table.rows()]
[('china', 2, 0.667), ('eu', 1, 0.333)]

Names are imported when first used, so ``import lineage`` (and the command's start) stays
cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

# The package's version (pyproject.toml reads it from here); CHANGELOG.md says what each
# version brought. The store's own format version is lineage.store.FORMAT_VERSION.
__version__ = "0.4.0"

# name -> the module that defines it; each a command's library twin (or what they share).
_TWINS = {
    "Store": "store",  # every command's store
    "Context": "analysis",
    "load_context": "analysis",  # the first step of every analysis command
    "Crawler": "crawl",  # lineage crawl
    "CrawlRequest": "crawl",
    "make_client": "hub",
    "store_info": "info",  # lineage info
    "list_snapshots": "snapshots",  # lineage snapshots
    "ingest_hub_stats": "hubstats",  # lineage ingest hub-stats
    "local_dumps": "backfill",  # lineage ingest hub-stats PATH PATH ... (then backfill)
    "repo_dumps": "hub_archive",  # lineage ingest hub-stats --repo (then backfill)
    "View": "view",  # --as-of, --include-deleted
    "share": "analysis",  # lineage share
    "download_share": "analysis",  # lineage share --metric downloads
    "families": "analysis",  # lineage families
    "tree": "analysis",  # lineage tree
    "quality": "analysis",  # lineage quality
    "unmapped_organizations": "analysis",  # lineage regions --unmapped
    "load_regions": "regions",  # lineage regions
    "infer": "inference",  # lineage infer
    "evaluate": "inference_eval",  # lineage infer --evaluate
    "export_csv": "neo4j.csv",  # lineage neo4j export-csv
    "export_family_html": "html.export",  # lineage export html
    "export_attribution": "attribution_export",  # lineage export attribution
    "write_report": "report",  # lineage report
}
# Not here, because a module of the same name would shadow them: lineage.diff.diff (lineage
# diff), lineage.adoption.adoption (lineage adoption), lineage.backfill.backfill (ingest
# hub-stats of several dumps); and lineage.neo4j.loader.load
# (lineage neo4j load), whose name says too little outside its module.
__all__ = ["__version__", *_TWINS]


def __getattr__(name: str) -> Any:
    module = _TWINS.get(name)
    if module is None:
        raise AttributeError(f"module 'lineage' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_TWINS})
