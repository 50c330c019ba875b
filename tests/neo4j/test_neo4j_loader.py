"""`lineage neo4j load` and `export-csv`, for real: the official driver over Bolt against a
Bolt server the tests start (ArcadeDB, see tests/support/boltserver.py).

One server for the module; each test empties the database first. Skips, with the reason,
where arcadedb-embedded is not installed.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import neo4j
import pytest
from support.toyhub import ROOT, client_for, toy_models, toy_renames

from lineage.analysis import load_context
from lineage.crawl import Crawler, CrawlRequest
from lineage.neo4j.csv import csv_header, export_csv
from lineage.neo4j.graph import graph_frames
from lineage.neo4j.loader import Neo4jTarget, load, schema_statements
from lineage.records import parse_raw
from lineage.store import Store
from lineage.testing.fakehub import FakeHub
from lineage.testing.synthetic import generate

pytestmark = pytest.mark.slow

TOY_COUNTS = {
    "models": 29,  # 28 crawled + the missing ghost/deleted-model
    "roots": 4,  # Qwen2.5-7B, Llama-3.1-8B, Mistral-7B-v0.1, ghost/deleted-model
    "derivatives": 24,
    "organizations": 21,
    "derived_from": 28,  # the cycle grace/cycle-a -> grace/cycle-b is broken
    "published_by": 29,
    "attributed_to": 27,  # 21 single-root derivatives + 3 merges of two families
}
VOLATILE = {"loaded_at", "started_at"}  # when, not what, was loaded


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def db(server, driver):
    """An empty database, and its target."""
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=server.database)
    return Neo4jTarget(server.uri, server.user, server.password, server.database)


def crawl_toy(path: Path, models: list[dict] | None = None) -> Store:
    store = Store(path)
    with FakeHub(models or toy_models(), page_size=5, renames=toy_renames()) as hub:
        Crawler(store, client_for(hub)).run(CrawlRequest(all=True))
    return store


@pytest.fixture(scope="module")
def toy_store(tmp_path_factory) -> Store:
    return crawl_toy(tmp_path_factory.mktemp("toy") / "store")


@pytest.fixture(scope="module")
def toy_ctx(toy_store):
    return load_context(toy_store)


def synthetic_store(path: Path, n: int, seed: int = 5) -> Store:
    hub = generate(n, seed=seed)
    store = Store(path)
    store.commit(
        parse_raw(hub.raw, seen_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), source="synthetic")
    )
    return store


# -- reading the graph back -----------------------------------------------------------------


def plain(value):
    """Driver values as comparable Python values (temporal -> native, lists -> tuples)."""
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return tuple(plain(v) for v in value)
    return value


def node_key(node) -> tuple:
    props = dict(node)
    return (
        tuple(sorted(node.labels)),
        props.get("id") or props.get("name") or props.get("key"),
    )


def snapshot(driver, database: str) -> tuple[list, list]:
    """Every node (labels, properties) and relationship (type, ends, properties), sorted."""
    nodes, _, _ = driver.execute_query("MATCH (n) RETURN n", database_=database)
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN a, type(r) AS type, properties(r) AS props, b",
        database_=database,
    )
    node_rows = sorted(
        (
            node_key(r["n"]),
            tuple(sorted((k, plain(v)) for k, v in dict(r["n"]).items() if k not in VOLATILE)),
        )
        for r in nodes
    )
    rel_rows = sorted(
        (
            node_key(r["a"]),
            r["type"],
            node_key(r["b"]),
            tuple(sorted((k, plain(v)) for k, v in r["props"].items())),
        )
        for r in rels
    )
    return node_rows, rel_rows


def counts(driver, database: str) -> dict[str, int]:
    """The loader's count names, counted here from every node and relationship fetched
    whole (not with the loader's own count queries, which would check them by themselves)."""
    nodes, rels = snapshot(driver, database)
    labels = [set(key[0]) for key, _ in nodes]
    types = [t for _, t, _, _ in rels]
    return {
        "models": sum("Model" in ls for ls in labels),
        "roots": sum("Root" in ls for ls in labels),
        "derivatives": sum("Derivative" in ls for ls in labels),
        "organizations": sum("Organization" in ls for ls in labels),
        "derived_from": types.count("DERIVED_FROM"),
        "published_by": types.count("PUBLISHED_BY"),
        "attributed_to": types.count("ATTRIBUTED_TO"),
    }


def one(driver, database: str, query: str, **params):
    records = driver.execute_query(query, params, database_=database).records
    assert len(records) == 1, records
    return records[0]


# -- the graph model ------------------------------------------------------------------------


def test_loads_the_toy_graph_as_modelled(toy_ctx, driver, db):
    summary = load(toy_ctx, db, batch_size=7)
    assert summary.counts == TOY_COUNTS == counts(driver, db.database)
    assert summary.fresh
    assert summary.counters["nodes_created"] == 29 + 21 + 1  # models, organizations, info
    assert summary.counters["relationships_created"] == 28 + 29 + 27
    # 21 organizations, 29 models, 28 + 27 relationships in batches of 7 (info excluded)
    assert summary.batches == 3 + 5 + 4 + 4

    qwen = one(driver, db.database, "MATCH (m:Model {id: 'Qwen/Qwen2.5-7B'}) RETURN m")["m"]
    assert set(qwen.labels) == {"Model", "Root"}
    assert qwen["region"] == "china" and qwen["status"] == "crawled"
    assert "family" not in qwen  # attribution properties are on derivatives only
    created = qwen["created_at"].to_native()
    assert created == dt.datetime(2024, 9, 15, 10, tzinfo=ZoneInfo("UTC"))
    assert created.utcoffset() == dt.timedelta(0)
    assert qwen["month"].to_native() == dt.date(2024, 9, 1)
    assert qwen["pipeline_tag"] == "text-generation" and qwen["parameters"] == 7615616512

    merge = one(
        driver,
        db.database,
        "MATCH (m:Model {id: 'carol/qwen-llama-merge'})-[a:ATTRIBUTED_TO]->(r:Root) "
        "WITH m, r, a ORDER BY r.id "
        "RETURN m, labels(m) AS labels, collect([r.id, r.region, a.weight]) AS roots",
    )
    assert sorted(merge["labels"]) == ["Derivative", "Model"]
    assert merge["roots"] == [
        ["Qwen/Qwen2.5-7B", "china", 0.5],
        ["meta-llama/Llama-3.1-8B", "us", 0.5],
    ]
    m = merge["m"]
    assert (m["relation"], m["depth"], m["chain"]) == ("merge", 3, "finetune > finetune > merge")
    assert (m["family"], m["family_region"]) == ("Qwen/Qwen2.5-7B", "china")
    assert m["attributed_weight"] == 1.0

    edge = one(
        driver,
        db.database,
        "MATCH (:Model {id: 'alice/qwen-chat-ft-GGUF'})-[e:DERIVED_FROM]->(p) "
        "RETURN p.id AS parent, e.relation AS relation, e.inferred AS inferred, "
        "e.position AS position",
    )
    assert edge.data() == {
        "parent": "alice/qwen-chat-ft",
        "relation": "quantized",
        "inferred": True,  # from the -GGUF name: the card declared no relation
        "position": 0,
    }
    ghost = one(driver, db.database, "MATCH (m:Model {id: 'ghost/deleted-model'}) RETURN m")["m"]
    assert set(ghost.labels) == {"Model", "Root"}
    assert ghost["status"] == "missing" and not ghost["crawled"]
    assert "created_at" not in ghost and "downloads" not in ghost  # unknown, not zero
    published = one(
        driver,
        db.database,
        "MATCH (:Model {id: 'mistralai/Mistral-7B-v0.1'})-[:PUBLISHED_BY]->(o) RETURN o",
    )["o"]
    assert dict(published) == {"name": "mistralai", "region": "eu", "loaded_at": ANY}

    info = one(driver, db.database, "MATCH (i:LineageInfo) RETURN i")["i"]
    assert info["complete"] is True
    assert (info["root_set"], info["multi_parent"], info["regions"]) == (
        "all",
        "split",
        "packaged (ATOM)",
    )
    assert info["models"] == 29 and info["cycle_edges_dropped"] == 1
    assert info["store"] == str(toy_ctx.store.path)


class _Any:
    def __eq__(self, other):
        return True


ANY = _Any()


def test_schema_comes_from_cypher_schema_file(toy_ctx, driver, db):
    load(toy_ctx, db)
    statements = schema_statements()
    assert len(statements) == 5 and all("IF NOT EXISTS" in s for s in statements)
    indexes = {
        (tuple(r["labelsOrTypes"]), tuple(r["properties"]))
        for r in driver.execute_query(
            "SHOW INDEXES YIELD labelsOrTypes, properties RETURN *", database_=db.database
        ).records
    }
    assert {
        (("Model",), ("id",)),
        (("Organization",), ("name",)),
        (("LineageInfo",), ("key",)),
        (("Model",), ("created_at",)),
        (("Model",), ("month",)),
    } <= indexes
    # The uniqueness constraint is enforced: MERGE can never make two nodes of one model.
    with pytest.raises(neo4j.exceptions.ConstraintError):
        driver.execute_query("CREATE (:Model {id: 'Qwen/Qwen2.5-7B'})", database_=db.database)


# -- idempotent and incremental -------------------------------------------------------------


def test_loading_twice_gives_the_same_graph(toy_ctx, driver, db):
    first = load(toy_ctx, db, batch_size=10)
    before = snapshot(driver, db.database)
    second = load(toy_ctx, db, batch_size=10)
    assert not second.fresh
    assert snapshot(driver, db.database) == before
    assert second.counts == first.counts == TOY_COUNTS
    for created in ("nodes_created", "nodes_deleted", "relationships_created"):
        assert second.counters.get(created, 0) == 0, second.counters
    assert second.counters.get("relationships_deleted", 0) == 0


def test_reload_keeps_properties_users_added(toy_ctx, driver, db):
    load(toy_ctx, db)
    driver.execute_query(
        "MATCH (m:Model {id: 'Qwen/Qwen2.5-7B'}) SET m.pagerank = 0.25", database_=db.database
    )
    load(toy_ctx, db)
    rank = one(driver, db.database, "MATCH (m:Model {id: 'Qwen/Qwen2.5-7B'}) RETURN m")["m"]
    assert rank["pagerank"] == 0.25 and rank["downloads_all_time"] == 9_000_000


def changed_toy() -> list[dict]:
    """The toy Hub a month later: a parent changed, a merge appeared, counters moved."""
    models = []
    for item in toy_models():
        item = dict(item)
        if item["id"] == "bob/qwen-lora-2":  # now declared an adapter of Llama instead
            item["tags"] = [
                "base_model:meta-llama/Llama-3.1-8B",
                "base_model:adapter:meta-llama/Llama-3.1-8B",
            ]
        if item["id"] == "heidi/missing-parent":  # dropped the deleted parent
            item["tags"] = [
                t for t in item["tags"] if "ghost" not in t and not t.startswith("base_model:merge")
            ] + ["base_model:finetune:Qwen/Qwen2.5-7B-Instruct"]
            item.pop("cardData", None)
        if item["id"] == "quinn/invalid-card":  # gained a parent: becomes a derivative
            item["tags"] = ["base_model:finetune:mistralai/Mistral-7B-v0.1"]
            item.pop("cardData", None)
        if item["id"] == "Qwen/Qwen2.5-7B":
            item["downloadsAllTime"] = 9_500_000
            item.pop("pipeline_tag", None)
        models.append(item)
    models.append(
        {
            "id": "zoe/mistral-llama-merge",
            "author": "zoe",
            "createdAt": "2025-06-01T08:00:00.000Z",
            "downloads": 70,
            "downloadsAllTime": 700,
            "likes": 2,
            "tags": [
                "base_model:merge:mistralai/Mistral-7B-v0.1",
                "base_model:merge:meta-llama/Llama-3.1-8B",
            ],
        }
    )
    return models


def test_load_after_a_recrawl_updates_in_place_like_a_fresh_load(tmp_path, driver, db):
    store = crawl_toy(tmp_path / "store")
    load(load_context(store), db, batch_size=4)
    store = crawl_toy(tmp_path / "store", changed_toy())  # the same store, re-crawled
    ctx = load_context(store)
    summary = load(ctx, db, batch_size=4)
    incremental = snapshot(driver, db.database)

    assert summary.counters["nodes_created"] == 2  # zoe and her organization
    assert summary.counters["nodes_deleted"] == 2  # ghost/deleted-model and its organization
    assert summary.counts == {
        **TOY_COUNTS,
        "models": 29,  # + zoe - ghost
        "roots": 3,
        "derivatives": 26,  # + zoe + quinn
        "organizations": 21,
        "derived_from": 30,  # + zoe's 2 + quinn's 1, - heidi's ghost
        "attributed_to": 29,  # heidi 2 -> 1, + zoe 2, + quinn 1, bob moves family
    }
    bob = driver.execute_query(
        "MATCH (:Model {id: 'bob/qwen-lora-2'})-[r]->(x:Model) RETURN type(r) AS t, x.id AS x "
        "ORDER BY t",
        database_=db.database,
    ).records
    assert [r.data() for r in bob] == [
        {"t": "ATTRIBUTED_TO", "x": "meta-llama/Llama-3.1-8B"},
        {"t": "DERIVED_FROM", "x": "meta-llama/Llama-3.1-8B"},
    ]
    quinn = one(driver, db.database, "MATCH (m:Model {id: 'quinn/invalid-card'}) RETURN m")["m"]
    assert set(quinn.labels) == {"Model", "Derivative"} and quinn["family_region"] == "eu"
    qwen = one(driver, db.database, "MATCH (m:Model {id: 'Qwen/Qwen2.5-7B'}) RETURN m")["m"]
    assert qwen["downloads_all_time"] == 9_500_000 and "pipeline_tag" not in qwen

    driver.execute_query("MATCH (n) DETACH DELETE n", database_=db.database)
    assert load(ctx, db).fresh
    assert snapshot(driver, db.database) == incremental


def loader_process(store: Path, target: Neo4jTarget, *args: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "NEO4J_URI": target.uri,
        "NEO4J_USERNAME": target.user,
        "NEO4J_PASSWORD": target.password or "",
        "NEO4J_DATABASE": target.database,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "lineage", "neo4j", "load", "--store", str(store), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    "kill_when",
    [
        "MATCH (n:Model) RETURN count(n) AS n",  # while writing models
        "MATCH ()-[r:DERIVED_FROM]->() RETURN count(r) AS n",  # while writing relationships
    ],
    ids=["models", "relationships"],
)
def test_a_killed_load_completes_when_run_again(tmp_path, driver, db, kill_when):
    store = synthetic_store(tmp_path / "store", 4000)
    proc = loader_process(store.path, db, "--batch-size", "25", "--quiet")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if driver.execute_query(kill_when, database_=db.database).records[0]["n"] > 0:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    info = one(driver, db.database, "MATCH (i:LineageInfo) RETURN i.complete AS complete")
    assert info["complete"] is False  # the database says the load did not finish
    partial = counts(driver, db.database)

    rerun = loader_process(store.path, db, "--batch-size", "25", "--quiet")
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    resumed = snapshot(driver, db.database)
    resumed_counts = counts(driver, db.database)

    driver.execute_query("MATCH (n) DETACH DELETE n", database_=db.database)
    clean = load(load_context(store), db)
    assert resumed_counts == clean.counts
    assert resumed == snapshot(driver, db.database)
    assert any(partial[k] < clean.counts[k] for k in partial)  # it really was cut short


# -- export-csv -----------------------------------------------------------------------------


def test_export_csv_files_headers_and_rows(toy_ctx, tmp_path):
    summary = export_csv(toy_ctx, tmp_path / "out")
    frames = graph_frames(toy_ctx)
    expected_rows = {
        "models.csv": 29,
        "organizations.csv": 21,
        "lineage_info.csv": 1,
        "derived_from.csv": 28,
        "published_by.csv": 29,
        "attributed_to.csv": 27,
    }
    assert summary.rows == expected_rows
    assert frames.models.height == 29
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*expected_rows, *(n.replace(".csv", "_header.csv") for n in expected_rows)]
    )
    assert (out / "models_header.csv").read_text() == (
        "id:ID(Model),org,status,crawled:boolean,created_at:datetime,month:date,downloads:long,"
        "downloads_all_time:long,likes:long,pipeline_tag,library_name,parameters:long,region,"
        "relation,depth:long,chain,family,family_region,attributed_weight:double,:LABEL\n"
    )
    assert (out / "derived_from_header.csv").read_text() == (
        ":START_ID(Model),:END_ID(Model),relation,inferred:boolean,position:long,lineage,method,"
        "confidence:double,:TYPE\n"
    )
    assert (out / "published_by_header.csv").read_text() == (
        ":START_ID(Model),:END_ID(Organization),:TYPE\n"
    )
    assert (out / "attributed_to_header.csv").read_text() == (
        ":START_ID(Model),:END_ID(Model),weight:double,:TYPE\n"
    )
    assert (out / "organizations_header.csv").read_text() == (
        "name:ID(Organization),region,:LABEL\n"
    )
    for name, n in expected_rows.items():
        rows = read_csv(out / name)
        assert len(rows) == n
        width = len(csv_header(name.removesuffix(".csv")))
        assert {len(r) for r in rows} == {width}, name
    models = {r[0]: r for r in read_csv(out / "models.csv")}
    carol = dict(zip(csv_header("models"), models["carol/qwen-llama-merge"], strict=True))
    assert carol["created_at:datetime"] == "2025-04-01T08:00:00.000000Z"
    assert carol["month:date"] == "2025-04-01"
    assert carol[":LABEL"] == "Model;Derivative"
    assert carol["crawled:boolean"] == "true" and carol["attributed_weight:double"] == "1.0"
    ghost = dict(zip(csv_header("models"), models["ghost/deleted-model"], strict=True))
    assert ghost[":LABEL"] == "Model;Root" and ghost["created_at:datetime"] == ""

    command = summary.command("neo4j", import_dir="/import")
    assert command.splitlines()[0] == (
        "neo4j-admin database import full neo4j --overwrite-destination \\"
    )
    for header, data in [*summary.nodes.values(), *summary.relationships.values()]:
        assert f"/import/{header},/import/{data}" in command
    assert command.count("--nodes=") == 3 and command.count("--relationships=") == 3
    assert str(out.resolve()) in summary.command()


# neo4j-admin's header grammar, as its manual gives it: name:type, :ID(group),
# :START_ID(group), :END_ID(group), :LABEL, :TYPE; `type[]` arrays split on ';'; empty
# fields are no property.
_CONVERT = {
    "string": str,
    "long": int,
    "int": int,
    "double": float,
    "float": float,
    "boolean": lambda v: {"true": True, "false": False}[v],
    "date": dt.date.fromisoformat,
    "datetime": lambda v: dt.datetime.fromisoformat(v).astimezone(ZoneInfo("UTC")),
}


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _field(header: str) -> tuple[str, str, str | None]:
    """(property name, kind, id group) of one header field."""
    name, _, spec = header.partition(":")
    found = re.fullmatch(r"(ID|START_ID|END_ID)\((\w+)\)", spec)
    if found:
        return name, found.group(1), found.group(2)
    if spec in ("LABEL", "TYPE"):
        return name, spec, None
    return name, spec or "string", None


def _value(kind: str, text: str):
    if kind.endswith("[]"):
        return [_CONVERT[kind[:-2]](v) for v in text.split(";")]
    return _CONVERT[kind](text)


def admin_import(directory: Path, driver, database: str) -> None:
    """What neo4j-admin database import full does with the files, done over Bolt."""
    id_property: dict[str, tuple[str, str]] = {}  # group -> (label, id property)
    for stem in ("models", "organizations", "lineage_info"):
        fields = [_field(h) for h in csv_header(stem)]
        by_labels: dict[str, list[dict]] = {}
        for row in read_csv(directory / f"{stem}.csv"):
            props, labels = {}, None
            for (name, kind, group), text in zip(fields, row, strict=True):
                if kind == "LABEL":
                    labels = text
                elif kind == "ID":
                    props[name] = text
                    id_property[group] = (group, name)
                elif text != "":
                    props[name] = _value(kind, text)
            by_labels.setdefault(labels, []).append(props)
        for labels, rows in by_labels.items():
            assert re.fullmatch(r"\w+(;\w+)*", labels)
            driver.execute_query(
                f"UNWIND $rows AS row CREATE (n:{labels.replace(';', ':')}) SET n = row",
                rows=rows,
                database_=database,
            )
    for stem in ("derived_from", "published_by", "attributed_to"):
        fields = [_field(h) for h in csv_header(stem)]
        rows, start, end, kind_of = [], None, None, None
        for row in read_csv(directory / f"{stem}.csv"):
            item: dict = {"props": {}}
            for (name, kind, group), text in zip(fields, row, strict=True):
                if kind == "START_ID":
                    item["start"], start = text, id_property[group]
                elif kind == "END_ID":
                    item["end"], end = text, id_property[group]
                elif kind == "TYPE":
                    kind_of = text
                elif text != "":
                    item["props"][name] = _value(kind, text)
            rows.append(item)
        driver.execute_query(
            f"UNWIND $rows AS row MATCH (a:{start[0]} {{{start[1]}: row.start}}) "
            f"MATCH (b:{end[0]} {{{end[1]}: row.end}}) "
            f"CREATE (a)-[r:{kind_of}]->(b) SET r = row.props",
            rows=rows,
            database_=database,
        )


@pytest.mark.parametrize("graph", ["toy", "synthetic"])
def test_export_csv_imports_to_the_graph_the_driver_loads(toy_ctx, tmp_path, driver, db, graph):
    ctx = toy_ctx if graph == "toy" else load_context(synthetic_store(tmp_path / "s", 1500))
    load(ctx, db)
    loaded = snapshot(driver, db.database)
    export_csv(ctx, tmp_path / "csv")
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=db.database)
    admin_import(tmp_path / "csv", driver, db.database)
    imported = snapshot(driver, db.database)
    assert imported[1] == loaded[1]  # relationships, with their properties
    # Nodes too, except the info node's `complete` and timestamps, which say when.
    assert [n for n in imported[0] if n[0][0] != ("LineageInfo",)] == [
        n for n in loaded[0] if n[0][0] != ("LineageInfo",)
    ]


# -- the command line -----------------------------------------------------------------------


def neo4j_env(target: Neo4jTarget, **overrides: str) -> dict[str, str]:
    env = {
        "NEO4J_URI": target.uri,
        "NEO4J_USERNAME": target.user,
        "NEO4J_PASSWORD": target.password or "",
        "NEO4J_DATABASE": target.database,
    }
    return {**env, **overrides}


def test_cli_load_reads_neo4j_variables_and_ends_with_counts(run_cli, toy_store, db):
    result = run_cli("neo4j", "load", "--store", str(toy_store.path), env=neo4j_env(db))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        f"loaded {toy_store.path} into Neo4j at {db.uri} (database {db.database}) in "
    )
    assert lines[1] == "  nodes: 29 Model (4 Root, 24 Derivative), 21 Organization"
    assert lines[2] == "  relationships: 28 DERIVED_FROM, 29 PUBLISHED_BY, 27 ATTRIBUTED_TO"
    assert lines[3] == "  attribution: roots all, merges split, regions packaged (ATOM)"
    assert lines[4].startswith("  this load: 51 nodes created, 0 deleted; 84 relationships")
    # where the queries are, as installed (pip users have no checkout's cypher/)
    assert lines[5].startswith("  queries to paste into Neo4j Browser: ")
    assert Path(lines[5].split(": ", 1)[1], "share_by_region.cypher").is_file()
    assert len(lines) == 6  # no progress bar: stderr is not a terminal

    again = run_cli(
        "neo4j", "load", "--store", str(toy_store.path), "--multi-parent", "first",
        env=neo4j_env(db),
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert "attribution: roots all, merges first" in again.stderr
    assert "this load: 0 nodes created, 0 deleted" in again.stderr


def test_crawl_with_neo4j_flag_loads_after_crawling(run_cli, toy_hub, tmp_path, driver, db):
    store = str(tmp_path / "s")
    result = run_cli(
        "crawl", "--all", "--store", store, "--endpoint", toy_hub.url, "--neo4j",
        env=neo4j_env(db),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "crawled the whole Hub" in result.stderr
    assert f"into Neo4j at {db.uri} (database {db.database})" in result.stderr
    assert counts(driver, db.database) == TOY_COUNTS


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("problem", ["password", "server", "database", "uri"])
def test_bad_connections_are_one_line_naming_uri_and_database(run_cli, toy_store, db, problem):
    env = neo4j_env(db)
    uri, database = db.uri, db.database
    if problem == "password":
        env["NEO4J_PASSWORD"] = "not-the-password"
        expected = (
            f"error: Neo4j at {uri} (database {database}) refused user 'root': wrong user or "
            "password; set --user/--password or NEO4J_USERNAME/NEO4J_PASSWORD\n"
        )
    elif problem == "server":
        uri = env["NEO4J_URI"] = f"bolt://127.0.0.1:{_closed_port()}"
        expected = (
            f"error: cannot reach Neo4j at {uri} (database {database}): connection refused; "
            "is the server running? (docker compose up -d neo4j)\n"
        )
    elif problem == "database":
        env["NEO4J_DATABASE"] = "nosuchdb"
        expected = (
            f"error: Neo4j at {uri} has no database 'nosuchdb'; set --database or "
            "NEO4J_DATABASE (SHOW DATABASES lists them)\n"
        )
    else:
        uri = env["NEO4J_URI"] = "http://127.0.0.1:7474"
        expected = (
            f"error: cannot use Neo4j URI '{uri}': give a Bolt URI such as "
            "bolt://localhost:7687 or neo4j://host:7687 (port 7687; 7474 is Neo4j Browser)\n"
        )
    started = time.monotonic()
    result = run_cli("neo4j", "load", "--store", str(toy_store.path), env=env)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert result.stderr == expected
    assert time.monotonic() - started < 30  # no 30 s of transaction retries first


def test_export_csv_cli_prints_the_import_command(run_cli, toy_store, tmp_path):
    out = tmp_path / "import"
    result = run_cli(
        "neo4j", "export-csv", str(out), "--store", str(toy_store.path), "--import-dir", "/import"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(
        "neo4j-admin database import full neo4j --overwrite-destination"
    )
    assert "--nodes=/import/models_header.csv,/import/models.csv" in result.stdout
    assert (
        "--relationships=/import/attributed_to_header.csv,/import/attributed_to.csv"
        in result.stdout
    )
    assert f"wrote 12 files to {out}" in result.stderr
    # Where the schema is, as installed (pip users have no cypher/ of a checkout).
    [shell] = [line for line in result.stderr.splitlines() if "cypher-shell" in line]
    schema = Path(shlex.split(shell.split("cypher-shell", 1)[1])[-1])
    assert schema.name == "schema.cypher" and schema.is_absolute() and schema.is_file()
    assert (schema.parent / "share_by_region.cypher").is_file()
    assert f"Neo4j Browser are beside it, in {schema.parent}" in result.stderr
    assert (out / "models.csv").is_file()


def test_compose_file_runs_neo4j_5_community_with_auth_from_the_environment():
    """A static check (no Docker here): the parts the README relies on."""
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    neo4j_service = compose["services"]["neo4j"]
    assert neo4j_service["image"] == "neo4j:5"  # Community Edition (enterprise tags say so)
    assert neo4j_service["environment"]["NEO4J_AUTH"].startswith("neo4j/${NEO4J_PASSWORD:?")
    assert "neo4j-data:/data" in neo4j_service["volumes"] and "neo4j-data" in compose["volumes"]
    assert set(neo4j_service["ports"]) == {"127.0.0.1:7474:7474", "127.0.0.1:7687:7687"}
    assert "./cypher:/cypher:ro" in neo4j_service["volumes"]
