"""The Parquet store: upserts, atomic multi-file commits, locking, unreadable files."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import signal
import subprocess
import sys

import polars as pl
import pytest
from support.toyhub import ROOT

from lineage.errors import StoreError
from lineage.records import Batch, parse_items
from lineage.store import MARKER, Store, _fingerprint, _same_lists, _spliced

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


def _cut_commit(path, step: str) -> None:
    """Commit a/x (2 downloads, parent b/y) in a real process that SIGKILLs itself at ``step``."""
    script = (
        "import datetime as dt, sys\n"
        f"sys.path[:0] = [{str(ROOT / 'tests' / 'store')!r}, {str(ROOT / 'tests')!r}]\n"
        "from test_store import batch\n"
        "from lineage.store import Store\n"
        f"Store({str(path)!r}).commit(batch({{'id': 'a/x', 'downloads': 2, "
        "'tags': ['base_model:b/y']}))\n"
    )
    env = {**os.environ, "LINEAGE_TEST_HOOK": f"{step}=kill"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr


def _files(path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_a_commit_cut_after_its_commit_point_reads_whole_and_only_a_writer_finishes_it(tmp_path):
    Store(tmp_path).commit(batch({"id": "a/x", "downloads": 1, "tags": ["base_model:b/x"]}))
    _cut_commit(tmp_path, "commit:renamed:models.parquet")  # edges not renamed yet
    left = _files(tmp_path)
    assert any(name.startswith("edges.parquet.") for name in left)  # its temporary file
    reader = Store(tmp_path, create=False)
    assert reader.read("models")["downloads"].to_list() == [2]
    assert reader.read("edges")["parent"].to_list() == ["b/y"]  # the new edges, not b/x
    assert reader.commit_pending
    assert _files(tmp_path) == left  # the reader changed nothing
    with Store(tmp_path).lock():
        pass
    assert not list(tmp_path.glob("*.tmp"))
    assert json.loads((tmp_path / "COMMIT").read_text())["state"] == "done"
    assert Store(tmp_path).read("edges")["parent"].to_list() == ["b/y"]


def test_a_commit_cut_before_its_commit_point_is_not_seen_and_its_files_are_swept(tmp_path):
    Store(tmp_path).commit(batch({"id": "a/x", "downloads": 1}))
    _cut_commit(tmp_path, "commit:wrote:edges.parquet")
    left = _files(tmp_path)
    assert Store(tmp_path, create=False).read("models")["downloads"].to_list() == [1]
    assert _files(tmp_path) == left  # a reader never deletes a writer's temporary files
    with Store(tmp_path).lock():
        pass
    assert not list(tmp_path.glob("*.tmp"))
    assert Store(tmp_path).read("models")["downloads"].to_list() == [1]


def test_a_cut_commit_whose_file_went_missing_is_refused_not_half_finished(tmp_path):
    Store(tmp_path).commit(batch({"id": "a/x", "tags": ["base_model:b/x"]}))
    _cut_commit(tmp_path, "commit:manifest")
    [tmp] = tmp_path.glob("edges.parquet.*.tmp")
    tmp.unlink()  # what a reader of old lineage did to a writer's files
    before = _files(tmp_path)
    message = r"cannot be finished: its file .*edges\.parquet\..*\.tmp is gone"
    with pytest.raises(StoreError, match=message):
        Store(tmp_path, create=False).read("models")
    with pytest.raises(StoreError, match=message), Store(tmp_path).lock():
        pass
    assert _files(tmp_path) == before  # not even models.parquet was renamed


def test_a_commit_cut_by_lineage_before_markers_is_finished_too(tmp_path):
    store = Store(tmp_path)
    store.commit(batch({"id": "a/old"}))
    # What lineage before format markers left when killed between manifest and renames.
    batch({"id": "a/new"}).models.write_parquet(tmp_path / "models.parquet.cut.tmp")
    (tmp_path / "COMMIT").write_text(json.dumps([["models.parquet.cut.tmp", "models.parquet"]]))
    assert Store(tmp_path, create=False).read("models")["id"].to_list() == ["a/new"]
    assert (tmp_path / "models.parquet.cut.tmp").exists()
    with Store(tmp_path).lock():
        pass
    assert not (tmp_path / "models.parquet.cut.tmp").exists()
    assert Store(tmp_path).read("models")["id"].to_list() == ["a/new"]


def test_a_reader_keeps_seeing_the_state_it_opened_until_it_refreshes(tmp_path):
    Store(tmp_path).commit(batch({"id": "a/old", "tags": ["base_model:b/x"]}))
    reader = Store(tmp_path, create=False)
    models = reader.scan("models")  # pins the view: every table, as of now
    Store(tmp_path).commit(batch({"id": "a/new", "tags": ["base_model:b/y"]}))
    assert models.collect()["id"].to_list() == ["a/old"]
    assert reader.read("edges")["parent"].to_list() == ["b/x"]  # not the newer edges
    reader.refresh()
    assert reader.read("models")["id"].to_list() == ["a/new", "a/old"]
    assert sorted(reader.read("edges")["parent"].to_list()) == ["b/x", "b/y"]


def _hold_lock(path, ready, release):
    with Store(path).lock():
        ready.set()
        # Held until the test has tried (a loaded machine can take over 10 s to get there:
        # with a 10 s wait the lock was free again and the refusal never came).
        release.wait(300)


def test_one_writer_at_a_time(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(120)  # a spawned interpreter importing polars: slow on a busy machine
        with (
            pytest.raises(StoreError, match="in use by another lineage process"),
            Store(tmp_path).lock(),
        ):
            pass
    finally:
        release.set()
        holder.join(120)
    with Store(tmp_path).lock():
        pass  # free again once the holder is gone


def test_an_unreadable_table_is_a_store_error_naming_the_file(tmp_path):
    Store(tmp_path).commit(batch({"id": "a/x"}))
    (tmp_path / "models.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match=r"models\.parquet is damaged \(.*\); restore it"):
        Store(tmp_path).read("models")


def test_a_missing_table_is_named_even_without_a_manifest(tmp_path):
    """A store of lineage before markers that lost models.parquet (old readers did that)."""
    Store(tmp_path).commit(batch({"id": "a/x", "tags": ["base_model:b/y"]}))
    for name in ("COMMIT", MARKER, "models.parquet"):
        (tmp_path / name).unlink()
    with pytest.raises(StoreError, match=r"models\.parquet is missing"):
        Store(tmp_path, create=False).read("edges")


def test_a_new_snapshot_date_does_not_rewrite_earlier_ones(tmp_path):
    store = Store(tmp_path)
    store.commit(batch({"id": "a/x", "downloads": 1}), snapshot_date=dt.date(2026, 1, 1))
    first = tmp_path / "snapshots" / "date=2026-01-01" / "part-0.parquet"
    before = first.stat().st_mtime_ns
    store.commit(batch({"id": "b/y", "downloads": 2}), snapshot_date=dt.date(2026, 1, 2))
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.glob("snapshots/*/*")) == [
        "snapshots/date=2026-01-01/part-0.parquet",
        "snapshots/date=2026-01-02/part-0.parquet",
    ]
    assert first.stat().st_mtime_ns == before
    # Another batch on the first date keeps that date's other models.
    store.commit(batch({"id": "c/z", "downloads": 3}), snapshot_date=dt.date(2026, 1, 1))
    assert store.read("snapshots").select("id", "date").sort("date", "id").rows() == [
        ("a/x", dt.date(2026, 1, 1)),
        ("c/z", dt.date(2026, 1, 1)),
        ("b/y", dt.date(2026, 1, 2)),
    ]


def test_a_compaction_keeps_every_stored_model_it_does_not_replace(tmp_path):
    # A commit that replaces every stored model reads none of their rows back; one as
    # large as the store that leaves a model out must still keep that model's row.
    store = Store(tmp_path)
    day = dt.date(2026, 1, 1)

    def models() -> dict[str, int]:
        return dict(store.read("models").select("id", "downloads").iter_rows())

    store.commit(batch(*({"id": f"a/m{i}", "downloads": i} for i in range(4))), observed=day)
    # Four models, as many as the store holds: one new, a/m0 left out.
    new = batch(
        *({"id": f"a/m{i}", "downloads": 10 + i, "tags": ["base_model:a/m0"]} for i in (1, 2, 3, 4))
    )
    store.commit(new, observed=day + dt.timedelta(1))
    assert models() == {"a/m0": 0, "a/m1": 11, "a/m2": 12, "a/m3": 13, "a/m4": 14}
    store.commit(batch({"id": "a/m5", "downloads": 5}), observed=day + dt.timedelta(2))
    assert (tmp_path / "models-delta.parquet").exists()  # a small commit: a delta
    # Every stored model, base and delta, replaced: one compacted file, nothing else kept.
    every = batch(*({"id": f"a/m{i}", "downloads": 20 + i} for i in range(6)))
    store.commit(every, observed=day + dt.timedelta(3))
    assert models() == {f"a/m{i}": 20 + i for i in range(6)}
    assert not (tmp_path / "models-delta.parquet").exists()
    assert store.read("edges").height == 0
    assert store.read("models")["key"].sort().to_list() == list(range(6))


@pytest.mark.parametrize(
    "left_out",
    [
        (0, 20, 21, 48),  # a few (an eighth of the commit or less): spliced into its rows
        tuple(i for i in range(49) if i % 12 < 5),  # many: merged with its rows
    ],
    ids=["a few", "many"],
)
def test_a_compaction_keeps_the_rows_of_the_models_it_leaves_out_in_order(tmp_path, left_out):
    # A complete observation that no longer lists some stored models (first, last, two
    # side by side, one from the delta) replaces the others: every table then holds the
    # left-out models' rows as stored and the others' as committed, in order.
    def model(i: int, day: int) -> dict:
        parents = [f"base_model:merge:{p}/d{day}-{i}" for p in "bc"]
        return {"id": f"a/m{i:02d}", "downloads": 100 * day + i, "tags": parents}

    store = Store(tmp_path)
    day = dt.date(2026, 1, 1)
    store.commit(batch(*(model(i, 1) for i in range(48))), observed=day, complete=True)
    store.commit(batch(model(48, 2)), observed=day + dt.timedelta(1))  # a delta
    assert (tmp_path / "models-delta.parquet").exists()
    listed = [i for i in range(51) if i not in left_out]  # 49 and 50 new
    store.commit(
        batch(*(model(i, 3) for i in reversed(listed))),
        observed=day + dt.timedelta(2),
        complete=True,
    )
    assert not (tmp_path / "models-delta.parquet").exists()  # compacted
    as_of = {i: 3 if i in listed else 2 if i == 48 else 1 for i in range(51)}
    stored = Store(tmp_path)
    models = stored.read("models", view="all").select("id", "downloads")
    assert models.rows() == [(f"a/m{i:02d}", 100 * as_of[i] + i) for i in range(51)]
    edges = stored.read("edges", view="all").select("child", "position", "parent")
    assert edges.rows() == [
        (f"a/m{i:02d}", position, f"{p}/d{as_of[i]}-{i}")
        for i in range(51)
        for position, p in enumerate("bc")
    ]
    assert models["id"].is_sorted()


def test_spliced_rows_are_the_sorted_merge_of_both():
    # Runs of kept rows before, between and after the commit's rows, a run of one owner's
    # rows (edges), none: the splice gives what a sorted merge gives.
    fresh = pl.DataFrame({"id": [f"m{i:03d}" for i in range(0, 200, 2)], "n": range(100)})
    for seed in range(30):
        odd = pl.Series([f"m{i:03d}" for i in range(-1, 201, 2)]).sample(n=seed % 12, seed=seed)
        kept = (
            pl.DataFrame({"id": pl.concat([odd, odd.head(seed % 3)])})
            .with_row_index("n")
            .select("id", (pl.col("n").cast(pl.Int64) + 1000).alias("n"))
            .sort("id", maintain_order=True)
        )
        expected = kept.merge_sorted(fresh.cast({"n": pl.Int64}), key="id")
        assert _spliced(fresh.cast({"n": pl.Int64}), kept, "id").rows() == expected.rows()


def test_a_batch_listing_a_model_twice_commits_its_last_row(tmp_path):
    # Out of id order, each model twice: the commit sorts, then keeps each model's last row.
    rows = [("z/x", 1), ("a/y", 3), ("m/w", 4), ("a/y", 5), ("z/x", 9)]
    parsed = [batch({"id": i, "downloads": n}) for i, n in rows]
    twice = Batch(pl.concat([b.models for b in parsed]), parsed[0].edges, parsed[0].problems)
    store = Store(tmp_path)
    result = store.commit(twice, observed=dt.date(2026, 1, 1))
    assert (result.models_seen, result.models_new) == (3, 3)
    models = store.read("models")
    assert models.select("id", "downloads").rows() == [("a/y", 5), ("m/w", 4), ("z/x", 9)]
    snapshot = store.snapshot(dt.date(2026, 1, 1)).sort("id")
    assert snapshot.select("id", "downloads").rows() == [("a/y", 5), ("m/w", 4), ("z/x", 9)]


@pytest.mark.parametrize("arrival", ["shuffled", "sorted", "reversed"])
def test_files_keep_id_order_and_new_keys_follow_it_whatever_order_models_arrive(tmp_path, arrival):
    ids = [f"{a}/m{i}" for a in ("zed", "Ann", "bob") for i in (3, 10, 1)]
    order = {"shuffled": ids, "sorted": sorted(ids), "reversed": sorted(ids, reverse=True)}
    store = Store(tmp_path)
    day = dt.date(2026, 1, 1)
    items = [
        {"id": i, "downloads": n, "tags": [f"base_model:{ids[n - 1]}"]}
        for n, i in enumerate(order[arrival])
    ]
    store.commit(batch(*items), observed=day)
    later = [{"id": i, "downloads": 1} for i in ["new/b", "new/a", *order[arrival][:2]]]
    store.commit(batch(*later), observed=day + dt.timedelta(1))  # a delta: 2 new models

    for name in ("models.parquet", "models-delta.parquet"):
        file_ids = pl.read_parquet(tmp_path / name)["id"].to_list()
        assert file_ids == sorted(file_ids)
    edges = pl.read_parquet(tmp_path / "edges.parquet")
    assert edges.rows() == edges.sort("child", "position").rows()
    keys = dict(store.read("models").select("id", "key").iter_rows())
    assert sorted(keys, key=keys.__getitem__) == [*sorted(ids), "new/a", "new/b"]
    for date in (day, day + dt.timedelta(1)):
        snapshot = pl.read_parquet(store.snapshot_file(date))
        assert snapshot["key"].to_list() == sorted(snapshot["key"].to_list())


# One model's record as the Hub lists it, and one edit of each column a record keeps (a
# counter's is not one): each edit alone makes its model updated, whichever way the commit
# matches records (the stored models row for row, or joined by id when one is new).
RECORD = {
    "id": "a/m",
    "author": "a",
    "createdAt": "2025-01-01T00:00:00.000Z",
    "lastModified": "2025-02-01T00:00:00.000Z",
    "pipeline_tag": "text-generation",
    "library_name": "transformers",
    "tags": ["gguf", "base_model:b/y"],
    "safetensors": {"total": 7},
    "downloads": 1,
}
EDITS = {
    "author": {"author": "z"},
    "created": {"createdAt": "2025-01-02T00:00:00.000Z"},
    "modified": {"lastModified": None},
    "pipeline": {"pipeline_tag": None},
    "library": {"library_name": "gguf"},
    "tag added": {"tags": ["gguf", "base_model:b/y", "new"]},
    "tag order": {"tags": ["base_model:b/y", "gguf"]},
    "tags emptied": {"tags": []},
    "parameters": {"safetensors": {"total": 8}},
}


def hub_records(count: int, edit: dict | None = None, at: int = 0) -> list[dict]:
    records = [{**RECORD, "id": f"a/m{i:02}", "downloads": i} for i in range(count)]
    if edit is not None:
        records[at] = {**records[at], **edit}
    return records


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("matched", ["row for row", "by id", "by id, one gone"])
def test_a_record_is_updated_when_any_of_its_columns_changes(tmp_path, edit, matched):
    store = Store(tmp_path)
    store.commit(batch(*hub_records(6)), observed=dt.date(2026, 1, 1), complete=True)
    later = hub_records(6, EDITS[edit], at=3)
    later = [{**r, "downloads": r["downloads"] + 1} for r in later]  # counters: no update
    if matched != "row for row":  # one new (as many models as stored, if one is gone)
        later = [*later[: 5 if "gone" in matched else 6], {**RECORD, "id": "a/new"}]
    result = store.commit(batch(*later), observed=dt.date(2026, 1, 2), complete=True)
    assert (result.models_new, result.models_updated) == (int(matched != "row for row"), 1)
    same = store.commit(batch(*later), observed=dt.date(2026, 1, 3), complete=True)
    assert (same.models_new, same.models_updated) == (0, 0)


def test_a_dump_after_a_dump_keeps_stored_edges_of_models_it_does_not_replace(tmp_path):
    # Every stored model replaced, but the edges table also holds an edge of a model the
    # models table lacks (a batch may carry one): it stays, as any unreplaced model's does.
    first = batch(
        {"id": "a/x", "tags": ["base_model:b/y"]}, {"id": "c/z", "tags": ["base_model:d/w"]}
    )
    orphan = Batch(
        first.models.filter(pl.col("id") == "a/x"),
        first.edges,
        first.problems,
    )
    store = Store(tmp_path)
    store.commit(orphan, observed=dt.date(2026, 1, 1), complete=True)
    store.commit(batch({"id": "a/x", "tags": ["base_model:b/q"]}), observed=dt.date(2026, 1, 2))
    edges = store.read("edges", view="all").select("child", "parent").rows()
    assert edges == [("a/x", "b/q"), ("c/z", "d/w")]


def test_a_records_fingerprint_tells_tag_lists_apart_and_not_where_they_lie():
    """Records that differ in their tags alone (null, empty, an empty or null tag, two
    tags or one of both, another order) have other fingerprints; the same records have the
    same ones in a compact frame and gathered from scattered rows, as a batch's are."""
    cases = [None, [], [""], [None], ["a"], ["a", "b"], ["ab"], ["b", "a"], ["a", None]]
    models = pl.concat(
        [batch({**RECORD, "id": f"a/m{i}"}).models for i in range(len(cases))]
    ).with_columns(pl.Series("id", ["a/m"] * len(cases)), pl.Series("tags", cases))
    prints = models.select(_fingerprint()).to_series()
    assert prints.n_unique() == len(cases)

    def key(tags: list | None) -> tuple | None:
        return None if tags is None else tuple(tags)

    expected = {key(tags): p for tags, p in zip(cases, prints, strict=True)}
    scattered = pl.concat([models] * 20).sample(fraction=1.0, shuffle=True, seed=1)
    order = pl.Series(range(scattered.height)).shuffle(seed=2)
    gathered = pl.DataFrame([c.gather(order) for c in scattered.iter_columns()])
    got = gathered.select(_fingerprint()).to_series().to_list()
    assert got == [expected[key(tags)] for tags in gathered["tags"].to_list()]


def test_list_columns_compare_row_for_row_as_polars_compares_lists():
    # Null lists, empty ones, null elements, lists of other lengths, a differing element
    # first, last or alone: the flat comparison the commit makes agrees with polars'.
    cases = [None, [], [None], ["a"], ["b"], ["a", None], ["a", "b"], ["b", "a"], [None, "a"]]
    left = [x for x in cases for _ in cases]
    right = [y for _ in cases for y in cases]
    a, b = (pl.Series(v, dtype=pl.List(pl.String)) for v in (left, right))
    assert _same_lists(a, b).to_list() == a.eq_missing(b).to_list()
    for start in range(0, len(left), 7):  # every stretch, so every kind of neighbour
        part_a, part_b = a.slice(start, 9), b.slice(start, 9)
        assert _same_lists(part_a, part_b).to_list() == part_a.eq_missing(part_b).to_list()


def test_edges_are_stored_by_child_then_position_whatever_order_they_come_in(tmp_path):
    parsed = batch(
        {"id": "z/m", "tags": ["base_model:merge:a/p", "base_model:merge:b/q"]},
        {"id": "c/m", "tags": ["base_model:d/r"]},
    )
    # The batch's edges reversed: children out of order, z/m's positions descending.
    reversed_edges = Batch(parsed.models, parsed.edges.reverse(), parsed.problems)
    Store(tmp_path).commit(reversed_edges, observed=dt.date(2026, 1, 1))
    stored = pl.read_parquet(tmp_path / "edges.parquet").select("child", "position", "parent")
    assert stored.rows() == [("c/m", 0, "d/r"), ("z/m", 0, "a/p"), ("z/m", 1, "b/q")]
