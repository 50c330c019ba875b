"""History at scale: a weekly backfill of a growing Hub, then the questions asked of it.

Synthetic (``history_hub.py``): ``--weeks`` weekly hub-stats dumps (default 110) of a Hub
growing to ``--models`` models (default 2.5M; about 250M snapshot rows in all), in the real
dump schema. Measured, each in a child process pinned to 2 CPUs (POLARS_MAX_THREADS=2):

1. **backfill**: ``lineage.backfill.backfill`` over every week, newest first, one commit a
   date, as ``lineage ingest hub-stats ARCHIVE`` runs it. The dumps are written just in time
   by a separate process (a 110-week archive would take ~80 GB) and deleted after their
   ingest; that generation is timed apart and left out of the backfill's time. Peak memory
   is the backfill process's own.
2. **history on disk**: the store's snapshots (and the whole store).
3. ``lineage share --metric downloads`` over the whole history, ``lineage adoption MODEL``,
   ``lineage snapshots``: wall time and peak memory of the command.

Each against a competent polars baseline measured in the same run on the same dumps: the
backfill's is the least any backfill must do (each dump's id and counters written as a
date partition with string ids, ``sink_parquet``); its partitions are also the baseline
layout for disk; the query baselines are the same questions asked of that layout in
vectorised polars (the download share given lineage's attribution export).

Targets (issue 20): history on disk <= 3 GB; backfill <= 30 min, peak <= 6 GB; share
--metric downloads <= 60 s and <= 8 GB; adoption <= 5 s; snapshots <= 2 s.

    python benchmarks/bench_history.py                       # 110 weeks, 2.5M models
    python benchmarks/bench_history.py --weeks 12 --models 50000   # a few minutes
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def measured(command: list[str]) -> dict:
    """bench_ingest's :func:`measured`, imported only by the parent: importing that module
    builds its card text (about a second of CPU), which a timed child must not pay."""
    from bench_ingest import measured as run

    return run(command)


def final_hub(models: int, weeks: int, seed: int):
    from history_hub import final_hub as make

    return make(models, weeks, seed)


def week_dates(weeks: int) -> list[dt.date]:
    from history_hub import week_dates as dates

    return dates(weeks)


TARGETS = {
    "disk_gb": 3.0,
    "backfill_s": 30 * 60,
    "backfill_gb": 6.0,
    "share_s": 60.0,
    "share_gb": 8.0,
    "adoption_s": 5.0,
    "snapshots_s": 2.0,
}


def rusage() -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}


# -- children ---------------------------------------------------------------------------------


def backfill_child(store: str, work: str, models: int, weeks: int, seed: int) -> None:
    """The backfill, with the baseline's conversion of each dump timed beside it."""
    from lineage.backfill import DatedDump, backfill
    from lineage.store import Store

    final_hub(models, weeks, seed)  # cached by the parent: only its path is used below
    base = Path(work) / "baseline-snapshots"
    clock = {"generate": 0.0, "baseline": 0.0, "rows": 0}
    previous: list[Path] = []

    def convert_previous() -> None:
        for path in previous:  # the dump ingested last: the baseline reads it, then away
            started = time.perf_counter()
            day = path.parent.name
            (
                pl.scan_parquet(path)
                .select("id", "downloads", "downloadsAllTime", "likes")
                .sort("id")
                .sink_parquet(_mkdir(base / f"date={day}") / "part-0.parquet")
            )
            clock["baseline"] += time.perf_counter() - started
            path.unlink()
        previous.clear()

    def fetch_week(week: int):
        def fetch() -> Path:
            convert_previous()
            started = time.perf_counter()
            out = Path(work) / "dumps" / week_dates(weeks)[week].isoformat() / "models.parquet"
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "history_hub.py"),
                    str(Path(work) / "archive"),
                    "--models",
                    str(models),
                    "--weeks",
                    str(weeks),
                    "--seed",
                    str(seed),
                    "--week",
                    str(week),
                    "--out",
                    str(out),
                ],
                check=True,
                stderr=subprocess.DEVNULL,
            )
            clock["generate"] += time.perf_counter() - started
            previous.append(out)
            with open(Path(work) / "progress.log", "a") as log:  # to follow a long run
                done = time.perf_counter() - begun - clock["generate"] - clock["baseline"]
                print(
                    f"{time.strftime('%H:%M:%S')} week {week} generated; so far: ingest "
                    f"{done:.0f} s, generation {clock['generate']:.0f} s, baseline "
                    f"{clock['baseline']:.0f} s, peak {rusage()['rss_mb']:,.0f} MB",
                    file=log,
                )
            return out

        return fetch

    begun = time.perf_counter()
    dumps = [
        DatedDump(f"week {k}", day, "path", fetch=fetch_week(k))
        for k, day in enumerate(week_dates(weeks))
    ]
    started = time.perf_counter()
    summary = backfill(Store(store), dumps)
    convert_previous()
    wall = time.perf_counter() - started
    report = {
        **rusage(),
        "backfill_wall": wall - clock["generate"] - clock["baseline"],
        "generate": clock["generate"],
        "baseline": clock["baseline"],
        "rows": summary.rows,
        "dates": len(summary.dates),
    }
    print(json.dumps(report))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def cli_child(*args: str) -> None:
    """One lineage command, its stdout dropped; wall, CPU and peak memory on stdout."""
    from lineage.cli import cli

    started = time.perf_counter()
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        try:
            cli.main(list(args), prog_name="lineage", standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise
    print(json.dumps({**rusage(), "inner": time.perf_counter() - started}))


def baseline_child(kind: str, work: str, *rest: str) -> None:
    """The same questions in plain polars over the baseline layout (string-id partitions)."""
    snapshots = pl.scan_parquet(Path(work) / "baseline-snapshots", hive_partitioning=True)
    started = time.perf_counter()
    if kind == "snapshots":
        snapshots.group_by("date").agg(
            pl.len(), pl.col("downloads").sum(), pl.col("downloadsAllTime").sum()
        ).sort("date").collect(engine="streaming")
    elif kind == "share":
        attribution = pl.scan_parquet(rest[0]).select("model", "root_region", "weight")
        dates = snapshots.select("date").unique().collect()
        last = dates.group_by(pl.col("date").dt.truncate("1mo").alias("month")).agg(
            pl.col("date").max()
        )
        (
            snapshots.join(last.lazy(), on="date")
            .select("month", pl.col("id").alias("model"), "downloads")
            .join(attribution, on="model")
            .group_by("month", "root_region")
            .agg((pl.col("downloads") * pl.col("weight")).sum().alias("weight"))
            .with_columns((pl.col("weight") / pl.col("weight").sum().over("month")).alias("share"))
            .collect(engine="streaming")
        )
    elif kind == "adoption":
        model, models = rest
        released = (
            pl.scan_parquet(models)
            .select("id", pl.col("created_at").dt.date().alias("released"), "parameters")
            .with_columns(_bucket().alias("bucket"))
            .drop_nulls("bucket")
        )
        bucket = released.filter(pl.col("id") == model).select("bucket").collect().item()
        peers = released.filter(pl.col("bucket") == bucket)
        near = (
            snapshots.select("id", "date", "downloadsAllTime")
            .join(peers, on="id")
            .with_columns((pl.col("date") - pl.col("released")).dt.total_days().alias("age"))
            .filter(pl.col("age").is_between(0, 402))
            .collect(engine="streaming")
        )
        for days in (7, 14, 30, 60, 90, 180, 365):
            at = (
                near.with_columns((pl.col("age") - days).abs().alias("off"))
                .filter(pl.col("off") <= max(1, round(days * 0.1)))
                .sort("off", "date")
                .group_by("id")
                .first()
            )
            mine = at.filter(pl.col("id") == model)
            top = at.filter(pl.col("id") != model).top_k(10, by="downloadsAllTime")
            _ = (mine["downloadsAllTime"], top["downloadsAllTime"].median())
    print(json.dumps({**rusage(), "inner": time.perf_counter() - started}))


def _bucket() -> pl.Expr:
    from lineage.adoption import size_bucket

    return size_bucket(pl.col("parameters"))


# -- the run ----------------------------------------------------------------------------------


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pick_model(store: Path, weeks: int) -> str:
    """A model released about a year before the last dump, with a size: every window covered
    by the history (short histories: the oldest model released during it)."""
    from lineage.adoption import size_bucket
    from lineage.store import Store

    first, last = week_dates(weeks)[0], week_dates(weeks)[-1]
    target = max(first + dt.timedelta(days=1), last - dt.timedelta(days=366))
    models = (
        Store(store)
        .read("models", columns=["id", "created_at", "parameters", "downloads_all_time"])
        .filter(size_bucket(pl.col("parameters")).is_not_null())
        .filter(pl.col("created_at").dt.date() >= target)
        .sort("created_at", "downloads_all_time", descending=[False, True])
    )
    return models["id"][0]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":  # lineage's own options pass through
        kind, *rest = sys.argv[2:]
        if kind == "backfill":
            backfill_child(rest[0], rest[1], int(rest[2]), int(rest[3]), int(rest[4]))
        elif kind == "cli":
            cli_child(*rest)
        else:
            baseline_child(*rest)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=2_500_000)
    parser.add_argument("--weeks", type=int, default=110)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, help="keep the store and baseline here")
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="skip the backfill: measure disk and the questions on the store and baseline "
        "already in --work (e.g. a backfill stopped part way: it says how many dates it holds)",
    )
    args = parser.parse_args()
    if args.queries_only and args.work is None:
        parser.error("--queries-only needs --work")

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-history-"))
    store = work / "store"
    me = [sys.executable, __file__, "--child"]
    if args.queries_only:
        from lineage.store import Store

        held = Store(store).snapshot_dates()
        rows = sum(
            pl.scan_parquet(p).select(pl.len()).collect().item()
            for p in (store / "snapshots").rglob("*.parquet")
        )
        print(
            f"queries only, on the store in {work}: {len(held)} dates ({held[0]} to "
            f"{held[-1]}), {rows:,} snapshot rows; load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        fill = None
    else:
        if store.exists():
            shutil.rmtree(store)
        shutil.rmtree(work / "baseline-snapshots", ignore_errors=True)
        final_hub(args.models, args.weeks, args.seed)  # generated (and cached) before timing
        print(
            f"{args.weeks} weekly dumps of a Hub growing to {args.models:,} models; load "
            f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (runs pinned to 2)",
            flush=True,
        )
        fill = measured(
            [
                *me,
                "backfill",
                str(store),
                str(work),
                str(args.models),
                str(args.weeks),
                str(args.seed),
            ]
        )
        print(
            f"backfill: {fill['dates']} dates, {fill['rows']:,} rows in "
            f"{fill['backfill_wall']:.0f} s (dumps generated apart in {fill['generate']:.0f} s), "
            f"peak {fill['rss_mb']:,.0f} MB; baseline (id + counters to a date partition) "
            f"{fill['baseline']:.0f} s",
            flush=True,
        )
    history = du(store / "snapshots")
    baseline_disk = du(work / "baseline-snapshots")
    attribution = work / "attribution.parquet"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "lineage",
            "export",
            "attribution",
            "-o",
            str(attribution),
            "--store",
            str(store),
            "-q",
        ],
        check=True,
    )
    model = pick_model(store, args.weeks)
    models_file = work / "models-for-baseline.parquet"
    from lineage.store import Store

    Store(store).read("models", columns=["id", "created_at", "parameters"]).write_parquet(
        models_file
    )
    runs = {}
    for name, command, base in (
        ("share", ["share", "--metric", "downloads"], ["share", str(attribution)]),
        ("adoption", ["adoption", model], ["adoption", model, str(models_file)]),
        ("snapshots", ["snapshots"], ["snapshots"]),
    ):
        ours = measured([*me, "cli", *command, "--store", str(store)])
        theirs = measured([*me, "baseline", base[0], str(work), *base[1:]])
        runs[name] = (ours, theirs)
        # CPU seconds beside wall: on a loaded machine the wall time is mostly waiting.
        print(
            f"{name}: lineage {ours['wall']:.2f} s ({ours['cpu']:.2f} s CPU), "
            f"{ours['rss_mb']:,.0f} MB; polars baseline {theirs['wall']:.2f} s "
            f"({theirs['cpu']:.2f} s CPU), {theirs['rss_mb']:,.0f} MB",
            flush=True,
        )

    print()
    print(f"{'measure':<34} {'lineage':>12} {'baseline':>12} {'ratio':>7} {'target':>10}  met")
    rows = [("history on disk (GB)", history / 1e9, baseline_disk / 1e9, TARGETS["disk_gb"])]
    if fill is not None:
        rows += [
            ("backfill wall (s)", fill["backfill_wall"], fill["baseline"], TARGETS["backfill_s"]),
            ("backfill peak memory (GB)", fill["rss_mb"] / 1024, None, TARGETS["backfill_gb"]),
        ]
    rows += [
        (
            "share --metric downloads (s)",
            runs["share"][0]["wall"],
            runs["share"][1]["wall"],
            TARGETS["share_s"],
        ),
        (
            "share --metric downloads (GB)",
            runs["share"][0]["rss_mb"] / 1024,
            runs["share"][1]["rss_mb"] / 1024,
            TARGETS["share_gb"],
        ),
        (
            "adoption MODEL (s)",
            runs["adoption"][0]["wall"],
            runs["adoption"][1]["wall"],
            TARGETS["adoption_s"],
        ),
        (
            "snapshots (s)",
            runs["snapshots"][0]["wall"],
            runs["snapshots"][1]["wall"],
            TARGETS["snapshots_s"],
        ),
    ]
    for name, ours, theirs, target in rows:
        ratio = f"{ours / theirs:.2f}" if theirs else "-"
        base = f"{theirs:.2f}" if theirs is not None else "-"
        print(
            f"{name:<34} {ours:>12.2f} {base:>12} {ratio:>7} {target:>10.1f}  "
            f"{'yes' if ours <= target else 'NO'}"
        )
    print(f"store on disk: {du(store) / 1e9:.2f} GB; adoption of {model}; work dir {work}")
    print(f"load average now {os.getloadavg()[0]:.1f} (times suffer when it exceeds 2)")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
