"""Crawling the toy Hub through the real huggingface_hub client: exact graphs and costs."""

from __future__ import annotations

import math

import polars as pl
import pytest
from support.storecheck import table_rows
from support.toyhub import client_for, toy_models

from lineage.crawl import Crawler, CrawlRequest
from lineage.errors import HubAuthError, HubUnreachable, NotOnHub
from lineage.hub import RetryPolicy, make_client
from lineage.testing.fakehub import FakeHub

QWEN_WALK_FAMILY = {
    "Qwen/Qwen2.5-7B",
    "Qwen/Qwen2.5-7B-Instruct",
    "Qwen/Qwen2.5-7B-Instruct-AWQ",
    "alice/qwen-chat-ft",
    "alice/qwen-chat-ft-GGUF",
    "alice/qwen-chat-ft-v2",
    "bob/qwen-lora",
    "bob/qwen-lora-2",
    "carol/qwen-llama-merge",
    "erin/ws-case",
    "frank/self-ref",
    "grace/cycle-a",
    "grace/cycle-b",
    "heidi/missing-parent",
    "ivan/renamed-parent",
    "judy/wrong-case-parent",
    "kim/nonstring-card",
    "leo/unknown-relation",
    "mlx-community/qwen-chat-4bit",
    "omar/declared-merge",
    "pat/dup-and-empty",
}

I = "Qwen/Qwen2.5-7B-Instruct"  # noqa: E741 - short names keep the table readable
B = "Qwen/Qwen2.5-7B"
A = "alice/qwen-chat-ft"
# (child, parent, relation, inferred, source, position) for every family member
QWEN_WALK_EDGES = {
    (I, B, "finetune", False, "tags", 0),
    ("Qwen/Qwen2.5-7B-Instruct-AWQ", I, "quantized", False, "tags", 0),
    (A, I, "finetune", False, "tags", 0),
    ("alice/qwen-chat-ft-v2", A, "finetune", False, "tags", 0),
    ("alice/qwen-chat-ft-GGUF", A, "quantized", True, "tags", 0),
    ("bob/qwen-lora", I, "adapter", False, "tags", 0),
    ("bob/qwen-lora-2", B, "adapter", True, "tags", 0),
    ("carol/qwen-llama-merge", A, "merge", False, "tags", 0),
    ("carol/qwen-llama-merge", "meta-llama/Llama-3.1-8B-Instruct", "merge", False, "tags", 1),
    ("erin/ws-case", B, "finetune", False, "tags", 0),
    ("frank/self-ref", I, "finetune", False, "tags", 0),
    ("grace/cycle-a", I, "merge", False, "tags", 0),
    ("grace/cycle-a", "grace/cycle-b", "merge", False, "tags", 1),
    ("grace/cycle-b", "grace/cycle-a", "finetune", False, "tags", 0),
    ("heidi/missing-parent", I, "merge", False, "tags", 0),
    ("heidi/missing-parent", "ghost/deleted-model", "merge", False, "tags", 1),
    ("ivan/renamed-parent", A, "merge", False, "tags", 0),
    ("ivan/renamed-parent", "Qwen/Qwen2.5-7B-Preview", "merge", False, "tags", 1),
    ("judy/wrong-case-parent", A, "merge", False, "tags", 0),
    ("judy/wrong-case-parent", "mistralai/mistral-7b-v0.1", "merge", False, "tags", 1),
    ("kim/nonstring-card", B, "finetune", False, "tags", 0),
    ("leo/unknown-relation", B, "finetune", True, "tags", 0),
    ("mlx-community/qwen-chat-4bit", A, "quantized", True, "tags", 0),
    ("omar/declared-merge", A, "merge", False, "tags", 0),
    ("pat/dup-and-empty", B, "finetune", False, "tags", 0),
}

QWEN_WALK_PROBLEMS = {
    ("erin/ws-case", "whitespace", "' qwen/qwen2.5-7b '"),
    ("frank/self-ref", "self_reference", "frank/self-ref"),
    ("heidi/missing-parent", "missing_parent", "ghost/deleted-model"),
    ("ivan/renamed-parent", "renamed_parent", "Qwen/Qwen2.5-7B-Preview -> Qwen/Qwen2.5-7B"),
    (
        "judy/wrong-case-parent",
        "renamed_parent",
        "mistralai/mistral-7b-v0.1 -> mistralai/Mistral-7B-v0.1",
    ),
    ("kim/nonstring-card", "non_string", "42"),
    ("kim/nonstring-card", "non_string", '{"repo": "Qwen/Qwen2.5-7B"}'),
    ("leo/unknown-relation", "unknown_relation", "distillation"),
    ("pat/dup-and-empty", "bad_tag", "base_model:adapter:"),
    ("pat/dup-and-empty", "duplicate", "Qwen/Qwen2.5-7B"),
    ("pat/dup-and-empty", "empty", "''"),
}

QWEN_LOOKUPS = {
    ("Qwen/Qwen2.5-7B-Preview", "Qwen/Qwen2.5-7B", "renamed"),
    ("ghost/deleted-model", None, "missing"),
    ("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "found"),
    ("mistralai/mistral-7b-v0.1", "mistralai/Mistral-7B-v0.1", "renamed"),
}


def crawl(store, hub, **request):
    return Crawler(store, client_for(hub)).run(CrawlRequest(**request))


def family(store) -> set[str]:
    return set(store.read("models").filter(pl.col("crawled"))["id"].to_list())


def family_edges(store) -> set[tuple]:
    members = store.read("models").filter(pl.col("crawled")).select("id")
    edges = store.read("edges").join(members, left_on="child", right_on="id", how="semi")
    return set(edges.rows())


def test_walk_gives_the_exact_family_graph(store, toy_hub):
    summary = crawl(store, toy_hub, roots=("Qwen",), strategy="walk")

    assert family(store) == QWEN_WALK_FAMILY
    assert family_edges(store) == QWEN_WALK_EDGES
    assert set(store.read("problems").rows()) == QWEN_WALK_PROBLEMS
    assert {r[:3] for r in store.read("lookups").rows()} == QWEN_LOOKUPS
    # Parents outside the family that exist are kept as not-crawled nodes, with their record.
    outside = store.read("models").filter(~pl.col("crawled"))
    assert sorted(outside["id"]) == [
        "meta-llama/Llama-3.1-8B-Instruct",
        "mistralai/Mistral-7B-v0.1",
    ]
    assert outside.filter(pl.col("id") == "mistralai/Mistral-7B-v0.1")["downloads"].item() == 300000
    assert summary.family == 21 and summary.not_crawled == 2
    assert summary.missing == 1 and summary.renamed == 2
    assert summary.edges_by_relation == {"merge": 11, "finetune": 9, "quantized": 3, "adapter": 2}
    assert summary.inferred_edges == 4
    assert sum(summary.problems_by_kind.values()) == len(QWEN_WALK_PROBLEMS)


def test_walk_costs_one_listing_per_model_plus_pages_and_one_lookup_per_unknown_parent(
    store, toy_hub
):
    summary = crawl(store, toy_hub, roots=("Qwen",), strategy="walk")
    # 1 author page (3 Qwen models) + one children listing per family member (21), three
    # of which have 6-7 children and so take 2 pages of 5; then 4 lookups.
    assert summary.listing_requests == 1 + 21 + 3
    assert summary.lookup_requests == 4
    assert toy_hub.count("list") == 25
    # the renamed parent costs the redirect and the request it leads to
    assert toy_hub.count("info") == 5


def test_sweep_lists_the_hub_once_and_also_finds_card_only_declarations(store, toy_hub):
    summary = crawl(store, toy_hub, roots=("Qwen",), strategy="sweep")

    # dave/url-card declares its parent only as a URL in its card: no tag, so no walk finds
    # it, but a sweep reads every card.
    assert family(store) == QWEN_WALK_FAMILY | {"dave/url-card"}
    assert ("dave/url-card", B, "finetune", True, "card", 0) in family_edges(store)
    assert ("dave/url-card", "url_form", "https://huggingface.co/Qwen/Qwen2.5-7B/tree/main") in set(
        store.read("problems").rows()
    )
    # 28 models at 5 a page, plus the author listing; parents present in the sweep need no
    # lookup, so only the renamed and the missing one are looked up.
    assert summary.listing_requests == math.ceil(28 / 5) + 1
    assert summary.lookup_requests == 2


def test_auto_walks_small_families_and_sweeps_big_ones(tmp_path, toy_hub):
    from lineage.store import Store

    walked = crawl(Store(tmp_path / "a"), toy_hub, roots=("Qwen",), hub_size=1_000_000)
    assert walked.strategy == "auto"  # logged so; shown as "auto: walk"
    assert walked.listing_requests == 25

    # With a Hub of 1000 models a sweep costs one page: a walk is never cheaper.
    swept = crawl(Store(tmp_path / "b"), toy_hub, roots=("Qwen",), hub_size=1000)
    assert swept.strategy == "auto: sweep"
    assert family(Store(tmp_path / "b")) == QWEN_WALK_FAMILY | {"dave/url-card"}
    assert swept.listing_requests < walked.listing_requests


def test_model_root_in_the_wrong_case_resolves_to_its_current_id(store, toy_hub):
    crawl(store, toy_hub, roots=("qwen/QWEN2.5-7b-instruct",), strategy="walk")
    members = family(store)
    assert "Qwen/Qwen2.5-7B-Instruct" in members
    assert "Qwen/Qwen2.5-7B" not in members  # its parent is outside this family
    assert "bob/qwen-lora-2" not in members  # a child of the base, not of the instruct
    outside = set(store.read("models").filter(~pl.col("crawled"))["id"])
    assert "Qwen/Qwen2.5-7B" in outside


def test_several_roots_and_a_legacy_root_without_namespace(store):
    models = [
        *toy_models(),
        {"id": "gpt2", "author": None, "tags": []},
        {"id": "zed/gpt2-ft", "tags": ["base_model:gpt2", "base_model:finetune:gpt2"]},
    ]
    with FakeHub(models, page_size=5) as hub:
        crawl(store, hub, roots=("gpt2", "mistralai"), strategy="walk")
    assert family(store) == {
        "gpt2",
        "zed/gpt2-ft",
        "mistralai/Mistral-7B-v0.1",
        "nina/mistral-ft",
        "nina/mistral-ft-GPTQ",
    }


def test_unknown_root_is_a_clear_error(store, toy_hub):
    with pytest.raises(NotOnHub) as err:
        crawl(store, toy_hub, roots=("no-such-org",))
    assert str(err.value) == f"no model or organization named 'no-such-org' on {toy_hub.url}"
    with pytest.raises(NotOnHub):
        crawl(store, toy_hub, roots=("Qwen", "Qwen/not-a-model"))
    assert store.read("models").height == 0


def test_recrawl_updates_rows_without_duplicates_and_logs_each_crawl(store, toy_hub):
    first = crawl(store, toy_hub, roots=("Qwen",), strategy="walk")
    toy_hub.update_model("alice/qwen-chat-ft", downloads=777, likes=99)
    toy_hub.add_model(
        {
            "id": "zoe/new-child",
            "createdAt": "2025-06-01T00:00:00.000Z",
            "tags": ["base_model:alice/qwen-chat-ft", "base_model:finetune:alice/qwen-chat-ft"],
        }
    )
    second = crawl(store, toy_hub, roots=("Qwen",), strategy="walk")

    models = store.read("models")
    assert models["id"].n_unique() == models.height
    assert models.filter(pl.col("id") == "alice/qwen-chat-ft")["downloads"].item() == 777
    assert family(store) == QWEN_WALK_FAMILY | {"zoe/new-child"}
    edges = store.read("edges")
    assert edges.select("child", "parent").is_unique().all()
    # The family's own counts; its 2 parents outside it are counted apart.
    assert (first.models_new, first.parents_new) == (21, 2)
    # Re-read, not changed: a counter that moved is the snapshot's, not an update.
    assert (second.models_new, second.models_updated) == (1, 0)
    log = store.read("crawls")
    assert log.height == 2
    assert log["models_new"].to_list() == [23, 1]
    assert log["roots"].to_list() == [["Qwen"], ["Qwen"]]
    # Known parents are not looked up again on the second crawl.
    assert second.lookup_requests == 0


def test_crawl_survives_429_storms_5xx_and_dropped_connections(store, toy_hub):
    toy_hub.inject("list", status=429, times=3, retry_after=0)
    toy_hub.inject("list", status=503, times=2)
    toy_hub.inject("list", drop=True, times=2)
    toy_hub.inject("info", status=502, times=2)
    toy_hub.inject("info", drop=True, times=1)
    summary = crawl(store, toy_hub, roots=("Qwen",), strategy="walk")
    assert family(store) == QWEN_WALK_FAMILY
    assert summary.retries == 10
    assert summary.listing_requests == 25 + 7
    assert summary.lookup_requests == 4 + 3
    assert toy_hub.count("list") == 25 + 7


def test_retry_after_and_ratelimit_headers_are_obeyed(store, toy_hub):
    toy_hub.inject("list", status=429, times=1, retry_after=1)
    waits: list[float] = []
    client = make_client(toy_hub.url, token=False, policy=RetryPolicy(base_wait=0.01))
    client.on_wait = lambda seconds, why: waits.append(seconds)
    Crawler(store, client).run(CrawlRequest(roots=("Qwen",), strategy="walk"))
    assert len(waits) == 1 and 1.0 <= waits[0] <= 1.5  # the Hub said 1 s; not our 0.01 s


def test_a_used_up_rate_limit_window_is_sat_out_before_the_next_request(store, toy_hub):
    toy_hub.rate_limit(5, window_seconds=1)
    waits: list[str] = []
    client = client_for(toy_hub)
    client.on_wait = lambda seconds, why: waits.append(why)
    Crawler(store, client).run(CrawlRequest(roots=("Qwen",), strategy="sweep"))
    assert family(store) == QWEN_WALK_FAMILY | {"dave/url-card"}
    assert "rate-limit window used up" in waits
    # Pacing on the RateLimit header means the limiter never had to refuse us.
    assert all(r.status != 429 for r in toy_hub.requests)


def test_giving_up_is_bounded_and_keeps_progress_for_a_resume(store, toy_hub):
    pages_before_failure = 4
    toy_hub.inject("list", delay=0.0001, times=pages_before_failure)  # pass through
    toy_hub.inject("list", status=500, times=10_000)
    client = client_for(toy_hub, give_up_after=0.3)
    with pytest.raises(HubUnreachable) as err:
        Crawler(store, client).run(CrawlRequest(roots=("Qwen",), strategy="walk"))
    assert "run the same command again to resume" in str(err.value)
    assert store.read("models").height == 0  # nothing half-committed

    toy_hub.clear_faults()
    toy_hub.reset_counts()
    resumed = Crawler(store, client_for(toy_hub)).run(
        CrawlRequest(roots=("Qwen",), strategy="walk")
    )
    assert resumed.resumed
    assert family(store) == QWEN_WALK_FAMILY
    # Only the pages not yet fetched were requested again.
    assert toy_hub.count("list") == 25 - pages_before_failure


def test_an_unreachable_hub_is_one_clear_error(store):
    client = make_client(
        "http://127.0.0.1:9", token=False, policy=RetryPolicy(base_wait=0.01, give_up_after=0.2)
    )
    with pytest.raises(HubUnreachable) as err:
        Crawler(store, client).run(CrawlRequest(roots=("Qwen",)))
    assert "http://127.0.0.1:9" in str(err.value)
    assert "ConnectError" in str(err.value)


def test_a_refused_token_is_one_clear_error_that_never_shows_the_token(store):
    with FakeHub(toy_models(), tokens={"hf_good"}) as hub:
        client = make_client(hub.url, token="hf_secret_bad_token")
        with pytest.raises(HubAuthError) as err:
            Crawler(store, client).run(CrawlRequest(roots=("Qwen",)))
        assert "refused the token" in str(err.value)
        assert "hf_secret_bad_token" not in str(err.value)
        # The good token works.
        Crawler(store, make_client(hub.url, token="hf_good")).run(
            CrawlRequest(roots=("Qwen",), strategy="walk")
        )
    assert family(store) == QWEN_WALK_FAMILY


def test_whole_hub_sweep_stores_every_model(store, toy_hub):
    summary = crawl(store, toy_hub, all=True)
    assert store.read("models").filter(pl.col("crawled")).height == 28
    assert summary.listing_requests == math.ceil(28 / 5)
    assert {r[:3] for r in store.read("lookups").rows()} == {
        ("Qwen/Qwen2.5-7B-Preview", "Qwen/Qwen2.5-7B", "renamed"),
        ("ghost/deleted-model", None, "missing"),
    }
    # The next sweep's ETA uses this sweep's count.
    assert store.read("crawls")["models_seen"].to_list() == [28]


def test_no_lookups_leaves_unknown_parents_unresolved(store, toy_hub):
    summary = crawl(store, toy_hub, roots=("Qwen",), strategy="walk", lookups=False)
    assert summary.lookup_requests == 0
    assert store.read("lookups").height == 0
    assert family(store) == QWEN_WALK_FAMILY


def test_walk_and_sweep_agree_on_the_records_they_share(tmp_path, toy_hub):
    from lineage.store import Store

    walk, sweep = Store(tmp_path / "w"), Store(tmp_path / "s")
    crawl(walk, toy_hub, roots=("Qwen",), strategy="walk")
    crawl(sweep, toy_hub, roots=("Qwen",), strategy="sweep")
    shared = {
        r
        for r in table_rows(walk, "models", drop=("seen_at", "source", "key"))
        if r[0] in QWEN_WALK_FAMILY
    }
    swept = {
        r
        for r in table_rows(sweep, "models", drop=("seen_at", "source", "key"))
        if r[0] in QWEN_WALK_FAMILY
    }
    assert shared == swept


def test_a_hub_never_reached_is_reported_within_the_shorter_budget(store):
    import re

    policy = RetryPolicy(
        base_wait=0.05, max_wait=0.1, give_up_after=600, give_up_unreached_after=0.5
    )
    client = make_client("http://127.0.0.1:9", token=False, policy=policy)
    with pytest.raises(HubUnreachable, match="ConnectError") as err:
        Crawler(store, client).run(CrawlRequest(roots=("Qwen",)))
    # Half a second of 0.1 s waits is a handful of attempts; 600 s would be thousands.
    attempts = int(re.search(r"over (\d+) attempts", str(err.value)).group(1))
    assert 2 <= attempts <= 20
