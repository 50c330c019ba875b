"""Damaged store files, of each table and in each way: named, nothing requested, nothing lost.

A copy of a crawled store gets one file truncated, overwritten with garbage, emptied, hit
in its data pages (footer intact) or deleted. Then every command is run as a user would:
each that reads the file stops with one line naming it and saying what to do; a crawl
stops before its first request (the fake Hub counts them); an ingest before reading its
dump; and no file of the store changes.
"""

from __future__ import annotations

import shutil

import pytest
from support.hubstats_dump import write_hub_stats_dump
from support.storecheck import files_of, run
from support.toyhub import client_for, toy_models, toy_renames

from lineage.crawl import Crawler, CrawlRequest
from lineage.errors import StoreError
from lineage.records import Batch
from lineage.store import Store
from lineage.testing.fakehub import FakeHub

TABLES = ["models", "edges", "problems", "lookups", "crawls", "snapshots"]
DAMAGES = ["truncated", "garbage", "empty", "pages", "missing"]
REMEDY = "restore it from a backup, or crawl again into a new store (--store NEW_DIR)"
# What `share` reads: the graph (models, edges, lookups) and, for which models are present,
# the crawl log; the rest it never opens.
SHARE_READS = {"models", "edges", "lookups", "crawls"}
# A command that reads every column of the table.
READER = {
    "models": ("quality",),
    "edges": ("families",),
    "problems": ("quality",),
    "lookups": ("quality",),
    "crawls": ("snapshots",),
    "snapshots": ("share", "--metric", "downloads"),
}


@pytest.fixture(scope="module")
def hub():
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        yield hub


@pytest.fixture(scope="module")
def reference(hub, tmp_path_factory):
    path = tmp_path_factory.mktemp("reference")
    done = run("crawl", "--all", "--store", str(path), "--endpoint", hub.url)
    assert done.returncode == 0, done.stderr
    share = run("share", "--store", str(path), "--format", "csv")
    assert share.returncode == 0, share.stderr
    return {"path": path, "share": share.stdout}


def damage(file, how: str) -> None:
    data = file.read_bytes()
    if how == "truncated":
        file.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        file.write_bytes(b"this is not parquet\n" * 20)
    elif how == "empty":
        file.write_bytes(b"")
    elif how == "pages":  # the first data page hit, footer intact: found only by decoding
        file.write_bytes(data[:4] + b"\xab" * 40 + data[44:])
    else:
        file.unlink()


def table_file(store, table: str) -> str:
    if table != "snapshots":
        return f"{table}.parquet"
    [snapshot] = store.glob("snapshots/date=*/part-0.parquet")
    return str(snapshot.relative_to(store))


@pytest.mark.slow
@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("table", TABLES)
def test_a_damaged_file_is_named_costs_no_request_and_loses_nothing(
    hub, reference, tmp_path, table, how
):
    store = tmp_path / "store"
    # Without the reference's kept graph: share builds it from the damaged file here (a
    # share that finds its generation's state kept reads no table; tests/store/test_derived.py).
    shutil.copytree(reference["path"], store, ignore=shutil.ignore_patterns("derived"))
    name = table_file(store, table)
    damage(store / name, how)
    before = files_of(store)
    dump = write_hub_stats_dump(toy_models()[:3], tmp_path / "models.parquet")
    said = "is missing" if how == "missing" else "is damaged"

    def refused(*args: str) -> str:
        result = run(*args, "--store", str(store))
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: store file ")
        assert f"{store / name} {said}" in result.stderr and REMEDY in result.stderr
        return result.stderr

    requests = hub.count()
    refused("crawl", "--all", "--endpoint", hub.url)
    assert hub.count() == requests  # checked before the first request
    refused("ingest", "hub-stats", str(dump), "--date", "2026-01-05")
    if table != "snapshots":
        refused("info")  # info reads no snapshot file: their dates are in their names
    refused(*READER[table])
    share = run("share", "--store", str(store), "--format", "csv")
    if table == "crawls" and how == "pages" and share.returncode == 0:
        # share reads three columns of the log: the hit page may lie outside them.
        assert share.stdout == reference["share"]
    elif table in SHARE_READS or how == "missing":
        assert share.returncode == 1 and f"{store / name} {said}" in share.stderr
    else:  # a file share never opens does not stop it, and its answer is unchanged
        assert share.returncode == 0 and share.stdout == reference["share"]
    assert files_of(store) == before  # nothing written, nothing lost


def test_a_commit_never_replaces_a_damaged_table(tmp_path, hub):
    """Even through the library, past the crawl's own check: nothing is committed."""
    store = Store(tmp_path / "s")
    Crawler(store, client_for(hub)).run(CrawlRequest(roots=("mistralai",), strategy="walk"))
    damage(store.path / "edges.parquet", "pages")
    before = files_of(store.path)
    models = Store(store.path).read("models")
    with pytest.raises(StoreError, match=r"edges\.parquet is damaged"):
        Store(store.path).commit(Batch(models, Batch.empty().edges, Batch.empty().problems))
    assert files_of(store.path) == before
