"""The queries in cypher/: Neo4j's own parser and semantic checks, then each one run for real.

Linting uses npm `@neo4j-cypher/language-support` (pinned in tests/cypher_lint; skips with
the reason where Node.js or its install is missing). Running uses the official driver over
Bolt against the test server (ArcadeDB; skips where arcadedb-embedded is missing), on three
graphs loaded by `lineage neo4j load`: the whole toy Hub, the toy's Qwen family alone
(parents outside it not crawled, missing or unresolved) and a synthetic population. Each
file runs as Neo4j Browser runs it: its `:param name => expression` lines are evaluated by
the server, then the query. Every result is compared with the library's answer on the same
store (the share query with `lineage share` itself), and on the toy with rows checked by
hand.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import networkx as nx
import polars as pl
import pytest
from support.cypherlint import CypherLintUnavailable, lint_cypher
from support.toyhub import ROOT, client_for, toy_models, toy_renames

from lineage.analysis import families, load_context, share, tree
from lineage.crawl import Crawler, CrawlRequest
from lineage.neo4j import cypher as neo4j_cypher
from lineage.neo4j import graph as neo4j_graph
from lineage.neo4j import loader as neo4j_loader
from lineage.records import parse_raw
from lineage.regions import attach_regions
from lineage.store import Store
from lineage.testing.fakehub import FakeHub
from lineage.testing.synthetic import generate

CYPHER = ROOT / "cypher"
QUERIES = sorted(p for p in CYPHER.glob("*.cypher") if p.name != "schema.cypher")
PARAM_LINE = re.compile(r"^:param\s+(\w+)\s*=>\s*(.+?);?\s*$", re.MULTILINE)

SCHEMA = {
    "labels": neo4j_graph.LABELS,
    "rel_types": neo4j_graph.RELATIONSHIP_TYPES,
    "properties": [
        "id",
        "name",
        "key",
        "weight",
        "relation",
        "inferred",
        "position",
        "lineage",
        "method",
        "confidence",
        "loaded_at",
        "started_at",
        "complete",
        *neo4j_graph.MODEL_PROPERTIES,
        "root_set",
        "multi_parent",
        "regions",
        "store",
        "lineage_version",
        "models",
        "roots",
        "derivatives",
        "organizations",
        "derived_from",
        "attributed_to",
        "cycle_edges_dropped",
        "min_confidence",
        "inferred_derived_from",
    ],
}


def query_text(name: str) -> str:
    return (CYPHER / f"{name}.cypher").read_text(encoding="utf-8")


def query_body(text: str) -> str:
    """The Cypher statement of a query file, without Browser commands or the final ';'."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith(":param"))
    return body.strip().removesuffix(";")


# -- Neo4j's parser and semantic analysis ---------------------------------------------------


@pytest.fixture(scope="module")
def lint():
    def run(sources, **kwargs):
        try:
            return lint_cypher(sources, **SCHEMA, **kwargs)
        except CypherLintUnavailable as exc:
            pytest.skip(f"Cypher linter unavailable: {exc}")

    return run


def test_every_cypher_file_passes_neo4j_parser_and_semantic_checks(lint):
    files = sorted(CYPHER.glob("*.cypher"))
    assert len(QUERIES) >= 10 and CYPHER / "schema.cypher" in files
    diagnostics = lint(files)
    # No errors, and no warnings either: an unknown label or property is a warning.
    assert [str(d) for d in diagnostics] == []


def test_the_loaders_statements_pass_them_too(lint):
    statements = {
        "organizations": neo4j_cypher.ORGANIZATIONS_UPSERT,
        **{f"create {k}": v for k, v in neo4j_cypher.MODEL_CREATES.items()},
        **{f"add missing {k}": v for k, v in neo4j_cypher.MODELS_ADD_MISSING.items()},
        "update": neo4j_cypher.MODELS_UPDATE,
        **{f"label fix {i}": v for i, v in enumerate(neo4j_cypher.LABEL_FIXES)},
        "stale parents": neo4j_cypher.STALE_PARENTS_DELETE,
        "stale roots": neo4j_cypher.STALE_ROOTS_DELETE,
        "derived_from create": neo4j_cypher.DERIVED_FROM_CREATE,
        "derived_from merge": neo4j_cypher.DERIVED_FROM_MERGE,
        "attributed_to create": neo4j_cypher.ATTRIBUTED_TO_CREATE,
        "attributed_to merge": neo4j_cypher.ATTRIBUTED_TO_MERGE,
        "info start": neo4j_cypher.INFO_START,
        "info finish": neo4j_cypher.INFO_FINISH,
        "prune models": neo4j_cypher.MODELS_PRUNE,
        "prune organizations": neo4j_cypher.ORGANIZATIONS_PRUNE,
        "has models": neo4j_cypher.HAS_MODELS,
        **neo4j_cypher.COUNTS,
    }
    row_keys = ["parents", "root_ids", "kind"]
    try:
        diagnostics = lint_cypher(
            list(statements.items()),
            params=["rows", "loaded_at", "key", "props", "limit"],
            labels=SCHEMA["labels"],
            rel_types=SCHEMA["rel_types"],
            properties=[*SCHEMA["properties"], *row_keys],
        )
    except CypherLintUnavailable as exc:
        pytest.skip(f"Cypher linter unavailable: {exc}")
    assert [str(d) for d in diagnostics] == []


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_query_files_say_question_parameters_and_output(path):
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("//"))
    assert text.startswith("// Question: ")
    assert "\n// Parameters:" in header and "\n// Output: " in header
    used = set(re.findall(r"\$(\w+)", query_body(text)))
    declared = [m.group(1) for m in PARAM_LINE.finditer(text)]
    assert sorted(declared) == sorted(used)  # a :param line for each, and no more
    documented = [line for line in header.splitlines() if line.startswith("//   $")]
    for name in used:
        assert any(re.search(rf"\${name}\b", line) for line in documented), f"${name}"
    if not used:
        assert "// Parameters: none" in header


# -- the graphs the queries run on ----------------------------------------------------------


def _crawl(path: Path, request: CrawlRequest) -> Store:
    store = Store(path)
    with FakeHub(toy_models(), page_size=5, renames=toy_renames()) as hub:
        Crawler(store, client_for(hub)).run(request)
    return store


def _synthetic(path: Path) -> Store:
    store = Store(path)
    hub = generate(3000, seed=11)
    store.commit(
        parse_raw(hub.raw, seen_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), source="synthetic")
    )
    return store


class Graph:
    """A store loaded into the server, and its library context (the oracle)."""

    def __init__(self, name, ctx, driver, database):
        self.name, self.ctx, self.driver, self.database = name, ctx, driver, database

    def run(self, query: str, **overrides):
        """Run a cypher/ file as Neo4j Browser does: `:param` lines first, then the query."""
        text = query_text(query)
        params = {}
        for m in PARAM_LINE.finditer(text):
            value = self.driver.execute_query(
                f"RETURN {m.group(2)} AS value", database_=self.database
            ).records[0]["value"]
            params[m.group(1)] = value
        assert set(overrides) <= set(params), "override only parameters the file declares"
        params.update(overrides)
        records = self.driver.execute_query(query_body(text), params, database_=self.database)
        return [{k: plain(v) for k, v in r.items()} for r in records.records]


def plain(value):
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="module", params=["toy", "qwen-walk", "synthetic"])
def graph(request, server, driver, tmp_path_factory):
    path = tmp_path_factory.mktemp(request.param) / "store"
    if request.param == "toy":
        store = _crawl(path, CrawlRequest(all=True))
    elif request.param == "qwen-walk":
        store = _crawl(path, CrawlRequest(roots=("Qwen",), strategy="walk"))
    else:
        store = _synthetic(path)
    ctx = load_context(store)
    target = neo4j_loader.Neo4jTarget(server.uri, server.user, server.password, server.database)
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=server.database)
    neo4j_loader.load(ctx, target, batch_size=500)
    return Graph(request.param, ctx, driver, server.database)


# -- oracles: the library's answer on the same store ----------------------------------------


def node_frame(ctx) -> pl.DataFrame:
    return attach_regions(
        ctx.graph.nodes.select("idx", "id", "org", "status"),
        ctx.regions,
        org="org",
        region="region",
    )


def attributed(ctx) -> pl.DataFrame:
    """One row per (derivative, root): the derivative's columns, its root's id and region."""
    roots = node_frame(ctx).select(
        pl.col("idx").alias("root"), pl.col("id").alias("root_id"), pl.col("region").alias("rr")
    )
    return (
        ctx.attribution.weights.join(
            ctx.attribution.derivatives.rename({"idx": "derivative"}), on="derivative"
        )
        .join(roots, on="root")
        .join(
            node_frame(ctx).select(pl.col("idx").alias("derivative"), "region"),
            on="derivative",
        )
    )


def biggest_root(ctx) -> str:
    sizes = (
        attributed(ctx).group_by("root_id").len().sort(["len", "root_id"], descending=[True, False])
    )
    return sizes["root_id"][0]


def deepest_merge(ctx) -> str:
    d = ctx.attribution.derivatives.sort(
        ["n_parents", "depth", "id"], descending=[True, True, False]
    )
    return d["id"][0]


def approx_rows(rows: list[dict]) -> list[dict]:
    return [
        {k: pytest.approx(v) if isinstance(v, float) else v for k, v in r.items()} for r in rows
    ]


def month(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value + "-01") if value else None


# -- the share query is `lineage share` -----------------------------------------------------

SHARE_OPTIONS = [
    {},
    {"by": "family"},
    {"by": "org", "min_downloads": 0},
    {"by": "builder-region", "root_region": "china"},
    {"downloads": "30d", "min_downloads": 2, "since": "2024-06", "until": "2025-12"},
]


@pytest.mark.parametrize("options", SHARE_OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_share_query_equals_lineage_share(graph, options):
    expected = share(graph.ctx, **options).table
    params = {
        **{k: v for k, v in options.items() if k not in ("since", "until")},
        "since": month(options.get("since")),
        "until": month(options.get("until")),
    }
    rows = graph.run("share_by_region", **params)
    assert expected.height > 0 or graph.name != "synthetic"
    key = ["month", "group"]
    got = pl.DataFrame(rows, schema=expected.schema, orient="row") if rows else expected.clear()
    assert got.sort(key).select(key).rows() == expected.sort(key).select(key).rows()
    assert got.sort(key)["count"].to_list() == expected.sort(key)["count"].to_list()
    for column in ("weight", "share"):
        assert got.sort(key)[column].to_list() == pytest.approx(
            expected.sort(key)[column].to_list()
        )
    # Ordered as documented: month, then share descending.
    assert [r["month"] for r in rows] == sorted(r["month"] for r in rows)


def test_share_query_equals_the_share_command_output(graph, run_cli):
    result = run_cli("share", "--store", str(graph.ctx.store.path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    command = json.loads(result.stdout)
    rows = graph.run("share_by_region")
    # The command prints months as YYYY-MM; Neo4j returns the month's first day.
    assert [(str(r["month"])[:7], r["group"], r["count"]) for r in rows] == [
        (r["month"], r["group"], r["count"]) for r in command
    ]
    assert [r["share"] for r in rows] == pytest.approx([r["share"] for r in command])


# -- every other query against the library --------------------------------------------------


def test_family_size_by_relation(graph):
    root = biggest_root(graph.ctx)
    for min_downloads in (0, 50):
        rows = graph.run("family_size_by_relation", root=root, min_downloads=min_downloads)
        a = attributed(graph.ctx).filter(
            (pl.col("root_id") == root)
            & pl.col("crawled")
            & (pl.col("downloads_all_time").fill_null(0) > min_downloads)
        )
        expected = (
            a.group_by("relation")
            .agg(
                pl.len().alias("derivatives"),
                pl.col("weight").sum(),
                pl.col("depth").max().alias("deepest"),
            )
            .sort(["derivatives", "relation"], descending=[True, False])
        )
        assert rows == approx_rows(expected.to_dicts())
        # The same counts as `lineage families`.
        fam = families(graph.ctx, top=10**6, min_downloads=min_downloads)
        fam = fam.filter(pl.col("family") == root)
        if rows:
            for r in rows:
                assert fam[r["relation"]][0] == r["derivatives"]


def test_model_paths_to_roots(graph):
    model = deepest_merge(graph.ctx)
    rows = graph.run("model_paths_to_roots", model=model, limit=1000)
    expected = {
        (tuple(m for m, _ in p), tuple(r for _, r in p[:-1]))
        for p in tree(graph.ctx, model, max_paths=1000).paths
    }
    assert {(tuple(r["path"]), tuple(r["relations"])) for r in rows} == expected
    assert all(r["root"] == r["path"][-1] and r["steps"] == len(r["relations"]) for r in rows)
    assert len(graph.run("model_paths_to_roots", model=model, limit=1)) == 1


def test_top_derivatives_of_family(graph):
    root = biggest_root(graph.ctx)
    for window, column in (("all", "downloads_all_time"), ("30d", "downloads")):
        rows = graph.run("top_derivatives_of_family", root=root, downloads=window, limit=7)
        a = attributed(graph.ctx).filter(pl.col("root_id") == root)
        expected = (
            a.sort([column, "id"], descending=[True, False], nulls_last=True)
            .head(7)
            .select(
                pl.col("id").alias("model"),
                pl.col("org").alias("organization"),
                "region",
                "chain",
                pl.col(column).alias("downloads"),
                "weight",
            )
        )
        assert rows == approx_rows(expected.to_dicts())


def test_cross_family_merges(graph):
    ctx = graph.ctx
    ids = ctx.graph.nodes.select("idx", "id")
    merges = (
        ctx.graph.edges.filter(pl.col("relation") == "merge")
        .select(pl.col("child").alias("derivative"))
        .unique()
    )
    a = attributed(ctx).join(merges, on="derivative", how="semi")
    parents = (
        ctx.graph.edges.join(ids.rename({"idx": "parent", "id": "pid"}), on="parent")
        .sort("child", "position")
        .group_by("child", maintain_order=True)
        .agg(pl.col("pid").alias("parents"))
        .rename({"child": "derivative"})
    )
    expected = (
        a.group_by("derivative", "id", "downloads_all_time")
        .agg(
            pl.col("root_id").sort().alias("families"),
            pl.col("rr").unique().sort().alias("regions"),
        )
        .filter(pl.col("families").list.len() > 1)
        .with_columns((pl.col("regions").list.len() > 1).alias("crosses_regions"))
        .join(parents, on="derivative")
        .sort(["crosses_regions", "downloads_all_time", "id"], descending=[True, True, False])
        .select(
            pl.col("id").alias("model"),
            "families",
            "regions",
            "crosses_regions",
            "parents",
            pl.col("downloads_all_time").alias("downloads"),
        )
    )
    assert graph.run("cross_family_merges", limit=10_000) == expected.to_dicts()
    crossing = expected.filter("crosses_regions").to_dicts()
    assert graph.run("cross_family_merges", regions_only=True, limit=10_000) == crossing


def test_quantization_chains(graph):
    for min_depth in (1, 2):
        rows = graph.run("quantization_chains", min_depth=min_depth, limit=1000)
        d = ctx_derivatives(graph).filter(
            (pl.col("relation") == "quantized") & (pl.col("depth") >= min_depth)
        )
        expected = (
            d.sort(["downloads_all_time", "id"], descending=[True, False], nulls_last=True)
            .group_by("chain", "depth", maintain_order=True)
            .agg(
                pl.len().alias("models"),
                pl.col("downloads_all_time").sum().alias("downloads"),
                pl.col("id").head(3).alias("examples"),
            )
            .sort(["models", "downloads", "chain"], descending=[True, True, False])
        )
        assert rows == expected.to_dicts()
        assert all(r["chain"].endswith("quantized") for r in rows)


def ctx_derivatives(graph) -> pl.DataFrame:
    return graph.ctx.attribution.derivatives


@pytest.mark.parametrize("root_region", ["china", "us"])
def test_builders_on_region_roots(graph, root_region):
    ctx = graph.ctx
    rows = graph.run("builders_on_region_roots", root_region=root_region, limit=10_000)
    a = attributed(ctx).filter(
        (pl.col("rr") == root_region)
        & pl.col("crawled")
        & (pl.col("downloads_all_time").fill_null(0) > 5)
    )
    a = a.with_columns(
        pl.col("org").fill_null("(none)").alias("organization"),
        pl.when(pl.col("org").is_null())
        .then(pl.lit("unknown"))
        .otherwise("region")
        .alias("builder_region"),
    )
    per_root = (
        a.group_by("builder_region", "organization", "root_id")
        .agg(pl.col("derivative").n_unique().alias("n"), pl.col("weight").sum().alias("w"))
        .sort(["n", "root_id"], descending=[True, False])
    )
    expected = (
        per_root.group_by("builder_region", "organization", maintain_order=True)
        .agg(
            pl.col("n").sum().alias("derivatives"),
            pl.col("w").sum().alias("weight"),
            pl.col("root_id").head(5).alias("families"),
        )
        .sort(["derivatives", "weight", "organization"], descending=[True, True, False])
    )
    assert rows == approx_rows(expected.to_dicts())
    # Summed by the builders' region, it is `lineage share --by builder-region` over all months.
    by_region = share(ctx, by="builder-region", root_region=root_region).table
    totals = by_region.group_by("group").agg(pl.col("weight").sum())
    got: dict[str, float] = {}
    for r in rows:
        got[r["builder_region"]] = got.get(r["builder_region"], 0.0) + r["weight"]
    assert got == pytest.approx(dict(totals.iter_rows()))


def test_most_direct_children(graph):
    ctx = graph.ctx
    rows = graph.run("most_direct_children", limit=12)
    counts = ctx.graph.edges.group_by(pl.col("parent").alias("idx")).agg(
        pl.len().alias("children"),
        *[
            (pl.col("relation") == rel).sum().cast(pl.Int64).alias(name)
            for rel, name in [
                ("finetune", "finetunes"),
                ("adapter", "adapters"),
                ("quantized", "quantizations"),
                ("merge", "merges"),
            ]
        ],
    )
    expected = (
        counts.join(node_frame(ctx), on="idx")
        .sort(["children", "id"], descending=[True, False])
        .head(12)
        .select(
            pl.col("id").alias("model"),
            "status",
            "region",
            "children",
            "finetunes",
            "adapters",
            "quantizations",
            "merges",
        )
    )
    assert rows == expected.to_dicts()


def test_fastest_growing_families(graph):
    ctx = graph.ctx
    d = attributed(ctx).filter(
        pl.col("crawled")
        & pl.col("month").is_not_null()
        & (pl.col("downloads_all_time").fill_null(0) > 0)  # the default $min_downloads
    )
    newest = d["month"].max()
    for months, until in ((3, None), (6, newest), (2, dt.date(2025, 5, 1))):
        rows = graph.run(
            "fastest_growing_families", months=months, until=until, min_before=1, limit=50
        )
        last = until or newest
        y, m = divmod(last.year * 12 + last.month - 1 - (months - 1), 12)
        first = dt.date(y, m + 1, 1)
        window = d.filter(pl.col("month") <= last)
        expected = (
            window.group_by("root_id", "rr")
            .agg(
                pl.col("weight").filter(pl.col("month") < first).sum().alias("before"),
                pl.col("weight").filter(pl.col("month") >= first).sum().alias("new"),
            )
            .filter(pl.col("before") >= 1)
            .with_columns((pl.col("new") / pl.col("before")).alias("growth"))
            .sort(["growth", "new", "root_id"], descending=[True, True, False])
            .head(50)
        )
        assert [r["family"] for r in rows] == expected["root_id"].to_list()
        assert [r["growth"] for r in rows] == pytest.approx(expected["growth"].to_list())
        assert [r["new"] for r in rows] == pytest.approx(expected["new"].to_list())
        assert {(r["first_month"], r["last_month"]) for r in rows} <= {(first, last)}


def test_parents_never_crawled(graph):
    ctx = graph.ctx
    rows = graph.run("parents_never_crawled", limit=1000)
    nodes = ctx.graph.nodes
    children = (
        ctx.graph.edges.join(
            nodes.select(
                pl.col("idx").alias("child"), pl.col("id").alias("cid"), "downloads_all_time"
            ),
            on="child",
        )
        .sort(["downloads_all_time", "cid"], descending=[True, False], nulls_last=True)
        .group_by(pl.col("parent").alias("idx"), maintain_order=True)
        .agg(pl.col("cid").alias("kids"))
    )
    expected = (
        nodes.filter(pl.col("status") != "crawled")
        .join(children, on="idx")
        .select(
            pl.col("id").alias("parent"),
            "status",
            pl.col("kids").list.len().cast(pl.Int64).alias("children"),
            pl.col("kids").list.head(5).alias("examples"),
        )
        .sort(["children", "parent"], descending=[True, False])
    )
    assert rows == expected.to_dicts()


def test_model_overview(graph):
    ctx = graph.ctx
    model = deepest_merge(ctx)
    (row,) = graph.run("model_overview", model=model)
    idx = ctx.graph.index_of(model)
    edges = ctx.graph.edges.filter(pl.col("child") == idx).sort("position")
    ids = ctx.graph.nodes["id"]
    assert row["model"] == model and "Derivative" in row["labels"]
    assert row["parents"] == [
        {"id": ids[p], "relation": r, "inferred": i}
        for p, r, i in edges.select("parent", "relation", "inferred").iter_rows()
    ]
    assert row["children"] == ctx.graph.edges.filter(pl.col("parent") == idx).height
    expected_roots = (
        attributed(ctx)
        .filter(pl.col("derivative") == idx)
        .sort("root_id")
        .select(pl.col("root_id").alias("root"), pl.col("rr").alias("region"), "weight")
    )
    assert row["roots"] == approx_rows(expected_roots.to_dicts())
    node = ctx.graph.nodes.row(idx, named=True)
    assert row["created_at"] == node["created_at"]


def test_family_tree(graph):
    ctx = graph.ctx
    root = biggest_root(ctx)
    rows = graph.run("family_tree", root=root, limit=5)
    top = (
        attributed(ctx)
        .filter(pl.col("root_id") == root)
        .sort(["downloads_all_time", "id"], descending=[True, False], nulls_last=True)
        .head(5)
    )
    root_idx = ctx.graph.index_of(root)
    expected = set()
    for d in top["derivative"].to_list():
        ancestry = ctx.graph.ancestry(d)
        for path in nx.all_simple_paths(ancestry, d, root_idx):
            expected.add(tuple(ctx.graph.nodes["id"][i] for i in path))
    got = {tuple(n["id"] for n in r["p"].nodes) for r in rows}
    assert got == expected and len(rows) == len(expected)


def test_load_info(graph):
    (row,) = graph.run("load_info")
    info = neo4j_graph.graph_frames(graph.ctx).info
    assert row["complete"] is True
    assert {k: row[k] for k in info} == info
    assert row["loaded_at"].tzinfo is not None


# -- the toy, checked by hand ---------------------------------------------------------------


@pytest.mark.parametrize("graph", ["toy"], indirect=True)
def test_toy_rows_checked_by_hand(graph):
    toy = graph
    share_rows = toy.run("share_by_region")
    assert [(str(r["month"])[:7], r["group"], r["count"], r["weight"]) for r in share_rows] == [
        ("2024-02", "eu", 2, 2.0),  # nina's fine-tune and its GPTQ
        ("2024-07", "us", 1, 1.0),  # Llama-3.1-8B-Instruct
        ("2024-09", "china", 2, 2.0),  # Qwen's Instruct and AWQ
        ("2025-01", "china", 2, 2.0),
        ("2025-02", "china", 1, 1.0),  # alice's v2 (bob's lora-2, 40 downloads... is March)
        ("2025-03", "china", 2, 2.0),
        ("2025-04", "china", 4, 3.5),  # carol's merge counts half to Qwen...
        ("2025-04", "us", 1, 0.5),  # ...and half to Llama
        ("2025-05", "china", 10, 9.0),
        ("2025-05", "eu", 1, 0.5),  # judy: half Mistral
        ("2025-05", "unknown", 1, 0.5),  # heidi: half the deleted ghost model
    ]
    assert [r["share"] for r in share_rows if str(r["month"]) == "2025-05-01"] == [0.9, 0.05, 0.05]

    assert toy.run("family_size_by_relation") == [
        {"relation": "finetune", "derivatives": 10, "weight": 10.0, "deepest": 3},
        {"relation": "merge", "derivatives": 6, "weight": 4.5, "deepest": 3},
        {"relation": "quantized", "derivatives": 3, "weight": 3.0, "deepest": 3},
        {"relation": "adapter", "derivatives": 2, "weight": 2.0, "deepest": 2},
    ]
    assert toy.run("model_paths_to_roots") == [
        {
            "root": "Qwen/Qwen2.5-7B",
            "steps": 3,
            "path": [
                "alice/qwen-chat-ft-GGUF",
                "alice/qwen-chat-ft",
                "Qwen/Qwen2.5-7B-Instruct",
                "Qwen/Qwen2.5-7B",
            ],
            "relations": ["quantized", "finetune", "finetune"],
        }
    ]
    merges = toy.run("cross_family_merges")
    assert [(r["model"], r["regions"]) for r in merges] == [
        ("carol/qwen-llama-merge", ["china", "us"]),
        ("judy/wrong-case-parent", ["china", "eu"]),  # mistralai/mistral-7b-v0.1 by case
        ("heidi/missing-parent", ["china", "unknown"]),
    ]  # not ivan's: his renamed parent is Qwen2.5-7B itself, one family
    assert toy.run("parents_never_crawled") == [
        {
            "parent": "ghost/deleted-model",
            "status": "missing",
            "children": 1,
            "examples": ["heidi/missing-parent"],
        }
    ]
    chains = toy.run("quantization_chains")
    assert [(r["chain"], r["models"], r["examples"]) for r in chains] == [
        (
            "finetune > quantized",
            2,
            ["Qwen/Qwen2.5-7B-Instruct-AWQ", "nina/mistral-ft-GPTQ"],
        ),
        (
            "finetune > finetune > quantized",
            2,
            ["alice/qwen-chat-ft-GGUF", "mlx-community/qwen-chat-4bit"],
        ),
    ]
    top = toy.run("most_direct_children")[:3]
    assert [(r["model"], r["children"], r["merges"]) for r in top] == [
        ("Qwen/Qwen2.5-7B", 8, 1),
        ("alice/qwen-chat-ft", 7, 4),
        ("Qwen/Qwen2.5-7B-Instruct", 6, 2),
    ]
    growing = toy.run("fastest_growing_families")
    assert [(r["family"], r["before"], r["new"]) for r in growing] == [
        ("Qwen/Qwen2.5-7B", 5.0, 14.5),  # March-May 2025 against everything before
        ("meta-llama/Llama-3.1-8B", 1.0, 0.5),
        ("mistralai/Mistral-7B-v0.1", 2.0, 0.5),
    ]
    builders = toy.run("builders_on_region_roots")
    assert builders[:2] == [
        {
            "builder_region": "unknown",
            "organization": "alice",
            "derivatives": 3,
            "weight": 3.0,
            "families": ["Qwen/Qwen2.5-7B"],
        },
        {
            "builder_region": "china",
            "organization": "Qwen",
            "derivatives": 2,
            "weight": 2.0,
            "families": ["Qwen/Qwen2.5-7B"],
        },
    ]
    # All of it: the china weights of the share table above.
    assert math.isclose(sum(r["weight"] for r in builders), 2 + 2 + 1 + 2 + 3.5 + 9)
