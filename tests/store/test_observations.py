"""Observations: dated crawls and dumps in any order, twice, and models deleted from the Hub.

Every crawl and ingest is an observation of the Hub at a date; a model's record is the one
of the latest date that saw it (ties: the later commit). Stores are compared table by table:
models (without ``seen_at``, when a run happened, and ``seen_commit`` / ``key``, which number
commits and models in the order they arrived, by design), edges, problems, lookups, the
snapshots by id and date, and which models are present.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from support.hubstats_dump import write_hub_stats_dump
from support.storecheck import files_of, info_json, run, table_rows
from support.toyhub import toy_models, toy_renames

from lineage.hubstats import ingest_hub_stats
from lineage.records import parse_items
from lineage.store import Store
from lineage.testing.fakehub import FakeHub

ARRIVAL = ("seen_at", "seen_commit", "key")
TODAY = dt.datetime.now(dt.UTC).date()
# Deleted from the toy Hub between two whole-Hub crawls: a parent of eight models (one of
# them a merge), a merge's other parent, a leaf.
DELETED = ("alice/qwen-chat-ft", "meta-llama/Llama-3.1-8B-Instruct", "nina/mistral-ft-GPTQ")


def tables(store: Store, *, view: str = "all", lookups: bool = True) -> dict[str, list[tuple]]:
    """A store's content, table by table, as comparable rows."""
    out = {
        "models": _rows(store.read("models", view=view).drop(ARRIVAL)),
        "edges": _rows(store.read("edges", view=view)),
        "problems": _rows(store.read("problems", view=view)),
        "snapshots": _rows(store.read("snapshots")),
        "presence": _rows(store.presence()),
    }
    if lookups:
        out["lookups"] = table_rows(store, "lookups", drop=("looked_up_at",))
    return out


def _rows(frame: pl.DataFrame) -> list[tuple]:
    frame = frame.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join("|")
        for c, t in frame.schema.items()
        if isinstance(t, pl.List)
    )
    return sorted(frame.rows(), key=repr)


def dump_of(models: list[dict], path, *, bump: int = 0, edit: dict | None = None):
    """A hub-stats dump of ``models``, counters moved by ``bump``, some tags replaced."""
    rows = []
    for m in models:
        m = {**m, "downloads": (m.get("downloads") or 0) + bump, "downloadsAllTime": bump}
        if edit and m["id"] in edit:
            m["tags"] = edit[m["id"]]
        rows.append(m)
    return write_hub_stats_dump(rows, path)


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    """Two dated dumps of the toy Hub: D1 (older) has a model deleted before D2 and another
    card; D2 has two models created after D1 and new counters."""
    folder = tmp_path_factory.mktemp("dumps")
    toy = toy_models()
    late = {"nina/mistral-ft-GPTQ", "pat/dup-and-empty"}
    gone = {
        "id": "zed/deleted-before-d2",
        "createdAt": "2024-06-01T00:00:00.000Z",
        "downloads": 5,
        "tags": ["base_model:finetune:mistralai/Mistral-7B-v0.1"],
    }
    d1 = dump_of(
        [m for m in toy if m["id"] not in late] + [gone],
        folder / "d1.parquet",
        bump=1,
        edit={"bob/qwen-lora-2": ["base_model:meta-llama/Llama-3.1-8B"]},
    )
    d2 = dump_of(toy, folder / "d2.parquet", bump=100)
    return {dt.date(2025, 3, 1): d1, dt.date(2025, 9, 1): d2}


def ingest(store: Store, dumps: dict, *dates: dt.date, replace: bool = False) -> None:
    for date in dates:
        ingest_hub_stats(store, dumps[date], snapshot_date=date, replace=replace)


def test_dumps_in_either_order_give_the_same_store(dumps, tmp_path):
    d1, d2 = sorted(dumps)
    forward, backward = Store(tmp_path / "f"), Store(tmp_path / "b")
    ingest(forward, dumps, d1, d2)
    ingest(backward, dumps, d2, d1)
    assert tables(forward) == tables(backward)
    # And it is D2's Hub with D1's history: D2's counters and cards, D1's deleted model kept.
    models = backward.read("models", view="all")
    assert models.filter(pl.col("id") == "bob/qwen-lora-2")["last_seen"].item() == d2
    assert backward.read("edges").filter(pl.col("child") == "bob/qwen-lora-2")[
        "parent"
    ].to_list() == ["Qwen/Qwen2.5-7B"]
    assert set(backward.read("snapshots")["date"]) == {d1, d2}
    presence = backward.presence().filter(~pl.col("present"))
    assert presence.rows() == [("zed/deleted-before-d2", d1, False, d2)]
    assert "zed/deleted-before-d2" not in backward.read("models")["id"].to_list()


def test_an_older_dump_parses_only_what_it_makes_current(dumps, tmp_path):
    d1, d2 = sorted(dumps)
    store = Store(tmp_path / "s")
    ingest(store, dumps, d2)
    summary = ingest_hub_stats(store, dumps[d1], snapshot_date=d1)
    # Of D1's 27 models, 26 have a newer record: counters only. One is new to the store.
    assert (summary.models, summary.models_new, summary.models_older) == (27, 1, 26)
    assert summary.edges_by_relation == {"finetune": 1}  # the deleted model's one edge
    assert store.snapshot(d1).height == 27


def test_a_date_twice_is_the_same_as_once(dumps, tmp_path):
    d1, d2 = sorted(dumps)
    once, twice = Store(tmp_path / "once"), Store(tmp_path / "twice")
    ingest(once, dumps, d1, d2)
    ingest(twice, dumps, d1, d2)
    before = files_of(twice.path)
    summary = ingest_hub_stats(twice, dumps[d1], snapshot_date=d1)
    assert summary.skipped and summary.models == 0
    assert files_of(twice.path) == before  # not even read: nothing written
    ingest(twice, dumps, d2, d1, replace=True)  # read again on purpose
    assert tables(twice) == tables(once)
    assert twice.observed_dates(kind="ingest") == [d1, d2]
    assert twice.read("crawls").height == 4


def test_the_cli_skips_a_held_date_and_says_so(dumps, tmp_path):
    d1, _ = sorted(dumps)
    store = str(tmp_path / "s")
    first = run("ingest", "hub-stats", str(dumps[d1]), "--date", str(d1), "--store", store)
    assert first.returncode == 0, first.stderr
    again = run("ingest", "hub-stats", str(dumps[d1]), "--date", str(d1), "--store", store)
    assert again.returncode == 0, again.stderr
    assert again.stderr == (
        f"skipped hub-stats dump {dumps[d1]}: {store} holds {d1} (as given) from an earlier "
        "ingest already; nothing was read (--replace reads it again)\n"
    )
    replaced = run(
        "ingest", "hub-stats", str(dumps[d1]), "--date", str(d1), "--store", store, "--replace"
    )
    # Read again, the same records: none of them is an update.
    assert replaced.returncode == 0 and "models: 27 (0 new, 0 updated)" in replaced.stderr


def test_crawled_stays_true_whatever_the_order(tmp_path):
    seen = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def batch(crawled: bool):
        item = {"id": "a/x", "downloads": 1 if crawled else 2, "tags": []}
        return parse_items([item], seen_at=seen, source="list", crawled=crawled)[0]

    early, late = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    for name, order in (
        ("f", [(True, early), (False, late)]),
        ("b", [(False, late), (True, early)]),
    ):
        store = Store(tmp_path / name)
        for crawled, date in order:
            store.commit(batch(crawled), observed=date)
        assert store.read("models").select("crawled", "downloads", "last_seen").row(0) == (
            True,
            2,
            late,
        )


# -- the report: a crawl, then an older dump -------------------------------------------


@pytest.fixture(scope="module")
def hub():
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        yield hub


def test_an_older_dump_after_a_crawl_rolls_nothing_back(hub, dumps, tmp_path):
    """`crawl --all` then `ingest hub-stats older.parquet --date 2025-03-01`: the crawl's
    counters and cards stay current, share is unchanged, the dump adds its history."""
    store = str(tmp_path / "s")
    d1 = min(dumps)
    done = run("crawl", "--all", "--store", store, "--endpoint", hub.url)
    assert done.returncode == 0, done.stderr
    share = run("share", "--store", store, "--format", "csv")
    models = Store(store).read("models").drop(ARRIVAL)
    edges = table_rows(Store(store), "edges")

    older = run("ingest", "hub-stats", str(dumps[d1]), "--date", str(d1), "--store", store)
    assert older.returncode == 0, older.stderr
    assert "models: 27 (1 new, 0 updated, 26 older than the store's)" in older.stderr
    after = Store(store)
    assert after.read("models").drop(ARRIVAL).equals(models)  # not one counter rolled back
    assert table_rows(after, "edges") == edges  # nor one card
    again = run("share", "--store", store, "--format", "csv")
    assert again.stdout == share.stdout  # (before format 3: D1's all-time counts of 1 won)
    # The dump's history is kept: its counters, and the model deleted before the crawl.
    assert after.snapshot(d1).height == 27
    assert after.snapshot_dates() == [d1, TODAY]
    gone = after.presence().filter(~pl.col("present"))
    assert gone.select("id", "last_seen", "gone_since").rows() == [
        ("zed/deleted-before-d2", d1, TODAY)
    ]


def test_a_crawl_and_an_older_dump_in_either_order_give_the_same_store(hub, dumps, tmp_path):
    from support.toyhub import client_for

    from lineage.crawl import Crawler, CrawlRequest

    d1 = min(dumps)
    first, second = Store(tmp_path / "a"), Store(tmp_path / "b")
    Crawler(first, client_for(hub)).run(CrawlRequest(all=True))
    ingest(first, dumps, d1)
    ingest(second, dumps, d1)
    Crawler(second, client_for(hub)).run(CrawlRequest(all=True))
    assert tables(first) == tables(second)


# -- deletions: a whole-Hub crawl of a Hub that lost models -------------------------------------


@pytest.fixture(scope="module")
def later_hub():
    kept = [m for m in toy_models() if m["id"] not in DELETED]
    with FakeHub(kept, page_size=5, renames=toy_renames()) as hub:
        yield hub


@pytest.fixture(scope="module")
def after_deletions(hub, later_hub, tmp_path_factory):
    """A store that crawled the toy Hub, then the Hub that lost DELETED; and a fresh crawl
    of the later Hub."""
    store = tmp_path_factory.mktemp("kept") / "s"
    fresh = tmp_path_factory.mktemp("fresh") / "s"
    for endpoint, path in ((hub.url, store), (later_hub.url, store), (later_hub.url, fresh)):
        done = run("crawl", "--all", "--store", str(path), "--endpoint", endpoint)
        assert done.returncode == 0, done.stderr
    return {"store": store, "fresh": fresh, "stderr": done.stderr}


def test_after_deletions_the_present_view_is_a_fresh_crawl_of_the_later_hub(after_deletions):
    kept, fresh = Store(after_deletions["store"]), Store(after_deletions["fresh"])
    present = tables(kept, view="present", lookups=False)
    assert {k: v for k, v in present.items() if k not in ("snapshots", "presence")} == {
        k: v
        for k, v in tables(fresh, view="present", lookups=False).items()
        if k not in ("snapshots", "presence")
    }
    # The lookups that answer the present edges are the fresh crawl's: the deleted parents
    # were looked up again (missing now), as a fresh crawl looks them up.
    declared = kept.read("edges").select(pl.col("parent").alias("query")).unique()
    answers = table_rows(kept, "lookups", drop=("looked_up_at",))
    relevant = {r for r in answers if r[0] in set(declared["query"])}
    assert relevant == set(table_rows(fresh, "lookups", drop=("looked_up_at",)))
    assert ("alice/qwen-chat-ft", None, "missing") in relevant


def test_after_deletions_every_analysis_counts_what_a_fresh_crawl_counts(after_deletions):
    for command in (
        ["share", "--format", "csv", "--min-downloads", "0"],
        ["families", "--format", "csv", "--min-downloads", "0"],
        ["quality", "--format", "json"],
    ):
        kept = run(*command, "--store", str(after_deletions["store"]))
        fresh = run(*command, "--store", str(after_deletions["fresh"]))
        assert kept.returncode == fresh.returncode == 0, (kept.stderr, fresh.stderr)
        assert kept.stdout == fresh.stdout, command


def test_after_deletions_the_gone_models_are_kept_with_their_dates(after_deletions):
    store = Store(after_deletions["store"])
    gone = store.presence().filter(~pl.col("present")).sort("id")
    assert gone["id"].to_list() == sorted(DELETED)
    assert set(gone["last_seen"]) == set(gone["gone_since"]) == {TODAY}  # one day, two sweeps
    every = store.read("models", view="all")
    assert every.height == 28 and store.read("models").height == 25
    assert store.snapshot(TODAY).height == 28  # both sweeps' counters, one date
    info = info_json(after_deletions["store"])
    assert info["models"] == 25 and info["gone"] == 3
    assert info["gone_since"] == {TODAY.isoformat(): 3}


def test_info_says_how_many_models_are_present_and_gone(after_deletions):
    table = run("info", "--store", str(after_deletions["store"]))
    assert table.returncode == 0, table.stderr
    [line] = [x for x in table.stdout.splitlines() if x.startswith("gone:")]
    assert line == (
        f"gone: 3 models no longer on the Hub, kept in history (absent from the whole-Hub "
        f"observation of {TODAY}: 3); counted as present: 25"
    )


def test_an_update_cannot_see_deletions_and_says_so(hub, later_hub, tmp_path):
    store = str(tmp_path / "s")
    assert run("crawl", "--all", "--store", store, "--endpoint", hub.url).returncode == 0
    update = run("crawl", "--all", "--new", "--store", store, "--endpoint", later_hub.url)
    assert update.returncode == 0, update.stderr
    assert "an update sees new models, not models deleted or edited since" in update.stderr
    assert Store(store).read("models").height == 28  # nothing gone: it listed only the new


def test_presence_json_round_trips(after_deletions):
    """info's figures are plain JSON (dates as text)."""
    info = info_json(after_deletions["store"])
    assert json.loads(json.dumps(info)) == info
