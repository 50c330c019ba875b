"""One crawl run's state and the two ways it asks the Hub: listing pages and lookups.

A :class:`CrawlRun` is made by :meth:`lineage.crawl.Crawler.run` for one run and dropped
with it: the journal it resumes or starts, the client, the progress bar, the date its
records are seen at, and the counters that run keeps. Every page and lookup goes through
the journal first (:mod:`lineage.journal`), so a run can stop at any moment and the next
one resumes from what was saved.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from ..hub import HubClient
from ..journal import Journal, PageEvent
from ..paging import ListingCheck
from ..progress import Progress
from ..records import Batch, parse_items
from ..repo_id import is_repo_id
from ..store import Store


@dataclass
class RunCounters:
    """What one process counted during a run (the journal sums them over processes)."""

    started: float = field(default_factory=time.monotonic)
    skipped: int = 0  # malformed listing items left out
    found: int = 0  # models seen in this run's pages, for the progress bar


_STATS = ("listings", "lookups", "redirects", "retries", "waited")


def run_meter(client: HubClient, counters: RunCounters) -> Callable[[], dict[str, float]]:
    """This run's running counters, journaled with each event (the journal sums them over
    the processes that worked on the crawl). The client's counters are counted from now:
    a client that served an earlier run does not add that run's requests to this one."""
    start = {name: getattr(client.stats, name) for name in _STATS}

    def meter() -> dict[str, float]:
        now = {name: getattr(client.stats, name) - start[name] for name in _STATS}
        return {
            **now,
            "skipped": counters.skipped,
            "seconds": time.monotonic() - counters.started,
        }

    return meter


@dataclass
class CrawlRun:
    """One run of a crawl: what every part of the crawler shares while it runs."""

    store: Store
    client: HubClient
    progress: Progress
    journal: Journal
    seen_at: dt.datetime  # the crawl's start (a resumed crawl keeps its first start)
    counters: RunCounters

    def count(self, kind: str) -> int:
        """Journaled events of ``kind`` (``page``, ``lookup``) over the whole crawl."""
        return self.journal.counts[kind]

    def fetch_listing(
        self,
        listing: str,
        first_url: str,
        *,
        with_ids: bool,
        name: str,
        stop: Callable[[], bool] | None = None,
        last_page: Callable[[Batch], bool] | None = None,
    ) -> list[str]:
        """Fetch the remaining pages of one listing; return the ids of all its models.

        Each page is checked (:class:`~lineage.paging.ListingCheck`, named ``name`` in its
        messages) before it is journaled. ``stop`` is asked after each page; when it says
        so the listing is left unfinished (its journal keeps the next page's URL).
        ``last_page(batch)`` is asked before a page is journaled; when it says so, the page
        is journaled as the listing's last.
        """
        check = ListingCheck(name)
        ids, url = self._replay(listing, first_url, check, with_ids=with_ids)
        while url is not None:
            page = self.client.list_page(url)
            batch, skipped = parse_items(page.items, seen_at=self.seen_at, source="list")
            self.counters.skipped += skipped
            new_ids = batch.models["id"].to_list()
            # Every id served, repeats within the page included (the batch keeps one each).
            served = [
                item["id"]
                for item in page.items
                if isinstance(item, Mapping) and isinstance(item.get("id"), str)
            ]
            checked = check.check(url, served, batch.models["created_at"].to_list(), page.next_url)
            next_url = page.next_url
            if next_url is not None and last_page is not None and last_page(batch):
                next_url = None
            event: PageEvent = {
                "e": "page",
                "listing": listing,
                "url": url,
                "next": next_url,
                "count": len(new_ids),
                "duplicates": checked.duplicates,
                "order_breaks": checked.order_breaks,
                "stale": checked.stale,
                "last_created": checked.last_created.isoformat() if checked.last_created else None,
            }
            if with_ids:
                event["ids"] = new_ids
            self.journal.record(event, batch)
            ids.extend(new_ids)
            url = next_url
            self.counters.found += len(new_ids)
            self.progress.advance(
                1, models=f"{self.counters.found:,}", requests=self.client.stats.total
            )
            if stop is not None and url is not None and stop():
                break
        return ids

    def _replay(
        self, listing: str, first_url: str, check: ListingCheck, *, with_ids: bool
    ) -> tuple[list[str], str | None]:
        """The ids a listing's journaled pages hold and the URL to go on from, with
        ``check`` brought to where those pages left it."""
        ids: list[str] = []
        url: str | None = first_url
        done = self.journal.pages_of(listing)
        for event in done:
            ids.extend(event.get("ids", []))
            url = event["next"]
        if done:
            seen = ids
            if not with_ids:  # a sweep keeps its ids in the journal's pages only
                numbers = [e["n"] for e in done]
                seen = self.journal.scan("models", numbers).select("id").collect()["id"].to_list()
            check.replay(
                [e["url"] for e in done],
                seen,
                [e.get("stale", False) for e in done],
                done[-1].get("last_created"),
            )
        return ids, url

    def lookup(self, query: str, *, role: Literal["root", "parent"]) -> str | None:
        """model_info once per query per crawl (journaled); returns the current id or None."""
        event = self.journal.lookup_of(query)
        if event is not None:
            return event["id"]
        item = self.client.model_info(query)
        if item is None or not is_repo_id(item["id"]):
            self.journal.record({"e": "lookup", "role": role, "query": query, "id": None})
            return None
        batch, _ = parse_items([item], seen_at=self.seen_at, source="info", crawled=role == "root")
        self.journal.record({"e": "lookup", "role": role, "query": query, "id": item["id"]}, batch)
        return item["id"]

    def listing_checks(self) -> dict[str, int]:
        """Totals of the listings' self-checks, over every page this crawl fetched."""
        pages = list(self.journal.where(e="page"))
        return {
            "listing_duplicates": sum(e.get("duplicates", 0) for e in pages),
            "listing_order_breaks": sum(e.get("order_breaks", 0) for e in pages),
        }

    def saved(self) -> str:
        """What an interrupted run leaves for the next one, in words, with the command."""
        pages, lookups = self.count("page"), self.count("lookup")
        if not pages and not lookups:
            return "nothing was fetched yet, so there is nothing to resume"
        command = self.journal.resume_command(str(self.store.path))
        return (
            f"progress is saved ({plural(pages, 'listing page')}, {plural(lookups, 'lookup')}); "
            f"run the same command again to resume: {command}"
        )

    def drop_if_empty(self) -> None:
        """A crawl stopped before it journaled anything leaves no journal behind: there is
        nothing to resume, and `lineage info` must not offer to."""
        if not self.journal.events and not self.journal.committed:
            self.journal.remove()


def plural(n: int, word: str) -> str:
    """``1 lookup``, ``2 lookups``, ``1,000 listing pages``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"
