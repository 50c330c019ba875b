"""Stores of dated snapshots written from API-shaped items, for the history tests.

:func:`item` is one model as the Hub's API lists it (parents as ``base_model`` tags);
:func:`snapshot` commits items as the snapshot of one day.
"""

from __future__ import annotations

import datetime as dt

from lineage.records import parse_items
from lineage.store import Store

SEEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def item(
    mid, *parents, downloads=0, total=0, created="2025-01-01", params=None, relation="finetune"
):
    tags = [t for p in parents for t in (f"base_model:{p}", f"base_model:{relation}:{p}")]
    out = {
        "id": mid,
        "createdAt": f"{created}T00:00:00.000Z",
        "downloads": downloads,
        "downloadsAllTime": total,
        "tags": tags,
    }
    if params:
        out["safetensors"] = {"parameters": {"BF16": params}, "total": params}
    return out


def snapshot(store: Store, day: str, *items) -> None:
    batch, _ = parse_items(list(items), seen_at=SEEN, source="list")
    store.commit(batch, snapshot_date=dt.date.fromisoformat(day))
