"""Real lineage processes (run to the end, stopped or killed at named steps) and stores
compared table by table, for the store-safety, resume and command-line tests.

The steps are the store's and journal's test hook (``LINEAGE_TEST_HOOK``, see
``lineage.checkpoints.checkpoint``): a process told ``STEP=kill`` SIGKILLs itself there, one told
``STEP=stop`` SIGSTOPs itself there and waits for the test's SIGCONT.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from lineage.store import Store


def lineage_subprocess(*args: str, env: dict | None = None, **kwargs) -> subprocess.Popen:
    """Start `python -m lineage ARGS` as a real process (for kill and signal tests)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "lineage", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def table_rows(store: Store, table: str, *, drop: tuple[str, ...] = ()) -> list[tuple]:
    """A table's rows as sorted tuples, for exact comparisons between stores."""
    frame = store.read(table).drop(list(drop))
    frame = frame.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join("|")
        for c, t in frame.schema.items()
        if isinstance(t, pl.List)
    )
    return sorted(frame.rows(), key=repr)


# Columns that differ between two runs of the same crawl (when it ran).
VOLATILE = {
    "models": ("seen_at",),
    "edges": (),
    "problems": (),
    "lookups": ("looked_up_at",),
    "snapshots": ("date",),
    "crawls": ("crawl_id", "started_at", "finished_at"),
}


def run(*args: str, hook: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m lineage ARGS`` to its end."""
    env = {k: v for k, v in os.environ.items() if k != "LINEAGE_TEST_HOOK"}
    if hook:
        env["LINEAGE_TEST_HOOK"] = hook
    return subprocess.run(
        [sys.executable, "-m", "lineage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(*args: str, hook: str | None = None) -> subprocess.Popen:
    return lineage_subprocess(*args, env={"LINEAGE_TEST_HOOK": hook} if hook else None)


def wait_stopped(proc: subprocess.Popen, timeout: float = 120) -> bool:
    """Wait until ``proc`` stops itself (True) or ends (False, its returncode set)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status = os.waitpid(proc.pid, os.WUNTRACED | os.WNOHANG)
        if pid == 0:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the process neither stopped nor ended")
            time.sleep(0.005)
            continue
        if os.WIFSTOPPED(status):
            return True
        proc.returncode = os.waitstatus_to_exitcode(status)
        return False


def resume(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGCONT)


def commit_steps(reference: Path) -> list[str]:
    """Every named step of a crawl's end, in order, for a store like ``reference`` (one crawl).

    The files a crawl's commit writes, in its order: models, edges, problems, lookups (if
    any), that day's snapshot, the crawl log.
    """
    finals = [
        name
        for name in ("models.parquet", "edges.parquet", "problems.parquet", "lookups.parquet")
        if (reference / name).exists()
    ]
    finals += [
        str(p.relative_to(reference)) for p in sorted(reference.glob("snapshots/*/*.parquet"))
    ]
    finals.append("crawls.parquet")
    return [
        "journal:summary",
        *(f"commit:wrote:{f}" for f in finals),
        "commit:manifest",
        *(f"commit:renamed:{f}" for f in finals),
        "commit:done",
        "journal:committed",
        "journal:removing",
    ]


def after_commit_point(step: str) -> bool:
    return not step.startswith(("journal:summary", "commit:wrote:"))


def files_of(path: Path) -> dict[str, str]:
    """Every file of a store, by relative path: its content's hash. Derived state
    (``derived/``) is not the store's: readers write it by design (lineage.derived;
    tests/store/test_derived.py checks what they write there)."""
    return {
        str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.relative_to(path).parts[0] != "derived"
    }


def state_of(info: dict) -> dict:
    """What `lineage info --format json` says the store holds, minus when and where."""
    keep = {k: v for k, v in info.items() if k not in ("store", "journals", "commit_pending")}
    keep["crawls"] = [
        {k: v for k, v in c.items() if k != "finished_at"} for c in info.get("crawls", [])
    ]
    return keep


def info_json(store: str | Path) -> dict:
    result = run("info", "--store", str(store), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_same_store(a: Store, b: Store, *, crawls: int = 1) -> None:
    """Same rows in every table (when the crawl ran aside), and no journal left."""
    for table, drop in VOLATILE.items():
        assert table_rows(a, table, drop=drop) == table_rows(b, table, drop=drop), table
    assert a.read("crawls").height == crawls
    journal = a.path / "journal"
    assert not journal.exists() or not any(journal.iterdir()), list(journal.iterdir())
    assert not list(a.path.rglob("*.tmp"))
    assert json.loads((a.path / "COMMIT").read_text())["state"] == "done"  # nothing pending


def summary_lines(stderr: str) -> list[str]:
    """A crawl's summary without its store, its timing and its `resumed` flag."""
    lines = stderr.strip().splitlines()
    lines[0] = lines[0].replace(", resumed", "").rsplit(" into ", 1)[0]
    lines[-1] = lines[-1].rsplit(" in ", 1)[0]
    return lines
