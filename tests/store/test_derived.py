"""Derived state kept beside the store (lineage.derived): the resolved graph, the default
attribution, the default share's counts and info's counts, per commit generation.

With real `lineage` processes: a reader killed while it writes the state (every file of
every set, and after each rename), readers racing to write it, readers pinned to one
generation while a writer commits the next, state files truncated, foreign, emptied,
replaced by a FIFO or carried over from another generation, and a store directory the
reader cannot write. In every case the answer is the one computed from the store itself,
and no state of another generation is ever used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from support.storecheck import files_of, run

from lineage import derived
from lineage.analysis import load_context, share
from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.synthetic import generate

SETS = (
    "graph-declared",
    "attribution-declared",
    "info",
    "observed",
    "share-region-declared",
    "share-family-declared",
    "families-declared",
)
WHEN = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def commit_population(path: Path, models: int, seed: int) -> None:
    population = generate(models, seed=seed)
    Store(path).commit(parse_raw(population.raw, seen_at=WHEN, source="synthetic"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A store and what share, families, tree, quality and info say of it, computed with
    no kept state at all (derived/ deleted before each)."""
    path = tmp_path_factory.mktemp("derived") / "store"
    commit_population(path, 4000, seed=3)
    answers = {}
    for name, args in COMMANDS.items():
        shutil.rmtree(path / "derived", ignore_errors=True)
        answers[name] = ask(path, args)
    shutil.rmtree(path / "derived", ignore_errors=True)
    return {"path": path, "answers": answers}


COMMANDS = {
    "share": ["share", "--format", "csv"],
    "share-family": ["share", "--by", "family", "--format", "csv"],
    # A threshold the kept share does not answer: counted from the kept attribution.
    "share-counted": ["share", "--min-downloads", "0", "--format", "csv"],
    "families": ["families", "--format", "csv"],
    "quality": ["quality", "--format", "csv"],
    "info": ["info", "--format", "json"],
}


def ask(store: Path, args: list[str], hook: str | None = None) -> str:
    result = run(*args, "--store", str(store), hook=hook)
    assert result.returncode == 0, result.stderr
    if args[0] == "info":  # minus what changes between runs: where and when
        info = json.loads(result.stdout)
        return json.dumps({k: v for k, v in info.items() if k not in ("store", "crawls")})
    return result.stdout


def copy(reference, tmp_path) -> Path:
    store = tmp_path / "store"
    shutil.copytree(reference["path"], store)
    return store


def kept_dir(store: Path) -> Path:
    return Store(store, create=False).derived_dir


def test_state_is_kept_once_tagged_and_read_by_every_command(reference, tmp_path):
    store = copy(reference, tmp_path)
    for name, args in COMMANDS.items():
        assert ask(store, args) == reference["answers"][name], name
    folder = kept_dir(store)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        (*SETS, "quality")
    )  # nothing left half-written
    stamps = {p: p.stat().st_mtime_ns for p in folder.rglob("*.parquet")}
    opened = Store(store, create=False)
    for part in (folder / "graph-declared").glob("*.parquet"):
        tag = json.loads(pl.read_parquet_metadata(part)["lineage_derived"])
        assert tag["generation"] == opened.generation and tag["token"] == opened.commit_token
        assert tag["set"] == "graph-declared" and tag["part"] == part.stem
    for name, args in COMMANDS.items():  # again: read, not rewritten
        assert ask(store, args) == reference["answers"][name], name
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*.parquet")} == stamps
    assert files_of(store) == files_of(reference["path"])  # the store's own files: untouched


@pytest.mark.parametrize(
    "step",
    [
        "derived:wrote:graph-declared/nodes",
        "derived:wrote:graph-declared/resolution",
        "derived:kept:graph-declared",
        "derived:wrote:attribution-declared/weights",
        "derived:kept:attribution-declared",
        "derived:wrote:info/counts",
        "derived:wrote:share-region-declared/unattributed",
        "derived:kept:share-region-declared",
        "derived:wrote:families-declared/table",
    ],
)
def test_a_reader_killed_while_keeping_state_leaves_nothing_that_is_used(reference, tmp_path, step):
    store = copy(reference, tmp_path)
    command = next(
        (c for c in ("info", "families") if step.startswith(f"derived:wrote:{c}")), "share"
    )
    killed = run(*COMMANDS[command], "--store", str(store), hook=f"{step}=kill")
    assert killed.returncode == -9, killed.stderr  # it died where asked, not before
    for name, args in COMMANDS.items():
        assert ask(store, args) == reference["answers"][name], name
    folder = kept_dir(store)
    whole = {p.name for p in folder.iterdir() if not p.name.startswith(".tmp-")}
    assert set(SETS) <= whole
    # The dead reader's temporary directory stays until it is an hour old (another reader
    # may be writing one right now); nothing reads it.
    assert len([p for p in folder.iterdir() if p.name.startswith(".tmp-")]) <= 1


def test_readers_racing_to_keep_the_same_state_all_answer_right(reference, tmp_path):
    store = copy(reference, tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "lineage", *COMMANDS["share"], "--store", str(store)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert {o for o, _ in outs} == {reference["answers"]["share"]}
    folder = kept_dir(store)
    assert sorted(p.name for p in folder.iterdir()) == [
        "attribution-declared",
        "graph-declared",
        "observed",
        "share-region-declared",
    ]


def damage(file: Path, how: str, other: Path) -> None:
    data = file.read_bytes()
    file.unlink()
    if how == "truncated":
        file.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        file.write_bytes(b"")
    elif how == "garbage":
        file.write_bytes(b"not parquet\n" * 30)
    elif how == "foreign":  # a good Parquet file, not one of ours
        pl.DataFrame({"idx": [1, 2], "id": ["a/b", "c/d"]}).write_parquet(file)
    elif how == "fifo":
        os.mkfifo(file)
    elif how == "other-set":  # a kept file of this generation, but another part
        file.write_bytes(other.read_bytes())


@pytest.mark.parametrize("how", ["truncated", "empty", "garbage", "foreign", "fifo", "other-set"])
@pytest.mark.parametrize(
    "part",
    [
        "graph-declared/nodes",
        "attribution-declared/weights",
        "share-region-declared/table",
        "families-declared/table",
    ],
)
def test_damaged_state_is_rebuilt_never_trusted(reference, tmp_path, how, part):
    store = copy(reference, tmp_path)
    for name in ("share", "share-family", "families"):
        assert ask(store, COMMANDS[name]) == reference["answers"][name], name
    folder = kept_dir(store)
    target = folder / f"{part}.parquet"
    damage(target, how, folder / "graph-declared" / "edges.parquet")
    for name in ("share", "share-family", "families"):
        assert ask(store, COMMANDS[name]) == reference["answers"][name], name
    assert target.is_file()  # written again, whole, tagged
    tag = json.loads(pl.read_parquet_metadata(target)["lineage_derived"])
    assert tag["part"] == target.stem


@pytest.mark.parametrize(
    "command, part",
    [
        ("share-counted", "attribution-declared/derivatives"),
        ("share", "share-region-declared/table"),
        ("families", "families-declared/table"),
    ],
)
def test_damage_in_data_pages_found_while_reading_drops_the_set(reference, tmp_path, command, part):
    """A file whose footer is whole but whose data is not: found only when read, then the
    set is dropped and the answer built from the store."""
    store = copy(reference, tmp_path)
    ask(store, COMMANDS[command])
    target = kept_dir(store) / f"{part}.parquet"
    data = bytearray(target.read_bytes())
    data[4:200] = b"\xab" * 196
    target.write_bytes(bytes(data))
    assert ask(store, COMMANDS[command]) == reference["answers"][command]
    assert ask(store, COMMANDS[command]) == reference["answers"][command]


def test_state_of_another_generation_is_never_used(reference, tmp_path):
    """Neither the old generation's state for the new, nor the new's for the old."""
    store = copy(reference, tmp_path)
    old_share = ask(store, COMMANDS["share"])
    old_dir = kept_dir(store)
    pinned = Store(store, create=False)  # a reader pinned to the old generation
    pinned_ctx = load_context(pinned)
    pinned_ctx.graph.n  # noqa: B018 - the old graph is opened (from its kept files)
    commit_population(store, 5000, seed=4)  # the writer commits a different population
    new_dir = kept_dir(store)
    assert new_dir != old_dir and not old_dir.exists()  # the writer swept the old state
    # The old state, carried into the new generation's place, is refused (its tags).
    new_dir.parent.mkdir(exist_ok=True)
    shutil.copytree(reference_state(reference, tmp_path), new_dir)
    shutil.rmtree(store.parent / "fresh", ignore_errors=True)
    fresh = store.parent / "fresh"
    shutil.copytree(store, fresh, ignore=shutil.ignore_patterns("derived"))
    new_share = ask(fresh, COMMANDS["share"])
    assert new_share != old_share
    assert ask(store, COMMANDS["share"]) == new_share
    # The pinned reader still answers for its own generation.
    same = load_context(Store(tmp_path / "ref-copy", create=False))  # the old generation
    assert share(pinned_ctx).table.equals(share(same).table)
    # and a reader of the new generation never reads the old one's files.
    assert derived.open_set(Store(store, create=False), "graph-declared", derived.GRAPH_PARTS)


def reference_state(reference, tmp_path) -> Path:
    """The kept state of the reference store's generation (made in a copy)."""
    store = tmp_path / "ref-copy"
    shutil.copytree(reference["path"], store)
    ask(store, COMMANDS["share"])
    return kept_dir(store)


def test_a_store_the_reader_cannot_write_still_answers(reference, tmp_path):
    """A read-only store directory (another user's, or a read-only mount): the state is
    built in memory for the one command, nothing is written."""
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run lineage as another user")
    base = Path("/tmp") / f"lineage-ro-{os.getpid()}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(mode=0o755)
    try:
        store = base / "store"
        shutil.copytree(reference["path"], store, ignore=shutil.ignore_patterns("derived"))
        for path in [store, *store.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        before = files_of(store)
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        for name in ("share", "families", "info"):
            result = subprocess.run(
                [
                    *as_nobody,
                    sys.executable,
                    "-m",
                    "lineage",
                    *COMMANDS[name],
                    "--store",
                    str(store),
                ],
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "HOME": str(base)},
            )
            assert result.returncode == 0, result.stderr
            if name == "info":
                info = json.loads(result.stdout)
                got = json.dumps({k: v for k, v in info.items() if k not in ("store", "crawls")})
                assert got == reference["answers"]["info"]
            else:
                assert result.stdout == reference["answers"][name]
        assert not (store / "derived").exists()
        assert files_of(store) == before
    finally:
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(base, ignore_errors=True)
