"""What the store's safety costs on a whole-Hub store: opening a view, the pre-crawl check.

Builds a store by ingesting bench_ingest's synthetic hub-stats dump (cached under /tmp),
then, in this process, times:

- **pin**: opening the store for reading (reading COMMIT, opening every file, reading
  COMMIT again), against reading the same tables whole;
- **verify**: the check `crawl` and `ingest` run before their first request (every file
  decoded, nothing kept), against the baseline of reading every table whole with
  ``pl.read_parquet`` by path (what any full check must at least do) and against the ingest
  itself.

Targets: pin under 1% of a whole read; verify no slower than reading the tables whole, and
under 15% of an ingest of the same store.

    python benchmarks/bench_store.py              # 2,500,000 models
    python benchmarks/bench_store.py --rows 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import dump_path

from lineage.hubstats import ingest_hub_stats
from lineage.store import Store


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_500_000)
    args = parser.parse_args()

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
    shutil.rmtree(path.parent)
    print(
        f"verify:      {verify:.2f} s = {verify / whole:.2f} x the whole read (target <= 1), "
        f"{verify / ingest:.3f} x the ingest (target < 0.15)"
    )


if __name__ == "__main__":
    main()
