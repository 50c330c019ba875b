"""`crawl --resolve-parents` after a budgeted sweep gives, table by table, the store of a sweep
with unlimited lookups (README: A lookup budget), on a synthetic Hub with renamed models.

Before the fix, a lookup that found a rename's target already in the store committed that
model's edges again beside its stored ones: one duplicate row per edge of every model found
through a rename.
"""

from __future__ import annotations

import polars as pl
import pytest
from support.storecheck import table_rows
from support.toyhub import client_for

from lineage.crawl import Crawler, CrawlRequest
from lineage.store import Store
from lineage.testing.fakehub import FakeHub
from lineage.testing.synthetic import generate

TABLES = {
    "models": ("seen_at",),
    "edges": (),
    "problems": (),
    "lookups": ("looked_up_at",),
    "snapshots": ("date",),
}


@pytest.mark.slow
def test_resolving_every_parent_later_gives_the_store_of_unlimited_lookups(tmp_path):
    population = generate(6000, seed=1)
    assert population.renames
    with FakeHub(list(population.items()), renames=population.renames) as hub:
        unlimited = Store(tmp_path / "unlimited")
        Crawler(unlimited, client_for(hub)).run(CrawlRequest(all=True, lookup_budget=None))
        budgeted = Store(tmp_path / "budgeted")
        Crawler(budgeted, client_for(hub)).run(CrawlRequest(all=True, lookup_budget=3))
        Crawler(budgeted, client_for(hub)).run(
            CrawlRequest(resolve_parents=True, lookup_budget=None)
        )
    # Models found through a rename that the sweep had listed: the case that duplicated.
    targets = budgeted.read("lookups").filter(pl.col("status") == "renamed")["id"].unique()
    declaring = budgeted.read("edges").filter(pl.col("child").is_in(targets.implode()))
    assert declaring.height > 0
    for table, drop in TABLES.items():
        assert table_rows(budgeted, table, drop=drop) == table_rows(unlimited, table, drop=drop), (
            table
        )
    edges = budgeted.read("edges")
    assert edges.height == edges.unique(["child", "parent"]).height
