"""Readers beside a writer: `info`, `share` and a refused second crawl while a crawl commits.

Two ways, both with real processes. Deterministic: the writer stops itself (SIGSTOP, the
store's test hook) at every step of its commit and journal removal, the readers run, then
it continues. Loose: a whole-Hub crawl big enough for its commit to take a while, with the
readers in a loop beside it, several times. Readers must see the old store or the new one,
whole; must change nothing; the second crawl is refused before any request; the writer
always ends with the full store.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.storecheck import (
    after_commit_point,
    assert_same_store,
    commit_steps,
    files_of,
    info_json,
    resume,
    run,
    start,
    state_of,
    wait_stopped,
)
from support.toyhub import toy_models, toy_renames
from test_store_kills import STEPS, resolve

from lineage.store import Store
from lineage.testing.fakehub import FakeHub
from lineage.testing.synthetic import generate

REFUSED = "is in use by another lineage process"


@pytest.fixture(scope="module")
def hub():
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        yield hub


@pytest.fixture(scope="module")
def states(hub, tmp_path_factory):
    """The old store (Mistral's family) and the new one (then the whole Hub), as read."""
    old = tmp_path_factory.mktemp("old")
    done = run("crawl", "--root", "mistralai", "--store", str(old), "--endpoint", hub.url)
    assert done.returncode == 0, done.stderr
    new = tmp_path_factory.mktemp("new") / "store"
    shutil.copytree(old, new)
    done = run("crawl", "--all", "--store", str(new), "--endpoint", hub.url)
    assert done.returncode == 0, done.stderr
    return {
        "old": old,
        "new": new,
        "steps": commit_steps(new),
        "info": {k: state_of(info_json(p)) for k, p in (("old", old), ("new", new))},
        "share": {k: share(p).stdout for k, p in (("old", old), ("new", new))},
    }


def share(store) -> subprocess.CompletedProcess:
    return run("share", "--store", str(store), "--format", "csv")


def readers(store, hub: FakeHub) -> dict[str, subprocess.Popen]:
    """info, share and a second crawl, started together."""
    args = {
        "info": ["info", "--store", str(store), "--format", "json"],
        "share": ["share", "--store", str(store), "--format", "csv"],
        "crawl": ["crawl", "--all", "--store", str(store), "--endpoint", hub.url, "--quiet"],
    }
    return {
        name: subprocess.Popen(
            [sys.executable, "-m", "lineage", *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name, a in args.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("template", STEPS)
def test_readers_beside_a_writer_stopped_at_each_step_see_one_whole_store_and_change_nothing(
    hub, states, tmp_path, template
):
    step = resolve(template, states["steps"])
    store = tmp_path / "store"
    shutil.copytree(states["old"], store)
    writer = start(
        "crawl",
        "--all",
        "--store",
        str(store),
        "--endpoint",
        hub.url,
        "--quiet",
        hook=f"{step}=stop",
    )
    try:
        assert wait_stopped(writer), writer.communicate()
        files = files_of(store)
        requests = hub.count()
        procs = readers(store, hub)
        out = {name: (p.communicate(timeout=120), p.returncode) for name, p in procs.items()}
        assert files_of(store) == files  # readers (and the refused writer) changed nothing
        assert hub.count() == requests  # the refused crawl asked the Hub for nothing

        seen = "new" if after_commit_point(step) else "old"
        (info_out, info_err), code = out["info"]
        assert code == 0, info_err
        assert state_of(json.loads(info_out)) == states["info"][seen]
        (share_out, share_err), code = out["share"]
        assert code == 0, share_err
        assert share_out.decode() == states["share"][seen]
        (_, crawl_err), code = out["crawl"]
        assert code == 1 and REFUSED in crawl_err.decode()
    finally:
        resume(writer)
    _, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert_same_store(Store(store), Store(states["new"]), crawls=2)


@pytest.fixture(scope="module")
def big_hub():
    population = generate(BIG, seed=11)
    with FakeHub(list(population.items()), page_size=1000, renames=population.renames) as hub:
        yield hub


BIG = 60_000  # models: a commit of the whole Hub then takes a second or more


def loop(args: list[str], until: subprocess.Popen, seen: list) -> None:
    """Run one reader again and again until ``until`` ends; keep what each run said."""
    while until.poll() is None:
        done = run(*args)
        seen.append((done.returncode, done.stdout, done.stderr))


@pytest.mark.slow
def test_a_big_crawl_with_readers_in_a_loop_always_ends_with_the_full_store(big_hub, tmp_path):
    """Three whole-Hub crawls, each with info, share and a second crawl looping beside it."""
    refused = second_writers = 0
    finals = []
    for attempt in range(3):
        store = tmp_path / f"store-{attempt}"
        Store(store)  # the old state: a new, empty store
        empty = state_of(info_json(store))
        writer = start(
            "crawl", "--all", "--store", str(store), "--endpoint", big_hub.url, "--quiet"
        )
        while not (store / "journal").is_dir() and writer.poll() is None:
            time.sleep(0.01)  # the writer holds the lock once its journal exists
        seen = {"info": [], "share": [], "crawl": []}
        readers = [
            threading.Thread(target=loop, args=(args, writer, seen[name]))
            for name, args in {
                "info": ["info", "--store", str(store), "--format", "json"],
                "share": ["share", "--store", str(store), "--format", "csv"],
                "crawl": ["crawl", "--all", "--store", str(store), "--endpoint", big_hub.url],
            }.items()
        ]
        for reader in readers:
            reader.start()
        _, err = writer.communicate()
        for reader in readers:
            reader.join()
        assert writer.returncode == 0, err
        final = state_of(info_json(store))
        finals.append(final)
        assert final["models"] == len(big_hub)
        full_share = pl.read_csv(share(store).stdout.encode())

        # Each reader is its own process: each saw one whole state, old or new.
        for code, out, err in seen["info"]:
            assert code == 0, err
            state = state_of(json.loads(out))
            assert state == empty or state == {
                **final,
                "crawls": final["crawls"][-len(state["crawls"]) :],
            }
        for code, out, err in seen["share"]:
            if code == 1:
                assert "is empty" in err, err
            else:
                assert code == 0, err
                # Same table; the last digit of a float sum varies between runs of polars.
                assert_frame_equal(pl.read_csv(out.encode()), full_share)
        for code, _, err in seen["crawl"]:
            if code == 0:
                second_writers += 1  # it took the lock after the first crawl had finished
            else:
                assert REFUSED in err, err
                refused += 1
        assert seen["info"] and seen["share"]
        assert Store(store).read("crawls").height == 1 + sum(c == 0 for c, _, _ in seen["crawl"])
    # Every crawl ended with the same full store.
    assert len({json.dumps(f["edges_by_relation"]) for f in finals}) == 1
    assert refused >= 3  # the loop did run beside every crawl
