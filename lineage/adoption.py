"""RAM, the Relative Adoption Metric: a model's early downloads against its peers'.

For a model and a window of D days after its release (D in 7, 14, 30, 60, 90, 180, 365),
its *cumulative downloads* are the all-time download counter of the store's snapshot
nearest to release + D days (within 10% of D, at least one day; otherwise the window is
not covered). Its *peers* are the other models in the same parameter-size bucket whose
window D is covered with a known counter; RAM_D is the model's cumulative downloads divided
by the median of its top ``peers`` peers (10 by default) at the same window.

Limits, by construction: RAM needs snapshots taken around each window (successive crawls
or hub-stats dumps); a model without a known size (safetensors metadata) has no bucket;
peers are only the models in the store; release dates are the Hub's ``createdAt`` (repos
created before publication, or floored at 2022-03-02, shift every window).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from .errors import InputError, NotInStore
from .graph import ModelGraph
from .store import Store

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

_EPOCH = dt.date(1970, 1, 1)

WINDOWS = (7, 14, 30, 60, 90, 180, 365)
# (upper bound in parameters, label): a model falls in the first bucket it is below.
SIZE_BUCKETS = (
    (3e9, "<3B"),
    (10e9, "3-10B"),
    (40e9, "10-40B"),
    (100e9, "40-100B"),
    (float("inf"), ">=100B"),
)


def size_bucket(parameters: pl.Expr) -> pl.Expr:
    """The size bucket of a parameter count (null when unknown).

    >>> pl.select(size_bucket(pl.lit(7_600_000_000))).item()
    '3-10B'
    """
    expr: Then | ChainedThen
    expr = pl.when(parameters.is_null() | (parameters <= 0)).then(pl.lit(None, pl.String))
    for bound, label in SIZE_BUCKETS:
        expr = expr.when(parameters < bound).then(pl.lit(label))
    return expr.otherwise(pl.lit(None, pl.String))


def _one_model(store: Store, known: pl.DataFrame, model: str) -> pl.DataFrame:
    """The model's id as the store has it (exact, else case-insensitive), or NotInStore."""
    exact = known.select("id").filter(pl.col("id") == model)
    if not exact.height:
        exact = (
            known.select("id")
            .filter(pl.col("id").str.to_lowercase() == model.lower())
            .sort("id")
            .head(1)
        )
    if not exact.height:
        raise NotInStore(f"no model named '{model}' in the store at {store.path}")
    return exact


def _sized_models(store: Store) -> pl.DataFrame:
    """Every model (id, key, released, bucket; bucket null when its size is unknown), read
    once for all the questions of a command."""
    return store.read("models", columns=["id", "key", "created_at", "parameters"]).select(
        "id",
        "key",
        pl.col("created_at").dt.date().alias("released"),
        size_bucket(pl.col("parameters")).alias("bucket"),
    )


def cumulative_downloads(
    store: Store, windows: tuple[int, ...] = WINDOWS, *, buckets: list[str] | None = None
) -> pl.DataFrame:
    """Per model and window: cumulative downloads at release + window days, where covered.

    Columns: id, bucket, window_days, downloads, snapshot_date. ``buckets`` keeps only the
    models of those size buckets (a model's peers are in its own). The snapshots are
    scanned by model key, streaming: of each date's rows only those of models released
    within one window's reach of it are kept.
    """
    return _cumulative(store, _sized_models(store), windows, buckets)


def _cumulative(
    store: Store, models: pl.DataFrame, windows: tuple[int, ...], buckets: list[str] | None
) -> pl.DataFrame:
    picked = _picked(store, _in_buckets(models, buckets), windows)
    found = picked.join(models.select("key", "id", "bucket"), on="key")
    return found.select(list(_CUMULATIVE)).cast(_CUMULATIVE).sort("id", "window_days")  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema


_CUMULATIVE = {
    "id": pl.String(),
    "bucket": pl.String(),
    "window_days": pl.Int32(),
    "downloads": pl.Int64(),
    "snapshot_date": pl.Date(),
}


def _in_buckets(models: pl.DataFrame, buckets: list[str] | None) -> pl.DataFrame:
    """The models a window can be asked of: released, sized (of ``buckets``, if given)."""
    models = models.drop_nulls(["released", "bucket", "key"])
    return models if buckets is None else models.filter(pl.col("bucket").is_in(buckets))


def _picked(store: Store, models: pl.DataFrame, windows: tuple[int, ...]) -> pl.DataFrame:
    """Per model of ``models`` and covered window: key, window_days, downloads (all time),
    snapshot_date: the snapshot nearest release + window days (ties: the earlier) among
    those within the window's tolerance that hold a row of the model.

    Which snapshot rows can matter is known before any is read, from the release dates and
    the snapshot dates alone: of each date, the models released one window (give or take
    its tolerance) before it, a few percent of its rows. Each date is read on its own (two
    columns), and those models' rows are found in it by binary search over its keys, which
    its file holds sorted; a date no window reaches is not read at all.
    """
    wanted = _wanted(models, store.snapshot_dates(), windows)
    found = []
    # A few dates at a time: decoded side by side on the cores, held briefly (~30 MB each).
    for start in range(0, len(wanted), _DATES_AT_ONCE):
        batch = wanted[start : start + _DATES_AT_ONCE]
        held = _held(store, [date for date, _ in batch])
        for rows, (date, want) in zip(held, batch, strict=True):
            found.append(_rows_in(rows, want, date))
    if not found:
        return pl.DataFrame(schema=_PICKED)
    rows = pl.concat(found)
    # Nearest first, then the earlier: one integer per row, its least kept per model and
    # window (a window function: a sort of every candidate row costs four times as much).
    day = pl.col("date").cast(pl.Int64)
    rank = pl.col("off").cast(pl.Int64) * 2**32 + (day - day.min())
    pair = pl.col("key").cast(pl.Int64) * 2**32 + pl.col("window_days")
    return (
        rows.with_columns(rank.alias("rank"))
        .filter(pl.col("rank") == pl.col("rank").min().over(pair))
        .unique(["key", "window_days"], keep="first", maintain_order=True)
        .select(
            "key",
            "window_days",
            pl.col("downloads_all_time").alias("downloads"),
            pl.col("date").alias("snapshot_date"),
        )
    )


_PICKED = {
    "key": pl.Int32(),
    "window_days": pl.Int32(),
    "downloads": pl.Int64(),
    "snapshot_date": pl.Date(),
}


def _wanted(
    models: pl.DataFrame, dates: list[dt.date], windows: tuple[int, ...]
) -> list[tuple[dt.date, pl.DataFrame]]:
    """Per snapshot date some window can pick: the models it can be picked for (key,
    window_days, off: days from the window's exact age)."""
    by_release = models.select("key", pl.col("released").cast(pl.Int32)).sort("released")
    released = by_release["released"].to_numpy()
    keys = by_release["key"]
    wanted = []
    for date in dates:
        day = (date - _EPOCH).days
        parts = []
        for days in windows:
            tolerance = max(1, round(days * 0.1))
            # Released between (day - days - tolerance) and (day - days + tolerance), but
            # never after the date itself (an age below zero is no window's).
            first = int(np.searchsorted(released, day - days - tolerance, side="left"))
            last = int(np.searchsorted(released, min(day - days + tolerance, day), side="right"))
            if last > first:
                age = day - released[first:last]
                parts.append(
                    pl.DataFrame(
                        {
                            "key": keys[first:last],
                            "window_days": pl.Series(np.full(last - first, days), dtype=pl.Int32),
                            "off": pl.Series(np.abs(age - days), dtype=pl.Int32),
                        }
                    )
                )
        if parts:
            wanted.append((date, pl.concat(parts)))
    return wanted


_DATES_AT_ONCE = 4


def _held(store: Store, dates: list[dt.date]) -> list[pl.DataFrame]:
    """Each date's snapshot rows: key, downloads_all_time."""
    try:
        return pl.collect_all(
            store.scan_snapshots(keyed=True, dates=[date]).select("key", "downloads_all_time")
            for date in dates
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise store.damage("snapshots", exc) from exc


def _rows_in(held: pl.DataFrame, want: pl.DataFrame, date: dt.date) -> pl.DataFrame:
    """The rows of ``want`` whose model ``held`` (the snapshot of ``date``) has, with that
    row's ``downloads_all_time`` and the ``date``."""
    keys = held["key"].to_numpy()
    if held["key"].null_count() or not bool(np.all(keys[1:] > keys[:-1])):
        # Not one row per key in key order (a date whose older by-id file the store
        # joined to keys): a join finds every row as well, at a hash lookup a row.
        found = want.join(held, on="key")
    else:
        wanted = want["key"].to_numpy()
        # Searched in key order (then put back in ``want``'s): probes that walk the keys
        # forwards hit the cache; in release order each one is a miss, ~3x the time.
        order = np.argsort(wanted, kind="stable")
        at = np.empty(len(wanted), dtype=np.int64)
        at[order] = np.searchsorted(keys, wanted[order])
        at = at.clip(0, max(len(keys) - 1, 0))
        hit = keys[at] == wanted if len(keys) else np.zeros(len(wanted), dtype=bool)
        found = want.filter(pl.Series(hit)).with_columns(held["downloads_all_time"].gather(at[hit]))
    return found.with_columns(pl.lit(date, pl.Date).alias("date"))


def adoption(
    store: Store,
    graph: ModelGraph | None = None,
    *,
    model: str | None = None,
    family: str | None = None,
    peers: int = 10,
) -> pl.DataFrame:
    """RAM for one model, or for every model of a family (root and descendants).

    Columns: id, bucket, window_days, downloads, peer_median, peers, ram.
    A window the snapshots do not cover, or a model without a size, has no row. A family
    needs the ``graph`` (its descendants); one model does not (found in the store, exact id
    first, else in any case).
    """
    if (model is None) == (family is None):
        raise InputError("give either {model} or {family}", params=("model", "family"))
    name = model or family
    assert name is not None  # one of them, checked above
    models = _sized_models(store)
    if model is not None:
        ids = _one_model(store, models, model)
    else:
        if graph is None:
            from .graph import build_graph

            graph = build_graph(store)
        idx = graph.index_of(name)
        if idx is None:
            raise NotInStore(f"no model named '{name}' in the store at {store.path}")
        ids = pl.DataFrame({"id": graph.ids(graph.descendants(idx))})
    targets = models.join(ids, on="id", how="semi")
    buckets = targets.select("bucket").drop_nulls()["bucket"].unique().to_list()
    sized = _in_buckets(models, buckets)
    picked = _picked(store, sized, WINDOWS).join(sized.select("key", "bucket"), on="key")
    return _relative(picked, targets.select("key", "id"), peers)


def _relative(picked: pl.DataFrame, targets: pl.DataFrame, peers: int) -> pl.DataFrame:
    """RAM of the ``targets`` (key, id) among ``picked`` (key, bucket, window_days,
    downloads): each against the median of the top ``peers`` others of its bucket and
    window by downloads. A model whose downloads the snapshot lacks (a dump without the
    all-time counter) has no RAM and is nobody's peer: unknown is not most downloaded."""
    group = ["bucket", "window_days"]
    # A group's top peers + 1 hold the top peers of each of its models but that model.
    top = (
        picked.drop_nulls("downloads")
        .sort("downloads", descending=True)
        .group_by(group, maintain_order=True)
        .head(peers + 1)
        .select(*group, pl.col("key").alias("peer"), pl.col("downloads").alias("peer_downloads"))
    )
    mine = picked.join(targets, on="key").with_row_index("row")
    pool = pl.col("peer_downloads").head(peers)
    pools = (
        mine.select("row", "key", *group)
        .join(top, on=group, maintain_order="left_right")
        .filter(pl.col("peer") != pl.col("key"))
        .group_by("row", maintain_order=True)
        .agg(pool.median().alias("peer_median"), pool.len().alias("peers"))
    )
    median = pl.col("peer_median")
    return (
        mine.join(pools, on="row", how="left")
        .with_columns(
            pl.col("peers").fill_null(0),
            pl.when(median.is_not_null() & (median != 0))
            .then(pl.col("downloads") / median)
            .alias("ram"),
        )
        .select(list(_RAM))
        .cast(_RAM)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
        .sort("id", "window_days")
    )


_RAM = {
    "id": pl.String(),
    "bucket": pl.String(),
    "window_days": pl.Int32(),
    "downloads": pl.Int64(),
    "peer_median": pl.Float64(),
    "peers": pl.Int32(),
    "ram": pl.Float64(),
}
