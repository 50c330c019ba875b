"""The embedded store: Parquet tables in one directory, one writer, readers beside it.

Layout of a store directory (store format version 3, see :data:`FORMAT_VERSION`; every
table's columns are in :mod:`lineage.schema`)::

    lineage-store.json  the marker: format version, written when the store is created
    models.parquet      one row per model ever observed (STORED_MODEL_SCHEMA): its current
                        record, the date it was last seen (``last_seen``) and its snapshot key
    edges.parquet       declared (child, parent, relation) edges (EDGE_SCHEMA) of those records
    problems.parquet    card problems per model (PROBLEM_SCHEMA)
    models-delta.parquet, edges-delta.parquet, problems-delta.parquet
                        the records committed since the last compaction (present only when
                        some are): they replace the base file's rows of the same models
    lookups.parquet     parent ids looked up on the Hub: found, renamed, or missing
    snapshots/date=YYYY-MM-DD/part-0.parquet
                        the counters (downloads, all-time downloads, likes) of every model an
                        observation of that date saw, by model ``key``, sorted by it; its
                        totals (rows, download sums) in its key-value metadata
    crawls.parquet      the crawl log: one row per crawl or ingest, each an observation
                        (``observed`` date, ``complete`` or not, commit ``generation``)
    inferred_edges.parquet  lineage proposed by `lineage infer` (INFERRED_SCHEMA), apart
                        from the declared edges
    file_evidence.parquet  what models' cards and configs say of their parents
                        (FILE_EVIDENCE_SCHEMA), read by `lineage infer --resolve-roots`
    COMMIT              the last commit's manifest: generation, state, renames, files
    LOCK                the writer's lock
    journal/            work in progress of interrupted crawls (see lineage.journal)
    derived/            state derived from one generation (never listed in COMMIT)

Observations, current records and presence (format 3):

- **Every commit is an observation** dated ``observed`` (a crawl's start day, a dump's date),
  *complete* when it lists every public model (a finished ``crawl --all`` sweep, a hub-stats
  dump) and *partial* otherwise. A model's current record is the one of the greatest
  (``last_seen``, ``seen_commit``): an observation replaces only records older than itself, so
  the order in which dated observations arrive never matters, and repeating one changes
  nothing. Every observation adds its counters to its date's snapshot.
- **Presence.** C is the latest complete observation (by date, then commit). A model is
  *present* when its record is at least as new as C; the others are *gone*: the Hub no longer
  listed them. Reads give the present models (and their edges and problems) unless asked for
  ``view="all"``, every model ever observed.

What is guaranteed, and how:

- **One writer.** A crawl or ingest holds an advisory lock on ``LOCK`` (``flock``; the OS
  drops it when the process dies) for its whole run; a second writer is refused at once.
  Only the lock holder finishes a cut-short commit or deletes temporary files.
- **Atomic commits.** A commit writes each new table as ``<file>.<token>.tmp`` (fsynced),
  then ``COMMIT`` with state ``committing`` and the next generation number (the commit
  point), renames the temporary files into place and rewrites ``COMMIT`` as ``done``.
  Killed before the manifest, the store is the old one (the next writer sweeps the
  temporary files); killed after it, the store is the new one (the next writer finishes
  the renames). A rename whose temporary file is gone and whose target is not the file
  that commit wrote (each file carries its commit's token) stops with an error instead
  of committing part of the state.
- **Readers never write, never wait and see one state.** A reader pins a view at its
  first read: it reads ``COMMIT``, opens every file of that generation (a temporary file
  still named by a ``committing`` manifest stands for its table), then reads ``COMMIT``
  again and starts over if the generation moved. Its reads go through those open file
  descriptors, so a commit renaming files afterwards changes nothing for it: a reader
  sees the old state or the new one, whole, for as long as its :class:`Store` is open.
  A writer never waits for readers either.
- **Damage is named.** ``COMMIT`` lists every file of the store, so a missing file is
  noticed; an unreadable one is reported with its path and what to do. A commit reads
  the tables it merges before it writes anything, so a damaged table is never replaced
  by one holding less.
- **Format versions.** The marker's ``version`` is the format the store is written in;
  ``oldest_reader`` the oldest format whose code can still read it. A change that only
  adds a table or a column bumps :data:`FORMAT_VERSION` and keeps :data:`OLDEST_READER`:
  older code then still reads the store (ignoring what it does not know) but refuses to
  write it, and newer code upgrades the marker of an older store when it first writes.
  A store written before markers existed (version 1 files, no marker) is recognised by
  its files and adopted by the next writer. Stores of formats 1 and 2 are read as they
  are (``last_seen`` from the crawl that wrote a row, ``snapshots/DATE.parquet`` by id) and
  rewritten in format 3 by the first crawl or ingest, under the lock, in one commit (the
  marker is one of its renames): all or nothing.
  Adding a table: put it in :data:`lineage.schema.TABLES` (and its key columns in
  :data:`lineage.schema.TABLE_KEYS`), bump
  :data:`FORMAT_VERSION`, keep :data:`OLDEST_READER`; ``COMMIT`` lists its file like any
  other, and a store that lacks it reads it as empty.

Commits pass the test hook's steps (:func:`lineage.checkpoints.checkpoint`): tests cut them
at exact points by naming a step in ``LINEAGE_TEST_HOOK``.

This module does transactions: it knows files, commits and views, takes the tables' columns
from lineage.schema, and does not know the Hub, the graph or the CLI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import itertools
import json
import os
import re
import resource
import shutil
import stat
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from . import __version__
from .checkpoints import checkpoint
from .errors import StoreError
from .schema import (
    COUNTERS,
    CRAWL_SCHEMA,
    LEGACY_SNAPSHOT_KEYS,
    SNAPSHOT_FILE_SCHEMA,
    SNAPSHOT_TOTALS_SCHEMA,
    STORED_MODEL_SCHEMA,
    TABLE_KEYS,
    TABLES,
    CrawlRecord,
)
from .settings import default_store_path

if TYPE_CHECKING:  # a reader never parses a record: card parsing stays unimported
    from .records import Batch

# The tables kept as a base and a delta, and the model column that owns each row: a model
# in the delta has its rows there, and its base rows no longer count.
MERGED: dict[str, str] = {"models": "id", "edges": "child", "problems": "model"}

View = Literal["present", "all"]

FORMAT_VERSION = 3
"""The store format this code writes. Bump it for any change to the files or columns.

1. The first format (lineage 0.1.0): no marker; ``COMMIT`` existed only during a commit.
2. The marker; ``COMMIT`` kept as the generation manifest (format 1 code cannot read it);
   ``inferred_edges.parquet``; models' ``model_type``, ``gguf_architecture``,
   ``gguf_parameters``, ``adapter_base``; crawls' ``listing_duplicates``,
   ``listing_order_breaks`` and the ``new`` strategy.
3. Observations: models' ``last_seen``, ``seen_commit`` and ``key``; crawls' ``observed``,
   ``complete`` and ``generation``; base + delta files for models, edges and problems;
   snapshots Hive-partitioned (``snapshots/date=YYYY-MM-DD/part-0.parquet``) by model key.
   Format 2 code cannot read it (the snapshots moved, rows live in deltas).
   ``file_evidence.parquet`` (what models' own files say of their parents); crawls'
   strategy ``resolve-roots``; inferred edges' methods from files and re-uploads, several
   rows per child for a merge.
"""
OLDEST_READER = 3
"""The oldest format whose code can read what this code writes (kept for additive changes)."""
MARKER = "lineage-store.json"
_MANIFEST = "COMMIT"
DERIVED = "derived"  # state made from one generation (lineage.derived), outside the manifest
_LOCK = "LOCK"
_TOKEN_KEY = "lineage_commit"  # parquet key-value metadata: the commit that wrote the file
# A snapshot file's totals (rows, sums of the download counters), in its key-value metadata:
# what `lineage snapshots` lists, without reading hundreds of millions of rows.
_TOTALS_KEY = "lineage_totals"
_BASES = tuple(f"{t}.parquet" for t in MERGED)
_DELTAS = tuple(f"{t}-delta.parquet" for t in MERGED)
_KNOWN_ENTRIES = {
    *(f"{t}.parquet" for t in TABLES if t != "snapshots"),
    *_DELTAS,
    "snapshots",
    "journal",
    DERIVED,
    _LOCK,
    _MANIFEST,
}
_LEGACY_SNAPSHOT = re.compile(r"^snapshots/(\d{4}-\d{2}-\d{2})\.parquet$")
_SNAPSHOT = re.compile(r"^snapshots/date=(\d{4}-\d{2}-\d{2})/part-0\.parquet$")
_FD_DIR = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
_PIN_ATTEMPTS = 50

# Compaction: the delta is folded into the base when it would hold more than this many
# models, or this share of the base's, or when a commit replaces most models anyway.
COMPACT_MIN_ROWS = 50_000
COMPACT_FRACTION = 0.05
# A compaction splices the stored rows it keeps into the commit's rows, instead of merging
# every row, when they are at most this many and an eighth of the commit's (_spliced).
_SPLICED_MOST = 100_000


def _few(kept: int, rows: int) -> bool:
    """Whether ``kept`` stored rows are few enough to splice into a commit of ``rows``."""
    return kept <= min(_SPLICED_MOST, rows // 8)


def snapshot_name(date: dt.date) -> str:
    """The store-relative file of one date's snapshot (Hive-partitioned by ``date``)."""
    return f"snapshots/date={date.isoformat()}/part-0.parquet"


@dataclass(frozen=True)
class CommitResult:
    """What a commit changed.

    ``models_older``: models the observation saw whose store record is newer than it (their
    counters join the snapshot; their record stays).
    """

    models_seen: int
    models_new: int
    models_updated: int
    models_older: int = 0


# What a model's record says, apart from its counters (a snapshot's) and the stamps of the
# observation that saw it: a record re-read with the same of these is not an update.
_RECORD = tuple(c for c in STORED_MODEL_SCHEMA if c not in (*COUNTERS, "seen_at", "source"))
_RECORD = tuple(c for c in _RECORD if c not in ("crawled", "last_seen", "seen_commit", "key"))


def _fingerprint() -> pl.Expr:
    """One number per model for its record's columns (:data:`_RECORD`), as stored.

    The list columns hashed on their own, the others as one struct: polars hashes a struct
    with a list field on one core, and over a batch's gathered tags (2.5M models, their
    strings scattered) three times as slowly as the two hashes together (2.7 s wall -> 0.9 s).
    """
    columns = {c: pl.col(c).cast(STORED_MODEL_SCHEMA[c]) for c in _RECORD}
    lists = [c for c in _RECORD if isinstance(STORED_MODEL_SCHEMA[c], pl.List)]
    hashed = pl.struct([e for c, e in columns.items() if c not in lists]).hash(seed=0)
    for seed, c in enumerate(lists, start=1):
        hashed = hashed ^ columns[c].hash(seed=seed)
    return hashed


@dataclass(frozen=True)
class _Manifest:
    """The ``COMMIT`` file: one commit's renames and the files of the store after it."""

    generation: int
    state: str  # committing | done
    token: str | None  # None: written by lineage before format markers (a bare rename list)
    renames: tuple[tuple[str, str], ...]
    files: tuple[str, ...] | None  # None: unknown (that older form), list the directory
    at: str | None = None
    removed: tuple[str, ...] = ()  # files this commit dropped from the store, to delete

    def to_json(self) -> str:
        return json.dumps(
            {
                "generation": self.generation,
                "state": self.state,
                "token": self.token,
                "at": self.at,
                "renames": [list(r) for r in self.renames],
                "files": list(self.files or ()),
                "removed": list(self.removed),
            },
            indent=1,
        )


@dataclass
class _View:
    """The files of one generation, held open: what a reader reads for its whole life."""

    generation: int
    pending: bool  # its manifest still says committing: renames not finished
    fds: dict[str, int]  # store-relative file -> open descriptor
    token: str | None = None  # the commit token of that generation (None: never committed)
    checked: set[str] = field(default_factory=set)
    lent: bool = False  # a lazy frame over these descriptors was handed out
    memo: dict[str, object] = field(default_factory=dict)  # what was worked out from them

    def source(self, name: str) -> str:
        return f"{_FD_DIR}/{self.fds[name]}"

    def names(self, table: str) -> list[str]:
        if table == "snapshots":
            return sorted(n for n in self.fds if n.startswith("snapshots/"))
        names = [f"{table}.parquet"]
        if table in MERGED:
            names.append(f"{table}-delta.parquet")
        return [n for n in names if n in self.fds]

    def close(self) -> None:
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = {}


def _table_of(name: str) -> str:
    """The table a store-relative file belongs to."""
    if name.startswith("snapshots/"):
        return "snapshots"
    return name.removesuffix(".parquet").removesuffix("-delta")


def _snapshot_date(name: str) -> dt.date | None:
    match = _SNAPSHOT.match(name) or _LEGACY_SNAPSHOT.match(name)
    return dt.date.fromisoformat(match.group(1)) if match else None


class Store:
    """A store directory, opened for reading (``create=False``) or for crawling into.

    ``create=True`` makes the directory and its marker if the path does not exist or is
    an empty directory. Opening never changes an existing store: only :meth:`lock`
    (crawl, ingest) finishes a cut-short commit or rewrites a store of an older format.
    Reads see the store as it was at the first read (see the module docstring);
    :meth:`refresh` moves to the latest state. The store holds the files it reads open
    (a file a commit replaced keeps its disk space until then), and frames from
    :meth:`scan` read through them: collect them before :meth:`close`.

    Examples
    --------
    >>> import tempfile
    >>> store = Store(tempfile.mkdtemp())
    >>> store.read("models").height
    0
    >>> store.format_version
    3
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self._view: _View | None = None
        self._retired: list[_View] = []  # earlier views: lazy frames may still read them
        self._lock_depth = 0
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(
                f"store path {self.path} is a file, not a directory; pass {{store}} DIR",
                params=_STORE,
            )
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"no store at {self.path}; run `lineage crawl` first or pass {{store}}",
                    params=_STORE,
                )
            try:
                self.path.mkdir(parents=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create store directory {self.path}: {exc.strerror}", params=_STORE
                ) from exc
        if not os.access(self.path, os.R_OK | os.X_OK):
            raise StoreError(f"store directory {self.path} is not readable", params=_STORE)
        marker = self._read_marker()
        if marker is None:
            entries = [e for e in os.listdir(self.path) if not e.startswith(".")]
            if not entries:
                if not create:
                    raise StoreError(
                        f"no store at {self.path} (an empty directory); run `lineage crawl` "
                        "first or pass {store}",
                        params=_STORE,
                    )
                marker = self._write_marker(None)
            else:
                self._recognise(entries)
                marker = {"version": 1, "oldest_reader": 1}  # adopted by the next writer
        self._marker = marker
        if int(marker.get("oldest_reader", 1)) > FORMAT_VERSION:
            raise StoreError(
                f"store {self.path} has format version {marker.get('version')}, which this "
                f"lineage (format {FORMAT_VERSION}) cannot read; upgrade lineage",
                params=_STORE,
            )

    # -- the marker ----------------------------------------------------------------------

    @property
    def format_version(self) -> int:
        """The store format version recorded in its marker (1 for a store without one)."""
        return int(self._marker.get("version", 1))

    @property
    def marked(self) -> bool:
        """Whether the store has its marker (a store written before markers has not, yet)."""
        return (self.path / MARKER).exists()

    def _read_marker(self) -> dict[str, Any] | None:
        file = self.path / MARKER
        try:
            text = read_regular(file)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(
                f"store marker {file} cannot be read: {exc.strerror}", params=_STORE
            ) from exc
        try:
            marker = json.loads(text)
            if not isinstance(marker, dict) or not isinstance(marker.get("version"), int):
                raise ValueError("no version")
        except ValueError as exc:
            raise StoreError(
                f"store marker {file} is damaged; restore it, or delete it and lineage "
                "recognises the store by its tables",
                params=_STORE,
            ) from exc
        return marker

    def _write_marker(self, earlier: dict[str, Any] | None) -> dict[str, Any]:
        try:
            _replace_text(self.path / MARKER, self._marker_text(earlier))
        except OSError as exc:
            raise StoreError(
                f"store directory {self.path} is not writable ({exc.strerror}); pass {{store}} DIR",
                params=_STORE,
            ) from exc
        marker: dict[str, Any] = json.loads((self.path / MARKER).read_text())
        return marker

    def _recognise(self, entries: list[str]) -> None:
        """Accept a directory without marker only if it holds a store written before markers."""
        refuse = (
            f"{self.path} is not a lineage store (no {MARKER}) and is not empty; pass "
            "{store} with a new or empty directory"
        )
        unknown = [e for e in entries if e not in _KNOWN_ENTRIES and not e.endswith(".tmp")]
        if unknown:
            raise StoreError(f"{refuse} (it holds {sorted(unknown)[0]!r})", params=_STORE)
        for table in TABLES:
            if table == "snapshots":
                continue
            file = self.path / f"{table}.parquet"
            if not file.exists():
                continue
            try:
                columns = pl.read_parquet_schema(file)
            except (pl.exceptions.PolarsError, OSError):
                continue  # damaged, but by its name one of ours: reads will say so
            if not all(key in columns for key in TABLE_KEYS[table]):
                raise StoreError(
                    f"{refuse} ({file.name} is not a lineage {table} table)", params=_STORE
                )

    # -- reading -----------------------------------------------------------------------

    def file(self, table: str) -> Path:
        """Where a table lives: ``<table>.parquet`` (its base), or the ``snapshots/`` directory."""
        if table == "snapshots":
            return self.path / "snapshots"
        return self.path / f"{table}.parquet"

    def snapshot_file(self, date: dt.date) -> Path:
        return self.path / snapshot_name(date)

    def exists(self, table: str) -> bool:
        return bool(self._current().names(table))

    @property
    def generation(self) -> int:
        """The commit generation this store object reads (0: never committed with markers)."""
        return self._current().generation

    @property
    def commit_token(self) -> str | None:
        """The token of the commit this store object reads (None: never committed with
        markers): with :attr:`generation`, what derived state made from it is tagged with."""
        return self._current().token

    @property
    def derived_dir(self) -> Path | None:
        """Where state derived from the pinned generation lives (``derived/<generation>-
        <token>``, see :mod:`lineage.derived`); None for a store never committed with a
        token, whose state is not kept. Writers delete every other generation's."""
        view = self._current()
        if view.token is None:
            return None
        return self.path / DERIVED / f"{view.generation}-{view.token}"

    @property
    def commit_pending(self) -> bool:
        """True when the last commit was cut short after its commit point (reads see it
        whole; the next crawl or ingest finishes its renames)."""
        return self._current().pending

    def refresh(self) -> None:
        """Read the latest committed state from now on."""
        if self._view is not None:
            if self._view.lent:  # a frame from scan() may still read these files
                self._retired.append(self._view)
            else:  # nothing can: let the files it held (maybe replaced since) go
                self._view.close()
        self._view = self._pin()

    def close(self) -> None:
        """Close the store's open files (frames from :meth:`scan` stop working)."""
        for view in [*self._retired, *([self._view] if self._view else [])]:
            view.close()
        self._retired, self._view = [], None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def scan(self, table: str, *, view: View = "present") -> pl.LazyFrame:
        """A lazy frame over one table (empty with the right schema if never written).

        ``models``, ``edges`` and ``problems`` give each model's current record (base and
        delta merged); ``view="present"`` (the default) keeps the models present at the
        latest complete observation and their rows, ``view="all"`` every model ever
        observed. ``snapshots`` gives ``id, date`` and the counters of every date (see
        :meth:`scan_snapshots` for the compact, keyed form). Columns added to a table's
        schema after a store was written read as nulls. The frame reads the store's open
        files: collect it before closing the store.
        """
        return self._scan(table, lend=True, view=view)

    def read(
        self, table: str, columns: list[str] | None = None, *, view: View = "present"
    ) -> pl.DataFrame:
        """One table, or some of its columns, read now (see :meth:`scan` for ``view``); a
        damaged file is a StoreError."""
        frame = self._scan(table, lend=False, view=view)
        try:
            return (frame.select(columns) if columns is not None else frame).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in(table, exc) from exc

    # -- observations, presence and snapshots (the format-3 API) ---------------------------

    def observations(self) -> pl.DataFrame:
        """Every observation the store holds (one per crawl-log row), oldest first.

        Columns: ``crawl_id``, ``kind`` (crawl | ingest), ``strategy``, ``roots``,
        ``observed`` (its date), ``complete`` (it listed every public model), ``generation``
        (the commit that recorded it; 0 for rows adopted from an older format), ``snapshot``
        (whether it recorded counters), ``models_seen``, ``finished_at``. Sorted by
        (``observed``, ``generation``): the order in which records replace each other.
        """
        return (
            self.read("crawls")
            .select(
                "crawl_id",
                "kind",
                "strategy",
                "roots",
                "observed",
                "complete",
                "generation",
                pl.col("snapshot_date").is_not_null().alias("snapshot"),
                "models_seen",
                "finished_at",
            )
            .sort("observed", "generation", "finished_at", maintain_order=True)
        )

    def observed_dates(
        self, *, kind: str | None = None, complete: bool | None = None
    ) -> list[dt.date]:
        """The dates observed, oldest first (optionally only one ``kind``, or only complete
        or partial observations). ``observed_dates(kind="ingest")`` are the dates an ingest
        holds: ingesting one again changes nothing unless asked to replace it."""
        log = self.observations()
        if kind is not None:
            log = log.filter(pl.col("kind") == kind)
        if complete is not None:
            log = log.filter(pl.col("complete") == complete)
        return sorted(set(log["observed"].drop_nulls().to_list()))

    def latest_complete(self) -> dt.date | None:
        """The date of the latest complete observation (None: none yet, every model counts
        as present)."""
        cut = self._cut(self._current())
        return cut[0] if cut is not None else None

    def presence(self) -> pl.DataFrame:
        """Every model ever observed: ``id``, ``last_seen``, ``present`` and ``gone_since``.

        ``gone_since`` is the date of the first complete observation that no longer listed
        a gone model (null for present ones).
        """
        view = self._current()
        models = self.read("models", columns=["id", "last_seen", "seen_commit"], view="all")
        cut = self._cut(view)
        present = models.with_columns(_present(cut).alias("present"))["present"]
        complete = (
            self.observations()
            .filter(pl.col("complete"))
            .select(_order("observed", "generation").alias("order"), pl.col("observed"))
            .sort("order")
        )
        gone = (
            models.with_columns(present)
            .with_columns(_order("last_seen", "seen_commit").alias("order"))
            .sort("order")
            .join_asof(
                complete.rename({"observed": "gone_since"}),
                on="order",
                strategy="forward",
                allow_exact_matches=False,
            )
        )
        return (
            models.select("id")
            .join(
                gone.select("id", "last_seen", "present", "gone_since"),
                on="id",
                how="left",
                maintain_order="left",
            )
            .with_columns(
                pl.when(pl.col("present")).then(None).otherwise("gone_since").alias("gone_since")
            )
        )

    def snapshot_dates(self) -> list[dt.date]:
        """The dates the store holds counters for, oldest first (read from file names only)."""
        view = self._current()
        return sorted({d for n in view.names("snapshots") if (d := _snapshot_date(n))})

    def snapshot(self, date: dt.date, *, keyed: bool = False) -> pl.DataFrame:
        """One date's counters: ``id`` (or ``key``), ``downloads``, ``downloads_all_time``,
        ``likes``, one row per model that date's observations saw (empty if none)."""
        frame = self._scan_snapshots(self._current(), keyed=keyed, lend=False, dates={date})
        try:
            return frame.drop("date").collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in("snapshots", exc) from exc

    def scan_snapshots(
        self, *, keyed: bool = False, dates: Iterable[dt.date] | None = None
    ) -> pl.LazyFrame:
        """Every snapshot row (or those of some ``dates``), lazily: ``key`` (``keyed=True``,
        the compact form the files hold; join :meth:`keys` for ids) or ``id``, then
        ``date`` and the counters."""
        chosen = set(dates) if dates is not None else None
        return self._scan_snapshots(self._current(), keyed=keyed, lend=True, dates=chosen)

    def snapshot_totals(self) -> tuple[pl.DataFrame, list[dt.date]]:
        """Per snapshot date, from the totals its file keeps: ``date``, ``models`` (rows),
        sums of ``downloads`` and ``downloads_all_time``; and the dates whose files keep none
        that can be trusted (written before files kept them, or whose totals disagree with
        the file), which only a read of their rows can count (:meth:`scan_snapshots`)."""
        view = self._current()
        rows: list[tuple[dt.date, int, int, int]] = []
        unknown: set[dt.date] = set()
        for name in view.names("snapshots"):
            date = _snapshot_date(name)
            assert date is not None
            self._check(view, name, "snapshots")
            kept = None if _LEGACY_SNAPSHOT.match(name) else _kept_totals(view.source(name))
            if kept is None:
                unknown.add(date)
            else:
                rows.append((date, kept["rows"], kept["downloads"], kept["downloads_all_time"]))
        known = pl.DataFrame(rows, schema=SNAPSHOT_TOTALS_SCHEMA, orient="row")
        # A date with a legacy file beside its keyed one is counted whole, by its rows.
        known = known.filter(~pl.col("date").is_in(sorted(unknown)))
        return known, sorted(unknown)

    def keys(self) -> pl.DataFrame:
        """``id`` -> ``key`` of every model ever observed (the snapshot files' model key)."""
        return self.read("models", columns=["id", "key"], view="all")

    def records(self, ids: pl.DataFrame | None = None) -> pl.DataFrame:
        """Where each model's current record stands: ``id``, ``key``, ``last_seen``,
        ``seen_commit``, ``crawled``, for every model ever observed (or those in the ``id``
        column of ``ids``). What an ingest reads to parse only the rows that will change."""
        return self._records(ids)

    def _records(self, ids: pl.DataFrame | None, *, prints: bool = False) -> pl.DataFrame:
        """:meth:`records`, and with ``prints`` each record's :func:`_fingerprint` as
        ``print`` (read in the same pass, streaming: not every record's columns at once)."""
        extra = [_fingerprint().alias("print")] if prints else []
        frame = self._scan("models", lend=False, view="all")
        if ids is not None and prints:
            # A filter the scan applies to the ids before it decodes other columns: only
            # the records asked for are read whole and fingerprinted.
            frame = frame.filter(pl.col("id").is_in(ids.get_column("id").implode()))
        elif ids is not None:
            frame = frame.join(ids.select("id").lazy(), on="id", how="semi")
        frame = frame.select("id", "key", "last_seen", "seen_commit", "crawled", *extra)
        try:
            return frame.collect(engine="streaming") if prints else frame.collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in("models", exc) from exc

    # -- how tables are read -----------------------------------------------------------------

    def _scan(self, table: str, *, lend: bool, view: View = "all") -> pl.LazyFrame:
        if view not in ("present", "all"):
            raise ValueError(f"view must be 'present' or 'all', not {view!r}")
        state = self._current()
        if table == "snapshots":
            return self._scan_snapshots(state, keyed=False, lend=lend, dates=None)
        names = state.names(table)
        if not names:
            return pl.LazyFrame(schema=TABLES[table])
        for name in names:
            self._check(state, name, table)
        state.lent = state.lent or lend
        if table not in MERGED:
            return self._file_frame(state, names[0], table)
        frame = self._merged(state, table)
        if view == "present":
            frame = self._present_only(state, table, frame)
        return frame

    def _file_frame(self, view: _View, name: str, table: str) -> pl.LazyFrame:
        """One file as its table's schema: absent columns as nulls (older formats), extra
        ones dropped (newer additive formats), format-2 models and crawls completed."""
        schema = TABLES[table]
        frame = pl.scan_parquet(view.source(name), glob=False)
        present = frame.collect_schema().names()
        missing = [c for c in schema if c not in present]
        if missing:
            frame = frame.with_columns(pl.lit(None, schema[c]).alias(c) for c in missing)
        if table == "models" and "last_seen" not in present:
            # A format 1 or 2 row: dated by the crawl or ingest that wrote it (whose log row
            # started in the second it was seen), else by when it was seen.
            frame = (
                frame.with_columns((pl.col("source") == "hub-stats").alias("_ingest"))
                .join(
                    self._legacy_dates(view).lazy(),
                    on=["seen_at", "_ingest"],
                    how="left",
                    maintain_order="left",
                )
                .drop("_ingest")
            ).with_columns(
                pl.coalesce("observed", pl.col("seen_at").dt.date()).alias("last_seen"),
                pl.lit(0, pl.Int64).alias("seen_commit"),
            )
        if table == "crawls":
            frame = frame.with_columns(
                pl.coalesce("observed", "snapshot_date", pl.col("started_at").dt.date()).alias(
                    "observed"
                ),
                pl.coalesce(
                    "complete",
                    pl.col("strategy").is_in(["all", "hub-stats"]).fill_null(False),
                ).alias("complete"),
                pl.col("generation").fill_null(0),
            )
        return frame.select(list(schema)).cast(schema)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema

    def _legacy_dates(self, view: _View) -> pl.DataFrame:
        """Format 1/2: the observation date of each crawl-log row, by its start second and
        whether it was an ingest (whose rows say ``source`` hub-stats)."""
        memo = view.memo.get("legacy_dates")
        if memo is None:
            names = view.names("crawls")
            if names:
                log = self._file_frame(view, names[0], "crawls").collect()
            else:
                log = pl.DataFrame(schema=CRAWL_SCHEMA)
            memo = (
                log.select(
                    pl.col("started_at").dt.truncate("1s").alias("seen_at"),
                    (pl.col("kind") == "ingest").alias("_ingest"),
                    pl.col("observed"),
                )
                .drop_nulls("seen_at")
                .unique(["seen_at", "_ingest"], keep="last", maintain_order=True)
            )
            view.memo["legacy_dates"] = memo
        return memo  # type: ignore[return-value]

    def _merged(self, view: _View, table: str) -> pl.LazyFrame:
        """A base + delta table as current rows: the delta's models replace their base rows."""
        owner = MERGED[table]
        base_name, delta_name = f"{table}.parquet", f"{table}-delta.parquet"
        for name in {*view.names(table), *view.names("models")}:
            self._check(view, name, _table_of(name))  # footers: a damaged file is named
        frame = (
            self._file_frame(view, base_name, table)
            if base_name in view.fds
            else pl.LazyFrame(schema=TABLES[table])
        )
        if "models-delta.parquet" in view.fds:
            replaced = self._file_frame(view, "models-delta.parquet", "models").select(
                pl.col("id").alias(owner)
            )
            # Both files are sorted by their model (_ORDER) and a model's rows are all in
            # one of them: a sorted merge keeps reads in that order.
            frame = frame.join(replaced, on=owner, how="anti", maintain_order="left")
            if delta_name in view.fds:
                frame = frame.merge_sorted(self._file_frame(view, delta_name, table), key=owner)
        if table == "models" and base_name in view.fds:
            columns = pl.read_parquet_schema(view.source(base_name))
            if "key" not in columns:  # format 1/2: keys as the upgrade gives them
                frame = frame.with_columns(
                    (pl.col("id").rank("ordinal") - 1).cast(pl.Int32).alias("key")
                )
        return frame

    def _cut(self, view: _View) -> tuple[dt.date, int] | None:
        """The latest complete observation: (date, generation); None if there is none."""
        if "cut" not in view.memo:
            names = view.names("crawls")
            cut = None
            if names:
                self._check(view, names[0], "crawls")
                try:
                    log = (
                        self._file_frame(view, names[0], "crawls")
                        .filter(pl.col("complete"))
                        .select("observed", "generation")
                        .sort("observed", "generation")
                        .collect()
                    )
                except (pl.exceptions.PolarsError, OSError) as exc:
                    raise _damaged(self.path / names[0], exc) from exc
                if log.height:
                    cut = log.row(-1)
            view.memo["cut"] = cut
        return view.memo["cut"]  # type: ignore[return-value]

    def _gone(self, view: _View) -> pl.DataFrame:
        """The ids of the models that are not present (empty without a complete observation)."""
        if "gone" not in view.memo:
            cut = self._cut(view)
            gone = pl.DataFrame(schema={"id": pl.String()})
            if cut is not None:
                try:
                    gone = (
                        self._merged(view, "models").filter(~_present(cut)).select("id").collect()
                    )
                except (pl.exceptions.PolarsError, OSError) as exc:
                    raise self._damage_in("models", exc) from exc
            view.memo["gone"] = gone
        return view.memo["gone"]  # type: ignore[return-value]

    def _present_only(self, view: _View, table: str, frame: pl.LazyFrame) -> pl.LazyFrame:
        cut = self._cut(view)
        if cut is None:
            return frame
        if table == "models":
            return frame.filter(_present(cut))
        gone = self._gone(view)
        if not gone.height:
            return frame
        owner = MERGED[table]
        return frame.join(gone.lazy().rename({"id": owner}), on=owner, how="anti")

    def _scan_snapshots(
        self, view: _View, *, keyed: bool, lend: bool, dates: set[dt.date] | None
    ) -> pl.LazyFrame:
        model = "key" if keyed else "id"
        columns = [model, "date", *COUNTERS]
        schema = {model: SNAPSHOT_FILE_SCHEMA["key"] if keyed else pl.String(), "date": pl.Date()}
        schema |= {c: pl.Int64() for c in COUNTERS}
        names = [n for n in view.names("snapshots") if dates is None or _snapshot_date(n) in dates]
        if not names:
            return pl.LazyFrame(schema=schema)
        keyed_parts: list[pl.LazyFrame] = []
        by_id_parts: list[pl.LazyFrame] = []
        for name in names:
            date = _snapshot_date(name)
            legacy = _LEGACY_SNAPSHOT.match(name) is not None
            self._check(view, name, "snapshots")
            frame = pl.scan_parquet(view.source(name), glob=False)
            if legacy:
                frame = frame.select(pl.col("id").cast(pl.String), *COUNTERS)
            else:
                frame = frame.select(pl.col("key").cast(pl.Int32), *COUNTERS)
            frame = frame.with_columns(pl.lit(date, pl.Date).alias("date"), *_counters_cast())
            (by_id_parts if legacy else keyed_parts).append(frame)
        view.lent = view.lent or lend
        keys = (
            self._merged(view, "models").select("id", "key")
            if "models.parquet" in view.fds
            else None
        )
        parts: list[pl.LazyFrame] = []
        if keyed_parts:
            frame = pl.concat(keyed_parts)
            if not keyed:
                frame = (
                    frame.join(keys, on="key", how="inner", maintain_order="left")
                    if keys is not None
                    else frame.with_columns(pl.lit(None, pl.String).alias("id"))
                )
            parts.append(frame.select(columns))
        if by_id_parts:
            frame = pl.concat(by_id_parts)
            if keyed:
                frame = (
                    frame.join(keys, on="id", how="inner", maintain_order="left")
                    if keys is not None
                    else frame.with_columns(pl.lit(None, pl.Int32).alias("key"))
                )
            parts.append(frame.select(columns))
        return pl.concat(parts).cast(schema)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema

    def verify(self) -> None:
        """Check every file of the store can be read whole; raise a StoreError naming the
        first that cannot (what a crawl or ingest runs before it spends any request)."""
        view = self._current()
        for name in sorted(view.fds):
            self._check(view, name, _table_of(name))
            try:
                # Every column decoded, streamed, nothing kept: damage anywhere shows.
                pl.scan_parquet(view.source(name), glob=False).select(
                    pl.all().is_null().sum()
                ).collect(engine="streaming")
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise _damaged(self.path / name, exc) from exc

    def _current(self) -> _View:
        if self._view is None:
            self._view = self._pin()
        return self._view

    def _check(self, view: _View, name: str, table: str) -> None:
        """The file's footer and key columns, once per view: truncation and strangers."""
        if name in view.checked:
            return
        try:
            columns = pl.read_parquet_schema(view.source(name))
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise _damaged(self.path / name, exc) from exc
        keys = TABLE_KEYS.get(table, ())
        if table == "snapshots" and _LEGACY_SNAPSHOT.match(name):
            keys = LEGACY_SNAPSHOT_KEYS
        absent = [key for key in keys if key not in columns]
        if absent:
            raise StoreError(
                f"store file {self.path / name} is damaged (it is not a lineage {table} table: "
                f"no {absent[0]!r} column); {_REMEDY}",
                params=_STORE,
            )
        view.checked.add(name)

    def damage(self, table: str, exc: BaseException) -> StoreError:
        """The error naming the damaged file of ``table`` behind a failed collect of a lazy
        frame this store lent (:meth:`scan`, :meth:`scan_snapshots`): for callers that
        collect themselves, so damage reads as damage (raise it ``from exc``)."""
        return self._damage_in(table, exc)

    def _damage_in(self, table: str, exc: BaseException) -> StoreError:
        """Name the file of a table whose read failed (each file on its own)."""
        view = self._current()
        names = view.names(table)
        if table in ("edges", "problems", "snapshots"):
            names += view.names("models")  # their reads join the models' files
        for name in names:
            try:
                pl.scan_parquet(view.source(name), glob=False).collect()
            except (pl.exceptions.PolarsError, OSError) as inner:
                return _damaged(self.path / name, inner)
        return _damaged(self.file(table), exc)

    # -- pinning a view --------------------------------------------------------------------

    def _pin(self) -> _View:
        """Open every file of the current generation; see the module docstring."""
        for _attempt in range(_PIN_ATTEMPTS):
            before = self._read_manifest()
            names = self._names(before)
            standing_in = (
                {final: tmp for tmp, final in before.renames}
                if before is not None and before.state == "committing"
                else {}
            )
            _make_room_for(len(names))
            fds: dict[str, int] = {}
            problem: str | None = None
            for name in names:
                fd = _open(self.path / standing_in[name]) if name in standing_in else None
                if fd is None:
                    fd = _open(self.path / name)
                    if (
                        fd is not None
                        and before is not None  # (it is, when anything stands in)
                        and name in standing_in
                        and before.token is not None
                    ):
                        fds[name] = fd  # closed with the others if it is not the new file
                        if _token_of(f"{_FD_DIR}/{fd}") != before.token:
                            problem = (
                                f"the commit to {self.path} cut short {_when(before)}cannot be "
                                f"finished: its file {self.path / standing_in[name]} is gone and "
                                f"{name} is not the one it wrote; {_REMEDY}"
                            )
                            break
                if fd is None:
                    committed = "the store's last commit" if before else "every store with tables"
                    problem = (
                        f"store file {self.path / name} is missing ({committed} "
                        f"{_when(before)}has it); {_REMEDY}"
                    )
                    break
                fds[name] = fd
            after = self._read_manifest()
            if _generation(after) == _generation(before) and problem is None:
                return _View(
                    _generation(before),
                    before is not None and before.state == "committing",
                    fds,
                    before.token if before is not None else None,
                )
            _View(0, False, fds).close()
            if problem is not None and _generation(after) == _generation(before):
                raise StoreError(problem, params=_STORE)
        raise StoreError(
            f"store {self.path} kept changing while being opened ({_PIN_ATTEMPTS} commits in a "
            "row); try again",
            params=_STORE,
        )

    def _names(self, manifest: _Manifest | None) -> list[str]:
        """The files of the store's current state: the manifest's list, else the directory's."""
        if manifest is not None and manifest.files is not None:
            return list(manifest.files)
        names = {f"{t}.parquet" for t in TABLES if t != "snapshots"}
        names = {n for n in names if (self.path / n).exists()}
        snapshots = self.path / "snapshots"
        if snapshots.is_dir():
            names |= {f"snapshots/{p.name}" for p in snapshots.glob("*.parquet")}
        if manifest is not None:
            names |= {final for _, final in manifest.renames}
        # Every commit writes these three; before markers, a store with one had all three.
        if names:
            names |= set(_BASES)
        return sorted(names)

    def _read_manifest(self) -> _Manifest | None:
        file = self.path / _MANIFEST
        try:
            raw = json.loads(read_regular(file))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            why = f" ({exc.strerror})" if isinstance(exc, OSError) and exc.strerror else ""
            raise StoreError(
                f"store file {file} is damaged{why}; restore it, or delete it if no crawl or "
                "ingest was cut short while committing",
                params=_STORE,
            ) from exc
        if isinstance(raw, list):  # lineage before format markers: a bare rename list
            renames = tuple((str(tmp), str(final)) for tmp, final in raw)
            return _Manifest(0, "committing", None, renames, None)
        try:
            return _Manifest(
                generation=int(raw["generation"]),
                state=str(raw["state"]),
                # Every manifest in this form (formats 2 and 3) names its token and time;
                # format 2's has no `removed`.
                token=str(raw["token"]),
                renames=tuple((str(tmp), str(final)) for tmp, final in raw["renames"]),
                files=tuple(str(f) for f in raw["files"]),
                at=str(raw["at"]),
                removed=tuple(str(f) for f in raw.get("removed", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(
                f"store file {file} is damaged; restore it, or delete it if no crawl or "
                "ingest was cut short while committing",
                params=_STORE,
            ) from exc

    # -- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's writer lock; fails at once if another process holds it.

        Taking it refuses a store written by a newer format, finishes a commit cut short
        after its commit point, deletes temporary files left by dead writers and rewrites
        a store of an older format (or written before markers) in this one. Re-entrant.
        """
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        self._check_writable()
        handle = open(self.path / _LOCK, "a+")  # noqa: SIM115 - held for the block
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreError(
                    f"store {self.path} is in use by another lineage process; wait for it to "
                    "finish",
                    params=_STORE,
                ) from exc
            self._lock_depth = 1
            self._refuse_newer()
            self._recover()
            self.refresh()
            self._upgrade()
            yield
        finally:
            self._lock_depth = 0
            handle.close()

    def _check_writable(self) -> None:
        if not os.access(self.path, os.W_OK):
            raise StoreError(
                f"store directory {self.path} is not writable; pass {{store}} DIR", params=_STORE
            )

    def _refuse_newer(self) -> None:
        """Under the lock: a store written by a newer format is read, never written."""
        marker = self._read_marker()
        if marker is not None and int(marker["version"]) > FORMAT_VERSION:
            raise StoreError(
                f"store {self.path} has format version {marker['version']}, written by a newer "
                f"lineage; this lineage (format {FORMAT_VERSION}) can read it but not write "
                "it; upgrade lineage",
                params=_STORE,
            )

    def _upgrade(self) -> None:
        """Under the lock: rewrite a format 1 or 2 store in this format, in one commit.

        Models gain ``last_seen`` (from the crawl or ingest that wrote each), ``seen_commit``
        0 and a ``key`` (in id order); the crawl log its observations; each
        ``snapshots/DATE.parquet`` becomes ``snapshots/date=DATE/part-0.parquet`` by key. The
        marker is renamed in with the tables, so a kill leaves the old store or the new one.
        """
        marker = self._read_marker()
        if marker is not None and int(marker["version"]) >= FORMAT_VERSION:
            self._marker = marker
            return
        view = self._current()
        legacy = [n for n in view.names("snapshots") if _LEGACY_SNAPSHOT.match(n)]
        files: list[tuple[str, pl.DataFrame | pl.LazyFrame, str]] = []
        if view.names("models"):
            files.append(("models.parquet", self._scan("models", lend=False), "models"))
        if view.names("crawls"):
            files.append(("crawls.parquet", self._scan("crawls", lend=False), "crawls"))
        for name in legacy:
            date = _snapshot_date(name)
            assert date is not None
            frame = self._scan_snapshots(view, keyed=True, lend=False, dates={date})
            files.append((snapshot_name(date), frame.drop("date").sort("key"), "snapshots"))
        self._write(files, removed=legacy, marker=self._marker_text(marker))
        self._marker = self._read_marker() or {}

    def _recover(self) -> None:
        """Under the lock: finish a commit cut short after its commit point; sweep."""
        manifest = self._read_manifest()
        if manifest is not None and manifest.state == "committing":
            # Check every file before renaming any: a commit that cannot be finished
            # whole is not finished in part.
            for tmp, final in manifest.renames:
                if final == MARKER:
                    continue  # the marker carries no token; a finished rename is as good
                if not (self.path / tmp).exists() and not self._written_by(final, manifest.token):
                    raise StoreError(
                        f"the commit to {self.path} cut short {_when(manifest)}cannot be "
                        f"finished: its file {self.path / tmp} is gone and {final} is not the "
                        f"one it wrote; {_REMEDY}",
                        params=_STORE,
                    )
            for tmp, final in manifest.renames:
                if (self.path / tmp).exists():
                    os.replace(self.path / tmp, self.path / final)
            self._fsync_dirs(final for _, final in manifest.renames)
            files = manifest.files if manifest.files is not None else self._names(manifest)
            manifest = replace(manifest, state="done", files=tuple(files))
            self._write_manifest(manifest)
        if manifest is not None:
            self._remove(manifest)
        leftovers = [
            *self.path.glob("*.tmp"),
            *self.path.glob("snapshots/*.tmp"),
            *self.path.glob("snapshots/*/*.tmp"),
        ]
        for leftover in leftovers:
            with contextlib.suppress(OSError):
                leftover.unlink()
        for folder in self.path.glob("snapshots/date=*"):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: a commit killed before its commit point
        self._sweep_derived()

    def _sweep_derived(self) -> None:
        """Under the lock: delete derived state of every generation but the latest."""
        folder = self.path / DERIVED
        if not folder.is_dir():
            return
        manifest = self._read_manifest()
        keep = f"{manifest.generation}-{manifest.token}" if manifest is not None else None
        for entry in folder.iterdir():
            if entry.name != keep:
                shutil.rmtree(entry, ignore_errors=True)

    def _remove(self, manifest: _Manifest) -> None:
        """Delete the files a finished commit dropped from the store (readers holding them
        open keep reading them)."""
        kept = set(manifest.files or ())
        for name in manifest.removed:
            if name in kept:
                continue
            path = self.path / name
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            checkpoint(f"commit:removed:{name}")

    def _written_by(self, name: str, token: str | None) -> bool:
        path = self.path / name
        if token is None:  # an older manifest names no token: its target existing must do
            return path.exists()
        return _token_of(path) == token

    def _write_manifest(self, manifest: _Manifest) -> None:
        _replace_text(self.path / _MANIFEST, manifest.to_json())

    def _marker_text(self, earlier: dict[str, Any] | None) -> str:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        marker = {
            "format": "lineage store",
            "version": max(FORMAT_VERSION, int((earlier or {}).get("version", 0))),
            "oldest_reader": max(OLDEST_READER, int((earlier or {}).get("oldest_reader", 0))),
            "created_at": (earlier or {}).get("created_at", now),
            "written_by": f"lineage {__version__}",
        }
        return json.dumps(marker, indent=1) + "\n"

    def _fsync_dirs(self, names: Iterable[str]) -> None:
        folders = {(self.path / name).parent for name in names} | {self.path}
        if any(f != self.path for f in folders):
            folders.add(self.path / "snapshots")
        for folder in sorted(folders, key=lambda f: -len(f.parts)):
            _fsync_dir(folder)

    def write_tables(
        self, frames: Iterable[tuple[str, pl.DataFrame]] | dict[str, pl.DataFrame]
    ) -> None:
        """Replace several whole tables at once, atomically (all or none).

        ``frames`` yields (table, frame) pairs; each is written to a temporary file as soon
        as it comes, so a generator keeps only one new table in memory at a time. Only for
        tables kept whole (``lookups``, ``crawls``, ``inferred_edges``): models, edges,
        problems and snapshots change through :meth:`commit`. Takes the writer lock if the
        caller does not hold it.
        """
        items = frames.items() if isinstance(frames, dict) else frames

        def files() -> Iterator[tuple[str, pl.DataFrame, str]]:
            for table, frame in items:
                if table in MERGED or table == "snapshots":
                    raise ValueError(f"{table} changes through Store.commit, not write_tables")
                yield f"{table}.parquet", frame, table

        with self.lock():
            self._write(files())

    def _write(
        self,
        files: Iterable[tuple[str, pl.DataFrame | pl.LazyFrame, str]],
        *,
        removed: Iterable[str] = (),
        marker: str | None = None,
    ) -> None:
        """The commit protocol (module docstring): write each (file, frame, table) to a
        temporary file, then the manifest, then rename; then delete ``removed`` files. A
        lazy frame is streamed to its file. ``marker``: a new marker, renamed in too."""
        with self.lock():
            view = self._current()
            previous = self._read_manifest()
            token = uuid.uuid4().hex[:12]
            renames: list[tuple[str, str]] = []
            try:
                for name, frame, table in files:
                    final = self.path / name
                    final.parent.mkdir(parents=True, exist_ok=True)
                    tmp = final.with_name(f"{final.name}.{token}.tmp")
                    renames.append((str(tmp.relative_to(self.path)), name))
                    try:
                        _write_parquet(
                            frame,
                            tmp,
                            _FILE_SCHEMAS.get(table, TABLES[table]),
                            token,
                            totals=table == "snapshots",
                        )
                    except pl.exceptions.PolarsError as exc:  # a stored file it reads from
                        raise self._damage_in(table, exc) from exc
                    del frame
                    _fsync(tmp)
                    checkpoint(f"commit:wrote:{name}")
                if marker is not None:
                    tmp = self.path / f"{MARKER}.{token}.tmp"
                    tmp.write_text(marker)
                    _fsync(tmp)
                    renames.append((tmp.name, MARKER))
                    checkpoint(f"commit:wrote:{MARKER}")
            except BaseException:
                # Before the commit point nothing is committed: drop what this one wrote.
                for tmp_name, _ in renames:
                    with contextlib.suppress(OSError):
                        (self.path / tmp_name).unlink()
                raise
            dropped = tuple(sorted(set(removed)))
            finals = {final for _, final in renames if final != MARKER}
            manifest = _Manifest(
                generation=_generation(previous) + 1,
                state="committing",
                token=token,
                renames=tuple(renames),
                files=tuple(sorted((set(view.fds) - set(dropped)) | finals)),
                at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                removed=dropped,
            )
            self._write_manifest(manifest)  # the commit point
            checkpoint("commit:manifest")
            for tmp_name, renamed in renames:
                os.replace(self.path / tmp_name, self.path / renamed)
                checkpoint(f"commit:renamed:{renamed}")
            self._fsync_dirs(renamed for _, renamed in renames)
            manifest = replace(manifest, state="done")
            self._write_manifest(manifest)
            checkpoint("commit:done")
            self._remove(manifest)
            self._sweep_derived()
            self.refresh()

    # -- committing an observation ---------------------------------------------------------

    def count_changes(self, batch: Batch, *, observed: dt.date | None = None) -> CommitResult:
        """What :meth:`commit` of ``batch`` observed on ``observed`` would change: models
        seen, new, updated, and older than the store's records."""
        new = _one_per_model(batch.models)
        judged = self._judge(new, observed or _today(), self._next_generation())
        return _result(judged)

    def commit(
        self,
        batch: Batch,
        *,
        observed: dt.date | None = None,
        complete: bool = False,
        snapshot: bool | None = None,
        counters: pl.DataFrame | None = None,
        lookups: pl.DataFrame | None = None,
        crawl: CrawlRecord | None = None,
        snapshot_date: dt.date | None = None,
    ) -> CommitResult:
        """Commit one observation: the models a crawl or ingest saw on ``observed``.

        A model's record (row, edges, problems) replaces the store's only if the store's is
        not newer: (``last_seen``, ``seen_commit``) of the store's row is at most
        (``observed``, this commit). So observations may arrive in any order and one
        committed twice changes nothing. ``crawled`` stays true once true, whatever the
        order. Rows of ``batch.models`` that carry ``last_seen`` and ``seen_commit`` (a
        record re-committed as it was, with new problems) keep theirs.

        Parameters
        ----------
        observed : the observation's date (a crawl's start day, a dump's date); default
            ``snapshot_date``, else today (UTC).
        complete : the observation lists every public model (a finished whole-Hub sweep, a
            dump): models it lacks are gone from then on (see :meth:`presence`).
        snapshot : record the counters under ``observed`` (default: when a date was given).
        counters : ``id`` and the counters of every model observed, when ``batch`` holds
            only the records that may change (an older dump: see :meth:`records`); ids the
            store does not know and ``batch`` does not hold are left out. A ``key`` column,
            if present, holds the stored keys read under the same lock (null: not stored),
            and spares the commit reading them again.
        lookups : parent lookups made; they replace the store's answers to the same queries.
        crawl : the crawl-log row of the run (its commit adds its counts and observation).
        snapshot_date : the older name of ``observed`` (with ``snapshot`` true).

        A table that cannot be read stops the commit before its commit point: nothing changes.
        """
        dated = observed if observed is not None else snapshot_date
        if snapshot is None:
            snapshot = dated is not None or counters is not None
        with self.lock():
            return self._commit(
                batch,
                observed=dated or _today(),
                complete=complete,
                snapshot=snapshot,
                counters=counters,
                lookups=lookups,
                crawl=crawl,
            )

    def _next_generation(self) -> int:
        return _generation(self._read_manifest()) + 1

    def _judge(self, new: pl.DataFrame, observed: dt.date, generation: int) -> pl.DataFrame:
        """Per model of ``new`` (row for row): its stored record and whether ``new``'s wins.

        Columns: ``id``, ``win``, ``stored`` (the store has a record), ``changed`` (its
        record differs from the stored one, counters aside), ``key`` (stored or
        null), ``last_seen``, ``seen_commit`` (the incoming record's), ``crawled`` (ored).
        """
        carried = "last_seen" in new.columns and "seen_commit" in new.columns
        names = {
            "key": "stored_key",
            "last_seen": "stored_date",
            "seen_commit": "stored_commit",
            "crawled": "stored_crawled",
            "print": "stored_print",
        }
        view = self._current()
        aligned = False
        same: pl.Series | None = None  # aligned: whether each record is the stored one
        if view.names("models"):
            # Whether a stored record is re-read as it was: its fingerprint, read with it.
            ids = new.get_column("id")
            stored_rows = _rows(view, "models.parquet") + _rows(view, "models-delta.parquet")
            if new.height == stored_rows and ids.is_sorted():
                # The models the store holds, maybe in its order (a dump after a dump, no
                # model new or gone): if they are these models row for row, they are
                # matched without a join and compared column by column instead of
                # fingerprinted (hashing both sides' tags costs twice what comparing does).
                stored = self._records(None)
                aligned = stored.get_column("id").equals(ids)
                if aligned:
                    same = self._same_records(view, new)
                else:
                    stored = stored.with_columns(self._prints(view))
            elif new.height >= stored_rows and ids.is_sorted():
                # As many models as the store holds or more: every stored record is read,
                # unfiltered by millions of ids.
                stored = self._records(None, prints=True)
            else:
                stored = self._records(new.select("id"), prints=True)
            stored = stored.rename(names, strict=False)
        else:  # nothing stored (a first crawl or ingest): nothing to read or compare
            schema = {
                "id": pl.String(),
                **{c: STORED_MODEL_SCHEMA[c] for c in names if c != "print"},
            }
            stored = pl.DataFrame(schema={**schema, "print": pl.UInt64()}).rename(names)
        incoming = new.select(
            "id",
            "crawled",
            (pl.col("last_seen").fill_null(observed) if carried else pl.lit(observed))
            .cast(pl.Date)
            .alias("last_seen"),
            (pl.col("seen_commit").fill_null(generation) if carried else pl.lit(generation))
            .cast(pl.Int64)
            .alias("seen_commit"),
        )
        # A record no stored one matches is changed whatever its fingerprint: hash only
        # when some may match (hashing 2.5M records' columns costs seconds).
        incoming = incoming.with_columns(
            new.select(_fingerprint().alias("print"))
            if stored.height and same is None
            else pl.lit(None, pl.UInt64()).alias("print")
        )
        if aligned:
            matched = pl.concat([incoming, stored.drop("id")], how="horizontal")
        else:
            matched = incoming.join(stored, on="id", how="left", maintain_order="left")
        return matched.select(
            "id",
            (
                pl.col("stored_date").is_null()
                | (pl.col("last_seen") > pl.col("stored_date"))
                | (
                    (pl.col("last_seen") == pl.col("stored_date"))
                    & (pl.col("seen_commit") >= pl.col("stored_commit"))
                )
            ).alias("win"),
            pl.col("stored_date").is_not_null().alias("stored"),
            pl.col("stored_key").alias("key"),
            "last_seen",
            "seen_commit",
            (pl.col("crawled") | pl.col("stored_crawled").fill_null(False)).alias("crawled"),
            (pl.col("crawled") & ~pl.col("stored_crawled").fill_null(True)).alias("now_crawled"),
            (
                ~pl.lit(same)
                if same is not None
                else pl.col("stored_print").is_null()
                | pl.col("print").ne_missing(pl.col("stored_print"))
            ).alias("changed"),
        )

    def _same_records(self, view: _View, new: pl.DataFrame) -> pl.Series:
        """Row for row, whether ``new``'s record (:data:`_RECORD`) is the stored model's of
        the same row, ``new`` holding the stored models in their order (their ids are
        equal, so not read again). The stored records are read a slice at a time (not every
        record's columns at once) and compared column by column, exactly; list columns flat
        (:func:`_same_lists`)."""
        compared = [c for c in _RECORD if c != "id"]  # the ids are the same: aligned
        frame = self._merged(view, "models").select(compared)
        lists = [c for c in compared if isinstance(STORED_MODEL_SCHEMA[c], pl.List)]
        parts: list[pl.Series] = []
        offset = 0
        try:
            for stored in frame.collect_batches(chunk_size=_COMPARED_ROWS, maintain_order=True):
                mine = new.slice(offset, stored.height)
                offset += stored.height
                same = mine.select(
                    pl.all_horizontal(
                        pl.col(c).cast(STORED_MODEL_SCHEMA[c]).eq_missing(pl.lit(stored[c]))
                        for c in compared
                        if c not in lists
                    ).alias("same")
                ).to_series()
                for c in lists:
                    same &= _same_lists(mine[c].cast(STORED_MODEL_SCHEMA[c]), stored[c])
                parts.append(same)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in("models", exc) from exc
        return pl.concat(parts) if parts else pl.Series("same", [], pl.Boolean)

    def _prints(self, view: _View) -> pl.Series:
        """Every stored record's :func:`_fingerprint`, in the stored order, as ``print``."""
        try:
            return (
                self._merged(view, "models")
                .select(_fingerprint().alias("print"))
                .collect(engine="streaming")
                .to_series()
            )
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in("models", exc) from exc

    def _commit(
        self,
        batch: Batch,
        *,
        observed: dt.date,
        complete: bool,
        snapshot: bool,
        counters: pl.DataFrame | None,
        lookups: pl.DataFrame | None,
        crawl: CrawlRecord | None,
    ) -> CommitResult:
        view = self._current()
        generation = self._next_generation()
        # In id order from here on, the order the models files keep: the models sort below,
        # the new keys' and the snapshot's (keys go to new models in id order) find their
        # rows in order already, and skip their sorts.
        new = _one_per_model_in_order(batch.models)
        judged = self._judge(new, observed, generation)
        result = _result(judged)
        everyone_wins = bool(judged["win"].all())

        # New models get the next keys, in id order (one commit, one deterministic order).
        judged = judged.with_columns(_fresh_keys(judged, self._max_key(view) + 1))
        winners = new.drop(
            [c for c in ("crawled", "last_seen", "seen_commit", "key") if c in new.columns]
        ).with_columns(judged.select("crawled", "last_seen", "seen_commit", "key"))
        if not everyone_wins:
            winners = winners.filter(judged["win"])
        winners = winners.select(list(STORED_MODEL_SCHEMA))
        edges = batch.edges
        problems = batch.problems.unique(maintain_order=True)
        if not everyone_wins:
            ids = winners.select(pl.col("id"))
            edges = edges.join(ids, left_on="child", right_on="id", how="semi")
            problems = problems.join(ids, left_on="model", right_on="id", how="semi")
        # An older observation that crawled a model the store knows only as a parent:
        # the stored record stays, marked crawled (so the order of arrival never matters).
        raised = judged.filter(~pl.col("win") & pl.col("now_crawled")).select("id")
        if raised.height:
            winners = pl.concat(
                [
                    winners,
                    self._current_rows("models", raised).with_columns(
                        pl.lit(True).alias("crawled")
                    ),
                ]
            )
            edges = pl.concat([edges, self._current_rows("edges", raised)])
            problems = pl.concat([problems, self._current_rows("problems", raised)])
        replaced = winners.select("id")

        files: list[tuple[str, pl.DataFrame | pl.LazyFrame, str]] = []
        removed: list[str] = []
        if snapshot:  # first: its joins' memory is free again before the tables are sorted
            files.append(self._snapshot_file(view, observed, new, judged, counters))
        if replaced.height:
            base_rows = _rows(view, "models.parquet")
            in_delta = (
                self._file_frame(view, "models-delta.parquet", "models").select("id").collect()
                if "models-delta.parquet" in view.fds
                else pl.DataFrame(schema={"id": pl.String()})
            )
            delta_after = in_delta.join(replaced, on="id", how="anti").height + replaced.height
            compact = 2 * replaced.height >= base_rows or delta_after > max(
                COMPACT_MIN_ROWS, COMPACT_FRACTION * base_rows
            )
            # Every stored model replaced (a dump after a dump): no stored model row stays,
            # so none is read. Counted, not assumed: the stored ids this commit replaces
            # against the rows of the models files (a model's row is in one of them).
            stored_rows = base_rows + _rows(view, "models-delta.parquet")
            replaced_stored = int((judged["win"] & judged["stored"]).sum()) + raised.height
            every_model = stored_rows > 0 and replaced_stored == stored_rows
            # Few stored models stay (counted, as above): their rows are spliced in.
            few_kept = _few(stored_rows - replaced_stored, winners.height)
            fresh_rows = {"models": winners, "edges": edges, "problems": problems}
            for table, owner in MERGED.items():
                gone = replaced.rename({"id": owner}).lazy()
                fresh = _in_order(fresh_rows.pop(table), _ORDER[table])
                if compact:
                    # Streamed: the store's rows that stay merged with this commit's, in order.
                    frame: pl.DataFrame | pl.LazyFrame = fresh
                    stored = bool(view.names(table)) or "models-delta.parquet" in view.fds
                    if stored and table != "models" and every_model:
                        stored = self._keeps_rows(view, table, replaced)
                    if stored and not (table == "models" and every_model):
                        frame = self._with_kept(view, table, gone, fresh, few_kept)
                    files.append((f"{table}.parquet", frame, table))
                    removed += [n for n in (f"{table}-delta.parquet",) if n in view.fds]
                else:
                    name = f"{table}-delta.parquet"
                    frame = fresh
                    if name in view.fds:
                        earlier = self._file_frame(view, name, table).join(
                            gone, on=owner, how="anti", maintain_order="left"
                        )
                        frame = earlier.collect().merge_sorted(fresh, key=owner)
                    files.append((name, frame, table))
                del fresh, frame
        if lookups is not None and lookups.height:
            fresh_lookups = lookups.unique("query", keep="last")
            stored_lookups = self._scan("lookups", lend=False).collect()
            files.append(
                (
                    "lookups.parquet",
                    pl.concat(
                        [
                            stored_lookups.join(
                                fresh_lookups.select("query"), on="query", how="anti"
                            ),
                            fresh_lookups,
                        ]
                    ).sort("query"),
                    "lookups",
                )
            )
        if crawl is not None:
            row = {
                **crawl,
                "snapshot_date": observed if snapshot else None,
                "models_seen": result.models_seen,
                "models_new": result.models_new,
                "models_updated": result.models_updated,
                "edges": batch.edges.height,
                "problems": batch.problems.height,
                "observed": observed,
                "complete": complete,
                "generation": generation,
            }
            log = self._scan("crawls", lend=False).collect()
            files.append(
                (
                    "crawls.parquet",
                    pl.concat(
                        [
                            log.filter(pl.col("crawl_id").ne_missing(row["crawl_id"])),
                            pl.DataFrame([row], schema=CRAWL_SCHEMA),
                        ]
                    ),
                    "crawls",
                )
            )
        self._write(files, removed=removed)
        return result

    def _with_kept(
        self, view: _View, table: str, gone: pl.LazyFrame, fresh: pl.DataFrame, few: bool
    ) -> pl.DataFrame | pl.LazyFrame:
        """A compaction's table: the stored rows whose model this commit does not replace
        (kept), merged into this commit's rows (``fresh``), in order.

        When ``few`` models are kept (a dump after a dump: the 500 models of 2.5M it no
        longer lists), the kept rows' models are found from the owner column alone, only
        their rows are read, and each run of them is spliced into ``fresh`` where it
        belongs: no sorted merge of every row, no read of every stored row's columns to
        keep a few. Otherwise (or if the table holds many rows of models the models table
        lacks) the kept rows are streamed and merged as they are read.
        """
        owner = MERGED[table]
        kept = self._merged(view, table).join(gone, on=owner, how="anti", maintain_order="left")
        if not few:
            return kept.merge_sorted(fresh.lazy(), key=owner)
        try:
            owners = kept.select(owner).collect().get_column(owner)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in(table, exc) from exc
        if not _few(owners.len(), fresh.height) or owners.has_nulls():
            return kept.merge_sorted(fresh.lazy(), key=owner)
        wanted = owners.unique().implode()
        try:
            rows = self._merged(view, table).filter(pl.col(owner).is_in(wanted)).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in(table, exc) from exc
        return _spliced(fresh, rows, owner)

    def _keeps_rows(self, view: _View, table: str, replaced: pl.DataFrame) -> bool:
        """Whether some stored row of a base + delta table has an owner this commit does
        not replace. Every stored model replaced (a dump after a dump), none has, unless
        the table holds rows of models the models table lacks: checked on the owner column
        alone, by binary search in the sorted replaced ids, instead of reading, joining
        and merging every stored row only to drop them all."""
        ids = replaced.get_column("id")
        if not ids.is_sorted() or ids.null_count():
            return True  # (not found this way: merged as ever)
        owner = MERGED[table]
        try:
            owners = self._merged(view, table).select(owner).collect().get_column(owner)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in(table, exc) from exc
        if not owners.len():
            return False
        if not ids.len() or owners.null_count():
            return True
        at = ids.search_sorted(owners).clip(upper_bound=ids.len() - 1)
        return not bool(ids.gather(at).eq(owners).all())

    def _current_rows(self, table: str, ids: pl.DataFrame) -> pl.DataFrame:
        """The stored rows of some models (every model ever observed)."""
        owner = MERGED[table]
        return (
            self._merged(self._current(), table)
            .join(ids.rename({"id": owner}).lazy(), on=owner, how="semi")
            .collect()
        )

    def _max_key(self, view: _View) -> int:
        if "models.parquet" not in view.fds:
            return -1
        found = self._merged(view, "models").select(pl.col("key").max()).collect().item()
        return -1 if found is None else int(found)

    def _snapshot_file(
        self,
        view: _View,
        date: dt.date,
        new: pl.DataFrame,
        judged: pl.DataFrame,
        counters: pl.DataFrame | None,
    ) -> tuple[str, pl.DataFrame, str]:
        """The date's snapshot after this commit: its earlier rows, this commit's over them."""
        keys = judged.select("id", "key")
        if counters is None:
            # judged is ``new`` row for row, every key set: no join by id needed.
            rows = _in_order(new.select(judged["key"], *_counters_cast()), ("key",))
        else:
            if "key" in counters.columns:  # read from the store under this lock: no reread
                # Of the ids the store lacked, those this commit holds have keys now; the
                # others are left out. Joined on the few ids without a key, not on them all.
                fresh = counters.filter(pl.col("key").is_null()).drop("key")
                rows = pl.concat(
                    [
                        counters.filter(pl.col("key").is_not_null()).cast({"key": pl.Int32}),
                        fresh.join(
                            keys.drop_nulls("key").cast({"key": pl.Int32}),
                            on="id",
                            how="inner",
                            maintain_order="left",
                        ).select(counters.columns),
                    ]
                )
            else:
                rows = counters.select("id", *COUNTERS)
                unjudged = rows.select("id").join(keys, on="id", how="anti")
                known = self.records(unjudged).select("id", pl.col("key").cast(pl.Int32))
                keys = pl.concat([keys.cast({"key": pl.Int32}), known])
                rows = rows.join(keys, on="id", how="inner", maintain_order="left")
            # One row per model, its last in ``counters`` (a dump listing a model twice).
            rows = rows.select(pl.col("key").cast(pl.Int32), *_counters_cast()).sort(
                "key", maintain_order=True
            )
            if rows["key"].is_duplicated().any():
                rows = rows.unique("key", keep="last", maintain_order=True)
        name = snapshot_name(date)
        if name in view.fds:
            self._check(view, name, "snapshots")
            earlier = (
                pl.scan_parquet(view.source(name), glob=False)
                .select(pl.col("key").cast(pl.Int32), *_counters_cast())
                .join(rows.lazy().select("key"), on="key", how="anti")
                .collect()
            )
            rows = earlier.merge_sorted(rows, key="key") if earlier.height else rows
        return name, rows, "snapshots"


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _one_per_model(models: pl.DataFrame) -> pl.DataFrame:
    """A batch's models, the last row of a model listed twice (a copy only if needed)."""
    if models["id"].n_unique() < models.height:
        return models.unique("id", keep="last", maintain_order=True)
    return models


def _one_per_model_in_order(models: pl.DataFrame) -> pl.DataFrame:
    """:func:`_one_per_model` in id order: sorted first (stably, so a model's rows keep
    their order), a model listed twice then has its rows side by side, and the last one
    is found by comparing neighbours instead of hashing every id."""
    if models.height < 2:
        return models
    if not models.get_column("id").is_sorted():
        models = models.sort("id", maintain_order=True)
    ids = models.get_column("id")
    repeated = ids.head(-1).eq_missing(ids.tail(-1))  # row i and row i + 1: one model
    if not repeated.any():
        return models
    return models.filter(~pl.concat([repeated, pl.Series([False])]))


def _spliced(fresh: pl.DataFrame, kept: pl.DataFrame, key: str) -> pl.DataFrame:
    """``kept.merge_sorted(fresh, key=key)`` for a few ``kept`` rows: each run of them that
    goes between the same two rows of ``fresh`` inserted there, every other row a slice of
    ``fresh`` (no copy). Both are sorted by ``key``, no value of which is in both.

    >>> fresh = pl.DataFrame({"id": ["b", "d", "f"], "n": [1, 2, 3]})
    >>> kept = pl.DataFrame({"id": ["a", "e", "e", "g"], "n": [0, 8, 9, 7]})
    >>> _spliced(fresh, kept, "id").rows()
    [('a', 0), ('b', 1), ('d', 2), ('e', 8), ('e', 9), ('f', 3), ('g', 7)]
    """
    if not kept.height:
        return fresh
    at = fresh.get_column(key).search_sorted(kept.get_column(key)).to_list()
    pieces, start, row = [], 0, 0
    for position, run in itertools.groupby(at):
        length = len(list(run))
        pieces += [fresh.slice(start, position - start), kept.slice(row, length)]
        start, row = position, row + length
    pieces.append(fresh.slice(start))
    return pl.concat([p for p in pieces if p.height] or [fresh], rechunk=False)


def _in_order(frame: pl.DataFrame, order: tuple[str, ...] = ("id",)) -> pl.DataFrame:
    """``frame`` sorted by ``order``; as it is if its first column is in order already
    (checked, not assumed: a scan costs a fraction of a sort that gathers every column).
    The first column's values are unique where a table's order has one column."""
    first = frame.get_column(order[0])
    if len(order) == 1 and first.is_sorted():
        return frame
    if len(order) == 2 and frame.height > 1:
        # A model's rows (its edges) usually come in their second column's order already:
        # a stable sort by the first column alone, if it leaves the second strictly
        # increasing within each model, is the whole sort at half its cost.
        by_first = frame.sort(order[0], maintain_order=True)
        owner, then = by_first.get_column(order[0]), by_first.get_column(order[1])
        if not then.has_nulls() and bool(
            (owner.head(-1).ne(owner.tail(-1)) | then.head(-1).lt(then.tail(-1))).all()
        ):
            return by_first
    return frame.sort(*order)


def _fresh_keys(judged: pl.DataFrame, next_key: int) -> pl.Series:
    """``judged``'s keys (row for row), the models without one numbered from ``next_key``
    in id order: the ids alone are sorted, no join back by id (2.5M ids on an ingest)."""
    key = judged["key"].cast(pl.Int32)
    missing = key.is_null()
    if not missing.any():
        return key
    where = missing.arg_true()
    ids = judged["id"].gather(where)
    if judged["id"].flags["SORTED_ASC"]:  # rows kept in their order: sorted as they were
        ids = ids.set_sorted()
    # The rows without a key, in id order (ids are unique here: one row per model).
    rows = _in_order(pl.DataFrame({"id": ids, "row": where}))["row"]
    fresh = pl.int_range(next_key, next_key + rows.len(), dtype=pl.Int32, eager=True)
    return key.fill_null(0).scatter(rows, fresh).alias("key")


def _same_lists(a: pl.Series, b: pl.Series) -> pl.Series:
    """Row for row, whether two list columns hold the same list (a null list equal to a
    null one only): their lengths compared, then their elements, flat, in one pass (twice
    as fast as comparing list by list); a differing element's row found by its offset."""
    lengths = a.list.len()
    same = lengths.eq_missing(b.list.len())
    rows = None
    if not same.all():  # the lists of equal length, aligned element for element
        rows = same.arg_true()
        a, b, lengths = a.gather(rows), b.gather(rows), lengths.gather(rows)
    flat = a.explode(empty_as_null=False, keep_nulls=False).ne_missing(
        b.explode(empty_as_null=False, keep_nulls=False)
    )
    if not flat.any():
        return same
    # The row of a flat position: the first whose lists end after it.
    ends = lengths.fill_null(0).cast(pl.Int64).cum_sum()
    differing = ends.search_sorted(flat.arg_true().cast(pl.Int64), side="right")
    if rows is not None:
        differing = rows.gather(differing)
    return same.scatter(differing, False)


def _result(judged: pl.DataFrame) -> CommitResult:
    counts = judged.select(
        pl.len().alias("seen"),
        (~pl.col("stored")).sum().alias("new"),
        # Updated: a stored record replaced by another (not one re-read as it was).
        (pl.col("stored") & pl.col("win") & (pl.col("changed") | pl.col("now_crawled")))
        .sum()
        .alias("updated"),
        (~pl.col("win")).sum().alias("older"),
    ).row(0)
    return CommitResult(*(int(c) for c in counts))


def _present(cut: tuple[dt.date, int] | None) -> pl.Expr:
    """Whether a model row (``last_seen``, ``seen_commit``) is present after ``cut``."""
    if cut is None:
        return pl.lit(True)
    date, generation = cut
    return (pl.col("last_seen") > pl.lit(date)) | (
        (pl.col("last_seen") == pl.lit(date)) & (pl.col("seen_commit").fill_null(0) >= generation)
    )


def _order(date: str, generation: str) -> pl.Expr:
    """(date, generation) as one sortable integer."""
    return pl.col(date).cast(pl.Int32).cast(pl.Int64) * 1_000_000_000 + pl.col(
        generation
    ).fill_null(0)


def _counters_cast() -> list[pl.Expr]:
    return [pl.col(c).cast(pl.Int64) for c in COUNTERS]


def _rows(view: _View, name: str) -> int:
    """Rows in one of the view's files, from its footer (0 if the view has no such file)."""
    if name not in view.fds:
        return 0
    try:
        return int(pl.scan_parquet(view.source(name), glob=False).select(pl.len()).collect().item())
    except (pl.exceptions.PolarsError, OSError):
        return 0  # named by the read that needs it


_FILE_SCHEMAS = {"snapshots": SNAPSHOT_FILE_SCHEMA}
# Stored records compared at a time with a dump's (see Store._same_records).
_COMPARED_ROWS = 250_000
# The order of the base and delta files, and so of reads: by model, then as declared.
_ORDER = {
    "models": ("id",),
    "edges": ("child", "position"),
    "problems": ("model", "kind", "detail"),
}


_ZSTD_LEVEL = 1


def _write_parquet(
    frame: pl.DataFrame | pl.LazyFrame,
    path: Path,
    schema: dict[str, pl.DataType],
    token: str,
    *,
    totals: bool = False,
) -> None:
    """Write a table file tagged with its commit's token; ``totals``: a snapshot file that
    also keeps its totals (a lazy one, streamed from an upgrade, keeps none)."""
    metadata = {_TOKEN_KEY: token}
    if totals and isinstance(frame, pl.DataFrame):
        metadata[_TOTALS_KEY] = json.dumps(_totals(frame))
    # Streamed, a morsel at a time, with every list column rebuilt as it goes: a list of
    # strings gathered by a sort or a join keeps pointing into its source's string
    # buffers, and polars' Parquet writer takes ~10x as long over such a column (56 s
    # instead of 5 s for 2.5M models' tags) as over a compact one.
    lists = [
        pl.col(name).list.eval(pl.element()) for name, t in schema.items() if isinstance(t, pl.List)
    ]
    stored = frame.lazy().select(list(schema)).cast(schema)  # type: ignore[arg-type]  # polars' stub: a str-keyed dict is a valid schema
    # zstd at level 1, not polars' default 3: at 2.5M models the models file is written in
    # 0.94 s instead of 1.12 s (median of 5) and is 0.5% larger; a snapshot file is smaller.
    stored.with_columns(lists).sink_parquet(
        path, metadata=metadata, compression_level=_ZSTD_LEVEL, engine="streaming"
    )


def _totals(frame: pl.DataFrame) -> dict[str, int]:
    """A snapshot file's totals as its metadata keeps them (see :meth:`Store.snapshot_totals`)."""
    sums = frame.select(pl.col(c).cast(pl.Int64).sum() for c in _TOTALLED).row(0)
    return {"rows": frame.height, **{c: int(v) for c, v in zip(_TOTALLED, sums, strict=True)}}


_TOTALLED = ("downloads", "downloads_all_time")


def _kept_totals(source: str) -> dict[str, int] | None:
    """The totals a snapshot file keeps, if they are whole and agree with its footer's row
    count; None otherwise (written before files kept them, or damaged): count the rows."""
    try:
        kept = json.loads(pl.read_parquet_metadata(source).get(_TOTALS_KEY, "null"))
        if not isinstance(kept, dict) or set(kept) != {"rows", *_TOTALLED}:
            return None
        if not all(type(v) is int for v in kept.values()):
            return None
        rows = pl.scan_parquet(source, glob=False).select(pl.len()).collect().item()
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return None
    return kept if kept["rows"] == rows else None


# Messages name the store parameter as {store}: the CLI spells it --store (see lineage.errors).
_REMEDY = "restore it from a backup, or crawl again into a new store ({store} NEW_DIR)"
_STORE = ("store",)


def _damaged(path: Path, exc: BaseException) -> StoreError:
    detail = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    if isinstance(exc, OSError) and exc.strerror:
        detail = exc.strerror
    return StoreError(
        f"store file {path} is damaged ({detail[:160]}); {_REMEDY}", params=_STORE, path=path
    )


def _when(manifest: _Manifest | None) -> str:
    return f"at {manifest.at} " if manifest is not None and manifest.at else ""


def _generation(manifest: _Manifest | None) -> int:
    return manifest.generation if manifest is not None else 0


def _token_of(source: str | Path) -> str | None:
    """The commit token a table file was written with (None if unreadable or older)."""
    try:
        return pl.read_parquet_metadata(source).get(_TOKEN_KEY)
    except (pl.exceptions.PolarsError, OSError):
        return None


def _open(path: Path) -> int | None:
    try:
        # Non-blocking: opening a FIFO to read would wait for a writer that never comes.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            f"store file {path} cannot be opened: {exc.strerror}", params=_STORE
        ) from exc
    problem = not_regular(os.fstat(fd).st_mode)
    if problem is not None:
        os.close(fd)
        raise StoreError(f"store file {path} is damaged ({problem}); {_REMEDY}", params=_STORE)
    return fd


def not_regular(mode: int) -> str | None:
    """What a file of this ``st_mode`` is if not a regular file (a FIFO, a device...)."""
    if stat.S_ISREG(mode):
        return None
    kinds = {
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
        stat.S_ISDIR: "a directory",
    }
    kind = next((name for test, name in kinds.items() if test(mode)), "not a file")
    return f"not a regular file: {kind}"


def read_regular(file: Path) -> str:
    """A small file's text; a FIFO or device in its place is an ``OSError`` saying so (it
    is never opened: a FIFO would wait for a writer)."""
    problem = not_regular(os.stat(file).st_mode)
    if problem is not None:
        raise OSError(0, problem, str(file))
    return file.read_text()


def _make_room_for(files: int) -> None:
    """Raise the soft open-files limit if a view (one descriptor per file) needs it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = files + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted * 2 if hard == resource.RLIM_INFINITY else min(hard, wanted * 2)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _replace_text(path: Path, text: str) -> None:
    """Write a small file atomically: a fsynced temporary file renamed over it."""
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    tmp.write_text(text)
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync(path)
