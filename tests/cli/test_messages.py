"""What lineage says, read as a user reads it: true, one line where it is an error, short.

Each case here was wrong once: `--quiet` refused by readers, `--resolve-parents` with nothing
left printing a summary of zeros, help describing choices a command does not offer, a 100 KB
id echoed whole, an over-long --store or a full disk reported as an unexpected error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from support.storecheck import table_rows
from support.toyhub import client_for, toy_models, toy_renames
from test_shell import all_commands

from lineage.crawl import Crawler, CrawlRequest
from lineage.store import Store
from lineage.testing.fakehub import FakeHub

HUGE = "x/" + "y" * 100_000


def lineage(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lineage", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_every_command_takes_quiet():
    lacking = [name for name, c in all_commands() if not any(p.name == "quiet" for p in c.params)]
    assert lacking == []


@pytest.mark.parametrize(
    "args",
    [
        ["tree", "Qwen/Qwen2.5-7B"],
        ["quality"],
        ["regions", "--unmapped"],
        ["info"],
        ["snapshots"],
    ],
)
def test_readers_once_refusing_quiet_take_it(run_cli, toy_store, args):
    loud = run_cli(*args, "--store", toy_store)
    quiet = run_cli(*args, "--store", toy_store, "--quiet")
    assert loud.exit_code == quiet.exit_code == 0, quiet.stderr
    assert quiet.stdout == loud.stdout and quiet.stderr == ""


def test_diff_takes_quiet_and_still_says_its_error(run_cli, toy_store):
    result = run_cli("diff", "--store", toy_store, "-q")
    assert result.exit_code == 1 and result.stderr.startswith("error: ")


def test_the_lineage_help_describes_only_the_choices_offered():
    for name, command in all_commands():
        for param in command.params:
            if param.name != "lineage":
                continue
            choices = list(param.type.choices)
            for word in ("declared", "inferred", "both"):
                assert (f"{word}:" in param.help) == (word in choices), (name, param.help)


def test_resolve_parents_with_nothing_left_says_so(run_cli, toy_store, tmp_path):
    store = tmp_path / "s"
    shutil.copytree(toy_store, store)
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        result = run_cli("crawl", "--resolve-parents", "--store", str(store), "--endpoint", hub.url)
        assert hub.count() == 0
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        f"no parents are left unresolved in {store}: nothing to look up (0 requests)\n"
    )


def test_a_family_counts_its_own_models_and_its_parents_apart(run_cli, tmp_path):
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        result = run_cli(
            "crawl", "--root", "Qwen", "--strategy", "walk", "--store", str(tmp_path / "s"),
            "--endpoint", hub.url,
        )  # fmt: skip
    # 21 family models, all new; the 2 parents outside it (new too) are not family models.
    assert "  family: 21 models (21 new, 0 updated); parents outside it: 2 not crawled (2 new)" in (
        result.stderr
    )
    assert "1 redirect followed too" in result.stderr  # the renamed parent's 307


@pytest.mark.parametrize(
    "args",
    [
        ["tree", HUGE],
        ["adoption", HUGE],
        ["export", "html", "--root", HUGE, "-o", "x.html"],
        ["share", "--since", HUGE],
        ["crawl", "--root", HUGE],
        ["crawl", "--all", "--lookup-budget", HUGE],
    ],
)
def test_a_100_kb_value_is_not_echoed_whole(toy_store, tmp_path, args):
    result = lineage(*args, "--store", toy_store, cwd=str(tmp_path))
    assert result.returncode in (1, 2), result.stderr[:500]
    assert "Traceback" not in result.stderr
    assert max(len(line) for line in result.stderr.splitlines()) < 400
    assert re.search(r"\.\.\. \(1000\d\d chars\)", result.stderr), result.stderr[:500]


def test_an_over_long_store_name_is_one_line(tmp_path):
    long = tmp_path / ("a" * 300)
    for args in (["info"], ["crawl", "--all", "--endpoint", "http://127.0.0.1:9"]):
        result = lineage(*args, "--store", str(long))
        assert result.returncode == 1
        [line] = result.stderr.splitlines()
        assert line.startswith(f"error: cannot use store directory {tmp_path}/aaaa")
        assert line.endswith(": file name too long; pass --store DIR")
        assert len(line) < 400


def test_the_journal_and_crawl_log_hold_no_credentials(tmp_path):
    store = Store(tmp_path / "s")
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        client = client_for(hub)
        client.api.endpoint = hub.url.replace("http://", "http://bob:hunter2@")
        Crawler(store, client).run(CrawlRequest(roots=("mistralai",)))
    assert store.read("crawls")["endpoint"].to_list() == [client.endpoint]
    assert "hunter2" not in client.endpoint


# ---- a full disk ---------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A 96 KB tmpfs (root only; skipped where mounting is not allowed)."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True)


def test_a_full_disk_says_so_keeps_what_was_saved_and_resumes(tmp_path, tiny_disk):
    population = [
        {
            "id": f"org{i % 50}/model-{i:05d}-with-a-long-name-to-fill-pages",
            "createdAt": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000Z",
            "downloads": i,
            "tags": [f"base_model:org{i % 7}/model-{i % 13:05d}-with-a-long-name-to-fill-pages"],
        }
        for i in range(4000)
    ]
    reference, store = tmp_path / "reference", tiny_disk / "s"
    with FakeHub(population, page_size=500) as hub:
        args = ["crawl", "--all", "--no-lookups", "--endpoint", hub.url, "--store"]
        assert lineage(*args, str(reference)).returncode == 0
        full = lineage(*args, str(store))
        assert full.returncode == 1, full.stderr
        [line] = full.stderr.splitlines()
        assert line.startswith(f"error: the disk holding {store} is full (no space left on ")
        assert "nothing already stored was lost" in line and "Traceback" not in full.stderr
        assert "ComputeError" not in line and "out of specification" not in line
        # Room again (the same mount, grown): the command the line names resumes.
        grown = subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)])
        assert grown.returncode == 0
        resumed = lineage(*args, str(store))
        assert resumed.returncode == 0, resumed.stderr
    for table in ("models", "edges", "problems"):
        drop = ("seen_at",) if table == "models" else ()
        assert table_rows(Store(store), table, drop=drop) == table_rows(
            Store(reference), table, drop=drop
        )


def test_quality_lines_stay_short_with_the_longest_ids(run_cli, tmp_path):
    name = "n" * 96
    models = [
        {"id": f"{'o' * 90}{i}/{name}", "createdAt": "2025-01-01T00:00:00.000Z", "tags": ["gguf"]}
        for i in range(6)
    ]
    store = Store(tmp_path / "s")
    with FakeHub(models) as hub:
        Crawler(store, client_for(hub)).run(CrawlRequest(all=True))
    result = run_cli("quality", "--store", str(store.path))
    assert result.exit_code == 0, result.stderr
    # One whole id of the longest kind (193 characters), the others counted: once 5 whole.
    assert max(len(line) for line in result.stdout.splitlines()) <= 300
    assert f"0/{name}, (+4 more) |" in result.stdout
    every = run_cli("quality", "--store", str(store.path), "--format", "csv")
    assert every.stdout.count(name) >= 5  # CSV keeps every example whole


def test_info_help_says_how_to_abandon():
    from lineage.cli import cli

    info = cli.commands["info"]
    text = info.get_help(click.Context(info))
    assert "--abandon" in text


def test_the_packaged_queries_are_found_where_lineage_says(run_cli, toy_store, tmp_path):
    result = run_cli("neo4j", "export-csv", str(tmp_path / "out"), "--store", toy_store)
    assert result.exit_code == 0, result.stderr
    where = result.stderr.rsplit(" in ", 1)[1].strip()
    assert Path(where, "schema.cypher").is_file()


def test_diff_never_prints_null_for_a_model_that_reaches_no_root(run_cli, tmp_path):
    # An added model whose root is outside the root set (--roots FILE) has no roots: an empty
    # list in JSON and an empty cell in the table, never `null` (it once printed `roots: null`).
    import datetime as dt

    from lineage.records import parse_items

    def item(mid, *parents, downloads=0, created="2025-01-01"):
        tags = [t for p in parents for t in (f"base_model:{p}", f"base_model:finetune:{p}")]
        return {"id": mid, "createdAt": f"{created}T00:00:00.000Z", "downloads": downloads,
                "downloadsAllTime": downloads, "tags": tags}  # fmt: skip

    def snapshot(store, day, *items):
        seen = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        batch, _ = parse_items(list(items), seen_at=seen, source="list")
        store.commit(batch, snapshot_date=dt.date.fromisoformat(day))

    store = Store(tmp_path / "s")
    snapshot(store, "2025-03-15", item("Qwen/base", downloads=10), item("x/base", downloads=5))
    snapshot(
        store,
        "2025-04-15",
        item("Qwen/base", downloads=10),
        item("x/base", downloads=5),
        item("u/q-new", "Qwen/base", downloads=9, created="2025-04-02"),
        item("u/x-new", "x/base", downloads=7, created="2025-04-03"),
        item("z/solo", downloads=8, created="2025-04-04"),  # parentless, not in the root set
    )
    roots = tmp_path / "roots.txt"
    roots.write_text("Qwen/base\n")
    args = ["diff", "--store", str(store.path), "--roots", str(roots)]
    shown = run_cli(*args, "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    added = {a["id"]: a["roots"] for a in __import__("json").loads(shown.stdout)["added"]}
    assert added == {"u/q-new": ["Qwen/base"], "z/solo": [], "u/x-new": []}
    for fmt in ("table", "csv"):
        text = run_cli(*args, "--format", fmt).stdout
        assert "z/solo" in text and "null" not in text and "None" not in text


def test_counts_agree_with_their_nouns(run_cli, tmp_path):
    store = tmp_path / "s"
    with FakeHub(toy_models(), page_size=50, renames=toy_renames()) as hub:
        for args in (["--all"], ["--all", "--new"]):  # the update: one listing request
            done = run_cli("crawl", *args, "--store", str(store), "--endpoint", hub.url)
            assert done.exit_code == 0, done.stderr
    assert "requests: 1 (1 listing, 0 lookups;" in done.stderr
    info = run_cli("info", "--store", str(store)).stdout
    assert re.search(r"crawl whole Hub \(new\): 1 request, ", info), info
    one_date = run_cli("diff", "--store", str(store))
    assert one_date.stderr.startswith("error: the store has 1 snapshot date; diff needs two")
    for text in (done.stderr, info, one_date.stderr):
        assert "(s)" not in text and not re.search(r"\b1 (requests|lookups|dates)\b", text)


@pytest.mark.parametrize("command", ["share", "infer"])
def test_a_removed_option_names_its_replacement(command):
    # --origin-weight was `infer --resolve-roots`'s; users still type it (also to share).
    result = lineage(command, "--origin-weight", "1")
    assert result.returncode == 2 and result.stdout == ""
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error == [
        "Error: No such option '--origin-weight': removed; `lineage infer --resolve-roots` "
        "orders the roots it reads with --unplaced-share SHARE instead (0: by impact alone, "
        "1: every root without a region first)."
    ]


def test_a_typo_of_a_live_option_keeps_clicks_suggestion():
    result = lineage("infer", "--unplaced", "1")
    assert result.returncode == 2
    assert "No such option '--unplaced'. Did you mean '--unplaced-share'?" in result.stderr
    assert "removed" not in result.stderr
