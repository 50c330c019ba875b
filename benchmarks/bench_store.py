"""What the store's safety and lean commits cost on a whole-Hub store.

Builds a store by ingesting bench_ingest's synthetic hub-stats dump (cached under /tmp),
then, in this process, times:

- **pin**: opening the store for reading (reading COMMIT, opening every file, reading
  COMMIT again), against reading the same tables whole;
- **verify**: the check `crawl` and `ingest` run before their first request (every file
  decoded, nothing kept), against the baseline of reading every table whole with
  ``pl.read_parquet`` by path (what any full check must at least do) and against the ingest
  itself.

and, each in a child process pinned to 2 CPUs (wall time of the commit alone, peak RSS of
the whole child):

- **an update's commit**: 5,000 new models (what `crawl --all --new` commits after a day)
  into the whole-Hub store: a delta, not a rewrite. Baseline in the same run: the cheapest
  whole rewrite a competent analyst would stream (``scan_parquet`` of the models table plus
  the new rows, ``sink_parquet``), what format 2 committed, and then some.
- **a compaction**: 150,000 new models, past the delta's limit (5% of the base), so the
  commit folds the delta into the base, streamed.

Targets: pin under 1% of a whole read; verify no slower than reading the tables whole, and
under 15% of an ingest of the same store; an update's commit <= 2 s and <= 1 GB (issue 21).

    python benchmarks/bench_store.py              # 2,500,000 models
    python benchmarks/bench_store.py --rows 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import dump_path, generate
from peak import self_peak_mb

from lineage.hubstats import ingest_hub_stats
from lineage.store import Store


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def new_models(rows: int, seed: int) -> Path:
    """A dump of ``rows`` models the store has never seen (a day's new models)."""
    path = Path(tempfile.gettempdir()) / "lineage-bench-ingest" / f"new-{rows}-{seed}.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        generate(rows, seed).with_columns(pl.lit("new-") + pl.col("id")).write_parquet(path)
    return path


def commit_child(store: str, dump: str) -> None:
    """Commit the models of ``dump`` as an update does (partial, a snapshot); report."""
    from lineage.hubstats import scan_dump
    from lineage.records import parse_raw

    seen = dt.datetime(2026, 1, 6, tzinfo=dt.UTC)
    batch = parse_raw(scan_dump(dump).collect(), seen_at=seen, source="list")
    opened = Store(store)
    _ = opened.generation  # pin the view first, as a crawl has long done by its commit
    before = self_peak_mb()
    started = time.perf_counter()
    result = opened.commit(batch, observed=seen.date(), complete=False)
    wall = time.perf_counter() - started
    files = sorted(str(p.relative_to(store)) for p in Path(store).glob("*.parquet"))
    print(
        json.dumps(
            {
                "commit": wall,
                "rss_mb": self_peak_mb(),
                "rss_before_mb": before,
                "new": result.models_new,
                "files": files,
            }
        )
    )


def rewrite_child(store: str, dump: str) -> None:
    """The baseline: stream the whole models table plus the new rows into a new file."""
    from lineage.hubstats import scan_dump
    from lineage.records import parse_raw

    seen = dt.datetime(2026, 1, 6, tzinfo=dt.UTC)
    batch = parse_raw(scan_dump(dump).collect(), seen_at=seen, source="list")
    models = pl.scan_parquet(Path(store) / "models.parquet").select(batch.models.columns)
    started = time.perf_counter()
    pl.concat([models, batch.models.lazy()]).sink_parquet(Path(store) / "rewrite.tmp")
    wall = time.perf_counter() - started
    (Path(store) / "rewrite.tmp").unlink()
    print(json.dumps({"commit": wall, "rss_mb": self_peak_mb()}))


def child(*args: str) -> dict:
    cpus = sorted(os.sched_getaffinity(0))[:2]
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "POLARS_MAX_THREADS": str(len(cpus))},
        preexec_fn=lambda: os.sched_setaffinity(0, cpus),
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_500_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        (commit_child if kind == "commit" else rewrite_child)(*rest)
        return

    dump = dump_path(args.rows, 7, 0)
    path = Path(tempfile.mkdtemp(prefix="bench-store-")) / "store"
    started = time.perf_counter()
    ingest_hub_stats(Store(path), dump, snapshot_date=dt.date(2026, 1, 5))
    ingest = time.perf_counter() - started
    files = sorted(p for p in path.rglob("*.parquet"))
    size = sum(p.stat().st_size for p in files)
    print(
        f"store: {args.rows:,} models, {len(files)} files, {size / 1e6:,.0f} MB; "
        f"ingest {ingest:.1f} s"
    )

    whole = timed(lambda: [pl.read_parquet(p) for p in files])
    pin = timed(lambda: Store(path, create=False).generation, repeat=5)
    verify = timed(lambda: Store(path, create=False).verify())

    print(f"read every table whole (baseline): {whole:.2f} s")
    print(f"pin a view:  {pin * 1000:.1f} ms = {pin / whole:.4f} x the whole read (target < 0.01)")
    print(
        f"verify:      {verify:.2f} s = {verify / whole:.2f} x the whole read (target <= 1), "
        f"{verify / ingest:.3f} x the ingest (target < 0.15)"
    )
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores; timings suffer above 2)")
    day = new_models(5000, 99)
    rewrite = child("rewrite", str(path), str(day))
    update = child("commit", str(path), str(day))
    print(
        f"an update's commit (5,000 new models): {update['commit']:.2f} s, peak RSS "
        f"{update['rss_mb']:,.0f} MB ({update['rss_before_mb']:,.0f} MB before it); files "
        f"{', '.join(update['files'])}"
    )
    print(
        f"  baseline, the models table rewritten (streamed): {rewrite['commit']:.2f} s, "
        f"{rewrite['rss_mb']:,.0f} MB; commit / baseline {update['commit'] / rewrite['commit']:.2f}"
    )
    ok = update["commit"] <= 2 and update["rss_mb"] <= 1024
    print(f"  target <= 2 s and <= 1 GB: {'met' if ok else 'MISSED'}")
    compaction = child("commit", str(path), str(new_models(150_000, 98)))
    print(
        f"a compacting commit (150,000 new models, delta folded into the base): "
        f"{compaction['commit']:.2f} s, peak RSS {compaction['rss_mb']:,.0f} MB; files "
        f"{', '.join(compaction['files'])}"
    )
    print(f"load average {os.getloadavg()[0]:.1f}")

    shutil.rmtree(path.parent)


if __name__ == "__main__":
    main()
