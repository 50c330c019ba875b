"""The README's screenshots of the pages lineage writes: python docs/family_tree_screenshots.py

Every page is written by the command line, as a user would (the commands are printed), and
photographed in headless Chromium with the network cut off (``tests/support/browser.py``),
1400 x 900 (the report 1280 x 1700):

- ``family-tree.png``: the toy Hub (``fixtures/hub/toy.jsonl``, served by the fake Hub and
  crawled), ``lineage export html --root Qwen/Qwen2.5-7B``, ``alice/qwen-chat-ft-GGUF`` clicked.
- ``tree-3.png``, ``tree-100.png``, ``tree-2000.png``, ``tree-15000.png``: one model's
  family of that many models, shaped and named like the Hub's (``tests/support/trees.py``),
  as it opens.
- ``tree-15000-focus.png``: the same with its biggest sub-family clicked (framed, opened);
  ``tree-15000-search.png``: a model inside a "+N" node found by the search;
  ``tree-15000-slider.png``: the month slider moved back to the month with a third of the
  models.
- ``family-tree-org.png``: an organization of 200 roots and 20,000 models
  (``lineage.testing.synthetic.organization(200, 20_000, seed=3)``) as it opens;
  ``family-tree-org-zoom.png`` zoomed in on its biggest family; ``family-tree-slider.png``
  with the slider moved back, from the keyboard, to the end of 2025-03.
- ``report.png``: ``lineage report`` on a synthetic store with monthly snapshots over 17
  months (docs/charts.py's), a month hovered.

``--before REF`` photographs the one-model families as lineage at git ref REF drew them, into
``docs/before/`` (its ``lineage/`` taken with ``git archive``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.fakehub import FakeHub, load_jsonl
from lineage.testing.synthetic import Mess, organization

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # tests/support
sys.path.insert(0, str(ROOT / "docs"))
from support.browser import BrowserSession  # noqa: E402
from support.trees import family_store  # noqa: E402

DOCS = ROOT / "docs"
STABLE = "document.body.dataset.state === 'stable'"
SIZES = (3, 100, 2000, 15000)


def lineage(*args: str, env: dict[str, str] | None = None) -> None:
    print("$ lineage " + " ".join(args), flush=True)
    # Run from elsewhere than the checkout, whose lineage/ would come first on the path.
    cwd = env["PYTHONPATH"] if env else None
    subprocess.run([sys.executable, "-m", "lineage", *args], check=True, env=env, cwd=cwd)


def families(tmp: Path, env: dict[str, str] | None = None) -> dict[int, Path]:
    pages = {}
    for n in SIZES:
        store = tmp / f"family-{n}"
        if not store.exists():
            print(f"(store: tests/support/trees.family_store(..., {n}, seed=1))", flush=True)
            family_store(store, n, seed=1)
        page = tmp / f"tree-{n}{'-before' if env else ''}.html"
        lineage(
            "export", "html", "--store", str(store), "--root", "Qwen/Qwen2.5-7B", "-o", str(page),
            "--quiet", env=env,
        )  # fmt: skip
        pages[n] = page
    return pages


def shoot_trees(session: BrowserSession, pages: dict[int, Path], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for n, page_path in pages.items():
        with session.open_page(page_path, settle=STABLE, wait_ms=300) as page:
            assert page.errors == [] and page.requests == [], page.summary()
            page.take_screenshot().save(out / f"tree-{n}.png")


def shoot_big_family(session: BrowserSession, path: Path) -> None:
    with session.open_page(path, settle=STABLE, wait_ms=300) as page:
        nodes = page.evaluate("window.lineage.data.nodes")
        below = {
            k: b[-1][1] for k, b in enumerate(nodes["below"]) if b and nodes["kind"][k] == "model"
        }
        biggest = max(below, key=below.get)
        x, y = page.evaluate("k => window.lineage.show(k)", biggest)
        page.page.mouse.click(x, y)
        page.page.wait_for_timeout(400)
        page.page.mouse.move(5, 5)
        assert page.errors == [] and page.requests == [], page.summary()
        page.take_screenshot().save(DOCS / "tree-15000-focus.png")
    with session.open_page(path, settle=STABLE, wait_ms=300) as page:
        hidden = page.evaluate("window.lineage.data.hidden.ids").split("\n")
        page.page.click("#find")
        page.page.keyboard.type(hidden[len(hidden) // 3])
        page.page.wait_for_timeout(200)
        page.page.keyboard.press("ArrowDown")
        page.page.wait_for_timeout(300)
        page.take_screenshot()  # the list of matches, then the choice
        page.page.keyboard.press("Enter")
        page.page.wait_for_timeout(400)
        assert page.errors == [] and page.requests == [], page.summary()
        page.take_screenshot().save(DOCS / "tree-15000-search.png")
    with session.open_page(path, settle=STABLE, wait_ms=300) as page:
        total = page.evaluate("window.lineage.data.meta.counts.total")
        month = next(t for t, c in enumerate(total) if c >= total[-1] / 3)
        page.page.fill("#month", str(month))
        page.page.wait_for_timeout(300)
        assert page.errors == [] and page.requests == [], page.summary()
        page.take_screenshot().save(DOCS / "tree-15000-slider.png")


def shoot_toy_and_org(session: BrowserSession, tmp: Path) -> None:
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
    with session.open_page(toy, settle=STABLE, wait_ms=200) as page:
        ids = page.evaluate("window.lineage.data.nodes.id")
        x, y = page.evaluate("k => window.lineage.show(k)", ids.index("alice/qwen-chat-ft-GGUF"))
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
    with session.open_page(org, settle=STABLE, wait_ms=300) as page:
        n = page.evaluate("window.lineage.data.nodes")
        biggest = max(
            page.evaluate("window.lineage.data.layout.tops"), key=lambda t: sum(n["desc"][t])
        )
        x, y = page.evaluate("k => window.lineage.show(k)", biggest)
        page.page.mouse.move(x, y)
        for _ in range(4):
            page.page.mouse.wheel(0, -400)
            page.page.wait_for_timeout(120)
        page.page.mouse.move(5, 5)
        page.page.wait_for_timeout(300)
        page.take_screenshot().save(DOCS / "family-tree-org-zoom.png")


def shoot_report(session: BrowserSession, tmp: Path) -> None:
    import charts as docs_charts

    print("(store: docs/charts.py's synthetic population with 17 monthly snapshots)", flush=True)
    dates = docs_charts.snapshot_dates(dt.date(2025, 1, 1), dt.date(2026, 5, 1))
    store = docs_charts.build_store(tmp / "series", 20_000, dates)
    report = tmp / "report.html"
    lineage("report", "--store", str(store.path), "-o", str(report))
    with session.open_page(report, settle=STABLE, wait_ms=200) as page:
        assert page.errors == [] and page.requests == [], page.summary()
        page.evaluate("window.report.showMonth(window.report.data.months.length - 6)")
        page.take_screenshot().save(DOCS / "report.png")


def before(ref: str, tmp: Path) -> None:
    package = tmp / f"lineage-{ref}"
    package.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "lineage"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(package)], input=archive, check=True)
    env = {**os.environ, "PYTHONPATH": str(package)}
    pages = families(tmp, env=env)
    with BrowserSession(offline=True, viewport=(1400, 900)) as session:
        shoot_trees(session, pages, DOCS / "before")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REF", help="the trees as lineage at REF drew them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lineage-shots-") as folder:
        tmp = Path(folder)
        if args.before:
            before(args.before, tmp)
            return
        pages = families(tmp)
        with BrowserSession(offline=True, viewport=(1400, 900)) as session:
            shoot_trees(session, pages, DOCS)
            shoot_big_family(session, pages[15000])
            shoot_toy_and_org(session, tmp)
        with BrowserSession(offline=True, viewport=(1280, 1700)) as session:
            shoot_report(session, tmp)
    print("wrote the screenshots in docs/")


if __name__ == "__main__":
    main()
