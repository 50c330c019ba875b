"""Every command line in README.md runs as written, against the toy Hub.

The commands are read from the README itself: each `lineage ...` line of its bash and sh
blocks, and each concrete `lineage ...` in its prose (synopses with placeholders such as
MODEL or [--opt] are checked against the command's options instead). They run in order,
in one working directory, with LINEAGE_STORE and HF_ENDPOINT pointing at a store and a
fake Hub: the toy Hub, plus the few models the README names that the toy Hub lacks, and
the hub-stats dump as a dataset file. The store also holds a snapshot dated 2026-02-05,
the second date the README's `lineage diff` example names. For the history examples the
working directory holds `archive/` (dated dumps, one of 2025-01-05 for `--as-of`), and the
fake Hub serves `cfahlgren1/hub-stats` with a history of commits and `me/hub-stats-archive`
as a dated archive, as the README's offline backfill does.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.hubstats_dump import write_hub_stats_dump
from support.toyhub import ROOT, toy_models, toy_renames

from lineage.cli import cli
from lineage.hubstats import HUB_STATS_FILE, HUB_STATS_REPO
from lineage.testing.fakehub import FakeHub

README = (ROOT / "README.md").read_text()
PLACEHOLDER = re.compile(r"[A-Z]{3,}|\[|\||\.\.\.|…")

# Models the README names that the toy Hub does not have.
EXTRA_MODELS = [
    {
        "id": "Qwen/Qwen2.5-0.5B-Instruct",
        "author": "Qwen",
        "createdAt": "2024-09-19T00:00:00.000Z",
        "downloads": 900,
        "downloadsAllTime": 9000,
        "tags": ["transformers", "safetensors"],
    },
    {
        "id": "Qwen/Qwen3-8B",
        "author": "Qwen",
        "createdAt": "2025-04-28T00:00:00.000Z",
        "downloads": 5000,
        "downloadsAllTime": 50000,
        "tags": ["transformers", "safetensors"],
        "safetensors": {"parameters": {"BF16": 8_190_000_000}, "total": 8_190_000_000},
    },
    {
        "id": "someone/Qwen3-8B-GGUF",
        "author": "someone",
        "createdAt": "2025-05-02T00:00:00.000Z",
        "downloads": 300,
        "downloadsAllTime": 800,
        "tags": ["gguf", "base_model:Qwen/Qwen3-8B", "base_model:quantized:Qwen/Qwen3-8B"],
    },
]


def readme_commands() -> list[str]:
    """The README's concrete `lineage` command lines, in order, without repeats."""
    found = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", README, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            found += [s.strip() for s in line.split("&&")]
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    found += re.findall(r"`(lineage [^`]+)`", prose)
    lines = [c for c in found if c.startswith(("lineage ", "python -m lineage"))]
    return list(dict.fromkeys(c for c in lines if not PLACEHOLDER.search(c.split("&")[0])))


class World:
    """A working directory, a store and a fake Hub for the README's commands."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        models = toy_models() + EXTRA_MODELS
        dump = write_hub_stats_dump(models, tmp / "dump.parquet")
        write_hub_stats_dump(models, tmp / "models.parquet")  # `ingest hub-stats models.parquet`
        for day in ("2025-01-05", "2026-01-12", "2026-01-19"):  # `ingest hub-stats archive/`
            (tmp / "archive" / "models" / day).mkdir(parents=True)
            write_hub_stats_dump(models, tmp / "archive" / "models" / day / "models.parquet")
        (tmp / "fixtures").symlink_to(ROOT / "fixtures")  # for the README's own fake Hubs
        self.hub = FakeHub(models, page_size=5, renames=toy_renames()).start()
        noon = dt.datetime(2026, 2, 5, 12, tzinfo=dt.UTC)
        self.hub.commit_files(HUB_STATS_REPO, {HUB_STATS_FILE: dump}, date=noon)
        self.env = {"LINEAGE_STORE": str(tmp / "store"), "HF_ENDPOINT": self.hub.url}
        self.toy_hub: subprocess.Popen | None = None
        self.hubs: list[subprocess.Popen] = []
        self.port = "8765"
        self.ports: dict[str, str] = {}  # README's port -> the port its fake Hub got
        result = self.run(f"lineage ingest hub-stats {dump} --date 2026-02-05")
        assert result.exit_code == 0, result.stderr

    def run(self, command: str, env: dict | None = None):
        if command.startswith("python -m lineage.testing.fakehub"):
            # A fake Hub of the README's, as a background process. On any free port (the
            # README's may be taken): the commands after it are pointed at that port. The
            # toy Hub's file is the repository's; others were written by earlier commands.
            if "--port" not in command:  # --write-hub-stats: runs to its end, serves nothing
                done = subprocess.run(
                    [sys.executable, *shlex.split(command)[1:]],
                    cwd=self.tmp,
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                assert done.returncode == 0, (command, done.stderr)
                return None
            readme_port = re.search(r"--port (\d+)", command).group(1)
            args = shlex.split(command.rstrip("& ").replace(f"--port {readme_port}", "--port 0"))
            toy = "fixtures/hub/toy.jsonl" in command
            hub = subprocess.Popen(
                [sys.executable, *args[1:]],
                cwd=self.tmp,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            self.hubs.append(hub)
            first = hub.stdout.readline()
            assert first.startswith("FakeHub: "), first
            if toy:
                assert first.startswith("FakeHub: 28 models at http://127.0.0.1:"), first
                self.toy_hub = hub
            self.ports[readme_port] = first.strip().rsplit(":", 1)[1]
            if readme_port == "8765":
                self.port = self.ports[readme_port]
            return None
        if command.startswith(
            ("python -m lineage.testing.synthetic", "python -m lineage.testing.cards")
        ):
            # A seeded population written into a store of the working directory.
            done = subprocess.run(
                [sys.executable, *shlex.split(command)[1:]],
                cwd=self.tmp,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, (command, done.stderr)
            return None
        for readme_port, port in {"8765": self.port, **self.ports}.items():
            command = command.replace(f"127.0.0.1:{readme_port}", f"127.0.0.1:{port}")
        args = shlex.split(command)[1:]
        return CliRunner().invoke(
            cli, args, env={**self.env, **(env or {})}, catch_exceptions=False
        )

    def close(self) -> None:
        self.hub.stop()
        for hub in self.hubs:
            hub.terminate()
            hub.wait(timeout=30)


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = World(tmp_path)
    try:
        yield w
    finally:
        w.close()


def test_the_readme_names_commands_worth_running():
    commands = readme_commands()
    assert len(commands) > 25
    assert "lineage crawl --root Qwen/Qwen2.5-0.5B-Instruct --strategy walk" in commands
    assert "lineage diff 2026-01-05 2026-02-05 --format json" in commands
    assert commands.index(
        "python -m lineage.testing.fakehub fixtures/hub/toy.jsonl --port 8765 &"
    ) < (commands.index("lineage crawl --all --endpoint http://127.0.0.1:8765 --store toy-store"))


@pytest.mark.slow
def test_every_readme_command_runs_as_written(world):
    ran = []
    for command in readme_commands():
        if command.startswith("lineage neo4j load"):
            continue  # needs a Bolt server: the next test
        result = world.run(command)
        if result is not None:
            assert result.exit_code == 0, (command, result.stderr)
        ran.append(command)
    assert len(ran) > 25
    assert world.toy_hub is not None and world.port != "8765"  # the README's own toy Hub ran
    for made in ("share.png", "both.png", "qwen.html", "llama.html", "qwen-toy.html"):
        assert (world.tmp / made).stat().st_size > 10_000, made
    assert (world.tmp / "neo4j-import" / "models.csv").exists()


def test_the_readme_neo4j_load_runs_as_written(world, server):
    env = {
        "NEO4J_URI": server.uri,
        "NEO4J_USERNAME": server.user,
        "NEO4J_PASSWORD": server.password or "",
        "NEO4J_DATABASE": server.database,
    }
    loads = [c for c in readme_commands() if c.startswith("lineage neo4j load")]
    assert loads == ["lineage neo4j load", "lineage neo4j load --lineage both"]
    assert world.run("lineage infer").exit_code == 0  # what --lineage both loads
    for command in loads:
        result = world.run(command, env=env)
        assert result.exit_code == 0, (command, result.stderr)
        assert "nodes:" in result.stderr


def test_the_share_synopsis_names_real_options():
    synopsis = re.search(r"```bash\n(lineage share \[.*?)```", README, re.S).group(1)
    named = set(re.findall(r"\[(--[a-z-]+)", synopsis))
    share = cli.commands["share"]
    options = {o for p in share.params for o in getattr(p, "opts", [])}
    assert named and named <= options, named - options
