"""`lineage share --format csv` gives the same bytes on every run over one store (issue 22
item 8: five runs gave four outputs, differing in the last digits of float sums).

A float sum's last digits depend on the order of its terms, and polars' group_by hands
rows to threads in no fixed order. Shares are now summed over sorted terms, so the order
the attribution's rows come in cannot change a digit: checked by shuffling them, and by
repeated runs of the command.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys

import polars as pl

from lineage.analysis import download_share, families, load_context, share
from lineage.records import parse_raw
from lineage.render import render
from lineage.store import Store
from lineage.testing.synthetic import generate


def test_shares_do_not_depend_on_the_order_of_the_attributions_rows(tmp_path):
    population = generate(20_000, seed=11)
    store = Store(tmp_path / "store")
    store.commit(
        parse_raw(
            population.raw, seen_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), source="synthetic"
        ),
        snapshot_date=dt.date(2026, 3, 1),
    )
    ctx = load_context(store)
    tables = set()
    for seed in range(6):
        weights = ctx.attribution.weights.sample(fraction=1.0, shuffle=True, seed=seed)
        shuffled = dataclasses.replace(
            ctx, attribution=dataclasses.replace(ctx.attribution, weights=weights)
        )
        out = [share(shuffled, by=by).table for by in ("region", "family", "org", "builder-region")]
        out.append(families(shuffled, top=50))
        out.append(download_share(shuffled, by="family").table)
        tables.add("\n".join(render(t, "csv") for t in out))
    assert len(tables) == 1


def test_share_csv_is_byte_identical_over_repeated_runs(tmp_path):
    path = tmp_path / "store"
    population = generate(30_000, seed=12)
    Store(path).commit(
        parse_raw(population.raw, seen_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), source="s")
    )
    # Runs with 1 to 8 threads: polars splits a group_by's rows between them, so each count
    # may hand a float sum its terms in another order. (With the sums' fixed order taken
    # out, this test still passed here: the shuffled rows above are what shows the fault.)
    outputs = _outputs(path, ("share", "--by", "family"), threads=(1, 2, 3, 4, 8))
    assert len(outputs) == 1
    assert pl.read_csv(next(iter(outputs)).encode()).height > 100


def test_download_share_csv_is_byte_identical_over_repeated_runs(tmp_path):
    """The download share reads the snapshots with polars' streaming engine, which summed
    a group in pieces split differently from run to run: seven runs over one store gave
    seven CSVs (last digits; seen failing so before the fix). It now streams only integer sums."""
    path = tmp_path / "store"
    population = generate(60_000, seed=3)
    for month in (1, 2, 3):
        Store(path).commit(
            parse_raw(
                population.raw, seen_at=dt.datetime(2026, month, 1, tzinfo=dt.UTC), source="s"
            ),
            snapshot_date=dt.date(2026, month, 1),
        )
    command = ("share", "--by", "family", "--metric", "downloads")
    outputs = _outputs(path, command, threads=(1, 2, 3, 4, 8, 2, 2))
    assert len(outputs) == 1
    table = pl.read_csv(next(iter(outputs)).encode())
    assert table["month"].n_unique() == 3 and table.height > 100


def _outputs(path, command: tuple[str, ...], threads: tuple[int, ...]) -> set[str]:
    """The distinct CSVs of ``lineage COMMAND --format csv`` over the store at ``path``, run
    once per thread count of ``threads``."""
    outputs = set()
    for count in threads:
        result = subprocess.run(
            [sys.executable, "-m", "lineage", *command, "--format", "csv"],
            env={**os.environ, "POLARS_MAX_THREADS": str(count), "LINEAGE_STORE": str(path)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout)
    return outputs
