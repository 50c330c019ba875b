"""Backfill: many dated hub-stats dumps into the store, newest first, one commit per date.

Library twin of ``lineage ingest hub-stats PATH [PATH ...]`` (and, with dumps planned by
:mod:`lineage.hub_archive`, of ``--repo``). This module owns:

- finding the dumps a command line names (:func:`local_dumps`): files, directories (every
  ``models.parquet`` below one, or every ``.parquet`` file if it has none) and globs;
- dating each: ``--date`` for a single dump, else a ``YYYY-MM-DD`` or ``YYYYMMDD`` in its
  path (the last one: ``archive-2025/models/2024-07-24/models.parquet`` is 2024-07-24); a
  single file with neither keeps the file's modification date, as a one-file ingest always
  has; in a multi-file ingest such a file is refused before anything is ingested (a copy's
  modification time is the day it was copied, not the day its counters were read);
- :func:`backfill`: every dump's columns checked first (a foreign file named before any
  work), then one :func:`~lineage.hubstats.ingest_hub_stats` per date, newest first, each
  its own commit, under one progress bar across dumps.

Why newest first: a model's current record is the one of its latest observation, whatever
the order dumps arrive in (store format 3), so the store is the same either way. Newest
first, only the first dump's records become current; each older one adds its snapshot and
the models never seen (deleted since), which the store commits cheaply. Oldest first, every
dump would be the newest so far and rewrite every record.

Resuming is by construction: a date is committed whole or not at all, so a kill loses at
most the date in progress, and a rerun skips the dates the store holds (``replace``
re-reads them). A dump that turns out corrupt halfway stops the run with one line naming
it; the dates ingested before it stay.

It must not: parse dumps (``hubstats`` does), write the store other than through
``ingest_hub_stats``, or print (the CLI renders :class:`BackfillSummary`).
"""

from __future__ import annotations

import datetime as dt
import glob
import itertools
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .checkpoints import checkpoint
from .errors import InputError
from .progress import Progress
from .store import Store

DUMP_NAME = "models.parquet"
# A date in a path: 2024-07-24 or 20240724, not inside a longer run of digits.
_DATE_IN_PATH = re.compile(r"(?<!\d)(\d{4})(-?)(\d{2})\2(\d{2})(?!\d)")
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class DatedDump:
    """One dump to ingest and the date its counters describe.

    ``date_source``: ``given`` (``--date``), ``path`` (a date in its path), ``file`` (the
    file's modification time), or for a dump from a dataset repository ``commit`` (the
    date of the commit that last wrote the file) or ``path``. ``fetch`` downloads a dump
    that is not local yet (``path`` is then None until it has run).
    """

    name: str  # how messages name it: the path as given, or repo@revision:file
    date: dt.date
    date_source: str
    path: Path | None = None
    fetch: Callable[[], Path] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DateDone:
    """What one date of a backfill did."""

    date: dt.date
    name: str
    rows: int
    models: int
    models_new: int
    absent: tuple[str, ...]  # optional dump columns it lacks (read as nulls)
    seconds: float


@dataclass(kw_only=True)
class BackfillSummary:
    """What a backfill did: the dates ingested, those skipped as held, absent columns."""

    store: str
    dates: list[DateDone] = field(default_factory=list)
    skipped: list[dt.date] = field(default_factory=list)  # held already, not re-read
    requests: int = 0
    seconds: float = 0.0
    # From a dataset repository (lineage.hub_archive.RepoPlan): where the dumps came from.
    plan: Any = None

    @property
    def rows(self) -> int:
        return sum(d.rows for d in self.dates)

    @property
    def all_dates(self) -> list[dt.date]:
        """Every date the backfill was given, ingested or skipped, in order."""
        return sorted({*(d.date for d in self.dates), *self.skipped})

    def absent_columns(self) -> dict[str, list[dt.date]]:
        """Column -> the ingested dates whose dump lacked it, in date order."""
        absent: dict[str, list[dt.date]] = {}
        for done in self.dates:
            for column in done.absent:
                absent.setdefault(column, []).append(done.date)
        return absent


def date_runs(dates: Sequence[dt.date], among: Sequence[dt.date] | None = None) -> str:
    """Dates in a few words: runs of neighbours in ``among`` (default: the dates themselves).

    >>> days = [dt.date(2024, 7, d) for d in (3, 10, 17, 24, 31)]
    >>> date_runs(days[:3] + days[4:], among=days)
    '2024-07-03 to 2024-07-17 (3 dates), 2024-07-31'
    """
    order = sorted(set(among if among is not None else dates))
    place = {d: i for i, d in enumerate(order)}
    runs: list[list[dt.date]] = []
    for day in sorted(set(dates), key=lambda d: place.get(d, -1)):
        if runs and place.get(day) == place.get(runs[-1][-1], -2) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    words = [
        f"{run[0]} to {run[-1]} ({len(run)} dates)" if len(run) > 1 else str(run[0]) for run in runs
    ]
    if len(words) > 6:
        rest = sum(len(run) for run in runs[5:])
        words = [*words[:5], f"and {rest} more dates"]
    return ", ".join(words)


# -- finding and dating dumps -----------------------------------------------------------------


def date_in_path(path: str | os.PathLike[str]) -> dt.date | None:
    """The last valid ``YYYY-MM-DD`` or ``YYYYMMDD`` date in a path, None if none.

    >>> date_in_path("archive/models/2024-07-24/models.parquet")
    datetime.date(2024, 7, 24)
    >>> date_in_path("dumps/hub-stats-20250105.parquet")
    datetime.date(2025, 1, 5)
    >>> date_in_path("x/2024-07-24/20241399/models.parquet")  # not a date: the last valid one
    datetime.date(2024, 7, 24)
    >>> date_in_path("models.parquet") is None
    True
    """
    found = None
    for match in _DATE_IN_PATH.finditer(str(path)):
        year, _, month, day = match.groups()
        try:
            found = dt.date(int(year), int(month), int(day))
        except ValueError:
            continue
    return found


def _expand(argument: str) -> list[Path]:
    """The dump files one command-line argument names (sorted), or an InputError."""
    path = Path(argument).expanduser()
    if path.is_dir():
        below = sorted(p for p in path.rglob(DUMP_NAME) if p.is_file())
        below = below or sorted(p for p in path.rglob("*.parquet") if p.is_file())
        if not below:
            raise InputError(f"directory {argument} holds no .parquet file", path=argument)
        return below
    if path.exists() or not _GLOB_CHARS.search(argument):
        if not path.is_file():
            raise InputError(f"no hub-stats dump at {path}", path=argument)
        return [path]
    matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(argument), recursive=True))
    files = [m for m in matches if m.is_file()]
    dirs = [m for m in matches if m.is_dir()]
    for directory in dirs:
        files += _expand(str(directory))
    if not files:
        raise InputError(f"no file matches {argument}", path=argument)
    return sorted(set(files))


def local_dumps(
    paths: Sequence[str | os.PathLike[str]], *, snapshot_date: dt.date | None = None
) -> list[DatedDump]:
    """The dumps that ``paths`` name, dated and sorted by date; nothing is read but names.

    Raises
    ------
    InputError
        A path matches nothing, ``snapshot_date`` is given for several files, a file of a
        multi-file ingest has no date in its path, or two files have the same date.
    """
    files: list[Path] = []
    for argument in paths:
        for file in _expand(os.fspath(argument)):
            if file.resolve() not in {f.resolve() for f in files}:
                files.append(file)
    if snapshot_date is not None and len(files) > 1:
        raise InputError(
            f"{{date}} dates one dump, and {len(files)} files were given; several files take "
            "their dates from their paths (YYYY-MM-DD or YYYYMMDD)",
            params=("date",),
        )
    dumps = []
    for file in files:
        if snapshot_date is not None:
            dumps.append(DatedDump(str(file), snapshot_date, "given", file))
            continue
        day = date_in_path(file)
        if day is not None:
            dumps.append(DatedDump(str(file), day, "path", file))
        elif len(files) == 1:
            mtime = dt.datetime.fromtimestamp(file.stat().st_mtime, dt.UTC).date()
            dumps.append(DatedDump(str(file), mtime, "file", file))
        else:
            raise InputError(
                f"cannot date {file}: its path has no YYYY-MM-DD or YYYYMMDD (name the "
                "file or its folder by the dump's date); nothing was ingested",
                path=file,
            )
    return _by_date(dumps)


def _by_date(dumps: list[DatedDump]) -> list[DatedDump]:
    """Sorted by date; two dumps of one date are refused (which would count?)."""
    dumps = sorted(dumps, key=lambda d: (d.date, d.name))
    for a, b in itertools.pairwise(dumps):
        if a.date == b.date:
            raise InputError(
                f"two dumps are dated {a.date}: {a.name} and {b.name}; keep one of them",
                path=b.name,
            )
    return dumps


def held_dates(store: Store) -> set[dt.date]:
    """The dates an ingest observed in the store (what a rerun skips, as a single-dump
    ingest of a held date does)."""
    return set(store.observed_dates(kind="ingest"))


# -- ingesting --------------------------------------------------------------------------------


class _AcrossDumps(Progress):
    """One bar for a whole backfill: dates done of total with their ETA, rows/s beside.

    Each date's ingest reports its own phases and rows; this keeps the one bar and turns
    them into a description and a rate.
    """

    def __init__(self, outer: Progress, total: int) -> None:
        super().__init__(enabled=outer.enabled, file=outer.file)
        self.total = total
        self.done = 0
        self.rows = 0
        self.started = time.monotonic()
        self._current = ""
        Progress.phase(self, "backfilling hub-stats dumps", total=total, unit="date")

    def start(self, dump: DatedDump, what: str = "reading") -> None:
        self._current = f"hub-stats {dump.date}"
        self.describe(f"{self._current} {what}")

    def phase(self, description: str, *, total: int | None = None, unit: str = "req") -> None:
        # "reading the hub-stats dump", "committing to the store": the verb is enough.
        self.describe(f"{self._current} {description.split()[0]}")

    def advance(self, n: int = 1, **postfix: object) -> None:
        if self._bar is None:
            return
        self.rows += n
        rate = self.rows / max(time.monotonic() - self.started, 1e-9)
        self._bar.set_postfix_str(f"{rate:,.0f} rows/s", refresh=True)

    def finish_date(self) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        """Each date's ingest closes its progress when done: the bar goes on (see end)."""

    def end(self) -> None:
        Progress.close(self)


def backfill(
    store: Store,
    dumps: Sequence[DatedDump],
    *,
    replace_held: bool = False,
    progress: Progress | None = None,
    verify: bool = True,
) -> BackfillSummary:
    """Ingest dated dumps newest first, each date its own commit; skip the dates held.

    Parameters
    ----------
    store : the store to write.
    dumps : from :func:`local_dumps` or :func:`lineage.hub_archive.repo_dumps`.
    replace_held : re-read the dates the store holds instead of skipping them.
    progress : one bar across the dumps (dates, rows/s, ETA); none if None.
    verify : check every store file first (False: the caller just did).

    Raises
    ------
    InputError
        A dump is not a hub-stats models table (local dumps are all checked before the
        first is ingested), or cannot be read halfway: the dates ingested before it stay.
    StoreError, HubError
        As :func:`~lineage.hubstats.ingest_hub_stats`.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for day in ("2025-01-05", "2025-02-05"):
    ...     (root / day).mkdir()
    ...     _ = write_hub_stats_dump([{"id": "a/b", "tags": [], "downloads": 3}],
    ...                              root / day / "models.parquet")
    >>> store = Store(tempfile.mkdtemp())
    >>> [d.date.isoformat() for d in backfill(store, local_dumps([root])).dates]  # in order
    ['2025-01-05', '2025-02-05']
    >>> backfill(store, local_dumps([root])).skipped  # held: a rerun ingests nothing
    [datetime.date(2025, 1, 5), datetime.date(2025, 2, 5)]
    """
    from .hubstats import check_dump, ingest_hub_stats

    clock = time.monotonic()
    outer = progress or Progress(enabled=False)
    summary = BackfillSummary(store=str(store.path))
    if verify:  # once for the whole run: a damaged store is named before any work
        store.verify()
    schemas = {d.name: check_dump(d.path) for d in dumps if d.path is not None}
    held = set() if replace_held else held_dates(store)
    todo = sorted((d for d in dumps if d.date not in held), key=lambda d: d.date, reverse=True)
    summary.skipped = [d.date for d in dumps if d.date in held]
    bar = _AcrossDumps(outer, len(todo))
    try:
        for dump in todo:
            checkpoint(f"backfill:date:{dump.date}")
            if dump.path is None and dump.fetch is not None:
                bar.start(dump, "downloading")
                dump = replace(dump, path=dump.fetch())
            assert dump.path is not None
            if dump.name not in schemas:
                schemas[dump.name] = check_dump(dump.path)
            bar.start(dump)
            try:
                result = ingest_hub_stats(
                    store,
                    dump.path,
                    snapshot_date=dump.date,
                    progress=bar,
                    replace=replace_held,
                    verify=False,
                )
            except InputError as exc:
                kept = len(summary.dates)
                raise InputError(
                    f"{exc}; stopped there: the {kept} date{'s' if kept != 1 else ''} ingested "
                    "before it stay in the store, and the same command resumes once the file is "
                    "fixed or removed",
                    params=exc.params,
                    path=dump.path,
                ) from exc
            summary.dates.append(
                DateDone(
                    date=dump.date,
                    name=dump.name,
                    rows=result.rows,
                    models=result.models,
                    models_new=result.models_new,
                    absent=tuple(result.absent_columns),
                    seconds=result.seconds,
                )
            )
            summary.requests += result.requests
            bar.finish_date()
    finally:
        bar.end()
    summary.dates.sort(key=lambda d: d.date)
    summary.seconds = time.monotonic() - clock
    return summary
