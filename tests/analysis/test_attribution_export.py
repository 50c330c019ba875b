"""`lineage export attribution`: model -> root weights as Parquet, the rule in columns."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lineage.analysis import load_context, share
from lineage.attribution_export import attribution_table
from lineage.records import parse_raw
from lineage.schema import ATTRIBUTION_SCHEMA
from lineage.store import Store
from lineage.testing.synthetic import generate

SEEN = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("att") / "s")
    store.commit(parse_raw(generate(6000, seed=3).raw, seen_at=SEEN, source="synthetic"))
    return store


def share_from_export(table: pl.DataFrame, models: pl.DataFrame) -> pl.DataFrame:
    """The monthly derivative share by region, from the export and the models table only:
    what sql/derivative_share.sql does, written in polars."""
    chosen = models.filter(
        pl.col("crawled") & (pl.col("downloads_all_time").fill_null(0) > 5)
    ).select(
        pl.col("id").alias("model"),
        pl.col("created_at")
        .dt.convert_time_zone("UTC")
        .dt.truncate("1mo")
        .dt.date()
        .alias("month"),
    )
    return (
        table.filter(pl.col("kind") == "derivative")
        .join(chosen, on="model")
        .group_by("month", pl.col("root_region").alias("group"))
        .agg(pl.col("model").n_unique().cast(pl.UInt32).alias("count"), pl.col("weight").sum())
        .with_columns((pl.col("weight") / pl.col("weight").sum().over("month")).alias("share"))
    )


@pytest.mark.parametrize(("roots", "multi_parent"), [("all", "split"), ("atom", "first")])
def test_the_export_reproduces_lineage_share(synthetic_store, roots, multi_parent):
    ctx = load_context(synthetic_store, roots=roots, multi_parent=multi_parent)
    table = attribution_table(ctx)
    assert table.schema == pl.Schema(ATTRIBUTION_SCHEMA)
    rule = table.select("root_set", "multi_parent", "lineage", "regions", "view").unique()
    assert rule.rows() == [(roots, multi_parent, "declared", "packaged", "present")]
    ours = share(ctx).table
    theirs = share_from_export(table, synthetic_store.read("models"))
    key = ["month", "group"]
    assert_frame_equal(ours.sort(key), theirs.select(ours.columns).sort(key), check_exact=False)


def test_derivative_weights_sum_to_their_attributed_part_and_roots_count_once(synthetic_store):
    ctx = load_context(synthetic_store)
    table = attribution_table(ctx)
    sums = (
        table.filter(pl.col("kind") == "derivative").group_by("model").agg(pl.col("weight").sum())
    )
    attributed = ctx.attribution.derivatives.select(
        pl.col("id").alias("model"), "attributed_weight"
    )
    joined = sums.join(attributed, on="model")
    assert joined.height == sums.height
    assert (joined["weight"] - joined["attributed_weight"]).abs().max() < 1e-9
    roots = table.filter(pl.col("kind") == "root")
    assert roots["model"].is_unique().all()
    assert (roots["model"] == roots["root"]).all() and (roots["weight"] == 1.0).all()
    assert set(table["root_region"]) <= {"us", "china", "eu", "other", "unknown"}


def test_cli_writes_parquet_and_states_the_rule(run_cli, synthetic_store, tmp_path):
    out = tmp_path / "att.parquet"
    result = run_cli(
        "export",
        "attribution",
        "-o",
        str(out),
        "--roots",
        "atom",
        "--store",
        str(synthetic_store.path),
    )
    assert result.exit_code == 0, result.stderr
    written = pl.read_parquet(out)
    assert written.height > 0 and set(written["root_set"]) == {"atom"}
    assert result.stderr.startswith(f"wrote {written.height:,} rows to {out}: ")
    assert result.stderr.rstrip().endswith(
        "(root_set atom, multi_parent split, lineage declared, regions packaged, view present)"
    )
    bad = run_cli("export", "attribution", "-o", str(tmp_path / "att.csv"))
    assert bad.exit_code == 2 and "give a file ending in .parquet" in bad.stderr
    nowhere = run_cli(
        "export",
        "attribution",
        "-o",
        str(tmp_path / "no" / "a.parquet"),
        "--store",
        str(synthetic_store.path),
    )
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.stderr
