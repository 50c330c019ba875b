"""Typed summaries and records: one base for crawl and ingest summaries, formats unchanged."""

from __future__ import annotations

import datetime as dt
import json

from lineage.crawl import CrawlSummary
from lineage.hubstats import IngestSummary
from lineage.info import RecentCrawl, store_info
from lineage.journal import Journal
from lineage.store import Store
from lineage.summary import RunSummary

# summary.json in a crawl's journal, key for key, as lineage wrote it before the base class.
JOURNALED_KEYS = [
    "roots", "strategy", "store", "endpoint", "resumed", "family", "not_crawled", "missing",
    "renamed", "listing_requests", "lookup_requests", "retries", "waited", "models_new",
    "models_updated", "skipped_items", "edges_by_relation", "inferred_edges",
    "problems_by_kind", "duplicates", "order_breaks", "new_since", "seconds",
]  # fmt: skip
# Added since (issue 15's lookup budget), after the old keys: older journals lack them.
ADDED_KEYS = [
    "http_requests", "lookup_budget", "unresolved_parents", "unresolved_derivatives",
    "walk_variants",
    # issue 22: the family's counts apart from the parents outside it, and lookups found as asked
    "parents_new", "found",
]  # fmt: skip


def test_a_crawl_summary_is_journaled_with_the_same_keys_in_the_same_order():
    summary = CrawlSummary(roots=["Qwen"], strategy="walk", store="s", endpoint="e", resumed=False)
    assert list(summary.journaled()) == JOURNALED_KEYS + ADDED_KEYS
    # and read back as it always was
    saved = json.loads(json.dumps(summary.journaled(), default=str))
    assert CrawlSummary(**saved) == summary
    # a summary journaled before the added keys still reads
    old = {k: v for k, v in saved.items() if k in JOURNALED_KEYS}
    assert CrawlSummary(**old) == summary


def test_crawl_and_ingest_summaries_share_one_base_and_its_wording():
    shared = {
        "store": "s",
        "models_new": 2,
        "edges_by_relation": {"quantized": 2, "finetune": 1},
        "inferred_edges": 1,
        "problems_by_kind": {"bad_base_model": 3},
    }
    crawl = CrawlSummary(roots=[], strategy="all", endpoint="e", resumed=False, **shared)
    ingest = IngestSummary(
        source="m.parquet", snapshot_date=dt.date(2026, 1, 5), date_source="given", **shared
    )
    assert isinstance(crawl, RunSummary) and isinstance(ingest, RunSummary)
    assert (
        crawl.graph_lines()
        == ingest.graph_lines()
        == [
            "  edges: quantized 2, finetune 1 (1 relation inferred)",
            "  card problems: 3 (bad_base_model 3)",
        ]
    )


def test_journal_events_are_written_as_before(tmp_path):
    identity = {
        "roots": ["Qwen"], "all": False, "strategy": "walk", "endpoint": "http://x",
        "lookups": True, "order": "createdAt", "new": False,
    }  # fmt: skip
    started = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
    journal = Journal.open(tmp_path, identity, crawl_id="abc", started_at=started)
    journal.record({"e": "lookup", "role": "parent", "query": "a/b", "id": None})
    journal.record({"e": "switch", "to": "sweep", "after": 3})
    assert (journal.path / "events.jsonl").read_text() == (
        '{"e": "lookup", "role": "parent", "query": "a/b", "id": null, "n": 0}\n'
        '{"e": "switch", "to": "sweep", "after": 3, "n": 1}\n'
    )
    assert json.loads((journal.path / "plan.json").read_text()) == {
        "identity": identity,
        "crawl_id": "abc",
        "started_at": "2026-01-05T12:00:00+00:00",
    }
    again = Journal.open(tmp_path, identity, crawl_id="other", started_at=started)
    assert again.lookup_of("a/b") == {
        "e": "lookup", "role": "parent", "query": "a/b", "id": None, "n": 0,
    }  # fmt: skip
    assert again.crawl_id == "abc"


def test_info_reports_recent_crawls_with_the_typed_keys(toy_store):
    crawls = store_info(Store(toy_store)).crawls
    assert crawls and all(list(c) == list(RecentCrawl.__annotations__) for c in crawls)
    assert crawls[0]["kind"] == "crawl" and crawls[0]["strategy"] == "all"
