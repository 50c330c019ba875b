"""Record what every README command prints, to compare two versions byte for byte.

Runs the README's commands as tests/test_readme.py does (same fake Hubs, same order) in a
fixed working directory, and writes each command's stdout and stderr to OUT/NNN.stdout and
OUT/NNN.stderr, with OUT/commands.txt listing them. The fake Hubs' ports are chosen by the
system, so `127.0.0.1:<port>` is written as `127.0.0.1:PORT`; nothing else is changed.

    python scripts/readme_outputs.py /tmp/readme-before
    python scripts/readme_outputs.py /tmp/readme-after
    python scripts/readme_outputs.py --compare /tmp/readme-before /tmp/readme-after

The comparison is byte for byte on exit codes, and on stdout but for the clock time of the
run (``YYYY-MM-DD HH:MM`` of today, which `lineage info` prints for the crawls it lists). On
stderr it also masks what differs between two runs of one version (durations, rates, the
fake Hub's commit hashes, and the request count of `share --metric both`, whose catalogue
fetches race) and is byte for byte on the rest.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_readme import World, readme_commands  # noqa: E402

ONE_DAY = dt.timedelta(days=1)
PORT = re.compile(r"127\.0\.0\.1:\d+")
RUN_TO_RUN = [
    (re.compile(r"\b\d+(\.\d+)? s\b"), "T s"),
    (re.compile(r"\(\d+ rows/s\)"), "(R rows/s)"),
    (re.compile(r"revision [0-9a-f]{12}"), "revision HASH"),
    (re.compile(r"^  requests: \d+ in T s$", re.M), "  requests: N in T s"),
]


def clock_masked(text: str) -> str:
    """``text`` with today's date and minute (UTC or local: either day) as ``TODAY HH:MM``."""
    for day in {dt.datetime.now(dt.UTC).date(), dt.date.today(), dt.date.today() - ONE_DAY}:
        text = re.sub(rf"{day.isoformat()} \d\d:\d\d", "TODAY HH:MM", text)
    return text


def masked(text: str) -> str:
    text = clock_masked(text)
    for pattern, mask in RUN_TO_RUN:
        text = pattern.sub(mask, text)
    return text


def compare(before: Path, after: Path) -> int:
    """Print every difference; 0 when there is none."""
    names = sorted({p.name for p in before.iterdir()} | {p.name for p in after.iterdir()})
    differ = 0
    for name in names:
        a, b = before / name, after / name
        if not (a.exists() and b.exists()):
            print(f"only in one: {name}")
            differ += 1
            continue
        x, y = a.read_text(), b.read_text()
        if name.endswith(".stderr"):
            x, y = masked(x), masked(y)
        elif name.endswith(".stdout"):
            x, y = clock_masked(x), clock_masked(y)
        if x != y:
            print(f"differs: {name}")
            differ += 1
    print(f"{len(names)} files compared, {differ} differ")
    return 1 if differ else 0


def main(out: Path, work: Path = Path("/tmp/lineage-readme-world")) -> None:
    import os

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    os.chdir(work)
    world = World(work)
    ran = []
    try:
        for n, command in enumerate(readme_commands()):
            if command.startswith("lineage neo4j load"):
                continue  # needs a Bolt server
            result = world.run(command)
            ran.append(f"{n:03d} {command}")
            if result is None:
                continue
            (out / f"{n:03d}.exit").write_text(f"{result.exit_code}\n")
            (out / f"{n:03d}.stdout").write_text(PORT.sub("127.0.0.1:PORT", result.stdout))
            (out / f"{n:03d}.stderr").write_text(PORT.sub("127.0.0.1:PORT", result.stderr))
    finally:
        world.close()
    (out / "commands.txt").write_text("\n".join(ran) + "\n")
    print(f"{len(ran)} commands recorded in {out}")


if __name__ == "__main__":
    if sys.argv[1] == "--compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    main(Path(sys.argv[1]))
