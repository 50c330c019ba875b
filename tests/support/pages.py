"""What a family tree page embeds, read back, and a store of hostile text to page.

:func:`page_data` is the JSON a page embeds, as the page's script parses it;
:func:`hostile_store` a store whose ids and card fields are every payload of the browser
harness (:data:`support.browser.XSS_PAYLOADS`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import polars as pl

from lineage.records import Batch
from lineage.schema import EDGE_SCHEMA, MODEL_SCHEMA, PROBLEM_SCHEMA
from lineage.store import Store
from support.browser import XSS_PAYLOADS

SEEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
DATA_BLOCK = re.compile(
    r'<script type="application/json" id="family-data">(.*?)</script>', re.DOTALL
)


def page_data(path: str | Path) -> dict:
    """The JSON a page embeds (exactly one block), as the page's script parses it."""
    text = Path(path).read_text(encoding="utf-8")
    blocks = DATA_BLOCK.findall(text)
    assert len(blocks) == 1
    return json.loads(blocks[0])


HOSTILE_ROOT = "lab/" + XSS_PAYLOADS[1]


def hostile_store(path: Path) -> Store:
    """Models whose ids and card fields are every payload of the browser harness.

    The parser rejects such ids, so the tables are written as a store could hold them
    after a parser bug: the page must be safe whatever the store says.
    """
    ids = [HOSTILE_ROOT]
    ids += [f"{p}/m{i}" for i, p in enumerate(XSS_PAYLOADS)]
    ids += [f"u{i}/{p}" for i, p in enumerate(XSS_PAYLOADS)]
    n = len(ids)
    models = pl.DataFrame(
        {
            "id": ids,
            "author": [i.split("/")[0] for i in ids],
            "created_at": [SEEN] * n,
            "last_modified": [SEEN] * n,
            "downloads": list(range(n)),
            "downloads_all_time": [10 * k for k in range(n)],
            "likes": [1] * n,
            "pipeline_tag": [XSS_PAYLOADS[k % len(XSS_PAYLOADS)] for k in range(n)],
            "library_name": [XSS_PAYLOADS[-1 - k % len(XSS_PAYLOADS)] for k in range(n)],
            "tags": [[p] for p in ids],
            "parameters": [None] * n,
            **dict.fromkeys(("model_type", "gguf_architecture", "gguf_parameters"), [None] * n),
            "adapter_base": [None] * n,
            "crawled": [True] * n,
            "seen_at": [SEEN] * n,
            "source": ["test"] * n,
        },
        schema=MODEL_SCHEMA,
    )
    relations = ["finetune", "adapter", "quantized", "merge"]
    edges = pl.DataFrame(
        {
            "child": ids[1:],
            "parent": [HOSTILE_ROOT] * (n - 1),
            "relation": [relations[k % 4] for k in range(n - 1)],
            "inferred": [False] * (n - 1),
            "source": ["tags"] * (n - 1),
            "position": [0] * (n - 1),
        },
        schema=EDGE_SCHEMA,
    )
    store = Store(path)
    store.commit(Batch(models, edges, pl.DataFrame(schema=PROBLEM_SCHEMA)))
    return store
