"""The quick questions import only what they use.

`share`, `families`, `info`, `tree` and `share --lineage both` answer from the store's
kept state (lineage.derived) in well under a second, of which importing polars and click
is a good part: importing the Hub client, numpy, networkx, pyvis, neo4j or matplotlib on
top would cost more than the answer. Checked in real `lineage` processes with
``python -X importtime`` (every module a process imports, with its parent), once the kept
state exists, so that an import added at the top of a module they load shows here.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest

from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.synthetic import generate

# Modules the quick commands must not import (top-level packages).
HEAVY = ("huggingface_hub", "numpy", "networkx", "pyvis", "neo4j", "matplotlib", "httpx")
PARSERS = ("lineage.records", "lineage.cards")
QUICK = {
    "share": ["share", "--format", "csv"],
    "share-family": ["share", "--by", "family", "--format", "csv"],
    "share-both": ["share", "--lineage", "both", "--format", "csv"],
    "families": ["families", "--format", "csv"],
    "info": ["info", "--format", "csv"],
    "tree": ["tree", "ROOT", "--format", "csv"],
}
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", re.MULTILINE)


def lineage(*args: str, importtime: bool = False) -> subprocess.CompletedProcess:
    flags = ["-X", "importtime"] if importtime else []
    env = {k: v for k, v in os.environ.items() if k != "LINEAGE_TEST_HOOK"}
    return subprocess.run(
        [sys.executable, *flags, "-m", "lineage", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("lean") / "store"
    population = generate(3000, seed=5)
    Store(path).commit(
        parse_raw(
            population.raw, seen_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), source="synthetic"
        )
    )
    assert lineage("infer", "--store", str(path), "--quiet").returncode == 0
    top = lineage("families", "--store", str(path), "--format", "csv", "--top", "1")
    root = top.stdout.splitlines()[1].split(",")[0]
    for args in QUICK.values():  # the kept state, made once
        args = [root if a == "ROOT" else a for a in args]
        assert lineage(*args, "--store", str(path)).returncode == 0
    return path, root


@pytest.mark.parametrize("name", list(QUICK))
def test_quick_commands_import_no_heavy_package(store, name):
    path, root = store
    args = [root if a == "ROOT" else a for a in QUICK[name]]
    result = lineage(*args, "--store", str(path), importtime=True)
    assert result.returncode == 0, result.stderr
    imported = {m.split(".")[0] for m in _IMPORTED.findall(result.stderr)}
    assert "polars" in imported  # the check sees the imports at all
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
    if name != "info":  # info reads crawl journals, which hold parsed records
        # Answers from kept state parse no Hub record: the card and record parsers stay out.
        modules = set(_IMPORTED.findall(result.stderr))
        assert not modules & set(PARSERS), sorted(modules & set(PARSERS))
