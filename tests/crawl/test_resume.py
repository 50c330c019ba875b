"""Kill-and-resume: a real crawl process killed at several points ends with the same store."""

from __future__ import annotations

import signal
import time

import pytest
from support.storecheck import lineage_subprocess, table_rows
from support.toyhub import toy_models, toy_renames

from lineage.store import Store
from lineage.testing.fakehub import FakeHub

VOLATILE = {
    "models": ("seen_at",),
    "edges": (),
    "problems": (),
    "lookups": ("looked_up_at",),
    "snapshots": ("date",),
}


def crawl_args(hub: FakeHub, store: Store, strategy: str) -> list[str]:
    return [
        "crawl",
        "--root",
        "Qwen",
        "--strategy",
        strategy,
        "--store",
        str(store.path),
        "--endpoint",
        hub.url,
        "--quiet",
    ]


def run_to_end(hub: FakeHub, store: Store, strategy: str) -> None:
    proc = lineage_subprocess(*crawl_args(hub, store, strategy))
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err


def kill_after(hub: FakeHub, store: Store, strategy: str, requests: int, sig=signal.SIGKILL):
    """Start a crawl; once the Hub's request count reaches `requests`, send `sig`."""
    proc = lineage_subprocess(*crawl_args(hub, store, strategy))
    deadline = time.monotonic() + 60
    while hub.count() < requests:
        if proc.poll() is not None:
            pytest.fail(f"crawl ended before {requests} requests: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("crawl made no progress")
        time.sleep(0.002)
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    return proc.returncode, err


def slow_hub() -> FakeHub:
    hub = FakeHub(toy_models(), page_size=5, renames=toy_renames())
    hub.inject(delay=0.03, times=1_000_000)  # slow enough to be caught mid-crawl
    return hub


def assert_same_store(a: Store, b: Store) -> None:
    for table, drop in VOLATILE.items():
        assert table_rows(a, table, drop=drop) == table_rows(b, table, drop=drop), table
    assert a.read("crawls").height == b.read("crawls").height == 1
    assert not (a.path / "journal").exists() or not any((a.path / "journal").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["walk", "sweep"])
def test_sigkill_at_several_points_then_resume_gives_the_uninterrupted_store(tmp_path, strategy):
    with slow_hub() as hub:
        reference = Store(tmp_path / "reference")
        before = hub.count()
        run_to_end(hub, reference, strategy)
        uninterrupted_requests = hub.count() - before

        interrupted = Store(tmp_path / "interrupted")
        before = hub.count()
        kills = 0
        # during root resolution, early in the walk or sweep, and among the lookups
        for point in (1, 4, uninterrupted_requests - 3):
            code, _ = kill_after(hub, interrupted, strategy, requests=before + point)
            assert code == -signal.SIGKILL
            kills += 1
        run_to_end(hub, interrupted, strategy)
        total = hub.count() - before

    assert_same_store(interrupted, reference)
    # A resume repeats at most the one call that was in flight when killed (a lookup of a
    # renamed parent is two HTTP requests: the redirect and its target), never work
    # already journaled.
    assert total <= uninterrupted_requests + 2 * kills


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_exit_130_and_resumes(tmp_path):
    with slow_hub() as hub:
        reference = Store(tmp_path / "reference")
        run_to_end(hub, reference, "walk")
        store = Store(tmp_path / "store")
        code, err = kill_after(hub, store, "walk", requests=hub.count() + 6, sig=signal.SIGINT)
        assert code == 130
        assert "interrupted" in err and "run the same command again to resume" in err
        assert "Traceback" not in err
        run_to_end(hub, store, "walk")
    assert_same_store(store, reference)


def test_a_torn_last_journal_line_is_ignored_on_resume(tmp_path):
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        reference = Store(tmp_path / "reference")
        run_to_end(hub, reference, "walk")
        store = Store(tmp_path / "store")
        kill_after(hub, store, "walk", requests=hub.count() + 5)
        [journal] = (store.path / "journal").iterdir()
        with open(journal / "events.jsonl", "a") as events:
            events.write('{"e": "page", "listing": "children:Qwen/Qw')  # cut mid-write
        run_to_end(hub, store, "walk")
    assert_same_store(store, reference)
