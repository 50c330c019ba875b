"""The default share's counts kept with the derived state (lineage.analysis, set
``share-<by>-<variant>``; lineage.moved, set ``moved-sums-<variant>``) against the share
counted over the attribution itself.

A share of the default choices reads what is kept for every month and picks rows of it for
a month range or a root region; any other choice counts over the attribution. Here both are
asked the same questions over one store where `lineage infer` found lineage, the counted
one through a context whose graph and attribution are built in memory (nothing kept is
read): every table, count and float must be the same to the last digit.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import asdict
from pathlib import Path

import polars as pl
import pytest
from support.storecheck import run

from lineage.analysis import Context, families, load_context, share
from lineage.attribution import attribute
from lineage.graph import build_graph
from lineage.moved import weight_moved
from lineage.records import parse_raw
from lineage.regions import load_regions
from lineage.store import Store
from lineage.testing.synthetic import generate

WHEN = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory) -> Path:
    """4,000 synthetic models, a third of the derivatives' declarations removed, inferred."""
    path = tmp_path_factory.mktemp("kept-share") / "store"
    batch = parse_raw(generate(4000, seed=5).raw, seen_at=WHEN, source="synthetic")
    silent = batch.edges.select("child").unique().sort("child").sample(fraction=1 / 3, seed=5)
    edges = batch.edges.join(silent, on="child", how="anti")
    Store(path).commit(type(batch)(batch.models, edges, batch.problems))
    result = run("infer", "--store", str(path), "--quiet")
    assert result.returncode == 0, result.stderr
    return path


def counted(store: Store, lineage: str) -> Context:
    """A context whose graph and attribution are built in memory: shares are counted."""
    confidence = None if lineage == "declared" else 0.8
    graph = build_graph(store, lineage=lineage, min_confidence=confidence)
    return Context(
        store,
        graph,
        attribute(graph, root_set="all"),
        load_regions(None),
        lineage=lineage,  # type: ignore[arg-type]
        min_confidence=confidence,
    )


def same(a, b) -> bool:
    """Two share results alike to the last digit (frames compared exactly, floats too)."""
    return (
        a.table.equals(b.table)
        and a.unattributed.equals(b.unattributed)
        and a.counts.equals(b.counts)
        and (a.description, a.partial) == (b.description, b.partial)
    )


MONTHS = [(None, None), ("2025-01", "2025-12"), ("2026-02", None), (None, "2024-03")]
REGIONS = [None, "china", "eu", "unknown"]


@pytest.mark.parametrize("lineage", ["declared", "both", "inferred"])
def test_kept_shares_are_the_counted_ones_for_every_month_range_and_root_region(
    store_path, lineage
):
    store = Store(store_path, create=False)
    kept = load_context(store, lineage=lineage)  # type: ignore[arg-type]
    mem = counted(store, lineage)
    asked = 0
    for by, (since, until), region in itertools.product(
        ["region", "family", "org"], MONTHS, REGIONS
    ):
        options = dict(by=by, since=since, until=until, root_region=region)
        a, b = share(kept, **options), share(mem, **options)  # type: ignore[arg-type]
        assert same(a, b), options
        asked += a.table.height
    assert asked > 1000  # the questions had answers to compare
    folder = store.derived_dir
    assert folder is not None
    suffix = "declared" if lineage == "declared" else "inferred-0.8"
    suffix += "-only" if lineage == "inferred" else ""
    # Answered from what is kept (made by the first of these shares), not counted again.
    assert {p.name for p in folder.glob(f"share-*-{suffix}")} == {
        f"share-{by}-{suffix}" for by in ("region", "family", "org")
    }


def figures(moved) -> list:
    """Every figure of a WeightMoved, and the order the note says them in."""
    return [(k, list(v.items()) if isinstance(v, dict) else v) for k, v in asdict(moved).items()]


@pytest.mark.parametrize("lineage", ["both", "inferred"])
def test_kept_sums_of_what_inferred_lineage_moved_are_the_summed_ones(store_path, lineage):
    """The default share's sums are kept; the same derivatives chosen another way (a month
    range that leaves none out) are summed over the kept rows per derivative: the same
    figures to the last digit. A context built in memory sums frames split otherwise, so
    its last digits may differ (as they did before the sums were kept): to 1e-9."""
    store = Store(store_path, create=False)
    kept = load_context(store, lineage=lineage)  # type: ignore[arg-type]
    served = weight_moved(kept)
    assert served is not None
    # Inferred lineage moves weight here (alone, it counts only models that declare none).
    assert served.gained > 0 if lineage == "both" else served.new_models > 0
    assert figures(served) == figures(weight_moved(kept, since="1900-01"))
    folder = store.derived_dir
    assert folder is not None
    assert (
        folder / ("moved-sums-inferred-0.8" + ("-only" if lineage == "inferred" else ""))
    ).is_dir()
    mem = counted(store, lineage)
    for options in ({}, {"since": "2025-01"}, {"min_downloads": 0}):
        a, b = weight_moved(kept, **options), weight_moved(mem, **options)  # type: ignore[arg-type]
        assert a is not None and b is not None
        for (key, x), (other, y) in zip(figures(a), figures(b), strict=True):
            assert key == other
            if isinstance(x, list):
                assert [k for k, _ in x] == [k for k, _ in y], (key, options)
                assert [v for _, v in x] == pytest.approx([v for _, v in y], rel=1e-9), key
            else:
                assert x == pytest.approx(y, rel=1e-9), (key, options)


def test_other_choices_are_counted_not_read_from_the_kept_share(store_path, tmp_path):
    """A share the kept counts cannot answer (another threshold or counter, the builder's
    region) gives what the counted share gives, and keeps nothing of its own."""
    store = Store(store_path, create=False)
    kept, mem = load_context(store), counted(store, "declared")
    for options in (
        {"min_downloads": 0},
        {"downloads": "30d"},
        {"by": "builder-region", "root_region": "china"},
    ):
        assert same(share(kept, **options), share(mem, **options)), options  # type: ignore[arg-type]
    folder = store.derived_dir
    assert folder is not None
    assert not list(folder.glob("share-builder-region-*"))
    frame = pl.read_parquet(folder / "share-region-declared" / "table.parquet")
    assert frame.columns == ["month", "group", "count", "weight", "root_region"]


def test_kept_families_are_the_counted_ones(store_path):
    """`families` counting every derivative reads its kept table (set
    ``families-declared``) for any --top; a download threshold is counted."""
    store = Store(store_path, create=False)
    kept, mem = load_context(store), counted(store, "declared")
    for options in ({"top": 20}, {"top": 3}, {"top": 100_000}, {"min_downloads": 5}):
        a, b = families(kept, **options), families(mem, **options)  # type: ignore[arg-type]
        assert a.equals(b), options
        assert a.height == min(options.get("top", 20), b.height)
    assert families(kept, top=100_000).height > 20  # more families than a page
    folder = store.derived_dir
    assert folder is not None
    assert (folder / "families-declared" / "table.parquet").is_file()
