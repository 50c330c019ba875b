"""Format 3's commits, cut at every step: a delta, a compaction that drops the delta, the
upgrade of a format-2 store; readers beside them; damaged delta files.

Steps are read from each reference commit's own manifest (``COMMIT`` lists its renames in
the order it wrote them, and the files it removed), so every file a commit writes, renames
or removes is a step here. A writer killed at any of them, then run again, ends with the
store an uninterrupted run gives; a reader meanwhile sees the old store or the new one.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys

import pytest
from support.storecheck import (
    VOLATILE,
    after_commit_point,
    files_of,
    info_json,
    resume,
    run,
    start,
    state_of,
    table_rows,
    wait_stopped,
)
from support.toyhub import FIXTURES, toy_models, toy_renames

from lineage.store import MARKER, Store
from lineage.testing.fakehub import FakeHub

FORMAT_2 = FIXTURES / "store-format-2"
REMEDY = "restore it from a backup, or crawl again into a new store (--store NEW_DIR)"


@pytest.fixture(scope="module")
def hub():
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        yield hub


def crawl(hub: FakeHub, store, *args: str) -> list[str]:
    return ["crawl", *args, "--store", str(store), "--endpoint", hub.url]


def steps_of(store) -> list[str]:
    """The commit's steps, from its manifest, then the journal's."""
    manifest = json.loads((store / "COMMIT").read_text())
    finals = [final for _, final in manifest["renames"]]
    return [
        "journal:summary",
        *(f"commit:wrote:{f}" for f in finals),
        "commit:manifest",
        *(f"commit:renamed:{f}" for f in finals),
        "commit:done",
        *(f"commit:removed:{f}" for f in manifest["removed"]),
        "journal:committed",
        "journal:removing",
    ]


def same_store(a: Store, b: Store) -> None:
    for table, drop in VOLATILE.items():
        assert table_rows(a, table, drop=drop) == table_rows(b, table, drop=drop), table
    assert table_rows(a, "models", drop=("seen_at",)) == table_rows(b, "models", drop=("seen_at",))
    assert sorted(p.name for p in a.path.glob("*.parquet")) == sorted(
        p.name for p in b.path.glob("*.parquet")
    )
    assert not list(a.path.rglob("*.tmp"))
    assert json.loads((a.path / "COMMIT").read_text())["state"] == "done"


def view_state(store) -> dict:
    """What info says, without the format version (a reader beside an upgrade may read the
    old marker beside the new files: both read the same)."""
    state = state_of(info_json(store))
    state.pop("format_version")
    return state


@pytest.fixture(scope="module")
def stores(hub, tmp_path_factory):
    """whole: the toy Hub swept. delta: then Mistral's family (a delta commit).
    compacted: then the Hub swept again (a compaction that drops the delta)."""
    whole = tmp_path_factory.mktemp("whole") / "s"
    assert run(*crawl(hub, whole, "--all")).returncode == 0
    delta = tmp_path_factory.mktemp("delta") / "s"
    shutil.copytree(whole, delta)
    done = run(*crawl(hub, delta, "--root", "mistralai"))
    assert done.returncode == 0, done.stderr
    compacted = tmp_path_factory.mktemp("compacted") / "s"
    shutil.copytree(delta, compacted)
    assert run(*crawl(hub, compacted, "--all")).returncode == 0
    return {"whole": whole, "delta": delta, "compacted": compacted}


def test_a_small_crawl_commits_a_delta_and_a_sweep_folds_it_in(stores):
    assert "models-delta.parquet" in files_of(stores["delta"])
    assert {"edges-delta.parquet", "problems-delta.parquet"} <= set(files_of(stores["delta"]))
    manifest = json.loads((stores["compacted"] / "COMMIT").read_text())
    assert manifest["removed"] == [
        "edges-delta.parquet",
        "models-delta.parquet",
        "problems-delta.parquet",
    ]
    assert not any("delta" in name for name in files_of(stores["compacted"]))
    # Reads merge the delta: the same rows whichever way they are stored.
    assert (
        Store(stores["delta"])
        .read("models")
        .drop("seen_at", "seen_commit")
        .equals(Store(stores["delta"]).read("models", view="all").drop("seen_at", "seen_commit"))
    )


CASES = {
    # case: (the store before, the command's arguments, the uninterrupted result)
    "delta": ("whole", ("--root", "mistralai"), "delta"),
    "compaction": ("delta", ("--all",), "compacted"),
}


def case_steps(stores, case: str) -> list[tuple[str, str]]:
    _, _, result = CASES[case]
    return [(case, step) for step in steps_of(stores[result])]


def pytest_generate_tests(metafunc):
    if "case_step" in metafunc.fixturenames:
        # The steps are known once the reference stores exist: parametrize by index.
        metafunc.parametrize("case_step", [(c, i) for c in CASES for i in range(20)])


@pytest.mark.slow
def test_a_kill_at_each_step_of_a_delta_or_a_compaction_then_the_same_command(
    hub, stores, tmp_path, case_step
):
    case, index = case_step
    steps = case_steps(stores, case)
    if index >= len(steps):
        pytest.skip(f"the {case} commit has {len(steps)} steps")
    _, step = steps[index]
    before, args, result = CASES[case]
    store = tmp_path / "s"
    shutil.copytree(stores[before], store)
    killed = run(*crawl(hub, store, *args), hook=f"{step}=kill")
    assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
    expected = stores[result] if after_commit_point(step) else stores[before]
    assert view_state(store) == view_state(expected), step
    again = run(*crawl(hub, store, *args))
    assert again.returncode == 0, again.stderr
    same_store(Store(store), Store(stores[result]))


def test_the_step_lists_cover_writes_renames_and_removals(stores):
    delta = [s for _, s in case_steps(stores, "delta")]
    assert "commit:wrote:models-delta.parquet" in delta
    assert "commit:renamed:edges-delta.parquet" in delta
    compaction = [s for _, s in case_steps(stores, "compaction")]
    assert "commit:removed:models-delta.parquet" in compaction
    assert len(delta) <= 20 and len(compaction) <= 20  # the parametrization reaches them all


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_readers_beside_a_delta_or_compaction_commit_stopped_at_each_step(
    hub, stores, tmp_path, case
):
    before, args, result = CASES[case]
    for _, step in case_steps(stores, case):
        store = tmp_path / step.replace(":", "_").replace("/", "_")
        shutil.copytree(stores[before], store)
        writer = start(*crawl(hub, store, *args, "--quiet"), hook=f"{step}=stop")
        try:
            assert wait_stopped(writer), writer.communicate()
            files = files_of(store)
            seen = stores[result] if after_commit_point(step) else stores[before]
            share = run("share", "--store", str(store), "--format", "csv")
            assert share.returncode == 0, share.stderr
            assert share.stdout == run("share", "--store", str(seen), "--format", "csv").stdout
            assert view_state(store) == view_state(seen), step
            assert files_of(store) == files  # readers changed nothing
        finally:
            resume(writer)
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        same_store(Store(store), Store(stores[result]))


# -- damaged delta files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["models-delta.parquet", "edges-delta.parquet"])
@pytest.mark.parametrize("how", ["truncated", "missing"])
def test_a_damaged_or_missing_delta_is_named_and_nothing_changes(hub, stores, tmp_path, name, how):
    store = tmp_path / "s"
    shutil.copytree(stores["delta"], store)
    file = store / name
    if how == "missing":
        file.unlink()
    else:
        file.write_bytes(file.read_bytes()[:100])
    before = files_of(store)
    said = "is missing" if how == "missing" else "is damaged"
    requests = hub.count()
    for args in (
        crawl(hub, store, "--all"),
        ["info", "--store", str(store)],
        ["share", "--store", str(store)],
    ):
        result = run(*args)
        assert result.returncode == 1, (args, result.stdout)
        assert result.stderr.count("\n") == 1 and f"{file} {said}" in result.stderr, result.stderr
        assert REMEDY in result.stderr
    assert hub.count() == requests  # the crawl stopped before its first request
    assert files_of(store) == before


# -- a format-2 store: read as it is, rewritten by the first writer ---------------------------


@pytest.fixture(scope="module")
def upgraded(hub, tmp_path_factory):
    """The format-2 fixture after `crawl --root mistralai` (which first upgrades it)."""
    store = tmp_path_factory.mktemp("upgraded") / "s"
    shutil.copytree(FORMAT_2, store)
    done = run(*crawl(hub, store, "--root", "mistralai"))
    assert done.returncode == 0, done.stderr
    return store


def test_a_format_2_store_reads_as_it_is_and_its_upgrade_reads_the_same(tmp_path, upgraded):
    store = tmp_path / "s"
    shutil.copytree(FORMAT_2, store)
    before = files_of(store)
    as_is = Store(store)
    assert as_is.format_version == 2
    # Presence from the crawl log: the model only the older dump listed is gone.
    gone = as_is.presence().filter(~as_is.presence()["present"])
    assert gone["id"].to_list() == ["gone-org/old-model"]
    models = as_is.read("models", view="all")
    assert files_of(store) == before  # reading wrote nothing

    rewritten = Store(store)
    with rewritten.lock():  # what the first crawl or ingest does first
        pass
    assert json.loads((store / MARKER).read_text())["version"] == 3
    assert sorted(
        p.relative_to(store).as_posix() for p in store.glob("snapshots/**/*.parquet")
    ) == [
        "snapshots/date=2025-06-01/part-0.parquet",
        "snapshots/date=2026-12-06/part-0.parquet",
    ]
    after = Store(store)
    assert after.read("models", view="all").equals(models)
    for table in ("edges", "problems", "lookups", "snapshots", "crawls"):
        assert table_rows(after, table) == table_rows(as_is, table), table
    assert after.presence().equals(as_is.presence())


def upgrade_steps(upgraded_store) -> list[str]:
    """The upgrade commit's steps: a fresh copy upgraded under a stopped writer's eye."""
    snapshots = sorted(p.name for p in (FORMAT_2 / "snapshots").glob("*.parquet"))
    finals = [
        "models.parquet",
        "crawls.parquet",
        *(f"snapshots/date={n.removesuffix('.parquet')}/part-0.parquet" for n in snapshots),
    ]
    return [
        *(f"commit:wrote:{f}" for f in finals),
        f"commit:wrote:{MARKER}",
        "commit:manifest",
        *(f"commit:renamed:{f}" for f in finals),
        f"commit:renamed:{MARKER}",
        "commit:done",
        *(f"commit:removed:snapshots/{n}" for n in snapshots),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("index", range(14))
def test_a_kill_at_each_step_of_the_upgrade_then_the_same_command(hub, upgraded, tmp_path, index):
    step = upgrade_steps(upgraded)[index]
    store = tmp_path / "s"
    shutil.copytree(FORMAT_2, store)
    as_is = view_state(store)
    killed = run(*crawl(hub, store, "--root", "mistralai"), hook=f"{step}=kill")
    assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
    assert view_state(store) == as_is  # old format or new, the same store
    again = run(*crawl(hub, store, "--root", "mistralai"))
    assert again.returncode == 0, again.stderr
    same_store(Store(store), Store(upgraded))
    assert not list(store.glob("snapshots/*.parquet"))  # the old snapshot files are gone


def test_the_upgrade_step_list_is_the_upgrades_own(upgraded, tmp_path):
    store = tmp_path / "s"
    shutil.copytree(FORMAT_2, store)
    with Store(store).lock():  # the upgrade alone
        pass
    manifest = json.loads((store / "COMMIT").read_text())
    finals = [final for _, final in manifest["renames"]]
    assert upgrade_steps(upgraded) == [
        *(f"commit:wrote:{f}" for f in finals),
        "commit:manifest",
        *(f"commit:renamed:{f}" for f in finals),
        "commit:done",
        *(f"commit:removed:{f}" for f in manifest["removed"]),
    ]
    assert len(upgrade_steps(upgraded)) == 14  # the kill test's range


def test_a_reader_beside_a_stopped_upgrade_sees_the_same_store(hub, tmp_path):
    # (Steps only the upgrade passes: the crawl's own commit then runs unstopped.)
    steps = (
        "commit:wrote:lineage-store.json",
        "commit:renamed:lineage-store.json",
        "commit:removed:snapshots/2025-06-01.parquet",
    )
    for step in steps:
        store = tmp_path / step.replace(":", "_")
        shutil.copytree(FORMAT_2, store)
        as_is = view_state(store)
        writer = start(*crawl(hub, store, "--root", "mistralai", "--quiet"), hook=f"{step}=stop")
        try:
            assert wait_stopped(writer), writer.communicate()
            assert view_state(store) == as_is, step
            refused = subprocess.run(
                [sys.executable, "-m", "lineage", *crawl(hub, store, "--all")],
                capture_output=True,
                text=True,
            )
            assert refused.returncode == 1 and "in use by another lineage process" in refused.stderr
        finally:
            resume(writer)
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
