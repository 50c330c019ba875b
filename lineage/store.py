"""The embedded store: Parquet tables in one directory, written atomically.

Layout of a store directory::

    models.parquet     one row per model (MODEL_SCHEMA), latest crawl wins
    edges.parquet      declared (child, parent, relation) edges (EDGE_SCHEMA)
    problems.parquet   card problems per model (PROBLEM_SCHEMA)
    lookups.parquet    parent ids looked up on the Hub: found, renamed, or missing
    snapshots/         downloads / likes per model, one file per date (counters only)
    crawls.parquet     the crawl log: one row per finished crawl or ingest
    inferred_edges.parquet  lineage proposed by `lineage infer` (INFERRED_SCHEMA), apart
                       from the declared edges
    journal/           work in progress of interrupted crawls (see lineage.journal)

Every commit replaces whole files by writing ``*.tmp`` files, then a ``COMMIT`` manifest,
then renaming; a commit cut short is rolled forward the next time the store is opened, so
readers see either the old tables or the new ones, never a mix and never a torn file.
One writer at a time (an advisory lock on ``LOCK``; the OS drops it if the process dies).

This module knows tables and files; it does not know the Hub, the graph or the CLI.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs
import polars as pl

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

TABLES: dict[str, dict[str, pl.DataType]] = {
    "models": MODEL_SCHEMA,
    "edges": EDGE_SCHEMA,
    "problems": PROBLEM_SCHEMA,
    "lookups": LOOKUP_SCHEMA,
    "snapshots": SNAPSHOT_SCHEMA,
    "crawls": CRAWL_SCHEMA,
    "inferred_edges": INFERRED_SCHEMA,
}


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


class Store:
    """A store directory. Opening it creates it if needed and finishes any cut-short commit.

    Examples
    --------
    >>> import tempfile
    >>> store = Store(tempfile.mkdtemp())
    >>> store.read("models").height
    0
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(f"store path {self.path} is a file, not a directory; pass --store DIR")
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"no store at {self.path}; run `lineage crawl` first or pass --store"
                )
            try:
                self.path.mkdir(parents=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create store directory {self.path}: {exc.strerror}"
                ) from exc
        if not os.access(self.path, os.R_OK | os.X_OK):
            raise StoreError(f"store directory {self.path} is not readable")
        self._roll_forward()

    # -- reading -----------------------------------------------------------------------

    def file(self, table: str) -> Path:
        """Where a table lives: ``<table>.parquet``, or the ``snapshots/`` directory."""
        if table == "snapshots":
            return self.path / "snapshots"
        return self.path / f"{table}.parquet"

    def snapshot_file(self, date: dt.date) -> Path:
        return self.path / "snapshots" / f"{date.isoformat()}.parquet"

    def exists(self, table: str) -> bool:
        return self.file(table).exists()

    def scan(self, table: str) -> pl.LazyFrame:
        """A lazy frame over one table (empty with the right schema if never written).

        Columns added to a table's schema after a store was written read as nulls.
        """
        schema = TABLES[table]
        path = self.file(table)
        if table == "snapshots":
            files = sorted(path.glob("*.parquet")) if path.is_dir() else []
            if not files:
                return pl.LazyFrame(schema=schema)
            return pl.scan_parquet(files, schema=schema)
        if not path.exists():
            return pl.LazyFrame(schema=schema)
        frame = pl.scan_parquet(path)
        present = frame.collect_schema().names()
        missing = [name for name in schema if name not in present]
        if missing:
            frame = frame.with_columns(pl.lit(None, schema[name]).alias(name) for name in missing)
        return frame

    def read(self, table: str) -> pl.DataFrame:
        try:
            return self.scan(table).collect()
        except (pl.exceptions.ComputeError, OSError) as exc:
            raise StoreError(
                f"store file {self.file(table)} cannot be read ({exc.__class__.__name__}); "
                "restore it or delete it and crawl again"
            ) from exc

    # -- writing -----------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's writer lock; fails at once if another process holds it."""
        self._check_writable()
        handle = open(self.path / "LOCK", "a+")  # noqa: SIM115 - held for the block
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreError(
                    f"store {self.path} is in use by another lineage process; wait for it to finish"
                ) from exc
            yield
        finally:
            handle.close()

    def _check_writable(self) -> None:
        if not os.access(self.path, os.W_OK):
            raise StoreError(f"store directory {self.path} is not writable; pass --store DIR")

    def write_tables(self, frames: Iterable[tuple[str, pl.DataFrame]] | dict) -> None:
        """Replace several tables at once, atomically (all or none).

        ``frames`` yields (table, frame) pairs; each is written to a temporary file as soon
        as it comes, so a generator keeps only one new table in memory at a time. For the
        ``snapshots`` table the frame holds one date and replaces that date's file.
        """
        self._check_writable()
        token = uuid.uuid4().hex[:12]
        renames: list[tuple[str, str]] = []
        items = frames.items() if isinstance(frames, dict) else frames
        for table, frame in items:
            if table == "snapshots":
                final = self.snapshot_file(frame["date"][0])
                final.parent.mkdir(exist_ok=True)
            else:
                final = self.file(table)
            tmp = final.with_name(f"{final.name}.{token}.tmp")
            _chunked(frame.select(list(TABLES[table])).cast(TABLES[table])).write_parquet(tmp)
            del frame
            _fsync(tmp)
            renames.append((str(tmp.relative_to(self.path)), str(final.relative_to(self.path))))
        manifest = self.path / "COMMIT"
        manifest_tmp = self.path / f"COMMIT.{token}.tmp"
        manifest_tmp.write_text(json.dumps(renames))
        _fsync(manifest_tmp)
        os.replace(manifest_tmp, manifest)
        _fsync_dir(self.path)
        self._roll_forward()

    def _roll_forward(self) -> None:
        manifest = self.path / "COMMIT"
        if not manifest.exists():
            self._sweep_tmp()
            return
        try:
            renames = json.loads(manifest.read_text())
        except (OSError, ValueError):
            renames = []
        for tmp, final in renames:
            if (self.path / tmp).exists():
                os.replace(self.path / tmp, self.path / final)
        _fsync_dir(self.path)
        with contextlib.suppress(FileNotFoundError):
            manifest.unlink()
        self._sweep_tmp()

    def _sweep_tmp(self) -> None:
        if not os.access(self.path, os.W_OK):
            return
        for leftover in [*self.path.glob("*.tmp"), *self.path.glob("snapshots/*.tmp")]:
            with contextlib.suppress(OSError):
                leftover.unlink()

    def commit(
        self,
        batch: Batch,
        *,
        lookups: pl.DataFrame | None = None,
        crawl: dict | None = None,
        snapshot_date: dt.date | None = None,
    ) -> CommitResult:
        """Merge a batch into the store: latest wins per model, edges and problems replaced.

        ``crawled`` stays true once a model was crawled as part of a family. A snapshot
        row per model and date keeps its counters; the crawl log gains ``crawl``.
        """
        new = batch.models.unique("id", keep="last", maintain_order=True)
        seen = new.select("id")
        existing = (
            self.scan("models")
            .select("id", "crawled")
            .join(seen.lazy(), on="id", how="semi")
            .collect()
        )
        result = CommitResult(
            models_seen=new.height,
            models_new=new.height - existing.height,
            models_updated=existing.height,
        )

        def tables() -> Iterator[tuple[str, pl.DataFrame]]:
            # One table at a time: each is built, written and dropped before the next.
            merged = (
                new.join(existing.rename({"crawled": "was_crawled"}), on="id", how="left")
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

    def _snapshot(self, models: pl.DataFrame, date: dt.date) -> pl.DataFrame:
        """One date's counters: this batch's, plus that date's earlier rows for others."""
        rows = models.select(
            "id", pl.lit(date).alias("date"), "downloads", "downloads_all_time", "likes"
        )
        path = self.snapshot_file(date)
        if path.exists():
            earlier = pl.read_parquet(path).join(rows.select("id"), on="id", how="anti")
            rows = pl.concat([earlier, rows.cast(SNAPSHOT_SCHEMA)])
        return rows.sort("id")


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
