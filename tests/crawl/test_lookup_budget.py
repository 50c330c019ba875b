"""Parent lookups within a budget, resolved later; case-duplicates; roots' families and renames.

A small Hub built here, served by the fake Hub through the real client: parents that match
no listed id, with known impact (children of no downloads weigh 1 each), one renamed parent,
one parent declared in two cases.
"""

from __future__ import annotations

import polars as pl
from support.storecheck import table_rows
from support.toyhub import client_for

from lineage.crawl import Crawler, CrawlRequest
from lineage.store import Store
from lineage.testing.fakehub import FakeHub

RENAMES = {"org/old-name": "org/base2", "x/old": "x/new"}


def _model(model_id: str, day: int, parent: str | None = None, downloads: int = 0) -> dict:
    tags = ["transformers"]
    if parent is not None:
        tags += [f"base_model:{parent}", f"base_model:finetune:{parent}"]
    return {
        "id": model_id,
        "author": model_id.split("/")[0],
        "createdAt": f"2025-01-{day:02d}T10:00:00.000Z",
        "downloads": downloads,
        "likes": 0,
        "tags": tags,
    }


def population() -> list[dict]:
    """gone/p{i}: i+1 children; org/old-name (renamed): 10 children; gone/dup: one child
    per spelling; none of them downloaded. gone/pop: one child, downloaded 999 times (the
    most impact). ORG/BASE: a wrong-case declaration. x/old: renamed, outside org's family."""
    items = [_model("org/base", 1, downloads=100), _model("org/base2", 2, downloads=50)]
    for i in range(8):
        items += [_model(f"u{i}/c{j}", 3 + i, f"gone/p{i}") for j in range(i + 1)]
    items += [_model(f"r/child-{j}", 12, "org/old-name") for j in range(10)]
    items += [_model("d/one", 13, "Gone/Dup"), _model("d/two", 13, "gone/dup")]
    items += [_model("p/popular", 13, "gone/pop", downloads=999)]
    items += [_model("x/new", 2), _model("x/kid", 12, "x/old")]
    items += [_model("w/case-child", 14, "ORG/BASE"), _model("w/grandchild", 15, "w/case-child")]
    return items


ALL_UNKNOWN = [f"gone/p{i}" for i in range(8)] + ["org/old-name", "gone/dup", "gone/pop", "x/old"]


def crawl(store: Store, hub: FakeHub, **request) -> object:
    return Crawler(store, client_for(hub)).run(CrawlRequest(**request))


def looked_up(hub: FakeHub) -> list[str]:
    """The ids asked of /api/models/{id} (redirect targets not counted), in order."""
    return [
        r.path.removeprefix("/api/models/").lower()
        for r in hub.requests
        if r.kind == "info" and r.path.removeprefix("/api/models/") not in RENAMES.values()
    ]


def comparable(store: Store) -> dict[str, list[tuple]]:
    return {
        "models": table_rows(store, "models", drop=("seen_at",)),
        "edges": table_rows(store, "edges"),
        "problems": table_rows(store, "problems"),
        "lookups": table_rows(store, "lookups", drop=("looked_up_at",)),
    }


def test_budget_is_exact_and_spent_on_the_most_impactful_parents(tmp_path):
    with FakeHub(population(), page_size=4, renames=RENAMES) as hub:
        summary = crawl(Store(tmp_path / "s"), hub, all=True, lookup_budget=3)
        asked = looked_up(hub)
    assert summary.lookup_requests == 3
    # Downloads first, then the number of derivatives under the parent.
    assert asked == ["gone/pop", "org/old-name", "gone/p7"]
    # The rename costs its 307 and the request it redirects to.
    assert summary.http_requests == summary.listing_requests + 3 + 1
    assert summary.unresolved_parents == len(ALL_UNKNOWN) - 3
    # Under gone/p0..p6 (1+2+...+7 children), gone/dup (2) and x/old (1).
    assert summary.unresolved_derivatives == 28 + 2 + 1


def test_no_budget_left_means_no_lookup(tmp_path):
    with FakeHub(population(), page_size=4, renames=RENAMES) as hub:
        summary = crawl(Store(tmp_path / "s"), hub, all=True, lookup_budget=0)
        assert hub.count("info") == 0
    assert summary.unresolved_parents == len(ALL_UNKNOWN)


def test_resolving_the_rest_later_gives_the_store_of_unlimited_lookups(tmp_path):
    with FakeHub(population(), page_size=4, renames=RENAMES) as hub:
        unlimited = Store(tmp_path / "unlimited")
        crawl(unlimited, hub, all=True, lookup_budget=None)
        hub.reset_counts()
        budgeted = Store(tmp_path / "budgeted")
        crawl(budgeted, hub, all=True, lookup_budget=2)
        first = looked_up(hub)
        hub.reset_counts()
        later = crawl(budgeted, hub, resolve_parents=True, lookup_budget=5)
        second = looked_up(hub)
        assert hub.count("list") == 0  # resolving fetches no listing
        hub.reset_counts()
        last = crawl(budgeted, hub, resolve_parents=True, lookup_budget=None)
        third = looked_up(hub)
        nothing = crawl(budgeted, hub, resolve_parents=True, lookup_budget=None)
    assert (len(first), len(second), len(third)) == (2, 5, len(ALL_UNKNOWN) - 7)
    assert sorted(first + second + third) == sorted(ALL_UNKNOWN)  # none asked twice
    assert later.unresolved_parents == len(ALL_UNKNOWN) - 7
    assert last.unresolved_parents == 0 and nothing.lookup_requests == 0
    assert comparable(budgeted) == comparable(unlimited)
    kinds = set(budgeted.read("problems")["kind"])
    assert {"missing_parent", "renamed_parent"} <= kinds


def test_a_parent_declared_in_two_cases_is_looked_up_once(tmp_path):
    store = Store(tmp_path / "s")
    with FakeHub(population(), page_size=4, renames=RENAMES) as hub:
        crawl(store, hub, all=True, lookup_budget=None)
        assert looked_up(hub).count("gone/dup") == 1
    rows = store.read("lookups").filter(pl.col("query").str.to_lowercase() == "gone/dup")
    assert sorted(rows["query"]) == ["Gone/Dup", "gone/dup"]
    assert set(rows["status"]) == {"missing"}
    # Across runs: a third spelling, declared by a model created since, is not asked again.
    newer = [*population(), _model("d/three", 20, "GONE/DUP")]
    with FakeHub(newer, page_size=4, renames=RENAMES) as hub:
        summary = crawl(store, hub, all=True, lookup_budget=None)
        assert "gone/dup" not in looked_up(hub)
    assert summary.unresolved_parents == 0
    problems = store.read("problems").filter(pl.col("model") == "d/three")
    assert problems.select("kind", "detail").rows() == [("missing_parent", "GONE/DUP")]


def test_a_roots_sweep_keeps_the_children_of_renamed_and_wrong_case_parents(tmp_path):
    store = Store(tmp_path / "s")
    with FakeHub(population(), page_size=4, renames=RENAMES) as hub:
        crawl(store, hub, roots=("org",), strategy="sweep", lookup_budget=None)
    family = set(store.read("models").filter("crawled")["id"])
    expected = {"org/base", "org/base2", "w/case-child", "w/grandchild"}
    expected |= {f"r/child-{j}" for j in range(10)}
    assert family == expected
    # The sweep looked up every parent it could not match (x/old too), but stores only
    # the family's parents: here all in the family.
    assert "x/old" in set(store.read("lookups")["query"])
    assert store.read("models").filter(~pl.col("crawled")).height == 0


def test_a_walk_lists_the_names_the_store_knows_and_says_what_it_cannot_see(tmp_path):
    with FakeHub(population(), page_size=4, renames=RENAMES) as hub:
        fresh = crawl(Store(tmp_path / "fresh"), hub, roots=("org",), strategy="walk")
        # The Hub's base_model filter is exact: on its own, a walk sees neither the
        # wrong-case child nor the renamed parent's children.
        assert fresh.family == 2 and fresh.walk_variants == 0
        store = Store(tmp_path / "s")
        crawl(store, hub, all=True, lookup_budget=None)
        hub.reset_counts()
        walked = crawl(store, hub, roots=("org",), strategy="walk", lookup_budget=None)
        filters = {f for r in hub.requests if r.kind == "list" for f in r.query.get("filter", [])}
    assert {"base_model:org/old-name", "base_model:ORG/BASE"} <= filters
    assert walked.walk_variants == 2
    assert walked.family == 2 + 10 + 2  # org's two, the renamed parent's 10, w/*
    assert walked.walk_variants == 2  # x/old is no name of org's family


def test_cli_budget_then_resolve_parents_and_what_info_says(run_cli, tmp_path):
    store = str(tmp_path / "s")
    Store(store)  # an empty store
    empty = run_cli("info", "--store", store)
    assert "roots crawled: none (nothing crawled or ingested yet)" in empty.stdout
    with FakeHub(population(), page_size=4, renames=RENAMES) as hub:
        first = run_cli(
            "crawl", "--all", "--lookup-budget", "4", "--store", store, "--endpoint", hub.url
        )
        assert first.exit_code == 0, first.stderr
        assert "unresolved: 8 parents matching no model, not looked up (24 models under" in (
            first.stderr
        )
        assert "lineage crawl --resolve-parents" in first.stderr
        quality = run_cli("quality", "--store", store, "--format", "csv")
        assert "models under parents never looked up" in quality.stdout
        assert ",24," in quality.stdout.split("models under parents never looked up")[1][:80]
        later = run_cli(
            "crawl", "--resolve-parents", "--lookup-budget", "all", "--store", store,
            "--endpoint", hub.url,
        )  # fmt: skip
        assert later.exit_code == 0, later.stderr
        assert "looked up parents left unresolved in" in later.stderr
        assert "unresolved:" not in later.stderr
        assert "requests: 8 (0 listing, 8 lookups" in later.stderr
        bad = run_cli("crawl", "--all", "--lookup-budget", "many", "--store", store)
        assert bad.exit_code == 2 and "'many': give a number of lookups" in bad.stderr
    info = run_cli("info", "--store", store)
    assert "roots crawled: none (whole-Hub crawls and ingests only)" in info.stdout
    assert "crawl parents left unresolved (resolve-parents): 8 requests" in info.stdout


def test_a_crawl_that_fetched_nothing_leaves_no_journal(run_cli, tmp_path):
    store = str(tmp_path / "s")
    with FakeHub([]) as hub:
        down = hub.url  # nothing listens here once the Hub is stopped
    result = run_cli("crawl", "--all", "--store", store, "--endpoint", down, "--give-up-after", "0")
    assert result.exit_code != 0
    assert "nothing was fetched yet, so there is nothing to resume" in result.stderr
    info = run_cli("info", "--store", store)
    assert "interrupted crawl" not in info.stdout


def test_resolve_parents_killed_mid_way_resumes_without_asking_twice(tmp_path):
    import signal

    from support.storecheck import lineage_subprocess

    with FakeHub(population(), page_size=4, renames=RENAMES) as hub:
        unlimited = Store(tmp_path / "unlimited")
        crawl(unlimited, hub, all=True, lookup_budget=None)
        budgeted = Store(tmp_path / "budgeted")
        crawl(budgeted, hub, all=True, lookup_budget=2)
        hub.reset_counts()
        args = ["crawl", "--resolve-parents", "--lookup-budget", "all", "--quiet"]
        args += ["--store", str(budgeted.path), "--endpoint", hub.url]
        # Killed right after its first lookup is journaled, then once more after the summary.
        for step in ("journal:recorded:lookup", "journal:summary"):
            killed = lineage_subprocess(*args, env={"LINEAGE_TEST_HOOK": f"{step}=kill"})
            killed.communicate(timeout=60)
            assert killed.returncode == -signal.SIGKILL
        done = lineage_subprocess(*args)
        _, err = done.communicate(timeout=60)
        assert done.returncode == 0, err
        asked = looked_up(hub)
    assert sorted(asked) == sorted(set(ALL_UNKNOWN) - {"gone/pop", "org/old-name"})  # once each
    budgeted = Store(budgeted.path)
    assert comparable(budgeted) == comparable(unlimited)
    assert budgeted.read("crawls").filter(pl.col("strategy") == "resolve-parents").height == 1
