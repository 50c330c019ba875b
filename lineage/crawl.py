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
- **new** (``CrawlRequest(new=True)``, ``lineage crawl --new``): an update. List the Hub's
  models newest first and stop after the first page that reaches back past what the store
  already covers (:mod:`lineage.update`): a page that ends with a model created before the
  last crawl that covered the request (a whole-Hub crawl or ingest for ``--all``; a crawl of
  the same roots or a whole-Hub one for ``--root``; less an hour), or whose every model is
  in the store already or that old. About ``(models created since) / 1000`` requests (one more at
  most), plus the lookups of their unknown parents. It sees new models only: card edits of
  old models and their download counters need a full crawl or a hub-stats ingest.

**The order rule.** Every listing (the sweep, an organization's models, a model's children,
an update) is sorted by ``createdAt``, newest first. The Hub's default order is
``trendingScore``, which moves all the time, and the ``next`` cursor is built from the sort
key: paging a moving key for minutes (or resuming hours later) skips models that moved above
the cursor and repeats models that moved below it. ``createdAt`` never changes, so no model
that exists for the whole listing is skipped or repeated, however long it takes or pauses;
models created meanwhile land before the cursor (the next update takes them) and deleted
ones simply vanish. The Hub sorts descending only, which is also what an update needs: the
new models come first. Each listing checks itself as it goes (:mod:`lineage.paging`):
duplicates and ``createdAt`` going up are counted and reported (the Hub changed under the
crawl), and a listing that stops moving forward is stopped with a clear error.

After the family is known, each declared parent that matches no known model is looked up
once with ``model_info`` (which follows renames and fixes case): renamed parents resolve
to their current id, existing parents outside the family are stored as not crawled, and
the rest are recorded as missing. At most :data:`MAX_LOOKUPS_PER_MODEL` unknown parents are
looked up for any one declaring model (the rest is a ``too_many_parents`` card problem), so
no single card can multiply a crawl's cost. Ids that fail the repo-id rule
(:mod:`lineage.repo_id`) never get this far: they are card problems of their model.

Every page goes to the journal first, so a crawl can be interrupted at any moment and
resumed by running the same command.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from .errors import HubUnreachable, NotOnHub
from .hub import LISTING_ORDER, PAGE_SIZE, HubClient
from .journal import CrawlIdentity, Journal, PageEvent
from .paging import ListingCheck
from .progress import Progress
from .records import PROBLEM_SCHEMA, Batch, parse_items
from .repo_id import Root, as_root, is_repo_id
from .store import LOOKUP_SCHEMA, Store
from .summary import RunSummary
from .update import covered_since, descendants, family_in_store, nothing_new
from .vocabulary import STRATEGIES

HUB_SIZE_ESTIMATE = 2_500_000
MAX_LOOKUPS_PER_MODEL = 10


@dataclass(frozen=True)
class CrawlRequest:
    """What to crawl.

    ``roots``: organizations (every model in the namespace is a root) or model ids, as
    :class:`~lineage.repo_id.Root` values or as text people type (parsed with
    :func:`~lineage.repo_id.parse_root`). ``all``: sweep the whole Hub instead.
    ``hub_size``: models on the Hub, for the auto rule and the sweep's ETA (default: the
    last whole-Hub sweep's count, else 2.5M). ``lookups``: look up declared parents that
    match no known model. ``new``: an update (the *new* strategy of the module docstring).
    """

    roots: tuple[Root | str, ...] = ()
    all: bool = False
    strategy: str = "auto"
    hub_size: int | None = None
    lookups: bool = True
    new: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "roots", tuple(as_root(r) for r in self.roots))
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        if self.new and self.strategy != "auto":
            raise ValueError("an update (new=True) lists the newest models; it takes no strategy")


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


class Crawler:
    """Runs one :class:`CrawlRequest` against a store with a Hub client."""

    def __init__(self, store: Store, client: HubClient, progress: Progress | None = None) -> None:
        self.store = store
        self.client = client
        self.progress = progress or Progress(enabled=False)
        self.skipped = 0
        self.found = 0  # models seen in this run's pages, for the progress bar
        self.capped = pl.DataFrame(schema=PROBLEM_SCHEMA)  # models whose lookups were bounded
        if client.on_wait is None:
            client.on_wait = lambda s, why: self.progress.message(f"{why}: waiting {s:.0f} s")

    # -- entry point --------------------------------------------------------------------

    def run(self, request: CrawlRequest) -> CrawlSummary:
        clock = dt.datetime.now(dt.UTC)
        self._started = time.monotonic()
        roots = [r.text for r in request.roots]
        identity: CrawlIdentity = {
            "roots": roots,
            "all": request.all,
            "strategy": request.strategy,
            "endpoint": self.client.endpoint,
            "lookups": request.lookups,
            # A journal paged in another order (older versions) must not be resumed.
            "order": LISTING_ORDER,
            "new": request.new,
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
                roots=roots,
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
                journal.save_summary(summary.journaled())
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
                        "roots": summary.roots,
                        "strategy": summary.strategy,
                        "requests": self._count("page") + self._count("lookup"),
                        "lookups": self._count("lookup"),
                        "retries": int(totals.get("retries", 0)),
                        **self._listing_checks(),
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
        self, journal: Journal, summary: CrawlSummary, identity: CrawlIdentity
    ) -> CrawlSummary:
        """The summary of a crawl an earlier run committed: journaled, else from its log row."""
        if journal.summary is not None:
            saved = {**journal.summary, "resumed": True, "store": str(self.store.path)}
            if saved.get("new_since"):  # journaled as text
                saved["new_since"] = dt.datetime.fromisoformat(saved["new_since"])
            return CrawlSummary(**saved)
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
        if request.new:
            return self._collect_new(request, summary)
        hub_size = request.hub_size or self._hub_size_estimate()
        if request.all:
            sweep = self._sweep(hub_size)
            return self.journal.batch(sweep), Batch.empty()
        roots, summary.roots = self._resolve_roots(request.roots)
        strategy = request.strategy
        if strategy in ("walk", "auto"):
            switched = self._walk(
                roots,
                sweep_cost=math.ceil((hub_size or HUB_SIZE_ESTIMATE) / PAGE_SIZE),
                auto=strategy == "auto",
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
            and (
                (e["e"] == "page" and e["listing"].startswith("author:"))
                or (e["e"] == "lookup" and e["role"] == "root")
            )
        ]

    def _hub_size_estimate(self) -> int | None:
        """The last --all sweep's count; None when unknown (the auto rule then assumes
        HUB_SIZE_ESTIMATE, but no progress bar shows an ETA made from that guess)."""
        log = self.store.read("crawls").filter(pl.col("strategy") == "all")
        if log.height:
            return int(log.sort("finished_at")["models_seen"][-1])
        return None

    def _fetch_listing(
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
        ids: list[str] = []
        url: str | None = first_url
        check = ListingCheck(name)
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
        while url is not None:
            page = self.client.list_page(url)
            batch, skipped = parse_items(page.items, seen_at=self.seen_at, source="list")
            self.skipped += skipped
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
            self.found += len(new_ids)
            self.progress.advance(1, models=f"{self.found:,}", requests=self.client.stats.total)
            if stop is not None and url is not None and stop():
                break
        return ids

    def _listing_checks(self) -> dict[str, int]:
        """Totals of the listings' self-checks, over every page this crawl fetched."""
        pages = list(self.journal.where(e="page"))
        return {
            "listing_duplicates": sum(e.get("duplicates", 0) for e in pages),
            "listing_order_breaks": sum(e.get("order_breaks", 0) for e in pages),
        }

    # -- roots --------------------------------------------------------------------------

    def _resolve_roots(self, roots: tuple[Root, ...]) -> tuple[list[str], list[str]]:
        """Root model ids for the requested roots, and each root's name in the Hub's case."""
        self.progress.phase("resolving roots", total=len(roots), unit="root")
        resolved: list[str] = []
        names: list[str] = []
        for root in roots:
            if not root.is_model:
                found, canonical, nearby = self._organization(root.name)
                if found:
                    resolved.extend(found)
                    names.append(canonical)
                    continue
                if not root.org_only:  # a legacy model without namespace, such as gpt2
                    info = self._lookup(root.name, role="root")
                    if info is not None:
                        resolved.append(info)
                        names.append(info)
                        continue
                raise NotOnHub(self._not_on_hub(root.name, nearby))
            info = self._lookup(root.name, role="root")
            if info is None:
                raise NotOnHub(self._not_on_hub(root.name, []))
            resolved.append(info)
            names.append(info)
        return list(dict.fromkeys(resolved)), list(dict.fromkeys(names))

    def _organization(self, name: str) -> tuple[list[str], str, list[str]]:
        """An organization's models, its name in the Hub's case, and namespaces like it.

        Listed as typed first; when that finds nothing (the Hub may match ``author`` in
        its own case only), one search request finds the Hub's spelling, or close names.
        """
        found = self._org_listing(name)
        if found:
            return found, found[0].split("/", 1)[0], []
        nearby = self._namespaces_like(name)
        same = [n for n in nearby if n.lower() == name.lower() and n != name]
        if same:
            found = self._org_listing(same[0])
            if found:
                return found, found[0].split("/", 1)[0], []
        return [], name, nearby

    def _org_listing(self, name: str) -> list[str]:
        return self._fetch_listing(
            f"author:{name}",
            self.client.listing_url(author=name),
            with_ids=True,
            name=f"{name}'s models",
        )

    def _namespaces_like(self, name: str) -> list[str]:
        """Namespaces whose models' ids contain ``name`` (one search request, journaled)."""
        listing = f"search:{name}"
        for event in self.journal.pages_of(listing):
            return event["namespaces"]
        namespaces = self.client.namespaces_like(name)
        self.journal.record(
            {
                "e": "page",
                "listing": listing,
                "url": None,
                "next": None,
                "count": 0,
                "namespaces": namespaces,
            }
        )
        return namespaces

    def _not_on_hub(self, name: str, nearby: list[str]) -> str:
        message = f"no model or organization named '{name}' on {self.client.endpoint}"
        close = difflib.get_close_matches(
            name.lower(), list(dict.fromkeys(n.lower() for n in nearby)), n=3, cutoff=0.6
        )
        spelled = {n.lower(): n for n in reversed(nearby)}
        if close:
            message += "; closest organizations: " + ", ".join(spelled[c] for c in close)
        return message

    def _lookup(self, query: str, *, role: str) -> str | None:
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

    # -- walk and sweep -----------------------------------------------------------------

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
                name=f"the children of {model_id}",
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

    def _sweep(self, hub_size: int | None) -> list[int]:
        """List the whole Hub; return the journal numbers of the sweep's pages."""
        pages = math.ceil(hub_size / PAGE_SIZE) if hub_size else None
        self.progress.phase("sweeping the Hub", total=pages, unit="page")
        done = len(self.journal.pages_of("all"))
        self.progress.advance(done)
        self._fetch_listing("all", self.client.listing_url(), with_ids=False, name="the whole Hub")
        return [e["n"] for e in self.journal.pages_of("all")]

    # -- an update: the models created since the last covering crawl ------------------------

    def _collect_new(self, request: CrawlRequest, summary: CrawlSummary) -> tuple[Batch, Batch]:
        since = covered_since(self.store, request.roots, whole_hub=request.all)
        summary.strategy = "new"
        summary.new_since = since
        self.progress.phase("listing the newest models", unit="page")
        self._fetch_listing(
            "new",
            self.client.listing_url(),
            with_ids=False,
            name="the newest models",
            last_page=lambda batch: nothing_new(self.store, batch, since),
        )
        fetched = self.journal.batch([e["n"] for e in self.journal.pages_of("new")])
        if request.all:
            return fetched, Batch.empty()
        seeds, summary.roots = family_in_store(self.store, request.roots, fetched)
        return self._split(fetched, seeds)

    # -- the family, the parents outside it, and lookups ------------------------------------

    def _split(self, everything: Batch, roots: list[str]) -> tuple[Batch, Batch]:
        """Split fetched records into the roots' family and the known parents outside it.

        ``roots`` are the ids the family grows from (any case).
        """
        models = everything.models.unique("id", keep="last", maintain_order=True)
        edges = everything.edges.unique(["child", "parent"], keep="last", maintain_order=True)
        key = pl.col("id").str.to_lowercase()
        ids = models.select("id", key.alias("key"))
        links = edges.select(
            pl.col("child").str.to_lowercase().alias("child"),
            pl.col("parent").str.to_lowercase().alias("parent"),
        )
        seeds = pl.DataFrame({"key": [r.lower() for r in roots]}, schema={"key": pl.String})
        family = descendants(links, seeds.unique())
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
        unknown = (
            family.edges.select("child", "parent", "position")
            .join(known, left_on=pl.col("parent").str.to_lowercase(), right_on="key", how="anti")
            .with_columns(pl.col("position").rank("ordinal").over("child").alias("rank"))
        )
        # One card must not multiply the crawl's cost: a bounded number of lookups each.
        self.capped = (
            unknown.group_by("child")
            .agg(pl.len().alias("n"))
            .filter(enabled & (pl.col("n") > MAX_LOOKUPS_PER_MODEL))
            .select(
                pl.col("child").alias("model"),
                pl.lit("too_many_parents").alias("kind"),
                pl.format(
                    "{} unknown parents declared; looked up the first {}",
                    "n",
                    pl.lit(MAX_LOOKUPS_PER_MODEL),
                ).alias("detail"),
            )
            .cast(PROBLEM_SCHEMA)
        )
        wanted = (
            unknown.filter(pl.col("rank") <= MAX_LOOKUPS_PER_MODEL)
            .select("parent")
            .unique()
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
            pl.concat([batch.problems, derived.cast(PROBLEM_SCHEMA), self.capped])
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
        checks = self._listing_checks()
        summary.duplicates = checks["listing_duplicates"]
        summary.order_breaks = checks["listing_order_breaks"]


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
