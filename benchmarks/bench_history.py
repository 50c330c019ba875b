"""History at scale: a weekly backfill of a growing Hub, then the questions asked of it.

Synthetic (``history_hub.py``): ``--weeks`` weekly hub-stats dumps (default 110) of a Hub
growing to ``--models`` models (default 2.5M; about 250M snapshot rows in all), in the real
dump schema. Measured, each in a child process pinned to 2 CPUs (POLARS_MAX_THREADS=2):

1. **backfill**: ``lineage.backfill.backfill`` over every week, newest first, one commit a
   date, as ``lineage ingest hub-stats ARCHIVE`` runs it. The dumps are written just in time
   by a separate process (which reads the final Hub once), one week ahead, beside the ingest
   (``--one-at-a-time``: between ingests, so each runs alone; a 110-week archive at 2.5M
   models would take ~150 GB: 1.4 GB a week), and deleted after their ingest; waiting for
   them is left out of the backfill's time, and its CPU seconds are printed beside its wall.
   Peak memory is the backfill process's own. ``--budget`` stops it before a new date once
   spent: the table then says how many dates were backfilled and marks the backfill's
   targets "partial: not measured".
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

    python benchmarks/bench_history.py --dumps /dev/shm/dumps    # 110 weeks, 2.5M models
    python benchmarks/bench_history.py --dumps /dev/shm/dumps --one-at-a-time  # ingest alone
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
from peak import self_peak_mb  # noqa: E402 (benchmarks/ on the path first)


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
    return {"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": self_peak_mb()}


# -- children ---------------------------------------------------------------------------------


def backfill_child(
    store: str,
    work: str,
    models: int,
    weeks: int,
    seed: int,
    dumps: str,
    budget: float,
    one_at_a_time: bool = False,
) -> None:
    """The backfill, with the baseline's conversion of each dump timed beside it.

    Dumps are generated one week ahead, by a process running beside the ingest of the week
    before it (generation takes about as long as an older date's ingest: one after the other
    they would double the run); ``one_at_a_time``: each dump is generated only once the one
    before it is ingested, so the ingest has the machine to itself (a longer run). Waiting
    for a dump counts as generation, not backfill; the backfill's CPU seconds (its own
    process, baseline conversion left out) are reported beside its wall time, which a
    generator running alongside slows. ``budget`` (seconds of the whole run, 0 for none): no
    new date starts after it; the dates done are reported as a partial backfill, never as
    the whole.
    """
    from lineage.backfill import DatedDump, backfill
    from lineage.store import Store

    final_hub(models, weeks, seed)  # cached by the parent: only its path is used below
    base = Path(work) / "baseline-snapshots"
    clock = {"generate": 0.0, "baseline": 0.0, "baseline_cpu": 0.0}
    previous: list[Path] = []
    days = week_dates(weeks)
    # One generator process for the whole run: it reads the final Hub once and writes each
    # week's dump when asked (a process per week read 2 GB of card text each time).
    server = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "history_hub.py"),
            str(Path(work) / "archive"),
            *("--models", str(models), "--weeks", str(weeks), "--seed", str(seed)),
            "--serve",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    asked: dict[int, Path] = {}  # weeks asked of the generator, in the order asked

    def convert_previous() -> None:
        for path in previous:  # the dump ingested last: the baseline reads it, then away
            started, cpu = time.perf_counter(), rusage()["cpu"]
            day = path.parent.name
            (
                pl.scan_parquet(path)
                .select("id", "downloads", "downloadsAllTime", "likes")
                .sort("id")
                .sink_parquet(_mkdir(base / f"date={day}") / "part-0.parquet")
            )
            clock["baseline"] += time.perf_counter() - started
            clock["baseline_cpu"] += rusage()["cpu"] - cpu
            path.unlink()
        previous.clear()

    def generate(week: int) -> None:
        if week < 0 or week in asked:
            return
        out = Path(dumps) / days[week].isoformat() / "models.parquet"
        assert server.stdin is not None
        server.stdin.write(f"{week} {out}\n")
        server.stdin.flush()
        asked[week] = out

    def written(week: int) -> Path:
        assert server.stdout is not None
        while True:  # answers come in the order asked
            if not server.stdout.readline():
                raise SystemExit(f"generating week {week} failed")
            done = next(iter(asked))
            out = asked.pop(done)
            if done == week:
                return out

    def log(line: str) -> None:
        with open(Path(work) / "progress.log", "a") as file:  # to follow a long run
            print(f"{time.strftime('%H:%M:%S')} {line}", file=file)

    def fetch_week(week: int):
        def fetch() -> Path:
            convert_previous()
            done = len(Store(store).snapshot_dates())
            spent = time.perf_counter() - begun
            if budget and spent > budget:
                raise OutOfTime(f"budget of {budget:.0f} s spent after {done} dates")
            ingest = spent - clock["generate"] - clock["baseline"]
            started = time.perf_counter()
            generate(week)
            out = written(week)
            clock["generate"] += time.perf_counter() - started  # the wait, not the overlap
            if not one_at_a_time:
                generate(week - 1)  # the next (older) week, while this one is ingested
            previous.append(out)
            log(
                f"week {week} ({days[week]}) ready; {done} dates done; so far: ingest "
                f"{ingest:.0f} s, {rusage()['cpu'] - clock['baseline_cpu']:.0f} s CPU; waiting "
                f"for dumps {clock['generate']:.0f} s; baseline {clock['baseline']:.0f} s; "
                f"peak {rusage()['rss_mb']:,.0f} MB; load {os.getloadavg()[0]:.1f}"
            )
            return out

        return fetch

    begun = time.perf_counter()
    todo = [DatedDump(f"week {k}", day, "path", fetch=fetch_week(k)) for k, day in enumerate(days)]
    partial = False
    try:
        backfill(Store(store), todo)
    except OutOfTime as stop:
        partial = True
        log(f"stopped: {stop}")
    finally:
        server.kill()
        server.wait()
        for out in asked.values():
            out.unlink(missing_ok=True)
            out.with_name(out.name + ".tmp").unlink(missing_ok=True)
    convert_previous()  # the dump ingested last (a stop comes before the next one's fetch)
    wall = time.perf_counter() - begun
    held = Store(store).snapshot_dates()
    rows = sum(
        pl.scan_parquet(p).select(pl.len()).collect().item()
        for p in (Path(store) / "snapshots").rglob("*.parquet")
    )
    usage = rusage()
    report = {
        **usage,
        "backfill_wall": wall - clock["generate"] - clock["baseline"],
        "backfill_cpu": usage["cpu"] - clock["baseline_cpu"],
        "generate": clock["generate"],
        "baseline": clock["baseline"],
        "rows": rows,
        "dates": len(held),
        "weeks": weeks,
        "partial": partial,
    }
    print(json.dumps(report))


class OutOfTime(Exception):
    """The backfill's budget is spent: stop before the next date."""


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
            backfill_child(
                *rest[0:2],
                *map(int, rest[2:5]),
                rest[5],
                float(rest[6]),
                rest[7] == "1",
            )
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
    parser.add_argument(
        "--dumps",
        type=Path,
        help="where the dumps are written just in time (default WORK/dumps; a tmpfs such as "
        "/dev/shm spares the disk 1.4 GB a week at 2.5M models; at most three exist at once)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=0,
        metavar="MINUTES",
        help="start no new date after this many minutes: the dates done are measured and "
        "reported as a partial backfill (of N weeks), never as the whole (default: none)",
    )
    parser.add_argument(
        "--one-at-a-time",
        action="store_true",
        help="generate each dump only after the one before it is ingested, so the backfill "
        "has both CPUs to itself (by default the next dump is written beside the ingest, "
        "which slows it; either way the wait for dumps is left out of its time)",
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
                str(args.dumps or work / "dumps"),
                str(args.budget * 60),
                "1" if args.one_at_a_time else "0",
            ]
        )
        stopped = (
            f"STOPPED at its {args.budget:g}-minute budget after {fill['dates']} of "
            f"{args.weeks} dates (a partial backfill: not the {args.weeks}-week figure); "
            if fill["partial"]
            else ""
        )
        print(
            f"backfill: {stopped}{fill['dates']} dates, {fill['rows']:,} rows in "
            f"{fill['backfill_wall']:.0f} s, {fill['backfill_cpu']:.0f} s CPU (waiting for "
            f"dumps generated {'between dates' if args.one_at_a_time else 'alongside'}: "
            f"{fill['generate']:.0f} s, left out), peak "
            f"{fill['rss_mb']:,.0f} MB; baseline (id + counters to a date partition) "
            f"{fill['baseline']:.0f} s; load average {os.getloadavg()[0]:.1f}",
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
    held = len(Store(store).snapshot_dates())
    rows = [
        (
            f"history on disk (GB, {held} dates)",
            history / 1e9,
            baseline_disk / 1e9,
            TARGETS["disk_gb"],
        )
    ]
    if fill is not None:
        of = f", {fill['dates']}/{args.weeks} dates" if fill["partial"] else ""
        rows += [
            (
                f"backfill wall (s{of})",
                fill["backfill_wall"],
                fill["baseline"],
                TARGETS["backfill_s"],
            ),
            (f"backfill CPU (s{of})", fill["backfill_cpu"], None, TARGETS["backfill_s"]),
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
        met = "yes" if ours <= target else "NO"
        if fill is not None and fill["partial"] and name.startswith("backfill"):
            met = "partial: not measured"
        print(f"{name:<34} {ours:>12.2f} {base:>12} {ratio:>7} {target:>10.1f}  {met}")
    print(f"store on disk: {du(store) / 1e9:.2f} GB; adoption of {model}; work dir {work}")
    print(f"load average now {os.getloadavg()[0]:.1f} (times suffer when it exceeds 2)")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
