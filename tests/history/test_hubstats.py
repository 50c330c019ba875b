"""Ingesting hub-stats dumps: the same records as a crawl, one-line errors, downloads, snapshots."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.hubstats_dump import HUB_STATS_SCHEMA, write_hub_stats_dump
from support.storecheck import table_rows
from support.toyhub import client_for, toy_models

from lineage.crawl import Crawler, CrawlRequest
from lineage.errors import HubUnreachable, InputError
from lineage.hubstats import (
    HUB_STATS_REPO,
    _parse_slices,
    _parts,
    _revision_date,
    check_dump,
    hub_progress_bars,
    ingest_hub_stats,
    scan_dump,
)
from lineage.progress import Progress
from lineage.records import parse_items, raw_from_items
from lineage.snapshots import list_snapshots
from lineage.store import Store
from lineage.testing.fakehub import FakeHub

_SEEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
Q, L, M = "Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B", "mistralai/Mistral-7B-v0.1"


def _model(
    model_id: str, day: int, parents=(), relation=None, card=None, extra_tags=(), **fields
) -> dict:
    """A model as the Hub lists it: baseModels and base_model tags agree, as they do there."""
    tags = ["transformers", "safetensors", "text-generation", "region:us", *extra_tags]
    for parent in parents:
        tags.append(f"base_model:{parent}")
        if relation:
            tags.append(f"base_model:{relation}:{parent}")
    model = {
        "id": model_id,
        "author": model_id.split("/")[0],
        "createdAt": f"2025-01-{day:02d}T08:00:00.000Z",
        "lastModified": f"2025-02-{day:02d}T09:30:00.000Z",
        "downloads": 10 * day,
        "downloadsAllTime": 100 * day,
        "likes": day,
        "trendingScore": day / 10,
        "tags": tags,
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
    }
    if parents:
        model["baseModels"] = {
            "relation": relation,
            "models": [{"_id": f"{i:024x}", "id": p} for i, p in enumerate(parents)],
        }
    if card is not None:
        model["cardData"] = card
    return {**model, **fields}


# Hand-written in the shape of real hub-stats rows: every way parents are declared.
HAND_MODELS = [
    _model(
        Q, 1, card={"license": "apache-2.0"}, safetensors={"parameters": {"BF16": 7}, "total": 7}
    ),
    _model(L, 2, safetensors={"parameters": {"BF16": 8, "F32": 1}, "total": 9}),
    _model(M, 3, card={"license": "apache-2.0", "language": ["en", "fr"]}),
    _model("a/ft", 4, [Q], "finetune", {"base_model": Q}),
    _model("a/ft-list", 5, [Q], "finetune", {"base_model": [Q], "base_model_relation": "finetune"}),
    # Merges: the card, the tags and baseModels list the parents in different orders.
    _model("b/merge3", 6, [L, Q, M], "merge", {"base_model": [M, L, Q], "tags": ["merge"]}),
    _model("b/merge4", 7, [Q, L, M, "a/ft"], "merge", {"base_model": ["a/ft", Q, L, M]}),
    # Parents only the card names (the Hub could not resolve them): no tags, no baseModels.
    _model("c/url-card", 8, card={"base_model": f"https://huggingface.co/{Q}/tree/main"}),
    _model("c/url-list", 9, card={"base_model": [f"hf.co/{L}", f" {M} "]}),
    _model("c/card-only-missing", 10, card={"base_model": "ghost/deleted-model"}),
    # baseModels null and tags without a relation: the relation is inferred (GGUF).
    _model("d/qwen-GGUF", 11, [Q], None, {"base_model": Q}, library_name="gguf"),
    _model("d/lora", 12, [Q], "adapter", {"base_model": Q, "base_model_relation": "adapter"}),
    _model("e/unknown-rel", 13, [Q], None, {"base_model": Q, "base_model_relation": "distill"}),
    _model("f/not-on-hub", 14, [Q], "finetune", {"base_model": [Q, "nobody/unknown"]}),
    _model("f/self-ref", 15, [Q], "finetune", {"base_model": ["f/self-ref", Q]}),
    _model("g/non-string", 16, [Q], "finetune", {"base_model": [42, {"repo": Q}, Q, Q]}),
    _model("g/empty", 17, card={"base_model": ""}),
    _model("g/bool", 18, card={"base_model": True, "base_model_relation": 3}),
    _model("g/unicode", 19, card={"base_model": ["ü/ñ-model", "Ünï/cödé"]}),
    _model("h/bad-tag", 20, [Q], "finetune", {"base_model": Q}, ["base_model:adapter:"]),
    {"id": "h/no-tags-no-card", "createdAt": "2025-01-21T08:00:00.000Z"},
    _model("h/case", 22, ["qwen/qwen2.5-7b"], "quantized", {"base_model": "qwen/qwen2.5-7b"}),
    _model("i/chain", 23, ["b/merge3"], "finetune", {"base_model": "b/merge3"}, gguf={"total": 1}),
]


def _copies(times: int) -> list[dict]:
    """HAND_MODELS ``times`` over, each copy's ids suffixed with its number."""
    return [{**m, "id": f"{m['id']}-{i}"} for i in range(times) for m in HAND_MODELS]


# What a trimmed dump lacks, and the API fields a crawl of the same models then lacks.
TRIMS = {
    "full": {},
    "no-baseModels": {"baseModels": "baseModels"},
    "bare": {
        c: c
        for c in (
            "author",
            "lastModified",
            "downloads",
            "downloadsAllTime",
            "likes",
            "trendingScore",
            "cardData",
            "safetensors",
            "gguf",
            "pipeline_tag",
            "library_name",
        )
    },
}


def _without(models: list[dict], fields) -> list[dict]:
    return [{k: v for k, v in m.items() if k not in fields} for m in models]


def _crawl_all(models: list[dict], store: Store) -> None:
    with FakeHub(models, page_size=7) as hub:
        Crawler(store, client_for(hub)).run(CrawlRequest(all=True, lookups=False))


def _tables(store: Store) -> dict[str, list[tuple]]:
    return {
        "models": table_rows(
            store, "models", drop=("seen_at", "source", "last_seen", "seen_commit")
        ),
        "edges": table_rows(store, "edges"),
        "problems": table_rows(store, "problems"),
    }


def _files(store: Store) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(store.path.iterdir()) if p.is_file()}


@pytest.mark.parametrize("trim", list(TRIMS))
def test_ingest_stores_exactly_what_a_crawl_of_the_same_models_stores(tmp_path, trim):
    models = _without(HAND_MODELS, TRIMS[trim].values())
    crawled, ingested = Store(tmp_path / "crawled"), Store(tmp_path / "ingested")
    _crawl_all(models, crawled)
    dump = write_hub_stats_dump(HAND_MODELS, tmp_path / "models.parquet", exclude=TRIMS[trim])
    # Small slices and row groups: slicing must not change a thing.
    ingest_hub_stats(ingested, dump, batch_rows=4)

    assert _tables(ingested) == _tables(crawled)
    assert ingested.read("models")["source"].unique().to_list() == ["hub-stats"]
    if trim == "full":
        edges = ingested.read("edges")
        merge = edges.filter(pl.col("child") == "b/merge4").sort("position")
        assert merge["parent"].to_list() == ["a/ft", Q, L, M]  # the card's order
        assert set(merge["relation"]) == {"merge"}
        assert edges.filter(pl.col("child") == "c/url-list")["parent"].to_list() == [L, M]
        kinds = set(ingested.read("problems")["kind"])
        assert {"url_form", "whitespace", "not_on_hub", "self_reference", "non_string"} <= kinds


def test_dump_columns_are_laid_out_exactly_as_the_crawler_lays_out_api_json(tmp_path):
    models = HAND_MODELS + toy_models()
    dump = write_hub_stats_dump(models, tmp_path / "models.parquet", row_group_size=5)
    from_items, skipped = raw_from_items(models)
    assert skipped == 0
    assert_frame_equal(scan_dump(dump).collect(), from_items)


def test_a_re_exported_dump_with_other_column_types_reads_the_same(tmp_path):
    # String timestamps, a zoned datetime, narrower ints, an all-null column typed Null.
    dump = write_hub_stats_dump(HAND_MODELS, tmp_path / "models.parquet")
    pl.read_parquet(dump).with_columns(
        pl.col("createdAt").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        pl.col("lastModified")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("Europe/Paris")
        .dt.cast_time_unit("ns"),
        pl.col("downloads").cast(pl.Int32),
        pl.lit(None).alias("likes"),
    ).write_parquet(dump)
    assert pl.read_parquet_schema(dump)["likes"] == pl.Null
    expected, _ = raw_from_items(_without(HAND_MODELS, ["likes"]))
    assert_frame_equal(scan_dump(dump).collect(), expected)


def test_null_tags_and_parent_ids_in_a_dump_are_left_out_as_a_crawl_leaves_them_out(tmp_path):
    # A re-exported dump may hold null items where the API's lists hold none: a tag list
    # [null, "gguf", null], a baseModels entry without an id, lists of nulls only.
    tags = [[None, "gguf", None, "base_model:a/b"], [None], None, [], ["x"]]
    parents = [
        {"relation": "merge", "models": [{"_id": None, "id": None}, {"_id": "0", "id": "a/b"}]},
        {"relation": None, "models": [{"_id": "0", "id": None}]},
        None,
        {"relation": "finetune", "models": []},
        {"relation": None, "models": None},
    ]
    models = [
        {"id": f"me/m{n}", "tags": tag_list, "baseModels": base}
        for n, (tag_list, base) in enumerate(zip(tags, parents, strict=True))
    ]
    dump = write_hub_stats_dump(models, tmp_path / "models.parquet")
    base_type = HUB_STATS_SCHEMA["baseModels"]
    pl.read_parquet(dump).with_columns(
        pl.Series("tags", tags, pl.List(pl.String())),
        pl.Series("baseModels", parents, base_type),
    ).write_parquet(dump)
    read = scan_dump(dump).collect()
    assert_frame_equal(read, raw_from_items(models)[0])
    assert read["tags"].to_list() == [["gguf", "base_model:a/b"], [], [], [], ["x"]]
    assert read["base_models"].to_list() == [["a/b"], [], None, [], None]


def test_dump_written_for_tests_has_the_real_schema(tmp_path):
    dump = write_hub_stats_dump(toy_models(), tmp_path / "models.parquet")
    assert dict(pl.read_parquet_schema(dump)) == HUB_STATS_SCHEMA
    row = pl.read_parquet(dump).filter(pl.col("id") == "carol/qwen-llama-merge").row(0, named=True)
    assert row["createdAt"] == dt.datetime(2025, 4, 1, 8, 0)  # naive UTC, as in the dump
    assert json.loads(row["cardData"])["base_model"][0] == "alice/qwen-chat-ft"
    assert [m["id"] for m in row["baseModels"]["models"]] == [
        "meta-llama/Llama-3.1-8B-Instruct",
        "alice/qwen-chat-ft",
    ]


def test_basemodels_in_the_dump_declare_what_a_listing_leaves_to_inference(tmp_path):
    # In the toy Hub two models carry a relation in baseModels but not in their tags. A
    # listing cannot expand baseModels, so a crawl infers those relations; the dump has them.
    crawled, ingested = Store(tmp_path / "c"), Store(tmp_path / "i")
    _crawl_all(toy_models(), crawled)
    ingest_hub_stats(ingested, write_hub_stats_dump(toy_models(), tmp_path / "m.parquet"))
    assert _tables(ingested)["models"] == _tables(crawled)["models"]
    assert _tables(ingested)["problems"] == _tables(crawled)["problems"]
    crawl_edges = crawled.read("edges")
    ingest_edges = ingested.read("edges")
    assert_frame_equal(ingest_edges.drop("inferred"), crawl_edges.drop("inferred"))
    differ = ingest_edges.filter(pl.col("inferred") != crawl_edges["inferred"])
    assert differ.select("child", "relation", "inferred").rows() == [
        ("alice/qwen-chat-ft-GGUF", "quantized", False),
        ("bob/qwen-lora-2", "adapter", False),
    ]


def test_a_model_listed_twice_keeps_its_last_row_across_slices(tmp_path, store):
    first = _model("dup/x", 1, [Q], "finetune", {"base_model": Q})
    last = _model("dup/x", 2, [L], "adapter", {"base_model": L})
    models = [first, *HAND_MODELS[:5], last]
    summary = ingest_hub_stats(
        store, write_hub_stats_dump(models, tmp_path / "m.parquet"), batch_rows=3
    )
    assert summary.rows == 7 and summary.models == 6
    row = store.read("models").filter(pl.col("id") == "dup/x").row(0, named=True)
    assert row["downloads"] == 20
    edges = store.read("edges").filter(pl.col("child") == "dup/x")
    assert edges.select("parent", "relation").rows() == [(L, "adapter")]


@pytest.mark.parametrize("which", [0, 1])
def test_a_dump_damaged_in_one_part_is_an_input_error_and_stores_nothing(tmp_path, which):
    """Read in parts at once, a part that fails (the first or the last) fails the ingest
    with the dump named, whatever the other part read, and the store stays as it was."""
    store = Store(tmp_path / "s")
    ingest_hub_stats(store, write_hub_stats_dump(HAND_MODELS, tmp_path / "good.parquet"))
    before = _files(store)
    many = _copies(300)
    good = write_hub_stats_dump(many, tmp_path / "many.parquet", row_group_size=1000)
    data, schema = good.read_bytes(), check_dump(good)

    def failing(path: Path) -> list[int]:
        failed = []
        for i, part in enumerate(_parts(path, schema, len(many), 1000, 2)):
            try:
                part.collect()
            except pl.exceptions.PolarsError:
                failed.append(i)
        return failed

    # Damage the pages at one place after another until it fails that part alone.
    bad = tmp_path / "bad.parquet"
    for at in range(len(data) // 20, len(data) * 9 // 10, len(data) // 40):
        bad.write_bytes(data[:at] + b"\xab" * 2000 + data[at + 2000 :])
        if failing(bad) == [which]:
            break
    else:
        pytest.fail(f"no damage found that fails part {which} alone")
    with pytest.raises(InputError, match=f"^hub-stats dump {re.escape(str(bad))} cannot be read"):
        ingest_hub_stats(store, bad, snapshot_date=dt.date(2027, 1, 1), batch_rows=1000)
    assert _files(store) == before


def _listed_twice_across_parts() -> list[dict]:
    """HAND_MODELS three times over under other ids, a model listed first and last (so in
    the first and the last part of any split) and one listed on both sides of the middle."""
    many = _copies(3)
    middle = len(many) // 2
    return [
        _model("dup/x", 1, [Q], "finetune", {"base_model": Q}),
        *many[:middle],
        _model("dup/y", 2, [M], "adapter"),
        _model("dup/y", 3, [L, Q], "merge", {"base_model": [L, Q]}),
        *many[middle:],
        _model("dup/x", 4, [L], "adapter", {"base_model": L}),
    ]


@pytest.mark.parametrize("count", [2, 3, 4])
def test_a_dump_read_in_parts_parses_as_one_stream_does(tmp_path, count):
    """Read in parts at once, the slices come back in the dump's order, whichever part
    ends first: the same batch, a model listed twice keeping its last row."""
    path = write_hub_stats_dump(_listed_twice_across_parts(), tmp_path / "m.parquet")
    schema, rows = check_dump(path), pl.scan_parquet(path).select(pl.len()).collect().item()
    seen = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)

    def parse(most: int):
        parts = _parts(path, schema, rows, 3, most)
        assert len(parts) == most
        progress = _Phases()
        batch = _parse_slices(parts, path, rows, seen, progress, 3)
        phase = "reading the hub-stats dump"
        assert progress.totals == {phase: rows} and progress.advanced == {phase: rows}
        assert progress.threads == {threading.get_ident()}  # the bar drawn from one thread
        return batch

    one, split = parse(1), parse(count)
    for table in ("models", "edges", "problems"):
        assert_frame_equal(getattr(split, table), getattr(one, table))
    x = split.models.filter(pl.col("id") == "dup/x")
    assert x["downloads"].to_list() == [40]
    assert split.edges.filter(pl.col("child") == "dup/y")["parent"].to_list() == [L, Q]


def test_a_model_listed_twice_keeps_its_last_row_across_parts(tmp_path, store):
    summary = ingest_hub_stats(
        store,
        write_hub_stats_dump(_listed_twice_across_parts(), tmp_path / "m.parquet"),
        batch_rows=3,
    )
    assert summary.rows == 3 * len(HAND_MODELS) + 4
    assert summary.models == 3 * len(HAND_MODELS) + 2
    models = store.read("models").filter(pl.col("id").str.starts_with("dup/"))
    assert models.select("id", "downloads").sort("id").rows() == [("dup/x", 40), ("dup/y", 30)]
    edges = store.read("edges").filter(pl.col("child").str.starts_with("dup/"))
    assert edges.sort("child", "position").select("child", "parent", "relation").rows() == [
        ("dup/x", L, "adapter"),
        ("dup/y", L, "merge"),
        ("dup/y", Q, "merge"),
    ]


def test_an_older_dump_snapshots_every_model_it_lists_once_with_its_last_row(tmp_path, store):
    """An older dump after a newer one: its snapshot holds every model it lists, once, with
    the counters of the model's last row, whether the store held the model (its key read
    with the counters), lacked it (deleted since: a new key) or knew it as a parent only."""
    newer = [_model(Q, 1), _model("a/kept", 2, [M], "finetune")]
    ingest_hub_stats(
        store,
        write_hub_stats_dump(newer, tmp_path / "new.parquet"),
        snapshot_date=dt.date(2025, 3, 1),
    )
    older = [
        _model(Q, 3),
        _model("a/kept", 4),
        _model("gone/x", 5),  # deleted before the newer dump
        _model("a/kept", 6),  # listed twice: the last row counts
        _model(M, 7),  # the store knew it as a parent only
        _model("gone/x", 8),
    ]
    ingest_hub_stats(
        store,
        write_hub_stats_dump(older, tmp_path / "old.parquet"),
        snapshot_date=dt.date(2025, 2, 1),
    )
    snapshot = store.snapshot(dt.date(2025, 2, 1)).sort("id")
    assert snapshot.select("id", "downloads", "likes").rows() == [
        (Q, 30, 3),
        ("a/kept", 60, 6),
        ("gone/x", 80, 8),
        (M, 70, 7),
    ]
    keys = store.keys()
    assert keys["key"].n_unique() == keys.height == 4
    # The newer dump's records stay current; the older one added only the deleted model.
    current = store.read("models", view="all").sort("id")
    assert current.filter(pl.col("id") == "a/kept")["downloads"].item() == 20
    assert current.filter(pl.col("id") == "gone/x")["downloads"].item() == 80


def test_cli_ingest_summary_and_store(run_cli, tmp_path):
    dump = write_hub_stats_dump(HAND_MODELS, tmp_path / "models.parquet")
    os.utime(dump, (1767600000, 1767600000))  # 2026-01-05 08:00 UTC
    store = str(tmp_path / "s")
    result = run_cli("ingest", "hub-stats", str(dump), "--store", store)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"ingested hub-stats dump {dump} into {store}"
    assert lines[1] == (
        "  models: 23 (23 new, 0 updated) from 23 rows; "
        "snapshot 2026-01-05 (the file's modification date)"
    )
    assert lines[2].startswith("  edges: finetune ")
    assert "relations inferred)" in lines[2]
    assert lines[3].startswith("  card problems: ")
    assert "url_form 2" in lines[3] and "not_on_hub 1" in lines[3]
    assert lines[4].startswith("  requests: 0 in ")

    info = json.loads(run_cli("info", "--store", store, "--format", "json").stdout)
    assert info["models"] == 23 and info["crawled"] == 23
    log = Store(store).read("crawls").row(0, named=True)
    assert (log["kind"], log["strategy"], log["roots"], log["requests"]) == (
        "ingest",
        "hub-stats",
        [],
        0,
    )
    assert log["endpoint"] == dump.as_uri()

    quiet = run_cli("ingest", "hub-stats", str(dump), "--store", store, "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""


@pytest.mark.parametrize(
    ("drop", "rename", "missing"),
    [
        (["baseModels", "tags"], {}, "tags"),
        ([], {"createdAt": "created_at", "tags": "Tags"}, "createdAt, tags"),
        (["id"], {}, "id"),
    ],
)
def test_missing_or_renamed_columns_are_a_one_line_error(run_cli, tmp_path, drop, rename, missing):
    dump = tmp_path / "models.parquet"
    write_hub_stats_dump(HAND_MODELS, dump)
    pl.read_parquet(dump).drop(drop).rename(rename).write_parquet(dump)
    result = run_cli("ingest", "hub-stats", str(dump), "--store", str(tmp_path / "s"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: hub-stats dump {dump} lacks columns: {missing} "
        f"(is it the models table of {HUB_STATS_REPO}?)\n"
    )


def test_a_column_of_the_wrong_type_is_a_one_line_error(run_cli, tmp_path):
    dump = tmp_path / "models.parquet"
    write_hub_stats_dump(HAND_MODELS, dump)
    pl.read_parquet(dump).with_columns(pl.col("tags").list.join(",")).write_parquet(dump)
    result = run_cli("ingest", "hub-stats", str(dump), "--store", str(tmp_path / "s"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: hub-stats dump {dump} has columns of unexpected types: "
        "tags (String, expected list of strings)\n"
    )


def test_a_missing_file_is_a_one_line_error(run_cli, tmp_path):
    result = run_cli("ingest", "hub-stats", str(tmp_path / "nope.parquet"))
    assert result.exit_code == 1
    assert result.stderr == f"error: no hub-stats dump at {tmp_path / 'nope.parquet'}\n"


def _corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    else:  # data pages damaged, footer intact: fails halfway through reading
        middle = len(data) // 3
        path.write_bytes(data[:middle] + b"\xab" * 4000 + data[middle + 4000 :])


@pytest.mark.parametrize("how", ["truncated", "damaged"])
def test_a_corrupt_dump_is_one_line_and_leaves_the_store_as_it_was(run_cli, tmp_path, how):
    store = tmp_path / "s"
    good = write_hub_stats_dump(HAND_MODELS, tmp_path / "good.parquet")
    assert run_cli("ingest", "hub-stats", str(good), "--store", str(store)).exit_code == 0
    before = _files(Store(store))

    # Big enough to span many compressed pages and several slices.
    many = _copies(300)
    bad = write_hub_stats_dump(many, tmp_path / "bad.parquet", row_group_size=1000)
    _corrupt(bad, how)
    # (Another date: the store holds the first dump's, and would skip it unread.)
    result = run_cli("ingest", "hub-stats", str(bad), "--store", str(store), "--date", "2027-01-01")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: hub-stats dump {bad} cannot be read: ")
    assert result.stderr.count("\n") == 1
    assert _files(Store(store)) == before


def test_download_from_the_endpoint_then_reuse_the_cached_revision(run_cli, tmp_path):
    dump = write_hub_stats_dump(HAND_MODELS, tmp_path / "models.parquet")
    files = {("dataset", HUB_STATS_REPO, "models.parquet"): dump}
    store = str(tmp_path / "s")
    with FakeHub([], files=files) as hub:
        url = hub.url
        args = ["ingest", "hub-stats", "--endpoint", url, "--store", store]
        result = run_cli(*args, "--date", "2026-01-05")
        assert result.exit_code == 0, result.stderr
        assert "models: 23 (23 new, 0 updated) from 23 rows; snapshot 2026-01-05 (as given)" in (
            result.stderr
        )
        gets = [r for r in hub.requests if r.kind == "file" and r.method == "GET"]
        assert len(gets) == 1
        # Again: the cached revision is used, and the FakeHub has no datasets API to date
        # the revision, so the dump is dated by the cached file.
        again = run_cli(*args)
        assert again.exit_code == 0, again.stderr
        assert len([r for r in hub.requests if r.kind == "file" and r.method == "GET"]) == 1
        assert "(the file's modification date)" in again.stderr
    assert _tables(Store(store)) == _tables(_ingested_locally(dump, tmp_path / "local"))
    log = Store(store).read("crawls")
    assert log["endpoint"].to_list() == [url, url]
    assert log["requests"].to_list() == [4, 3]  # HEAD, HEAD, GET, revision info; then no GET

    # The endpoint gone: the dump downloaded earlier is used, and the summary says so.
    offline = run_cli(
        "ingest", "hub-stats", "--endpoint", "http://127.0.0.1:9", "--store", store, "--replace"
    )
    assert offline.exit_code == 0, offline.stderr
    assert "the endpoint was unreachable: ingested the dump downloaded earlier" in offline.stderr


def _ingested_locally(dump: Path, path: Path) -> Store:
    store = Store(path)
    ingest_hub_stats(store, dump)
    return store


def test_an_unreachable_endpoint_is_one_line(run_cli, tmp_path):
    result = run_cli("ingest", "hub-stats", "--endpoint", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: cannot reach http://127.0.0.1:9 to download cfahlgren1/hub-stats/models.parquet; "
        "pass the PATH of a models.parquet you downloaded\n"
    )
    # HF_ENDPOINT (the conftest points it at a closed port) is the default endpoint.
    with pytest.raises(HubUnreachable, match=re.escape("http://127.0.0.1:9 ")):
        ingest_hub_stats(Store(tmp_path / "s"))


def test_an_endpoint_without_the_dataset_is_one_line(run_cli):
    with FakeHub([]) as hub:
        url = hub.url
        result = run_cli("ingest", "hub-stats", "--endpoint", url)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: the Hub at {url} has no cfahlgren1/hub-stats/models.parquet; "
        "pass the PATH of a models.parquet you downloaded\n"
    )


class _DatasetInfo(BaseHTTPRequestHandler):
    """Answers the Hub's dataset-info route for one revision (FakeHub has no datasets API)."""

    def do_GET(self) -> None:
        if self.path.startswith(f"/api/datasets/{HUB_STATS_REPO}/revision/"):
            body = json.dumps(
                {"id": HUB_STATS_REPO, "sha": "a" * 40, "lastModified": "2026-01-05T23:30:00.000Z"}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b'{"error": "Repository not found"}'
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_downloaded_dump_is_dated_by_its_revisions_commit_date():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DatasetInfo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert _revision_date(url, "a" * 40) == dt.date(2026, 1, 5)
    finally:
        server.shutdown()
        server.server_close()
    assert _revision_date("http://127.0.0.1:9", "a" * 40) is None


def test_two_dumps_on_two_dates_make_two_snapshots(run_cli, tmp_path, toy_hub):
    store = str(tmp_path / "s")
    day1 = write_hub_stats_dump(HAND_MODELS, tmp_path / "day1.parquet")
    later = [{**m, "downloads": m.get("downloads", 0) + 1} for m in HAND_MODELS]
    day2 = write_hub_stats_dump(later, tmp_path / "day2.parquet")
    for path, date in ((day1, "2026-01-05"), (day2, "2026-01-06")):
        result = run_cli("ingest", "hub-stats", str(path), "--date", date, "--store", store)
        assert result.exit_code == 0, result.stderr

    listed = json.loads(run_cli("snapshots", "--store", store, "--format", "json").stdout)
    assert [(s["date"], s["models"]) for s in listed] == [("2026-01-05", 23), ("2026-01-06", 23)]
    total = sum(m.get("downloads", 0) for m in HAND_MODELS)
    assert [s["downloads"] for s in listed] == [total, total + 23]
    log = Store(store).read("crawls").sort("started_at")
    assert log["snapshot_date"].to_list() == [dt.date(2026, 1, 5), dt.date(2026, 1, 6)]
    for snapshot, crawl_id in zip(listed, log["crawl_id"], strict=True):
        assert snapshot["made_by"] == [f"ingest {crawl_id} (hub-stats)"]

    # A crawl adds its own day's snapshot, for the models it saw.
    crawl = run_cli("crawl", "--root", "mistralai", "--endpoint", toy_hub.url, "--store", store)
    assert crawl.exit_code == 0, crawl.stderr
    frame = list_snapshots(Store(store))
    assert frame.height == 3
    today = frame.row(2, named=True)
    assert today["date"] == Store(store).read("crawls")["started_at"][-1].date()
    assert today["models"] == 3
    assert today["made_by"][0].startswith("crawl ") and today["made_by"][0].endswith(
        "(auto: mistralai)"
    )

    table = run_cli("snapshots", "--store", store)
    assert table.exit_code == 0
    assert "| 2026-01-05 | 23" in table.stdout
    csv = run_cli("snapshots", "--store", store, "--format", "csv").stdout.splitlines()
    assert csv[0] == "date,models,downloads,downloads_all_time,complete,made_by"


def test_snapshots_of_a_missing_store_is_one_line(run_cli, tmp_path):
    result = run_cli("snapshots", "--store", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: no store at {tmp_path / 'none'}")


def test_library_errors_are_lineage_errors(tmp_path, store):
    with pytest.raises(InputError, match="no hub-stats dump at"):
        ingest_hub_stats(store, tmp_path / "missing.parquet")
    with pytest.raises(ValueError):
        ingest_hub_stats(store, tmp_path / "missing.parquet", batch_rows=0)


def test_hub_progress_bars_are_silenced_only_for_the_download():
    from huggingface_hub.utils import are_progress_bars_disabled

    assert not are_progress_bars_disabled()
    with hub_progress_bars(False):
        assert are_progress_bars_disabled()
    assert not are_progress_bars_disabled()
    with hub_progress_bars(True):
        assert not are_progress_bars_disabled()


# Card texts as a hand-made or re-exported dump may write them (json.dumps, which writes
# the real dump, escapes no ASCII): keys spaced out or spelled with \u escapes. A crawl
# decodes the card's JSON, so it reads every one of these keys.
HOSTILE_CARDS = {
    "h/spaced": '{"base_model" :  [" Qwen/Qwen2.5-7B", 3] , "base_model_relation" : "FineTune"}',
    "h/escaped": '{"\\u0062ase_model": "https://huggingface.co/meta-llama/Llama-3.1-8B"}',
    "h/escaped-hex": '{"base\\u005Fmodel": ["a/x", "A/X"], "base_model\\u005frelation": "remix"}',
    "h/escaped-all": '{"' + "".join(f"\\u{ord(c):04x}" for c in "base_model") + '": ""}',
    "h/escaped-value": '{"base_model": "mistralai/\\u004distral-7B-v0.1"}',
    "h/not-a-key": '{"card": {"base_model": "a/b"}, "text": "\\u00e9 \\"base_model\\""}',
    # json.dumps escapes every non-ASCII character: such escapes beside an escaped key.
    "h/escaped-among-others": '{"name": "caf\\u00e9 \\u4e2d", "base_model": "a/z", '
    '"base_model_\\u0072elation": "merge"}',
}


def test_cards_with_spaced_or_escaped_keys_are_read_as_a_crawl_reads_them(tmp_path, store):
    models = [_model(model_id, 10 + n) for n, model_id in enumerate(HOSTILE_CARDS)]
    dump = write_hub_stats_dump(models, tmp_path / "models.parquet")
    pl.read_parquet(dump).with_columns(
        pl.col("id").replace_strict(HOSTILE_CARDS).alias("cardData")
    ).write_parquet(dump)
    as_crawled = [{**m, "cardData": json.loads(HOSTILE_CARDS[m["id"]])} for m in models]
    expected, _ = raw_from_items(as_crawled)
    assert_frame_equal(scan_dump(dump).collect(), expected)
    assert expected.filter(pl.col("id") == "h/escaped-all")["card_base_model"].item() == ""

    summary = ingest_hub_stats(store, dump)
    edges = {(c, p) for c, p in store.read("edges").select("child", "parent").iter_rows()}
    assert edges == {
        ("h/spaced", Q),
        ("h/escaped", L),
        ("h/escaped-hex", "a/x"),
        ("h/escaped-value", M),
        ("h/escaped-among-others", "a/z"),
    }
    problems = set(store.read("problems").select("model", "kind").iter_rows())
    assert problems == {
        ("h/spaced", "whitespace"),
        ("h/spaced", "non_string"),
        ("h/escaped", "url_form"),
        ("h/escaped-hex", "duplicate"),
        ("h/escaped-hex", "unknown_relation"),
        ("h/escaped-all", "empty"),
    }
    assert summary.problems_by_kind == Counter(kind for _, kind in problems)


class _Phases(Progress):
    """A silent progress that keeps each phase's total (how many rows a phase parses) and
    what it advanced by, from which threads."""

    def __init__(self) -> None:
        super().__init__(enabled=False)
        self.totals: dict[str, int | None] = {}
        self.advanced: dict[str, int] = {}
        self.threads: set[int] = set()
        self._phase = ""

    def phase(self, description: str, *, total: int | None = None, unit: str = "req") -> None:
        self.totals[description] = total
        self._phase = description
        super().phase(description, total=total, unit=unit)

    def advance(self, n: int = 1, **postfix: object) -> None:
        self.advanced[self._phase] = self.advanced.get(self._phase, 0) + n
        self.threads.add(threading.get_ident())
        super().advance(n, **postfix)


def test_only_a_dump_older_than_a_crawled_record_is_parsed_in_part(tmp_path, store):
    # a/A crawled on day 10; b/B known on day 12 only as a parent (not crawled).
    store.commit(
        parse_items([{"id": "a/A", "downloads": 100}], seen_at=_SEEN, source="list")[0],
        observed=dt.date(2026, 1, 10),
    )
    store.commit(
        parse_items([{"id": "b/B", "downloads": 7}], seen_at=_SEEN, source="list", crawled=False)[
            0
        ],
        observed=dt.date(2026, 1, 12),
    )
    models = [_model(i, 3 + n) for n, i in enumerate(["a/A", "b/B", "c/C"])]
    dump = write_hub_stats_dump(models, tmp_path / "models.parquet")

    def ingest(day: int) -> tuple[int | None, dict[str, int]]:
        phases = _Phases()
        ingest_hub_stats(store, dump, snapshot_date=dt.date(2026, 1, day), progress=phases)
        downloads = dict(store.read("models").select("id", "downloads").iter_rows())
        return phases.totals["reading the hub-stats dump"], downloads

    # Older than a/A's record: a/A is left unparsed; b/B's newer record stays, now crawled.
    assert ingest(5) == (2, {"a/A": 100, "b/B": 7, "c/C": 50})
    assert store.read("models").filter(pl.col("id") == "b/B")["crawled"].item()
    # Older than b/B's record, which is a crawled one now: b/B alone is left unparsed.
    assert ingest(10) == (2, {"a/A": 30, "b/B": 7, "c/C": 50})
    # Not older than any crawled record: every row parsed, every record replaced.
    assert ingest(12) == (3, {"a/A": 30, "b/B": 40, "c/C": 50})
    assert store.snapshot(dt.date(2026, 1, 5)).height == 3


@pytest.mark.parametrize("height", [1, 9, 10, 11, 600])
def test_parsed_models_are_put_in_id_order_as_a_stable_sort_puts_them(height):
    import random

    from lineage.hubstats import _by_id

    rng = random.Random(height)
    # Ids that are prefixes of one another, repeated, empty, not ASCII, in any case.
    ids = ["".join(rng.choice("aA/-é0") for _ in range(rng.randint(0, 4))) for _ in range(height)]
    frame = pl.DataFrame({"id": ids, "n": range(height), "tags": [[str(i)] for i in range(height)]})
    chunked = pl.concat([frame.head(height // 3), frame.slice(height // 3)])  # one per slice
    cases = {
        "mixed": chunked,
        "sorted": chunked.sort("id", maintain_order=True),
        "a null": chunked.with_columns(pl.when(pl.col("n") > 0).then(pl.col("id"))),
        "a NUL": chunked.with_columns(
            pl.when(pl.col("n") == height - 1).then(pl.col("id") + "\x00!").otherwise("id")
        ),
    }
    for name, models in cases.items():
        got, want = _by_id(models), models.sort("id", maintain_order=True)
        assert got.schema == want.schema and got.equals(want), name
        assert got.n_chunks() == 1, name
