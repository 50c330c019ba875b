"""Snapshot layout: bytes a row of one date's counters keyed by sorted ids vs an integer key.

Issue 20's target: 110 weekly snapshots of a Hub growing to 2.5M models (about 250M rows) in at
most 3 GB. One date's file holds, per model, its downloads (last 30 days), all-time downloads
and likes, keyed either by the model's id (sorted, so neighbours share prefixes) or by a stable
integer key (what format 3 stores). Ids are shaped like the Hub's: namespaces and model names
taken from real ids (``../shared/data/hf-llm-edges-hakanotal``, 30k ids of 6k users), many
more namespaces drawn Zipf-like, names trimmed to the ``--mean-length`` asked (real Hub ids are
about 25-40 characters). Counters are heavy-tailed, most zero. Each layout is written with
polars at zstd's default level and at level 9, and read back.

    python benchmarks/bench_snapshots.py                       # 2.5M ids, mean length 35 and 39
    python benchmarks/bench_snapshots.py --models 500000 --mean-length 30
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

EDGES = Path(__file__).resolve().parents[1].parent.parent / "shared/data/hf-llm-edges-hakanotal"
ROWS_TARGET = 250_000_000
DISK_TARGET_GB = 3.0


def real_parts() -> tuple[list[str], list[str]]:
    """Namespaces and model names of real Hub ids."""
    candidates = [EDGES, Path("/work/shared/data/hf-llm-edges-hakanotal")]
    path = next((p / "edges.csv" for p in candidates if (p / "edges.csv").exists()), None)
    if path is None:
        raise SystemExit("needs ../shared/data/hf-llm-edges-hakanotal/edges.csv for id shapes")
    edges = pl.read_csv(path)
    ids = pl.concat([edges["source"], edges["target"]]).drop_nulls().unique()
    return (
        ids.str.split("/").list.first().unique().sort().to_list(),
        ids.str.split("/").list.last().unique().sort().to_list(),
    )


def ids(models: int, mean_length: float, seed: int) -> pl.Series:
    users, names = real_parts()
    rng = np.random.default_rng(seed)
    n_users = max(len(users), models // 5)
    spaces = [users[i % len(users)] + ("" if i < len(users) else str(i)) for i in range(n_users)]
    weights = 1.0 / np.arange(1, n_users + 1) ** 0.8
    user = rng.choice(n_users, int(models * 1.1), p=weights / weights.sum())
    name = rng.integers(0, len(names), user.size)
    suffix = rng.choice(["", "-GGUF", "-v2", "-lora", "-4bit"], user.size)
    full = pl.Series(
        [f"{spaces[u]}/{names[n]}{s}" for u, n, s in zip(user, name, suffix, strict=True)]
    )
    excess = max(0.0, full.str.len_chars().mean() - mean_length)
    name_len = full.str.len_chars() - full.str.find("/") - 1
    keep = (name_len - round(excess)).clip(lower_bound=3)
    trimmed = pl.select(
        pl.lit(full).str.slice(0, pl.lit(full).str.find("/") + 1 + keep)
    ).to_series()
    return trimmed.unique().head(models).rename("id")


def counters(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    downloads = np.where(rng.random(n) < 0.55, 0, rng.lognormal(2.5, 2.2, n)).astype(np.int64)
    extra = np.where(rng.random(n) < 0.3, 0, rng.lognormal(3.5, 2.5, n)).astype(np.int64)
    likes = np.where(rng.random(n) < 0.8, 0, rng.lognormal(0.5, 1.5, n)).astype(np.int64)
    return {"downloads": downloads, "downloads_all_time": downloads + extra, "likes": likes}


def measure(frame: pl.DataFrame, folder: Path, label: str, level: int | None) -> dict:
    path = folder / f"{label}-{level}.parquet"
    started = time.perf_counter()
    frame.write_parquet(path, compression="zstd", compression_level=level)
    write = time.perf_counter() - started
    started = time.perf_counter()
    pl.read_parquet(path)
    read = time.perf_counter() - started
    size = path.stat().st_size
    path.unlink()
    return {"bytes_row": size / frame.height, "write": write, "read": read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=2_500_000)
    parser.add_argument("--mean-length", type=float, action="append")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-snapshots-"))
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores)")
    for length in args.mean_length or [35.0, 39.0]:
        model_ids = ids(args.models, length, args.seed)
        n = model_ids.len()
        print(
            f"\n{n:,} ids, mean length {model_ids.str.len_chars().mean():.1f}, "
            f"{model_ids.str.split('/').list.first().n_unique():,} namespaces"
        )
        values = counters(n, args.seed)
        by_id = pl.DataFrame({"id": model_ids, **values}).sort("id")
        # Keys are given at first sight: any order of ids; the file is sorted by key.
        order = np.random.default_rng(args.seed).permutation(n)
        by_key = pl.DataFrame({"key": pl.Series(order, dtype=pl.Int32), **values}).sort("key")
        print(
            f"{'layout':<18} {'zstd level':>10} {'B/row':>6} {'GB at 250M rows':>16} "
            f"{'write s':>8} {'read s':>7}"
        )
        for label, frame in (("sorted ids", by_id), ("integer key", by_key)):
            for level in (None, 9):
                r = measure(frame, folder, label.replace(" ", "-"), level)
                gb = r["bytes_row"] * ROWS_TARGET / 1e9
                print(
                    f"{label:<18} {level or 'default':>10} {r['bytes_row']:>6.2f} {gb:>16.2f} "
                    f"{r['write']:>8.2f} {r['read']:>7.2f}"
                    + ("" if gb <= DISK_TARGET_GB else "  (over the 3 GB target)")
                )
    folder.rmdir()
    print(f"\nload average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
