"""Inferred lineage in Neo4j, for real: the official driver over Bolt against the test server.

`lineage neo4j load --lineage both` writes inferred edges as DERIVED_FROM {lineage:
'inferred', method, confidence}; declared edges carry lineage 'declared' and no method;
a load with declared lineage only removes the inferred ones again.
"""

from __future__ import annotations

import csv

import polars as pl
import pytest
from support.toyhub import FIXTURES, client_for
from test_cypher_queries import Graph

from lineage.analysis import load_context, share
from lineage.crawl import Crawler, CrawlRequest
from lineage.inference import infer, save
from lineage.neo4j.csv import export_csv
from lineage.neo4j.loader import Neo4jTarget, load
from lineage.store import Store
from lineage.testing.fakehub import FakeHub, load_jsonl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    path = tmp_path_factory.mktemp("undeclared") / "store"
    with FakeHub(list(load_jsonl(FIXTURES / "hub" / "undeclared.jsonl")), page_size=7) as hub:
        Crawler(Store(path), client_for(hub)).run(CrawlRequest(all=True))
    store = Store(path)
    save(store, infer(store))
    return store


@pytest.fixture
def db(server, driver):
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=server.database)
    return Neo4jTarget(server.uri, server.user, server.password, server.database)


@pytest.fixture
def both(store, driver, db):
    """The store with every inferred edge, loaded."""
    ctx = load_context(store, lineage="both", min_confidence=0.0)
    load(ctx, db, batch_size=5)
    return Graph("undeclared", ctx, driver, db.database)


def edge(graph: Graph, child: str) -> dict:
    records = graph.driver.execute_query(
        "MATCH (:Model {id: $child})-[e:DERIVED_FROM]->(p:Model) "
        "RETURN p.id AS parent, properties(e) AS props",
        {"child": child},
        database_=graph.database,
    ).records
    assert len(records) == 1, records
    return {"parent": records[0]["parent"], **records[0]["props"]}


def test_inferred_edges_are_derived_from_marked_inferred(both, store):
    expected = store.read("inferred_edges").filter(pl.col("child") == "quant/Llama-3-8B-GGUF")
    got = edge(both, "quant/Llama-3-8B-GGUF")
    assert got == {  # a re-upload of Meta's, by its name
        "parent": "meta-llama/Meta-Llama-3-8B",
        "relation": "quantized",
        "inferred": True,
        "position": 0,
        "lineage": "inferred",
        "method": "reupload",
        "confidence": pytest.approx(expected["confidence"][0]),
    }
    # A declared edge says so, and has no method or confidence.
    assert edge(both, "b/Llama-3-8B") == {
        "parent": "meta-llama/Meta-Llama-3-8B",
        "relation": "finetune",
        "inferred": False,
        "position": 0,
        "lineage": "declared",
    }
    # The architecture method names only a family: the edge goes to its root.
    assert edge(both, "zed/mystery-GGUF")["parent"] == "Qwen/Qwen2.5-7B"
    attributed = both.driver.execute_query(
        "MATCH (:Model:Derivative {id: 'quant/Llama-3-8B-GGUF'})-[a:ATTRIBUTED_TO]->(r:Root) "
        "RETURN r.id AS root, a.weight AS weight",
        database_=both.database,
    ).records
    assert [(r["root"], r["weight"]) for r in attributed] == [("meta-llama/Meta-Llama-3-8B", 1.0)]


def test_load_info_and_the_inferred_lineage_query(both, store):
    (info,) = both.run("load_info")
    assert (info["lineage"], info["min_confidence"], info["inferred_derived_from"]) == (
        "both",
        0.0,
        17,
    )
    rows = both.run("inferred_lineage", min_confidence=0.0, limit=100)
    library = store.read("inferred_edges").sort(["confidence", "child"], descending=[True, False])
    assert [(r["child"], r["parent"], r["method"]) for r in rows] == [
        (c, p if p is not None else root, m)
        for c, p, root, m in library.select("child", "parent", "root", "method").iter_rows()
    ]
    assert [r["confidence"] for r in rows] == pytest.approx(library["confidence"].to_list())
    families = {r["child"]: r["family"] for r in rows}
    assert families["quant/Llama-3-8B-GGUF"] == "meta-llama/Meta-Llama-3-8B"
    strong = both.run("inferred_lineage")  # its :param default, 0.9
    assert {r["child"] for r in strong} == set(library.filter(pl.col("confidence") >= 0.9)["child"])


def test_share_query_equals_share_with_inferred_lineage(both):
    expected = share(both.ctx, min_downloads=0).table.sort("month", "group")
    rows = both.run("share_by_region", min_downloads=0)
    got = pl.DataFrame(rows, schema=expected.schema, orient="row").sort("month", "group")
    assert (
        got.select("month", "group", "count").rows()
        == expected.select("month", "group", "count").rows()
    )
    assert got["share"].to_list() == pytest.approx(expected["share"].to_list())


def test_a_declared_load_removes_the_inferred_edges(both, store, db):
    load(load_context(store), db, batch_size=5)
    remaining = both.driver.execute_query(
        "MATCH ()-[e:DERIVED_FROM]->() RETURN e.lineage AS lineage, count(*) AS n",
        database_=both.database,
    ).records
    assert {(r["lineage"], r["n"]) for r in remaining} == {("declared", 11)}
    (info,) = both.run("load_info")
    assert info["lineage"] == "declared" and info["inferred_derived_from"] == 0


def test_cli_load_and_export_take_the_lineage_options(store, db, run_cli, tmp_path):
    env = {
        "NEO4J_URI": db.uri,
        "NEO4J_USERNAME": db.user,
        "NEO4J_PASSWORD": db.password,
        "NEO4J_DATABASE": db.database,
    }
    result = run_cli(
        "neo4j",
        "load",
        "--store",
        str(store.path),
        "--lineage",
        "both",
        "--min-confidence",
        "0.5",
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    at_half = store.read("inferred_edges").filter(pl.col("confidence") >= 0.5).height
    assert f"{11 + at_half:,} DERIVED_FROM" in result.stderr
    out = tmp_path / "csv"
    export_csv(load_context(store, lineage="both", min_confidence=0.5), out)
    with open(out / "derived_from.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    header = (out / "derived_from_header.csv").read_text().strip().split(",")
    lineage = header.index("lineage")
    assert sum(r[lineage] == "inferred" for r in rows) == at_half
    assert sum(r[lineage] == "declared" for r in rows) == 11
