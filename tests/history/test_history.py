"""Snapshots over time: download share, diff between dates, RAM on known histories."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from support.history import SEEN, item, snapshot

from lineage.adoption import adoption, cumulative_downloads
from lineage.analysis import download_share, load_context
from lineage.diff import diff
from lineage.errors import InputError
from lineage.graph import build_graph
from lineage.records import parse_items
from lineage.store import Store


@pytest.fixture
def two_snapshots(tmp_path) -> Store:
    store = Store(tmp_path / "s")
    snapshot(
        store,
        "2025-03-15",
        item("Qwen/base", downloads=100),
        item("mistralai/base", downloads=300),
        item("u/q-ft", "Qwen/base", downloads=50),
        item("u/m-ft", "mistralai/base", downloads=10),
        item("u/merge", "Qwen/base", "mistralai/base", downloads=40, relation="merge"),
    )
    snapshot(
        store,
        "2025-04-15",
        item("Qwen/base", downloads=400),
        item("mistralai/base", downloads=200),
        item("u/q-ft", "Qwen/base", downloads=100),
        item("u/m-ft", "mistralai/base"),
        item("u/merge", "Qwen/base", "mistralai/base", downloads=100, relation="merge"),
        item("u/q-new", "Qwen/base", downloads=200, created="2025-04-02"),
    )
    return store


def test_download_share_splits_merges_and_counts_roots_for_themselves(two_snapshots):
    result = download_share(load_context(two_snapshots))
    rows = {(m, g): (w, s) for m, g, _, w, s in result.table.rows()}
    march, april = dt.date(2025, 3, 1), dt.date(2025, 4, 1)
    # March: china = Qwen 100 + q-ft 50 + half the merge 20; eu = 300 + 10 + 20.
    assert rows[(march, "china")] == (170.0, pytest.approx(0.34))
    assert rows[(march, "eu")] == (330.0, pytest.approx(0.66))
    assert rows[(april, "china")] == (750.0, pytest.approx(0.75))
    assert rows[(april, "eu")] == (250.0, pytest.approx(0.25))


def test_one_snapshot_gives_one_month(tmp_path):
    store = Store(tmp_path / "s")
    snapshot(
        store, "2025-03-15", item("Qwen/base", downloads=5), item("u/x", "Qwen/base", downloads=5)
    )
    assert download_share(load_context(store)).table["month"].unique().to_list() == [
        dt.date(2025, 3, 1)
    ]


def test_diff_between_the_last_two_snapshots(two_snapshots):
    result = diff(load_context(two_snapshots))
    assert (result.before, result.after) == (dt.date(2025, 3, 15), dt.date(2025, 4, 15))
    assert (result.models_added, result.models_gone, result.edges_added) == (1, 0, 1)
    assert result.added["id"].to_list() == ["u/q-new"]
    assert result.families.select("family", "region", "derivatives_added").rows() == [
        ("Qwen/base", "china", 1)
    ]
    regions = {r["region"]: r for r in result.regions.to_dicts()}
    assert regions["china"]["downloads_before"] == 170.0
    assert regions["china"]["downloads_after"] == 750.0
    assert regions["china"]["growth"] == 580.0
    assert regions["eu"]["share_after"] == pytest.approx(0.25)


def test_diff_needs_two_snapshots_and_known_dates(tmp_path, two_snapshots):
    single = Store(tmp_path / "one")
    snapshot(single, "2025-03-15", item("Qwen/base"), item("u/x", "Qwen/base"))
    with pytest.raises(InputError, match="diff needs two"):
        diff(load_context(single))
    with pytest.raises(InputError, match="no snapshot dated 2025-01-01"):
        diff(load_context(two_snapshots), "2025-01-01")


def adoption_store(tmp_path) -> Store:
    """A 7B model T and 11 peers released the same day; snapshots at days 7 and 30."""
    store = Store(tmp_path / "ram")
    seven_b, seventy_b = 7_000_000_000, 70_000_000_000
    for day, scale in (("2025-01-08", 1), ("2025-01-31", 3)):
        items = [item("lab/T", total=130 * scale, params=seven_b)]
        items += [item(f"peer/p{k}", total=10 * k * scale, params=seven_b) for k in range(1, 12)]
        items += [item("big/B", total=10**6, params=seventy_b), item("nosize/N", total=999)]
        snapshot(store, day, *items)
    return store


def test_ram_is_downloads_over_the_median_of_the_top_ten_peers(tmp_path):
    store = adoption_store(tmp_path)
    result = adoption(store, build_graph(store), model="lab/T")
    # Peers at day 7: 10..110; the top ten are 20..110, median 65; T has 130 -> RAM 2.
    assert result.select("window_days", "downloads", "peer_median", "peers", "ram").rows() == [
        (7, 130, 65.0, 10, 2.0),
        (30, 390, 195.0, 10, 2.0),
    ]
    assert set(result["bucket"]) == {"3-10B"}


def test_peers_of_unknown_downloads_take_no_top_place(tmp_path):
    # Three more 7B peers whose snapshots lack the all-time counter (a dump without the
    # column): unknown is not "most downloaded", so the top ten stay 20..110.
    store = adoption_store(tmp_path)
    for day in ("2025-01-08", "2025-01-31"):
        unknown = [item(f"peer/u{k}", total=None, params=7_000_000_000) for k in range(3)]
        snapshot(store, day, *unknown)
    assert cumulative_downloads(store).filter(pl.col("id") == "peer/u0")["downloads"].null_count()
    result = adoption(store, build_graph(store), model="lab/T")
    assert result.select("window_days", "peer_median", "peers", "ram").rows() == [
        (7, 65.0, 10, 2.0),
        (30, 195.0, 10, 2.0),
    ]
    unknown = adoption(store, build_graph(store), model="peer/u0")
    assert unknown["ram"].to_list() == [None, None]
    assert unknown["peers"].to_list() == [10, 10]


def test_ram_windows_need_a_snapshot_nearby_and_a_known_size(tmp_path):
    store = adoption_store(tmp_path)
    windows = cumulative_downloads(store).filter(pl.col("id") == "lab/T")["window_days"]
    assert windows.to_list() == [7, 30]  # day 14 has no snapshot within 1 day
    assert adoption(store, build_graph(store), model="nosize/N").height == 0
    big = adoption(store, build_graph(store), model="big/B")
    assert big["peers"].to_list() == [0, 0] and big["ram"].to_list() == [None, None]


def test_ram_for_a_family_and_bad_input(tmp_path):
    store = adoption_store(tmp_path)
    snapshot(store, "2025-01-08", item("u/T-ft", "lab/T", total=65, params=7_000_000_000))
    family = adoption(store, build_graph(store), family="lab/T")
    assert set(family["id"]) == {"lab/T", "u/T-ft"}
    with pytest.raises(InputError):
        adoption(store, build_graph(store))


def test_cli_share_both_metrics_diff_and_adoption(two_snapshots, tmp_path, run_cli):
    import json

    store = str(two_snapshots.path)
    both = run_cli(
        "share",
        "--store",
        store,
        "--metric",
        "both",
        "--min-downloads",
        "0",
        "--downloads",
        "30d",
        "--format",
        "json",
    )
    assert both.exit_code == 0, both.stderr
    metrics = {
        (r["metric"], r["month"][:7], r["group"]): r["share"] for r in json.loads(both.stdout)
    }
    assert metrics[("downloads", "2025-04", "china")] == pytest.approx(0.75)
    assert ("derivatives", "2025-04", "china") in metrics
    chart = tmp_path / "both.png"
    plotted = run_cli(
        "share",
        "--store",
        store,
        "--metric",
        "both",
        "--min-downloads",
        "0",
        "--downloads",
        "30d",
        "--plot",
        str(chart),
    )
    assert plotted.exit_code == 0 and chart.stat().st_size > 10_000
    one = run_cli("share", "--store", store, "--metric", "downloads", "--since", "2025-04")
    assert "a series needs snapshots over time" in one.stderr

    changed = json.loads(run_cli("diff", "--store", store, "--format", "json").stdout)
    assert changed["models_added"] == 1 and changed["added"][0]["id"] == "u/q-new"
    text = run_cli("diff", "2025-03-15", "2025-04-15", "--store", store).stdout
    assert text.startswith("2025-03-15 -> 2025-04-15: 5 -> 6 models (1 added, 0 gone)")
    bad = run_cli("diff", "2024-01-01", "--store", store)
    assert bad.exit_code == 1 and bad.stderr.startswith("error: no snapshot dated 2024-01-01")

    ram_store = adoption_store(tmp_path)
    ram = json.loads(
        run_cli("adoption", "lab/T", "--store", str(ram_store.path), "--format", "json").stdout
    )
    assert [(r["window_days"], r["ram"]) for r in ram] == [(7, 2.0), (30, 2.0)]
    assert run_cli("adoption", "--store", str(ram_store.path)).exit_code == 2


def _weekly_store(path, *, born_from: int, order: list[int], seed: int) -> Store:
    """60 models born over 200 days from ``born_from`` days after 2025-01-01, some without a
    size, some gone after week 30; 40 weekly dates a few days off the week, committed in
    ``order`` (a backfill commits them in any order)."""
    import random

    rng = random.Random(seed)
    store = Store(path)
    start = dt.date(2025, 1, 1)
    sizes = [None, 1_000_000_000, 7_000_000_000, 20_000_000_000]
    born = {
        f"u/m{i}": start + dt.timedelta(days=born_from + rng.randrange(0, 200)) for i in range(60)
    }
    size = {mid: rng.choice(sizes) for mid in born}
    days = [start + dt.timedelta(days=7 * week + rng.randrange(0, 3)) for week in range(40)]
    totals = {(m, w): rng.randrange(0, 10_000) for m in born for w in range(40)}
    for week in order:
        day = days[week]
        alive = [m for m, b in born.items() if b <= day and not (week > 30 and m.endswith("7"))]
        batch, _ = parse_items(
            [
                item(
                    m,
                    total=totals[(m, week)],
                    created=born[m].isoformat(),
                    params=size[m],
                )
                for m in alive
            ],
            seen_at=SEEN,
            source="list",
        )
        log = {
            "crawl_id": f"w{week}",
            "kind": "ingest",
            "started_at": SEEN,
            "finished_at": SEEN,
            "endpoint": "",
            "roots": [],
            "strategy": "hub-stats",
            "requests": 0,
            "lookups": 0,
            "retries": 0,
        }
        store.commit(batch, observed=day, complete=True, crawl=log)
    return store


def _by_plain_join(store: Store) -> pl.DataFrame:
    """What cumulative_downloads must equal: every snapshot row joined to its model on the
    id, each window's nearest row (then the earlier) kept."""
    from lineage.adoption import WINDOWS, size_bucket

    models = store.read("models", columns=["id", "created_at", "parameters"])
    near = (
        store.scan_snapshots()
        .collect()
        .join(models, on="id")
        .with_columns(
            ((pl.col("date") - pl.col("created_at").dt.date()).dt.total_days()).alias("age"),
            size_bucket(pl.col("parameters")).alias("bucket"),
        )
        .drop_nulls("bucket")
    )
    expected = []
    for days in WINDOWS:
        tolerance = max(1, round(days * 0.1))
        expected.append(
            near.with_columns((pl.col("age") - days).abs().alias("off"))
            .filter(pl.col("off") <= tolerance)
            .sort("off", "date")
            .group_by("id", maintain_order=True)
            .first()
            .select(
                "id",
                "bucket",
                pl.lit(days, pl.Int32).alias("window_days"),
                pl.col("downloads_all_time").alias("downloads"),
                pl.col("date").alias("snapshot_date"),
            )
        )
    return pl.concat(expected).sort("id", "window_days")


def test_cumulative_downloads_equal_a_plain_join_over_many_dates(tmp_path):
    """Keys are searched in each date's file (no join): models seen last, gone later,
    without a size or in another bucket must still be found or left out exactly as a join
    on the ids would, on dates a few days off each window."""
    store = _weekly_store(tmp_path / "s", born_from=0, order=list(range(40)), seed=5)
    models = store.read("models", columns=["id"])
    assert models.height < 60  # some are gone: their keys are in the snapshots only
    want = _by_plain_join(store)
    got = cumulative_downloads(store)
    assert want.height > 100
    assert got.equals(want)
    one = cumulative_downloads(store, buckets=["<3B"])
    assert one.equals(want.filter(pl.col("bucket") == "<3B"))


def test_cumulative_downloads_after_a_backfill_out_of_order(tmp_path):
    """Dates committed newest first and shuffled (keys given in that order, so not by
    release), and models released up to a year before the first snapshot (only their late
    windows covered): the same windows as a plain join, and the same RAM in any order."""
    import random

    order = list(range(40))
    random.Random(3).shuffle(order)
    shuffled = _weekly_store(tmp_path / "a", born_from=-380, order=order, seed=9)
    ordered = _weekly_store(tmp_path / "b", born_from=-380, order=list(range(40)), seed=9)
    want = _by_plain_join(shuffled)
    got = cumulative_downloads(shuffled)
    assert got.equals(want)
    before_first = shuffled.read("models", columns=["id", "created_at"]).filter(
        pl.col("created_at").dt.date() < dt.date(2025, 1, 1)
    )
    assert got.join(before_first, on="id", how="semi").height > 0
    assert got.equals(cumulative_downloads(ordered))
    sized = got["id"].unique().sort()[0]
    assert adoption(shuffled, model=sized).equals(adoption(ordered, model=sized))
