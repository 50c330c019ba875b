"""Derived state kept for inferred lineage (lineage.derived, lineage.moved): what
``share --lineage both`` says inferred lineage moved (per derivative, and summed for the
default share), the share's own counts, and the walks ``tree`` steps through.

With real `lineage` processes on a store where `lineage infer` has run: the state is kept
once and read after; a new infer commit (the inferred edges change) is never answered from
the state of the generation before it, not even when that state is carried into the new
generation's place; damaged state is rebuilt; killed writers leave nothing that is used.
The answers are compared with those of the same store with no kept state at all.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from support.storecheck import run

from lineage.analysis import SHARE_PARTS
from lineage.derived import DERIVED_FORMAT
from lineage.moved import SUMMED_PARTS
from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.synthetic import generate

WHEN = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
BOTH = ["share", "--lineage", "both", "--format", "csv"]
INFERRED = ["share", "--lineage", "inferred", "--since", "2025-01", "--format", "csv"]


def commit_population(path: Path, models: int, seed: int) -> None:
    """A synthetic population with a third of its derivatives' declarations removed, so
    that `lineage infer` finds lineage for them (and inferred lineage moves weight)."""
    population = generate(models, seed=seed)
    batch = parse_raw(population.raw, seen_at=WHEN, source="synthetic")
    silent = batch.edges.select("child").unique().sort("child").sample(fraction=1 / 3, seed=seed)
    edges = batch.edges.join(silent, on="child", how="anti")
    Store(path).commit(type(batch)(batch.models, edges, batch.problems))


def infer(path: Path) -> None:
    result = run("infer", "--store", str(path), "--quiet")
    assert result.returncode == 0, result.stderr


def answer(path: Path, args: list[str], hook: str | None = None) -> tuple[str, str]:
    """stdout and stderr (where the moved weight is said) of one command."""
    result = run(*args, "--store", str(path), hook=hook)
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr


def fresh(path: Path, args: list[str]) -> tuple[str, str]:
    """The answer of a copy of the store without any kept state."""
    copy = path.parent / f"fresh-{len(list(path.parent.iterdir()))}"
    shutil.copytree(path, copy, ignore=shutil.ignore_patterns("derived"))
    return answer(copy, args)


def kept_dir(path: Path) -> Path:
    folder = Store(path, create=False).derived_dir
    assert folder is not None
    return folder


@pytest.fixture(scope="module")
def inferred(tmp_path_factory):
    path = tmp_path_factory.mktemp("inferred") / "store"
    commit_population(path, 4000, seed=3)
    infer(path)
    return {"path": path, "both": fresh(path, BOTH), "inferred": fresh(path, INFERRED)}


def copy(inferred, tmp_path) -> Path:
    store = tmp_path / "store"
    shutil.copytree(inferred["path"], store, ignore=shutil.ignore_patterns("derived"))
    return store


def test_what_inferred_lineage_moved_is_kept_once_and_read(inferred, tmp_path):
    store = copy(inferred, tmp_path)
    first = answer(store, BOTH)
    assert first == inferred["both"]
    # The figures this state keeps are said, and inferred lineage does move weight here.
    assert "inferred lineage moved" in first[1] and "models that declare no parent" in first[1]
    moved = kept_dir(store) / "moved-inferred-0.8"
    assert sorted(p.name for p in moved.iterdir()) == [
        "credit.parquet",
        "derivatives.parquet",
        "regions.parquet",
    ]
    summed = kept_dir(store) / "moved-sums-inferred-0.8"
    assert sorted(p.stem for p in summed.iterdir()) == sorted(SUMMED_PARTS)
    counted = kept_dir(store) / "share-region-inferred-0.8"
    assert sorted(p.stem for p in counted.iterdir()) == sorted(SHARE_PARTS)
    stamps = {p: p.stat().st_mtime_ns for d in (moved, summed, counted) for p in d.iterdir()}
    assert answer(store, BOTH) == inferred["both"]
    assert answer(store, INFERRED) == inferred["inferred"]  # other filters: the same rows
    assert {  # read, not rewritten
        p: p.stat().st_mtime_ns for d in (moved, summed, counted) for p in d.iterdir()
    } == stamps


def test_a_new_infer_commit_is_never_answered_from_the_state_before_it(inferred, tmp_path):
    store = copy(inferred, tmp_path)
    answer(store, BOTH)
    old_state = tmp_path / "old-state"
    shutil.copytree(kept_dir(store), old_state)
    # New models, then a new infer commit: the inferred edges (and what they move) change.
    commit_population(store, 5000, seed=4)
    infer(store)
    expected = fresh(store, BOTH)
    assert expected != inferred["both"]
    assert answer(store, BOTH) == expected
    # The old generation's state carried into the new one's place is refused by its tags.
    new_dir = kept_dir(store)
    shutil.rmtree(new_dir)
    shutil.copytree(old_state, new_dir)
    assert answer(store, BOTH) == expected
    assert answer(store, BOTH) == expected  # and what replaced it is the new generation's


@pytest.mark.parametrize(
    "kept, part, other",
    [
        ("moved-inferred-0.8", "derivatives", "regions"),
        ("moved-inferred-0.8", "credit", "regions"),
        ("moved-inferred-0.8", "regions", "credit"),
        ("moved-sums-inferred-0.8", "credit", "into"),
        ("moved-sums-inferred-0.8", "totals", "new"),
        ("share-region-inferred-0.8", "table", "counts"),
    ],
)
@pytest.mark.parametrize("how", ["truncated", "garbage", "other-part"])
def test_damaged_moved_state_is_rebuilt_never_trusted(inferred, tmp_path, kept, part, other, how):
    store = copy(inferred, tmp_path)
    answer(store, BOTH)
    folder = kept_dir(store) / kept
    target = folder / f"{part}.parquet"
    data = target.read_bytes()
    target.unlink()
    if how == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        target.write_bytes(b"not parquet\n" * 30)
    else:  # a good kept file of this set, but another part
        target.write_bytes((folder / f"{other}.parquet").read_bytes())
    assert answer(store, BOTH) == inferred["both"]
    assert answer(store, INFERRED) == inferred["inferred"]


def test_moved_state_of_the_layout_before_is_rebuilt_not_read(inferred, tmp_path):
    """Format 1 kept credit and regions without their derivatives' filter columns (a share
    joined them); a set of that layout, tagged as it was, is made again in the new one."""
    store = copy(inferred, tmp_path)
    answer(store, BOTH)
    folder = kept_dir(store) / "moved-inferred-0.8"
    for part, columns in (
        ("credit", ["idx", "method", "part"]),
        ("regions", ["idx", "region", "after", "before"]),
        ("derivatives", None),
    ):
        path = folder / f"{part}.parquet"
        frame = pl.read_parquet(path)
        tag = json.loads(pl.read_parquet_metadata(path)["lineage_derived"])
        assert tag["format"] == DERIVED_FORMAT == 2
        if columns is not None:
            frame = frame.select(columns).rename({"idx": "derivative_id"})
        tag["format"] = 1
        frame.write_parquet(path, metadata={"lineage_derived": json.dumps(tag)})
    # A month range: summed over these rows (the default share reads its kept sums).
    assert answer(store, INFERRED) == inferred["inferred"]
    credit = pl.read_parquet(folder / "credit.parquet")
    assert {"idx", "crawled", "month", "downloads_all_time", "gained"} <= set(credit.columns)
    assert answer(store, BOTH) == inferred["both"]


def test_damage_in_moved_data_pages_found_while_reading_drops_the_set(inferred, tmp_path):
    """A footer that is whole over data that is not: found only when the sums read it."""
    store = copy(inferred, tmp_path)
    answer(store, BOTH)
    target = kept_dir(store) / "moved-inferred-0.8" / "derivatives.parquet"
    data = bytearray(target.read_bytes())
    data[4:200] = b"\xab" * 196
    target.write_bytes(bytes(data))
    assert answer(store, BOTH) == inferred["both"]
    assert answer(store, BOTH) == inferred["both"]


@pytest.mark.parametrize(
    "step",
    [
        "derived:wrote:moved-inferred-0.8/credit",
        "derived:kept:moved-inferred-0.8",
        "derived:wrote:moved-sums-inferred-0.8/into",
        "derived:kept:moved-sums-inferred-0.8",
        "derived:wrote:share-region-inferred-0.8/counts",
    ],
)
def test_a_reader_killed_while_keeping_moved_state_leaves_nothing_used(inferred, tmp_path, step):
    store = copy(inferred, tmp_path)
    killed = run(*BOTH, "--store", str(store), hook=f"{step}=kill")
    assert killed.returncode == -9, killed.stderr  # it died where asked, not before
    assert answer(store, BOTH) == inferred["both"]
    for kept in ("moved-inferred-0.8", "moved-sums-inferred-0.8", "share-region-inferred-0.8"):
        assert (kept_dir(store) / kept).is_dir()


def test_tree_walks_are_kept_and_give_what_a_fresh_store_gives(inferred, tmp_path):
    store = copy(inferred, tmp_path)
    families = answer(store, ["families", "--format", "csv", "--top", "3"])[0].splitlines()
    biggest = families[1].split(",")[0]
    args = ["tree", biggest, "--format", "csv"]
    expected = fresh(store, args)
    assert answer(store, args) == expected
    walks = kept_dir(store) / "walks-inferred-0.8"
    assert sorted(p.stem for p in walks.iterdir()) == ["down", "down_at", "up", "up_at"]
    assert answer(store, args) == expected  # read from the kept walks
    (walks / "down.parquet").write_bytes(b"not parquet\n")
    assert answer(store, args) == expected  # damaged: rebuilt, not trusted
