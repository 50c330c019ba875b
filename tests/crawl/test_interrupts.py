"""Ctrl-C (SIGINT) at many points of a real `lineage` process, and the hint it leaves.

Every interruption ends with exit 130 and one line: what was saved and the exact command that
resumes it (or that nothing was saved), never a traceback, never a bare "interrupted", never
a crawl that goes on. The hint's own text, run as it is, resumes each kind of crawl to the
store an uninterrupted run gives. `lineage info` offers the same command, and only for
crawls that saved something.

Points are reached two ways: the test hook (``LINEAGE_TEST_HOOK=STEP=stop`` stops the
process at a named step, the test sends SIGINT and lets it go on), and the fake Hub's request
count (SIGINT once it has answered N requests, the Hub slowed down so that the crawl is still
running).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.storecheck import lineage_subprocess, table_rows, wait_stopped
from support.toyhub import toy_models, toy_renames

from lineage.store import Store
from lineage.testing.fakehub import FakeHub

TABLES = {
    "models": ("seen_at",),
    "edges": (),
    "problems": (),
    "lookups": ("looked_up_at",),
    "snapshots": ("date",),
}
HINT = re.compile(r"run the same command again to resume: (lineage crawl .+)$")
NOTHING = "nothing was fetched yet, so there is nothing to resume"


@pytest.fixture(scope="module")
def hub():
    hub = FakeHub(toy_models(), page_size=5, renames=toy_renames())
    hub.inject(delay=0.02, times=10**9)  # slow enough to be caught mid-crawl
    with hub:
        yield hub


def lineage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lineage", *args], capture_output=True, text=True, timeout=300
    )


def run_hint(command: str) -> subprocess.CompletedProcess:
    """Run a hint exactly as printed (`lineage crawl ...`)."""
    words = shlex.split(command)
    assert words[:2] == ["lineage", "crawl"], command
    return lineage(*words[1:])


def interrupt_on_hook(args: list[str], step: str) -> tuple[int, str]:
    proc = lineage_subprocess(*args, env={"LINEAGE_TEST_HOOK": f"{step}=stop"})
    assert wait_stopped(proc), proc.communicate()
    os.kill(proc.pid, signal.SIGINT)  # pending while stopped, delivered when it goes on
    os.kill(proc.pid, signal.SIGCONT)
    _out, err = proc.communicate(timeout=120)
    return proc.returncode, err


def interrupt_after(args: list[str], hub: FakeHub, requests: int) -> tuple[int, str]:
    start = hub.count()
    proc = lineage_subprocess(*args)
    deadline = time.monotonic() + 120
    while hub.count() < start + requests:
        if proc.poll() is not None:
            pytest.fail(f"the crawl ended before {requests} requests: {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the crawl made no progress")
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    return proc.returncode, err


def interrupted_line(code: int, err: str) -> str:
    """The one line of an interrupted run (exit 130, no traceback)."""
    assert code == 130, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("interrupted; "), err
    return lines[0]


def hint_of(line: str) -> str | None:
    """The resume command of an interruption's line; None when it says nothing was saved."""
    if line == f"interrupted; {NOTHING}":
        return None
    found = HINT.search(line)
    assert found and "progress is saved (" in line, line
    return found.group(1)


def journals(store: Path) -> list[dict]:
    result = lineage("info", "--store", str(store), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["journals"]


def same_store(a: Path, b: Path) -> None:
    for table, drop in TABLES.items():
        assert table_rows(Store(a), table, drop=drop) == table_rows(Store(b), table, drop=drop), (
            table
        )
    assert Store(a).read("crawls").height == Store(b).read("crawls").height
    assert journals(a) == []


# ---- start-up and the steps around the commit ---------------------------------------------


@pytest.mark.parametrize("step", ["start:handler", "start:imported"])
def test_ctrl_c_during_start_up_is_one_line_and_leaves_nothing(hub, tmp_path, step):
    store = tmp_path / "s"
    crawl = ["crawl", "--root", "Qwen", "--store", str(store), "--endpoint", hub.url]
    requests = hub.count()
    line = interrupted_line(*interrupt_on_hook(crawl, step))
    assert line == f"interrupted; {NOTHING}"
    assert hub.count() == requests
    assert not (store / "journal").exists() or not any((store / "journal").iterdir())
    share = interrupted_line(*interrupt_on_hook(["share", "--store", str(store)], step))
    assert share == "interrupted; nothing was saved (lineage share only reads the store)"


@pytest.mark.parametrize("step", ["journal:recorded:page", "journal:recorded:lookup"])
def test_ctrl_c_after_a_journaled_step_names_it_and_the_hint_resumes(hub, tmp_path, step):
    reference = tmp_path / "reference"
    args = ["crawl", "--root", "Qwen", "--strategy", "walk", "--endpoint", hub.url, "--store"]
    assert lineage(*args, str(reference)).returncode == 0
    store = tmp_path / "s"
    line = interrupted_line(*interrupt_on_hook([*args, str(store)], step))
    kind = "1 listing page, 0 lookups" if step.endswith("page") else "1 lookup)"
    assert kind in line, line
    hint = hint_of(line)
    [journal] = journals(store)
    assert journal["command"] == hint and journal["abandon"] == f"{hint} --abandon"
    done = run_hint(hint)
    assert done.returncode == 0, done.stderr
    same_store(store, reference)


@pytest.mark.parametrize("step", ["journal:summary", "commit:manifest", "commit:done"])
def test_ctrl_c_during_the_commit_lets_it_finish_and_says_so(hub, tmp_path, step):
    reference = tmp_path / "reference"
    args = ["crawl", "--root", "mistralai", "--endpoint", hub.url, "--store"]
    assert lineage(*args, str(reference)).returncode == 0
    store = tmp_path / "s"
    code, err = interrupt_on_hook([*args, str(store)], step)
    assert code == 0, err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "  Ctrl-C came while the crawl was committing: it finished first; nothing to resume"
    )
    same_store(store, reference)


# ---- many points by request count ---------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_at_many_points_always_says_what_was_saved_and_resumes(hub, tmp_path):
    reference = tmp_path / "reference"
    args = ["crawl", "--root", "Qwen", "--strategy", "walk", "--endpoint", hub.url, "--store"]
    before = hub.count()
    assert lineage(*args, str(reference)).returncode == 0
    total = hub.count() - before
    points = sorted({1, 2, 3, 5, 8, 12, 17, 22, total - 2, total - 1})
    for point in points:
        store = tmp_path / f"s{point}"
        line = interrupted_line(*interrupt_after([*args, str(store)], hub, point))
        hint = hint_of(line)
        if hint is None:  # the first answer was not journaled yet
            assert journals(store) == []
            hint = shlex.join(["lineage", *args, str(store)])
        else:
            assert [j["command"] for j in journals(store)] == [hint]
        done = run_hint(hint)
        assert done.returncode == 0, (point, done.stderr)
        same_store(store, reference)


# ---- every kind of crawl, interrupted and resumed from its hint's own text -----------------


def _prepared(hub: FakeHub, tmp_path: Path, mode: str) -> tuple[Path, list[str]]:
    """A store ready for ``mode`` and the crawl arguments (without --store) of that mode."""
    base = tmp_path / "base"
    endpoint = ["--endpoint", hub.url]
    if mode == "walk":
        return base, ["crawl", "--root", "Qwen", "--strategy", "walk", "--lookup-budget", "2"]
    if mode == "sweep":
        return base, ["crawl", "--root", "Qwen", "--strategy", "sweep", "--hub-size", "30"]
    if mode == "organization":
        return base, ["crawl", "--root", "Qwen", "--root", "mistralai", "--hub-size", "5000"]
    if mode == "all":
        return base, ["crawl", "--all", "--lookup-budget", "all"]
    if mode == "resolve-parents":
        assert lineage("crawl", "--all", "--lookup-budget", "0", *endpoint, "--store", str(base))
        return base, ["crawl", "--resolve-parents", "--lookup-budget", "3"]
    # an update: an earlier whole-Hub crawl, then new models on the Hub
    done = lineage("crawl", "--all", *endpoint, "--store", str(base))
    assert done.returncode == 0, done.stderr
    hub.create_models(12, parent_fraction=1.0, prefix=f"new{mode[:3]}")
    if mode == "new":
        return base, ["crawl", "--all", "--new", "--lookup-budget", "7"]
    return base, ["crawl", "--root", "Qwen", "--new"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "mode", ["walk", "sweep", "organization", "all", "new", "root-new", "resolve-parents"]
)
def test_each_kind_of_crawl_interrupted_resumes_from_its_hint(hub, tmp_path, mode):
    base, args = _prepared(hub, tmp_path, mode)
    args += ["--endpoint", hub.url]
    reference, store = tmp_path / "reference", tmp_path / "store"
    for path in (reference, store):
        if base.exists():
            shutil.copytree(base, path)
    before = hub.count()
    done = lineage(*args, "--store", str(reference))
    assert done.returncode == 0, done.stderr
    total = hub.count() - before
    assert total >= 3, total
    for point in range(total // 2 + 1, total + 1):
        line = interrupted_line(*interrupt_after([*args, "--store", str(store)], hub, point))
        hint = hint_of(line)
        if hint is not None:
            break
        # Cut inside the first exchange (a redirect's second hop, say): nothing was saved,
        # and nothing was left behind. Again, a little later.
        assert journals(store) == []
    assert hint is not None, line
    # The hint asks for the same crawl: every option that changes its meaning is in it.
    for word in args:
        if word.startswith("--") and word != "--endpoint":
            assert f"{word} " in f"{hint} " or word in hint, (word, hint)
    assert [j["command"] for j in journals(store)] == [hint]
    resumed = run_hint(hint)
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed" in resumed.stderr.splitlines()[0]
    same_store(store, reference)


# ---- what is left behind -------------------------------------------------------------------


def test_a_crawl_that_fails_before_saving_anything_leaves_no_journal(hub, tmp_path):
    store = tmp_path / "s"
    unknown = lineage("crawl", "--root", "Qwenn", "--store", str(store), "--endpoint", hub.url)
    assert unknown.returncode == 1 and "no model or organization named 'Qwenn'" in unknown.stderr
    assert journals(store) == []
    refused = lineage("crawl", "--all", "--new", "--store", str(store), "--endpoint", hub.url)
    assert refused.returncode == 1 and "needs an earlier whole-Hub crawl" in refused.stderr
    assert journals(store) == []
    info = lineage("info", "--store", str(store))
    assert "interrupted crawl" not in info.stdout


def test_an_interrupted_crawl_can_be_abandoned(hub, tmp_path):
    store = tmp_path / "s"
    args = ["crawl", "--all", "--endpoint", hub.url, "--store", str(store)]
    line = interrupted_line(*interrupt_on_hook(args, "journal:recorded:page"))
    hint = hint_of(line)
    words = shlex.split(hint)[1:]
    requests = hub.count()
    dropped = lineage(*words, "--abandon")
    assert dropped.returncode == 0, dropped.stderr
    assert dropped.stderr == (
        f"abandoned the interrupted crawl `{hint}`: dropped 1 listing page (5 models) and 0 "
        "lookups; the store is unchanged\n"
    )
    assert hub.count() == requests and journals(store) == []
    again = lineage(*words, "--abandon")
    assert again.stderr == f"no interrupted crawl of `{hint}` in {store}: nothing to abandon\n"
