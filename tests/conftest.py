"""Shared fixtures: the hand-written toy Hub, a fake Hub serving it, and CLI runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from support.boltserver import BoltServer, BoltServerUnavailable

from lineage.cli import cli
from lineage.crawl import Crawler, CrawlRequest
from lineage.hub import RetryPolicy, make_client
from lineage.store import Store
from lineage.testing.fakehub import FakeHub, load_jsonl

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test may touch the real Hub, the user's token or the user's store."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # closed port: fails fast
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("LINEAGE_STORE", raising=False)
    monkeypatch.delenv("LINEAGE_DEBUG", raising=False)


def toy_models() -> list[dict]:
    return list(load_jsonl(FIXTURES / "hub" / "toy.jsonl"))


def toy_renames() -> dict[str, str]:
    return json.loads((FIXTURES / "hub" / "toy.renames.json").read_text())


@pytest.fixture
def toy_hub():
    """The toy Hub (28 models), 5 models a page so that listings paginate."""
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        yield hub


@pytest.fixture(scope="module")
def toy_store(tmp_path_factory) -> str:
    """The whole toy Hub, swept (28 models: Qwen, Llama and Mistral families); one per module."""
    path = tmp_path_factory.mktemp("toy")
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        Crawler(Store(path), client_for(hub)).run(CrawlRequest(all=True))
    return str(path)


@pytest.fixture(scope="module")
def server():
    """A Bolt server (ArcadeDB) on loopback, fresh for each test module."""
    try:
        srv = BoltServer().start()
    except BoltServerUnavailable as exc:
        pytest.skip(f"no Bolt test server: {exc}")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def driver(server):
    with server.driver() as drv:
        yield drv


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store")


def client_for(hub: FakeHub, **policy):
    policy = {"base_wait": 0.01, "max_wait": 0.05, "give_up_after": 5.0, **policy}
    return make_client(hub.url, token=False, policy=RetryPolicy(**policy))


@pytest.fixture
def run_cli():
    """Invoke the CLI in-process; returns click's Result (stdout and stderr separate)."""

    def run(*args: str, env: dict | None = None):
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


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
