"""`lineage infer --resolve-roots` killed at any point, then run again: real processes.

Killed (SIGKILL) while reading files, or at each named step of its end (summary
journaled, each file written, the commit point, each rename, journal tombstoned, journal
half-deleted), the same command again ends with exactly the store an uninterrupted run
gives, one crawl-log row, and no file asked twice (a kill while reading repeats at most
the request in flight).
"""

from __future__ import annotations

import shlex
import shutil
import signal
import time

import polars as pl
import pytest
from support.roots_hub import roots_hub
from support.storecheck import lineage_subprocess, run
from support.toyhub import client_for

from lineage.crawl import Crawler, CrawlRequest
from lineage.store import Store
from lineage.testing.fakehub import FakeHub, split_files

VOLATILE = {"file_evidence": ["fetched_at"], "inferred_edges": ["inferred_at"]}
STEPS = [
    "journal:summary",
    "commit:wrote:file_evidence.parquet",
    "commit:wrote:inferred_edges.parquet",
    "commit:wrote:crawls.parquet",
    "commit:manifest",
    "commit:renamed:file_evidence.parquet",
    "commit:renamed:inferred_edges.parquet",
    "commit:renamed:crawls.parquet",
    "commit:done",
    "journal:committed",
    "journal:removing",
]


@pytest.fixture(scope="module")
def hub():
    models, files = split_files(roots_hub())
    with FakeHub(models, files=files, page_size=20) as served:
        yield served


@pytest.fixture(scope="module")
def crawled(hub, tmp_path_factory):
    path = tmp_path_factory.mktemp("crawled") / "store"
    Crawler(Store(path), client_for(hub)).run(CrawlRequest(all=True))
    return path


def args(hub: FakeHub, store) -> list[str]:
    return ["infer", "--resolve-roots", "100", "--endpoint", hub.url, "--store", str(store)]


@pytest.fixture(scope="module")
def reference(hub, crawled, tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "store"
    shutil.copytree(crawled, path)
    before = hub.count("file")
    done = run(*args(hub, path))
    assert done.returncode == 0, done.stderr
    return {"path": path, "files": hub.count("file") - before, "stdout": done.stdout}


def copy(crawled, tmp_path):
    path = tmp_path / "store"
    shutil.copytree(crawled, path)
    return path


def assert_same(a, b) -> None:
    x, y = Store(a), Store(b)
    for table, volatile in VOLATILE.items():
        left = x.read(table).drop(volatile).sort(pl.all())
        right = y.read(table).drop(volatile).sort(pl.all())
        assert left.equals(right), table
    for store in (x, y):
        log = store.read("crawls")
        assert log.filter(pl.col("strategy") == "resolve-roots").height == 1
    journal = x.path / "journal"
    assert not journal.exists() or not any(journal.iterdir())


@pytest.mark.slow
def test_killed_while_reading_files_resumes_without_asking_twice(hub, crawled, reference, tmp_path):
    store = copy(crawled, tmp_path)
    hub.inject("file", delay=0.05, times=1_000_000)  # slow enough to be caught mid-way
    try:
        before = hub.count("file")
        kills = 0
        for point in (1, 5, reference["files"] - 2):
            proc = lineage_subprocess(*args(hub, store), "--quiet")
            deadline = time.monotonic() + 60
            while hub.count("file") < before + point:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.002)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            kills += 1
            if point == 5:
                info = run("info", "--store", str(store))
                assert "model files read\n  run that command to resume it" in info.stdout
                # The command it prints asks for what the killed run asked: its budget too.
                printed = info.stdout.split("interrupted crawl: `", 1)[1].split("`", 1)[0]
                assert shlex.split(printed)[1:] == args(hub, store)
        done = run(*args(hub, store))
        assert done.returncode == 0, done.stderr
        total = hub.count("file") - before
    finally:
        hub.clear_faults()
    assert_same(store, reference["path"])
    assert total <= reference["files"] + kills
    assert "resumed" in done.stderr
    assert done.stdout == reference["stdout"]  # the same methods, the same counts


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_killed_at_each_step_of_its_end(hub, crawled, reference, tmp_path, step):
    store = copy(crawled, tmp_path)
    before = hub.count("file")
    cut = run(*args(hub, store), hook=f"{step}=kill")
    assert cut.returncode == -signal.SIGKILL, cut.stderr
    assert hub.count("file") - before == reference["files"]
    again = run(*args(hub, store))
    assert again.returncode == 0, again.stderr
    assert hub.count("file") - before == reference["files"]  # nothing asked again
    assert_same(store, reference["path"])
