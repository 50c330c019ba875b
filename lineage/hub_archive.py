"""Dated hub-stats dumps from a dataset repository on the Hub, planned for a backfill.

Library twin of ``lineage ingest hub-stats --repo DATASET --since YYYY-MM [--every ...]``
(:func:`repo_dumps` plans, :func:`lineage.backfill.backfill` ingests). History is kept on
the Hub in one of two layouts, and a repository's tree says which:

- **dated paths in one revision** (weekly archives: ``models/2024-07-24/models.parquet``):
  the tree lists every dump; each is dated by its path. Cost: the refs request, the tree
  listing (one request per 1000 entries), then one download per period.
- **one file across dated commits** (``cfahlgren1/hub-stats`` itself rewrites
  ``models.parquet`` daily): the commits listing (one request per 50 commits), the last
  commit of each period chosen, and for each the file's entry at that commit (one request:
  the commit that last wrote it, whose date is the dump's date, and its blob, so a period in
  which the file did not change is not ingested twice under two dates). Then one download
  per period.

Everything is pinned to the revision ``main`` pointed at when the plan was made, so commits
landing during a long backfill change nothing in it. Downloads go through
``hf_hub_download`` into the Hugging Face cache (a dump downloaded once is never fetched
again; an interrupted download resumes), and happen only when the backfill reaches their
date, so the dates the store already holds cost no download.

A period is a calendar month (``month``, the default) or an ISO week (``week``, from
Monday); the dump that stands for it is the last one in it. Requests go through the real
``huggingface_hub`` client; its answers become lineage's errors in :mod:`lineage.hub_errors`.

It must not: ingest (``backfill`` does), or print.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .backfill import DUMP_NAME, DatedDump, date_in_path
from .checks import check_choice
from .errors import HubUnreachable, InputError
from .hub_errors import hub_errors
from .hubstats import resolve_endpoint
from .settings import hub_cache_dir

PERIODS = ("month", "week")


@dataclass(frozen=True)
class RepoPlan:
    """The dumps chosen from a repository, and how they were found."""

    repo: str
    revision: str  # the commit main pointed at: every listing and download is pinned to it
    layout: str  # "paths" (dated paths in one revision) | "commits" (one file across commits)
    dumps: list[DatedDump]
    # paths: dated dumps since the first month asked; commits: commits since then
    available: int
    endpoint: str
    since: dt.date
    every: str
    # Filled in as the backfill fetches: dumps downloaded, and found in the HF cache.
    fetched: dict[str, int] = field(default_factory=lambda: {"downloaded": 0, "cached": 0})


def period_of(day: dt.date, every: str) -> dt.date:
    """The first day of the period a date falls in.

    >>> period_of(dt.date(2024, 7, 24), "month"), period_of(dt.date(2024, 7, 24), "week")
    (datetime.date(2024, 7, 1), datetime.date(2024, 7, 22))
    """
    if check_choice("every", every, PERIODS) == "month":
        return day.replace(day=1)
    return day - dt.timedelta(days=day.weekday())  # week


def last_per_period(dated: list[tuple[dt.date, Any]], every: str) -> list[tuple[dt.date, Any]]:
    """Of (date, item) pairs, the last of each period, oldest period first."""
    chosen: dict[dt.date, tuple[dt.date, Any]] = {}
    for day, item in sorted(dated, key=lambda pair: pair[0]):
        chosen[period_of(day, every)] = (day, item)
    return [chosen[p] for p in sorted(chosen)]


def repo_dumps(
    repo: str,
    *,
    since: dt.date,
    every: str = "month",
    file: str = DUMP_NAME,
    endpoint: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress_bars: bool = False,
) -> RepoPlan:
    """Plan a backfill from a dataset repository: one dated dump per period since ``since``.

    Parameters
    ----------
    repo : the dataset repository (``owner/name``).
    since : the first month wanted (any day of it).
    every : ``month`` or ``week``: one dump per period, the last one in it.
    file : the dump's file name (``models.parquet``): in dated paths, their last part;
        across commits, its path in the repository.
    endpoint, cache_dir : the Hub and the huggingface_hub cache.

    Raises
    ------
    NotOnHub, HubAuthError, HubError, HubUnreachable
        The Hub has no such dataset, refuses it, or cannot be reached.
    InputError
        The repository holds neither dated ``file`` paths nor a ``file`` with a history,
        or none since ``since``.
    """
    from huggingface_hub import HfApi

    period_of(since, every)  # a bad period is named before any request
    endpoint = resolve_endpoint(endpoint)
    cache = str(cache_dir) if cache_dir is not None else hub_cache_dir()
    api = HfApi(endpoint=endpoint, library_name="lineage")
    where = f"dataset {repo}"
    since = since.replace(day=1)
    with _reaching(endpoint, where):
        head = api.list_repo_refs(repo, repo_type="dataset").branches
        revision = next((b.target_commit for b in head if b.name == "main"), None)
        if revision is None:
            raise InputError(f"dataset {repo} on {endpoint} has no main branch", value=repo)
        entries = list(
            api.list_repo_tree(repo, repo_type="dataset", recursive=True, revision=revision)
        )
    files = {e.path: e for e in entries if getattr(e, "blob_id", None) is not None}
    dated = [
        (day, path)
        for path, day in ((p, date_in_path(p)) for p in files)
        if day is not None and posixpath.basename(path) == posixpath.basename(file)
    ]
    fetched = {"downloaded": 0, "cached": 0}
    fetch = _fetcher(repo, endpoint, cache, progress_bars, fetched)
    if dated:
        recent = [(day, path) for day, path in dated if day >= since]
        chosen = last_per_period(recent, every)
        dumps = [
            DatedDump(f"{repo}@{revision[:12]}:{path}", day, "path", fetch=fetch(path, revision))
            for day, path in chosen
        ]
        layout, available = "paths", len(recent)
    elif file in files:
        with _reaching(endpoint, where):
            commits = api.list_repo_commits(repo, repo_type="dataset", revision=revision)
        dumps, available = _across_commits(api, repo, file, commits, since, every, fetch, endpoint)
        layout = "commits"
    else:
        raise InputError(
            f"dataset {repo} on {endpoint} has no dated {posixpath.basename(file)} paths "
            f"(like models/2024-07-24/{posixpath.basename(file)}) and no {file} with a "
            "history; is it a hub-stats archive?",
            value=repo,
        )
    if not dumps:
        raise InputError(
            f"dataset {repo} on {endpoint} has no {posixpath.basename(file)} dated "
            f"{since:%Y-%m} or later",
            params=("since",),
            value=repo,
        )
    return RepoPlan(repo, revision, layout, dumps, available, endpoint, since, every, fetched)


def _across_commits(
    api: Any,
    repo: str,
    file: str,
    commits: list[Any],
    since: dt.date,
    every: str,
    fetch: Callable[[str, str], Callable[[], Path]],
    endpoint: str,
) -> tuple[list[DatedDump], int]:
    """One file across commits: the last commit of each period, then the version of the
    file it holds, dated by the commit that wrote that version (one request each)."""
    folder = posixpath.dirname(file) or None
    by_day = [(c.created_at.astimezone(dt.UTC).date(), c.commit_id) for c in commits]
    # A period's dump may have been written in the period before (its last commit changed
    # other files only): start one period early, filter by the dump's own date below.
    early = period_of(since - dt.timedelta(days=1), every)
    chosen = last_per_period([(d, c) for d, c in by_day if d >= early], every)
    dumps: dict[str, DatedDump] = {}
    for _, commit in chosen:
        with _reaching(endpoint, f"dataset {repo}"):
            entries = api.list_repo_tree(
                repo, folder, repo_type="dataset", revision=commit, expand=True
            )
            entry = next((e for e in entries if e.path == file), None)
        if entry is None or entry.last_commit is None:
            continue  # the file did not exist yet at that commit
        written = entry.last_commit
        day = written.date.astimezone(dt.UTC).date()
        blob = entry.lfs.sha256 if entry.lfs is not None else entry.blob_id
        if blob in dumps or day < since:
            continue  # the same dump as a later period's, or written before the first month
        dumps[blob] = DatedDump(
            f"{repo}@{written.oid[:12]}:{file}", day, "commit", fetch=fetch(file, written.oid)
        )
    found = sorted(dumps.values(), key=lambda d: d.date)
    return found, len({d for d, _ in by_day if d >= since})


def _fetcher(
    repo: str, endpoint: str, cache_dir: str | None, progress_bars: bool, fetched: dict[str, int]
) -> Callable[[str, str], Callable[[], Path]]:
    def fetch(path: str, revision: str) -> Callable[[], Path]:
        def download() -> Path:
            from huggingface_hub import hf_hub_download, try_to_load_from_cache

            from . import __version__
            from .hubstats import hub_progress_bars

            cached = try_to_load_from_cache(
                repo, path, cache_dir=cache_dir, revision=revision, repo_type="dataset"
            )
            fetched["cached" if isinstance(cached, str) else "downloaded"] += 1
            with (
                _reaching(endpoint, f"{repo}/{path}", task="download"),
                hub_progress_bars(progress_bars),
            ):
                return Path(
                    hf_hub_download(
                        repo_id=repo,
                        filename=path,
                        repo_type="dataset",
                        revision=revision,
                        endpoint=endpoint,
                        cache_dir=cache_dir,
                        library_name="lineage",
                        library_version=__version__,
                    )
                )

        return download

    return fetch


def _cache_dir() -> str | None:
    from .settings import hub_cache_dir as hub_cache

    return hub_cache()


@contextlib.contextmanager
def _reaching(endpoint: str, what: str, *, task: str = "backfill") -> Iterator[None]:
    """Connection failures in words: the Hub cannot be reached; the work so far stays."""
    import httpx2
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    hint = "the dates ingested so far stay; run the same command again to go on"
    try:
        with hub_errors(endpoint, what, task=task, hint=hint):
            yield
    except (httpx2.TransportError, OfflineModeIsEnabled, LocalEntryNotFoundError) as exc:
        raise HubUnreachable(f"cannot reach {endpoint} for {what}; {hint}") from exc
