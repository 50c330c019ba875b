"""What the first view of a family tree page shows, at the sizes people open: faults and time.

For one model's family of 3, 100, 2,000 and 15,000 models (``tests/support/trees.py``:
shaped and named like the Hub's, so names collide across namespaces) and an organization
of 200 roots and 20,000 models (``lineage.testing.synthetic.organization``), exports the
page with the default options, opens it in headless Chromium (offline, 1280x900) and reads
back what the first view drew (``tests/support/views.py``):

- label pairs that overlap, labels over a node other than their own, node circles that
  overlap, labels drawn twice with the same text, and the range of model node radii (px);
- settle time: navigation until the page says it is stable (its first full drawing).

``--ref REF`` exports with the lineage package as it was at git ref REF (its ``lineage/``
taken with ``git archive`` into a temporary directory and run in a subprocess), so the
figures before and after a change come from one command::

    python benchmarks/tree_first_view.py                 # this checkout
    python benchmarks/tree_first_view.py --ref 67dc5e7   # before issue 24
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # tests/support: the browser harness, the trees

from support.browser import BrowserSession  # noqa: E402
from support.trees import family_store  # noqa: E402
from support.views import first_view_figures  # noqa: E402

from lineage.records import parse_raw  # noqa: E402
from lineage.store import Store  # noqa: E402
from lineage.testing.synthetic import Mess, organization  # noqa: E402

STABLE = "document.body.dataset.state === 'stable'"
EXPORT = """
import sys
from lineage.analysis import load_context
from lineage.html.export import export_family_html
from lineage.store import Store
export_family_html(load_context(Store(sys.argv[1])), sys.argv[2], sys.argv[3])
"""


def build(folder: Path, sizes: list[int], org_models: int) -> list[tuple[str, Path, str]]:
    cases = []
    for n in sizes:
        store = folder / f"family-{n}"
        family_store(store, n, seed=1)
        cases.append((f"one model's family, {n:,} models", store, "Qwen/Qwen2.5-7B"))
    if org_models:
        store = folder / "org"
        hub = organization(200, org_models, seed=3, mess=Mess.none())
        seen = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
        Store(store).commit(parse_raw(hub.raw, seen_at=seen, source="synthetic"))
        cases.append((f"organization, 200 roots, {org_models:,} models", store, "Qwen"))
    return cases


def export(store: Path, root: str, out: Path, package: Path | None) -> None:
    env = None
    if package is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(package)}
    # From the store's folder: the checkout's lineage/ (the current directory's) would come
    # first on the path, before PYTHONPATH.
    subprocess.run(
        [sys.executable, "-c", EXPORT, str(store), root, str(out)],
        check=True,
        env=env,
        cwd=store.parent,
    )


def old_package(ref: str, folder: Path) -> Path:
    target = folder / f"lineage-{ref}"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "lineage"], cwd=REPO, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", help="export with lineage as it was at this git ref")
    parser.add_argument("--sizes", default="3,100,2000,15000")
    parser.add_argument("--org-models", type=int, default=20_000, help="0: no organization")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="lineage-first-view-") as tmp:
        folder = Path(tmp)
        package = old_package(args.ref, folder) if args.ref else None
        cases = build(folder, sizes, args.org_models)
        print(f"lineage: {args.ref or 'this checkout'}; Chromium 1280x900, offline", flush=True)
        header = (
            f"{'page':<44} {'nodes':>6} {'labels':>6} {'lbl/lbl':>7} {'lbl/node':>8} "
            f"{'node/node':>9} {'dup lbl':>7} {'radius px':>11} {'settle ms':>9}"
        )
        print(header)
        with BrowserSession(offline=True, viewport=(1280, 900)) as session:
            for name, store, root in cases:
                out = folder / (store.name + ".html")
                export(store, root, out, package)
                with session.open_page(
                    out, settle=STABLE, wait_ms=200, settle_timeout_ms=60_000
                ) as page:
                    assert page.errors == [] and page.requests == [], page.summary()
                    f = first_view_figures(page)
                    radius = (
                        "{:.1f}-{:.1f}".format(*f["model_radius"]) if f["model_radius"] else "-"
                    )
                    print(
                        f"{name:<44} {f['nodes']:>6} {f['labels']:>6} {f['label_overlaps']:>7} "
                        f"{f['labels_over_nodes']:>8} {f['node_overlaps']:>9} "
                        f"{f['duplicate_labels']:>7} {radius:>11} {page.settle_ms:>9.0f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
