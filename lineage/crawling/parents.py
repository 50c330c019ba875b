"""Looking up declared parents that match no known model, and assembling what is committed.

Each declared parent that matches no model the crawl or the store knows (in any case) is
looked up once with ``model_info``: renamed parents resolve to their current id, parents
outside the family are stored as not crawled, the rest are recorded as missing. At most
``budget`` lookups per crawl, the most consequential first (:mod:`lineage.parents`), and
at most :data:`MAX_LOOKUPS_PER_MODEL` for any one declaring model (the rest is a
``too_many_parents`` problem), so no single card can multiply a crawl's cost.
:func:`resolve_parents` spends a later budget on what earlier crawls left unresolved.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..parents import lookup_order, unknown_parents
from ..records import Batch
from ..schema import LOOKUP_SCHEMA, MODEL_SCHEMA, PROBLEM_SCHEMA
from .batches import declared, first_of_each, subset
from .session import CrawlRun

MAX_LOOKUPS_PER_MODEL = 10

_KEYS = {"key": pl.String}


@dataclass(frozen=True)
class Lookups:
    """What looking up a scope's parents gave."""

    frame: pl.DataFrame  # LOOKUP_SCHEMA rows: every spelling asked or answered before
    capped: pl.DataFrame  # PROBLEM_SCHEMA: models whose lookups were bounded
    unresolved: pl.DataFrame  # ``key``: parents left unresolved (budget, --no-lookups)


class ParentLookup:
    """Looks up the parents a scope declares that match no known model."""

    def __init__(self, run: CrawlRun, *, lookups: bool, budget: int | None, complete: bool):
        self.run = run
        self.lookups = lookups  # False: look nothing up, count what is left
        self.budget = budget  # parent lookups for the whole crawl; None: no limit
        self.complete = complete  # a whole-Hub sweep: judge parents by what it listed

    def look_up(self, scope: Batch, known_too: list[pl.DataFrame]) -> Lookups:
        """Look up the parents declared in ``scope`` that match no model we know.

        Known: ``scope``'s models, ``known_too`` (frames of ``id``), the store's models and
        every query the store already looked up, all in any case. Each lowercase id is
        looked up once (in one of its spellings; every spelling gets the answer), most
        impactful first, within the budget of parent lookups for the whole crawl.
        """
        unknown, stored = self._unknown(scope, known_too)
        copied, unknown = self._answered_before(unknown, stored)
        capped = self._capped(unknown)
        wanted = unknown_parents(
            unknown.filter(pl.col("rank") <= MAX_LOOKUPS_PER_MODEL), pl.DataFrame(schema=_KEYS)
        )
        rows = copied.cast(LOOKUP_SCHEMA).to_dicts()  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
        if not self.lookups or not wanted.height:
            return Lookups(pl.DataFrame(rows, schema=LOOKUP_SCHEMA), capped, wanted.select("key"))
        left = self._ask(lookup_order(scope.models, scope.edges, wanted), rows)
        return Lookups(
            pl.DataFrame(rows, schema=LOOKUP_SCHEMA),
            capped,
            pl.DataFrame({"key": left}, schema=_KEYS),
        )

    def _unknown(
        self, scope: Batch, known_too: list[pl.DataFrame]
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The scope's declarations of unknown parents (ranked per child), and the store's
        earlier lookups that still count."""
        key = pl.col("id").str.to_lowercase().alias("key")
        stored = self.run.store.read("lookups")
        listed = [scope.models.select(key), *(frame.select(key) for frame in known_too)]
        if self.complete:
            # A whole-Hub sweep judges parents by what it listed, as a fresh crawl would:
            # a parent deleted since the store saw it is looked up (and found missing), and
            # an earlier answer counts only if the model it led to is still listed.
            listed_keys = pl.concat(listed).unique()
            stored = stored.filter(
                pl.col("id").is_null()
                | pl.col("id").str.to_lowercase().is_in(listed_keys["key"].implode())
            )
        else:
            listed.append(self.run.store.scan("models").select(key).collect())
        known = pl.concat(listed).unique()
        unknown = (
            scope.edges.select("child", "parent", "position")
            .join(known, left_on=pl.col("parent").str.to_lowercase(), right_on="key", how="anti")
            .with_columns(pl.col("position").rank("ordinal").over("child").alias("rank"))
        )
        return unknown, stored

    def _answered_before(
        self, unknown: pl.DataFrame, stored: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """A new spelling of a parent an earlier crawl looked up gets that answer, unasked:
        (those answers, the declarations still unknown)."""
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
                pl.lit(self.run.seen_at).alias("looked_up_at"),
            )
        )
        still = unknown.join(
            earlier.select("key"),
            left_on=pl.col("parent").str.to_lowercase(),
            right_on="key",
            how="anti",
        )
        return copied, still

    def _capped(self, unknown: pl.DataFrame) -> pl.DataFrame:
        """One card must not multiply the crawl's cost: a bounded number of lookups each."""
        return (
            unknown.group_by("child")
            .agg(pl.len().alias("n"))
            .filter(self.lookups & (pl.col("n") > MAX_LOOKUPS_PER_MODEL))
            .select(
                pl.col("child").alias("model"),
                pl.lit("too_many_parents").alias("kind"),
                pl.format(
                    "{} unknown parents declared; looked up the first {}",
                    "n",
                    pl.lit(MAX_LOOKUPS_PER_MODEL),
                ).alias("detail"),
            )
            .cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
        )

    def _ask(self, ordered: pl.DataFrame, rows: list[dict]) -> list[str]:
        """Look up ``ordered`` parents within the budget, adding a row per spelling to
        ``rows``; returns the keys the budget left."""
        journal, budget = self.run.journal, self.budget
        spent = sum(1 for _ in journal.where(e="lookup", role="parent"))
        left: list[str] = []
        self.run.progress.phase(
            "looking up unknown parents",
            total=ordered.height if budget is None else min(ordered.height, budget),
            unit="id",
        )
        for parent_key, spellings in ordered.select("key", "spellings").iter_rows():
            done = next((e for e in map(journal.lookup_of, spellings) if e is not None), None)
            if done is None:
                if budget is not None and spent >= budget:
                    left.append(parent_key)
                    continue
                found = self.run.lookup(spellings[0], role="parent")
                spent += 1
                self.run.progress.advance(1)
            else:
                found = done["id"]
            for query in spellings:
                status = "missing" if found is None else ("found" if found == query else "renamed")
                rows.append(
                    {
                        "query": query,
                        "id": found,
                        "status": status,
                        "looked_up_at": self.run.seen_at,
                    }
                )
        return left


def resolve_parents(run: CrawlRun, lookup: ParentLookup) -> tuple[Batch, Lookups]:
    """Look up the parents earlier crawls left unresolved (within the budget).

    The batch re-commits the models whose declarations those lookups explain (their
    rows as stored, with the renamed/missing problems the lookups add) and the models
    the lookups found that the store does not hold (not crawled), so the store ends as
    it would have, had the first crawl looked everything up.
    """
    models = run.store.read("models")
    edges = run.store.read("edges")
    stored_only = [c for c in models.columns if c not in MODEL_SCHEMA]
    crawled = models.filter(pl.col("crawled")).drop(stored_only)
    scope = Batch(
        crawled,
        edges.join(crawled.select("id"), left_on="child", right_on="id", how="semi"),
        pl.DataFrame(schema=PROBLEM_SCHEMA),
    )
    found = lookup.look_up(scope, [])
    # The first crawl recorded the bounded lookups' problems.
    lookups = Lookups(found.frame, pl.DataFrame(schema=PROBLEM_SCHEMA), found.unresolved)
    explained = (
        edges.join(
            lookups.frame.filter(pl.col("status") != "found").select(
                pl.col("query").alias("parent")
            ),
            on="parent",
            how="semi",
        )
        .select(pl.col("child").alias("id"))
        .unique()
    )
    affected = Batch(
        models.join(explained, on="id", how="semi").drop(stored_only),
        edges.join(explained, left_on="child", right_on="id", how="semi"),
        run.store.read("problems").join(explained, left_on="model", right_on="id", how="semi"),
    )
    batch = assemble(run, affected, Batch.empty(), lookups)
    kept = pl.concat(
        [
            batch.models.join(explained, on="id", how="semi"),
            batch.models.join(models.select("id"), on="id", how="anti"),
        ]
    )
    # The stored records it re-commits keep the observation they came from (it saw
    # them no more than before); the models its lookups found are seen now (null).
    kept = kept.join(
        models.select("id", "last_seen", "seen_commit"), on="id", how="left", maintain_order="left"
    )
    # A model a lookup found (a rename's target) that the store already holds is not
    # committed again, and neither are the edges and problems its lookup record gave:
    # its stored row and declarations stand, as after a crawl with unlimited lookups
    # (committing them beside it duplicated its edges).
    chosen = kept.select("id")
    batch = Batch(
        kept,
        batch.edges.join(chosen, left_on="child", right_on="id", how="semi"),
        batch.problems.join(chosen, left_on="model", right_on="id", how="semi"),
    )
    return batch, lookups


def assemble(run: CrawlRun, family: Batch, outside: Batch, lookups: Lookups) -> Batch:
    """Everything the commit writes: the family, parents outside it, derived problems."""
    looked = [e["n"] for e in run.journal.where(e="lookup", role="parent") if e.get("batch")]
    found = run.journal.batch(looked)
    # Only the models the family's parents resolve to (a roots' sweep looks up the
    # parents of the whole Hub).
    targets = lookups.frame.join(
        declared(family), left_on=pl.col("query").str.to_lowercase(), right_on="key"
    ).select(pl.col("id").str.to_lowercase().alias("key"))
    found = subset(
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
    all_lookups = pl.concat([run.store.read("lookups"), lookups.frame]).unique("query", keep="last")
    problems = pl.concat(
        [batch.problems, _lookup_problems(batch, all_lookups), lookups.capped]
    ).unique()
    return Batch(
        first_of_each(batch.models, ["id"]),
        first_of_each(batch.edges, ["child", "parent"]),
        problems.sort("model", "kind", "detail"),
    )


def _lookup_problems(batch: Batch, lookups: pl.DataFrame) -> pl.DataFrame:
    """A problem for each declaration of a parent a lookup found missing or renamed."""
    missing = pl.col("status") == "missing"
    return (
        batch.edges.join(
            lookups.filter(pl.col("status") != "found"),
            left_on="parent",
            right_on="query",
            how="inner",
        )
        .select(
            pl.col("child").alias("model"),
            pl.when(missing)
            .then(pl.lit("missing_parent"))
            .otherwise(pl.lit("renamed_parent"))
            .alias("kind"),
            pl.when(missing)
            .then(pl.col("parent"))
            .otherwise(pl.col("parent") + " -> " + pl.col("id"))
            .alias("detail"),
        )
        .cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
    )
