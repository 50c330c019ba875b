"""Crawling a model family (or the whole Hub) from the Hub into the store.

Strategies, and what each costs in requests:

- **walk**: list the root organization's models, then, breadth-first, each model's direct
  children (``filter=base_model:<id>``). At least one request per model in the family.
- **sweep**: list every model on the Hub (1000 a page, parents read from tags), then keep
  the roots' descendants. About ``hub_size / 1000`` requests whatever the family's size.
- **auto** (default): walk while the family looks small, and switch to a sweep as soon as
  the walk's requests so far plus the models still waiting to be walked (each costs at
  least one request) exceed what a sweep costs. A family bigger than ``hub_size / 1000``
  models (Qwen, Llama: 100k+) is swept; a family of a few hundred is walked. The
  switch wastes at most about one sweep's worth of requests, so auto never costs more than
  about twice the cheaper strategy.

After the family is known, each declared parent that matches no known model is looked up
once with ``model_info`` (which follows renames and fixes case): renamed parents resolve
to their current id, existing parents outside the family are stored as not crawled, and
the rest are recorded as missing. Every page goes to the journal first, so a crawl can be
interrupted at any moment and resumed by running the same command.
"""

from __future__ import annotations

import datetime as dt
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import polars as pl

from .errors import HubUnreachable, NotOnHub
from .hub import PAGE_SIZE, HubClient
from .journal import Journal
from .progress import Progress
from .records import PROBLEM_SCHEMA, Batch, parse_items
from .store import LOOKUP_SCHEMA, Store

STRATEGIES = ("auto", "walk", "sweep")
HUB_SIZE_ESTIMATE = 2_500_000


@dataclass(frozen=True)
class CrawlRequest:
    """What to crawl.

    ``roots``: organizations (every model in the namespace is a root) or model ids.
    ``all``: sweep the whole Hub instead. ``hub_size``: models on the Hub, for the auto
    rule and the sweep's ETA (default: the last whole-Hub sweep's count, else 2.5M).
    ``lookups``: look up declared parents that match no known model.
    """

    roots: tuple[str, ...] = ()
    all: bool = False
    strategy: str = "auto"
    hub_size: int | None = None
    lookups: bool = True


@dataclass
class CrawlSummary:
    """What a crawl did; printed by the CLI and kept (in part) in the crawl log."""

    roots: list[str]
    strategy: str
    store: str
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
    models_new: int = 0
    models_updated: int = 0
    skipped_items: int = 0
    edges_by_relation: dict[str, int] = field(default_factory=dict)
    inferred_edges: int = 0
    problems_by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return self.listing_requests + self.lookup_requests


class Crawler:
    """Runs one :class:`CrawlRequest` against a store with a Hub client."""

    def __init__(self, store: Store, client: HubClient, progress: Progress | None = None) -> None:
        self.store = store
        self.client = client
        self.progress = progress or Progress(enabled=False)
        self.skipped = 0
        self.found = 0  # models seen in this run's pages, for the progress bar
        if client.on_wait is None:
            client.on_wait = lambda s, why: self.progress.message(f"{why}: waiting {s:.0f} s")

    # -- entry point --------------------------------------------------------------------

    def run(self, request: CrawlRequest) -> CrawlSummary:
        if request.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        clock = dt.datetime.now(dt.UTC)
        self._started = time.monotonic()
        identity = {
            "roots": list(request.roots),
            "all": request.all,
            "strategy": request.strategy,
            "endpoint": self.client.endpoint,
            "lookups": request.lookups,
        }
        with self.store.lock():
            # A damaged store is named now, before a single request is spent on it.
            self.store.verify()
            journal = Journal.open(
                self.store.path / "journal",
                identity,
                crawl_id=uuid.uuid4().hex[:12],
                started_at=clock.replace(microsecond=0),
                meter=self._meter,
            )
            self.journal = journal
            summary = CrawlSummary(
                roots=list(request.roots),
                strategy="all" if request.all else request.strategy,
                store=str(self.store.path),
                endpoint=self.client.endpoint,
                resumed=journal.resumed,
            )
            if journal.committed or self._already_committed(journal):
                # An earlier run committed this crawl and was stopped while removing its
                # journal: finish that, report the crawl, and never crawl it again.
                summary = self._committed_summary(journal, summary, identity)
                journal.finish()
                return summary
            try:
                self.seen_at = journal.started_at
                family, outside = self._collect(request, summary)
                lookups = self._look_up(family, outside, enabled=request.lookups)
                batch = self._assemble(family, outside, lookups)
                # The summary is journaled before the commit, so that a run finding the
                # crawl committed (killed before its journal was removed) can report it.
                self._summarize(summary, batch, lookups, self.store.count_changes(batch))
                summary.seconds = journal.totals().get("seconds", 0.0)
                journal.save_summary(asdict(summary))
                totals = journal.totals()
                self.store.commit(
                    batch,
                    lookups=lookups,
                    snapshot_date=self.seen_at.date(),
                    crawl={
                        "crawl_id": journal.crawl_id,
                        "kind": "crawl",
                        "started_at": journal.started_at,
                        "finished_at": dt.datetime.now(dt.UTC),
                        "endpoint": self.client.endpoint,
                        "roots": list(request.roots),
                        "strategy": summary.strategy,
                        "requests": self._count("page") + self._count("lookup"),
                        "lookups": self._count("lookup"),
                        "retries": int(totals.get("retries", 0)),
                    },
                )
                summary.seconds = journal.totals().get("seconds", 0.0)
                journal.finish()
            except HubUnreachable as exc:
                raise HubUnreachable(f"{exc.message}; {self._saved()}") from exc
            except KeyboardInterrupt as exc:
                raise KeyboardInterrupt(self._saved()) from exc
        self.progress.close()
        return summary

    def _meter(self) -> dict[str, float]:
        """This process's running counters, journaled with each event (whole-crawl totals)."""
        stats = self.client.stats
        return {
            "listings": stats.listings,
            "lookups": stats.lookups,
            "retries": stats.retries,
            "waited": stats.waited,
            "skipped": self.skipped,
            "seconds": time.monotonic() - self._started,
        }

    def _saved(self) -> str:
        """What an interrupted run leaves for the next one, in words."""
        pages, lookups = self._count("page"), self._count("lookup")
        if not pages and not lookups:
            return "nothing was fetched yet, so there is nothing to resume"
        return (
            f"progress is saved ({pages:,} pages, {lookups:,} lookups), run the same command "
            "again to resume"
        )

    def _already_committed(self, journal: Journal) -> bool:
        log = self.store.read("crawls", columns=["crawl_id"])
        return journal.crawl_id in set(log["crawl_id"].to_list())

    def _committed_summary(
        self, journal: Journal, summary: CrawlSummary, identity: dict
    ) -> CrawlSummary:
        """The summary of a crawl an earlier run committed: journaled, else from its log row."""
        if journal.summary is not None:
            return CrawlSummary(
                **{**journal.summary, "resumed": True, "store": str(self.store.path)}
            )
        log = self.store.read("crawls").filter(pl.col("kind") == "crawl")
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

    def _count(self, kind: str) -> int:
        return self.journal.counts[kind]

    # -- collecting ---------------------------------------------------------------------

    def _collect(self, request: CrawlRequest, summary: CrawlSummary) -> tuple[Batch, Batch]:
        """Fetch what the request needs; return (family batch, known parents outside it)."""
        hub_size = request.hub_size or self._hub_size_estimate()
        if request.all:
            sweep = self._sweep(hub_size)
            return self.journal.batch(sweep), Batch.empty()
        roots = self._resolve_roots(request.roots)
        strategy = request.strategy
        if strategy in ("walk", "auto"):
            switched = self._walk(
                roots, sweep_cost=math.ceil(hub_size / PAGE_SIZE), auto=strategy == "auto"
            )
            if not switched:
                walked = [e["n"] for e in self.journal.where(e="page")] + self._root_pages()
                return self._split(self.journal.batch(walked), roots)
            summary.strategy = "auto: sweep"
        elif strategy == "sweep":
            summary.strategy = "sweep"
        sweep = self._sweep(hub_size)
        everything = Batch.concat(
            [self.journal.batch(sweep), self.journal.batch(self._root_pages())]
        )
        return self._split(everything, roots)

    def _root_pages(self) -> list[int]:
        """Journal numbers of the pages that hold the roots' own records."""
        return [
            e["n"]
            for e in self.journal.events
            if e.get("batch")
            and (e.get("listing", "").startswith("author:") or e.get("role") == "root")
        ]

    def _hub_size_estimate(self) -> int:
        log = self.store.read("crawls").filter(pl.col("strategy") == "all")
        if log.height:
            return int(log.sort("finished_at")["models_seen"][-1])
        return HUB_SIZE_ESTIMATE

    def _fetch_listing(
        self,
        listing: str,
        first_url: str,
        *,
        with_ids: bool,
        stop: Callable[[], bool] | None = None,
    ) -> list[str]:
        """Fetch the remaining pages of one listing; return the ids of all its models.

        ``stop`` is asked after each page; when it says so the listing is left unfinished
        (its journal keeps the next page's URL).
        """
        ids: list[str] = []
        url: str | None = first_url
        for event in self.journal.pages_of(listing):
            ids.extend(event.get("ids", []))
            url = event["next"]
        while url is not None:
            page = self.client.list_page(url)
            batch, skipped = parse_items(page.items, seen_at=self.seen_at, source="list")
            self.skipped += skipped
            new_ids = batch.models["id"].to_list()
            event = {
                "e": "page",
                "listing": listing,
                "url": url,
                "next": page.next_url,
                "count": len(new_ids),
            }
            if with_ids:
                event["ids"] = new_ids
            self.journal.record(event, batch)
            ids.extend(new_ids)
            url = page.next_url
            self.found += len(new_ids)
            self.progress.advance(1, models=f"{self.found:,}", requests=self.client.stats.total)
            if stop is not None and url is not None and stop():
                break
        return ids

    def _resolve_roots(self, roots: tuple[str, ...]) -> list[str]:
        """Root model ids for the requested organizations and models (in the Hub's case)."""
        self.progress.phase("resolving roots", total=len(roots), unit="root")
        resolved: list[str] = []
        for root in roots:
            if "/" not in root:
                found = self._fetch_listing(
                    f"author:{root}", self.client.listing_url(author=root), with_ids=True
                )
                if found:
                    resolved.extend(found)
                    continue
            info = self._lookup(root, role="root")
            if info is None:
                raise NotOnHub(f"no model or organization named '{root}' on {self.client.endpoint}")
            resolved.append(info)
        return list(dict.fromkeys(resolved))

    def _lookup(self, query: str, *, role: str) -> str | None:
        """model_info once per query per crawl (journaled); returns the current id or None."""
        event = self.journal.lookup_of(query)
        if event is not None:
            return event["id"]
        item = self.client.model_info(query)
        if item is None:
            self.journal.record({"e": "lookup", "role": role, "query": query, "id": None})
            return None
        batch, _ = parse_items([item], seen_at=self.seen_at, source="info", crawled=role == "root")
        self.journal.record({"e": "lookup", "role": role, "query": query, "id": item["id"]}, batch)
        return item["id"]

    def _walk(self, roots: list[str], *, sweep_cost: int, auto: bool) -> bool:
        """Breadth-first over children listings. Returns True if auto switched to a sweep."""
        if any(self.journal.where(e="switch")):
            return True
        self.progress.phase("walking", unit="req")
        discovered = list(roots)
        known = {r.lower() for r in roots}
        position = 0

        def too_big() -> bool:
            # Every model still queued costs at least one more request.
            spent = self._count("page") + self._count("lookup")
            return auto and spent + (len(discovered) - position) > sweep_cost

        while position < len(discovered):
            model_id = discovered[position]
            position += 1
            self.progress.describe(f"walking {model_id}")
            children = self._fetch_listing(
                f"children:{model_id}",
                self.client.listing_url(filter=f"base_model:{model_id}"),
                with_ids=True,
                stop=too_big,
            )
            for child in children:
                if child.lower() not in known:
                    known.add(child.lower())
                    discovered.append(child)
            self.progress.advance(0, family=len(discovered), queued=len(discovered) - position)
            if too_big():
                spent = self._count("page") + self._count("lookup")
                self.journal.record({"e": "switch", "to": "sweep", "after": spent})
                return True
        return False

    def _sweep(self, hub_size: int) -> list[int]:
        """List the whole Hub; return the journal numbers of the sweep's pages."""
        self.progress.phase("sweeping the Hub", total=math.ceil(hub_size / PAGE_SIZE), unit="page")
        done = len(self.journal.pages_of("all"))
        self.progress.advance(done)
        self._fetch_listing("all", self.client.listing_url(), with_ids=False)
        return [e["n"] for e in self.journal.pages_of("all")]

    # -- the family, the parents outside it, and lookups ------------------------------------

    def _split(self, everything: Batch, roots: list[str]) -> tuple[Batch, Batch]:
        """Split fetched records into the roots' family and the known parents outside it."""
        models = everything.models.unique("id", keep="last", maintain_order=True)
        edges = everything.edges.unique(["child", "parent"], keep="last", maintain_order=True)
        key = pl.col("id").str.to_lowercase()
        ids = models.select("id", key.alias("key"))
        links = edges.select(
            pl.col("child").str.to_lowercase().alias("child"),
            pl.col("parent").str.to_lowercase().alias("parent"),
        )
        family = pl.DataFrame({"key": [r.lower() for r in roots]}).unique()
        frontier = family
        while frontier.height:
            children = (
                links.join(frontier, left_on="parent", right_on="key", how="semi")
                .select(pl.col("child").alias("key"))
                .unique()
                .join(family, on="key", how="anti")
            )
            family = pl.concat([family, children])
            frontier = children
        members = ids.join(family, on="key", how="semi").select("id")
        member_edges = edges.join(members, left_on="child", right_on="id", how="semi")
        parents = member_edges.select(pl.col("parent").str.to_lowercase().alias("key")).unique()
        outsiders = (
            ids.join(parents, on="key", how="semi").join(members, on="id", how="anti").select("id")
        )
        return _subset(everything, models, members, crawled=True), _subset(
            everything, models, outsiders, crawled=False
        )

    def _look_up(self, family: Batch, outside: Batch, *, enabled: bool) -> pl.DataFrame:
        """Look up declared parents that match no model we know (once per store)."""
        key = pl.col("id").str.to_lowercase().alias("key")
        known = pl.concat(
            [
                family.models.select(key),
                outside.models.select(key),
                self.store.scan("models").select(key).collect(),
                self.store.read("lookups").select(pl.col("query").str.to_lowercase().alias("key")),
            ]
        ).unique()
        wanted = (
            family.edges.select("parent")
            .unique()
            .join(known, left_on=pl.col("parent").str.to_lowercase(), right_on="key", how="anti")
            .sort(pl.col("parent").str.to_lowercase(), "parent")["parent"]
            .to_list()
        )
        queries = list(dict.fromkeys(wanted))
        rows = []
        if enabled and queries:
            self.progress.phase("looking up unknown parents", total=len(queries), unit="id")
            for query in queries:
                found = self._lookup(query, role="parent")
                rows.append(
                    {
                        "query": query,
                        "id": found,
                        "status": "missing"
                        if found is None
                        else ("found" if found == query else "renamed"),
                        "looked_up_at": self.seen_at,
                    }
                )
                self.progress.advance(1)
        return pl.DataFrame(rows, schema=LOOKUP_SCHEMA)

    def _assemble(self, family: Batch, outside: Batch, lookups: pl.DataFrame) -> Batch:
        """Everything the commit writes: the family, parents outside it, derived problems."""
        looked = [e["n"] for e in self.journal.where(e="lookup", role="parent") if e.get("batch")]
        found = self.journal.batch(looked)
        found = _subset(
            found,
            found.models,
            found.models.select("id").join(family.models.select("id"), on="id", how="anti"),
            crawled=False,
        )
        batch = Batch.concat([family, outside, found])
        models = batch.models.unique("id", keep="first", maintain_order=True)
        all_lookups = pl.concat([self.store.read("lookups"), lookups]).unique("query", keep="last")
        derived = batch.edges.join(
            all_lookups.filter(pl.col("status") != "found"),
            left_on="parent",
            right_on="query",
            how="inner",
        ).select(
            pl.col("child").alias("model"),
            pl.when(pl.col("status") == "missing")
            .then(pl.lit("missing_parent"))
            .otherwise(pl.lit("renamed_parent"))
            .alias("kind"),
            pl.when(pl.col("status") == "missing")
            .then(pl.col("parent"))
            .otherwise(pl.col("parent") + " -> " + pl.col("id"))
            .alias("detail"),
        )
        problems = (
            pl.concat([batch.problems, derived.cast(PROBLEM_SCHEMA)])
            .unique()
            .sort("model", "kind", "detail")
        )
        return Batch(
            models,
            batch.edges.unique(["child", "parent"], keep="first", maintain_order=True),
            problems,
        )

    def _summarize(
        self, summary: CrawlSummary, batch: Batch, lookups: pl.DataFrame, result
    ) -> None:
        totals = self.journal.totals()
        summary.family = int(batch.models["crawled"].sum())
        summary.not_crawled = batch.models.height - summary.family
        statuses = Counter(lookups["status"].to_list())
        summary.missing = statuses.get("missing", 0)
        summary.renamed = statuses.get("renamed", 0)
        # Totals of the whole crawl, over every process that worked on it (journaled).
        summary.listing_requests = int(totals.get("listings", 0))
        summary.lookup_requests = int(totals.get("lookups", 0))
        summary.retries = int(totals.get("retries", 0))
        summary.waited = totals.get("waited", 0.0)
        summary.models_new = result.models_new
        summary.models_updated = result.models_updated
        summary.skipped_items = int(totals.get("skipped", 0))
        family_edges = batch.edges.join(
            batch.models.filter(pl.col("crawled")).select("id"),
            left_on="child",
            right_on="id",
            how="semi",
        )
        summary.edges_by_relation = dict(Counter(family_edges["relation"].to_list()).most_common())
        summary.inferred_edges = int(family_edges["inferred"].sum())
        summary.problems_by_kind = dict(Counter(batch.problems["kind"].to_list()).most_common())


def _subset(batch: Batch, models: pl.DataFrame, ids: pl.DataFrame, *, crawled: bool) -> Batch:
    chosen = models.join(ids, on="id", how="semi").with_columns(pl.lit(crawled).alias("crawled"))
    return Batch(
        chosen,
        batch.edges.join(ids, left_on="child", right_on="id", how="semi").unique(
            ["child", "parent"], keep="last", maintain_order=True
        ),
        batch.problems.join(ids, left_on="model", right_on="id", how="semi").unique(
            maintain_order=True
        ),
    )
