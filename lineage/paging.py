"""Checking that a Hub listing moves forward while the crawler pages through it.

Every listing lineage pages through is sorted by ``createdAt``, newest first (see
:mod:`lineage.crawl` for why). On a Hub that behaves, each page then holds models not seen on
an earlier page, each no newer than the one before it, and each ``next`` URL is new. A
:class:`ListingCheck` watches the pages of one listing and counts what breaks that:

- **duplicates**: models served again on a later page;
- **order breaks**: a model whose ``createdAt`` is newer than the one served before it.

Both mean the Hub changed under the crawl (or sorted differently than asked); the crawl goes
on and reports them. A listing that stops moving forward is stopped instead, with a
:class:`~lineage.errors.ListingStalled` error: a ``next`` URL that was already requested (a
cursor that cycles), or :data:`STALE_PAGES` pages in a row that add no new model, whatever
their URLs (empty pages with fresh ``next`` links included: a Hub gives no ``next`` after its
last model, so pages without models that keep pointing on are a listing going nowhere).

Seen ids are kept as sorted arrays of 64-bit hashes (about 8 bytes a model, so the 2.5M
models of a whole-Hub sweep cost some 20 MB), merged like a log-structured index so that a
page costs O(page · log n). A hash collision can at worst count one model as a duplicate.

This module knows ids, dates and URLs; it does not know the journal, the store or HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from .errors import ListingStalled

STALE_PAGES = 3


@dataclass(frozen=True)
class PageCheck:
    """What one page showed: models seen before, order breaks, and whether all were seen."""

    duplicates: int
    order_breaks: int
    stale: bool
    last_created: dt.datetime | None


class SeenIds:
    """A set of ids, as sorted runs of 64-bit hashes.

    Examples
    --------
    >>> seen = SeenIds()
    >>> seen.add(["a/b", "c/d"]), seen.add(["C/D", "e/f", "e/f"]), len(seen)
    (0, 2, 3)
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def add(self, ids: Iterable[str]) -> int:
        """Add ids (case-insensitively); return how many were already there or repeated."""
        ids = list(ids)
        if not ids:  # most pages of a walk are empty: skip the fixed cost
            return 0
        hashes = (pl.Series(ids, dtype=pl.String).str.to_lowercase().hash(seed=0x11E4)).to_numpy()
        fresh = np.unique(hashes)
        repeated = len(hashes) - len(fresh)
        known = np.zeros(len(fresh), dtype=bool)
        for run in self._runs:
            at = np.minimum(np.searchsorted(run, fresh), len(run) - 1)
            known |= run[at] == fresh
        fresh = fresh[~known]
        if len(fresh):
            self._runs.append(fresh)
            # Keep run sizes geometric: O(log n) runs, each model merged O(log n) times.
            while len(self._runs) > 1 and len(self._runs[-2]) <= 2 * len(self._runs[-1]):
                last = self._runs.pop()
                self._runs[-1] = np.union1d(self._runs[-1], last)
        return repeated + int(known.sum())


class ListingCheck:
    """The progress and order checks of one listing (see the module docstring).

    ``name`` describes the listing in messages ("the whole Hub", "the children of X").
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen = SeenIds()
        self.requested: set[str | None] = set()  # a journaled page may have no url
        self.pages = 0
        self.stale_run = 0
        self.last_created: dt.datetime | None = None

    def replay(
        self,
        urls: Sequence[str | None],
        ids: Iterable[str],
        stale: Sequence[bool],
        last: str | None,
    ) -> None:
        """Rebuild the state of pages fetched before (a resumed crawl), from their journal."""
        self.requested.update(urls)
        self.pages += len(urls)
        self.seen.add(ids)
        self.stale_run = 0
        for flag in stale:
            self.stale_run = self.stale_run + 1 if flag else 0
        self.last_created = dt.datetime.fromisoformat(last) if last else None

    def check(
        self,
        url: str,
        ids: Sequence[str],
        created: Sequence[dt.datetime | None],
        next_url: str | None,
    ) -> PageCheck:
        """Check one page (its URL, ids and createdAt in the order served, and its ``next``)
        before it is kept; raise :class:`ListingStalled` if the listing stopped moving.

        A page that stops the listing is not to be kept, so that a resumed crawl asks for it
        again (the Hub may have recovered). The caller says what was kept.
        """
        self.requested.add(url)
        if next_url is not None and next_url in self.requested:
            raise ListingStalled(
                f"the Hub's listing of {self.name} stopped making progress: after "
                f"{self.pages + 1:,} pages its next page is one already fetched (the cursor "
                "cycles)"
            )
        duplicates = self.seen.add(ids)
        # No new model, however the page got here (an empty page counts too).
        stale = duplicates == len(ids)
        self.stale_run = self.stale_run + 1 if stale else 0
        if self.stale_run >= STALE_PAGES and next_url is not None:
            raise ListingStalled(
                f"the Hub's listing of {self.name} stopped making progress: {self.stale_run} "
                f"pages in a row added no new model and still pointed to a next page (after "
                f"{self.pages + 1:,} pages)"
            )
        breaks = 0
        previous = self.last_created
        for when in created:
            if when is None:
                continue
            if previous is not None and when > previous:
                breaks += 1
            previous = when
        self.last_created = previous
        self.pages += 1
        return PageCheck(duplicates, breaks, stale, previous)
