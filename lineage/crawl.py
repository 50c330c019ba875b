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

The work is done by the parts in :mod:`lineage.crawling` (resolving roots, the listing
modes, looking up parents, summarising), each given the run's state
(:class:`~lineage.crawling.session.CrawlRun`); :class:`Crawler` opens the journal, runs them
in order and commits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import uuid
from dataclasses import dataclass
from typing import cast

from . import interrupts
from .checks import check_choice
from .crawling.listing import HUB_SIZE_ESTIMATE, Lister
from .crawling.parents import (
    MAX_LOOKUPS_PER_MODEL,
    Lookups,
    ParentLookup,
    assemble,
    resolve_parents,
)
from .crawling.roots import RootResolver
from .crawling.session import CrawlRun, RunCounters, run_meter
from .crawling.summaries import CrawlSummary, committed_summary, summarize
from .errors import InputError, LineageError, NotOnHub, StoreError
from .hub import LISTING_ORDER, HubClient
from .journal import CrawlIdentity, CrawlOptions, Journal, JournalState, resume_command
from .journal import find as find_journal
from .output import disk_full
from .parents import DEFAULT_LOOKUP_BUDGET
from .progress import Progress
from .records import Batch
from .repo_id import Root, as_root
from .store import Store
from .vocabulary import STRATEGIES, Strategy

__all__ = [
    "HUB_SIZE_ESTIMATE",
    "MAX_LOOKUPS_PER_MODEL",
    "CrawlRequest",
    "CrawlSummary",
    "Crawler",
]


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
    strategy: Strategy = "auto"
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

    @property
    def root_list(self) -> tuple[Root, ...]:
        """The roots, each a :class:`Root` (``__post_init__`` made them so)."""
        return cast(tuple[Root, ...], self.roots)

    @property
    def complete(self) -> bool:
        """Whether the crawl observes the whole Hub: a finished ``all`` sweep, not an update."""
        return self.all and not self.new and not self.resolve_parents


class Crawler:
    """Runs one :class:`CrawlRequest` against a store with a Hub client.

    The crawler keeps only what it is given; each :meth:`run` makes its own state (a
    :class:`~lineage.crawling.session.CrawlRun`), so one crawler can run several requests.
    The client is not changed: without a wait callback of its own, the crawler uses a copy
    that reports waits on the progress bar (sharing its request counters).
    """

    def __init__(self, store: Store, client: HubClient, progress: Progress | None = None) -> None:
        self.store = store
        self.progress = progress or Progress(enabled=False)
        if client.on_wait is None:
            client = dataclasses.replace(client, on_wait=self._waiting)
        self.client = client

    def _waiting(self, seconds: float, why: str) -> None:
        self.progress.message(f"{why}: waiting {seconds:.0f} s")

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
            "roots": [r.text for r in request.root_list],
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
        counters = RunCounters()
        identity = self._identity(request)
        with self.store.lock():
            # A damaged store is named now, before a single request is spent on it.
            self.store.verify()
            journal = Journal.open(
                self.store.path / "journal",
                identity,
                crawl_id=uuid.uuid4().hex[:12],
                started_at=clock.replace(microsecond=0),
                meter=run_meter(self.client, counters),
                options=self._options(request),
            )
            summary = CrawlSummary(
                roots=[r.text for r in request.root_list],
                strategy="all" if request.all else request.strategy,
                store=str(self.store.path),
                endpoint=self.client.endpoint,
                resumed=journal.resumed,
            )
            if journal.committed or self._already_committed(journal):
                # An earlier run committed this crawl and was stopped while removing its
                # journal: finish that, report the crawl, and never crawl it again.
                summary = committed_summary(self.store, journal, summary, identity)
                journal.finish()
                return summary
            run = CrawlRun(
                self.store, self.client, self.progress, journal, journal.started_at, counters
            )
            try:
                self._crawl(run, request, summary)
            except KeyboardInterrupt as exc:
                run.drop_if_empty()
                raise KeyboardInterrupt(run.saved()) from exc
            except (NotOnHub, InputError):
                # Asked for something that is not there (an unknown root, an update of
                # nothing): the same command can never succeed, so nothing is kept for it.
                journal.remove()
                raise
            except LineageError as exc:
                run.drop_if_empty()
                exc.template = f"{exc.template}; {run.saved()}"
                raise
            except Exception as exc:
                run.drop_if_empty()
                if disk_full(exc):
                    raise StoreError(
                        f"the disk holding {self.store.path} is full (no space left on "
                        f"device); nothing already stored was lost; {run.saved()}"
                    ) from exc
                raise
            except BaseException:
                run.drop_if_empty()
                raise
        self.progress.close()
        return summary

    def _already_committed(self, journal: Journal) -> bool:
        log = self.store.read("crawls", columns=["crawl_id"])
        return journal.crawl_id in set(log["crawl_id"].to_list())

    def _crawl(self, run: CrawlRun, request: CrawlRequest, summary: CrawlSummary) -> None:
        """Fetch, look up and assemble what ``request`` asks, then commit it."""
        parents = ParentLookup(
            run, lookups=request.lookups, budget=request.lookup_budget, complete=request.complete
        )
        if request.resolve_parents:
            summary.strategy = "resolve-parents"
            batch, lookups = resolve_parents(run, parents)
        else:
            collected = Lister(run, RootResolver(run), parents).collect(
                request.root_list,
                all=request.all,
                new=request.new,
                strategy=request.strategy,
                hub_size=request.hub_size,
            )
            summary.roots = collected.roots if collected.roots is not None else summary.roots
            summary.strategy = collected.strategy or summary.strategy
            summary.walk_variants = collected.walk_variants
            summary.new_since = collected.new_since
            if collected.lookups is not None:  # a sweep for roots made them first
                lookups = collected.lookups
            else:
                lookups = parents.look_up(collected.family, [collected.outside.models])
            batch = assemble(run, collected.family, collected.outside, lookups)
            del collected  # the batch holds what is committed
        summary.lookup_budget = request.lookup_budget if request.lookups else 0
        # The last point to stop with everything fetched journaled.
        interrupts.check()
        self._commit(run, request, summary, batch, lookups)

    def _commit(
        self,
        run: CrawlRun,
        request: CrawlRequest,
        summary: CrawlSummary,
        batch: Batch,
        lookups: Lookups,
    ) -> None:
        """Summarise, journal the summary, and commit the crawl with its log row."""
        journal = run.journal
        # The summary is journaled before the commit, so that a run finding the crawl
        # committed (killed before its journal was removed) can report it.
        observed = run.seen_at.date()  # the crawl's start day, resumed or not
        summarize(run, summary, batch, lookups, self.store.count_changes(batch, observed=observed))
        summary.seconds = journal.totals().get("seconds", 0.0)
        journal.save_summary(summary.journaled())
        totals = journal.totals()
        checks = run.listing_checks()
        self.store.commit(
            batch,
            lookups=lookups.frame,
            observed=observed,
            # A finished whole-Hub sweep lists every public model: one it lacks is gone
            # from the Hub. An update or a family sees only part of it.
            complete=request.complete,
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
                "requests": run.count("page") + run.count("lookup"),
                "lookups": run.count("lookup"),
                "retries": int(totals.get("retries", 0)),
                "listing_duplicates": checks["listing_duplicates"],
                "listing_order_breaks": checks["listing_order_breaks"],
            },
        )
        summary.seconds = journal.totals().get("seconds", 0.0)
        journal.finish()
