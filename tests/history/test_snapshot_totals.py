"""Per-date snapshot totals (what `lineage snapshots` lists) without reading every row.

Each snapshot file keeps its totals in its own Parquet metadata, written with it; files
written before that (an older lineage) are counted from their rows once per commit
generation and kept in ``derived/``. Every answer here is compared with a plain count of the
snapshot rows: files without totals, totals that disagree with their file, kept state
damaged or of another generation, and a reader pinned to a generation while a writer
commits the next.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import polars as pl
import pytest

from lineage.records import parse_items
from lineage.snapshots import list_snapshots, snapshot_totals
from lineage.store import Store, snapshot_name

SEEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DATES = ("2025-03-01", "2025-03-08", "2025-03-15", "2025-03-22")


def item(mid: str, downloads: int, total: int) -> dict:
    return {
        "id": mid,
        "createdAt": "2025-01-01T00:00:00.000Z",
        "downloads": downloads,
        "downloadsAllTime": total,
        "tags": [],
    }


def observe(store: Store, day: str, models: int, bump: int = 0) -> None:
    items = [item(f"u/m{i}", i * 3 + bump, i * 7 + bump) for i in range(models)]
    batch, _ = parse_items(items, seen_at=SEEN, source="list")
    store.commit(batch, snapshot_date=dt.date.fromisoformat(day))


@pytest.fixture
def store(tmp_path) -> Store:
    path = tmp_path / "store"
    for n, day in enumerate(DATES):
        observe(Store(path), day, 20 + 5 * n)
    return Store(path, create=False)


def counted(store: Store) -> list[tuple]:
    """The totals from every row (no kept totals read)."""
    return (
        store.scan_snapshots(keyed=True)
        .group_by("date")
        .agg(pl.len(), pl.col("downloads").sum(), pl.col("downloads_all_time").sum())
        .sort("date")
        .collect()
        .rows()
    )


def listed(path) -> list[tuple]:
    return (
        list_snapshots(Store(path, create=False))
        .select("date", "models", "downloads", "downloads_all_time")
        .rows()
    )


def rewrite(store: Store, day: str, totals: str | None) -> None:
    """Rewrite a date's file as an older lineage wrote it (``totals`` None: no totals), or
    with other totals: same rows, same commit token."""
    file = store.path / snapshot_name(dt.date.fromisoformat(day))
    metadata = pl.read_parquet_metadata(file)
    metadata.pop("lineage_totals", None)
    if totals is not None:
        metadata["lineage_totals"] = totals
    frame = pl.read_parquet(file)
    file.unlink()
    frame.write_parquet(file, metadata=metadata)


def kept(path) -> pl.DataFrame | None:
    folder = Store(path, create=False).derived_dir / "snapshot-totals"
    return pl.read_parquet(folder / "totals.parquet") if folder.exists() else None


def test_each_snapshot_file_keeps_its_totals(store):
    known, unknown = store.snapshot_totals()
    assert unknown == []
    assert known.sort("date").rows() == counted(store)
    assert listed(store.path) == counted(store)
    assert kept(store.path) is None  # nothing to count, nothing kept


def test_files_without_totals_are_counted_once_and_kept(store):
    expected = counted(store)
    for day in DATES[1:3]:
        rewrite(store, day, None)
    assert [str(d) for d in Store(store.path, create=False).snapshot_totals()[1]] == [*DATES[1:3]]
    assert listed(store.path) == expected
    first = kept(store.path)
    assert first is not None and sorted(str(d) for d in first["date"]) == [*DATES[1:3]]
    file = Store(store.path, create=False).derived_dir / "snapshot-totals" / "totals.parquet"
    stamp = file.stat().st_mtime_ns
    assert listed(store.path) == expected
    assert file.stat().st_mtime_ns == stamp  # read, not counted again


@pytest.mark.parametrize(
    "totals",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"rows": 30, "downloads": 1}),  # a total missing
        json.dumps({"rows": "30", "downloads": 1, "downloads_all_time": 2}),
        json.dumps({"rows": 999, "downloads": 1, "downloads_all_time": 2}),  # not its rows
        json.dumps({"rows": 30.0, "downloads": 1, "downloads_all_time": 2}),
    ],
)
def test_totals_that_disagree_with_their_file_are_not_trusted(store, totals):
    expected = counted(store)
    rewrite(store, DATES[2], totals)
    assert [str(d) for d in Store(store.path, create=False).snapshot_totals()[1]] == [DATES[2]]
    assert listed(store.path) == expected


@pytest.mark.parametrize("how", ["truncated", "garbage", "foreign", "other-dates"])
def test_damaged_kept_totals_are_counted_again(store, how):
    expected = counted(store)
    rewrite(store, DATES[0], None)
    rewrite(store, DATES[3], None)
    assert listed(store.path) == expected
    file = Store(store.path, create=False).derived_dir / "snapshot-totals" / "totals.parquet"
    data = file.read_bytes()
    aside = file.with_name("aside.parquet")
    file.rename(aside)
    if how == "truncated":
        file.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        file.write_bytes(b"not parquet\n" * 30)
    elif how == "foreign":
        pl.DataFrame({"date": [dt.date(2025, 3, 1)], "models": [1]}).write_parquet(file)
    else:  # tagged right, but holding one date only: never taken for both
        frame = pl.read_parquet(aside).filter(pl.col("date") == dt.date(2025, 3, 1))
        frame.write_parquet(file, metadata=pl.read_parquet_metadata(aside))
    assert listed(store.path) == expected
    assert listed(store.path) == expected


def test_kept_totals_of_another_generation_are_never_used(store):
    rewrite(store, DATES[1], None)
    listed(store.path)
    old = Store(store.path, create=False).derived_dir
    carried = shutil.copytree(old, store.path.parent / "old-state")
    observe(Store(store.path), DATES[1], 60, bump=1000)  # that date again, other counters
    new = Store(store.path, create=False)
    assert new.derived_dir != old and not old.exists()  # the writer swept it
    assert new.snapshot_totals()[1] == []  # the file written again keeps its totals
    rewrite(new, DATES[1], None)  # ... and without them again, with the old state put back
    shutil.copytree(carried, new.derived_dir)
    assert listed(store.path) == counted(Store(store.path, create=False))
    assert dict((r[0], r[1]) for r in listed(store.path))[dt.date(2025, 3, 8)] == 60


def test_a_reader_pinned_to_a_generation_sees_its_own_totals(store):
    rewrite(store, DATES[0], None)  # one date counted and kept, the others from their files
    before = counted(store)
    pinned = Store(store.path, create=False)
    assert snapshot_totals(pinned).sort("date").rows() == before  # pinned, state kept
    observe(Store(store.path), DATES[0], 70, bump=5)  # the writer: both kinds of date
    observe(Store(store.path), DATES[3], 80, bump=5)
    after = counted(Store(store.path, create=False))
    assert after != before
    assert (
        list_snapshots(pinned).select("date", "models", "downloads", "downloads_all_time").rows()
        == before
    )
    assert listed(store.path) == after
