"""Run notebooks/derivative_share.ipynb on the store it names, and keep its outputs current.

The committed notebook shows its figures: it was executed on a synthetic store that
anyone can rebuild with lineage's own tools (:data:`STORE_COMMAND`; a seeded population
shaped like the published trend, observed on a fixed date, so every output is the same
on every run)::

    python notebooks/execute.py            # rebuild the store, execute, write the outputs
    python notebooks/execute.py --check    # exit 1 if the committed outputs are stale

The test suite runs the check (tests/analysis/test_notebook.py). Outputs are compared as text,
except images, which are compared pixel by pixel (a chart whose data changed differs in
thousands of pixels; one drawn by another matplotlib, in a few antialiased ones).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent / "derivative_share.ipynb"
#: ``python -m lineage.testing.synthetic`` arguments that build the notebook's store.
STORE_COMMAND = ("hub", "30000", "--seed", "4", "--date", "2026-06-12")
# Share of an image's pixels that may differ before it counts as another image.
PIXEL_TOLERANCE = 0.002


def build_store(path: Path) -> Path:
    """The notebook's store, as ``python -m lineage.testing.synthetic`` writes it."""
    from lineage.testing.synthetic import main

    with contextlib.redirect_stderr(io.StringIO()):
        main([*STORE_COMMAND, "--store", str(path)])
    return path


@contextlib.contextmanager
def _store_env(store: Path) -> Iterator[None]:
    before = os.environ.get("LINEAGE_STORE")
    os.environ["LINEAGE_STORE"] = str(store)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LINEAGE_STORE", None)
        else:
            os.environ["LINEAGE_STORE"] = before


def execute(store: Path, workdir: Path) -> nbformat.NotebookNode:
    """The notebook executed on ``store`` (its charts written into ``workdir``)."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    with _store_env(store):
        NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(workdir)}},
        ).execute()
    notebook.metadata = {
        "kernelspec": notebook.metadata.get("kernelspec", {}),
        "language_info": {"name": "python"},
    }
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list[list[dict[str, Any]]]:
    """Each code cell's outputs, as comparable values: text as text, images decoded."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        shown = []
        for out in cell.get("outputs", []):
            entry: dict[str, Any] = {"type": out.output_type}
            if "text" in out:
                entry["text"] = out.text
            for mime, value in out.get("data", {}).items():
                entry[mime] = _pixels(value) if mime == "image/png" else value
            if out.output_type == "error":
                entry["error"] = f"{out.ename}: {out.evalue}"
            shown.append(entry)
        cells.append(shown)
    return cells


def _pixels(encoded: str) -> Any:
    from matplotlib.image import imread

    return imread(io.BytesIO(base64.b64decode(encoded)), format="png")


def differences(committed: nbformat.NotebookNode, fresh: nbformat.NotebookNode) -> list[str]:
    """Where the committed outputs differ from a fresh run's, one line each."""
    import numpy as np

    found = []
    old, new = outputs(committed), outputs(fresh)
    if len(old) != len(new):
        return [f"{len(old)} code cells committed, {len(new)} now"]
    for number, (a, b) in enumerate(zip(old, new, strict=True), start=1):
        if len(a) != len(b):
            found.append(f"code cell {number}: {len(a)} outputs committed, {len(b)} now")
            continue
        for x, y in zip(a, b, strict=True):
            for key in sorted(set(x) | set(y)):
                if key == "image/png" and key in x and key in y:
                    same = x[key].shape == y[key].shape and (
                        np.mean(np.any(np.abs(x[key] - y[key]) > 2 / 255, axis=-1))
                        <= PIXEL_TOLERANCE
                    )
                    if not same:
                        found.append(f"code cell {number}: its image differs")
                elif x.get(key) != y.get(key):
                    found.append(f"code cell {number}: its {key} output differs")
    errors = [e["error"] for cell in new for e in cell if "error" in e]
    return found + [f"error: {e}" for e in errors]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lineage-notebook-") as folder:
        store = build_store(Path(folder) / "store")
        fresh = execute(store, Path(folder))
    if args.check:
        stale = differences(nbformat.read(NOTEBOOK, as_version=4), fresh)
        for line in stale:
            print(line, file=sys.stderr)
        if stale:
            print(
                "the notebook's outputs are stale: run python notebooks/execute.py", file=sys.stderr
            )
        return 1 if stale else 0
    nbformat.write(fresh, NOTEBOOK)
    print(f"executed and written: {NOTEBOOK}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
