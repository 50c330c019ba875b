"""A hostile Hub: invalid ids from every source, a 300-parent card, rate limits after
errors, a server that never answers, and roots typed every which way.

Crawls go through the real huggingface_hub client to a FakeHub (or a bare socket) on
127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import time

import polars as pl
import pytest
from support.toyhub import client_for, toy_models, toy_renames
from test_crawl import QWEN_WALK_FAMILY

from lineage.crawl import MAX_LOOKUPS_PER_MODEL, Crawler, CrawlRequest
from lineage.errors import HubAuthError, HubUnreachable, NotOnHub
from lineage.hub import RetryPolicy, make_client
from lineage.repo_id import is_repo_id
from lineage.testing.fakehub import FakeHub

BASE = "Qwen/Qwen2.5-7B"
HUGE = "x" * 100_000
HOSTILE_PARENTS = [
    "a/..",
    "../etc",
    "a/b/c",
    "a//b",
    "a--b/c",
    "a/b.git",
    "-a/b",
    "café/x",
    "a/b?x=1",
    "a/b#x",
    "a/ b",
    HUGE,
]


def hostile_models() -> list[dict]:
    """Toy Hub models plus one per way an id can be hostile, in tags, baseModels and cards."""
    models = toy_models()
    for i, bad in enumerate(HOSTILE_PARENTS):
        models.append(
            {
                "id": f"mallory/tag-{i}",
                "createdAt": "2025-05-01T00:00:00.000Z",
                "tags": [
                    f"base_model:{BASE}",
                    f"base_model:finetune:{bad}",
                    f"base_model:{bad}",
                ],
            }
        )
        models.append(
            {
                "id": f"mallory/card-{i}",
                "createdAt": "2025-05-01T00:00:00.000Z",
                "tags": [f"base_model:{BASE}"],
                "cardData": {"base_model": [BASE, bad]},
            }
        )
    # A parent the family declares that exists outside it, and whose own record (read by a
    # lookup, so with baseModels) names hostile parents.
    models.append(
        {
            "id": "mallory/outside",
            "createdAt": "2025-05-01T00:00:00.000Z",
            "tags": [],
            "baseModels": {"relation": "finetune", "models": [{"id": b} for b in HOSTILE_PARENTS]},
        }
    )
    models.append(
        {
            "id": "mallory/declares-outside",
            "createdAt": "2025-05-01T00:00:00.000Z",
            "tags": [f"base_model:{BASE}", "base_model:mallory/outside"],
        }
    )
    return models


def assert_no_hostile_request(hub: FakeHub) -> None:
    for r in hub.requests:
        if r.kind == "info":
            assert is_repo_id(r.path[len("/api/models/") :]), r.path[:200]
        for value in r.query.get("filter", []):
            assert is_repo_id(value.removeprefix("base_model:")), value[:200]
        assert r.status != 400, r


@pytest.mark.parametrize("request_", [dict(all=True), dict(roots=("Qwen",), strategy="walk")])
def test_hostile_ids_from_every_source_are_card_problems_never_requests(store, request_):
    with FakeHub(hostile_models(), page_size=5, renames=toy_renames()) as hub:
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(**request_))
        assert_no_hostile_request(hub)

    problems = store.read("problems")
    for i in range(len(HOSTILE_PARENTS)):
        kinds = set(problems.filter(pl.col("model") == f"mallory/tag-{i}")["kind"])
        assert kinds == {"bad_tag"}, i
        card = set(problems.filter(pl.col("model") == f"mallory/card-{i}")["kind"])
        assert "invalid_id" in card, (i, card)
    if not request_.get("all"):  # a walk looks the outside parent up: baseModels are read
        outside = problems.filter(pl.col("model") == "mallory/outside")
        assert outside.height == len(HOSTILE_PARENTS)
        assert set(outside["kind"]) == {"invalid_id"}
        assert outside["detail"].str.starts_with("baseModels: ").all()
    # Nothing hostile became an edge, and no detail carries the 100 KB id whole.
    assert store.read("edges")["parent"].map_elements(is_repo_id, return_dtype=bool).all()
    assert problems["detail"].str.len_chars().max() < 300
    assert summary.problems_by_kind["bad_tag"] >= 2 * len(HOSTILE_PARENTS)


def test_hostile_ids_are_shown_in_quality(run_cli, tmp_path):
    store = str(tmp_path / "s")
    with FakeHub(hostile_models(), page_size=5, renames=toy_renames()) as hub:
        result = run_cli("crawl", "--all", "--store", store, "--endpoint", hub.url)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(run_cli("quality", "--store", store, "--format", "json").stdout)
    counts = {r["check"]: r["count"] for r in rows}
    assert counts["card problem: bad_tag"] == 2 * len(HOSTILE_PARENTS) + 1  # + toy's own
    assert counts["card problem: invalid_id"] >= len(HOSTILE_PARENTS)


def test_a_listing_item_with_a_hostile_id_of_its_own_is_skipped(store):
    models = [*toy_models(), {"id": "evil/../x", "tags": [f"base_model:{BASE}"]}]
    with FakeHub(models, page_size=5, renames=toy_renames()) as hub:
        summary = Crawler(store, client_for(hub)).run(CrawlRequest(roots=("Qwen",)))
        assert_no_hostile_request(hub)
    assert summary.skipped_items >= 1
    assert "evil/../x" not in set(store.read("models")["id"])


def test_a_card_with_300_parents_costs_at_most_the_per_model_bound(store):
    parents = [f"ghost{i}/parent-{i}" for i in range(300)]
    models = [
        *toy_models(),
        {
            "id": "mallory/many-parents",
            "tags": [f"base_model:{BASE}", *(f"base_model:merge:{p}" for p in parents)],
        },
    ]
    with FakeHub(models, page_size=5, renames=toy_renames()) as hub:
        summary = Crawler(store, client_for(hub)).run(
            CrawlRequest(roots=("Qwen",), strategy="walk")
        )
        looked_up = [r.path for r in hub.requests if r.kind == "info"]
    # The toy family's own 4 unknown parents (one renamed: 2 requests), plus 10 of the 300.
    assert summary.lookup_requests == 4 + MAX_LOOKUPS_PER_MODEL
    assert len(looked_up) == 5 + MAX_LOOKUPS_PER_MODEL
    problem = store.read("problems").filter(pl.col("kind") == "too_many_parents")
    assert problem.rows() == [
        (
            "mallory/many-parents",
            "too_many_parents",
            "300 unknown parents declared; looked up the first 10",
        )
    ]
    # Every declared edge is kept; the ones not looked up stay unresolved.
    edges = store.read("edges").filter(pl.col("child") == "mallory/many-parents")
    assert edges.height == 301


def test_rate_limit_headers_are_honoured_after_404_and_307_answers(store):
    ghosts = [f"ghost/gone-{i}" for i in range(12)]
    models = [
        *toy_models(),
        {
            "id": "heidi/many-missing",
            "tags": [f"base_model:{BASE}", *(f"base_model:{g}" for g in ghosts)],
        },
    ]
    with FakeHub(models, page_size=5, renames=toy_renames()) as hub:
        hub.rate_limit(6, window_seconds=1)
        waits: list[str] = []
        client = client_for(hub, give_up_after=30)
        client.on_wait = lambda seconds, why: waits.append(why)
        Crawler(store, client).run(CrawlRequest(roots=("Qwen",), strategy="walk"))
        statuses = [r.status for r in hub.requests]
    assert statuses.count(404) >= 10 and 307 in statuses
    assert 429 not in statuses  # the window was sat out after 404s and redirects too
    assert "rate-limit window used up" in waits


def test_a_redirect_that_uses_up_the_window_is_sat_out_before_it_is_followed():
    with FakeHub(toy_models(), renames=toy_renames()) as hub:
        hub.rate_limit(1, window_seconds=1)
        client = client_for(hub)
        assert client.model_info("Qwen/Qwen2.5-7B-Preview")["id"] == "Qwen/Qwen2.5-7B"
        assert [r.status for r in hub.requests] == [307, 200]  # no 429 in between
        assert client.stats.waited >= 0.5


def test_rate_limit_headers_are_honoured_after_a_401():
    with FakeHub(toy_models(), tokens={"hf_good"}) as hub:
        hub.rate_limit(1, window_seconds=1)
        waits: list[float] = []
        client = make_client(hub.url, token="hf_bad")
        client.on_wait = lambda seconds, why: waits.append(seconds)
        with pytest.raises(HubAuthError):
            client.list_page(client.listing_url())
        assert waits and waits[0] >= 1  # the used-up window, before the error is raised
        assert [r.status for r in hub.requests] == [401]


def test_a_hub_that_accepts_connections_and_never_answers_is_given_up_on_quickly(store):
    with socket.create_server(("127.0.0.1", 0), backlog=64) as silent:
        port = silent.getsockname()[1]
        policy = RetryPolicy(
            base_wait=0.05, max_wait=0.1, timeout=0.3, give_up_after=30, give_up_unreached_after=1
        )
        client = make_client(f"http://127.0.0.1:{port}", token=False, policy=policy)
        started = time.monotonic()
        with pytest.raises(HubUnreachable) as err:
            Crawler(store, client).run(CrawlRequest(roots=("Qwen",)))
        elapsed = time.monotonic() - started
    # The shorter "never answered" budget (1 s here, a minute by default), not 30 s.
    assert elapsed < 5
    assert "Timeout" in str(err.value)
    assert RetryPolicy().give_up_unreached_after == 60


# ---- roots as people type them -------------------------------------------------------------


def family(store) -> set[str]:
    return set(store.read("models").filter("crawled")["id"].to_list())


def searches(hub: FakeHub) -> int:
    return sum(1 for r in hub.requests if r.kind == "list" and "search" in r.query)


@pytest.mark.parametrize("any_case", [False, True])
def test_an_organization_in_the_wrong_case_costs_one_request_at_most(store, any_case):
    with FakeHub(toy_models(), page_size=5, renames=toy_renames(), author_any_case=any_case) as hub:
        summary = Crawler(store, client_for(hub)).run(
            CrawlRequest(roots=("qwen",), strategy="walk")
        )
        extra = searches(hub)
        author_listings = [r for r in hub.requests if "author" in r.query]
    assert family(store) == QWEN_WALK_FAMILY
    assert summary.roots == ["Qwen"]
    assert store.read("crawls")["roots"].to_list() == [["Qwen"]]
    if any_case:  # the listing matched: its models carry the Hub's case
        assert extra == 0 and len(author_listings) == 1
    else:  # one search for the Hub's spelling, then the listing in that spelling
        assert extra == 1 and [r.query["author"] for r in author_listings] == [["qwen"], ["Qwen"]]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("https://huggingface.co/Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B-Instruct"),
        ("hf.co/Qwen", "Qwen"),
        ("Qwen/", "Qwen"),
        ("huggingface.co/qwen/qwen2.5-7b-instruct/tree/main", "Qwen/Qwen2.5-7B-Instruct"),
    ],
)
def test_roots_typed_as_urls_or_with_a_slash(store, toy_hub, typed, expected):
    summary = Crawler(store, client_for(toy_hub)).run(CrawlRequest(roots=(typed,), strategy="walk"))
    assert summary.roots == [expected]
    assert "Qwen/Qwen2.5-7B-Instruct" in family(store)


def test_an_organization_with_no_models_gets_the_closest_names(store, toy_hub):
    with pytest.raises(NotOnHub) as err:
        Crawler(store, client_for(toy_hub)).run(CrawlRequest(roots=("mistral",)))
    assert str(err.value) == (
        f"no model or organization named 'mistral' on {toy_hub.url}; "
        "closest organizations: mistralai"
    )
    # Typed with a slash, it is an organization only: no lookup as a legacy model id.
    with pytest.raises(NotOnHub) as err:
        Crawler(store, client_for(toy_hub)).run(CrawlRequest(roots=("nobody-here/",)))
    assert str(err.value) == f"no model or organization named 'nobody-here' on {toy_hub.url}"
    assert toy_hub.count("info") == 1  # the legacy-model lookup of 'mistral' only


def test_roots_on_the_command_line(run_cli, toy_hub, tmp_path):
    args = ("--store", str(tmp_path / "s"), "--endpoint", toy_hub.url)
    bad = run_cli("crawl", "--root", "a/b/c", *args)
    assert bad.exit_code == 1
    assert bad.stderr == (
        "error: 'a/b/c' is not a root: a root is an organization (Qwen), a model id "
        "(Qwen/Qwen2.5-7B) or its Hub URL (https://huggingface.co/Qwen/Qwen2.5-7B)\n"
    )
    assert toy_hub.count() == 0
    good = run_cli("crawl", "--root", "https://huggingface.co/mistralai", *args)
    assert good.exit_code == 0, good.stderr
    assert "crawled mistralai (auto: walk) into" in good.stderr
    nearly = run_cli("crawl", "--root", "mistral", *args)
    assert nearly.exit_code == 1
    assert nearly.stderr.endswith("; closest organizations: mistralai\n")
