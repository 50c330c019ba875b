"""notebooks/derivative_share.ipynb is committed executed, and its outputs are current: the
test rebuilds the store the notebook names (with lineage's own synthetic Hub, on its fixed
date), executes the notebook on it, and compares every output with the committed one."""

from __future__ import annotations

import base64
import copy
import io
import sys

import nbformat
import numpy as np
import pytest
from support.toyhub import ROOT

sys.path.insert(0, str(ROOT / "notebooks"))
import execute

sys.path.remove(str(ROOT / "notebooks"))


@pytest.fixture(scope="module")
def committed():
    return nbformat.read(execute.NOTEBOOK, as_version=4)


def test_the_committed_notebook_shows_its_figures(committed):
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert code and all(c.get("outputs") for c in code[1:])  # every cell but the parameters
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # by region, by family, top families
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for c in code for o in c.outputs)
    assert "the store's latest observation: 2026-06-12" in text
    html = "".join(o.get("data", {}).get("text/html", "") for c in code for o in c.outputs)
    assert "published 2026" in html
    # the store is named at the top, with the command that rebuilds it
    first = "".join(committed.cells[0].source)
    assert "python -m lineage.testing.synthetic " + " ".join(execute.STORE_COMMAND) in first


@pytest.mark.slow
def test_the_committed_outputs_are_current(tmp_path, committed):
    store = execute.build_store(tmp_path / "store")
    fresh = execute.execute(store, tmp_path)
    assert execute.differences(committed, fresh) == [], (
        "the notebook's outputs are stale: run python notebooks/execute.py"
    )
    assert (tmp_path / "derivative_share_by_region.png").stat().st_size > 10_000


def test_a_stale_output_is_found(committed):
    """The check fails on a changed number, a changed chart, a missing output."""
    assert execute.differences(committed, committed) == []
    changed = copy.deepcopy(committed)
    cells = [c for c in changed.cells if c.cell_type == "code"]
    stream = next(o for c in cells for o in c.outputs if o.output_type == "stream")
    stream.text = stream.text.replace("2026-06-12", "2026-06-13")
    image = next(o for c in cells for o in c.outputs if "image/png" in o.get("data", {}))
    image.data["image/png"] = _recoloured(image.data["image/png"])
    cells[-1].outputs = []
    found = execute.differences(committed, changed)
    assert any("text output differs" in f for f in found)
    assert any("image differs" in f for f in found)
    assert any("0 now" in f for f in found)


def _recoloured(encoded: str) -> str:
    """The same PNG with its top third painted over, as a chart of other data would be."""
    from matplotlib.image import imread, imsave

    pixels = imread(io.BytesIO(base64.b64decode(encoded)), format="png").copy()
    pixels[: pixels.shape[0] // 3] = np.array([0.2, 0.4, 0.6, 1.0][: pixels.shape[2]])
    out = io.BytesIO()
    imsave(out, pixels, format="png")
    return base64.b64encode(out.getvalue()).decode("ascii")
