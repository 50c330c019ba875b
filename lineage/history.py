"""Reading a long history by month: which snapshot stands for a month, and its counters.

A store may hold hundreds of snapshot dates (a weekly backfill of two years is 110). A
monthly series (download share) takes **one snapshot per month: the last complete one in
it** (a whole-Hub sweep or a hub-stats dump: every model's counters of one day), so a month
is read from one partition and months compare like with like. A month whose snapshots are
all partial (family crawls, ``--new`` updates) has no such day: each model counts with its
last counter in that month, which is the best those crawls know.

Library side of ``share --metric downloads|both``; the Spark query
``sql/download_share.sql`` implements the same rule. Reads the store only, and only the
partitions it needs (see :meth:`lineage.store.Store.scan_snapshots`).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from .store import Store


def month_dates(
    store: Store,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    through: dt.date | None = None,
) -> pl.DataFrame:
    """One row per month with snapshots: ``month``, ``date`` (the last complete snapshot
    in it, null if none), ``dates`` (every snapshot date in it), oldest month first.

    ``since`` and ``until`` are months (their first days), inclusive; ``through`` a day:
    no snapshot after it counts (``--as-of``).
    """
    dates = [d for d in store.snapshot_dates() if through is None or d <= through]
    log = store.observations()
    complete = set(log.filter(pl.col("complete") & pl.col("snapshot"))["observed"].to_list())
    frame = pl.DataFrame({"date": dates}, schema={"date": pl.Date}).with_columns(
        pl.col("date").dt.truncate("1mo").alias("month"),
        pl.col("date")
        .is_in(pl.Series(sorted(complete), dtype=pl.Date).implode())
        .alias("complete"),
    )
    if since is not None:
        frame = frame.filter(pl.col("month") >= since)
    if until is not None:
        frame = frame.filter(pl.col("month") <= until)
    return (
        frame.group_by("month")
        .agg(
            pl.col("date").filter("complete").max().alias("date"),
            pl.col("date").sort().alias("dates"),
        )
        .sort("month")
    )


def monthly_counters(
    store: Store,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    through: dt.date | None = None,
    counter: str = "downloads",
) -> pl.LazyFrame:
    """Per model key and month, the counter of the snapshot standing for that month, lazily
    (only those partitions are read when it is collected).

    Columns: ``key`` (the store's model key, :meth:`~lineage.store.Store.keys`), ``month``,
    ``date`` (the snapshot it comes from), ``counter``'s name.
    """
    months = month_dates(store, since=since, until=until, through=through)
    whole = months.filter(pl.col("date").is_not_null()).select("month", "date")
    partial = (
        months.filter(pl.col("date").is_null())
        .explode("dates")
        .select("month", pl.col("dates").alias("date"))
    )
    schema = {"key": pl.Int32(), "month": pl.Date(), "date": pl.Date(), counter: pl.Int64()}
    parts = []
    if whole.height:
        rows = store.scan_snapshots(keyed=True, dates=whole["date"].to_list())
        parts.append(rows.select("key", "date", counter).join(whole.lazy(), on="date"))
    if partial.height:
        # A month of partial observations only: each model's last counter in it.
        rows = store.scan_snapshots(keyed=True, dates=partial["date"].to_list())
        parts.append(
            rows.select("key", "date", counter)
            .join(partial.lazy(), on="date")
            .sort("date")
            .group_by("key", "month")
            .agg(pl.col("date", counter).last())
        )
    if not parts:
        return pl.LazyFrame(schema=schema)
    return pl.concat(parts, how="diagonal").select(list(schema)).cast(schema)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
