"""Derived state: the resolved graph and the default attribution, kept per commit generation.

Every analysis command starts from the same two things, the resolved graph
(:func:`lineage.graph.build_graph`: integer node ids, renames and case resolved, cycles
broken) and the attribution of every derivative to its roots
(:func:`lineage.attribution.attribute`). On a 2.5M-model store they take seconds to build
and a fraction of that to read, so the first command that needs them after a commit
writes them beside the store, and every later one reads them::

    derived/<generation>-<token>/       one directory per commit generation (Store.derived_dir)
        graph-declared/                 nodes, edges, broken, resolution (a ModelGraph)
        attribution-declared/           derivatives, weights, roots (--roots all, split)
        graph-inferred-0.8/             the graph with inferred lineage at the default
        attribution-inferred-0.8/       confidence (--lineage both|inferred), and its attribution
        walks-declared/, walks-inferred-0.8/   each graph's edges as compressed rows both
                                        ways (lineage.graph.Walks: what tree walks)
        moved-inferred-0.8/             what inferred lineage moves, per derivative
                                        (lineage.moved: share --lineage both's notes)
        moved-sums-inferred-0.8[-only]/ those rows summed for the default share (more
                                        than 5 all-time downloads, every month)
        share-<by>-<variant>[-only]/    the default share's counts by month and root
                                        region, family or org (lineage.analysis: any
                                        month range or root region picks rows of it);
                                        -only: --lineage inferred
        observed/                       the store's latest observation date (a share's
                                        partial month)
        info/                           the counts `lineage info` prints
        quality/, quality-inferred-0.8/ what `lineage quality` reads whole tables for
        snapshot-totals/                per-date totals of snapshot files that keep none
                                        (lineage.snapshots.snapshot_totals)

Only the default choices are kept: another root set or merge rule is attributed on demand
from the kept graph, another confidence built from the store.

What is guaranteed, and how:

- **Never stale.** Each file carries, in its Parquet key-value metadata, the generation and
  commit token it was made from, its set and part, and its row count; a reader uses only a
  set whose every file carries its own pinned view's tag (:attr:`Store.derived_dir` names
  the directory by the same two values). A commit makes a new generation, so state of the
  old one is never read for the new one, nor the reverse.
- **Verified before use.** A file that is missing, unreadable, truncated or tagged
  otherwise makes its set unusable: the state is built from the store again (and, where
  the directory is writable, written again); a set whose data turns out damaged while it
  is read is dropped the same way. Nothing is trusted because it is there.
- **Written atomically, by whoever needs it first.** A set is written into a temporary
  directory (``.tmp-...``, every file fsynced) that is then renamed to its name; readers
  racing to write the same set each write their own, the first rename wins and the others
  are dropped. A process killed while writing leaves a temporary directory that nobody
  reads (swept after an hour, or with its generation).
- **Safe to delete.** ``derived/`` can be deleted at any time: the next command rebuilds
  what it needs. Files a reader has verified are held open, so a deletion under it changes
  nothing for it. Writers (``crawl``, ``ingest``, ``infer``) delete every other
  generation's state under the store's lock.
- **Read-only stores still answer.** Where ``derived/`` cannot be written, state is built
  in memory for the one command, as before.

Test hook steps (:func:`lineage.checkpoints.checkpoint`): ``derived:wrote:<set>/<part>`` (a file
of a set written in its temporary directory) and ``derived:kept:<set>`` (the set renamed
into place).

This module knows the store's files and the graph's frames; it decides nothing about
analysis.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from .attribution import Attribution
from .checkpoints import checkpoint
from .graph import WALK_PARTS, ModelGraph, Walks
from .store import Store
from .vocabulary import Lineage, MultiParent

if TYPE_CHECKING:
    from .analysis import Context

DERIVED_FORMAT = 2
"""The layout of derived state; a set tagged with another format is rebuilt (2: the
``moved-*`` credit and regions rows carry their derivative's filter columns). A new set
needs no new format (code that does not know its name never reads it); a set whose files
or columns change does, and so does a change to how a kept answer is computed (a kept
share counted by the code before a fix would otherwise be served until the next commit)."""
_TAG_KEY = "lineage_derived"
_FD_DIR = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
_STALE_TMP_S = 3600.0  # a temporary directory older than this was left by a dead process
# Small row groups let a read of a few node indices skip the rest of a big file.
_ROW_GROUP = 65_536

GRAPH_PARTS = ("nodes", "edges", "broken", "resolution")
ATTRIBUTION_PARTS = ("derivatives", "weights", "roots")


def variant(lineage: Lineage, min_confidence: float | None) -> str | None:
    """The kept variant a lineage choice reads (``declared``, or ``inferred-<confidence>``
    at the default confidence), None for one that is built on demand."""
    from .vocabulary import DEFAULT_MIN_CONFIDENCE

    if lineage == "declared":
        return "declared"
    if min_confidence is None or min_confidence == DEFAULT_MIN_CONFIDENCE:
        return f"inferred-{DEFAULT_MIN_CONFIDENCE:g}"
    return None


def default_variant(ctx: Context) -> str | None:
    """The kept variant (:func:`variant`) of a command's context when every other choice
    is the default one kept answers are for: every root and merges split (the store's
    kept attribution), the packaged region table, the present models. None otherwise:
    the command computes its answer."""
    name = variant(ctx.lineage, ctx.min_confidence)
    view = getattr(ctx, "view", None)
    default = (
        name is not None
        and isinstance(ctx.attribution, StoredAttribution)
        and ctx.regions_file is None
        and (view is None or view.default)
    )
    return name if default else None


class Parts:
    """One verified set of derived files, held open: frames read from it by part name.

    ``rows`` gives each part's row count as tagged (so a graph's size needs no read).
    """

    def __init__(self, directory: Path, fds: dict[str, int], rows: dict[str, int]) -> None:
        self.directory = directory
        self._fds = fds
        self.rows = rows

    def source(self, part: str) -> str:
        return f"{_FD_DIR}/{self._fds[part]}"

    def scan(self, part: str) -> pl.LazyFrame:
        return pl.scan_parquet(self.source(part), glob=False)

    def read(self, part: str, columns: list[str] | None = None) -> pl.DataFrame:
        return pl.read_parquet(self.source(part), columns=columns)

    def close(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = {}

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _tag(store: Store, name: str, part: str, rows: int) -> dict:
    return {
        "format": DERIVED_FORMAT,
        "generation": store.generation,
        "token": store.commit_token,
        "set": name,
        "part": part,
        "rows": rows,
    }


def open_set(store: Store, name: str, parts: tuple[str, ...]) -> Parts | None:
    """The store's kept set ``name`` if every part is there, readable and tagged with the
    store's pinned generation and token; None otherwise (build it again)."""
    folder = store.derived_dir
    if folder is None:
        return None
    directory = folder / name
    fds: dict[str, int] = {}
    rows: dict[str, int] = {}
    try:
        for part in parts:
            fd = os.open(directory / f"{part}.parquet", os.O_RDONLY | os.O_NONBLOCK)
            fds[part] = fd
            if not os.path.isfile(f"{_FD_DIR}/{fd}"):  # a FIFO or a directory: not ours
                raise OSError("not a regular file")
            tag = json.loads(pl.read_parquet_metadata(f"{_FD_DIR}/{fd}").get(_TAG_KEY, "null"))
            expected = _tag(store, name, part, tag.get("rows", -1) if tag else -1)
            if tag != expected:
                raise ValueError(f"{part}: tagged {tag}, not {expected}")
            rows[part] = int(tag["rows"])
    except (OSError, ValueError, AttributeError, pl.exceptions.PolarsError):
        for fd in fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        return None
    return Parts(directory, fds, rows)


def write_set(store: Store, name: str, frames: dict[str, pl.DataFrame]) -> bool:
    """Keep ``frames`` as the store's set ``name``, atomically; False if it could not be
    written (a read-only store, a full disk), which changes nothing."""
    folder = store.derived_dir
    if folder is None:
        return False
    tmp = folder / f".tmp-{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _sweep_temporary(folder)
        tmp.mkdir()
        for part, frame in frames.items():
            path = tmp / f"{part}.parquet"
            tag = json.dumps(_tag(store, name, part, frame.height))
            frame.write_parquet(path, metadata={_TAG_KEY: tag}, row_group_size=_ROW_GROUP)
            _fsync(path)
            checkpoint(f"derived:wrote:{name}/{part}")
        _fsync(tmp)
        try:
            os.rename(tmp, folder / name)
        except OSError:  # another process kept the same set first: theirs stands
            shutil.rmtree(tmp, ignore_errors=True)
            return (folder / name).is_dir()
        _fsync(folder)
        checkpoint(f"derived:kept:{name}")
        return True
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def drop_set(directory: Path) -> None:
    """Remove a set found damaged while reading it (renamed aside first, so no reader
    opens half of a deletion)."""
    aside = directory.with_name(f".tmp-dropped-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(directory, aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)


def kept(
    store: Store,
    name: str,
    parts: tuple[str, ...],
    build: Callable[[], dict[str, pl.DataFrame]],
    sources: tuple[str, ...] = (),
) -> tuple[Parts | None, dict[str, pl.DataFrame] | None]:
    """The set ``name``: opened if kept and valid, else built, kept (where it can be) and
    opened. Returns (parts, None) when files back it, (None, frames) when only memory does.

    ``sources``: the store tables the set is made from. Their files are checked first, as a
    read of them would (footers, key columns): kept state never hides a store file that is
    missing or damaged."""
    for table in sources:
        # Every file checked as a read would (footers, key columns); "all" because which
        # models are present is the kept state's business, and working it out costs a read
        # of the whole models table.
        store.scan(table, view="all")
    opened = open_set(store, name, parts)
    if opened is not None:
        return opened, None
    frames = build()
    folder = store.derived_dir
    if folder is not None and (folder / name).exists():  # there, but not whole or not ours
        drop_set(folder / name)
    if write_set(store, name, frames):
        opened = open_set(store, name, parts)
        if opened is not None:
            return opened, None
    return None, frames


def whole(
    store: Store,
    name: str,
    parts: tuple[str, ...],
    build: Callable[[], dict[str, pl.DataFrame]],
) -> dict[str, pl.DataFrame]:
    """Every part of the set ``name`` read whole (:func:`kept`: opened if kept and valid,
    else built and kept); a set whose data turns out damaged while read is dropped and
    built again, in memory."""
    opened, frames = kept(store, name, parts, build)
    if opened is not None:
        try:
            return {part: opened.read(part) for part in parts}
        except (OSError, pl.exceptions.PolarsError):
            drop_set(opened.directory)
            frames = build()
        finally:
            opened.close()
    assert frames is not None  # kept() gives the frames when no files back them
    return frames


def _sweep_temporary(folder: Path) -> None:
    now = time.time()
    for entry in folder.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > _STALE_TMP_S:
                shutil.rmtree(entry, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the graph and the attribution, kept -------------------------------------------------------


def _graph_frames(graph) -> dict[str, pl.DataFrame]:
    return {part: getattr(graph, part) for part in GRAPH_PARTS}


def graph(store: Store, *, lineage: Lineage = "declared", min_confidence: float | None = None):
    """The store's resolved graph under a lineage choice (:func:`lineage.graph.build_graph`):
    kept for the default choices, read from what is kept; built in memory otherwise."""
    from .graph import build_graph

    def build():
        return build_graph(store, lineage=lineage, min_confidence=min_confidence)

    name = variant(lineage, min_confidence)
    if name is None:
        return build()
    sources = ("models", "edges", "lookups") + (
        () if lineage == "declared" else ("inferred_edges",)
    )
    parts, frames = kept(
        store, f"graph-{name}", GRAPH_PARTS, lambda: _graph_frames(build()), sources
    )
    return StoredGraph(**(frames or {}), parts=parts, rebuild=build, store=store, name=name)


def attribution(
    store: Store,
    graph,
    *,
    lineage: Lineage = "declared",
    min_confidence: float | None = None,
    roots: list[str] | None = None,
    multi_parent: MultiParent = "split",
    root_set: str | None = None,
):
    """The attribution of ``graph`` (:func:`lineage.attribution.attribute`): kept for the
    default root set and rule (every root, merges split) of a kept graph; computed from the
    graph otherwise."""
    from .attribution import attribute

    def build():
        return attribute(graph, roots=roots, multi_parent=multi_parent, root_set=root_set)

    name = variant(lineage, min_confidence)
    default = roots is None and multi_parent == "split" and (root_set or "all") == "all"
    if name is None or not default or not isinstance(graph, StoredGraph):
        return build()

    def frames() -> dict[str, pl.DataFrame]:
        made = build()
        return {"derivatives": made.derivatives, "weights": made.weights, "roots": made.roots}

    parts, made = kept(store, f"attribution-{name}", ATTRIBUTION_PARTS, frames)
    return StoredAttribution(
        graph,
        **(made or {}),  # type: ignore[arg-type]  # mypy reads **dict as every parameter
        root_set="all",
        multi_parent="split",
        parts=parts,
        rebuild=build,
    )


def _lazy(part: str) -> property:
    def get(self):
        return self._load(part)

    get.__doc__ = f"The ``{part}`` frame (read from the kept state on first use)."
    return property(get)


class _Kept:
    """Frames read from a kept set on first use, or rebuilt if the set turns out damaged."""

    _parts_names: tuple[str, ...] = ()
    _cache: dict[str, pl.DataFrame]
    _columns: dict[str, dict[str, pl.Series]]  # columns read alone, by part
    _parts: Parts | None
    _rebuild: Callable[[], Any]

    def _setup(self, frames: dict, parts: Parts | None, rebuild: Callable | None) -> None:
        object.__setattr__(self, "_cache", {k: v for k, v in frames.items() if v is not None})
        object.__setattr__(self, "_columns", {})
        object.__setattr__(self, "_parts", parts)
        object.__setattr__(self, "_rebuild", rebuild)

    def _fall_back(self) -> None:
        """The kept set could not be read: drop it and build the frames in memory."""
        if self._parts is not None:
            drop_set(self._parts.directory)
            self._parts.close()
            object.__setattr__(self, "_parts", None)
        made = self._rebuild()
        for part in self._parts_names:
            self._cache.setdefault(part, getattr(made, part))

    def _load(self, part: str) -> pl.DataFrame:
        if part not in self._cache:
            if self._parts is None:
                self._fall_back()
            else:
                try:
                    self._cache[part] = self._parts.read(part)
                except (OSError, pl.exceptions.PolarsError):
                    self._fall_back()
        return self._cache[part]

    def _on_disk(self, part: str) -> bool:
        return part not in self._cache and self._parts is not None

    def frame(self, part: str, columns: list[str] | None = None) -> pl.DataFrame:
        if self._on_disk(part) and self._parts is not None:
            if columns is None:
                try:
                    return self._parts.read(part)
                except (OSError, pl.exceptions.PolarsError):
                    self._fall_back()
            else:
                # Each column read once per command: a walk and a summary of it ask for
                # some of the same edge columns.
                read = self._columns.setdefault(part, {})
                missing = [c for c in columns if c not in read]
                try:
                    if missing:
                        read.update(self._parts.read(part, missing).to_dict())
                    return pl.DataFrame([read[c] for c in columns])
                except (OSError, pl.exceptions.PolarsError):
                    self._fall_back()
        frame = self._load(part)
        return frame if columns is None else frame.select(columns)

    def query(self, part: str, plan: Callable[[pl.LazyFrame], pl.LazyFrame]) -> pl.DataFrame:
        if self._on_disk(part) and self._parts is not None:
            try:
                return plan(self._parts.scan(part)).collect()
            except (OSError, pl.exceptions.PolarsError):
                self._fall_back()
        return plan(self._load(part).lazy()).collect()

    def collect(self, plan: Callable[[Callable[[str], pl.LazyFrame]], list[pl.LazyFrame]]):
        """``plan(scan)``'s queries collected together, ``scan(part)`` reading the kept file
        (or the frame already in memory); a set that turns out damaged while read is dropped
        and the queries run again over frames built in memory."""
        parts = self._parts
        if parts is not None:

            def scan(part: str) -> pl.LazyFrame:
                if part in self._cache:
                    return self._cache[part].lazy()
                return parts.scan(part)

            try:
                return pl.collect_all(plan(scan))
            except (OSError, pl.exceptions.PolarsError):
                self._fall_back()
        return pl.collect_all(plan(lambda part: getattr(self, part).lazy()))


class StoredGraph(_Kept, ModelGraph):
    """A :class:`~lineage.graph.ModelGraph` whose frames are read from kept state when
    first used (a command asking one node's ancestry never reads every node)."""

    _parts_names = GRAPH_PARTS
    _kept_as: tuple[Store | None, str | None]
    _walks: dict[str, Walks]  # read once, for every walk of one command

    def __init__(
        self,
        nodes: pl.DataFrame | None = None,
        edges: pl.DataFrame | None = None,
        broken: pl.DataFrame | None = None,
        resolution: pl.DataFrame | None = None,
        *,
        parts: Parts | None = None,
        rebuild: Callable | None = None,
        store: Store | None = None,
        name: str | None = None,
    ) -> None:
        frames = {"nodes": nodes, "edges": edges, "broken": broken, "resolution": resolution}
        self._setup(frames, parts, rebuild)
        object.__setattr__(self, "_kept_as", (store, name))
        object.__setattr__(self, "_walks", {})

    def walks(self) -> Walks:
        """The graph's :class:`~lineage.graph.Walks`, kept beside it (``walks-<variant>``):
        made once per generation, so a walk reads two columns instead of sorting every edge."""
        if "walks" in self._walks:
            return self._walks["walks"]
        self._walks["walks"] = made = self._kept_walks()
        return made

    def _kept_walks(self) -> Walks:
        store, name = self._kept_as
        if store is None or name is None or self._parts is None:
            return super().walks()

        def build() -> dict[str, pl.DataFrame]:
            return super(StoredGraph, self).walks().frames()

        parts, frames = kept(store, f"walks-{name}", WALK_PARTS, build)
        if parts is None:
            assert frames is not None  # kept() gives the frames when no files back them
            return Walks(**{part: frames[part].to_series() for part in WALK_PARTS})
        try:
            return Walks(**{part: parts.read(part).to_series() for part in WALK_PARTS})
        except (OSError, pl.exceptions.PolarsError):  # damaged after all: dropped, built again
            drop_set(parts.directory)
            return super().walks()

    nodes = _lazy("nodes")
    edges = _lazy("edges")
    broken = _lazy("broken")
    resolution = _lazy("resolution")

    @property
    def n(self) -> int:
        if self._on_disk("nodes") and self._parts is not None:
            return self._parts.rows["nodes"]
        return self.nodes.height


class StoredAttribution(_Kept, Attribution):
    """An :class:`~lineage.attribution.Attribution` read from kept state when first used."""

    _parts_names = ATTRIBUTION_PARTS

    def __init__(
        self,
        graph: ModelGraph,
        derivatives: pl.DataFrame | None = None,
        weights: pl.DataFrame | None = None,
        root_set: str = "all",
        multi_parent: MultiParent = "split",
        root_ids: list[str] | None = None,
        *,
        roots: pl.DataFrame | None = None,
        parts: Parts | None = None,
        rebuild: Callable | None = None,
    ) -> None:
        for name, value in (
            ("graph", graph),
            ("root_set", root_set),
            ("multi_parent", multi_parent),
            ("root_ids", root_ids),
        ):
            object.__setattr__(self, name, value)
        frames = {"derivatives": derivatives, "weights": weights, "roots": roots}
        self._setup(frames, parts, rebuild)

    derivatives = _lazy("derivatives")
    weights = _lazy("weights")

    @property
    def roots(self) -> pl.DataFrame:
        """The attributed roots: kept, or (for a copy made with other frames, as
        ``dataclasses.replace`` makes) computed from its weights."""
        if self._on_disk("roots") or "roots" in self._cache:
            return self._load("roots")
        return super().roots
