"""What a store holds: counts of models, edges, parents, roots, problems and recent crawls,
and the crawls still in its journal (interrupted, or committed but not yet cleared away).

Library twin of ``lineage info``. Reads the store only.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, TypedDict, cast

import polars as pl

from .journal import JournalReport, describe_journals
from .store import Store
from .vocabulary import DEFAULT_MIN_CONFIDENCE

if TYPE_CHECKING:
    from .view import View


class RecentCrawl(TypedDict):
    """One of the last crawls (or ingests) of the crawl log, as ``info`` reports it."""

    finished_at: dt.datetime
    kind: str  # crawl | ingest
    roots: list[str]
    strategy: str
    requests: int
    models_new: int
    models_updated: int


@dataclass(frozen=True)
class StoreInfo:
    """A summary of one store."""

    store: str
    models: int  # present: listed by the latest whole-Hub observation, or seen since
    # Models a whole-Hub observation (crawl --all, a dump) no longer listed: kept in
    # history, not counted; by the date of the observation that first missed them.
    gone: int
    gone_since: dict[str, int]
    crawled: int
    not_crawled: int
    edges: int
    edges_by_relation: dict[str, int]
    inferred_edges: int
    # Lineage proposed by `lineage infer` for models that declare none: the models given a
    # proposal, and those at or above the default minimum confidence that `--lineage both`
    # counts.
    inferred_lineage: int
    inferred_lineage_confident: int
    parents_crawled: int
    parents_not_crawled: int
    parents_missing: int
    parents_unresolved: int
    roots: list[str]
    problems_by_kind: dict[str, int]
    snapshots: int
    crawls: list[RecentCrawl]  # newest first
    format_version: int
    commit_pending: bool  # the last commit was cut short after its commit point
    journals: list[JournalReport]
    # Which models were counted (lineage.view): present (the default), all, or as-of DATE.
    view: str = "present"

    def to_dict(self) -> dict:
        return asdict(self)


def _kept_counts(store: Store) -> dict:
    """:func:`_counts`, kept with the store's derived state (:mod:`lineage.derived`)."""
    from .derived import kept

    def build() -> dict[str, pl.DataFrame]:
        return {"counts": pl.DataFrame({"counts": [json.dumps(_counts(store))]})}

    sources = ("models", "edges", "lookups", "inferred_edges", "problems")
    parts, frames = kept(store, "info", ("counts",), build, sources)
    if parts is not None:
        frame = parts.read("counts")
    else:
        assert frames is not None  # kept() gives the frames when no files back them
        frame = frames["counts"]
    return json.loads(frame["counts"][0])


def _counts(store: Store, view: View | None = None) -> dict:
    """The counts of :class:`StoreInfo` that read whole tables: models (present and gone),
    edges, parents, inferred lineage, card problems (biggest first, then by name) and
    snapshot dates. ``view`` (:mod:`lineage.view`; None: the present) chooses the models and
    edges counted."""
    # Whole tables, not only the columns counted: info is how a user finds damage in any
    # of them, and what it reads is kept, once per generation.
    if view is None or view.default:
        models = store.read("models").select("id", "crawled")
        edges = store.read("edges")
    else:  # --as-of, --include-deleted: the models and edges that view counts
        from .view import view_frames

        frame, edges = view_frames(store, view)
        models = frame.select("id", "crawled")
    presence = store.presence().filter(~pl.col("present"))
    gone_since = presence.group_by("gone_since").len().sort("gone_since")
    lookups = store.read("lookups")
    proposed = store.read("inferred_edges", columns=["child", "confidence"])
    known = models.select(pl.col("id").str.to_lowercase().alias("key"), "crawled").unique("key")
    renamed = lookups.filter(pl.col("id").is_not_null()).select(
        pl.col("query").str.to_lowercase().alias("key"), pl.col("id").str.to_lowercase().alias("to")
    )
    parents = (
        edges.select(pl.col("parent").str.to_lowercase().alias("key"))
        .unique()
        .join(renamed, on="key", how="left")
        .with_columns(pl.coalesce("to", "key").alias("key"))
        .join(known, on="key", how="left")
        .join(
            lookups.filter(pl.col("status") == "missing").select(
                pl.col("query").str.to_lowercase().alias("key"), pl.lit(True).alias("missing")
            ),
            on="key",
            how="left",
        )
    )
    by_relation = (
        edges.group_by("relation").len().sort(["len", "relation"], descending=[True, False])
    )
    problems = (
        store.read("problems")
        .group_by("kind")
        .len()
        .sort(["len", "kind"], descending=[True, False])
    )
    return {
        "models": models.height,
        "gone": presence.height,
        "gone_since": {d.isoformat(): n for d, n in gone_since.iter_rows()},
        "crawled": int(models["crawled"].sum()),
        "not_crawled": int((~models["crawled"]).sum()),
        "edges": edges.height,
        "edges_by_relation": dict(by_relation.iter_rows()),
        "inferred_edges": int(edges["inferred"].sum()),
        "inferred_lineage": proposed["child"].n_unique(),
        "inferred_lineage_confident": proposed.filter(
            pl.col("confidence") >= DEFAULT_MIN_CONFIDENCE
        )["child"].n_unique(),
        "parents_crawled": int(parents["crawled"].eq(True).sum()),
        "parents_not_crawled": int(parents["crawled"].eq(False).sum()),
        "parents_missing": int(parents["missing"].eq(True).sum()),
        "parents_unresolved": int(
            (parents["crawled"].is_null() & parents["missing"].is_null()).sum()
        ),
        "problems_by_kind": dict(problems.iter_rows()),
        "snapshots": len(store.snapshot_dates()),
    }


def store_info(store: Store, *, last_crawls: int = 5, view: View | None = None) -> StoreInfo:
    """Summarize a store.

    The counts that read whole tables are kept with the store's derived state, so a
    second ``info`` of the same generation reads them only. Parents are classified by what
    the store knows of them: a crawled model, a model
    known but not crawled, a lookup that found nothing (missing), or never looked up.
    Journals say which command, started when, got how far, and which command resumes it.
    ``view`` (:mod:`lineage.view`: ``--as-of``, ``--include-deleted``) counts other models
    than the present ones; those counts are computed, not kept.

    Examples
    --------
    >>> import tempfile
    >>> info = store_info(Store(tempfile.mkdtemp()))
    >>> info.models, info.gone, info.journals, info.format_version
    (0, 0, [], 3)
    """
    default = view is None or view.default
    counts = _kept_counts(store) if default else _counts(store, view)
    crawls = store.read("crawls")
    roots = sorted({r for rs in crawls["roots"].to_list() for r in rs or []}, key=str.lower)
    recent = (
        crawls.sort("finished_at", descending=True)
        .head(last_crawls)
        .select(list(RecentCrawl.__annotations__))
    )
    return StoreInfo(
        store=str(store.path),
        **counts,
        roots=roots,
        crawls=[cast(RecentCrawl, row) for row in recent.iter_rows(named=True)],
        format_version=store.format_version,
        commit_pending=store.commit_pending,
        journals=[
            j.to_dict(str(store.path))
            for j in describe_journals(store.path / "journal", set(crawls["crawl_id"].to_list()))
        ],
        view=view.label if view is not None else "present",
    )
