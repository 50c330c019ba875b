"""notebooks/derivative_share.ipynb executes cleanly against a fixture store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.synthetic import generate

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "derivative_share.ipynb"


@pytest.mark.slow
def test_notebook_reproduces_the_figures_from_a_store(tmp_path, monkeypatch):
    population = generate(20_000, seed=4)
    store = Store(tmp_path / "store")
    store.commit(
        parse_raw(
            population.raw, seen_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC), source="synthetic"
        )
    )
    monkeypatch.setenv("LINEAGE_STORE", str(store.path))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()

    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    assert (tmp_path / "derivative_share_by_region.png").stat().st_size > 10_000
    assert (tmp_path / "top_families.png").stat().st_size > 10_000
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # both figures are shown inline
    text = "".join(o.get("text", "") for o in outputs)
    assert "derivatives" in text
    # The comparison table shows the synthetic population's trend next to the published one.
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "published 2026" in html
