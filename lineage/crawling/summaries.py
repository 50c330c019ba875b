"""What a crawl tells: its summary, made from the run's journal and the store's answer.

:class:`CrawlSummary` is what the CLI prints and what the journal keeps (summary.json) so
that a run finding its crawl already committed can report it (:func:`committed_summary`).
:func:`summarize` fills it from the committed batch, the lookups, the journal's totals over
every process that worked on the crawl, and the store's count of what changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from ..journal import CrawlIdentity, Journal
from ..parents import under
from ..records import Batch
from ..store import CommitResult, Store
from ..summary import RunSummary
from .batches import declared
from .parents import Lookups
from .session import CrawlRun


@dataclass(kw_only=True)
class CrawlSummary(RunSummary):
    """What a crawl did; printed by the CLI and kept (in part) in the crawl log."""

    roots: list[str]
    strategy: str
    endpoint: str
    resumed: bool
    family: int = 0
    not_crawled: int = 0
    missing: int = 0
    renamed: int = 0
    listing_requests: int = 0
    lookup_requests: int = 0
    retries: int = 0
    waited: float = 0.0
    skipped_items: int = 0
    # The listings' self-checks: models served twice, createdAt going up (see paging).
    duplicates: int = 0
    order_breaks: int = 0
    # An update: the time it looked back to.
    new_since: dt.datetime | None = None
    # HTTP requests sent: listing and lookup requests, plus each redirect hop (a renamed
    # parent costs its 307 and the request it redirects to).
    http_requests: int = 0
    # The lookup budget (None: unlimited), and what it left for `crawl --resolve-parents`:
    # parents never looked up that match no model, and the models whose lineage runs
    # through them.
    lookup_budget: int | None = None
    unresolved_parents: int = 0
    unresolved_derivatives: int = 0
    # Listings of other spellings and former names of family members a walk also asked
    # for (known to the store from earlier crawls).
    walk_variants: int = 0
    # models_new/updated count the family (the crawled models); parents outside it that
    # the store did not hold yet are counted here. Lookups that found their id as asked.
    parents_new: int = 0
    found: int = 0

    # The order of summary.json in a journal, as lineage has always written it.
    JOURNAL_ORDER = (
        "roots", "strategy", "store", "endpoint", "resumed", "family", "not_crawled",
        "missing", "renamed", "listing_requests", "lookup_requests", "retries", "waited",
        "models_new", "models_updated", "skipped_items", "edges_by_relation",
        "inferred_edges", "problems_by_kind", "duplicates", "order_breaks", "new_since",
        "seconds",
    )  # fmt: skip

    @property
    def requests(self) -> int:
        return self.listing_requests + self.lookup_requests

    def journaled(self) -> dict[str, Any]:
        """The summary as its journal keeps it (summary.json), in its usual key order."""
        fields = asdict(self)
        order = [k for k in self.JOURNAL_ORDER if k in fields]
        return {k: fields[k] for k in [*order, *(k for k in fields if k not in order)]}


def summarize(
    run: CrawlRun, summary: CrawlSummary, batch: Batch, lookups: Lookups, result: CommitResult
) -> None:
    """Fill ``summary`` for a crawl about to commit ``batch`` (``result``: the store's count
    of what that commit changes)."""
    totals = run.journal.totals()
    summary.family = int(batch.models["crawled"].sum())
    summary.not_crawled = batch.models.height - summary.family
    answered = lookups.frame.join(
        declared(batch), left_on=pl.col("query").str.to_lowercase(), right_on="key", how="semi"
    )
    statuses = Counter(answered["status"].to_list())
    summary.missing = statuses.get("missing", 0)
    summary.renamed = statuses.get("renamed", 0)
    summary.found = statuses.get("found", 0)
    # Totals of the whole crawl, over every process that worked on it (journaled).
    summary.listing_requests = int(totals.get("listings", 0))
    summary.lookup_requests = int(totals.get("lookups", 0))
    summary.http_requests = (
        summary.listing_requests + summary.lookup_requests + int(totals.get("redirects", 0))
    )
    summary.unresolved_parents = lookups.unresolved.height
    if lookups.unresolved.height:
        summary.unresolved_derivatives = _unresolved_derivatives(run.store, batch, lookups)
    summary.retries = int(totals.get("retries", 0))
    summary.waited = totals.get("waited", 0.0)
    # The family's own counts: the parents outside it are counted apart.
    family = batch.models.filter(pl.col("crawled"))
    if family.height != batch.models.height:
        empty = Batch.empty()
        result_all = result
        result = run.store.count_changes(
            Batch(family, empty.edges, empty.problems), observed=run.seen_at.date()
        )
        summary.parents_new = result_all.models_new - result.models_new
    summary.models_new = result.models_new
    summary.models_updated = result.models_updated
    summary.skipped_items = int(totals.get("skipped", 0))
    _graph_counts(summary, batch)
    checks = run.listing_checks()
    summary.duplicates = checks["listing_duplicates"]
    summary.order_breaks = checks["listing_order_breaks"]


def _unresolved_derivatives(store: Store, batch: Batch, lookups: Lookups) -> int:
    """Crawled models whose lineage runs through a parent left unresolved, counted in the
    store as it will be: earlier crawls' models too."""
    crawled = pl.concat(
        [
            batch.models.filter(pl.col("crawled")).select("id"),
            store.read("models", columns=["id", "crawled"]).filter(pl.col("crawled")).select("id"),
        ]
    ).select(pl.col("id").str.to_lowercase().alias("key"))
    edges = pl.concat(
        [batch.edges.select("child", "parent"), store.read("edges", columns=["child", "parent"])]
    )
    return under(edges, lookups.unresolved).join(crawled, on="key", how="semi").height


def _graph_counts(summary: CrawlSummary, batch: Batch) -> None:
    """The family's edges by relation, inferred relations, and card problems by kind."""
    family_edges = batch.edges.join(
        batch.models.filter(pl.col("crawled")).select("id"),
        left_on="child",
        right_on="id",
        how="semi",
    )
    summary.edges_by_relation = dict(Counter(family_edges["relation"].to_list()).most_common())
    summary.inferred_edges = int(family_edges["inferred"].sum())
    summary.problems_by_kind = dict(Counter(batch.problems["kind"].to_list()).most_common())


def committed_summary(
    store: Store, journal: Journal, summary: CrawlSummary, identity: CrawlIdentity
) -> CrawlSummary:
    """The summary of a crawl an earlier run committed: journaled, else from its log row."""
    if journal.summary is not None:
        saved = {**journal.summary, "resumed": True, "store": str(store.path)}
        if saved.get("new_since"):  # journaled as text
            saved["new_since"] = dt.datetime.fromisoformat(saved["new_since"])
        return CrawlSummary(**saved)
    log = store.read("crawls").filter(pl.col("kind") == "crawl")
    if journal.crawl_id is not None:
        log = log.filter(pl.col("crawl_id") == journal.crawl_id)
    else:  # lineage before tombstones left no plan: the latest crawl of the same ask
        log = log.filter(
            (pl.col("endpoint") == identity["endpoint"])
            & (pl.col("roots").list.join("\n") == "\n".join(identity["roots"]))
        )
    summary.resumed = True
    if log.height:
        row = log.sort("finished_at").row(-1, named=True)
        summary.strategy = row["strategy"]
        summary.family = row["models_seen"]
        summary.models_new, summary.models_updated = row["models_new"], row["models_updated"]
        summary.lookup_requests = row["lookups"]
        summary.listing_requests = row["requests"] - row["lookups"]
        summary.retries = row["retries"]
    return summary
