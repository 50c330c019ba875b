"""The dated snapshots of download counts a store keeps, and which crawl or ingest made each.

Library twin of ``lineage snapshots``. Reads the store only.

Each crawl-log row carries the date its counters were recorded under (``snapshot_date``):
the day a crawl started, the dump's date for a hub-stats ingest. Rows logged before the
store kept that column are dated by their start (UTC), which is right for crawls.
"""

from __future__ import annotations

import polars as pl

from . import derived
from .schema import SNAPSHOT_TOTALS_SCHEMA, SNAPSHOTS_SCHEMA
from .store import Store


def list_snapshots(store: Store) -> pl.DataFrame:
    """One row per snapshot date: models counted, sums of downloads, whether a complete
    observation (a whole-Hub sweep, a dump) made it, and its makers.

    ``made_by`` names each crawl or ingest that recorded counters under that date, oldest
    first, as ``<kind> <crawl_id> (<strategy>[: roots])``. The counters are read as the
    files hold them (by model key), two columns at a time, streaming.

    Examples
    --------
    >>> import tempfile
    >>> list_snapshots(Store(tempfile.mkdtemp())).columns
    ['date', 'models', 'downloads', 'downloads_all_time', 'complete', 'made_by']
    """
    if not store.snapshot_dates():
        return pl.DataFrame(schema=SNAPSHOTS_SCHEMA)
    dates = snapshot_totals(store)
    log = store.read("crawls").join(
        store.observations().select("crawl_id", "observed", "complete", "snapshot"),
        on="crawl_id",
        how="left",
        suffix="_seen",
    )
    roots = pl.col("roots").list.join(", ").fill_null("")
    label = pl.format(
        "{} {} ({})",
        "kind",
        "crawl_id",
        pl.when(roots != "")
        .then(pl.format("{}: {}", "strategy", roots))
        .otherwise(pl.col("strategy")),
    )
    makers = (
        log.filter(pl.col("snapshot").fill_null(True))
        .sort("started_at")
        .select(
            pl.col("observed_seen").alias("date"),
            label.alias("made_by"),
            pl.col("complete_seen").fill_null(False).alias("complete"),
        )
        .group_by("date", maintain_order=True)
        .agg("made_by", pl.col("complete").any())
    )
    return (
        dates.join(makers, on="date", how="left")
        .with_columns(
            pl.col("made_by").fill_null(pl.lit([], pl.List(pl.String()))),
            pl.col("complete").fill_null(False),
        )
        .sort("date")
        .select(list(SNAPSHOTS_SCHEMA))
        .cast(SNAPSHOTS_SCHEMA)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
    )


def snapshot_totals(store: Store) -> pl.DataFrame:
    """Per snapshot date: ``date``, ``models`` (rows), sums of ``downloads`` and
    ``downloads_all_time``, unordered.

    Each snapshot file keeps its totals (written with it, so of its own generation); the
    dates whose files keep none (written by an older lineage) or none that agree with the
    file are counted from their rows once per commit generation and kept in ``derived/``
    (:mod:`lineage.derived`: verified before use, rebuilt when missing or damaged).
    """
    known, unknown = store.snapshot_totals()
    if not unknown:
        return known

    def count() -> dict[str, pl.DataFrame]:
        try:
            counted = (
                store.scan_snapshots(keyed=True, dates=unknown)
                .group_by("date")
                .agg(
                    pl.len().alias("models"),
                    pl.col("downloads").sum(),
                    pl.col("downloads_all_time").sum(),
                )
                .collect(engine="streaming")
            )
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise store.damage("snapshots", exc) from exc
        return {"totals": counted.cast(SNAPSHOT_TOTALS_SCHEMA)}  # type: ignore[arg-type]

    parts, frames = derived.kept(store, "snapshot-totals", ("totals",), count)
    counted = parts.read("totals") if parts is not None else frames["totals"]  # type: ignore[index]
    if set(counted["date"]) != set(unknown):  # kept for other dates: not this question's
        counted = count()["totals"]
    return pl.concat([known, counted.select(list(SNAPSHOT_TOTALS_SCHEMA))])


def made_by_words(makers: list[str], *, width: int = 60) -> str:
    """Who made a snapshot, in a few words for a table: kinds and strategies, no crawl ids,
    repeats counted, cut at ``width`` characters with how many more there were.

    >>> made_by_words(["ingest 1a2b (hub-stats)"])
    'ingest (hub-stats)'
    >>> made_by_words(["crawl a (auto: Qwen)", "crawl b (auto: mistralai)", "crawl c (new)",
    ...                "crawl d (new)"], width=40)
    'crawl (auto: Qwen), +2 more'
    """
    counts: dict[str, int] = {}
    for maker in makers:
        kind, _, rest = maker.partition(" ")
        _, _, how = rest.partition(" ")
        words = f"{kind} {how}".strip()
        counts[words] = counts.get(words, 0) + 1
    parts = [f"{w} x{n}" if n > 1 else w for w, n in counts.items()]
    shown: list[str] = []
    for i, part in enumerate(parts):
        if shown and len(", ".join([*shown, part])) + len(f", +{len(parts)} more") > width:
            return ", ".join(shown) + f", +{len(parts) - i} more"
        shown.append(part if len(part) <= width else part[: width - 3] + "...")
    return ", ".join(shown)
