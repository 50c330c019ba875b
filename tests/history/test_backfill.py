"""Backfill: many dated dumps in one command, newest first, one commit per date, resumable."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from pathlib import Path

import polars as pl
import pytest
from support.hubstats_dump import write_hub_stats_dump
from support.storecheck import lineage_subprocess, table_rows

from lineage.backfill import backfill, date_in_path, held_dates, local_dumps
from lineage.errors import InputError
from lineage.hubstats import ingest_hub_stats
from lineage.store import Store, snapshot_name

WEEKS = ["2024-07-24", "2024-07-31", "2024-08-07", "2024-08-14", "2024-08-21"]


def week_models(k: int, extra: int = 0) -> list[dict]:
    """The Hub in week k: a root, derivatives that come (one a week) and one that goes."""
    models = [
        {
            "id": "Qwen/base",
            "createdAt": "2024-01-01T00:00:00.000Z",
            "tags": [],
            "downloads": 1000 + k,
            "downloadsAllTime": 10_000 + 100 * k,
        }
    ]
    for i in range(k + 1 + extra):
        models.append(
            {
                "id": f"u/ft{i}",
                "createdAt": f"2024-07-{20 + i:02d}T00:00:00.000Z",
                "tags": ["base_model:Qwen/base", "base_model:finetune:Qwen/base"],
                "downloads": 10 * i + k,
                "downloadsAllTime": 100 * i + k,
            }
        )
    if k < 2:
        models.append({"id": "gone/soon", "createdAt": "2024-06-01T00:00:00.000Z", "tags": []})
    return models


def write_archive(root: Path, weeks=WEEKS, *, old_columns: int = 2) -> list[Path]:
    """A weekly archive laid out as models/YYYY-MM-DD/models.parquet; the first
    ``old_columns`` weeks lack downloadsAllTime, baseModels and gguf, as older dumps do."""
    paths = []
    for k, day in enumerate(weeks):
        folder = root / "models" / day
        folder.mkdir(parents=True)
        path = write_hub_stats_dump(week_models(k), folder / "models.parquet")
        if k < old_columns:
            pl.read_parquet(path).drop("downloadsAllTime", "baseModels", "gguf").write_parquet(path)
        paths.append(path)
    return paths


def comparable(store: Store) -> dict[str, list[tuple]]:
    """The store's tables without what differs between equal runs in another order: ids,
    clocks, paths, and which commit (generation, the models' keys) recorded what."""
    return {
        "models": table_rows(store, "models", drop=("seen_at", "seen_commit", "key")),
        "edges": table_rows(store, "edges"),
        "problems": table_rows(store, "problems"),
        "snapshots": table_rows(store, "snapshots"),
        "crawls": table_rows(
            store,
            "crawls",
            # What each run counted depends on what came before it: an older dump parses
            # only the rows it makes current.
            drop=(
                "crawl_id",
                "started_at",
                "finished_at",
                "endpoint",
                "generation",
                "models_seen",
                "models_new",
                "models_updated",
                "edges",
                "problems",
            ),
        ),
    }


def one_by_one(paths: list[Path], store: Store) -> Store:
    for path in paths:
        ingest_hub_stats(store, path, snapshot_date=date_in_path(path))
    return store


# -- naming and dating the dumps ----------------------------------------------------------------


def test_files_directories_and_globs_name_the_same_dumps(tmp_path):
    paths = write_archive(tmp_path / "archive")
    (tmp_path / "archive" / "README.md").write_text("not a dump")
    by_dir = local_dumps([tmp_path / "archive"])
    by_glob = local_dumps([str(tmp_path / "archive" / "models" / "*" / "models.parquet")])
    by_files = local_dumps([str(p) for p in reversed(paths)])  # any order: sorted by date
    assert by_dir == by_glob == by_files
    assert [d.date.isoformat() for d in by_dir] == WEEKS
    assert {d.date_source for d in by_dir} == {"path"}
    # The same file named twice is one dump.
    assert local_dumps([paths[0], tmp_path / "archive" / "models" / WEEKS[0]]) == by_dir[:1]


def test_a_directory_without_models_parquet_contributes_every_parquet_file(tmp_path):
    for day in ("20250105", "20250112"):
        write_hub_stats_dump(week_models(0), tmp_path / f"hub-stats-{day}.parquet")
    assert [d.date for d in local_dumps([tmp_path])] == [
        dt.date(2025, 1, 5),
        dt.date(2025, 1, 12),
    ]


def test_dates_in_paths():
    assert date_in_path("a/2025-13-01/x-2024-02-29.parquet") == dt.date(2024, 2, 29)
    assert date_in_path("snap-20250105-v2.parquet") == dt.date(2025, 1, 5)
    assert date_in_path("run-123456789/models.parquet") is None  # too many digits
    assert date_in_path("2024-0724/models.parquet") is None  # one dash is not a date
    assert date_in_path("models.parquet") is None


def test_an_undated_file_among_several_is_refused_before_anything_is_ingested(run_cli, tmp_path):
    write_archive(tmp_path / "archive")
    undated = write_hub_stats_dump(week_models(9), tmp_path / "latest.parquet")
    store = tmp_path / "s"
    result = run_cli(
        "ingest", "hub-stats", str(tmp_path / "archive"), str(undated), "--store", str(store)
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot date {undated}: its path has no YYYY-MM-DD or YYYYMMDD (name the file "
        "or its folder by the dump's date); nothing was ingested\n"
    )
    assert not (store / "models.parquet").exists()


def test_date_option_dates_one_dump_only(run_cli, tmp_path):
    paths = write_archive(tmp_path / "archive")
    two = run_cli("ingest", "hub-stats", str(paths[0]), str(paths[1]), "--date", "2024-01-01")
    assert two.exit_code == 2
    assert "--date dates one dump" in two.stderr
    glob = run_cli(
        "ingest",
        "hub-stats",
        str(tmp_path / "archive"),
        "--date",
        "2024-01-01",
        "--store",
        str(tmp_path / "s"),
    )
    assert glob.exit_code == 1
    assert glob.stderr == (
        "error: --date dates one dump, and 5 files were given; several files take their "
        "dates from their paths (YYYY-MM-DD or YYYYMMDD)\n"
    )
    # One file: --date wins over the date in its path.
    one = run_cli(
        "ingest", "hub-stats", str(paths[0]), "--date", "2024-01-01", "--store", str(tmp_path / "s")
    )
    assert one.exit_code == 0, one.stderr
    assert "snapshot 2024-01-01 (as given)" in one.stderr


def test_a_single_file_is_dated_by_its_path_before_its_modification_time(run_cli, tmp_path):
    paths = write_archive(tmp_path / "archive")
    result = run_cli("ingest", "hub-stats", str(paths[2]), "--store", str(tmp_path / "s"))
    assert result.exit_code == 0, result.stderr
    assert f"snapshot {WEEKS[2]} (from its path)" in result.stderr


def test_two_dumps_of_one_date_and_globs_matching_nothing_are_refused(tmp_path):
    write_archive(tmp_path / "a")
    write_archive(tmp_path / "b", weeks=WEEKS[:1])
    with pytest.raises(InputError, match=r"two dumps are dated 2024-07-24: .*a/models.*b/models"):
        local_dumps([tmp_path / "a", tmp_path / "b"])
    with pytest.raises(InputError, match=r"^no file matches .*nothing-\*\.parquet$"):
        local_dumps([str(tmp_path / "nothing-*.parquet")])
    with pytest.raises(InputError, match=r"^no hub-stats dump at .*missing\.parquet$"):
        local_dumps([tmp_path / "missing.parquet"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"^directory .*empty holds no \.parquet file$"):
        local_dumps([tmp_path / "empty"])


# -- ingesting them -----------------------------------------------------------------------------


def test_a_backfill_is_the_store_of_the_dumps_ingested_one_by_one_in_any_order(tmp_path):
    paths = write_archive(tmp_path / "archive")
    summary = backfill(Store(tmp_path / "bf"), local_dumps([str(p) for p in reversed(paths)]))
    assert [d.date.isoformat() for d in summary.dates] == WEEKS
    assert [d.rows for d in summary.dates] == [len(week_models(k)) for k in range(5)]
    expected = one_by_one(paths, Store(tmp_path / "serial"))
    assert comparable(Store(tmp_path / "bf")) == comparable(expected)
    log = Store(tmp_path / "bf").read("crawls").sort("started_at")
    # Newest first: the newest dump's records become current, the older ones add history.
    assert log["snapshot_date"].to_list() == [dt.date.fromisoformat(d) for d in reversed(WEEKS)]
    assert held_dates(Store(tmp_path / "bf")) == {dt.date.fromisoformat(d) for d in WEEKS}


def test_held_dates_are_skipped_and_replace_reads_them_again(run_cli, tmp_path):
    write_archive(tmp_path / "archive", weeks=WEEKS[:3])
    store = str(tmp_path / "s")
    first = run_cli("ingest", "hub-stats", str(tmp_path / "archive"), "--store", store)
    assert first.exit_code == 0, first.stderr
    write_archive(tmp_path / "archive", weeks=WEEKS[3:])  # two more weeks arrive
    before = Store(store).read("crawls").height
    again = run_cli("ingest", "hub-stats", str(tmp_path / "archive"), "--store", store)
    assert again.exit_code == 0, again.stderr
    lines = again.stderr.splitlines()
    assert lines[0] == f"backfilled 2 hub-stats dumps into {store}: 2024-08-14 to 2024-08-21"
    assert lines[2] == (
        "  skipped 3 dates the store already holds: 2024-07-24 to 2024-08-07 (3 dates); "
        "--replace reads them again"
    )
    assert Store(store).read("crawls").height == before + 2
    nothing = run_cli("ingest", "hub-stats", str(tmp_path / "archive"), "--store", store)
    assert nothing.stderr.splitlines()[0] == (
        f"nothing to backfill into {store}: it holds every date given"
    )
    replaced = run_cli(
        "ingest", "hub-stats", str(tmp_path / "archive"), "--replace", "--store", store
    )
    assert replaced.exit_code == 0, replaced.stderr
    assert replaced.stderr.startswith(f"backfilled 5 hub-stats dumps into {store}")
    assert Store(store).read("crawls").height == before + 2 + 5


def test_the_summary_says_which_columns_older_dumps_lacked(run_cli, tmp_path):
    write_archive(tmp_path / "archive", old_columns=2)
    store = str(tmp_path / "s")
    result = run_cli("ingest", "hub-stats", str(tmp_path / "archive"), "--store", store)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"backfilled 5 hub-stats dumps into {store}: 2024-07-24 to 2024-08-21"
    rows = sum(len(week_models(k)) for k in range(5))
    assert lines[1].startswith(f"  rows: {rows} in ")
    assert lines[2:] == [
        f"  absent column {column} (read as nulls): 2024-07-24 to 2024-07-31 (2 dates)"
        for column in ("downloadsAllTime", "baseModels", "gguf")
    ]
    # Read as nulls: the old weeks' snapshots have no all-time counts.
    snaps = Store(store).read("snapshots").group_by("date").agg(pl.col("downloads_all_time").sum())
    totals = dict(snaps.sort("date").rows())
    assert totals[dt.date(2024, 7, 24)] == 0 and totals[dt.date(2024, 8, 7)] > 0


def test_a_foreign_file_stops_the_run_before_any_date_is_ingested(run_cli, tmp_path):
    write_archive(tmp_path / "archive")
    foreign = tmp_path / "archive" / "models" / "2024-08-28" / "models.parquet"
    foreign.parent.mkdir()
    pl.DataFrame({"name": ["a"], "value": [1]}).write_parquet(foreign)
    store = tmp_path / "s"
    result = run_cli("ingest", "hub-stats", str(tmp_path / "archive"), "--store", str(store))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: hub-stats dump {foreign} lacks columns: ")
    assert result.stderr.count("\n") == 1
    assert Store(store).read("crawls").height == 0


def _damage(path: Path) -> None:
    data = path.read_bytes()
    middle = len(data) // 3
    path.write_bytes(data[:middle] + b"\xab" * 4000 + data[middle + 4000 :])


def test_a_corrupt_dump_stops_the_run_and_the_dates_before_it_stay(run_cli, tmp_path):
    paths = write_archive(tmp_path / "archive")
    # Week 3 big enough that the damage lands in its data pages, not its footer.
    many = [{**m, "id": f"{m['id']}-{i}"} for i in range(400) for m in week_models(2)]
    write_hub_stats_dump(many, paths[2], row_group_size=500)
    _damage(paths[2])
    store = str(tmp_path / "s")
    result = run_cli("ingest", "hub-stats", str(tmp_path / "archive"), "--store", store)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: hub-stats dump {paths[2]} cannot be read: ")
    assert result.stderr.endswith(
        "; stopped there: the 2 dates ingested before it stay in the store, and the same "
        "command resumes once the file is fixed or removed\n"
    )
    assert result.stderr.count("\n") == 1
    assert held_dates(Store(store)) == {dt.date.fromisoformat(d) for d in WEEKS[3:]}

    write_hub_stats_dump(week_models(2), paths[2])  # fixed
    resumed = run_cli("ingest", "hub-stats", str(tmp_path / "archive"), "--store", store)
    assert resumed.exit_code == 0, resumed.stderr
    assert comparable(Store(store)) == comparable(one_by_one(paths, Store(tmp_path / "serial")))


@pytest.mark.slow
def test_a_kill_loses_at_most_the_date_in_progress_and_the_rerun_finishes(tmp_path):
    """Killed (SIGKILL) at the start of the third date and inside its commit: each time the
    store holds the two ingested before it (the newest), and the same command ends with the
    uninterrupted store."""
    paths = write_archive(tmp_path / "archive")
    expected = comparable(one_by_one(paths, Store(tmp_path / "serial")))
    archive = str(tmp_path / "archive")
    third = WEEKS[-3]
    for n, hook in enumerate(
        [
            f"backfill:date:{third}=kill",
            f"commit:wrote:{snapshot_name(dt.date.fromisoformat(third))}=kill",
        ]
    ):
        store = str(tmp_path / f"s{n}")
        args = ("ingest", "hub-stats", archive, "--store", store)
        killed = lineage_subprocess(*args, env={"LINEAGE_TEST_HOOK": hook})
        killed.communicate(timeout=120)
        assert killed.returncode == -signal.SIGKILL
        assert held_dates(Store(store)) == {dt.date.fromisoformat(d) for d in WEEKS[-2:]}
        rerun = lineage_subprocess(*args)
        _, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        assert "skipped 2 dates the store already holds" in err
        assert comparable(Store(store)) == expected


@pytest.mark.slow
def test_a_real_kill_at_any_moment_then_the_same_command_finishes(tmp_path):
    """A real SIGKILL from outside, once the second date is committed, wherever the process
    is then; the rerun gives the uninterrupted store."""
    weeks = [(dt.date(2024, 7, 3) + dt.timedelta(weeks=k)).isoformat() for k in range(12)]
    paths = write_archive(tmp_path / "archive", weeks=weeks)
    expected = comparable(one_by_one(paths, Store(tmp_path / "serial")))
    store = tmp_path / "s"
    args = ("ingest", "hub-stats", str(tmp_path / "archive"), "--store", str(store))
    process = lineage_subprocess(*args)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if len(held_dates(Store(store, create=False))) >= 2:
                break
        except Exception:  # not a store yet, or mid-commit: look again
            pass
        time.sleep(0.01)
    assert process.poll() is None, "the backfill ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    rerun = lineage_subprocess(*args)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert comparable(Store(store)) == expected
