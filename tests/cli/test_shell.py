"""The command line in a shell, as real processes: pipes, full disks, exit codes, help, quiet.

Every data command is run as `python -m lineage ...` with its stdout a pipe whose reader has
gone (as `| head -c0` and `| true` leave it), a real `| head -1` / `| true` / `| head -c0`
pipeline, and `> /dev/full`. In-process runs (CliRunner) cannot see any of these: their
stdout is a buffer that never closes and never fills.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys

import click
import pytest
from support.history import item, snapshot

from lineage.cli import cli
from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.synthetic import generate


@pytest.fixture(scope="module")
def history_store(tmp_path_factory) -> str:
    """Two snapshots a month apart (for `diff` and download share)."""
    store = Store(tmp_path_factory.mktemp("history") / "s")
    snapshot(
        store,
        "2025-03-15",
        item("Qwen/base", downloads=100),
        item("mistralai/base", downloads=300),
        item("u/q-ft", "Qwen/base", downloads=50),
        item("u/m-ft", "mistralai/base", downloads=10),
    )
    snapshot(
        store,
        "2025-04-15",
        item("Qwen/base", downloads=400),
        item("mistralai/base", downloads=200),
        item("u/q-ft", "Qwen/base", downloads=100),
        item("u/m-ft", "mistralai/base"),
        item("u/q-new", "Qwen/base", downloads=200, created="2025-04-02"),
    )
    return str(store.path)


@pytest.fixture(scope="module")
def big_store(tmp_path_factory) -> str:
    """A synthetic store whose `share --by family` output is far bigger than a pipe buffer."""
    store = Store(tmp_path_factory.mktemp("big") / "s")
    population = generate(15000, seed=3)
    store.commit(
        parse_raw(population.raw, seen_at=dt.datetime(2026, 7, 1, tzinfo=dt.UTC), source="t")
    )
    return str(store.path)


def data_commands(toy: str, history: str, tmp: str) -> dict[str, list[str]]:
    """Every command that prints data on stdout, with arguments that make it print some."""
    return {
        "share": ["share", "--store", toy, "--min-downloads", "0"],
        "families": ["families", "--store", toy],
        "tree": ["tree", "Qwen/Qwen2.5-7B", "--store", toy],
        "quality": ["quality", "--store", toy],
        "info": ["info", "--store", toy],
        "regions": ["regions"],
        "snapshots": ["snapshots", "--store", history],
        "diff": ["diff", "--store", history],
        "adoption": ["adoption", "u/q-ft", "--store", history],
        "export-csv": ["neo4j", "export-csv", tmp, "--store", toy, "-q"],
    }


def lineage(args: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "lineage", *args], env=env, stderr=subprocess.PIPE, **kwargs
    )


def run_all(procs: dict[str, subprocess.Popen]) -> dict[str, tuple[int, str]]:
    out = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        out[name] = (proc.returncode, err.decode())
    return out


def test_a_closed_stdout_ends_every_data_command_quietly(toy_store, history_store, tmp_path):
    commands = data_commands(toy_store, history_store, str(tmp_path / "csv"))
    procs = {}
    for name, args in commands.items():
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the command writes a byte
        procs[name] = lineage(args, stdout=write)
        os.close(write)
    for name, (code, err) in run_all(procs).items():
        assert (code, err) == (0, ""), name


@pytest.mark.parametrize("reader", ["head -1", "true", "head -c0"])
def test_real_pipelines_into_readers_that_stop_early(big_store, reader):
    args = ["share", "--store", big_store, "--by", "family", "--min-downloads", "0"]
    full = subprocess.run(
        [sys.executable, "-m", "lineage", *args, "--format", "json"],
        capture_output=True,
        check=True,
    )
    assert len(full.stdout) > 2 * 65536  # more than a pipe buffer (64 KiB) holds
    proc = lineage([*args, "--format", "json", "-q"], stdout=subprocess.PIPE)
    head = subprocess.run(reader.split(), stdin=proc.stdout, capture_output=True, check=True)
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    assert (proc.returncode, err.decode()) == (0, "")
    if reader == "head -1":
        assert head.stdout.decode() == "[\n"


def test_a_full_disk_behind_stdout_is_one_line(toy_store, history_store, tmp_path):
    commands = data_commands(toy_store, history_store, str(tmp_path / "csv"))
    procs = {}
    with open("/dev/full", "wb") as full:
        for name, args in commands.items():
            procs[name] = lineage(args, stdout=full)
    for name, (code, err) in run_all(procs).items():
        assert code == 1, name
        assert err == "error: cannot write standard output: no space left on device\n", name


def test_only_a_pipe_whose_reader_is_gone_counts_as_closed(tmp_path):
    """The group swallows a BrokenPipeError only when stdout or stderr really lost its reader;
    a broken socket to the Hub or Neo4j, with both streams open, stays an error."""
    from lineage.cli.group import _reader_gone

    read, write = os.pipe()
    with os.fdopen(write, "wb") as open_pipe:
        assert not _reader_gone(open_pipe)
        os.close(read)
        assert _reader_gone(open_pipe)
    with open(tmp_path / "file", "wb") as regular, open("/dev/null", "wb") as device:
        assert not _reader_gone(regular) and not _reader_gone(device)
    assert not _reader_gone(io.StringIO())  # no descriptor at all (CliRunner's streams)


# -- usage errors: exit 2, click's usage message, nothing on stdout ---------------------------

USAGE_ERRORS = [
    ["share", "--since", "2025-13"],
    ["share", "--since", "25-01"],
    ["share", "--until", "2025-1"],
    ["share", "--since", "2025-06", "--until", "2025-01"],
    ["share", "--plot", "x.jpg"],
    ["share", "--format", "xml"],
    ["share", "--min-downloads", "-1"],
    ["share", "--metric", "downloads", "--by", "builder-region"],
    ["families", "--downloads", "30d"],
    ["families", "--plot", "families.pdf"],
    ["info", "--format", "yaml"],
    ["diff", "--format", "xml"],
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_usage_errors_exit_2_before_any_output(run_cli, toy_store, args):
    result = run_cli(*args, "--store", toy_store)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: ") and "\nError: " in result.stderr


def test_since_after_until_is_named(run_cli, toy_store):
    result = run_cli("share", "--store", toy_store, "--since", "2025-06", "--until", "2025-01")
    assert "Error: --since 2025-06 is after --until 2025-01: no month is both" in result.stderr


def test_a_bad_plot_path_fails_before_the_table(run_cli, toy_store, tmp_path):
    missing = tmp_path / "none" / "share.png"
    result = run_cli("share", "--store", toy_store, "--plot", str(missing))
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"error: cannot write {missing}: directory {missing.parent} does not exist\n"
    )


# -- what every command offers ----------------------------------------------------------------


def all_commands(group: click.Group = cli, prefix: str = ""):
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            yield from all_commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_every_option_has_help_text():
    lacking = [
        f"{name} {param.opts[0]}"
        for name, command in all_commands()
        for param in command.params
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert lacking == []


DATA_COMMANDS = {"share", "families", "tree", "quality", "info", "regions", "snapshots", "diff"}


def test_every_data_command_takes_table_csv_and_json():
    commands = dict(all_commands())
    for name in [*DATA_COMMANDS, "adoption"]:
        formats = next(p for p in commands[name].params if p.name == "fmt")
        assert list(formats.type.choices) == ["table", "csv", "json"], name


def test_info_and_diff_as_csv(run_cli, toy_store, history_store):
    rows = dict(
        csv.reader(io.StringIO(run_cli("info", "--store", toy_store, "--format", "csv").stdout))
    )
    assert rows["field"] == "value"
    assert rows["models"] == "28" and rows["edges_by_relation.merge"] == "11"
    assert rows["crawls.1.strategy"] == "all"
    changed = list(
        csv.DictReader(
            io.StringIO(run_cli("diff", "--store", history_store, "--format", "csv").stdout)
        )
    )
    sections = [r["section"] for r in changed]
    assert sections[0] == "summary" and {"added", "families", "regions"} <= set(sections)
    summary = changed[0]
    assert (summary["before"], summary["after"], summary["models_added"]) == (
        "2025-03-15",
        "2025-04-15",
        "1",
    )
    added = [r for r in changed if r["section"] == "added"]
    assert [(r["id"], r["roots"]) for r in added] == [("u/q-new", "Qwen/base")]


def test_tree_as_csv_has_its_paths_and_its_descendants(run_cli, toy_store):
    result = run_cli("tree", "carol/qwen-llama-merge", "--store", toy_store, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    paths = [(r["path"], r["step"], r["model"]) for r in rows if r["section"] == "paths"]
    assert paths[:2] == [("1", "1", "carol/qwen-llama-merge"), ("1", "2", "alice/qwen-chat-ft")]
    assert {r["path"] for r in rows if r["section"] == "paths"} == {"1", "2"}
    assert [r for r in rows if r["section"] == "descendants"] == []  # a leaf
    root = run_cli("tree", "Qwen/Qwen2.5-7B", "--store", toy_store, "--format", "csv").stdout
    counts = [int(r["count"]) for r in csv.DictReader(io.StringIO(root)) if r["count"]]
    assert sum(counts) == 21


def test_months_print_as_yyyy_mm_in_every_format(run_cli, toy_store, history_store):
    table = run_cli("share", "--store", toy_store, "--min-downloads", "0").stdout
    assert "| 2024-02 | eu" in table and "2024-02-01" not in table
    as_csv = run_cli("share", "--store", toy_store, "--min-downloads", "0", "--format", "csv")
    months = {r["month"] for r in csv.DictReader(io.StringIO(as_csv.stdout))}
    assert months and all(len(m) == 7 and m[4] == "-" for m in months)
    both = run_cli(
        "share",
        "--store",
        history_store,
        "--metric",
        "both",
        "--downloads",
        "30d",
        "--min-downloads",
        "0",
        "--format",
        "json",
    )
    assert {r["month"] for r in json.loads(both.stdout)} == {"2025-01", "2025-03", "2025-04"}


def test_share_states_its_filters_in_one_stderr_line(run_cli, toy_store):
    result = run_cli("share", "--store", toy_store, "--roots", "atom", "--since", "2025-01")
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "share of derivatives with more than 5 all-time downloads; by root region; "
        "roots: atom; merges: split; months shown: 2025-01 to 2025-05 "
        "(5 months with derivatives)"
    )
    quiet = run_cli("share", "--store", toy_store, "--roots", "atom", "--since", "2025-01", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == result.stdout


def test_quiet_silences_every_command_that_writes_to_stderr(
    run_cli, toy_store, history_store, tmp_path
):
    """Each command that prints anything on stderr besides errors takes --quiet, and then
    prints nothing there (and the same data); commands without it never write to stderr."""
    runs = [
        (name.split()[0] if name != "export-csv" else "neo4j export-csv", args)
        for name, args in data_commands(toy_store, history_store, str(tmp_path / "c")).items()
    ]
    runs = [(c, [a for a in args if a != "-q"]) for c, args in runs]
    runs += [
        ("share", ["share", "--store", toy_store, "--plot", str(tmp_path / "s.png")]),
        ("families", ["families", "--store", toy_store, "--plot", str(tmp_path / "f.svg")]),
        ("adoption", ["adoption", "Qwen/base", "--store", history_store]),  # no window covered
        (
            "export html",
            [
                "export",
                "html",
                "--store",
                toy_store,
                "--root",
                "Qwen",
                "-o",
                str(tmp_path / "t.html"),
            ],
        ),
    ]
    quiet_takers = {
        name for name, command in all_commands() if any(p.name == "quiet" for p in command.params)
    }
    seen = set()
    for command, args in runs:
        loud = run_cli(*args)
        assert loud.exit_code == 0, (args, loud.stderr)
        if command not in quiet_takers:
            assert loud.stderr == "", command
            continue
        if loud.stderr:
            seen.add(command)  # it had something to silence
        quiet = run_cli(*args, "--quiet")
        assert quiet.exit_code == 0, (command, quiet.stderr)
        assert (quiet.stderr, quiet.stdout) == ("", loud.stdout), command
    assert seen == {"share", "families", "adoption", "export html", "neo4j export-csv"}
    # The commands whose stderr is a progress bar and a summary: crawl, ingest, neo4j load.
    assert {"neo4j load", "ingest hub-stats", "crawl"} <= quiet_takers
