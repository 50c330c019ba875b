"""On a synthetic Hub whose true shares are known, `lineage share` reproduces them.

The population is crawled for real (FakeHub + huggingface_hub client, whole-Hub sweep with
lookups), with messy declarations: wrong case, URL forms only in cards, renamed parents,
deleted parents, cycles, self-references, non-string values, missing relations. Derivatives
whose lineage runs through a deleted parent cannot be recovered from metadata and are
compared separately.
"""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from lineage.analysis import load_context, share
from lineage.crawl import Crawler, CrawlRequest
from lineage.hub import make_client
from lineage.store import Store
from lineage.testing.fakehub import FakeHub
from lineage.testing.synthetic import generate


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    population = generate(60_000, seed=11)
    store = Store(tmp_path_factory.mktemp("truth"))
    with FakeHub(list(population.items()), renames=population.renames) as hub:
        summary = Crawler(store, make_client(hub.url, token=False)).run(CrawlRequest(all=True))
    return population, store, summary


def compare(ours: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    return (
        ours.select("month", "group", "share")
        .join(
            truth.select("month", "group", pl.col("share").alias("true_share")),
            on=["month", "group"],
            how="full",
            coalesce=True,
        )
        .fill_null(0.0)
        .with_columns((pl.col("share") - pl.col("true_share")).abs().alias("gap"))
    )


@pytest.mark.slow
def test_share_matches_the_truth_for_recoverable_derivatives(crawled):
    population, store, summary = crawled
    assert summary.renamed > 0 and summary.missing > 0  # the mess was really there
    ctx = load_context(store)
    recoverable = population.truth.filter("recoverable").select("id")
    only = dataclasses.replace(
        ctx.attribution,
        derivatives=ctx.attribution.derivatives.join(recoverable, on="id", how="semi"),
    )
    ours = share(dataclasses.replace(ctx, attribution=only)).table
    truth = population.true_shares()
    busy = truth.group_by("month").agg(pl.col("count").sum()).filter(pl.col("count") >= 200)
    assert busy.height >= 12
    gaps = compare(ours, truth).join(busy.select("month"), on="month", how="semi")
    assert gaps["gap"].max() < 0.005, gaps.sort("gap", descending=True).head(5)

    # Stronger than the 0.5-point bound: every recoverable derivative has its true roots.
    ours_roots = ctx.attribution.derivatives.select("id", pl.col("roots").list.sort())
    true_roots = population.truth.filter("recoverable", "derivative").select(
        "id", pl.col("roots").list.sort().alias("true_roots")
    )
    wrong = true_roots.join(ours_roots, on="id", how="left").filter(
        pl.col("roots").is_null() | (pl.col("roots") != pl.col("true_roots"))
    )
    assert wrong.height == 0, wrong.head()


@pytest.mark.slow
def test_unrecoverable_derivatives_are_the_only_difference(crawled):
    population, store, _ = crawled
    ours = share(load_context(store)).table
    everything = population.true_shares(recoverable_only=False)
    lost = population.truth.filter(pl.col("derivative") & ~pl.col("recoverable")).height
    assert lost > 0
    # Lineage through deleted parents is attributed to the deleted model's namespace
    # (unknown region), so in busy months the known regions lose a little share, no more.
    busy = everything.group_by("month").agg(pl.col("count").sum()).filter(pl.col("count") >= 200)
    gaps = compare(ours, everything).join(busy.select("month"), on="month", how="semi")
    assert gaps.filter(pl.col("group") != "unknown")["gap"].max() < 0.02


def test_the_synthetic_trend_is_the_published_one():
    population = generate(30_000, seed=2, mess=None)
    truth = population.true_shares()
    by_month = truth.pivot(on="group", index="month", values="share").sort("month")
    early = by_month.filter(pl.col("month").dt.year() == 2024).head(3)
    late = by_month.filter(pl.col("month").dt.year() == 2026).head(3)
    assert 0.05 < early["china"].mean() < 0.25 and early["eu"].mean() > 0.45
    assert late["china"].mean() > 0.6 and late["eu"].mean() < 0.1
