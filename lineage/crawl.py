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

After the family is known, each declared parent that matches no known model (in any case)
is looked up once with ``model_info`` (which follows renames and fixes case): renamed
parents resolve to their current id, existing parents outside the family are stored as not
crawled, and the rest are recorded as missing. A crawl makes at most ``lookup_budget``
parent lookups (default :data:`~lineage.parents.DEFAULT_LOOKUP_BUDGET`), the most
consequential first (:mod:`lineage.parents`); ``CrawlRequest(resolve_parents=True)``
(``lineage crawl --resolve-parents``) looks up what budgets left, later, journaled like any
crawl. A sweep for roots makes its lookups before it splits out the family, over every
parent the sweep could not match, so children of a renamed member join the family; a walk
also lists the children of the other names the store knows for a member (another case, a
former name), since the Hub's ``base_model:`` filter matches declared text exactly.

At most :data:`MAX_LOOKUPS_PER_MODEL` unknown parents are
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
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from . import interrupts
from .checks import check_choice
from .errors import InputError, LineageError, NotOnHub, StoreError
from .hub import LISTING_ORDER, PAGE_SIZE, HubClient
from .journal import CrawlIdentity, CrawlOptions, Journal, JournalState, PageEvent, resume_command
from .journal import find as find_journal
from .output import disk_full
from .paging import ListingCheck
from .parents import DEFAULT_LOOKUP_BUDGET, lookup_order, under, unknown_parents
from .progress import Progress
from .records import Batch, parse_items
from .repo_id import Root, as_root, is_repo_id
from .schema import LOOKUP_SCHEMA, MODEL_SCHEMA, PROBLEM_SCHEMA
from .store import Store
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
    ``lookup_budget``: at most this many parent lookups in the crawl, most impactful first
    (:mod:`lineage.parents`); None: no limit. ``resolve_parents``: fetch nothing but look up
    the parents earlier crawls left unresolved (within the budget).

    Every combination is checked here, once (an :class:`~lineage.errors.InputError` naming
    the parameters, which the CLI phrases as its flags): roots or ``all`` or
    ``resolve_parents``, not roots with ``all``, no walk of the whole Hub, no strategy with
    ``new``, nothing else with ``resolve_parents``, a budget of 0 or more.
    """

    roots: tuple[Root | str, ...] = ()
    all: bool = False
    strategy: str = "auto"
    hub_size: int | None = None
    lookups: bool = True
    new: bool = False
    lookup_budget: int | None = DEFAULT_LOOKUP_BUDGET
    resolve_parents: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "roots", tuple(as_root(r) for r in self.roots))
        if self.lookup_budget is not None and self.lookup_budget < 0:
            raise InputError(
                f"{{lookup_budget}} must be 0 or more (None: no limit), not {self.lookup_budget}",
                params=("lookup_budget",),
                value=self.lookup_budget,
            )
        if self.resolve_parents and (self.roots or self.all or self.new or not self.lookups):
            raise InputError(
                "{resolve_parents} looks up what the store left unresolved; it takes no "
                "roots, whole-Hub sweep, update or disabled lookups",
                params=("resolve_parents",),
            )
        if not (self.roots or self.all or self.resolve_parents):
            raise InputError(
                "nothing to crawl: give {roots} (organizations or model ids) or {all}",
                params=("roots", "all"),
            )
        if self.roots and self.all:
            raise InputError(
                "{all} sweeps the whole Hub; do not combine it with {roots}",
                params=("all", "roots"),
            )
        if self.all and self.strategy == "walk":
            raise InputError(
                "{all} is a sweep; {strategy} walk needs {roots}",
                params=("all", "strategy", "roots"),
            )
        check_choice("strategy", self.strategy, STRATEGIES)
        if self.new and self.strategy != "auto":
            raise InputError(
                "an update ({new}) lists the newest models; it takes no {strategy}",
                params=("new", "strategy"),
            )


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


class Crawler:
    """Runs one :class:`CrawlRequest` against a store with a Hub client."""

    def __init__(self, store: Store, client: HubClient, progress: Progress | None = None) -> None:
        self.store = store
        self.client = client
        self.progress = progress or Progress(enabled=False)
        self.skipped = 0
        self.found = 0  # models seen in this run's pages, for the progress bar
        self.capped = pl.DataFrame(schema=PROBLEM_SCHEMA)  # models whose lookups were bounded
        # Parents (lowercase) left unresolved by the budget or --no-lookups.
        self.unresolved_keys = pl.DataFrame(schema={"key": pl.String})
        if client.on_wait is None:
            client.on_wait = lambda s, why: self.progress.message(f"{why}: waiting {s:.0f} s")

    # -- entry point --------------------------------------------------------------------

    def run(self, request: CrawlRequest) -> CrawlSummary:
        """Crawl what ``request`` asks into the store, resuming its journal if there is one.

        A Ctrl-C (with the command line's handler, :mod:`lineage.interrupts`) stops the
        crawl at its next request or before its commit, never inside a step: the
        ``KeyboardInterrupt`` it raises says what was saved and the command that resumes.
        Errors say the same; a crawl that can never succeed as asked (an unknown root, an
        update with nothing before it) or that saved nothing leaves no journal behind.
        """
        with interrupts.deferred():
            return self._run(request)

    def _identity(self, request: CrawlRequest) -> CrawlIdentity:
        identity: CrawlIdentity = {
            "roots": [r.text for r in request.roots],
            "all": request.all,
            "strategy": request.strategy,
            "endpoint": self.client.endpoint,
            "lookups": request.lookups,
            # A journal paged in another order (older versions) must not be resumed.
            "order": LISTING_ORDER,
            "new": request.new,
        }
        if request.resolve_parents:  # (absent otherwise: older journals keep their keys)
            identity["resolve_parents"] = True
        return identity

    @staticmethod
    def _options(request: CrawlRequest) -> CrawlOptions:
        options: CrawlOptions = {}
        if request.lookup_budget != DEFAULT_LOOKUP_BUDGET:
            options["lookup_budget"] = request.lookup_budget
        if request.hub_size:
            options["hub_size"] = request.hub_size
        return options

    def abandon(self, request: CrawlRequest) -> JournalState | None:
        """Delete the journal of an interrupted crawl of ``request`` (what it fetched is
        dropped; the store is not touched). Returns what it held, or None if there was none.
        """
        with self.store.lock():
            root = self.store.path / "journal"
            found = find_journal(root, self._identity(request))
            if found is not None:
                for path in (root / found.key, root / f"{found.key}.committed"):
                    shutil.rmtree(path, ignore_errors=True)
            return found

    def journal_command(self, request: CrawlRequest) -> str:
        """The command (with --store) that asks for ``request``: what resumes it."""
        return resume_command(self._identity(request), self._options(request), str(self.store.path))

    def _run(self, request: CrawlRequest) -> CrawlSummary:
        clock = dt.datetime.now(dt.UTC)
        self._started = time.monotonic()
        roots = [r.text for r in request.roots]
        identity = self._identity(request)
        with self.store.lock():
            # A damaged store is named now, before a single request is spent on it.
            self.store.verify()
            journal = Journal.open(
                self.store.path / "journal",
                identity,
                crawl_id=uuid.uuid4().hex[:12],
                started_at=clock.replace(microsecond=0),
                meter=self._meter,
                options=self._options(request),
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
                if request.resolve_parents:
                    summary.strategy = "resolve-parents"
                    batch, lookups = self._resolve_parents(request, summary)
                else:
                    family, outside, lookups = self._collect(request, summary)
                    if lookups is None:
                        lookups = self._look_up(family, [outside.models], request, summary)
                    batch = self._assemble(family, outside, lookups)
                    del family, outside  # the batch holds what is committed
                # The last point to stop with everything fetched journaled.
                interrupts.check()
                # The summary is journaled before the commit, so that a run finding the
                # crawl committed (killed before its journal was removed) can report it.
                observed = self.seen_at.date()  # the crawl's start day, resumed or not
                self._summarize(
                    summary, batch, lookups, self.store.count_changes(batch, observed=observed)
                )
                summary.seconds = journal.totals().get("seconds", 0.0)
                journal.save_summary(summary.journaled())
                totals = journal.totals()
                self.store.commit(
                    batch,
                    lookups=lookups,
                    observed=observed,
                    # A finished whole-Hub sweep lists every public model: one it lacks is
                    # gone from the Hub. An update or a family sees only part of it.
                    complete=_complete(request),
                    # Resolving parents fetched no counters: it records no snapshot.
                    snapshot=not request.resolve_parents,
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
            except KeyboardInterrupt as exc:
                self._drop_if_empty(journal)
                raise KeyboardInterrupt(self._saved()) from exc
            except (NotOnHub, InputError):
                # Asked for something that is not there (an unknown root, an update of
                # nothing): the same command can never succeed, so nothing is kept for it.
                journal.remove()
                raise
            except LineageError as exc:
                self._drop_if_empty(journal)
                exc.template = f"{exc.template}; {self._saved()}"
                raise
            except Exception as exc:
                self._drop_if_empty(journal)
                if disk_full(exc):
                    raise StoreError(
                        f"the disk holding {self.store.path} is full (no space left on "
                        f"device); nothing already stored was lost; {self._saved()}"
                    ) from exc
                raise
            except BaseException:
                self._drop_if_empty(journal)
                raise
        self.progress.close()
        return summary

    def _meter(self) -> dict[str, float]:
        """This process's running counters, journaled with each event (whole-crawl totals)."""
        stats = self.client.stats
        return {
            "listings": stats.listings,
            "lookups": stats.lookups,
            "redirects": stats.redirects,
            "retries": stats.retries,
            "waited": stats.waited,
            "skipped": self.skipped,
            "seconds": time.monotonic() - self._started,
        }

    def _drop_if_empty(self, journal: Journal) -> None:
        """A crawl stopped before it journaled anything leaves no journal behind: there is
        nothing to resume, and `lineage info` must not offer to."""
        if not journal.events and not journal.committed:
            journal.remove()

    def _saved(self) -> str:
        """What an interrupted run leaves for the next one, in words, with the command."""
        pages, lookups = self._count("page"), self._count("lookup")
        if not pages and not lookups:
            return "nothing was fetched yet, so there is nothing to resume"
        command = self.journal.resume_command(str(self.store.path))
        return (
            f"progress is saved ({_plural(pages, 'listing page')}, {_plural(lookups, 'lookup')}); "
            f"run the same command again to resume: {command}"
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

    def _collect(
        self, request: CrawlRequest, summary: CrawlSummary
    ) -> tuple[Batch, Batch, pl.DataFrame | None]:
        """Fetch what the request needs: (family batch, known parents outside it, lookups).

        The lookups are None when they are still to be made (on the family's parents); a
        sweep for roots makes them first, over every parent the sweep could not match, so
        that the family is split out with renames resolved.
        """
        if request.new:
            return (*self._collect_new(request, summary), None)
        hub_size = request.hub_size or self._hub_size_estimate()
        if request.all:
            sweep = self._sweep(hub_size)
            return self.journal.batch(sweep), Batch.empty(), None
        roots, summary.roots = self._resolve_roots(request.roots)
        strategy = request.strategy
        if strategy in ("walk", "auto"):
            variants = self._spellings_known()
            switched = self._walk(
                roots,
                sweep_cost=math.ceil((hub_size or HUB_SIZE_ESTIMATE) / PAGE_SIZE),
                auto=strategy == "auto",
                variants=variants,
            )
            if not switched:
                summary.walk_variants = len(
                    {
                        e["listing"]
                        for e in self.journal.where(e="page")
                        if e["listing"].startswith("variant:")
                    }
                )
                walked = [e["n"] for e in self.journal.where(e="page")] + self._root_pages()
                renames = self._stored_renames()
                return (*self._split(self.journal.batch(walked), roots, renames), None)
            summary.strategy = "auto: sweep"
        elif strategy == "sweep":
            summary.strategy = "sweep"
        sweep = self._sweep(hub_size)
        everything = Batch.concat(
            [self.journal.batch(sweep), self.journal.batch(self._root_pages())]
        )
        # Renames first: a child declaring a renamed member of the family is in it.
        lookups = self._look_up(everything, [], request, summary)
        renames = pl.concat([self._stored_renames(), _renames(lookups)])
        family, outside = self._split(everything, roots, renames)
        return family, outside, lookups

    def _stored_renames(self) -> pl.DataFrame:
        return _renames(self.store.read("lookups"))

    def _spellings_known(self) -> dict[str, list[str]]:
        """Other names the store knows that lead to a model (lowercase id -> names).

        Declared spellings in another case (children's edges) and former names (lookups
        that found a rename): a walk asks for their children too, since the Hub's
        ``base_model:`` filter matches the declared text exactly.
        """
        parents = self.store.read("edges", columns=["parent"]).unique()
        ids = self.store.read("models", columns=["id"])
        lookups = self.store.read("lookups").filter(pl.col("id").is_not_null())
        names = (
            pl.concat(
                [
                    parents.select("parent", pl.col("parent").str.to_lowercase().alias("key")),
                    lookups.select(
                        pl.col("query").alias("parent"),
                        pl.col("id").str.to_lowercase().alias("key"),
                    ),
                ]
            )
            .unique()
            .join(ids, left_on="parent", right_on="id", how="anti")  # a model's own id
        )
        known: dict[str, list[str]] = {}
        for name, key in names.sort("parent").iter_rows():
            known.setdefault(key, []).append(name)
        return known

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

    def _walk(
        self,
        roots: list[str],
        *,
        sweep_cost: int,
        auto: bool,
        variants: Mapping[str, list[str]] | None = None,
    ) -> bool:
        """Breadth-first over children listings. Returns True if auto switched to a sweep.

        ``variants``: other names (another case, former names) under which children may
        declare a model, by lowercase id; their children are listed too.
        """
        variants = variants or {}
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
            for name in variants.get(model_id.lower(), []):
                if name == model_id:
                    continue
                children += self._fetch_listing(
                    f"variant:{name}",
                    self.client.listing_url(filter=f"base_model:{name}"),
                    with_ids=True,
                    name=f"the children of {name} (a name of {model_id})",
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
        return self._split(fetched, seeds, self._stored_renames())

    # -- the family, the parents outside it, and lookups ------------------------------------

    def _split(
        self, everything: Batch, roots: list[str], renames: pl.DataFrame | None = None
    ) -> tuple[Batch, Batch]:
        """Split fetched records into the roots' family and the known parents outside it.

        ``roots`` are the ids the family grows from (any case). ``renames`` (``query``,
        ``to``: lowercase former id -> current id) lead declarations of a former name to
        the model it names now.
        """
        models = everything.models.unique("id", keep="last", maintain_order=True)
        edges = everything.edges.unique(["child", "parent"], keep="last", maintain_order=True)
        key = pl.col("id").str.to_lowercase()
        ids = models.select("id", key.alias("key"))
        links = edges.select(
            pl.col("child").str.to_lowercase().alias("child"),
            pl.col("parent").str.to_lowercase().alias("parent"),
        )
        if renames is not None and renames.height:
            moved = renames.unique("query", keep="last")
            links = (
                links.join(moved, left_on="parent", right_on="query", how="left")
                .select("child", pl.coalesce("to", "parent").alias("parent"))
                .unique()
            )
        seeds = pl.DataFrame({"key": [r.lower() for r in roots]}, schema={"key": pl.String})
        family = descendants(links, seeds.unique())
        members = ids.join(family, on="key", how="semi").select("id")
        member_keys = members.select(pl.col("id").str.to_lowercase().alias("child"))
        parents = (
            links.join(member_keys, on="child", how="semi").select(pl.col("parent").alias("key"))
        ).unique()
        outsiders = (
            ids.join(parents, on="key", how="semi").join(members, on="id", how="anti").select("id")
        )
        return _subset(everything, models, members, crawled=True), _subset(
            everything, models, outsiders, crawled=False
        )

    def _look_up(
        self,
        scope: Batch,
        known_too: list[pl.DataFrame],
        request: CrawlRequest,
        summary: CrawlSummary,
    ) -> pl.DataFrame:
        """Look up the parents declared in ``scope`` that match no model we know.

        Known: ``scope``'s models, ``known_too`` (frames of ``id``), the store's models and
        every query the store already looked up, all in any case. Each lowercase id is
        looked up once (in one of its spellings; every spelling gets the answer), most
        impactful first (:mod:`lineage.parents`), within the request's budget of parent
        lookups for the whole crawl; what the budget leaves is counted in the summary.
        """
        key = pl.col("id").str.to_lowercase().alias("key")
        stored = self.store.read("lookups")
        listed = [scope.models.select(key), *(frame.select(key) for frame in known_too)]
        if _complete(request):
            # A whole-Hub sweep judges parents by what it listed, as a fresh crawl would:
            # a parent deleted since the store saw it is looked up (and found missing), and
            # an earlier answer counts only if the model it led to is still listed.
            listed_keys = pl.concat(listed).unique()
            stored = stored.filter(
                pl.col("id").is_null()
                | pl.col("id").str.to_lowercase().is_in(listed_keys["key"].implode())
            )
        else:
            listed.append(self.store.scan("models").select(key).collect())
        known = pl.concat(listed).unique()
        unknown = (
            scope.edges.select("child", "parent", "position")
            .join(known, left_on=pl.col("parent").str.to_lowercase(), right_on="key", how="anti")
            .with_columns(pl.col("position").rank("ordinal").over("child").alias("rank"))
        )
        # A new spelling of a parent an earlier crawl looked up gets that answer, unasked.
        earlier = stored.select(
            pl.col("query").str.to_lowercase().alias("key"), "id", "status"
        ).unique("key", keep="last")
        spelled = (
            unknown.select("parent").unique().with_columns(key=pl.col("parent").str.to_lowercase())
        )
        copied = (
            spelled.join(earlier, on="key")
            .join(stored.select(pl.col("query").alias("parent")), on="parent", how="anti")
            .select(
                pl.col("parent").alias("query"),
                "id",
                "status",
                pl.lit(self.seen_at).alias("looked_up_at"),
            )
        )
        unknown = unknown.join(
            earlier.select("key"),
            left_on=pl.col("parent").str.to_lowercase(),
            right_on="key",
            how="anti",
        )
        # One card must not multiply the crawl's cost: a bounded number of lookups each.
        self.capped = (
            unknown.group_by("child")
            .agg(pl.len().alias("n"))
            .filter(request.lookups & (pl.col("n") > MAX_LOOKUPS_PER_MODEL))
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
        wanted = unknown_parents(
            unknown.filter(pl.col("rank") <= MAX_LOOKUPS_PER_MODEL),
            pl.DataFrame(schema={"key": pl.String}),
        )
        rows = copied.cast(LOOKUP_SCHEMA).to_dicts()
        summary.lookup_budget = request.lookup_budget if request.lookups else 0
        if not request.lookups or not wanted.height:
            self.unresolved_keys = wanted.select("key")
            return pl.DataFrame(rows, schema=LOOKUP_SCHEMA)
        ordered = lookup_order(scope.models, scope.edges, wanted)
        budget = request.lookup_budget
        spent = sum(1 for _ in self.journal.where(e="lookup", role="parent"))
        left: list[str] = []
        self.progress.phase(
            "looking up unknown parents",
            total=ordered.height if budget is None else min(ordered.height, budget),
            unit="id",
        )
        for parent_key, spellings in ordered.select("key", "spellings").iter_rows():
            done = next((e for e in map(self.journal.lookup_of, spellings) if e is not None), None)
            if done is None:
                if budget is not None and spent >= budget:
                    left.append(parent_key)
                    continue
                found = self._lookup(spellings[0], role="parent")
                spent += 1
                self.progress.advance(1)
            else:
                found = done["id"]
            for query in spellings:
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
        self.unresolved_keys = pl.DataFrame({"key": left}, schema={"key": pl.String})
        return pl.DataFrame(rows, schema=LOOKUP_SCHEMA)

    def _resolve_parents(
        self, request: CrawlRequest, summary: CrawlSummary
    ) -> tuple[Batch, pl.DataFrame]:
        """Look up the parents earlier crawls left unresolved (within the budget).

        The batch re-commits the models whose declarations those lookups explain (their
        rows as stored, with the renamed/missing problems the lookups add) and the models
        the lookups found that the store does not hold (not crawled), so the store ends as
        it would have, had the first crawl looked everything up.
        """
        models = self.store.read("models")
        edges = self.store.read("edges")
        stored_only = [c for c in models.columns if c not in MODEL_SCHEMA]
        crawled = models.filter(pl.col("crawled")).drop(stored_only)
        scope = Batch(
            crawled,
            edges.join(crawled.select("id"), left_on="child", right_on="id", how="semi"),
            pl.DataFrame(schema=PROBLEM_SCHEMA),
        )
        lookups = self._look_up(scope, [], request, summary)
        self.capped = pl.DataFrame(schema=PROBLEM_SCHEMA)  # the first crawl recorded those
        explained = (
            edges.join(
                lookups.filter(pl.col("status") != "found").select(pl.col("query").alias("parent")),
                on="parent",
                how="semi",
            )
            .select(pl.col("child").alias("id"))
            .unique()
        )
        affected = Batch(
            models.join(explained, on="id", how="semi").drop(stored_only),
            edges.join(explained, left_on="child", right_on="id", how="semi"),
            self.store.read("problems").join(explained, left_on="model", right_on="id", how="semi"),
        )
        batch = self._assemble(affected, Batch.empty(), lookups)
        ids = models.select("id")
        kept = pl.concat(
            [
                batch.models.join(explained, on="id", how="semi"),
                batch.models.join(ids, on="id", how="anti"),
            ]
        )
        # The stored records it re-commits keep the observation they came from (it saw
        # them no more than before); the models its lookups found are seen now (null).
        kept = kept.join(
            models.select("id", "last_seen", "seen_commit"),
            on="id",
            how="left",
            maintain_order="left",
        )
        # A model a lookup found (a rename's target) that the store already holds is not
        # committed again, and neither are the edges and problems its lookup record gave:
        # its stored row and declarations stand, as after a crawl with unlimited lookups
        # (committing them beside it duplicated its edges).
        chosen = kept.select("id")
        return (
            Batch(
                kept,
                batch.edges.join(chosen, left_on="child", right_on="id", how="semi"),
                batch.problems.join(chosen, left_on="model", right_on="id", how="semi"),
            ),
            lookups,
        )

    def _assemble(self, family: Batch, outside: Batch, lookups: pl.DataFrame) -> Batch:
        """Everything the commit writes: the family, parents outside it, derived problems."""
        looked = [e["n"] for e in self.journal.where(e="lookup", role="parent") if e.get("batch")]
        found = self.journal.batch(looked)
        # Only the models the family's parents resolve to (a roots' sweep looks up the
        # parents of the whole Hub).
        targets = lookups.join(
            _declared(family), left_on=pl.col("query").str.to_lowercase(), right_on="key"
        ).select(pl.col("id").str.to_lowercase().alias("key"))
        found = _subset(
            found,
            found.models,
            found.models.select("id")
            .join(family.models.select("id"), on="id", how="anti")
            .join(targets, left_on=pl.col("id").str.to_lowercase(), right_on="key", how="semi"),
            crawled=False,
        )
        # A whole-Hub crawl's family is millions of rows: copied only when it must be.
        parts = [b for b in (family, outside, found) if b.models.height or b.edges.height]
        batch = parts[0] if len(parts) == 1 else Batch.concat(parts or [family])
        models = _unique(batch.models, ["id"])
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
        return Batch(models, _unique(batch.edges, ["child", "parent"]), problems)

    def _summarize(
        self, summary: CrawlSummary, batch: Batch, lookups: pl.DataFrame, result
    ) -> None:
        totals = self.journal.totals()
        summary.family = int(batch.models["crawled"].sum())
        summary.not_crawled = batch.models.height - summary.family
        declared = lookups.join(
            _declared(batch), left_on=pl.col("query").str.to_lowercase(), right_on="key", how="semi"
        )
        statuses = Counter(declared["status"].to_list())
        summary.missing = statuses.get("missing", 0)
        summary.renamed = statuses.get("renamed", 0)
        summary.found = statuses.get("found", 0)
        # Totals of the whole crawl, over every process that worked on it (journaled).
        summary.listing_requests = int(totals.get("listings", 0))
        summary.lookup_requests = int(totals.get("lookups", 0))
        summary.http_requests = (
            summary.listing_requests + summary.lookup_requests + int(totals.get("redirects", 0))
        )
        summary.unresolved_parents = self.unresolved_keys.height
        if self.unresolved_keys.height:
            # Counted in the store as it will be: earlier crawls' models too.
            crawled = pl.concat(
                [
                    batch.models.filter(pl.col("crawled")).select("id"),
                    self.store.read("models", columns=["id", "crawled"])
                    .filter(pl.col("crawled"))
                    .select("id"),
                ]
            ).select(pl.col("id").str.to_lowercase().alias("key"))
            edges = pl.concat(
                [
                    batch.edges.select("child", "parent"),
                    self.store.read("edges", columns=["child", "parent"]),
                ]
            )
            summary.unresolved_derivatives = (
                under(edges, self.unresolved_keys).join(crawled, on="key", how="semi").height
            )
        summary.retries = int(totals.get("retries", 0))
        summary.waited = totals.get("waited", 0.0)
        # The family's own counts: the parents outside it are counted apart.
        family = batch.models.filter(pl.col("crawled"))
        if family.height != batch.models.height:
            empty = Batch.empty()
            result_all = result
            result = self.store.count_changes(
                Batch(family, empty.edges, empty.problems), observed=self.seen_at.date()
            )
            summary.parents_new = result_all.models_new - result.models_new
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


def _plural(n: int, word: str) -> str:
    """``1 lookup``, ``2 lookups``, ``1,000 listing pages``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _complete(request: CrawlRequest) -> bool:
    """Whether the crawl observes the whole Hub: a finished ``--all`` sweep, not an update."""
    return request.all and not request.new and not request.resolve_parents


def _declared(batch: Batch) -> pl.DataFrame:
    """The lowercase ids (``key``) the batch's crawled models declare as parents."""
    crawled = batch.models.filter(pl.col("crawled")).select("id")
    return (
        batch.edges.join(crawled, left_on="child", right_on="id", how="semi")
        .select(pl.col("parent").str.to_lowercase().alias("key"))
        .unique()
    )


def _unique(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """``frame`` with the first row of each ``by`` key; the frame itself when none repeats."""
    key = pl.col(by[0]) if len(by) == 1 else pl.struct(by)
    if not frame.select(key.is_duplicated().any()).item():
        return frame
    return frame.unique(by, keep="first", maintain_order=True)


def _renames(lookups: pl.DataFrame) -> pl.DataFrame:
    """Lookups that found a model: lowercase ``query`` -> lowercase current id ``to``."""
    return lookups.filter(pl.col("id").is_not_null()).select(
        pl.col("query").str.to_lowercase(), pl.col("id").str.to_lowercase().alias("to")
    )


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
