"""Backfill from a dataset repository on the (fake) Hub, in both layouts, through the real
huggingface_hub client: dated paths in one revision, one file across dated commits."""

from __future__ import annotations

import datetime as dt
import signal
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from support.hubstats_dump import write_hub_stats_dump
from support.storecheck import lineage_subprocess
from test_backfill import comparable, one_by_one, week_models

from lineage.backfill import backfill, held_dates
from lineage.errors import HubUnreachable, InputError, NotOnHub
from lineage.hub_archive import last_per_period, period_of, repo_dumps
from lineage.store import Store
from lineage.testing.fakehub import FakeHub

REPO = "me/hub-stats-archive"
# Ten weekly dumps, 2024-07-03 (a Wednesday) to 2024-09-04.
WEEKS = [dt.date(2024, 7, 3) + dt.timedelta(weeks=k) for k in range(10)]


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def dumps_on_disk(root: Path) -> dict[dt.date, Path]:
    out = {}
    for k, day in enumerate(WEEKS):
        folder = root / day.isoformat()
        folder.mkdir(parents=True)
        out[day] = write_hub_stats_dump(week_models(k), folder / "models.parquet")
    return out


def paths_layout(hub: FakeHub, dumps: dict[dt.date, Path]) -> None:
    """A weekly archive: each week's folder added in a commit of its own, beside other tables."""
    hub.commit_files(REPO, {"README.md": b"# weekly hub-stats"}, date=at_noon(WEEKS[0]))
    for day, path in dumps.items():
        hub.commit_files(
            REPO,
            {
                f"models/{day}/models.parquet": path,
                f"datasets/{day}/datasets.parquet": b"not a models table",
            },
            date=at_noon(day),
            title=f"snapshot {day}",
        )


def commits_layout(hub: FakeHub, dumps: dict[dt.date, Path]) -> None:
    """hub-stats itself: models.parquet rewritten in place; other commits touch other files."""
    for day, path in dumps.items():
        hub.commit_files(REPO, {"models.parquet": path}, date=at_noon(day), title=f"{day}")
        # A later commit the same week that leaves models.parquet alone.
        hub.commit_files(
            REPO,
            {"spaces.parquet": str(day).encode()},
            date=at_noon(day + dt.timedelta(days=2)),
            title=f"spaces {day}",
        )


def test_periods_and_the_last_dump_of_each():
    assert period_of(dt.date(2024, 9, 1), "week") == dt.date(2024, 8, 26)  # a Sunday
    assert last_per_period([(d, d.isoformat()) for d in WEEKS], "month") == [
        (dt.date(2024, 7, 31), "2024-07-31"),
        (dt.date(2024, 8, 28), "2024-08-28"),
        (dt.date(2024, 9, 4), "2024-09-04"),
    ]
    with pytest.raises(InputError, match="every must be one of month, week, not 'day'"):
        period_of(WEEKS[0], "day")


@pytest.mark.parametrize("layout", ["paths", "commits"])
def test_a_repository_gives_the_last_dump_of_each_month_in_either_layout(run_cli, tmp_path, layout):
    dumps = dumps_on_disk(tmp_path / "dumps")
    with FakeHub([]) as hub:
        hub.tree_page_size, hub.commits_page_size = 4, 3  # every listing takes several pages
        (paths_layout if layout == "paths" else commits_layout)(hub, dumps)
        store = str(tmp_path / "s")
        args = ["ingest", "hub-stats", "--repo", REPO, "--since", "2024-07"]
        result = run_cli(*args, "--endpoint", hub.url, "--store", store)
        assert result.exit_code == 0, result.stderr
        tree_pages = [r for r in hub.requests if "/tree/" in r.path]
        commit_pages = [r for r in hub.requests if "/commits/" in r.path]
    monthly = [dt.date(2024, 7, 31), dt.date(2024, 8, 28), dt.date(2024, 9, 4)]
    assert held_dates(Store(store)) == set(monthly)
    expected = one_by_one([dumps[d] for d in monthly], Store(tmp_path / "local"))
    got = comparable(Store(store))
    want = comparable(expected)
    assert got == want
    lines = result.stderr.splitlines()
    assert lines[0] == f"backfilled 3 hub-stats dumps into {store}: 2024-07-31 to 2024-09-04"
    if layout == "paths":
        assert lines[2].startswith(f"  from dataset {REPO} (dated paths at revision ")
        assert lines[2].endswith(
            ": 3 of 10 dumps since 2024-07, the last of each month); 3 downloaded, 0 from the cache"
        )
    else:
        assert lines[2].startswith(f"  from dataset {REPO} (one file across commits, up to ")
        assert lines[2].endswith(
            ": 3 dumps from 20 commits since 2024-07, the last of each month, dated by the "
            "commit that wrote it); 3 downloaded, 0 from the cache"
        )
    if layout == "paths":
        assert len(tree_pages) > 1 and not commit_pages  # the recursive tree, paged
    else:
        assert len(commit_pages) == 7  # 20 commits, 3 a page
        # Then one entry listing per month chosen, expanded, for the file's own last commit.
        assert len([r for r in tree_pages if r.query.get("expand") == ["true"]]) == 3


def test_weekly_from_a_month_on(run_cli, tmp_path):
    dumps = dumps_on_disk(tmp_path / "dumps")
    with FakeHub([]) as hub:
        paths_layout(hub, dumps)
        plan = repo_dumps(REPO, since=dt.date(2024, 8, 1), every="week", endpoint=hub.url)
    assert [d.date for d in plan.dumps] == [d for d in WEEKS if d >= dt.date(2024, 8, 1)]
    assert {d.date_source for d in plan.dumps} == {"path"}
    assert plan.layout == "paths" and plan.available == 5


def test_across_commits_a_dump_is_dated_by_the_commit_that_wrote_it_and_taken_once(tmp_path):
    """A month whose last commits left models.parquet alone still gets the dump written in it,
    dated by the commit that wrote it; a month without any write gives no second copy."""
    dumps = dumps_on_disk(tmp_path / "dumps")
    with FakeHub([]) as hub:
        commits_layout(hub, {d: p for d, p in dumps.items() if d.month != 8})
        # August: no new dump; only other files change.
        hub.commit_files(REPO, {"README.md": b"august"}, date=at_noon(dt.date(2024, 8, 20)))
        plan = repo_dumps(REPO, since=dt.date(2024, 7, 1), every="month", endpoint=hub.url)
        api = HfApi(endpoint=hub.url)
        writers = {
            c.created_at.date(): c.commit_id
            for c in api.list_repo_commits(REPO, repo_type="dataset")
        }
    assert [(d.date, d.date_source) for d in plan.dumps] == [
        (dt.date(2024, 7, 31), "commit"),
        (dt.date(2024, 9, 4), "commit"),
    ]
    # Each downloaded at the commit that wrote it, not at a later one of the month.
    assert [d.name for d in plan.dumps] == [
        f"{REPO}@{writers[d.date][:12]}:models.parquet" for d in plan.dumps
    ]


def test_the_plan_is_pinned_to_the_revision_it_listed(tmp_path):
    """Commits landing after the plan (here: every dump deleted from main) change nothing."""
    dumps = dumps_on_disk(tmp_path / "dumps")
    store = Store(tmp_path / "s")
    with FakeHub([]) as hub:
        paths_layout(hub, dumps)
        plan = repo_dumps(REPO, since=dt.date(2024, 7, 1), endpoint=hub.url)
        gone = {f"models/{d}/models.parquet": None for d in WEEKS}
        hub.commit_files(REPO, gone, date=at_noon(dt.date(2024, 9, 10)), title="prune")
        summary = backfill(store, plan.dumps)
    assert [d.date for d in summary.dates] == [dt.date(2024, 7, 31), WEEKS[-2], WEEKS[-1]]


def test_a_rerun_downloads_only_what_it_lacks(run_cli, tmp_path):
    """Killed after two dates (SIGKILL), the same command skips them, fetches nothing twice
    and ends with the store an uninterrupted run makes."""
    dumps = dumps_on_disk(tmp_path / "dumps")
    with FakeHub([]) as hub:
        paths_layout(hub, dumps)
        store = str(tmp_path / "s")
        args = ["ingest", "hub-stats", "--repo", REPO, "--since", "2024-07", "--every", "week"]
        args += ["--endpoint", hub.url, "--store", store]
        env = {"HF_HOME": str(tmp_path / "hf"), "HF_ENDPOINT": hub.url}
        killed = lineage_subprocess(
            *args, env={**env, "LINEAGE_TEST_HOOK": f"backfill:date:{WEEKS[-3]}=kill"}
        )
        killed.communicate(timeout=120)
        assert killed.returncode == -signal.SIGKILL
        assert held_dates(Store(store)) == set(WEEKS[-2:])
        before = len([r for r in hub.requests if r.method == "GET" and "/resolve/" in r.path])
        assert before == 2
        rerun = lineage_subprocess(*args, env=env)
        _, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        gets = [r for r in hub.requests if r.method == "GET" and "/resolve/" in r.path]
        assert len(gets) == 10  # the 8 dates not held, once each
        assert "skipped 2 dates the store already holds" in err
        assert "8 downloaded, 0 from the cache" in err
        again = run_cli(*args[:-4], "--replace", *args[-4:], env=env)
        assert again.exit_code == 0, again.stderr
        assert "0 downloaded, 10 from the cache" in again.stderr
    expected = one_by_one([dumps[d] for d in WEEKS], Store(tmp_path / "local"))
    assert comparable(Store(store))["snapshots"] == comparable(expected)["snapshots"]


def test_a_dropped_connection_midway_keeps_the_dates_before_it(run_cli, tmp_path):
    dumps = dumps_on_disk(tmp_path / "dumps")
    with FakeHub([]) as hub:
        paths_layout(hub, dumps)
        third = f"models/{WEEKS[2]}/models.parquet"
        hub.inject(drop=True, times=100, match=lambda path, query: path.endswith(third))
        store = str(tmp_path / "s")
        args = ["ingest", "hub-stats", "--repo", REPO, "--since", "2024-07", "--every", "week"]
        result = run_cli(*args, "--endpoint", hub.url, "--store", store)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: cannot reach {hub.url} for {REPO}/{third}; ")
        assert result.stderr.endswith(
            "the dates ingested so far stay; run the same command again to go on\n"
        )
        assert held_dates(Store(store)) == set(WEEKS[3:])  # newest first: those after it
        hub.clear_faults()
        resumed = run_cli(*args, "--endpoint", hub.url, "--store", store)
        assert resumed.exit_code == 0, resumed.stderr
    assert held_dates(Store(store)) == set(WEEKS)


def test_what_a_repository_cannot_give_is_one_line(run_cli, tmp_path):
    with FakeHub([]) as hub:
        hub.commit_files("me/other", {"data/train.csv": b"a,b\n"}, date=at_noon(WEEKS[0]))
        base = ["ingest", "hub-stats", "--since", "2024-07", "--endpoint", hub.url]
        base += ["--store", str(tmp_path / "s")]
        missing = run_cli(*base, "--repo", "me/nothing")
        assert missing.exit_code == 1
        assert missing.stderr.startswith(f"error: the Hub at {hub.url} has no dataset me/nothing;")
        other = run_cli(*base, "--repo", "me/other")
        assert other.exit_code == 1
        assert other.stderr == (
            f"error: dataset me/other on {hub.url} has no dated models.parquet paths (like "
            "models/2024-07-24/models.parquet) and no models.parquet with a history; is it a "
            "hub-stats archive?\n"
        )
        dumps_on_disk(tmp_path / "d")
        paths_layout(hub, dumps_on_disk(tmp_path / "dumps"))
        late = run_cli(*base[:2], "--since", "2025-01", *base[4:], "--repo", REPO)
        assert late.exit_code == 1
        assert late.stderr == (
            f"error: dataset {REPO} on {hub.url} has no models.parquet dated 2025-01 or later\n"
        )
    with pytest.raises(NotOnHub), FakeHub([]) as empty:
        repo_dumps(REPO, since=WEEKS[0], endpoint=empty.url)
    with pytest.raises(HubUnreachable, match=r"cannot reach http://127\.0\.0\.1:9 for dataset"):
        repo_dumps(REPO, since=WEEKS[0], endpoint="http://127.0.0.1:9")


def test_repo_options_are_checked_before_anything(run_cli, tmp_path):
    no_since = run_cli("ingest", "hub-stats", "--repo", REPO)
    assert no_since.exit_code == 2 and "--repo takes --since YYYY-MM" in no_since.stderr
    with_path = run_cli("ingest", "hub-stats", "x.parquet", "--repo", REPO, "--since", "2024-07")
    assert with_path.exit_code == 2
    alone = run_cli("ingest", "hub-stats", "--since", "2024-07")
    assert alone.exit_code == 2 and "--since and --every choose dumps of a --repo" in alone.stderr
    bad = run_cli("ingest", "hub-stats", "--repo", REPO, "--since", "2024-13")
    assert bad.exit_code == 2
