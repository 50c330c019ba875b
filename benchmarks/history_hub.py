"""A synthetic Hub with a history: weekly hub-stats dumps of a Hub that grows and loses models.

Used by ``bench_history.py`` and the README's offline backfill example. The final Hub is
``bench_ingest.generate`` (the real dump schema: tags, cards, safetensors, baseModels, gguf),
re-dated so that it grows linearly over the weeks asked (by default from 82% to 100% of its
final size over 110 weeks, which makes about 250M snapshot rows at 2.5M models), with 1% of
models deleted some week after their creation. Each week's dump holds the models that exist
that day with their counters then: all-time downloads grow with age towards the final
count, last-30-days downloads drift from week to week.

    python benchmarks/history_hub.py ARCHIVE --models 20000 --weeks 12
        writes ARCHIVE/models/YYYY-MM-DD/models.parquet for each week (an archive to backfill)
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import generate

CACHE = Path(tempfile.gettempdir()) / "lineage-bench-history"
END = dt.date(2026, 3, 4)  # a Wednesday: the newest dump
FIRST_HUB = 0.82  # the Hub's size at the first dump, as a fraction of its final size


def week_dates(weeks: int, end: dt.date = END) -> list[dt.date]:
    """The dump dates, oldest first, one a week, ending at ``end``."""
    return [end - dt.timedelta(weeks=weeks - 1 - k) for k in range(weeks)]


def final_hub(models: int, weeks: int, seed: int = 7) -> Path:
    """The final Hub with each model's creation date, deletion week and final counters
    (cached on disk: generating 2.5M models takes a minute)."""
    path = CACHE / f"hub-{models}-{weeks}-{seed}.parquet"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    frame = with_known_organizations(generate(models, seed))
    n = frame.height
    rng = np.random.default_rng(seed + 1)
    dates = week_dates(weeks)
    first = np.datetime64(dates[0]).astype("datetime64[s]").astype(np.int64)
    last = np.datetime64(dates[-1]).astype("datetime64[s]").astype(np.int64)
    floor = np.datetime64("2022-03-02").astype("datetime64[s]").astype(np.int64)
    # Rows are in creation order (parents before children): keep it, re-date it.
    rank = np.arange(n) / max(n - 1, 1)
    before = rank < FIRST_HUB
    created = np.where(
        before,
        floor + (rank / FIRST_HUB) * (first - floor),
        first + ((rank - FIRST_HUB) / (1 - FIRST_HUB)) * (last - first),
    ).astype(np.int64)
    created_week = np.clip(np.ceil((created - first) / (7 * 86400)), 0, weeks).astype(np.int64)
    deleted = rng.random(n) < 0.01
    deleted_week = np.where(
        deleted, created_week + 1 + rng.integers(0, max(weeks, 1), n), weeks + 1
    )
    frame = frame.with_columns(
        pl.Series("createdAt", created * 1_000_000).cast(pl.Datetime("us")),
        pl.Series("created_week", created_week),
        pl.Series("deleted_week", deleted_week),
        (
            pl.Series("createdAt", created * 1_000_000).cast(pl.Datetime("us"))
            + pl.duration(days=3)
        ).alias("lastModified"),
    )
    tmp = path.with_suffix(".tmp")
    frame.write_parquet(tmp, compression="lz4")  # read 110 times: fast to decode
    tmp.rename(path)
    print(
        f"generated the final Hub {path} ({n:,} models) in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return path


def with_known_organizations(frame: pl.DataFrame) -> pl.DataFrame:
    """bench_ingest's 50 root organizations (``org-0`` ...) renamed to organizations of the
    packaged region table, everywhere an id appears, so shares by region have regions."""
    from lineage.regions import load_regions

    known = load_regions().sort("org")["org"].head(50).to_list()
    old = [f"org-{k}/" for k in range(len(known))]
    new = [f"{org}/" for org in known]

    def renamed(expr: pl.Expr) -> pl.Expr:
        return expr.str.replace_many(old, new)

    models = pl.col("baseModels").struct.field("models")
    return frame.with_columns(
        renamed(pl.col("id")),
        pl.col("author").replace_strict(
            [o.rstrip("/") for o in old], [n.rstrip("/") for n in new], default=pl.col("author")
        ),
        pl.col("tags").list.eval(renamed(pl.element())),
        renamed(pl.col("cardData")),
        pl.when(pl.col("baseModels").is_not_null())
        .then(
            pl.struct(
                pl.col("baseModels").struct.field("relation"),
                models.list.eval(
                    pl.struct(
                        pl.element().struct.field("_id"),
                        renamed(pl.element().struct.field("id")).alias("id"),
                    )
                ).alias("models"),
            )
        )
        .alias("baseModels"),
    )


def week_dump(hub: Path | pl.DataFrame, weeks: int, week: int, out: Path) -> int:
    """Write week ``week``'s dump (0 = oldest) to ``out``; return its rows. ``hub``: the
    final Hub's file, or the final Hub already read (``serve``: read once for many weeks)."""
    day = week_dates(weeks)[week]
    now = pl.lit(dt.datetime.combine(day, dt.time(), dt.UTC).replace(tzinfo=None))
    age = ((now - pl.col("createdAt")).dt.total_days().clip(0) + 1).cast(pl.Float64)
    grown = (age / 365.0).clip(upper_bound=1.0).pow(0.7)
    drift = ((pl.col("id").hash(week) % 1000).cast(pl.Float64) / 1000.0) + 0.5
    source = hub.lazy() if isinstance(hub, pl.DataFrame) else pl.scan_parquet(hub)
    frame = (
        source.filter((pl.col("created_week") <= week) & (pl.col("deleted_week") > week))
        .with_columns(
            (pl.col("downloadsAllTime").cast(pl.Float64) * grown).cast(pl.Int64),
            (pl.col("downloads").cast(pl.Float64) * drift).cast(pl.Int64),
        )
        .drop("created_week", "deleted_week")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    frame.sink_parquet(tmp, compression="snappy")  # as fast to write as to read back
    tmp.rename(out)
    return pl.scan_parquet(out).select(pl.len()).collect().item()


def serve(models: int, weeks: int, seed: int) -> None:
    """Write dumps on request: a line ``WEEK PATH`` on stdin writes that week's dump to PATH,
    then ``ROWS`` is printed on stdout. The final Hub is read once: reading it (about 10 s of
    CPU at 2.5M models, most of it card text) for each of 110 weeks would cost more than the
    backfill being measured beside it."""
    hub = pl.read_parquet(final_hub(models, weeks, seed))
    for line in sys.stdin:
        week, out = line.split(maxsplit=1)
        print(week_dump(hub, weeks, int(week), Path(out.strip())), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="directory to write the weekly dumps under")
    parser.add_argument("--models", type=int, default=20_000, help="the final Hub's size")
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--week", type=int, help=argparse.SUPPRESS)  # one week only
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)  # ... written here
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # see serve()
    args = parser.parse_args()
    if args.serve:
        serve(args.models, args.weeks, args.seed)
        return
    hub = final_hub(args.models, args.weeks, args.seed)
    weeks = [args.week] if args.week is not None else range(args.weeks)
    for week in weeks:
        day = week_dates(args.weeks)[week]
        out = args.archive / "models" / day.isoformat() / "models.parquet"
        if args.out is not None:
            out = args.out
        rows = week_dump(hub, args.weeks, week, out)
        print(f"{out}: {rows:,} models", file=sys.stderr)


if __name__ == "__main__":
    main()
