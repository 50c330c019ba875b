"""The Hub as it was (--as-of), every model ever seen (--include-deleted), and a month's
download share read from its last complete snapshot."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.hubstats_dump import write_hub_stats_dump

from lineage.analysis import download_share, families, load_context, share
from lineage.errors import InputError
from lineage.history import month_dates
from lineage.hubstats import ingest_hub_stats
from lineage.records import parse_items
from lineage.store import Store
from lineage.view import View

DAYS = [dt.date(2025, 1, 5), dt.date(2025, 1, 26), dt.date(2025, 2, 5), dt.date(2025, 3, 5)]


def hub_on(k: int) -> list[dict]:
    """The Hub on DAYS[k]: roots of three regions, derivatives that come, one that goes."""

    def model(mid, parent=None, created="2024-11-01", dl=10, total=100, relation="finetune"):
        tags = [f"base_model:{parent}", f"base_model:{relation}:{parent}"] if parent else []
        return {
            "id": mid,
            "createdAt": f"{created}T00:00:00.000Z",
            "tags": tags,
            "downloads": dl * (k + 1),
            "downloadsAllTime": total * (k + 1),
        }

    models = [
        model("Qwen/base", dl=1000),
        model("mistralai/base", dl=500),
        model("meta-llama/base", dl=300),
        model("u/q1", "Qwen/base", "2024-12-03"),
        model("u/m1", "mistralai/base", "2024-12-10"),
        model("u/l1", "meta-llama/base", "2024-12-20", total=3),  # too few downloads until k=2
    ]
    merge = model("u/qm-merge", "Qwen/base", "2024-12-25", relation="merge")
    merge["tags"] += ["base_model:mistralai/base", "base_model:merge:mistralai/base"]
    models.append(merge)
    if k < 3:  # deleted before the last dump, with a derivative of its own
        models += [model("gone/ft", "mistralai/base", "2024-12-15", dl=5000)]
        models += [model("gone/ft-GGUF", "gone/ft", "2025-01-02", relation="quantized")]
    if k >= 1:
        models += [model("u/q2", "Qwen/base", "2025-01-20")]
    if k >= 2:
        models += [
            model("u/q3", "u/q1", "2025-02-01"),
            model("u/m2", "mistralai/base", "2025-02-02"),
        ]
    if k >= 3:
        models += [model("u/q4", "Qwen/base", "2025-03-01")]
    return models


def dump(tmp_path, k: int):
    return write_hub_stats_dump(hub_on(k), tmp_path / f"dump-{k}.parquet")


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Store:
    """All four dumps, ingested in a scrambled order (the store does not care)."""
    root = tmp_path_factory.mktemp("asof")
    store = Store(root / "s")
    for k in (2, 0, 3, 1):
        ingest_hub_stats(store, dump(root, k), snapshot_date=DAYS[k])
    return store


def fresh(tmp_path, *ks: int) -> Store:
    """A store that saw only these dumps: what someone who ingested them then would hold."""
    store = Store(tmp_path / f"fresh-{'-'.join(map(str, ks))}")
    for k in ks:
        ingest_hub_stats(store, dump(tmp_path, k), snapshot_date=DAYS[k])
    return store


def same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    key = [c for c in ("month", "group", "family") if c in a.columns]
    assert_frame_equal(a.sort(key), b.sort(key), check_exact=False)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_as_of_a_day_is_what_a_store_of_that_day_counts(history, tmp_path, k):
    then = load_context(history, view=View.of(as_of=DAYS[k]))
    that_day = load_context(fresh(tmp_path, k))
    same(share(then).table, share(that_day).table)
    same(families(then), families(that_day))
    same(share(then, by="family").table, share(that_day, by="family").table)


def test_download_share_as_of_stops_at_that_day(history, tmp_path):
    then = download_share(load_context(history, view=View.of(as_of=DAYS[2])))
    seen_then = download_share(load_context(fresh(tmp_path, 0, 1, 2)))
    same(then.table, seen_then.table)
    assert then.table["month"].max() == dt.date(2025, 2, 1)


def test_the_default_counts_the_models_present_now(history, tmp_path):
    now = load_context(history)
    same(share(now).table, share(load_context(fresh(tmp_path, 3))).table)
    assert "gone/ft" not in now.graph.nodes.filter("crawled")["id"].to_list()


def test_include_deleted_counts_every_model_ever_observed(history):
    every = load_context(history, view=View.of(include_deleted=True))
    counted = share(every).table
    now = share(load_context(history)).table
    december = dt.date(2024, 12, 1)
    eu = {m: w for m, g, _, w, _ in counted.rows() if g == "eu"}
    eu_now = {m: w for m, g, _, w, _ in now.rows() if g == "eu"}
    assert eu[december] == eu_now[december] + 1  # gone/ft
    assert eu[dt.date(2025, 1, 1)] == 1  # gone/ft-GGUF, under a parent gone too


def test_card_edits_since_are_not_undone(tmp_path):
    """A derivative whose card named another parent on day 0: --as-of day 0 uses the
    parent its latest record declares (the README says so)."""
    store = Store(tmp_path / "s")
    before = hub_on(0)
    before[3] = {**before[3], "tags": ["base_model:mistralai/base"]}  # u/q1 said mistralai then
    ingest_hub_stats(
        store, write_hub_stats_dump(before, tmp_path / "a.parquet"), snapshot_date=DAYS[0]
    )
    ingest_hub_stats(store, dump(tmp_path, 1), snapshot_date=DAYS[1])
    then = load_context(store, view=View.of(as_of=DAYS[0]))
    roots = then.attribution.derivatives.filter(pl.col("id") == "u/q1")["roots"].to_list()
    assert roots == [["Qwen/base"]]


def test_as_of_needs_a_complete_observation_of_that_day(history, tmp_path):
    with pytest.raises(InputError) as error:
        load_context(history, view=View.of(as_of=dt.date(2025, 2, 1)))
    assert str(error.value) == (
        "as_of 2025-02-01: no complete observation of that day; the nearest are 2025-01-05, "
        "2025-01-26, 2025-02-05, 2025-03-05 (`lineage snapshots` lists them all)"
    )
    partial = Store(tmp_path / "partial")
    batch, _ = parse_items(
        hub_on(0)[:2], seen_at=dt.datetime(2025, 1, 5, tzinfo=dt.UTC), source="list"
    )
    partial.commit(batch, snapshot_date=DAYS[0], crawl=None)
    with pytest.raises(InputError, match="has no complete observation"):
        load_context(partial, view=View.of(as_of=DAYS[0]))


def test_a_month_is_read_from_its_last_complete_snapshot(history, tmp_path):
    months = month_dates(history).select("month", "date").rows()
    assert months == [
        (dt.date(2025, 1, 1), DAYS[1]),
        (dt.date(2025, 2, 1), DAYS[2]),
        (dt.date(2025, 3, 1), DAYS[3]),
    ]
    table = download_share(load_context(history)).table
    january = {g: w for m, g, _, w, _ in table.rows() if m == dt.date(2025, 1, 1)}
    # Qwen's family on 2025-01-26 (k=1): the root 2000 + u/q1 20 + u/q2 20 + half a merge.
    assert january["china"] == 2050.0


def test_cli_as_of_and_include_deleted(run_cli, history):
    store = str(history.path)
    as_of = run_cli("share", "--as-of", "2025-01-05", "--store", store, "--format", "csv")
    assert as_of.exit_code == 0, as_of.stderr
    assert "the Hub as of 2025-01-05 (that day's models and counters)" in as_of.stderr
    deleted = run_cli("families", "--include-deleted", "--store", store)
    assert deleted.exit_code == 0, deleted.stderr
    both = run_cli("share", "--as-of", "2025-01-05", "--include-deleted", "--store", store)
    assert both.exit_code == 2 and "give one of them" in both.stderr
    wrong = run_cli("share", "--as-of", "2025-02-01", "--store", store)
    assert wrong.exit_code == 1
    assert wrong.stderr.startswith("error: --as-of 2025-02-01: no complete observation")
