"""What is a store: the format marker, stores from before it, strangers, and what `info` says.

``fixtures/store-before-markers/`` is a store written by lineage before format markers
(its commit 13cf238: `lineage crawl --root mistralai` of the toy Hub): Parquet tables,
``crawls.parquet``, ``snapshots/``, an empty ``LOCK``; no marker, no ``COMMIT``.
"""

from __future__ import annotations

import json
import shlex
import shutil
import signal

import pytest
from support.hubstats_dump import write_hub_stats_dump
from support.storecheck import files_of, info_json, run, summary_lines
from support.toyhub import FIXTURES, toy_models, toy_renames

from lineage.store import FORMAT_VERSION, MARKER, OLDEST_READER, Store
from lineage.testing.fakehub import FakeHub

LEGACY = FIXTURES / "store-before-markers"


@pytest.fixture(scope="module")
def hub():
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        yield hub


def one_line_error(result, *parts: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    for part in parts:
        assert part in result.stderr, result.stderr


def test_a_new_store_has_its_format_marker(tmp_path):
    Store(tmp_path / "s")
    marker = json.loads((tmp_path / "s" / MARKER).read_text())
    assert marker["version"] == FORMAT_VERSION == 3
    assert marker["oldest_reader"] == OLDEST_READER == 3
    assert marker["format"] == "lineage store" and marker["created_at"]


def test_a_directory_that_is_not_a_store_is_refused_by_every_command(tmp_path, hub):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"\xff\xd8 not a store")
    before = files_of(folder)
    dump = write_hub_stats_dump(toy_models()[:2], tmp_path / "models.parquet")
    for args in (
        ["info"],
        ["share"],
        ["crawl", "--all", "--endpoint", hub.url],
        ["ingest", "hub-stats", str(dump)],
    ):
        one_line_error(
            run(*args, "--store", str(folder)),
            f"{folder} is not a lineage store (no {MARKER}) and is not empty",
            "'holiday.jpg'",
        )
    assert files_of(folder) == before


def test_a_hub_stats_dump_folder_is_not_taken_for_a_store(tmp_path):
    """Its models.parquet has the right name but not a store's columns."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    write_hub_stats_dump(toy_models()[:2], folder / "models.parquet")
    one_line_error(
        run("info", "--store", str(folder)), "models.parquet is not a lineage models table"
    )


def test_an_empty_directory_is_no_store_to_read_but_a_place_to_crawl_into(tmp_path, hub):
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(run("info", "--store", str(empty)), f"no store at {empty} (an empty directory)")
    assert list(empty.iterdir()) == []
    done = run("crawl", "--root", "mistralai", "--store", str(empty), "--endpoint", hub.url)
    assert done.returncode == 0, done.stderr
    assert (empty / MARKER).exists()


def test_a_store_from_before_markers_is_read_as_it_is_and_adopted_by_the_next_writer(tmp_path, hub):
    store = tmp_path / "legacy"
    shutil.copytree(LEGACY, store)
    before = files_of(store)
    info = info_json(store)
    assert info["models"] == 3 and info["format_version"] == 1 and len(info["crawls"]) == 1
    assert files_of(store) == before  # a reader does not adopt it: it writes nothing

    done = run("crawl", "--all", "--store", str(store), "--endpoint", hub.url)
    assert done.returncode == 0, done.stderr
    assert "models: 28 (25 new, 0 updated)" in done.stderr  # its 3 models, seen as they were
    marker = json.loads((store / MARKER).read_text())
    assert marker["version"] == FORMAT_VERSION
    info = info_json(store)
    assert info["models"] == 28 and len(info["crawls"]) == 2
    # The old crawl's rows are kept: the store was adopted, not replaced.
    assert Store(store).read("crawls")["roots"].to_list()[0] == ["mistralai"]


@pytest.mark.parametrize(
    ("version", "oldest_reader", "reads", "writes"),
    [
        (FORMAT_VERSION + 1, FORMAT_VERSION, True, False),  # newer, additive: read, not write
        (FORMAT_VERSION + 2, FORMAT_VERSION + 1, False, False),  # newer, incompatible
        (FORMAT_VERSION, OLDEST_READER, True, True),
        (1, 1, True, True),  # an older store: read, and upgraded by the writer
    ],
)
def test_format_versions_decide_who_may_read_and_who_may_write(
    tmp_path, hub, version, oldest_reader, reads, writes
):
    store = tmp_path / "s"
    done = run("crawl", "--root", "mistralai", "--store", str(store), "--endpoint", hub.url)
    assert done.returncode == 0, done.stderr
    marker = json.loads((store / MARKER).read_text())
    (store / MARKER).write_text(
        json.dumps({**marker, "version": version, "oldest_reader": oldest_reader})
    )
    before = files_of(store)
    info = run("info", "--store", str(store))
    crawl = run("crawl", "--root", "mistralai", "--store", str(store), "--endpoint", hub.url)
    if reads:
        assert info.returncode == 0, info.stderr
    else:
        one_line_error(info, f"has format version {version}, which this lineage", "upgrade")
    if writes:
        assert crawl.returncode == 0, crawl.stderr
    else:
        one_line_error(crawl, f"has format version {version}", "upgrade lineage")
        assert files_of(store) == before


def test_a_damaged_marker_is_named(tmp_path):
    Store(tmp_path)
    (tmp_path / MARKER).write_text("{not json")
    one_line_error(run("info", "--store", str(tmp_path)), f"store marker {tmp_path / MARKER}")


def test_a_dump_without_rows_is_refused_and_not_logged(tmp_path):
    store = tmp_path / "s"
    dump = write_hub_stats_dump([], tmp_path / "models.parquet")
    result = run("ingest", "hub-stats", str(dump), "--store", str(store), "--date", "2026-01-05")
    one_line_error(result, f"hub-stats dump {dump} has no rows")
    assert Store(store).read("crawls").height == 0


def test_info_names_an_interrupted_crawl_and_the_command_that_resumes_it(tmp_path, hub):
    reference = tmp_path / "reference"
    done = run("crawl", "--all", "--store", str(reference), "--endpoint", hub.url)
    store = tmp_path / "store"
    killed = run(
        "crawl", "--all", "--store", str(store), "--endpoint", hub.url,
        hook="journal:recorded:page=kill",
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL

    table = run("info", "--store", str(store))
    lines = table.stdout.splitlines()
    [at] = [i for i, x in enumerate(lines) if x.startswith("interrupted crawl:")]
    line = lines[at]
    command = f"lineage crawl --all --endpoint {hub.url} --store {store}"
    assert line.startswith(f"interrupted crawl: `{command}` started ")
    assert "last progress" in line and line.endswith(": 1 listing page (5 models), 0 lookups")
    assert lines[at + 1].startswith("  run that command to resume it, or ")
    [journal] = info_json(store)["journals"]
    assert journal["state"] == "interrupted" and journal["command"] == command

    args = shlex.split(command)
    assert args[0] == "lineage"
    resumed = run(*args[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert summary_lines(resumed.stderr) == summary_lines(done.stderr)  # whole-crawl totals
    assert info_json(store)["journals"] == []


def test_progress_is_said_to_be_saved_only_when_something_was(tmp_path, hub):
    nothing = run(
        "crawl", "--all", "--store", str(tmp_path / "a"), "--endpoint", "http://127.0.0.1:9",
        "--give-up-after", "0.5", "--quiet",
    )  # fmt: skip
    one_line_error(nothing, "kept failing", "nothing was fetched yet")
    assert "progress is saved" not in nothing.stderr

    hub.inject("list", delay=0.0001, times=2)  # two pages pass, then the Hub fails
    hub.inject("list", status=500, times=1_000)
    try:
        some = run(
            "crawl", "--all", "--store", str(tmp_path / "b"), "--endpoint", hub.url,
            "--give-up-after", "0.5", "--quiet",
        )  # fmt: skip
    finally:
        hub.clear_faults()
    one_line_error(
        some, "progress is saved (2 listing pages, 0 lookups); run the same command again to resume"
    )
