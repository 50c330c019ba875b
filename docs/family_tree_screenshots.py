"""Make the README's family-tree screenshots (run: python docs/family_tree_screenshots.py).

- ``docs/family-tree.png``: one model's family. The toy Hub (``fixtures/hub/toy.jsonl``)
  served by the fake Hub and crawled, then ``lineage export html --root Qwen/Qwen2.5-7B``,
  with ``alice/qwen-chat-ft-GGUF`` clicked.
- ``docs/family-tree-org.png``: an organization of 200 roots and 20,000 models (the seeded
  synthetic population ``lineage.testing.synthetic.organization(200, 20_000, seed=3)``),
  ``lineage export html --root Qwen``, as it opens.
- ``docs/family-tree-slider.png``: the same page with the month slider moved back, from
  the keyboard, to the end of 2025-03.

Every page is written by the command line, as a user would (the commands are printed), and
photographed in headless Chromium with the network cut off (``tests/support/browser.py``).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.fakehub import FakeHub, load_jsonl
from lineage.testing.synthetic import Mess, organization

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # tests/support
from support.browser import BrowserSession

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
STABLE = "document.body.dataset.state === 'stable'"


def lineage(*args: str) -> None:
    print("$ lineage " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "lineage", *args], check=True)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="lineage-shots-") as folder:
        shoot(Path(folder))
    for name in ("family-tree.png", "family-tree-org.png", "family-tree-slider.png"):
        print(f"wrote docs/{name}")


def shoot(tmp: Path) -> None:
    with FakeHub(load_jsonl(ROOT / "fixtures" / "hub" / "toy.jsonl")) as hub:
        lineage("crawl", "--all", "--endpoint", hub.url, "--store", str(tmp / "toy"), "--quiet")
    toy = tmp / "qwen-toy.html"
    lineage(
        "export", "html", "--store", str(tmp / "toy"), "--root", "Qwen/Qwen2.5-7B", "-o", str(toy)
    )

    print("(store: lineage.testing.synthetic.organization(200, 20_000, seed=3))", flush=True)
    hub = organization(200, 20_000, seed=3, mess=Mess.none())
    seen = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    Store(tmp / "org").commit(parse_raw(hub.raw, seen_at=seen, source="synthetic"))
    org = tmp / "qwen-org.html"
    lineage("export", "html", "--store", str(tmp / "org"), "--root", "Qwen", "-o", str(org))

    with BrowserSession(offline=True, viewport=(1400, 900)) as session:
        with session.open_page(toy, settle=STABLE, wait_ms=200) as page:
            ids = page.evaluate("window.lineage.data.nodes.id")
            x, y = page.evaluate(
                "k => window.lineage.show(k)", ids.index("alice/qwen-chat-ft-GGUF")
            )
            page.page.mouse.click(x, y)
            page.page.mouse.move(x, y)
            page.page.wait_for_timeout(300)
            assert page.errors == [] and page.requests == [], page.summary()
            page.take_screenshot().save(DOCS / "family-tree.png")
        with session.open_page(org, settle=STABLE, wait_ms=300) as page:
            assert page.errors == [] and page.requests == [], page.summary()
            page.take_screenshot().save(DOCS / "family-tree-org.png")
            months = page.evaluate("window.lineage.data.meta.months")
            page.page.focus("#month")
            page.page.keyboard.press("End")
            for _ in range(len(months) - 1 - months.index("2025-03")):
                page.page.keyboard.press("ArrowLeft")
            page.page.wait_for_timeout(300)
            assert page.errors == [] and page.requests == [], page.summary()
            page.take_screenshot().save(DOCS / "family-tree-slider.png")


if __name__ == "__main__":
    main()
