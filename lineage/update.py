"""What an update (``lineage crawl --new``) needs to know from the store.

An update lists the Hub's models newest first (see :mod:`lineage.crawl`) and must know when
to stop and what to keep:

- :func:`covered_since`: how far back the store already covers a request, from the crawl
  log: the start of the last crawl that covered it (a whole-Hub crawl, update or ingest for
  the whole Hub; a crawl of the same roots, or of the whole Hub, for roots), less
  :data:`CLOCK_MARGIN`. Listings are paged by ``createdAt``, so a crawl that started at T
  saw every model created before T that existed while it ran.
- :func:`nothing_new`: whether a page reaches back past that point, so the update can stop.
- :func:`family_in_store`: the roots' family as the store knows it, to which new models are
  attached.

This module reads the store; it never fetches or writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

import polars as pl

from .errors import InputError
from .records import Batch
from .repo_id import Root
from .store import Store

# How far before the last covering crawl's start an update still looks: our clock against
# the Hub's createdAt stamps (a few hundred models an hour on the live Hub, so it is cheap).
CLOCK_MARGIN = dt.timedelta(hours=1)


def covered_since(store: Store, roots: Sequence[Root], *, whole_hub: bool) -> dt.datetime:
    """When the store's knowledge of the whole Hub (or of these roots) starts to run out.

    For the whole Hub: the start of its last whole-Hub crawl, update or ingest (a dump
    covers the day it is dated). For roots: the earliest, over the roots, of the last crawl
    that covered each (one of its roots, its organization, or the whole Hub). Less
    :data:`CLOCK_MARGIN`. Raises :class:`~lineage.errors.InputError` when nothing covered
    the request yet.

    Examples
    --------
    >>> import tempfile
    >>> covered_since(Store(tempfile.mkdtemp()), [], whole_hub=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lineage.errors.InputError: an update needs an earlier whole-Hub crawl in this store: ...
    """
    log = store.read("crawls")
    day = pl.col("snapshot_date").cast(pl.Datetime("us", "UTC"))
    covered = log.select(
        pl.col("roots").fill_null(pl.lit([], pl.List(pl.String()))),
        pl.when(pl.col("kind") == "ingest")
        .then(pl.coalesce(day, "started_at"))
        .otherwise("started_at")
        .alias("since"),
        (
            (pl.col("kind") == "ingest")
            | pl.col("strategy").is_in(["all", "new"]) & (pl.col("roots").list.len() == 0)
        ).alias("whole_hub"),
    )
    # a Datetime column's max
    whole = cast(dt.datetime | None, covered.filter("whole_hub")["since"].max())
    if whole_hub:
        if whole is None:
            raise InputError(
                "an update needs an earlier whole-Hub crawl in this store: run "
                "`lineage crawl --all` or `lineage ingest hub-stats` once; {new} then adds "
                "what is new since",
                params=("new",),
            )
        return whole - CLOCK_MARGIN
    names = pl.col("roots").list.eval(pl.element().str.strip_suffix("/").str.to_lowercase())
    ends = []
    for root in roots:
        name = root.name.lower()
        org = name.split("/", 1)[0]
        mine = cast(
            dt.datetime | None,
            covered.filter(
                names.list.contains(name) | (names.list.contains(org) & pl.lit(root.is_model))
            )["since"].max(),
        )
        candidates = [t for t in (mine, whole) if t is not None]
        if not candidates:
            raise InputError(
                f"no earlier crawl of {root.name} in this store: run `lineage crawl --root "
                f"{root.name}` once; {{new}} then adds what is new since",
                params=("new",),
            )
        ends.append(max(candidates))
    return min(ends) - CLOCK_MARGIN


def nothing_new(store: Store, page: Batch, since: dt.datetime) -> bool:
    """Whether an update can stop after this page.

    Yes when its last model is older than ``since`` (newest first, so every later one is
    too), or when every model on it is in the store already or older than ``since``.
    """
    key = pl.col("id").str.to_lowercase()
    models = page.models.select(key.alias("key"), "created_at")
    last = models["created_at"][-1] if models.height else None
    if last is not None and last < since:
        return True
    known = (
        store.scan("models")
        .select(key.alias("key"))
        .filter(pl.col("key").is_in(models["key"].implode()))
        .collect()
    )
    unseen = models.join(known, on="key", how="anti").filter(pl.col("created_at") >= since)
    return unseen.height == 0


def family_in_store(
    store: Store, roots: Sequence[Root], fetched: Batch
) -> tuple[list[str], list[str]]:
    """The lowercased ids of the roots' family as the store and the new pages know it.

    Also returns each root's name in the Hub's case, as the store has it.
    """
    key = pl.col("id").str.to_lowercase()
    ids = pl.concat(
        [store.scan("models").select("id").collect(), fetched.models.select("id")]
    ).unique()
    ids = ids.with_columns(key.alias("key"), key.str.extract(r"^([^/]+)/", 1).alias("org"))
    seeds: list[str] = []
    names: list[str] = []
    for root in roots:
        name = root.name.lower()
        none = ids.clear()
        own = none if root.org_only else ids.filter(pl.col("key") == name)
        members = none if root.is_model else ids.filter(pl.col("org") == name)
        if members.height:
            names.append(members["id"][0].split("/", 1)[0])
        else:
            names.append(own["id"][0] if own.height else root.name)
        seeds += members["key"].to_list() + own["key"].to_list()
    links = store.scan("edges").select(
        pl.col("child").str.to_lowercase().alias("child"),
        pl.col("parent").str.to_lowercase().alias("parent"),
    )
    seeded = pl.DataFrame({"key": seeds}, schema={"key": pl.String}).unique()
    family = descendants(links.collect(), seeded)
    return family["key"].to_list(), list(dict.fromkeys(names))


def descendants(links: pl.DataFrame, seeds: pl.DataFrame) -> pl.DataFrame:
    """The seeds' keys and every key below them over (child, parent) links, all lowercase.

    Examples
    --------
    >>> links = pl.DataFrame({"child": ["b", "c", "x"], "parent": ["a", "b", "y"]})
    >>> sorted(descendants(links, pl.DataFrame({"key": ["a"]}))["key"])
    ['a', 'b', 'c']
    """
    family = seeds
    frontier = seeds
    while frontier.height:
        children = (
            links.join(frontier, left_on="parent", right_on="key", how="semi")
            .select(pl.col("child").alias("key"))
            .unique()
            .join(family, on="key", how="anti")
        )
        family = pl.concat([family, children])
        frontier = children
    return family
