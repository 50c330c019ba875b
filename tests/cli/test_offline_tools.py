"""The public tools from a shell: a synthetic population written with its renames and as a
hub-stats dump, served by the fake Hub with those renames, crawled and ingested by lineage.

Before, the command lines could not express renames (every renamed parent of a population
served from a shell became a missing root) and gave no way to write a dump for `ingest`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest
from support.toyhub import FIXTURES

from lineage.store import Store
from lineage.testing.synthetic import generate


def run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout
    )


@contextmanager
def served(*args: str) -> Iterator[str]:
    """``python -m lineage.testing.fakehub ARGS`` on a free port; yields its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lineage.testing.fakehub", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("FakeHub: "), (first, proc.stderr.read())
        yield first.split(" at ", 1)[1].strip()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.slow
def test_a_population_from_the_shell_is_served_with_its_renames_and_dumped(tmp_path):
    models, dump = tmp_path / "hub.jsonl", tmp_path / "models.parquet"
    made = run(
        "lineage.testing.synthetic", "hub", "4000", "--seed", "1",
        "--jsonl", str(models), "--hub-stats", str(dump),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    renames = json.loads((tmp_path / "hub.renames.json").read_text())
    assert renames == generate(4000, seed=1).renames and renames
    assert "hub.renames.json" in made.stderr and str(dump) in made.stderr

    store = tmp_path / "crawled"
    with served(str(models)) as url:
        crawl = run(
            "lineage", "crawl", "--all", "--lookup-budget", "all", "--endpoint", url,
            "--store", str(store),
        )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr
    lookups = Store(store).read("lookups")
    declared = set(Store(store).read("edges")["parent"])
    renamed = dict(lookups.filter(pl.col("status") == "renamed").select("query", "id").rows())
    # Every former name a model declares was answered with the model it names now.
    assert renamed == {old: new for old, new in renames.items() if old in declared}
    assert renamed

    ingested = tmp_path / "ingested"
    ingest = run(
        "lineage", "ingest", "hub-stats", str(dump), "--date", "2026-01-05",
        "--store", str(ingested),
    )  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr
    swept = Store(store).read("models").filter("crawled")["id"].sort()
    assert Store(ingested).read("models")["id"].sort().equals(swept)

    # The fake Hub writes the same dump from what it serves.
    again = tmp_path / "again.parquet"
    written = run("lineage.testing.fakehub", str(models), "--write-hub-stats", str(again))
    assert written.returncode == 0, written.stderr
    assert pl.read_parquet(again).equals(pl.read_parquet(dump))


def test_the_toy_hub_from_the_shell_serves_its_renames(tmp_path):
    store = tmp_path / "s"
    with served(str(FIXTURES / "hub" / "toy.jsonl"), "--page-size", "5") as url:
        crawl = run(
            "lineage", "crawl", "--root", "Qwen", "--strategy", "walk", "--endpoint", url,
            "--store", str(store),
        )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr
    # As the tests' toy_hub fixture (fixtures/hub/toy.renames.json beside toy.jsonl) answers.
    assert "1 missing, 2 renamed" in crawl.stderr


def test_bad_renames_are_one_line(tmp_path):
    models = tmp_path / "m.jsonl"
    models.write_text('{"id": "a/b"}\n')
    Path(tmp_path / "m.renames.json").write_text("[1, 2]")
    result = run("lineage.testing.fakehub", str(models), timeout=60)  # not served for ever
    assert result.returncode == 2
    assert "must be a JSON object of id -> id" in result.stderr.splitlines()[-1]
