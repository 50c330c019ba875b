"""Which models an analysis counts: the Hub now, the Hub as it was on a date, or everything.

Three views of a store's history (store format 3 keeps every model ever observed, with the
date it was last seen, and a snapshot of counters per observation date):

- ``present`` (the default): the models present at the latest complete observation (a
  whole-Hub sweep or a hub-stats dump) and their edges: what a fresh crawl today would count,
  as ATOM counts. A model deleted from the Hub since is not counted, and a parent that is
  gone is a missing node, as a fresh crawl makes it.
- ``as-of D``: only the models in the complete snapshot of date D, with their counters of
  that day (downloads, all-time downloads, likes): the figure someone who crawled that day
  saw. What it cannot undo: a model's record is its latest (its parents and card as last
  seen), so card edits made since D show.
- ``all`` (``--include-deleted``): every model ever observed, deleted or not: the
  derivatives created in a month whether or not they survive, with their latest counters.

Library side of ``--as-of`` and ``--include-deleted`` (``share``, ``families``, ``info``,
``export attribution``); :func:`lineage.analysis.load_context` takes a :class:`View`. The
default view is the store's own (``Store.read``); this module builds the other two from
``Store.read(..., view="all")`` and the snapshot of D. It must not write, or decide
presence itself (the store does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from .errors import InputError
from .schema import COUNTERS
from .store import Store
from .vocabulary import Lineage

GRAPH_COLUMNS = ["id", "crawled", "created_at", "downloads", "downloads_all_time", "likes"]


@dataclass(frozen=True)
class View:
    """``present``, ``all``, or ``as-of`` with its ``date``.

    >>> View.of(as_of=dt.date(2025, 1, 5)).label, View.of(include_deleted=True).label
    ('as-of 2025-01-05', 'all')
    """

    kind: str = "present"
    date: dt.date | None = None

    @classmethod
    def of(cls, *, as_of: dt.date | None = None, include_deleted: bool = False) -> View:
        if as_of is not None and include_deleted:
            raise InputError(
                "{as_of} counts the models of one day, {include_deleted} every model ever "
                "observed: choose one",
                params=("as_of", "include_deleted"),
            )
        if as_of is not None:
            return cls("as-of", as_of)
        return cls("all") if include_deleted else cls()

    @property
    def label(self) -> str:
        return f"as-of {self.date}" if self.kind == "as-of" else self.kind

    @property
    def default(self) -> bool:
        return self.kind == "present"


def complete_dates(store: Store) -> list[dt.date]:
    """The dates of complete observations that recorded counters (what ``as-of`` accepts)."""
    observations = store.observations()
    complete = observations.filter(pl.col("complete") & pl.col("snapshot"))
    held = set(store.snapshot_dates())
    return sorted({d for d in complete["observed"].to_list() if d in held})


def check_as_of(store: Store, day: dt.date) -> None:
    """InputError unless ``day`` had a complete observation with counters."""
    dates = complete_dates(store)
    if day in dates:
        return
    if not dates:
        raise InputError(
            f"{{as_of}} {day}: the store at {store.path} has no complete observation (a "
            "`lineage crawl --all` or a hub-stats ingest) to count from",
            params=("as_of",),
            value=day,
        )
    before = [d for d in dates if d < day][-2:]
    after = [d for d in dates if d > day][:2]
    near = ", ".join(str(d) for d in [*before, *after])
    raise InputError(
        f"{{as_of}} {day}: no complete observation of that day; the nearest are {near} "
        "(`lineage snapshots` lists them all)",
        params=("as_of",),
        value=day,
    )


def view_frames(store: Store, view: View) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The models (graph columns) and declared edges a view counts."""
    if view.kind == "present":
        return store.read("models", columns=GRAPH_COLUMNS), store.read("edges")
    models = store.read("models", columns=GRAPH_COLUMNS, view="all")
    edges = store.read("edges", view="all")
    if view.kind == "all":
        return models, edges
    assert view.date is not None
    check_as_of(store, view.date)
    then = store.snapshot(view.date).select("id", *COUNTERS)
    models = models.drop(COUNTERS).join(then, on="id", how="inner", maintain_order="left")
    models = models.select(GRAPH_COLUMNS)
    edges = edges.join(then.select(pl.col("id").alias("child")), on="child", how="semi")
    return models, edges


def view_graph(
    store: Store, view: View, *, lineage: Lineage = "declared", min_confidence: float | None = None
):
    """The graph of a view that is not the default one (see :func:`view_frames`)."""
    from .edges import lineage_edges, read_inferred
    from .graph import graph_from_frames

    models, edges = view_frames(store, view)
    if lineage != "declared":
        inferred = read_inferred(store, min_confidence=min_confidence).join(
            models.select(pl.col("id").alias("child")), on="child", how="semi"
        )
        edges = lineage_edges(edges, inferred, lineage=lineage)
    return graph_from_frames(models, edges, store.read("lookups"))
