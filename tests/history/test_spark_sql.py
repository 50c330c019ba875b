"""sql/ in Spark (PySpark, local mode): the store's files read as they lie, and the monthly
derivative and download shares equal `lineage share`'s on a store with several snapshots.

Needs pyspark (the `spark` extra, which scripts/test.sh installs) and Java 17; skips, saying
so, without them. One Spark session serves the whole module (starting one takes ~20 s).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.hubstats_dump import write_hub_stats_dump
from support.toyhub import ROOT
from test_as_of import DAYS, hub_on

from lineage.analysis import download_share, load_context, share
from lineage.attribution_export import export_attribution
from lineage.hubstats import ingest_hub_stats
from lineage.records import parse_items
from lineage.store import Store

SQL = ROOT / "sql"

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install '.[spark]')")
if shutil.which("java") is None:
    pytest.skip("no Java on PATH: Spark needs Java 17", allow_module_level=True)


def statements(path: Path) -> list[str]:
    """The statements of a .sql file: comments dropped, split at the ';' ending a line."""
    text = "\n".join(
        line for line in path.read_text().splitlines() if not line.strip().startswith("--")
    )
    return [s.strip() for s in re.split(r";\s*$", text, flags=re.M) if s.strip()]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("lineage-sql-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    """Four dumps over three months (one model deleted before the last), then a family
    crawl in April (a partial observation: a month of partial snapshots only), which also
    leaves a delta beside the compacted base."""
    root = tmp_path_factory.mktemp("spark")
    store = Store(root / "s")
    for k in (3, 1, 0, 2):
        dump = write_hub_stats_dump(hub_on(k), root / f"dump-{k}.parquet")
        ingest_hub_stats(store, dump, snapshot_date=DAYS[k])
    april = [
        {**m, "downloads": m["downloads"] * 3}
        for m in hub_on(3)
        if m["id"] in ("Qwen/base", "u/q1", "u/q4")
    ]
    seen = dt.datetime(2025, 4, 2, tzinfo=dt.UTC)
    batch, _ = parse_items(april, seen_at=seen, source="list")
    store.commit(
        batch,
        observed=dt.date(2025, 4, 2),
        crawl={
            "crawl_id": "april",
            "kind": "crawl",
            "started_at": seen,
            "finished_at": seen,
            "endpoint": "test",
            "roots": ["Qwen"],
            "strategy": "sweep",
            "requests": 1,
            "lookups": 0,
            "retries": 0,
        },
    )
    return Store(store.path)


def run(spark, store: Store, attribution: Path, query: str) -> pl.DataFrame:
    spark.conf.set("store", str(store.path))
    spark.conf.set("attribution", str(attribution))
    for statement in statements(SQL / "store_views.sql"):
        spark.sql(statement)
    frame = None
    for statement in statements(SQL / query) if query.endswith(".sql") else [query]:
        frame = spark.sql(statement)
    assert frame is not None
    rows = [tuple(row) for row in frame.collect()]
    return pl.DataFrame(rows, schema=frame.columns, orient="row", infer_schema_length=None)


def same_shares(ours: pl.DataFrame, spark_table: pl.DataFrame) -> None:
    theirs = spark_table.with_columns(pl.col("count").cast(pl.UInt32)).select(ours.columns)
    key = ["month", "group"]
    assert_frame_equal(ours.sort(key), theirs.sort(key), check_exact=False, check_dtypes=False)


def test_the_store_has_what_the_sql_must_handle(store):
    assert (store.path / "models-delta.parquet").exists()  # base + delta
    assert len(store.snapshot_dates()) == 5
    assert store.presence().filter(~pl.col("present")).height >= 2  # deleted models


@pytest.mark.slow
def test_spark_reads_models_and_edges_as_the_store_does(spark, store, tmp_path):
    attribution = tmp_path / "a.parquet"
    export_attribution(load_context(store), attribution)
    models = run(spark, store, attribution, "SELECT id, last_seen, crawled, present FROM models")
    every = store.read("models", columns=["id", "last_seen", "crawled"], view="all")
    present = set(store.read("models", columns=["id"])["id"])
    expected = every.with_columns(pl.col("id").is_in(sorted(present)).alias("present"))
    assert_frame_equal(models.sort("id"), expected.sort("id"), check_dtypes=False)
    edges = run(spark, store, attribution, "SELECT child, parent, relation FROM edges")
    assert sorted(edges.rows()) == sorted(
        store.read("edges", view="all").select("child", "parent", "relation").rows()
    )


@pytest.mark.slow
@pytest.mark.parametrize(("roots", "multi_parent"), [("all", "split"), ("file", "all")])
def test_spark_shares_equal_lineage_share(spark, store, tmp_path, roots, multi_parent):
    if roots == "file":  # a root set without Llama: its family is not counted
        roots = str(tmp_path / "roots.txt")
        Path(roots).write_text("Qwen/base\nmistralai/base\n")
    ctx = load_context(store, roots=roots, multi_parent=multi_parent)
    attribution = tmp_path / "a.parquet"
    export_attribution(ctx, attribution)
    derivatives = run(spark, store, attribution, "derivative_share.sql")
    same_shares(share(ctx).table, derivatives)
    downloads = run(spark, store, attribution, "download_share.sql")
    ours = download_share(ctx).table
    assert ours["month"].n_unique() == 4  # three complete months and April's partial crawl
    same_shares(ours, downloads)
