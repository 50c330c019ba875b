"""Progress bars on a real terminal: a pseudo-terminal of a chosen size, a real crawl process.

What a user sees depends on the terminal: tqdm draws nothing at all on a terminal that
reports zero columns (a pty nobody sized, some CI consoles), and a sweep's bar must not
promise an ETA computed from a guessed Hub size.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

from support.toyhub import toy_models, toy_renames

from lineage.testing.fakehub import FakeHub


def run_on_terminal(args: list[str], *, columns: int, rows: int = 24) -> str:
    """Run `python -m lineage ARGS` on a pty of the given size; return what it showed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lineage", *args], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0, shown.decode(errors="replace")
    return shown.decode(errors="replace")


def bar_lines(shown: str, phase: str) -> list[str]:
    return [part for part in re.split(r"[\r\n]", shown) if part.startswith(phase)]


def test_a_zero_width_terminal_still_gets_a_one_line_status(tmp_path):
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        shown = run_on_terminal(
            ["crawl", "--all", "--endpoint", hub.url, "--store", str(tmp_path / "s")], columns=0
        )
    bars = bar_lines(shown, "sweeping the Hub")
    assert bars, shown
    assert all(len(line) <= 80 for line in bars)
    assert "crawled the whole Hub" in shown  # the summary follows


def test_a_sweep_of_a_hub_of_unknown_size_shows_no_eta(tmp_path):
    store = str(tmp_path / "s")
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        first = run_on_terminal(
            ["crawl", "--all", "--endpoint", hub.url, "--store", store], columns=100
        )
        bars = bar_lines(first, "sweeping the Hub")
        assert bars and all("page [" in line and "/" not in line.split("[")[0] for line in bars)
        assert not any("2500" in line or "%|" in line for line in bars), bars
        # Told the size, the bar has a total (and an ETA).
        sized = run_on_terminal(
            [
                "crawl",
                "--all",
                "--hub-size",
                "3000",
                "--endpoint",
                hub.url,
                "--store",
                str(tmp_path / "t"),
            ],
            columns=100,
        )
        assert any("0/3 [" in line for line in bar_lines(sized, "sweeping the Hub")), sized
