"""The embedded store: Parquet tables in one directory, one writer, readers beside it.

Layout of a store directory (store format version 3, see :data:`FORMAT_VERSION`)::

    lineage-store.json  the marker: format version, written when the store is created
    models.parquet      one row per model (MODEL_SCHEMA), latest crawl wins
    edges.parquet       declared (child, parent, relation) edges (EDGE_SCHEMA)
    problems.parquet    card problems per model (PROBLEM_SCHEMA)
    lookups.parquet     parent ids looked up on the Hub: found, renamed, or missing
    snapshots/          downloads / likes per model, one file per date (counters only)
    crawls.parquet      the crawl log: one row per finished crawl or ingest
    inferred_edges.parquet  lineage proposed by `lineage infer` (INFERRED_SCHEMA), apart
                        from the declared edges
    file_evidence.parquet  what models' cards and configs say of their parents
                        (FILE_EVIDENCE_SCHEMA), read by `lineage infer --resolve-roots`
    COMMIT              the last commit's manifest: generation, state, renames, files
    LOCK                the writer's lock
    journal/            work in progress of interrupted crawls (see lineage.journal)

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
  its files and adopted: the marker is written under the lock by the next writer.
  Adding a table: put it in :data:`TABLES` (and its key columns in ``_KEYS``), bump
  :data:`FORMAT_VERSION`, keep :data:`OLDEST_READER`; ``COMMIT`` lists its file like any
  other, and a store that lacks it reads it as empty.

Test hook: ``LINEAGE_TEST_HOOK="STEP=ACTION[,STEP=ACTION...]"`` makes the process kill
itself (``kill``: SIGKILL) or stop (``stop``: SIGSTOP, for the test to send SIGCONT) when
it reaches STEP; see :func:`checkpoint` for the step names. Tests use it to cut commits
and journal removals at exact points; it is read nowhere else.

This module knows tables and files; it does not know the Hub, the graph or the CLI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import resource
import signal
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, NotRequired, TypedDict

import platformdirs
import polars as pl

from . import __version__
from .errors import StoreError
from .records import EDGE_SCHEMA, MODEL_SCHEMA, PROBLEM_SCHEMA, UTC_US, Batch

LOOKUP_SCHEMA: dict[str, pl.DataType] = {
    "query": pl.String(),  # the id as declared
    "id": pl.String(),  # the Hub's current id, null when missing
    "status": pl.String(),  # found | renamed | missing
    "looked_up_at": UTC_US,
}

SNAPSHOT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "date": pl.Date(),
    "downloads": pl.Int64(),
    "downloads_all_time": pl.Int64(),
    "likes": pl.Int64(),
}

CRAWL_SCHEMA: dict[str, pl.DataType] = {
    "crawl_id": pl.String(),
    "kind": pl.String(),  # crawl | ingest
    "started_at": UTC_US,
    "finished_at": UTC_US,
    "endpoint": pl.String(),
    "roots": pl.List(pl.String()),
    "strategy": pl.String(),  # walk | sweep | auto | auto: sweep | all | new | hub-stats
    "requests": pl.Int64(),
    "lookups": pl.Int64(),
    "retries": pl.Int64(),
    "models_seen": pl.Int64(),
    "models_new": pl.Int64(),
    "models_updated": pl.Int64(),
    "edges": pl.Int64(),
    "problems": pl.Int64(),
    "snapshot_date": pl.Date(),  # the date its download counters were recorded under
    # A crawl's listing self-checks (lineage.paging): models served twice across pages, and
    # createdAt going up; nonzero means the Hub changed under the crawl. Null: not checked.
    "listing_duplicates": pl.Int64(),
    "listing_order_breaks": pl.Int64(),
}


class CrawlRecord(TypedDict):
    """What a run tells :meth:`Store.commit` for its crawl-log row (``crawls`` table).

    The rest of the row (``models_seen``, ``models_new``, ``models_updated``, ``edges``,
    ``problems``, ``snapshot_date``) is the commit's own; see :data:`CRAWL_SCHEMA`.
    """

    crawl_id: str | None  # None only for a journal written before crawl ids
    kind: Literal["crawl", "ingest"]
    started_at: dt.datetime
    finished_at: dt.datetime
    endpoint: str
    roots: list[str]
    strategy: str
    requests: int
    lookups: int
    retries: int
    # A crawl's listing self-checks; an ingest has none (null in the table).
    listing_duplicates: NotRequired[int]
    listing_order_breaks: NotRequired[int]


# Lineage proposed by `lineage infer` for models that declare none (lineage.inference):
# kept apart from the declared edges, never counted unless asked (--lineage).
INFERRED_SCHEMA: dict[str, pl.DataType] = {
    "child": pl.String(),
    "parent": pl.String(),  # null when only a root family is proposed (architecture)
    "root": pl.String(),  # the root family the proposal puts the child in
    "relation": pl.String(),  # adapter | finetune | merge | quantized, guessed
    "method": pl.String(),  # adapter-config | name-id | name-exact | name-contained | architecture
    "confidence": pl.Float64(),  # estimated probability that ``root`` is right
    "evidence": pl.String(),  # what matched: a name, an adapter base, an architecture
    "inferred_at": UTC_US,
}

# What models' own files (model card, config.json, adapter_config.json) say of their
# parents, read by `lineage infer --resolve-roots` (lineage.roots, lineage.evidence): one
# row per finding, and one row with a null kind for a file read (or asked for) that said
# nothing, so that no file is asked for twice. Evidence, not lineage: lineage.inference
# turns it into inferred edges.
FILE_EVIDENCE_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),  # the model whose file it is
    "file": pl.String(),  # README.md | config.json | adapter_config.json
    "status": pl.String(),  # read | absent | missing | refused | unreadable
    "kind": pl.String(),  # base_model | mergekit | link | name_or_path | adapter_base | shape
    "target": pl.String(),  # the repo id named (a shape: its fingerprint), as written
    "relation": pl.String(),  # what the file says the model is of it, when it says
    "position": pl.Int32(),  # order of the findings of a kind in the file
    "detail": pl.String(),  # the words that said it (at most 200 characters)
    "fetched_at": UTC_US,
}

TABLES: dict[str, dict[str, pl.DataType]] = {
    "models": MODEL_SCHEMA,
    "edges": EDGE_SCHEMA,
    "problems": PROBLEM_SCHEMA,
    "lookups": LOOKUP_SCHEMA,
    "snapshots": SNAPSHOT_SCHEMA,
    "crawls": CRAWL_SCHEMA,
    "inferred_edges": INFERRED_SCHEMA,
    "file_evidence": FILE_EVIDENCE_SCHEMA,
}

# The columns without which a file is not that table (others read as nulls if absent).
_KEYS = {
    "models": ("id", "crawled"),
    "edges": ("child", "parent"),
    "problems": ("model", "kind"),
    "lookups": ("query", "status"),
    "snapshots": ("id", "date"),
    "crawls": ("crawl_id", "kind"),
    "inferred_edges": ("child", "method"),
    "file_evidence": ("model", "file"),
}

FORMAT_VERSION = 3
"""The store format this code writes. Bump it for any change to the files or columns.

1. The first format (lineage 0.1.0): no marker; ``COMMIT`` existed only during a commit.
2. The marker; ``COMMIT`` kept as the generation manifest (format 1 code cannot read it);
   ``inferred_edges.parquet``; models' ``model_type``, ``gguf_architecture``,
   ``gguf_parameters``, ``adapter_base``; crawls' ``listing_duplicates``,
   ``listing_order_breaks`` and the ``new`` strategy.
3. ``file_evidence.parquet`` (what models' own files say of their parents); crawls'
   strategy ``resolve-roots``; inferred edges' methods from files and re-uploads, several
   rows per child for a merge.
"""
OLDEST_READER = 2
"""The oldest format whose code can read what this code writes (kept for additive changes)."""
MARKER = "lineage-store.json"
_MANIFEST = "COMMIT"
_LOCK = "LOCK"
_TOKEN_KEY = "lineage_commit"  # parquet key-value metadata: the commit that wrote the file
_ALWAYS_WRITTEN = ("models.parquet", "edges.parquet", "problems.parquet")
_KNOWN_ENTRIES = {
    *(f"{t}.parquet" for t in TABLES if t != "snapshots"),
    "snapshots",
    "journal",
    _LOCK,
    _MANIFEST,
}
_FD_DIR = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
_PIN_ATTEMPTS = 50
_HOOK_ENV = "LINEAGE_TEST_HOOK"


def checkpoint(step: str) -> None:
    """The test hook: die or stop at ``step`` when ``LINEAGE_TEST_HOOK`` names it.

    Steps: ``commit:wrote:<file>`` (a temporary file written), ``commit:manifest`` (the
    commit point passed), ``commit:renamed:<file>``, ``commit:done``; in the journal,
    ``journal:recorded:<event>``, ``journal:summary``, ``journal:committed`` (renamed to
    its tombstone) and ``journal:removing`` (pages and events deleted; plan and summary
    not yet).
    ``<file>`` is store-relative (``models.parquet``, ``snapshots/2026-01-05.parquet``).

    Examples
    --------
    >>> checkpoint("commit:manifest")  # nothing happens unless the variable asks
    """
    spec = os.environ.get(_HOOK_ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, action = item.strip().partition("=")
        if name == step and action in ("kill", "stop"):
            os.kill(os.getpid(), signal.SIGKILL if action == "kill" else signal.SIGSTOP)


def default_store_path() -> Path:
    """``$LINEAGE_STORE`` if set, else the per-user data directory (e.g. ~/.local/share/lineage)."""
    env = os.environ.get("LINEAGE_STORE")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("lineage", appauthor=False))


@dataclass(frozen=True)
class CommitResult:
    """What a commit changed."""

    models_seen: int
    models_new: int
    models_updated: int


@dataclass(frozen=True)
class _Manifest:
    """The ``COMMIT`` file: one commit's renames and the files of the store after it."""

    generation: int
    state: str  # committing | done
    token: str | None  # None: written by lineage before format markers (a bare rename list)
    renames: tuple[tuple[str, str], ...]
    files: tuple[str, ...] | None  # None: unknown (that older form), list the directory
    at: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "generation": self.generation,
                "state": self.state,
                "token": self.token,
                "at": self.at,
                "renames": [list(r) for r in self.renames],
                "files": list(self.files or ()),
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

    def source(self, name: str) -> str:
        return f"{_FD_DIR}/{self.fds[name]}"

    def names(self, table: str) -> list[str]:
        if table == "snapshots":
            return sorted(n for n in self.fds if n.startswith("snapshots/"))
        name = f"{table}.parquet"
        return [name] if name in self.fds else []

    def close(self) -> None:
        for fd in self.fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = {}


class Store:
    """A store directory, opened for reading (``create=False``) or for crawling into.

    ``create=True`` makes the directory and its marker if the path does not exist or is
    an empty directory. Opening never changes an existing store: only :meth:`lock`
    (crawl, ingest) finishes a cut-short commit or adopts a store written before markers.
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

    def _read_marker(self) -> dict | None:
        file = self.path / MARKER
        try:
            text = file.read_text()
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

    def _write_marker(self, earlier: dict | None) -> dict:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        marker = {
            "format": "lineage store",
            "version": max(FORMAT_VERSION, int((earlier or {}).get("version", 0))),
            "oldest_reader": max(OLDEST_READER, int((earlier or {}).get("oldest_reader", 0))),
            "created_at": (earlier or {}).get("created_at", now),
            "written_by": f"lineage {__version__}",
        }
        try:
            _replace_text(self.path / MARKER, json.dumps(marker, indent=1) + "\n")
        except OSError as exc:
            raise StoreError(
                f"store directory {self.path} is not writable ({exc.strerror}); pass {{store}} DIR",
                params=_STORE,
            ) from exc
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
            if not all(key in columns for key in _KEYS[table]):
                raise StoreError(
                    f"{refuse} ({file.name} is not a lineage {table} table)", params=_STORE
                )

    # -- reading -----------------------------------------------------------------------

    def file(self, table: str) -> Path:
        """Where a table lives: ``<table>.parquet``, or the ``snapshots/`` directory."""
        if table == "snapshots":
            return self.path / "snapshots"
        return self.path / f"{table}.parquet"

    def snapshot_file(self, date: dt.date) -> Path:
        return self.path / "snapshots" / f"{date.isoformat()}.parquet"

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

    def scan(self, table: str) -> pl.LazyFrame:
        """A lazy frame over one table (empty with the right schema if never written).

        Columns added to a table's schema after a store was written read as nulls. The
        frame reads the store's open files: collect it before closing the store.
        """
        return self._scan(table, lend=True)

    def _scan(self, table: str, *, lend: bool) -> pl.LazyFrame:
        schema = TABLES[table]
        view = self._current()
        names = view.names(table)
        if not names:
            return pl.LazyFrame(schema=schema)
        for name in names:
            self._check(view, name, table)
        view.lent = view.lent or lend
        if table == "snapshots":
            return pl.scan_parquet([view.source(n) for n in names], schema=schema, glob=False)
        frame = pl.scan_parquet(view.source(names[0]), glob=False)
        present = frame.collect_schema().names()
        missing = [name for name in schema if name not in present]
        if missing:
            # A file of an older format: the columns it lacks read as nulls.
            frame = frame.with_columns(pl.lit(None, schema[name]).alias(name) for name in missing)
        # Schema order, schema columns only (a newer format's extra columns are ignored), so
        # frames read from files of different formats concatenate.
        return frame.select(list(schema))

    def read(self, table: str, columns: list[str] | None = None) -> pl.DataFrame:
        """One table, or some of its columns, read now; a damaged file is a StoreError."""
        frame = self._scan(table, lend=False)
        try:
            return (frame.select(columns) if columns is not None else frame).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in(table, exc) from exc

    def verify(self) -> None:
        """Check every file of the store can be read whole; raise a StoreError naming the
        first that cannot (what a crawl or ingest runs before it spends any request)."""
        view = self._current()
        for name in sorted(view.fds):
            table = "snapshots" if name.startswith("snapshots/") else name.removesuffix(".parquet")
            self._check(view, name, table)
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
        absent = [key for key in _KEYS.get(table, ()) if key not in columns]
        if absent:
            raise StoreError(
                f"store file {self.path / name} is damaged (it is not a lineage {table} table: "
                f"no {absent[0]!r} column); {_REMEDY}",
                params=_STORE,
            )
        view.checked.add(name)

    def _damage_in(self, table: str, exc: BaseException) -> StoreError:
        """Name the file of a table whose read failed (each snapshot file on its own)."""
        view = self._current()
        for name in view.names(table):
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
                    if fd is not None and name in standing_in and before.token is not None:
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
            if _generation(after) == _generation(before):
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
            names |= set(_ALWAYS_WRITTEN)
        return sorted(names)

    def _read_manifest(self) -> _Manifest | None:
        file = self.path / _MANIFEST
        try:
            raw = json.loads(file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"store file {file} is damaged; restore it, or delete it if no crawl or "
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
                token=raw.get("token"),
                renames=tuple((str(tmp), str(final)) for tmp, final in raw["renames"]),
                files=tuple(str(f) for f in raw["files"]),
                at=raw.get("at"),
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

        Taking it adopts a store written before markers (writes the marker), refuses a
        store written by a newer format, finishes a commit cut short after its commit
        point and deletes temporary files left by dead writers. Re-entrant.
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
            self._adopt()
            self._recover()
            self.refresh()
            yield
        finally:
            self._lock_depth = 0
            handle.close()

    def _check_writable(self) -> None:
        if not os.access(self.path, os.W_OK):
            raise StoreError(
                f"store directory {self.path} is not writable; pass {{store}} DIR", params=_STORE
            )

    def _adopt(self) -> None:
        """Under the lock: the marker of an unmarked or older store; refuse a newer one."""
        marker = self._read_marker()
        if marker is not None and int(marker["version"]) > FORMAT_VERSION:
            raise StoreError(
                f"store {self.path} has format version {marker['version']}, written by a newer "
                f"lineage; this lineage (format {FORMAT_VERSION}) can read it but not write "
                "it; upgrade lineage",
                params=_STORE,
            )
        if marker is None or int(marker["version"]) < FORMAT_VERSION:
            marker = self._write_marker(marker)
        self._marker = marker

    def _recover(self) -> None:
        """Under the lock: finish a commit cut short after its commit point; sweep."""
        manifest = self._read_manifest()
        if manifest is not None and manifest.state == "committing":
            # Check every file before renaming any: a commit that cannot be finished
            # whole is not finished in part.
            for tmp, final in manifest.renames:
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
            _fsync_dir(self.path)
            _fsync_dir(self.path / "snapshots")
            files = manifest.files if manifest.files is not None else self._names(manifest)
            self._write_manifest(replace(manifest, state="done", files=tuple(files)))
        for leftover in [*self.path.glob("*.tmp"), *self.path.glob("snapshots/*.tmp")]:
            with contextlib.suppress(OSError):
                leftover.unlink()

    def _written_by(self, name: str, token: str | None) -> bool:
        path = self.path / name
        if token is None:  # an older manifest names no token: its target existing must do
            return path.exists()
        return _token_of(path) == token

    def _write_manifest(self, manifest: _Manifest) -> None:
        _replace_text(self.path / _MANIFEST, manifest.to_json())

    def write_tables(self, frames: Iterable[tuple[str, pl.DataFrame]] | dict) -> None:
        """Replace several tables at once, atomically (all or none).

        ``frames`` yields (table, frame) pairs; each is written to a temporary file as soon
        as it comes, so a generator keeps only one new table in memory at a time. For the
        ``snapshots`` table the frame holds one date and replaces that date's file.
        Takes the writer lock if the caller does not hold it.
        """
        with self.lock():
            view = self._current()
            previous = self._read_manifest()
            token = uuid.uuid4().hex[:12]
            renames: list[tuple[str, str]] = []
            items = frames.items() if isinstance(frames, dict) else frames
            try:
                for table, frame in items:
                    if table == "snapshots":
                        final = self.snapshot_file(frame["date"][0])
                        final.parent.mkdir(exist_ok=True)
                    else:
                        final = self.file(table)
                    tmp = final.with_name(f"{final.name}.{token}.tmp")
                    name = str(final.relative_to(self.path))
                    renames.append((str(tmp.relative_to(self.path)), name))
                    _chunked(frame.select(list(TABLES[table])).cast(TABLES[table])).write_parquet(
                        tmp, metadata={_TOKEN_KEY: token}
                    )
                    del frame
                    _fsync(tmp)
                    checkpoint(f"commit:wrote:{name}")
            except BaseException:
                # Before the commit point nothing is committed: drop what this one wrote.
                for tmp, _ in renames:
                    with contextlib.suppress(OSError):
                        (self.path / tmp).unlink()
                raise
            manifest = _Manifest(
                generation=_generation(previous) + 1,
                state="committing",
                token=token,
                renames=tuple(renames),
                files=tuple(sorted(set(view.fds) | {final for _, final in renames})),
                at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            )
            self._write_manifest(manifest)  # the commit point
            checkpoint("commit:manifest")
            for tmp, final in renames:
                os.replace(self.path / tmp, self.path / final)
                checkpoint(f"commit:renamed:{final}")
            _fsync_dir(self.path)
            _fsync_dir(self.path / "snapshots")
            self._write_manifest(replace(manifest, state="done"))
            checkpoint("commit:done")
            self.refresh()

    def count_changes(self, batch: Batch) -> CommitResult:
        """What :meth:`commit` of ``batch`` would change: models seen, new and updated."""
        new = batch.models.select("id").unique()
        existing = self._existing(new)
        return CommitResult(new.height, new.height - existing.height, existing.height)

    def _existing(self, seen: pl.DataFrame) -> pl.DataFrame:
        try:
            return (
                self._scan("models", lend=False)
                .select("id", "crawled")
                .join(seen.lazy(), on="id", how="semi")
            ).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage_in("models", exc) from exc

    def commit(
        self,
        batch: Batch,
        *,
        lookups: pl.DataFrame | None = None,
        crawl: CrawlRecord | None = None,
        snapshot_date: dt.date | None = None,
    ) -> CommitResult:
        """Merge a batch into the store: latest wins per model, edges and problems replaced.

        ``crawled`` stays true once a model was crawled as part of a family. A snapshot
        row per model and date keeps its counters; the crawl log gains ``crawl``. A table
        that cannot be read stops the commit before its commit point: nothing changes.
        """
        with self.lock():
            return self._commit(batch, lookups, crawl, snapshot_date)

    def _commit(
        self,
        batch: Batch,
        lookups: pl.DataFrame | None,
        crawl: CrawlRecord | None,
        snapshot_date: dt.date | None,
    ) -> CommitResult:
        new = batch.models
        if new["id"].is_duplicated().any():  # (a copy of millions of rows only if needed)
            new = new.unique("id", keep="last", maintain_order=True)
        seen = new.select("id")
        existing = self._existing(seen)
        result = CommitResult(
            models_seen=new.height,
            models_new=new.height - existing.height,
            models_updated=existing.height,
        )

        def tables() -> Iterator[tuple[str, pl.DataFrame]]:
            # One table at a time: each is built, written and dropped before the next.
            merged = (
                new
                if not existing.height
                else new.join(existing.rename({"crawled": "was_crawled"}), on="id", how="left")
                .with_columns(
                    (pl.col("crawled") | pl.col("was_crawled").fill_null(False)).alias("crawled")
                )
                .drop("was_crawled")
            )
            yield (
                "models",
                pl.concat([self.read("models").join(seen, on="id", how="anti"), merged]).sort("id"),
            )
            yield (
                "edges",
                pl.concat(
                    [
                        self.read("edges").join(seen, left_on="child", right_on="id", how="anti"),
                        batch.edges,
                    ]
                ).sort("child", "position"),
            )
            yield (
                "problems",
                pl.concat(
                    [
                        self.read("problems").join(
                            seen, left_on="model", right_on="id", how="anti"
                        ),
                        batch.problems.unique(maintain_order=True),
                    ]
                ).sort("model", maintain_order=True),
            )
            if lookups is not None and lookups.height:
                fresh = lookups.unique("query", keep="last")
                yield (
                    "lookups",
                    pl.concat(
                        [
                            self.read("lookups").join(
                                fresh.select("query"), on="query", how="anti"
                            ),
                            fresh,
                        ]
                    ).sort("query"),
                )
            if snapshot_date is not None and new.height:
                yield "snapshots", self._snapshot(new, snapshot_date)
            if crawl is not None:
                row = {
                    "snapshot_date": snapshot_date,
                    **crawl,
                    "models_seen": result.models_seen,
                    "models_new": result.models_new,
                    "models_updated": result.models_updated,
                    "edges": batch.edges.height,
                    "problems": batch.problems.height,
                }
                log = self.read("crawls")
                yield (
                    "crawls",
                    pl.concat(
                        [
                            log.filter(pl.col("crawl_id") != row["crawl_id"]),
                            pl.DataFrame([row], schema=CRAWL_SCHEMA),
                        ]
                    ),
                )

        self.write_tables(tables())
        return result

    def _snapshot_rows(self, date: dt.date) -> pl.DataFrame:
        """The rows already stored for one snapshot date (empty if none)."""
        view = self._current()
        name = str(self.snapshot_file(date).relative_to(self.path))
        if name not in view.fds:
            return pl.DataFrame(schema=SNAPSHOT_SCHEMA)
        self._check(view, name, "snapshots")
        try:
            frame = pl.read_parquet(view.source(name))
            return frame.select(list(SNAPSHOT_SCHEMA)).cast(SNAPSHOT_SCHEMA)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise _damaged(self.path / name, exc) from exc

    def _snapshot(self, models: pl.DataFrame, date: dt.date) -> pl.DataFrame:
        """One date's counters: this batch's, plus that date's earlier rows for others."""
        rows = models.select(
            "id", pl.lit(date).alias("date"), "downloads", "downloads_all_time", "likes"
        ).cast(SNAPSHOT_SCHEMA)
        earlier = self._snapshot_rows(date).join(rows.select("id"), on="id", how="anti")
        return pl.concat([earlier, rows]).sort("id")


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
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            f"store file {path} cannot be opened: {exc.strerror}", params=_STORE
        ) from exc


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


def _chunked(frame: pl.DataFrame, rows: int = 100_000) -> pl.DataFrame:
    """Split a big single-chunk frame: polars writes list columns ~3x faster in chunks."""
    if frame.height <= rows or frame.n_chunks() > 1:
        return frame
    return pl.concat([frame.slice(i, rows) for i in range(0, frame.height, rows)], rechunk=False)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        _fsync(path)
