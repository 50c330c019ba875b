"""What changed between two snapshot dates: models and edges added, families that grew,
downloads by region.

Library twin of ``lineage diff``. A model is *added* between dates A and B when the store
has a snapshot of it at B but not at A; its declared edges are the edges added. Families
grow by the (weighted) derivatives added to them; downloads by region compare the last-30-
days counters at A and at B, split over roots like derivative weights.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from .analysis import Context, model_weights
from .errors import InputError
from .regions import attach_regions


@dataclass(frozen=True)
class Diff:
    """The difference between snapshots ``before`` and ``after``."""

    before: dt.date
    after: dt.date
    models_before: int
    models_after: int
    models_added: int
    models_gone: int
    edges_added: int
    added: pl.DataFrame  # top added models: id, downloads, roots (a root: itself; [] if none)
    families: pl.DataFrame  # family, org, region, derivatives_added, weight_added
    regions: pl.DataFrame  # region, downloads_before, downloads_after, growth, share_before,
    #                        share_after


def _date(value: str | dt.date | None, dates: list[dt.date], name: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{name} must be a date like 2026-01-31, not {value!r}") from exc
    if day not in dates:
        known = ", ".join(str(d) for d in dates[-5:])
        raise InputError(f"no snapshot dated {day}; the store's latest are: {known}")
    return day


def diff(
    ctx: Context,
    before: str | dt.date | None = None,
    after: str | dt.date | None = None,
    *,
    top: int = 10,
) -> Diff:
    """Compare two snapshot dates (default: the last two); reads those two dates only."""
    dates = ctx.store.snapshot_dates()
    if len(dates) < 2:
        raise InputError(
            f"the store has {len(dates)} snapshot date{'' if len(dates) == 1 else 's'}; "
            "diff needs two "
            "(crawl or ingest again on another day)"
        )
    after = _date(after, dates, "B") or dates[-1]
    before = _date(before, dates, "A") or max(d for d in dates if d < after)
    at_a = ctx.store.snapshot(before)
    at_b = ctx.store.snapshot(after)
    added_ids = at_b.join(at_a, on="id", how="anti")
    gone = at_a.join(at_b, on="id", how="anti").height
    edges = ctx.store.read("edges").join(
        added_ids.select(pl.col("id").alias("child")), on="child", how="semi"
    )
    nodes = ctx.graph.nodes.select("idx", "id", "org")
    # A derivative's attributed roots; a root is its own; anything else reaches none.
    derivatives = pl.concat(
        [
            ctx.attribution.derivatives.select("id", "roots"),
            ctx.attribution.roots_of_their_own().select("id", pl.concat_list("id").alias("roots")),
        ]
    ).unique("id", keep="first")
    added = (
        added_ids.select("id", "downloads")
        .join(derivatives, on="id", how="left")
        .with_columns(pl.col("roots").fill_null(pl.lit([], pl.List(pl.String))))
        .sort("downloads", "id", descending=[True, False], nulls_last=True)
        .head(top)
    )
    weights = ctx.attribution.weights.join(
        nodes.rename({"idx": "derivative"})
        .join(added_ids.select("id"), on="id", how="semi")
        .select("derivative"),
        on="derivative",
    )
    families = (
        attach_regions(
            weights.join(nodes.rename({"idx": "root", "id": "family"}), on="root")
            .group_by("family", "org")
            .agg(
                pl.col("derivative").n_unique().alias("derivatives_added"),
                pl.col("weight").sum().alias("weight_added"),
            ),
            ctx.regions,
            org="org",
            region="region",
        )
        .select("family", "org", "region", "derivatives_added", "weight_added")
        .sort(["derivatives_added", "family"], descending=[True, False])
        .head(top)
    )
    every = model_weights(ctx)
    roots = attach_regions(
        nodes.rename({"idx": "root"}), ctx.regions, org="org", region="region"
    ).select("root", "region")

    def by_region(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return (
            frame.join(nodes.rename({"idx": "node"}), on="id")
            .join(every, on="node")
            .join(roots, on="root")
            .group_by("region")
            .agg((pl.col("downloads").fill_null(0) * pl.col("weight")).sum().alias(name))
        )

    regions = (
        by_region(at_a, "downloads_before")
        .join(by_region(at_b, "downloads_after"), on="region", how="full", coalesce=True)
        .fill_null(0.0)
        .with_columns(
            (pl.col("downloads_after") - pl.col("downloads_before")).alias("growth"),
            (pl.col("downloads_before") / pl.col("downloads_before").sum()).alias("share_before"),
            (pl.col("downloads_after") / pl.col("downloads_after").sum()).alias("share_after"),
        )
        .sort("downloads_after", descending=True)
    )
    return Diff(
        before=before,
        after=after,
        models_before=at_a.height,
        models_after=at_b.height,
        models_added=added_ids.height,
        models_gone=gone,
        edges_added=edges.height,
        added=added,
        families=families,
        regions=regions,
    )
