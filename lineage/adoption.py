"""RAM, the Relative Adoption Metric: a model's early downloads against its peers'.

For a model and a window of D days after its release (D in 7, 14, 30, 60, 90, 180, 365),
its *cumulative downloads* are the all-time download counter of the store's snapshot
nearest to release + D days (within 10% of D, at least one day; otherwise the window is
not covered). Its *peers* are the other models in the same parameter-size bucket whose
window D is covered; RAM_D is the model's cumulative downloads divided by the median of
its top ``peers`` peers (10 by default) at the same window.

Limits, by construction: RAM needs snapshots taken around each window (successive crawls
or hub-stats dumps); a model without a known size (safetensors metadata) has no bucket;
peers are only the models in the store; release dates are the Hub's ``createdAt`` (repos
created before publication, or floored at 2022-03-02, shift every window).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np
import polars as pl

from .errors import InputError, NotInStore
from .graph import ModelGraph
from .store import Store

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

# A release day no snapshot can be near: keys of models outside the question (no size, other
# buckets, never observed) point at it.
_NO_DAY = -(10**9)

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
    models = models.drop_nulls(["released", "bucket"])
    if buckets is not None:
        models = models.filter(pl.col("bucket").is_in(buckets))
    schema = {
        "id": pl.String(),
        "bucket": pl.String(),
        "window_days": pl.Int32(),
        "downloads": pl.Int64(),
        "snapshot_date": pl.Date(),
    }
    if not models.height or not store.snapshot_dates():
        return pl.DataFrame(schema=schema)
    reach = max(windows) + max(1, round(max(windows) * 0.1))
    near = _near_release(store, models, windows, reach)
    frames = []
    for days in windows:
        tolerance = max(1, round(days * 0.1))
        frames.append(
            near.with_columns((pl.col("age") - days).abs().alias("off"))
            .filter(pl.col("off") <= tolerance)
            .sort("off", "date")
            .group_by("key", maintain_order=True)
            .first()
            .select(
                "key",
                pl.lit(days).cast(pl.Int32).alias("window_days"),
                pl.col("downloads_all_time").alias("downloads"),
                pl.col("date").alias("snapshot_date"),
            )
        )
    found = pl.concat(frames).join(models.select("key", "id", "bucket"), on="key")
    return found.select(list(schema)).cast(schema).sort("id", "window_days")  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema


def _near_release(
    store: Store, models: pl.DataFrame, windows: tuple[int, ...], reach: int
) -> pl.DataFrame:
    """Every snapshot row of a model in ``models`` taken 0 to ``reach`` days after its
    release and within some window's tolerance: key, date, age (days), downloads_all_time.

    Snapshot keys are small dense integers (given at first sight), so each row finds its
    model's release day by indexing an array: a hash join of every snapshot row (hundreds
    of millions over a long history) against the models costs twice the scan itself.
    """
    keys = models.filter(pl.col("key").is_not_null())
    if not keys.height or keys["key"].min() < 0:  # type: ignore[operator]
        return _near_release_by_join(store, models, reach)
    size = int(keys["key"].max()) + 1  # type: ignore[arg-type]
    released = np.full(size, _NO_DAY, dtype=np.int32)
    released[keys["key"].to_numpy()] = keys["released"].cast(pl.Int32).to_numpy()
    key = pl.col("key")
    age = pl.col("date").cast(pl.Int32) - pl.lit(pl.Series(released)).gather(key.clip(0, size - 1))
    try:
        return (
            store.scan_snapshots(keyed=True)
            .select("key", "date", "downloads_all_time")
            .filter(key.is_between(0, size - 1))
            .with_columns(age.cast(pl.Int64).alias("age"))
            .filter(pl.col("age").is_between(0, reach) & _in_some_window(windows))
            .select("key", "date", "age", "downloads_all_time")
            .collect(engine="streaming")
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise store.damage("snapshots", exc) from exc


def _in_some_window(windows: tuple[int, ...]) -> pl.Expr:
    """Whether a row's ``age`` is within the tolerance of one of ``windows`` (the only rows
    a window can pick)."""
    return pl.any_horizontal(
        (pl.col("age") - days).abs() <= max(1, round(days * 0.1)) for days in windows
    )


def _near_release_by_join(store: Store, models: pl.DataFrame, reach: int) -> pl.DataFrame:
    """:func:`_near_release` for keys no array can index (none, or negative)."""
    try:
        return (
            store.scan_snapshots(keyed=True)
            .select("key", "date", "downloads_all_time")
            .join(models.lazy().select("key", "released"), on="key")
            .with_columns((pl.col("date") - pl.col("released")).dt.total_days().alias("age"))
            .filter(pl.col("age").is_between(0, reach))
            .select("key", "date", "age", "downloads_all_time")
            .collect(engine="streaming")
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise store.damage("snapshots", exc) from exc


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
    buckets = (
        models.join(ids, on="id", how="semi")
        .select("bucket")
        .drop_nulls()["bucket"]
        .unique()
        .to_list()
    )
    cumulative = _cumulative(store, models, WINDOWS, buckets)
    targets = cumulative.join(ids, on="id", how="semi")
    rows = []
    for target in targets.iter_rows(named=True):
        pool = (
            cumulative.filter(
                (pl.col("bucket") == target["bucket"])
                & (pl.col("window_days") == target["window_days"])
                & (pl.col("id") != target["id"])
            )
            .sort("downloads", descending=True)
            .head(peers)
        )
        median = pool["downloads"].median() if pool.height else None
        rows.append(
            {
                **{k: target[k] for k in ("id", "bucket", "window_days", "downloads")},
                "peer_median": float(cast(float, median)) if median is not None else None,
                "peers": pool.height,
                "ram": (target["downloads"] / median) if median else None,
            }
        )
    schema = {
        "id": pl.String,
        "bucket": pl.String,
        "window_days": pl.Int32,
        "downloads": pl.Int64,
        "peer_median": pl.Float64,
        "peers": pl.Int32,
        "ram": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema).sort("id", "window_days")
