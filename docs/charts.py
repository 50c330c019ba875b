"""Draw the example charts in docs/ (run: python docs/charts.py [OUTPUT_DIR [MODELS]]).

Each chart is what `lineage share --plot`, `lineage share --metric both --plot` and
`lineage families --plot` draw, on a seeded synthetic population
(lineage.testing.synthetic, built to follow the published regional trend), so the charts
are reproducible and say nothing about the real Hub:

- share.png: monthly share of new derivatives by root region, with the count strip;
  the first months of the population have few derivatives and are hatched, the last one
  (the store's observation date falls in it) is marked partial.
- share-family.png: the same by root family: 8 of several hundred families named, the
  biggest of each part of the period, the rest as one grey band.
- share-both.png: derivative share (areas) against download share (dark dashed lines),
  from monthly snapshots: every snapshot holds the models created before its date, each
  with last-30-days downloads that fade as the model ages.
- share-both-one-snapshot.png: the same with a single snapshot, which is not a series.
- families.png: the top root families by derivatives, by relation.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import polars as pl

from lineage.analysis import download_share, families, load_context, share
from lineage.charts import plot_families, plot_share
from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.synthetic import generate

SEEN = dt.datetime(2026, 6, 12, tzinfo=dt.UTC)  # a crawl on that day: June is partial
REGION_TITLE = "Share of new derivative models by region of the root family"


def snapshot_dates(first: dt.date, last: dt.date) -> list[dt.date]:
    """The 15th of every month from ``first`` to ``last``."""
    dates, (y, m) = [], (first.year, first.month)
    while (y, m) <= (last.year, last.month):
        dates.append(dt.date(y, m, 15))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return dates


def build_store(path: Path, models: int, snapshots: list[dt.date]) -> Store:
    """A store of a synthetic population, with one snapshot per date in ``snapshots``.

    At each date the store sees the models created before it; a model's last-30-days
    downloads are its generated count scaled by how recent it is (half-life 120 days).
    """
    population = generate(models, seed=7)
    store = Store(path)
    seen = population.raw.filter(pl.col("created_at") < SEEN)  # what a crawl that day sees
    store.commit(parse_raw(seen, seen_at=SEEN, source="synthetic"))
    for day in snapshots:
        when = dt.datetime.combine(day, dt.time(), dt.UTC)
        age = (pl.lit(when) - pl.col("created_at")).dt.total_days()
        raw = population.raw.filter(pl.col("created_at") < when).with_columns(
            (pl.col("downloads") * (0.5 ** (age / 120.0)) + 1).cast(pl.Int64).alias("downloads")
        )
        store.commit(parse_raw(raw, seen_at=when, source="synthetic"), snapshot_date=day)
    return store


def draw(out: Path, models: int = 20_000) -> list[Path]:
    """Write the five charts into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    dates = snapshot_dates(dt.date(2025, 1, 1), dt.date(2026, 5, 1))
    ctx = load_context(build_store(tmp / "series", models, dates))
    result = share(ctx)
    written = [
        plot_share(
            result.table,
            out / "share.png",
            title=REGION_TITLE,
            subtitle=result.description + " (synthetic population)",
            counts=result.counts,
            partial=result.partial,
        )
    ]
    by_family = share(ctx, by="family")
    written.append(
        plot_share(
            by_family.table,
            out / "share-family.png",
            title="Share of new derivative models by root family",
            subtitle=by_family.description + " (synthetic population)",
            counts=by_family.counts,
            partial=by_family.partial,
        )
    )
    since = share(ctx, since="2025-01")
    downloads = download_share(ctx, since="2025-01")
    written.append(
        plot_share(
            since.table,
            out / "share-both.png",
            title=REGION_TITLE + " (dashed: share of downloads)",
            subtitle=since.description + " (synthetic population)",
            counts=since.counts,
            overlay=downloads.table,
        )
    )
    one = load_context(build_store(tmp / "one", models, dates[-1:]))
    one_result = share(one, since="2025-01")
    written.append(
        plot_share(
            one_result.table,
            out / "share-both-one-snapshot.png",
            title=REGION_TITLE + " (download share: one snapshot, not drawn)",
            subtitle=one_result.description + " (synthetic population)",
            counts=one_result.counts,
            overlay=download_share(one, since="2025-01").table,
        )
    )
    top = families(ctx, top=12)
    written.append(
        plot_families(
            top,
            out / "families.png",
            title="Top 12 root families by derivative models\n"
            "every derivative in the store, any downloads (synthetic population)",
        )
    )
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
    for path in draw(target, int(sys.argv[2]) if len(sys.argv) > 2 else 20_000):
        print(path)
