"""How the regional shares move when the consequential roots are resolved (README table).

Rebuilds, in a temporary directory, with the project's own tools only:

    python -m lineage.testing.cards hub 30000 --hide 120 --seed 1 \
        --jsonl hub.jsonl --truth truth.csv
    python -m lineage.testing.fakehub hub.jsonl --port PORT &
    lineage crawl --all --endpoint http://127.0.0.1:PORT --store store
    lineage share --store store --format csv                          # declared lineage
    lineage infer --resolve-roots --endpoint http://127.0.0.1:PORT --store store   # 300 requests
    lineage share --store store --lineage both --format csv
    lineage infer --resolve-roots --endpoint http://127.0.0.1:PORT --store store   # 300 more
    lineage share --store store --lineage both --format csv

and prints, for a few months, the share of each region under declared lineage, after each
resolution, and in the population's truth, with the largest gap to the truth over all
months; then what each resolution said on stderr. Synthetic: the cards are
lineage.testing.cards' (see its docstring), the population lineage.testing.synthetic's.

    python docs/roots_shares.py [--models 30000] [--hide 120] [--unplaced-share S]

``--unplaced-share`` is passed to ``lineage infer`` (its default when not given).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

MONTHS = ["2024-06", "2025-01", "2025-06", "2026-01", "2026-05"]


def lineage(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "lineage", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"lineage {' '.join(args)} failed: {done.stderr}")
    return done


def shares(store: Path, *extra: str) -> tuple[pl.DataFrame, str]:
    done = lineage("share", "--store", str(store), "--format", "csv", "--quiet", *extra)
    table = pl.read_csv(done.stdout.encode()).select("month", "group", "share")
    return table, done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=30_000)
    parser.add_argument("--hide", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--unplaced-share", type=float, help="lineage infer's, if not its default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        here = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "lineage.testing.cards", "hub", str(args.models),
             "--hide", str(args.hide), "--seed", str(args.seed),
             "--jsonl", str(here / "hub.jsonl"), "--truth", str(here / "truth.csv")],
            check=True,
        )  # fmt: skip
        hub = subprocess.Popen(
            [sys.executable, "-m", "lineage.testing.fakehub", str(here / "hub.jsonl")],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            url = hub.stdout.readline().split(" at ")[1].strip()
            store = here / "store"
            lineage("crawl", "--all", "--endpoint", url, "--store", str(store), "--quiet")
            columns = {"declared": shares(store)[0]}
            notes = []
            weight = (
                []
                if args.unplaced_share is None
                else ["--unplaced-share", f"{args.unplaced_share:g}"]
            )
            for run in (1, 2):
                done = lineage(
                    "infer", "--resolve-roots", "--endpoint", url, "--store", str(store), *weight
                )
                table, said = shares(store, "--lineage", "both")
                columns[f"resolved {300 * run}"] = table
                notes.append(f"-- after --resolve-roots run {run}:\n{done.stderr}{said}")
        finally:
            hub.terminate()
            hub.wait(timeout=30)
        truth = pl.read_csv(here / "truth.csv").select(
            pl.col("month").str.slice(0, 7), "group", "share"
        )
        columns["truth"] = truth
        wide = None
        for name, table in columns.items():
            table = table.rename({"share": name})
            wide = table if wide is None else wide.join(table, on=["month", "group"], how="full",
                                                        coalesce=True)  # fmt: skip
        wide = wide.fill_null(0.0).sort("month", "group")
        gaps = {
            name: float(wide.select((pl.col(name) - pl.col("truth")).abs().max()).item())
            for name in columns
            if name != "truth"
        }
        with pl.Config(tbl_rows=100, float_precision=3, tbl_hide_dataframe_shape=True):
            print(wide.filter(pl.col("month").is_in(MONTHS)))
        print("largest gap to the truth over all months (share points):")
        for name, gap in gaps.items():
            print(f"  {name}: {gap * 100:.1f}")
        print("\n".join(notes))


if __name__ == "__main__":
    main()
