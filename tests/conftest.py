"""Shared fixtures: the hand-written toy Hub, a fake Hub serving it, and CLI runners.

The plain functions tests share live in the :mod:`support` package (tests import them from
there, never from a conftest: a spawned child process would find another ``conftest``).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from support.boltserver import BoltServer, BoltServerUnavailable
from support.toyhub import client_for, toy_models, toy_renames

from lineage.cli import cli
from lineage.crawl import Crawler, CrawlRequest
from lineage.store import Store
from lineage.testing.fakehub import FakeHub


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test may touch the real Hub, the user's token or the user's store."""
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # closed port: fails fast
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("LINEAGE_STORE", raising=False)
    monkeypatch.delenv("LINEAGE_DEBUG", raising=False)


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


@pytest.fixture
def run_cli():
    """Invoke the CLI in-process; returns click's Result (stdout and stderr separate)."""

    def run(*args: str, env: dict | None = None):
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run
