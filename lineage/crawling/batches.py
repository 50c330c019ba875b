"""Frame operations on fetched batches that the crawler's parts share.

Pure functions of :class:`~lineage.records.Batch` frames: no store, no Hub, no journal.
"""

from __future__ import annotations

import polars as pl

from ..records import Batch
from ..update import descendants


def split_family(
    everything: Batch, roots: list[str], renames: pl.DataFrame | None = None
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
    return subset(everything, models, members, crawled=True), subset(
        everything, models, outsiders, crawled=False
    )


def declared(batch: Batch) -> pl.DataFrame:
    """The lowercase ids (``key``) the batch's crawled models declare as parents."""
    crawled = batch.models.filter(pl.col("crawled")).select("id")
    return (
        batch.edges.join(crawled, left_on="child", right_on="id", how="semi")
        .select(pl.col("parent").str.to_lowercase().alias("key"))
        .unique()
    )


def first_of_each(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """``frame`` with the first row of each ``by`` key; the frame itself when none repeats."""
    key = pl.col(by[0]) if len(by) == 1 else pl.struct(by)
    if not frame.select(key.is_duplicated().any()).item():
        return frame
    return frame.unique(by, keep="first", maintain_order=True)


def renames(lookups: pl.DataFrame) -> pl.DataFrame:
    """Lookups that found a model: lowercase ``query`` -> lowercase current id ``to``."""
    return lookups.filter(pl.col("id").is_not_null()).select(
        pl.col("query").str.to_lowercase(), pl.col("id").str.to_lowercase().alias("to")
    )


def subset(batch: Batch, models: pl.DataFrame, ids: pl.DataFrame, *, crawled: bool) -> Batch:
    """The batch's rows of the models ``ids``, marked crawled or not."""
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
