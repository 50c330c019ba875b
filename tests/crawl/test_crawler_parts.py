"""The crawler as a caller sees it: its client left alone, and a fresh state every run.

One ``Crawler`` may run several requests (a notebook, a scheduler); each run makes its own
state (lineage.crawling.session.CrawlRun), so a run counts only what it did, and the
client a caller handed over is the caller's as it was.
"""

from __future__ import annotations

from support.toyhub import client_for, toy_models, toy_renames

from lineage.crawl import Crawler, CrawlRequest
from lineage.store import Store
from lineage.testing.fakehub import FakeHub

# A listing item with a hostile id: skipped and counted in the run's summary.
HOSTILE = {"id": "evil/../x", "createdAt": "2025-05-01T00:00:00.000Z"}


def test_the_crawler_leaves_the_callers_client_as_it_was(store, toy_hub):
    client = client_for(toy_hub)
    assert client.on_wait is None
    crawler = Crawler(store, client)
    assert client.on_wait is None  # the crawler reports waits through a copy of its own
    crawler.run(CrawlRequest(roots=("Qwen",), strategy="walk"))
    assert client.on_wait is None
    assert client.stats.total > 0  # ... whose request counters are the caller's


def test_a_second_run_of_one_crawler_counts_only_itself(tmp_path):
    models = [*toy_models(), HOSTILE]
    with FakeHub(models, page_size=5, renames=toy_renames()) as hub:
        reused = Crawler(Store(tmp_path / "reused"), client_for(hub))
        first = reused.run(CrawlRequest(all=True))
        second = reused.run(CrawlRequest(all=True, lookups=False))
        fresh_store = Store(tmp_path / "fresh")
        Crawler(fresh_store, client_for(hub)).run(CrawlRequest(all=True))
        alone = Crawler(fresh_store, client_for(hub)).run(CrawlRequest(all=True, lookups=False))
    assert first.skipped_items == 1
    assert second.skipped_items == alone.skipped_items == 1
    assert (second.models_new, second.models_updated) == (alone.models_new, alone.models_updated)
    # The client's requests are counted per run too (the first run's are not the second's).
    assert (second.listing_requests, second.lookup_requests, second.http_requests) == (
        alone.listing_requests,
        alone.lookup_requests,
        alone.http_requests,
    )
