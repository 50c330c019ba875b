"""A crawl killed at every step of its end (commit, journal removal), then the same command.

Each kill is exact: the crawl process SIGKILLs itself at a named step (the store's test
hook). Whatever the step, running the same command again ends with exactly the store an
uninterrupted crawl gives, one crawl-log row, the uninterrupted crawl's summary (totals of
the whole crawl), and no request to the Hub: everything was journaled before the commit.
"""

from __future__ import annotations

import shutil
import signal

import pytest
from support.storecheck import (
    after_commit_point,
    assert_same_store,
    commit_steps,
    info_json,
    run,
    state_of,
    summary_lines,
)
from support.toyhub import toy_models, toy_renames

from lineage.store import Store
from lineage.testing.fakehub import FakeHub

# Step templates; "*" is the snapshot file of the day, read from the reference crawl.
STEPS = [
    "journal:summary",
    "commit:wrote:models.parquet",
    "commit:wrote:edges.parquet",
    "commit:wrote:problems.parquet",
    "commit:wrote:lookups.parquet",
    "commit:wrote:snapshots/*",
    "commit:wrote:crawls.parquet",
    "commit:manifest",
    "commit:renamed:models.parquet",
    "commit:renamed:edges.parquet",
    "commit:renamed:problems.parquet",
    "commit:renamed:lookups.parquet",
    "commit:renamed:snapshots/*",
    "commit:renamed:crawls.parquet",
    "commit:done",
    "journal:committed",
    "journal:removing",
]


@pytest.fixture(scope="module")
def hub():
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        yield hub


def crawl_all(hub: FakeHub, store) -> list[str]:
    return ["crawl", "--all", "--store", str(store), "--endpoint", hub.url]


@pytest.fixture(scope="module")
def reference(hub, tmp_path_factory):
    """The uninterrupted crawl: its store, its summary and the requests it made."""
    path = tmp_path_factory.mktemp("reference")
    before, listings = hub.count(), hub.count("list")
    done = run(*crawl_all(hub, path))
    assert done.returncode == 0, done.stderr
    empty = tmp_path_factory.mktemp("empty")
    Store(empty)  # a new store: what a reader sees before the commit point
    return {
        "path": path,
        "stderr": done.stderr,
        "requests": hub.count() - before,
        "listings": hub.count("list") - listings,
        "steps": commit_steps(path),
        "info": state_of(info_json(path)),
        "empty": state_of(info_json(empty)),
    }


def resolve(template: str, steps: list[str]) -> str:
    if "*" not in template:
        assert template in steps
        return template
    [step] = [s for s in steps if s.startswith(template.rstrip("*"))]
    return step


def test_the_step_list_is_every_step_the_crawl_passes(reference):
    # The templates cover exactly the files the reference commit wrote, in its order.
    assert [resolve(t, reference["steps"]) for t in STEPS] == reference["steps"]


@pytest.mark.slow
@pytest.mark.parametrize("template", STEPS)
def test_a_kill_at_each_step_then_the_same_command_gives_the_uninterrupted_store(
    hub, reference, tmp_path, template
):
    step = resolve(template, reference["steps"])
    store = tmp_path / "store"
    before = hub.count()
    killed = run(*crawl_all(hub, store), hook=f"{step}=kill")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert hub.count() - before == reference["requests"]  # everything fetched, then killed

    # A reader now sees the old store or the new one, whole, and is told what to run.
    info = info_json(store)
    assert state_of(info) == (reference["info"] if after_commit_point(step) else reference["empty"])
    # Until COMMIT says done, the renames are unfinished (readers resolve them).
    assert info["commit_pending"] == (
        step == "commit:manifest" or step.startswith("commit:renamed:")
    )
    [journal] = info["journals"]
    assert journal["state"] == ("committed" if after_commit_point(step) else "fetched")
    assert journal["command"].startswith("lineage crawl --all --endpoint")

    before = hub.count()
    resumed = run(*crawl_all(hub, store))
    assert resumed.returncode == 0, resumed.stderr
    assert hub.count() == before  # nothing is requested again
    assert summary_lines(resumed.stderr) == summary_lines(reference["stderr"])
    assert resumed.stderr.splitlines()[0].startswith("crawled the whole Hub (all, resumed) into ")
    assert_same_store(Store(store), Store(reference["path"]))
    assert info_json(store)["journals"] == []


@pytest.mark.slow
def test_a_committed_crawls_tombstone_only_speaks_for_the_next_crawl(hub, reference, tmp_path):
    store = tmp_path / "store"
    assert run(*crawl_all(hub, store), hook="journal:committed=kill").returncode == -9
    # Another crawl runs in between: the tombstone is cleared, that crawl is logged.
    other = run("crawl", "--root", "mistralai", "--store", str(store), "--endpoint", hub.url)
    assert other.returncode == 0, other.stderr
    assert info_json(store)["journals"] == []
    # So the whole-Hub command, run again later, is a new crawl, not a resume.
    before = hub.count("list")
    again = run(*crawl_all(hub, store))
    assert again.returncode == 0, again.stderr
    assert hub.count("list") - before == reference["listings"]
    assert ", resumed" not in again.stderr.splitlines()[0]
    assert Store(store).read("crawls").height == 3


@pytest.mark.slow
def test_what_lineage_before_tombstones_left_is_never_crawled_again(hub, reference, tmp_path):
    """Old lineage deleted plan.json and events.jsonl first: a kill left only pages/."""
    store = tmp_path / "store"
    assert run(*crawl_all(hub, store), hook="journal:committed=kill").returncode == -9
    [tombstone] = (store / "journal").iterdir()
    legacy = tombstone.with_name(tombstone.name.removesuffix(".committed"))
    tombstone.rename(legacy)
    for name in ("plan.json", "events.jsonl", "summary.json"):
        (legacy / name).unlink()
    assert [p.name for p in legacy.iterdir()] == ["pages"]
    assert info_json(store)["journals"][0]["state"] == "committed"

    before = hub.count()
    resumed = run(*crawl_all(hub, store))
    assert resumed.returncode == 0, resumed.stderr
    assert hub.count() == before
    assert_same_store(Store(store), Store(reference["path"]))
    # Reported from the crawl log: the models it committed and the requests it made.
    assert "models: 28 (28 new, 0 updated)" in resumed.stderr
    logged = info_json(store)["crawls"][0]["requests"]
    assert f"requests: {logged:,} (" in resumed.stderr


@pytest.mark.slow
def test_a_kill_while_a_page_is_journaled_resumes_from_that_page(hub, reference, tmp_path):
    store = tmp_path / "store"
    assert run(*crawl_all(hub, store), hook="journal:recorded:page=kill").returncode == -9
    [journal] = info_json(store)["journals"]
    assert journal["state"] == "interrupted" and journal["pages"] == 1
    before = hub.count()
    resumed = run(*crawl_all(hub, store))
    assert resumed.returncode == 0, resumed.stderr
    assert hub.count() - before == reference["requests"] - 1  # the first page is kept
    # The summary counts the whole crawl, the first process's page included.
    assert summary_lines(resumed.stderr) == summary_lines(reference["stderr"])
    assert_same_store(Store(store), Store(reference["path"]))
    shutil.rmtree(store)


def test_a_damaged_journal_page_is_named_before_any_request(hub, tmp_path):
    store = tmp_path / "store"
    assert run(*crawl_all(hub, store), hook="journal:recorded:page=kill").returncode == -9
    [page] = (store / "journal").glob("*/pages/0000000.models.parquet")
    page.write_bytes(page.read_bytes()[:100])
    before = hub.count()
    resumed = run(*crawl_all(hub, store))
    assert resumed.returncode == 1
    assert resumed.stderr == (
        f"error: journal file {page} is damaged; delete the journal directory "
        f"{page.parent.parent} to start this crawl over (the store itself is unchanged)\n"
    )
    assert hub.count() == before
