"""Lookup order (lineage.parents.impact) on lineage with cycles, as real cards make them.

On the Hub, pairs of models declare each other (a fine-tune and its quantization, each
naming the other); the 2.5M-model population of issue 21 had 1,250 such pairs. Impact must
count every model under a parent once per path, and a cycle's members once each, not once
per trip around the cycle.
"""

from __future__ import annotations

import math

import polars as pl

from lineage.parents import impact, lookup_order, unknown_parents


def _w(downloads: int) -> float:
    return math.log10(1 + downloads)


def cycles_under_parents(pairs: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``pairs`` 2-node cycles, each pair (x, y) declaring each other and x declaring the
    unknown parent gone/p-i; one chain below each pair (z declares y). A plain chain under
    gone/q for comparison."""
    ids, downloads, children, parents = [], [], [], []
    for i in range(pairs):
        x, y, z = f"org/x{i}", f"org/y{i}", f"org/z{i}"
        ids += [x, y, z]
        downloads += [99, 9, 999]
        children += [x, x, y, z]
        parents += [y, f"Gone/P-{i}", x, y]
    ids += ["org/a", "org/b"]
    downloads += [99, 9]
    children += ["org/a", "org/b"]
    parents += ["gone/q", "org/a"]
    return (
        pl.DataFrame({"id": ids, "downloads": downloads}),
        pl.DataFrame({"child": children, "parent": parents}),
    )


def test_two_node_cycles_count_once_and_do_not_inflate_the_parents_under_them():
    models, edges = cycles_under_parents(1250)
    keys = pl.DataFrame({"key": ["gone/p-0", "gone/p-1249", "gone/q", "org/x7", "org/y7"]})
    got = {k: (score, n) for k, score, n in impact(models, edges, keys).rows()}
    # Under gone/p-i: x, y (each once, though they declare each other) and z below y.
    once = round(_w(99) + _w(9) + _w(999), 9)
    assert got["gone/p-0"] == (once, 3)
    assert got["gone/p-1249"] == (once, 3)
    assert got["gone/q"] == (round(_w(99) + _w(9), 9), 2)  # no cycle: one per path
    # A member's impact is its cycle's: what lies below the cycle (z), not itself again.
    assert got["org/x7"] == got["org/y7"] == (round(_w(999), 9), 1)


def test_lookup_order_is_not_led_by_the_cycles():
    """Before, each trip round a cycle added its members again (64 rounds): a parent with
    a 2-cycle of unpopular models under it outranked one with many downloaded children."""
    models, edges = cycles_under_parents(3)
    popular = pl.DataFrame({"id": [f"fan/m{i}" for i in range(4)], "downloads": [10**6] * 4})
    models = pl.concat([models, popular])
    edges = pl.concat([edges, pl.DataFrame({"child": popular["id"], "parent": ["big/base"] * 4})])
    known = models.select(pl.col("id").str.to_lowercase().alias("key"))
    order = lookup_order(models, edges, unknown_parents(edges, known))
    assert order["key"][0] == "big/base"
    assert order.filter(pl.col("key") == "big/base")["impact"][0] == round(4 * _w(10**6), 9)


def test_merges_count_once_per_path_and_deep_lineage_is_whole():
    """A merge under two unknown parents counts for both; a 200-deep chain (deeper than
    the 64 rounds the old propagation stopped at) counts every model."""
    chain = [f"c/m{i}" for i in range(200)]
    models = pl.DataFrame({"id": [*chain, "m/merge"], "downloads": [9] * 201})
    edges = pl.DataFrame(
        {
            "child": [*chain, "m/merge", "m/merge"],
            "parent": ["deep/root", *chain[:-1], "gone/a", "gone/b"],
        }
    )
    keys = pl.DataFrame({"key": ["deep/root", "gone/a", "gone/b"]})
    got = {k: (score, n) for k, score, n in impact(models, edges, keys).rows()}
    assert got["deep/root"] == (round(200 * _w(9), 9), 200)
    assert got["gone/a"] == got["gone/b"] == (1.0, 1)
