"""The Parquet store: upserts, atomic multi-file commits, locking, unreadable files."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing

import polars as pl
import pytest

from lineage.errors import StoreError
from lineage.records import parse_items
from lineage.store import Store

SEEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def batch(*items, crawled=True):
    return parse_items(list(items), seen_at=SEEN, source="list", crawled=crawled)[0]


def test_commit_upserts_replaces_edges_and_keeps_crawled(tmp_path):
    store = Store(tmp_path)
    store.commit(batch({"id": "a/x", "downloads": 1, "tags": ["base_model:b/y"]}))
    store.commit(batch({"id": "a/x", "downloads": 2, "tags": ["base_model:c/z"]}, crawled=False))
    models = store.read("models")
    assert models.rows()[0][:5] == ("a/x", "a", None, None, 2)
    assert models["crawled"].to_list() == [True]  # once crawled, always crawled
    assert store.read("edges")["parent"].to_list() == ["c/z"]


def test_snapshots_keep_one_row_per_model_and_date(tmp_path):
    store = Store(tmp_path)
    day = dt.date(2026, 1, 1)
    store.commit(batch({"id": "a/x", "downloads": 1}), snapshot_date=day)
    store.commit(batch({"id": "a/x", "downloads": 5}), snapshot_date=day)
    store.commit(batch({"id": "a/x", "downloads": 9}), snapshot_date=dt.date(2026, 1, 2))
    assert store.read("snapshots").select("date", "downloads").rows() == [
        (day, 5),
        (dt.date(2026, 1, 2), 9),
    ]


def test_a_commit_cut_short_after_its_manifest_is_rolled_forward(tmp_path):
    store = Store(tmp_path)
    store.commit(batch({"id": "a/old"}))
    # What a process killed between the manifest and the renames leaves behind:
    new_models = batch({"id": "a/new"}).models
    new_models.write_parquet(tmp_path / "models.parquet.cut.tmp")
    pl.DataFrame({"x": [1]}).write_parquet(tmp_path / "stray.parquet.other.tmp")
    (tmp_path / "COMMIT").write_text(json.dumps([["models.parquet.cut.tmp", "models.parquet"]]))
    reopened = Store(tmp_path)
    assert reopened.read("models")["id"].to_list() == ["a/new"]
    assert not (tmp_path / "COMMIT").exists()
    assert not list(tmp_path.glob("*.tmp"))


def test_temp_files_without_a_manifest_are_discarded(tmp_path):
    store = Store(tmp_path)
    store.commit(batch({"id": "a/old"}))
    batch({"id": "a/new"}).models.write_parquet(tmp_path / "models.parquet.cut.tmp")
    assert Store(tmp_path).read("models")["id"].to_list() == ["a/old"]
    assert not list(tmp_path.glob("*.tmp"))


def _hold_lock(path, ready, release):
    with Store(path).lock():
        ready.set()
        release.wait(10)


def test_one_writer_at_a_time(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(20)
        with (
            pytest.raises(StoreError, match="in use by another lineage process"),
            Store(tmp_path).lock(),
        ):
            pass
    finally:
        release.set()
        holder.join(10)
    with Store(tmp_path).lock():
        pass  # free again once the holder is gone


def test_an_unreadable_table_is_a_store_error_naming_the_file(tmp_path):
    store = Store(tmp_path)
    (tmp_path / "models.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match=r"models\.parquet cannot be read"):
        store.read("models")


def test_a_new_snapshot_date_does_not_rewrite_earlier_ones(tmp_path):
    store = Store(tmp_path)
    store.commit(batch({"id": "a/x", "downloads": 1}), snapshot_date=dt.date(2026, 1, 1))
    first = tmp_path / "snapshots" / "2026-01-01.parquet"
    before = first.stat().st_mtime_ns
    store.commit(batch({"id": "b/y", "downloads": 2}), snapshot_date=dt.date(2026, 1, 2))
    assert sorted(p.name for p in (tmp_path / "snapshots").iterdir()) == [
        "2026-01-01.parquet",
        "2026-01-02.parquet",
    ]
    assert first.stat().st_mtime_ns == before
    # Another batch on the first date keeps that date's other models.
    store.commit(batch({"id": "c/z", "downloads": 3}), snapshot_date=dt.date(2026, 1, 1))
    assert store.read("snapshots").select("id", "date").sort("date", "id").rows() == [
        ("a/x", dt.date(2026, 1, 1)),
        ("c/z", dt.date(2026, 1, 1)),
        ("b/y", dt.date(2026, 1, 2)),
    ]
