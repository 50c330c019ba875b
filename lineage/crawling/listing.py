"""The listing modes: what a crawl fetches, and the family it splits out of it.

- a whole-Hub sweep (``all``): every model, 1000 a page;
- roots by **walk** (each model's children, breadth-first), **sweep** (the whole Hub, then
  the roots' descendants), or **auto** (a walk that switches to a sweep once the walk would
  cost more; see :mod:`lineage.crawl` for the costs);
- an update (**new**): the newest models, until a page reaches back past what the store
  already covers (:mod:`lineage.update`).

Every listing is sorted by ``createdAt``, newest first (the order rule in
:mod:`lineage.crawl`), and journaled page by page through the run's
:class:`~lineage.crawling.session.CrawlRun`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from ..hub import PAGE_SIZE
from ..records import Batch
from ..repo_id import Root
from ..store import Store
from ..update import covered_since, family_in_store, nothing_new
from .batches import renames, split_family
from .parents import Lookups, ParentLookup
from .roots import RootResolver
from .session import CrawlRun

HUB_SIZE_ESTIMATE = 2_500_000


@dataclass(frozen=True)
class Collected:
    """What the listings gave: the family, its known parents outside it, and how."""

    family: Batch
    outside: Batch
    lookups: Lookups | None  # made already (a sweep for roots), else still to make
    roots: list[str] | None = None  # the roots as the Hub spells them (None: as asked)
    strategy: str | None = None  # the strategy it came to (None: as asked)
    walk_variants: int = 0  # other names of members whose children a walk listed
    new_since: dt.datetime | None = None  # an update: the time it looked back to


class Lister:
    """Fetches what a request lists, by mode, and splits out the family."""

    def __init__(self, run: CrawlRun, roots: RootResolver, parents: ParentLookup) -> None:
        self.run = run
        self.roots = roots
        self.parents = parents

    def collect(
        self, roots: tuple[Root, ...], *, all: bool, new: bool, strategy: str, hub_size: int | None
    ) -> Collected:
        """Fetch what the request needs: the family, known parents outside it, lookups.

        The lookups are None when they are still to be made (on the family's parents); a
        sweep for roots makes them first, over every parent the sweep could not match, so
        that the family is split out with renames resolved.
        """
        if new:
            return self._collect_new(roots, all=all)
        hub_size = hub_size or hub_size_estimate(self.run.store)
        if all:
            sweep = self._sweep(hub_size)
            return Collected(self.run.journal.batch(sweep), Batch.empty(), None)
        ids, names = self.roots.resolve(roots)
        if strategy in ("walk", "auto"):
            sweep_cost = math.ceil((hub_size or HUB_SIZE_ESTIMATE) / PAGE_SIZE)
            if not self._walk(ids, sweep_cost=sweep_cost, auto=strategy == "auto"):
                return self._walked(ids, names)
            strategy = "auto: sweep"
        journal = self.run.journal
        everything = Batch.concat(
            [journal.batch(self._sweep(hub_size)), journal.batch(self._root_pages())]
        )
        # Renames first: a child declaring a renamed member of the family is in it.
        lookups = self.parents.look_up(everything, [])
        moved = pl.concat([renames(self.run.store.read("lookups")), renames(lookups.frame)])
        family, outside = split_family(everything, ids, moved)
        return Collected(family, outside, lookups, roots=names, strategy=strategy)

    def _walked(self, ids: list[str], names: list[str]) -> Collected:
        """The family a finished walk found."""
        pages = list(self.run.journal.where(e="page"))
        variants = {e["listing"] for e in pages if e["listing"].startswith("variant:")}
        walked = [e["n"] for e in pages] + self._root_pages()
        moved = renames(self.run.store.read("lookups"))
        family, outside = split_family(self.run.journal.batch(walked), ids, moved)
        return Collected(family, outside, None, roots=names, walk_variants=len(variants))

    def _root_pages(self) -> list[int]:
        """Journal numbers of the pages that hold the roots' own records."""
        return [
            e["n"]
            for e in self.run.journal.events
            if e.get("batch")
            and (
                (e["e"] == "page" and e["listing"].startswith("author:"))
                or (e["e"] == "lookup" and e["role"] == "root")
            )
        ]

    def _walk(self, roots: list[str], *, sweep_cost: int, auto: bool) -> bool:
        """Breadth-first over children listings. Returns True if auto switched to a sweep.

        Other names the store knows for a member (another case, former names) have their
        children listed too (:func:`spellings_known`).
        """
        run = self.run
        if any(run.journal.where(e="switch")):
            return True
        variants = spellings_known(run.store)
        run.progress.phase("walking", unit="req")
        discovered = list(roots)
        known = {r.lower() for r in roots}
        position = 0

        def too_big() -> bool:
            # Every model still queued costs at least one more request.
            spent = run.count("page") + run.count("lookup")
            return auto and spent + (len(discovered) - position) > sweep_cost

        while position < len(discovered):
            model_id = discovered[position]
            position += 1
            run.progress.describe(f"walking {model_id}")
            children = self._children(model_id, variants.get(model_id.lower(), []), too_big)
            for child in children:
                if child.lower() not in known:
                    known.add(child.lower())
                    discovered.append(child)
            run.progress.advance(0, family=len(discovered), queued=len(discovered) - position)
            if too_big():
                spent = run.count("page") + run.count("lookup")
                run.journal.record({"e": "switch", "to": "sweep", "after": spent})
                return True
        return False

    def _children(self, model_id: str, names: list[str], stop) -> list[str]:
        """The ids of a model's children: declared under its id, or under its other names."""
        client = self.run.client
        children = self.run.fetch_listing(
            f"children:{model_id}",
            client.listing_url(filter=f"base_model:{model_id}"),
            with_ids=True,
            name=f"the children of {model_id}",
            stop=stop,
        )
        for name in names:
            if name == model_id:
                continue
            children += self.run.fetch_listing(
                f"variant:{name}",
                client.listing_url(filter=f"base_model:{name}"),
                with_ids=True,
                name=f"the children of {name} (a name of {model_id})",
                stop=stop,
            )
        return children

    def _sweep(self, hub_size: int | None) -> list[int]:
        """List the whole Hub; return the journal numbers of the sweep's pages."""
        pages = math.ceil(hub_size / PAGE_SIZE) if hub_size else None
        self.run.progress.phase("sweeping the Hub", total=pages, unit="page")
        self.run.progress.advance(len(self.run.journal.pages_of("all")))
        self.run.fetch_listing(
            "all", self.run.client.listing_url(), with_ids=False, name="the whole Hub"
        )
        return [e["n"] for e in self.run.journal.pages_of("all")]

    def _collect_new(self, roots: tuple[Root, ...], *, all: bool) -> Collected:
        """An update: the models created since the last crawl that covered the request."""
        store = self.run.store
        since = covered_since(store, roots, whole_hub=all)
        self.run.progress.phase("listing the newest models", unit="page")
        self.run.fetch_listing(
            "new",
            self.run.client.listing_url(),
            with_ids=False,
            name="the newest models",
            last_page=lambda batch: nothing_new(store, batch, since),
        )
        fetched = self.run.journal.batch([e["n"] for e in self.run.journal.pages_of("new")])
        if all:
            return Collected(fetched, Batch.empty(), None, strategy="new", new_since=since)
        seeds, names = family_in_store(store, roots, fetched)
        family, outside = split_family(fetched, seeds, renames(store.read("lookups")))
        return Collected(family, outside, None, names, strategy="new", new_since=since)


def hub_size_estimate(store: Store) -> int | None:
    """The last --all sweep's count; None when unknown (the auto rule then assumes
    HUB_SIZE_ESTIMATE, but no progress bar shows an ETA made from that guess)."""
    log = store.read("crawls").filter(pl.col("strategy") == "all")
    if log.height:
        return int(log.sort("finished_at")["models_seen"][-1])
    return None


def spellings_known(store: Store) -> Mapping[str, list[str]]:
    """Other names the store knows that lead to a model (lowercase id -> names).

    Declared spellings in another case (children's edges) and former names (lookups
    that found a rename): a walk asks for their children too, since the Hub's
    ``base_model:`` filter matches the declared text exactly.
    """
    parents = store.read("edges", columns=["parent"]).unique()
    ids = store.read("models", columns=["id"])
    lookups = store.read("lookups").filter(pl.col("id").is_not_null())
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
