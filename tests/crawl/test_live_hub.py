"""Crawling a Hub that behaves like the live one: order that moves while the crawl pages,
models created and deleted mid-crawl, cursors that cycle, and daily updates.

Every crawl here goes through the real huggingface_hub client to a FakeHub on 127.0.0.1.
"""

from __future__ import annotations

import math
import random

import polars as pl
import pytest
from support.toyhub import client_for, toy_models, toy_renames

from lineage.crawl import Crawler, CrawlRequest
from lineage.errors import HubUnreachable, InputError, ListingStalled
from lineage.store import Store
from lineage.testing.fakehub import Churn, FakeHub

FLOOR = "2022-03-02T23:29:04.000Z"  # the createdAt the Hub gives every old repository


def population(n: int, *, seed: int = 7) -> list[dict]:
    """Models with lineage: two root organizations, derivatives of earlier models, moving
    trending scores, and a tenth of them sharing the floored createdAt (ties to page through).
    """
    rng = random.Random(seed)
    models: list[dict] = []
    for i in range(n):
        if i < 10:
            org = "Qwen" if i < 5 else "meta-llama"
            model_id, tags = f"{org}/base-{i}", []
        else:
            # Half the derivatives build on a root: wide families, many pages of children.
            pick = rng.randrange(10) if rng.random() < 0.5 else rng.randrange(len(models))
            parent = models[pick]["id"]
            model_id = f"user{i % 50}/model-{i}"
            tags = [f"base_model:{parent}", f"base_model:finetune:{parent}"]
        day, minute = divmod(i, 1440)
        created = (
            f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}T{minute // 60:02d}:{minute % 60:02d}"
        )
        created = FLOOR if i % 10 == 3 else f"{created}:00.000Z"
        models.append(
            {
                "id": model_id,
                "author": model_id.split("/")[0],
                "createdAt": created,
                "downloads": rng.randrange(1000),
                "trendingScore": rng.random() * 100,
                "tags": tags,
            }
        )
    return models


def descendants(models: list[dict], roots: set[str]) -> set[str]:
    children: dict[str, list[str]] = {}
    for m in models:
        for tag in m["tags"]:
            if tag.startswith("base_model:") and tag.count(":") == 1:
                children.setdefault(tag.split(":", 1)[1].lower(), []).append(m["id"])
    family, frontier = set(roots), list(roots)
    while frontier:
        for child in children.get(frontier.pop().lower(), []):
            if child not in family:
                family.add(child)
                frontier.append(child)
    return family


def crawled(store: Store) -> set[str]:
    return set(store.read("models").filter("crawled")["id"].to_list())


# ---- 1. the order: every model exactly once, whatever moves --------------------------------


def test_sweep_under_moving_scores_stores_every_model_that_existed_throughout_exactly_once(
    store,
):
    models = population(3000)
    churn = Churn(rescore=0.02, add=5, delete=3, seed=1)
    with FakeHub(models, page_size=100, churn=churn) as hub:
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(all=True, lookups=False))
        existed = {m["id"] for m in models} - set(hub.deleted_ids)
        served = hub.served
        created, deleted = set(hub.created_ids), set(hub.deleted_ids)

    stored = crawled(store)
    assert existed <= stored  # none skipped
    assert stored <= {m["id"] for m in models}  # created mid-sweep: left for the next update
    assert stored - existed <= deleted  # deleted after the sweep had passed them
    assert max(served.values()) == 1  # none served twice
    assert not stored & created
    assert (summary.duplicates, summary.order_breaks) == (0, 0)
    log = store.read("crawls")
    assert log.select("listing_duplicates", "listing_order_breaks").row(0) == (0, 0)
    assert summary.listing_requests == hub.count("list") <= math.ceil(3000 / 100)


def test_a_hub_that_ignores_the_sort_is_noticed_counted_and_reported(store, run_cli, tmp_path):
    models = population(1500)
    churn = Churn(rescore=0.05, seed=2)
    with FakeHub(models, page_size=100, churn=churn, ignore_sort=True) as hub:
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(all=True, lookups=False))
        assert summary.duplicates > 0 and summary.order_breaks > 0
        row = store.read("crawls").select("listing_duplicates", "listing_order_breaks").row(0)
        assert row == (summary.duplicates, summary.order_breaks)
        # The user is told, in the summary.
        result = run_cli(
            *("crawl", "--all", "--no-lookups", "--endpoint", hub.url),
            *("--store", str(tmp_path / "cli")),
        )
    assert result.exit_code == 0, result.stderr
    assert "warning: the Hub changed under the crawl" in result.stderr


def test_walk_and_auto_under_moving_scores_find_the_whole_family(tmp_path):
    models = population(500)
    truth = descendants(models, {f"Qwen/base-{i}" for i in range(5)})
    for strategy, hub_size in (("walk", None), ("auto", 500)):
        churn = Churn(rescore=0.1, add=1, seed=3)
        with FakeHub(models, page_size=5, churn=churn) as hub:
            store = Store(tmp_path / strategy)
            request = CrawlRequest(roots=("Qwen",), strategy=strategy, hub_size=hub_size)
            summary = Crawler(store, client_for(hub)).run(request)
            created = set(hub.created_ids)
        family = crawled(store)
        assert truth <= family, (strategy, len(truth - family))
        # Models created mid-walk may join (a children listing fetched after them).
        assert family - truth <= created
        assert summary.duplicates == 0, strategy


def test_a_cursor_that_cycles_stops_with_one_clear_error_and_resumes_later(store):
    models = population(800)
    with FakeHub(models, page_size=50) as hub:
        hub.break_paging("cycle", after=3)
        with pytest.raises(ListingStalled) as err:
            Crawler(store, client_for(hub)).run(CrawlRequest(all=True, lookups=False))
        assert str(err.value) == (
            "the Hub's listing of the whole Hub stopped making progress: after 4 pages its "
            "next page is one already fetched (the cursor cycles); progress is saved (3 listing "
            "pages, 0 lookups); run the same command again to resume: lineage crawl --all "
            f"--no-lookups --endpoint {hub.url} --store {store.path}"
        )
        assert hub.count("list") == 4  # it did not page on
        assert store.read("models").height == 0

        hub.break_paging(None)
        hub.reset_counts()
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(all=True, lookups=False))
        assert summary.resumed and crawled(store) == {m["id"] for m in models}
        assert hub.count("list") == 16 - 3  # the pages not kept yet, the cycling one again


def test_pages_that_hold_only_models_already_seen_stop_the_listing(store, run_cli):
    with FakeHub(population(800), page_size=50) as hub:
        hub.break_paging("stall", after=2)
        with pytest.raises(ListingStalled, match="3 pages in a row added no new model"):
            Crawler(store, client_for(hub)).run(CrawlRequest(all=True, lookups=False))
        assert hub.count("list") == 2 + 1 + 3  # good pages, the repeated page, three stale
        result = run_cli("crawl", "--all", "--store", str(store.path), "--endpoint", hub.url)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: the Hub's listing")


# ---- 2. updates ------------------------------------------------------------------------------


def test_an_update_lists_only_the_new_models_and_looks_up_their_unknown_parents(store):
    models = population(600)
    with FakeHub(models, page_size=50) as hub:
        Crawler(store, client_for(hub)).run(CrawlRequest(all=True))
        hub.update_model("user11/model-11", downloads=123_456)  # an old model's counter moves
        new = hub.create_models(117, parent_fraction=0.5)
        for i in range(3):
            hub.add_model(
                {
                    "id": f"fresh/orphan-{i}",
                    "createdAt": "2099-01-01T00:00:00.000Z",
                    "tags": [f"base_model:ghost/gone-{i}"],
                }
            )
        hub.reset_counts()
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(all=True, new=True))

    stored = crawled(store)
    assert {m["id"] for m in new} | {f"fresh/orphan-{i}" for i in range(3)} <= stored
    assert len(stored) == 600 + 120
    # 120 new models, 50 a page: 3 pages, the last of which reaches the models already known.
    assert summary.listing_requests == math.ceil(120 / 50) == hub.count("list")
    assert summary.lookup_requests == 3  # the three unknown parents, nothing else
    assert summary.strategy == "new" and summary.models_new == 120
    log = store.read("crawls").sort("started_at")
    assert log["strategy"].to_list() == ["all", "new"]
    # What an update cannot see: an old model's new download counter.
    old = store.read("models").filter(pl.col("id") == "user11/model-11")["downloads"].item()
    assert old != 123_456


def test_an_update_of_an_unchanged_hub_counts_nothing_new_or_updated(store):
    # An update reads its first page whole even when nothing is new (it must, to know):
    # the models on it were re-read, not changed, and were once counted as "50 updated".
    models = population(200)
    with FakeHub(models, page_size=50) as hub:
        Crawler(store, client_for(hub)).run(CrawlRequest(all=True))
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(all=True, new=True))
        assert summary.listing_requests == 1
        assert (summary.models_new, summary.models_updated) == (0, 0)
        # One of the newest models edited (a card's new base_model, a new revision) and a
        # counter moved on another: the edit is an update, the counter is a snapshot's.
        newest = sorted(models, key=lambda m: m["createdAt"])[-2:]
        hub.update_model(newest[0]["id"], tags=[*newest[0]["tags"], "base_model:Qwen/base-0"])
        hub.update_model(newest[1]["id"], downloads=newest[1]["downloads"] + 1_000)
        edited = Crawler(store, client_for(hub)).run(CrawlRequest(all=True, new=True))
    assert (edited.models_new, edited.models_updated) == (0, 1)
    log = store.read("crawls").sort("started_at")
    assert log["models_updated"].to_list()[1:] == [0, 1]
    counters = store.read("snapshots").filter(pl.col("id") == newest[1]["id"])
    assert counters["downloads"].max() == newest[1]["downloads"] + 1_000


def test_an_update_needs_an_earlier_crawl_to_start_from(store, toy_hub):
    with pytest.raises(InputError, match="needs an earlier whole-Hub crawl"):
        Crawler(store, client_for(toy_hub)).run(CrawlRequest(all=True, new=True))
    Crawler(store, client_for(toy_hub)).run(CrawlRequest(roots=("mistralai",), strategy="walk"))
    with pytest.raises(InputError, match="no earlier crawl of Qwen in this store"):
        Crawler(store, client_for(toy_hub)).run(CrawlRequest(roots=("Qwen",), new=True))
    assert toy_hub.count("list") == 1 + 3  # only the walk of mistralai


def test_a_root_update_adds_the_new_family_members_only(store):
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        Crawler(store, client_for(hub)).run(CrawlRequest(roots=("Qwen",), strategy="walk"))
        before = crawled(store)
        stamp = "2099-01-01T00:00:0{}.000Z"
        instruct = "Qwen/Qwen2.5-7B-Instruct"
        hub.add_model(
            {
                "id": "zoe/new-ft",
                "createdAt": stamp.format(1),
                "tags": [f"base_model:{instruct}", f"base_model:finetune:{instruct}"],
            }
        )
        hub.add_model(
            {
                "id": "zoe/new-ft-GGUF",
                "createdAt": stamp.format(2),
                "tags": ["base_model:zoe/new-ft", "base_model:quantized:zoe/new-ft"],
            }
        )
        hub.add_model({"id": "zoe/unrelated", "createdAt": stamp.format(3), "tags": []})
        hub.add_model({"id": "Qwen/Qwen4", "createdAt": stamp.format(4), "tags": []})
        hub.reset_counts()
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(roots=("qwen",), new=True))

    assert crawled(store) == before | {"zoe/new-ft", "zoe/new-ft-GGUF", "Qwen/Qwen4"}
    assert "zoe/unrelated" not in set(store.read("models")["id"])
    assert summary.roots == ["Qwen"] and summary.strategy == "new"
    assert summary.listing_requests == 1  # 4 new models, then an old one: nothing newer left
    assert store.read("crawls").sort("started_at")["roots"].to_list() == [["Qwen"], ["Qwen"]]


def test_an_interrupted_update_resumes_without_repeating_pages(store):
    models = population(400)
    with FakeHub(models, page_size=40) as hub:
        Crawler(store, client_for(hub)).run(CrawlRequest(all=True))
        hub.create_models(100, parent_fraction=0.0)
        hub.reset_counts()
        hub.inject("list", delay=0.0001, times=2)  # two pages pass
        hub.inject("list", status=500, times=10_000)
        with pytest.raises(HubUnreachable):
            Crawler(store, client_for(hub, give_up_after=0.2)).run(CrawlRequest(all=True, new=True))
        hub.clear_faults()
        hub.reset_counts()
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(all=True, new=True))
        resumed_requests = hub.count("list")
    assert summary.resumed and len(crawled(store)) == 500
    # 100 new models at 40 a page: 3 pages; two were journaled before the failure, so the
    # resumed run asks for one, and the summary counts the whole crawl's three.
    assert resumed_requests == 1
    assert summary.listing_requests == 3


def test_update_on_the_command_line(run_cli, toy_hub, tmp_path):
    store = str(tmp_path / "s")
    args = ("--store", store, "--endpoint", toy_hub.url)
    assert run_cli("crawl", "--all", *args).exit_code == 0
    toy_hub.add_model({"id": "zoe/today", "createdAt": "2099-01-01T00:00:00.000Z", "tags": []})
    result = run_cli("crawl", "--all", "--new", *args)
    assert result.exit_code == 0, result.stderr
    assert "crawled the newest models of the whole Hub (an update: created since " in (
        result.stderr
    )
    snapshots = run_cli("snapshots", "--store", store, "--format", "csv").stdout
    assert "(new)" in snapshots
    usage = run_cli("crawl", "--all", "--new", "--strategy", "sweep", *args)
    assert usage.exit_code == 2 and "takes no --strategy" in usage.stderr


def test_an_update_after_a_hub_stats_ingest_starts_from_the_dump_date(store, tmp_path):
    import datetime as dt

    from support.hubstats_dump import write_hub_stats_dump

    from lineage.hubstats import ingest_hub_stats

    models = population(300)
    dump = write_hub_stats_dump(models, tmp_path / "models.parquet")
    ingest_hub_stats(store, dump, snapshot_date=dt.date(2026, 11, 1))
    with FakeHub(models, page_size=50) as hub:
        hub.create_models(60, parent_fraction=0.5)
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(all=True, new=True))
    assert summary.new_since == dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC)
    assert summary.listing_requests == 2 and summary.models_new == 60
    assert len(crawled(store)) == 360
