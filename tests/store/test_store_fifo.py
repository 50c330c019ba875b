"""A FIFO (or any file that is not a regular file) in place of a store or journal file.

Opening a FIFO to read waits for a writer that never comes: every command that read one
hung for good. It is damage like any other: named in one line, before any request, with
nothing changed.
"""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest
from support.storecheck import files_of, lineage_subprocess, run
from support.toyhub import toy_models, toy_renames

from lineage.testing.fakehub import FakeHub


@pytest.fixture(scope="module")
def hub():
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        yield hub


@pytest.fixture(scope="module")
def reference(hub, tmp_path_factory):
    path = tmp_path_factory.mktemp("reference")
    done = run("crawl", "--all", "--store", str(path), "--endpoint", hub.url)
    assert done.returncode == 0, done.stderr
    return path


def make_fifo(path) -> None:
    path.unlink()
    os.mkfifo(path)


def refused(*args: str, names: str) -> str:
    result = run(*args, timeout=60)  # it used to hang here
    assert result.returncode == 1, (args, result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert names in result.stderr and "not a regular file" in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize(
    "name", ["models.parquet", "edges.parquet", "crawls.parquet", "COMMIT", "lineage-store.json"]
)
def test_a_fifo_in_place_of_a_store_file_is_named_not_waited_on(hub, reference, tmp_path, name):
    store = tmp_path / "store"
    shutil.copytree(reference, store)
    make_fifo(store / name)
    before = files_of(store)
    requests = hub.count()
    for args in (
        ("info",),
        ("share",),
        ("tree", "Qwen/Qwen2.5-7B"),
        ("crawl", "--all", "--endpoint", hub.url),
    ):
        refused(*args, "--store", str(store), names=str(store / name))
    assert hub.count() == requests
    assert files_of(store) == before


@pytest.mark.parametrize("name", ["page", "events.jsonl", "plan.json"])
def test_a_fifo_in_a_crawl_journal_is_named_not_waited_on(hub, tmp_path, name):
    store = tmp_path / "store"
    args = ["crawl", "--root", "Qwen", "--strategy", "walk", "--store", str(store)]
    proc = lineage_subprocess(*args, "--endpoint", hub.url, "--quiet")
    pages = store / "journal"
    deadline = time.monotonic() + 60
    while '"batch": true' not in "".join(p.read_text() for p in pages.glob("*/events.jsonl")):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    [journal] = pages.iterdir()
    if name == "page":  # a page its events name
        target = sorted((journal / "pages").glob("*.models.parquet"))[0]
        events = (journal / "events.jsonl").read_text()
        assert f'"n": {int(target.name[:7])}, "batch": true' in events
    else:
        target = journal / name
    make_fifo(target)
    requests = hub.count()
    if name == "page":  # info reads the journal's events, not its pages
        assert run("info", "--store", str(store), timeout=60).returncode == 0
    else:
        refused("info", "--store", str(store), names=str(target))
    refused(*args, "--endpoint", hub.url, names=str(target))
    assert hub.count() == requests
