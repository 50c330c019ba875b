"""Ingesting the hub-stats dump: every public model's API record in one Parquet file.

The dataset ``cfahlgren1/hub-stats`` publishes ``models.parquet`` daily: the Hub's own
record of each public model, ``baseModels`` included. One download replaces the thousands
of requests of a whole-Hub sweep. This module owns:

- checking a dump's columns from its Parquet schema before reading any data
  (:func:`check_dump`), and laying its columns out as :data:`~lineage.schema.RAW_SCHEMA`,
  column-wise and lazily (:func:`scan_dump`);
- downloading the latest dump into the Hugging Face cache (:func:`download_hub_stats`);
- :func:`ingest_hub_stats`: stream the dump in slices of rows through
  :func:`~lineage.records.parse_raw`, the parser crawls use, and commit the result to the
  store once, as a complete observation dated by the dump, with a crawl-log row and a
  snapshot of its counters. A dump older than the store's records reads only its ids and
  counters first, and parses only the rows it makes current (models deleted since); a date
  an earlier ingest holds is skipped unread unless asked to replace it.

Streaming keeps memory bounded: the heavy ``cardData`` and ``gguf`` strings exist for one
slice at a time; only the two card values lineage needs are extracted, with
``str.json_path_match``, which prints them exactly as :func:`~lineage.cards.encode_card_value`
does for a crawl (and of ``gguf``, the architecture and parameter count that lineage
inference reads). The only per-row Python work is the card reader that ``parse_raw`` runs on
the rows whose card declares something.

The date of a dump (its snapshot date) is the date its counters were read, which neither
``createdAt`` nor ``lastModified`` tell (they are the models' dates, not the dump's). For a
download it is the commit date of the dataset revision downloaded; for a local file, the
file's modification time (UTC). Callers who know better pass ``snapshot_date``.

It must not: parse model records itself (``records`` does), write tables other than through
:meth:`Store.commit <lineage.store.Store.commit>`, or print (the CLI renders the summary).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import os
import queue
import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .errors import HubUnreachable, InputError
from .hub_errors import hub_errors
from .progress import Progress
from .records import Batch, parse_raw
from .schema import RAW_SCHEMA, UTC_US
from .settings import hub_cache_dir, hub_endpoint
from .store import Store
from .summary import RunSummary

HUB_STATS_REPO = "cfahlgren1/hub-stats"
HUB_STATS_FILE = "models.parquet"
DEFAULT_BATCH_ROWS = 250_000

# Without these a row is not a model record lineage can place in time and in the graph.
REQUIRED_COLUMNS = ("id", "createdAt", "tags")
# Read when present, null when absent (older or trimmed dumps). trendingScore is part of
# the dump but nothing lineage keeps; of gguf only the architecture and parameter count.
OPTIONAL_COLUMNS = (
    "author",
    "lastModified",
    "downloads",
    "downloadsAllTime",
    "likes",
    "pipeline_tag",
    "library_name",
    "cardData",
    "safetensors",
    "baseModels",
    "gguf",
)

_HEX40 = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class HubStatsDump:
    """A local copy of the dump and the date its counters describe.

    ``date_source`` says where ``snapshot_date`` came from: ``revision`` (the commit date
    of the downloaded dataset revision), ``file`` (the file's modification time) or
    ``given``. ``requests`` counts the HTTP requests a download made (0 for a local file);
    ``offline`` says the endpoint was unreachable and a previously downloaded dump was used.
    """

    path: Path
    snapshot_date: dt.date
    date_source: str
    revision: str | None = None
    endpoint: str | None = None
    requests: int = 0
    offline: bool = False


@dataclass(kw_only=True)
class IngestSummary(RunSummary):
    """What an ingest did; printed by the CLI, kept in part in the crawl log."""

    source: str
    snapshot_date: dt.date
    date_source: str
    revision: str | None = None
    offline: bool = False
    rows: int = 0
    models: int = 0
    requests: int = 0
    # Models the dump lists whose store record is newer (an older dump): their counters
    # join its snapshot, their records stay.
    models_older: int = 0
    # The dump's date was held already (an earlier ingest of that date): nothing was read.
    skipped: bool = False
    # Optional columns this dump lacks (older dumps): read as nulls.
    absent_columns: list[str] = field(default_factory=list)


# -- reading a dump --------------------------------------------------------------------------


def check_dump(path: str | os.PathLike[str]) -> dict[str, pl.DataType]:
    """The dump's Parquet schema, once its columns are known good (reads no data).

    Raises
    ------
    InputError
        The file is missing or not Parquet, or required columns are missing, or a column
        has a type the dump never has.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no hub-stats dump at {path}")
    try:
        schema = dict(pl.read_parquet_schema(path))
    except Exception as exc:  # polars raises several kinds for a torn or foreign file
        raise InputError(f"hub-stats dump {path} cannot be read: {_first_line(exc)}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in schema]
    if missing:
        raise InputError(
            f"hub-stats dump {path} lacks columns: {', '.join(sorted(missing))} "
            f"(is it the models table of {HUB_STATS_REPO}?)"
        )
    wrong = [
        f"{name} ({dtype}, expected {_EXPECTED[name]})"
        for name, dtype in schema.items()
        if name in _EXPECTED and not _type_ok(name, dtype)
    ]
    if wrong:
        raise InputError(
            f"hub-stats dump {path} has columns of unexpected types: {'; '.join(wrong)}"
        )
    return schema


_EXPECTED = {
    "id": "string",
    "author": "string",
    "createdAt": "datetime or string",
    "lastModified": "datetime or string",
    "downloads": "integer",
    "downloadsAllTime": "integer",
    "likes": "integer",
    "pipeline_tag": "string",
    "library_name": "string",
    "tags": "list of strings",
    "cardData": "JSON string",
    "safetensors": "struct",
    "baseModels": "struct",
    "gguf": "JSON string",
}


def _type_ok(name: str, dtype: pl.DataType) -> bool:
    expected = _EXPECTED[name]
    if dtype == pl.Null:
        return True
    if expected in ("string", "JSON string"):
        return dtype == pl.String
    if expected == "datetime or string":
        return isinstance(dtype, pl.Datetime) or dtype == pl.String
    if expected == "integer":
        return dtype.is_integer()
    if expected == "list of strings":
        return isinstance(dtype, pl.List) and dtype.inner in (pl.String, pl.Null)
    return isinstance(dtype, pl.Struct)


def scan_dump(path: str | os.PathLike[str]) -> pl.LazyFrame:
    """The dump laid out as :data:`~lineage.schema.RAW_SCHEMA`, lazily.

    Row for row, this is what :func:`~lineage.records.raw_from_items` makes of the same
    models' API JSON; absent optional columns are nulls.

    Examples
    --------
    >>> import tempfile
    >>> path = write_hub_stats_dump(
    ...     [{"id": "me/x", "tags": [], "cardData": {"base_model": ["a/b", "c/d"]}}],
    ...     tempfile.mkdtemp() + "/models.parquet", exclude=["baseModels"])
    >>> scan_dump(path).select("id", "card_base_model", "base_models").collect().row(0)
    ('me/x', '["a/b","c/d"]', None)
    """
    schema = check_dump(path)
    return pl.scan_parquet(Path(path)).select(_raw_columns(schema))


def _raw_columns(schema: dict[str, pl.DataType]) -> list[pl.Expr]:
    # A column some writer typed Null (all values missing) is as good as absent.
    schema = {name: dtype for name, dtype in schema.items() if dtype != pl.Null}

    def present(name: str, dtype: pl.DataType | None = None) -> pl.Expr:
        return pl.col(name) if name in schema else pl.lit(None, dtype or pl.String())

    def timestamp(name: str) -> pl.Expr:
        dtype = schema.get(name)
        column = pl.col(name)
        if dtype is None:
            return pl.lit(None, UTC_US)
        if dtype == pl.String:
            return column.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
        # The dump's datetimes are naive UTC; a re-exported one may carry a zone.
        if dtype.time_zone is None:  # type: ignore[attr-defined]
            return column.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return column.dt.convert_time_zone("UTC").dt.cast_time_unit("us")

    def struct_field(name: str, *path: str) -> pl.Expr | None:
        dtype = schema.get(name)
        expr = pl.col(name)
        for part in path:
            fields = {f.name: f.dtype for f in getattr(dtype, "fields", [])}
            if part not in fields:
                return None
            expr, dtype = expr.struct.field(part), fields[part]
        return expr

    total = struct_field("safetensors", "total")
    relation = struct_field("baseModels", "relation")
    base_list = struct_field("baseModels", "models")
    base_ids = None
    if base_list is not None:
        fields = {f.name: f.dtype for f in schema["baseModels"].fields}  # type: ignore[attr-defined]
        inner = getattr(fields["models"], "inner", None)
        if isinstance(inner, pl.Struct) and "id" in inner.to_schema():
            base_ids = _drop_null_items(base_list.list.eval(pl.element().struct.field("id")))

    no_tags = pl.lit([], pl.List(pl.String()))
    card = pl.col("cardData")
    if "cardData" in schema:
        # json_path_match parses the whole card; run it only on cards that name the key.
        naming_base = pl.when(_names_key(card, "base_model")).then(card)
        card_base = naming_base.str.json_path_match("$.base_model")
        naming_relation = pl.when(_names_key(card, "base_model_relation")).then(card)
        card_relation = naming_relation.str.json_path_match("$.base_model_relation")
    else:
        card_base = card_relation = pl.lit(None, pl.String())
    if "gguf" in schema:
        gguf = pl.col("gguf")
        gguf_architecture = gguf.str.json_path_match("$.architecture")
        gguf_parameters = gguf.str.json_path_match("$.total").cast(pl.Int64, strict=False)
    else:
        gguf_architecture, gguf_parameters = pl.lit(None, pl.String()), pl.lit(None, pl.Int64())

    columns = {
        "id": pl.col("id"),
        "author": present("author"),
        "created_at": timestamp("createdAt"),
        "last_modified": timestamp("lastModified"),
        "downloads": present("downloads", pl.Int64()),
        "downloads_all_time": present("downloadsAllTime", pl.Int64()),
        "likes": present("likes", pl.Int64()),
        "pipeline_tag": present("pipeline_tag"),
        "library_name": present("library_name"),
        # raw_from_items reads a missing tag list as empty and skips non-string tags.
        "tags": _drop_null_items(pl.col("tags")).fill_null(no_tags)
        if "tags" in schema
        else no_tags,
        "parameters": total if total is not None else pl.lit(None, pl.Int64()),
        # The dump has no config column: no model_type, no PEFT base.
        "model_type": pl.lit(None, pl.String()),
        "gguf_architecture": gguf_architecture,
        "gguf_parameters": gguf_parameters,
        "adapter_base": pl.lit(None, pl.String()),
        "base_models_relation": relation if relation is not None else pl.lit(None, pl.String()),
        "base_models": base_ids if base_ids is not None else pl.lit(None, pl.List(pl.String())),
        "card_base_model": card_base,
        "card_base_model_relation": card_relation,
    }
    return [columns[name].cast(dtype).alias(name) for name, dtype in RAW_SCHEMA.items()]


def _names_key(text: pl.Expr, key: str) -> pl.Expr:
    r"""Whether a JSON text may name ``key`` (an ASCII word): never false when it does.

    A key is a JSON string, so each of its characters is written as itself or as a
    ``\uXXXX`` escape (hex digits in either case; letters and ``_`` have no other escape),
    with any spacing before the colon after it. Python's ``json.dumps``, which writes the
    dump, escapes none of them; a hand-made or re-exported card may. The literal test
    decides nearly every card; the pattern (slow: microseconds a card) runs only on the
    other texts with an escape that can spell one of the key's characters. An ASCII
    character's escape is ``\u00`` and two hex digits, the first a digit from 0 to 7
    (``\u005f`` is ``_``, ``\u0062`` is ``b``), so the escapes of accented letters and
    other scripts, which ``json.dumps`` writes for every non-ASCII character, never send
    a card down the pattern's path.

    >>> frame = pl.DataFrame({"card": ['{"base_model" : "a/b"}', '{"\\u0062ase_model": 1}',
    ...                                '{"license": "mit"}', '{"x": "base_model"}', None,
    ...                                '{"caf\\u00e9": "\\u4e2d", "base\\u005Fmodel": 1}']})
    >>> frame.select(_names_key(pl.col("card"), "base_model"))["card"].to_list()
    [True, True, False, True, False, True]
    """
    if not key.isascii():
        raise ValueError(f"not an ASCII key: {key!r}")
    escaped = "".join(f"(?:{re.escape(c)}|\\\\u(?i:{ord(c):04x}))" for c in key)
    # Each character's escape \u00XY: the digits X it can start with.
    digits = "".join(sorted({f"{ord(c):04x}"[2] for c in key}))
    literal = text.str.contains(f'"{key}"', literal=True)
    escape = ~literal & text.str.contains("\\u", literal=True)
    maybe = pl.when(escape).then(text).str.contains(f"\\\\u00[{digits}]")
    spelled = pl.when(maybe).then(text).str.contains(f'"{escaped}"')
    return (literal | spelled.fill_null(False)).fill_null(False)


def _drop_null_items(lists: pl.Expr) -> pl.Expr:
    """Each list without its null items (a null list stays null).

    What ``list.drop_nulls`` gives, but filtered on the flat values at once instead of
    list by list: about a hundred times less CPU on the dump's tag lists.

    >>> frame = pl.DataFrame({"tags": [["a", None, "b"], None, [None], []]})
    >>> frame.select(_drop_null_items(pl.col("tags")))["tags"].to_list()
    [['a', 'b'], None, [], []]
    """
    return lists.list.filter(pl.element().is_not_null())


def count_rows(path: str | os.PathLike[str]) -> int:
    """Rows in a Parquet file, from its footer."""
    try:
        return int(pl.scan_parquet(Path(path)).select(pl.len()).collect().item())
    except Exception as exc:
        raise InputError(f"hub-stats dump {path} cannot be read: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else exc.__class__.__name__
    return line if len(line) <= 200 else line[:197] + "..."


# -- where a dump comes from -------------------------------------------------------------------


def local_dump(path: str | os.PathLike[str]) -> HubStatsDump:
    """A dump on disk, dated by its modification time (UTC)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"no hub-stats dump at {path}")
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return HubStatsDump(path=path.resolve(), snapshot_date=mtime.date(), date_source="file")


def resolve_endpoint(endpoint: str | None = None) -> str:
    """The Hub endpoint: the argument, else ``HF_ENDPOINT`` now, else huggingface.co.

    huggingface_hub reads ``HF_ENDPOINT`` once, at import; reading it here at call time
    lets a later setting (a test's fake Hub, a mirror chosen by a wrapper) win.
    """
    return hub_endpoint(endpoint)


@contextlib.contextmanager
def hub_progress_bars(enabled: bool) -> Iterator[None]:
    """Silence huggingface_hub's own download bar unless lineage shows progress."""
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    if enabled or are_progress_bars_disabled():
        yield
        return
    disable_progress_bars()
    try:
        yield
    finally:
        enable_progress_bars()


def download_hub_stats(
    *,
    endpoint: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress_bars: bool = False,
) -> HubStatsDump:
    """Download the latest ``models.parquet`` of ``cfahlgren1/hub-stats`` into the HF cache.

    A file already cached at the latest revision is not downloaded again; if the endpoint
    cannot be reached but a dump is cached, the cached one is used (``offline`` is set).
    The dump is dated by the commit date of its revision (one more request); if the
    endpoint cannot say (offline, or a mirror without the datasets API), by the cached
    file's modification time.

    Raises
    ------
    HubUnreachable
        The endpoint cannot be reached (offline, refused, timed out) and nothing is cached,
        or it answered 5xx or 429.
    NotOnHub, HubAuthError, HubError
        The endpoint answered that it has no such file, refused the token or access, or
        refused the request (see :mod:`lineage.hub_errors`).
    """
    import httpx2
    from huggingface_hub import (
        get_hf_file_metadata,
        hf_hub_download,
        hf_hub_url,
        try_to_load_from_cache,
    )
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    from . import __version__

    endpoint = resolve_endpoint(endpoint)
    cache_dir = str(cache_dir) if cache_dir is not None else hub_cache_dir()
    where = f"{HUB_STATS_REPO}/{HUB_STATS_FILE}"
    hint = "pass the {path} of a models.parquet you downloaded"
    cached = try_to_load_from_cache(
        HUB_STATS_REPO, HUB_STATS_FILE, cache_dir=cache_dir, repo_type="dataset"
    )
    cached = cached if isinstance(cached, str) else None
    url = hf_hub_url(HUB_STATS_REPO, HUB_STATS_FILE, repo_type="dataset", endpoint=endpoint)
    kwargs: dict[str, Any] = {"library_name": "lineage", "library_version": __version__}
    try:
        with hub_errors(endpoint, where, task="download", hint=hint, params=("path",)):
            # One HEAD without retries first: hf_hub_download retries a refused connection
            # for about 25 s, logging each attempt, before it says anything useful.
            get_hf_file_metadata(url, timeout=30, endpoint=endpoint, **kwargs)
            with hub_progress_bars(progress_bars):
                local = hf_hub_download(
                    repo_id=HUB_STATS_REPO,
                    filename=HUB_STATS_FILE,
                    repo_type="dataset",
                    endpoint=endpoint,
                    cache_dir=cache_dir,
                    **kwargs,
                )
    except (httpx2.TransportError, OfflineModeIsEnabled, LocalEntryNotFoundError) as exc:
        if cached is None:
            raise HubUnreachable(
                f"cannot reach {endpoint} to download {where}; {hint}", params=("path",)
            ) from exc
        return _dated(Path(cached), endpoint, requests=1, offline=True)
    # Two HEADs (ours, then hf_hub_download's), and the GET unless it was cached.
    requests = 2 + int(cached is None or os.path.realpath(cached) != os.path.realpath(local))
    return _dated(Path(local), endpoint, requests=requests, offline=False)


def _dated(path: Path, endpoint: str, *, requests: int, offline: bool) -> HubStatsDump:
    """Date a downloaded dump by its revision's commit date, else by the file's mtime."""
    # The cache keeps each revision under snapshots/<commit>/.
    revision = path.parent.name if _HEX40.match(path.parent.name) else None
    date = None
    if revision is not None and not offline:
        requests += 1
        date = _revision_date(endpoint, revision)
    source = "revision" if date is not None else "file"
    if date is None:
        date = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
    return HubStatsDump(
        path=path,
        snapshot_date=date,
        date_source=source,
        revision=revision,
        endpoint=endpoint,
        requests=requests,
        offline=offline,
    )


def _revision_date(endpoint: str, revision: str) -> dt.date | None:
    """The commit date of a revision of the dataset, None if the endpoint cannot say."""
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=endpoint).dataset_info(HUB_STATS_REPO, revision=revision, timeout=30)
    except Exception:  # a date is a nicety: any failure falls back to the file's date
        return None
    modified = info.last_modified
    if modified is None:
        return None
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=dt.UTC)
    return modified.astimezone(dt.UTC).date()


# -- ingesting ---------------------------------------------------------------------------------


def ingest_hub_stats(
    store: Store,
    path: str | os.PathLike[str] | None = None,
    *,
    snapshot_date: dt.date | None = None,
    endpoint: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    replace: bool = False,
    verify: bool = True,
    date_source: str | None = None,
) -> IngestSummary:
    """Ingest a hub-stats dump into the store (downloading the latest if no ``path``).

    Every model of the dump is stored as crawled, with the same records a crawl of it
    gives (``source`` is ``hub-stats``, ``seen_at`` the ingest's start); parents from tags,
    then ``baseModels``, then the card. The store changes in one atomic commit at the end,
    so a dump that turns out unreadable halfway leaves the store as it was.

    Parameters
    ----------
    store : the store to write.
    path : a local ``models.parquet``; None downloads the latest from ``endpoint``.
    snapshot_date : the date the dump's counters describe, if known better than the
        revision's commit date (download) or the file's modification time (local file).
    endpoint : Hub endpoint for the download (default ``HF_ENDPOINT`` or huggingface.co).
    cache_dir : huggingface_hub cache for the download (default: its usual cache).
    progress : progress on stderr (none if None).
    batch_rows : rows parsed per slice; bounds memory together with the file's row groups.
    replace : ingest a date the store holds from an earlier ingest again (otherwise such a
        dump is skipped, unread: ``summary.skipped``).
    verify : check every file of the store first (:meth:`Store.verify`); a caller that
        ingests several dumps in a row checks once, then passes False.
    date_source : where ``snapshot_date`` came from, for the summary (default ``given``;
        ``path`` for a date read from the file's path, see :mod:`lineage.backfill`).

    Raises
    ------
    InputError
        The dump is missing, unreadable, not a hub-stats models table, or has no models.
    HubUnreachable, HubError
        The download failed (only without ``path``).
    StoreError
        The store is locked by another process, cannot be written, or has a damaged file
        (checked before the download).

    Examples
    --------
    >>> import tempfile
    >>> dump = write_hub_stats_dump(
    ...     [{"id": "a/base", "createdAt": "2025-01-01T00:00:00.000Z", "tags": []},
    ...      {"id": "me/x-GGUF", "createdAt": "2025-02-01T00:00:00.000Z",
    ...       "tags": ["gguf", "base_model:a/base"]}],
    ...     tempfile.mkdtemp() + "/models.parquet")
    >>> summary = ingest_hub_stats(Store(tempfile.mkdtemp()), dump,
    ...                            snapshot_date=dt.date(2026, 1, 5))
    >>> summary.models, summary.edges_by_relation
    (2, {'quantized': 1})
    """
    if batch_rows < 1:
        raise ValueError("batch_rows must be positive")
    clock = time.monotonic()
    started = dt.datetime.now(dt.UTC)
    progress = progress or Progress(enabled=False)
    if verify:
        store.verify()  # a damaged store is named before anything is downloaded or parsed
    if path is None:
        dump = download_hub_stats(
            endpoint=endpoint, cache_dir=cache_dir, progress_bars=progress.enabled
        )
    else:
        dump = local_dump(path)
    if snapshot_date is not None:
        dump = dataclasses.replace(
            dump, snapshot_date=snapshot_date, date_source=date_source or "given"
        )
    summary = IngestSummary(
        store=str(store.path),
        source=str(dump.path),
        snapshot_date=dump.snapshot_date,
        date_source=dump.date_source,
        revision=dump.revision,
        offline=dump.offline,
        requests=dump.requests,
    )
    schema = check_dump(dump.path)
    summary.absent_columns = [
        c for c in OPTIONAL_COLUMNS if c not in schema or schema[c] == pl.Null
    ]
    raw = pl.scan_parquet(dump.path).select(_raw_columns(schema))
    rows = count_rows(dump.path)
    if rows == 0:
        raise InputError(
            f"hub-stats dump {dump.path} has no rows; nothing was ingested (a dump of the "
            "Hub lists every public model: use a complete one)"
        )
    summary.rows = rows

    with store.lock():
        if not replace and dump.snapshot_date in store.observed_dates(kind="ingest"):
            summary.skipped = True
            summary.seconds = time.monotonic() - clock
            progress.close()
            return summary
        counters, changing = _what_changes(store, raw, dump)
        parts = _parts(dump.path, schema, rows, batch_rows, min(4, pl.thread_pool_size()))
        if changing is not None:  # an older dump: parse only the records it makes current
            wanted = changing["id"].implode()
            parts = [part.filter(pl.col("id").is_in(wanted)) for part in parts]
        total = rows if changing is None else changing.height
        batch = _parse_slices(parts, dump.path, total, started, progress, batch_rows)
        if batch.models.height == 0 and changing is None:
            raise InputError(
                f"hub-stats dump {dump.path} has no valid model rows (of {rows:,}); nothing "
                "was ingested"
            )
        progress.phase("committing to the store", total=1, unit="commit")
        result = store.commit(
            batch,
            observed=dump.snapshot_date,
            complete=True,  # a dump lists every public model: one it lacks is gone
            counters=counters if changing is not None else None,
            crawl={
                "crawl_id": uuid.uuid4().hex[:12],
                "kind": "ingest",
                "started_at": started,
                "finished_at": dt.datetime.now(dt.UTC),
                "endpoint": dump.endpoint if dump.endpoint is not None else dump.path.as_uri(),
                "roots": [],
                "strategy": "hub-stats",
                "requests": dump.requests,
                "lookups": 0,
                "retries": 0,
            },
        )
    progress.close()
    edges = batch.edges
    unparsed = 0 if changing is None or counters is None else counters.height - changing.height
    summary.models = result.models_seen + unparsed
    summary.models_new = result.models_new
    summary.models_updated = result.models_updated
    summary.models_older = result.models_older + unparsed
    summary.edges_by_relation = _counts(edges["relation"])
    summary.inferred_edges = int(edges["inferred"].sum())
    summary.problems_by_kind = _counts(batch.problems["kind"])
    summary.seconds = time.monotonic() - clock
    return summary


def _what_changes(
    store: Store, raw: pl.LazyFrame, dump: HubStatsDump
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """The dump's counters (one row per id), and the ids whose records it makes current.

    None for the second when that is every row (the newest dump: parse it all; then the
    first is None too if no crawled record is newer than the dump, known from the store's
    dates alone). Otherwise (an older dump) the ids the store lacks, holds from an older or
    the same date, or holds only as a parent (``crawled`` stays true whatever the order),
    read from the ids and counters columns alone. (None, None) for a store without models:
    parse it all.
    """
    if not store.exists("models"):
        return None, None
    dates = store.read("models", ["last_seen", "crawled"], view="all")
    newest = dates.filter(pl.col("crawled")).select(pl.col("last_seen").max()).item()
    if newest is None or newest <= dump.snapshot_date:
        # No crawled record is newer than the dump (the daily case): every row is parsed
        # and its counters go with it, so the dump's ids need no reading first.
        return None, None
    try:
        counters = (
            raw.select("id", "downloads", "downloads_all_time", "likes")
            .drop_nulls("id")
            .unique("id", keep="last", maintain_order=True)
            .collect()
        )
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"hub-stats dump {dump.path} cannot be read: {_first_line(exc)}") from exc
    # One join of the dump's ids with the stored records: their keys go with the counters
    # (the commit need not read them again), and the newer ones are left unparsed.
    stored = store.records().select("id", "key", "last_seen", "crawled")
    joined = counters.join(stored, on="id", how="left", maintain_order="left")
    newer = joined.select(
        ((pl.col("last_seen") > dump.snapshot_date) & pl.col("crawled")).fill_null(False)
    ).to_series()
    if not newer.any():
        return counters, None
    return joined.drop("last_seen", "crawled"), joined.filter(~newer).select("id")


def _parts(
    path: Path, schema: dict[str, pl.DataType], rows: int, batch_rows: int, most: int
) -> list[pl.LazyFrame]:
    """The dump's rows as :data:`~lineage.schema.RAW_SCHEMA`, in consecutive parts read at once.

    polars decompresses a column one page after another, whatever the threads it has, and
    the cards are most of the dump: read as one stream, one core decompresses them while
    the other waits. In parts (one per core, up to ``most``, each at least two slices of
    rows), each stream decompresses its own pages; a slice of the file reads only the pages
    of its rows, wherever the file's row groups end. (At 2.5M rows on 2 cores: 7% less
    wall time, the same CPU.)
    """
    count = max(1, min(most, rows // (2 * batch_rows)))
    bounds = [rows * i // count for i in range(count + 1)]
    scan = pl.scan_parquet(path)
    return [
        scan.slice(start, end - start).select(_raw_columns(schema))
        for start, end in itertools.pairwise(bounds)
    ]


def _parse_slices(
    parts: list[pl.LazyFrame],
    path: Path,
    rows: int,
    seen_at: dt.datetime,
    progress: Progress,
    batch_rows: int,
) -> Batch:
    """Stream the raw frames through the parser, ``batch_rows`` at a time, each part in a
    thread of its own; the slices in the dump's order."""
    seen_at = seen_at.replace(microsecond=0)
    progress.phase("reading the hub-stats dump", total=rows, unit="model")
    read: queue.SimpleQueue[int] = queue.SimpleQueue()
    stop = threading.Event()

    def parse(part: pl.LazyFrame) -> list[Batch]:
        slices = []
        for chunk in part.collect_batches(chunk_size=batch_rows, maintain_order=True):
            if stop.is_set():
                break
            slices.append(parse_raw(chunk, seen_at=seen_at, source="hub-stats", crawled=True))
            read.put(chunk.height)
        return slices

    parsed: list[Batch] = []
    with ThreadPoolExecutor(len(parts)) as pool:
        futures = [pool.submit(parse, part) for part in parts]
        try:
            # Progress from this thread only. A failed part fails the ingest at once and
            # stops the others at their next slice (the finally), as does an interrupt.
            while not all(f.done() for f in futures) or not read.empty():
                with contextlib.suppress(queue.Empty):
                    progress.advance(read.get(timeout=0.1))
                for future in futures:
                    if future.done() and future.exception():
                        future.result()
            for future in futures:
                parsed += future.result()
        except pl.exceptions.PolarsError as exc:
            raise InputError(f"hub-stats dump {path} cannot be read: {_first_line(exc)}") from exc
        except OSError as exc:
            raise InputError(
                f"hub-stats dump {path} cannot be read: {exc.strerror or exc}"
            ) from exc
        finally:
            stop.set()
    # In id order, the store's: the commit then sorts nothing, and the dump's order of the
    # models is freed before it starts (one copy of 2.5M records less at its peak). Sorted,
    # a model listed in two slices has its rows side by side.
    batch = Batch.concat(parsed)
    models = _by_id(batch.models)
    ids = models.get_column("id")
    if not (ids.len() > 1 and (ids.head(-1).eq_missing(ids.tail(-1))).any()):
        return dataclasses.replace(batch, models=models)
    del models, ids
    batch = _latest_per_model(parsed)
    del parsed
    return dataclasses.replace(batch, models=_by_id(batch.models))


def _by_id(models: pl.DataFrame) -> pl.DataFrame:
    """``models.sort("id", maintain_order=True)``, in one chunk, at about half its cost.

    polars finds the order of the ids (a stable ``arg_sort_by``: models listed twice keep
    theirs) faster than it sorts rows by them, and gathers rows from a frame of many chunks
    (one per slice) several times slower than from one. So each column is gathered in that
    order from one chunk of its own (a copy of one column or two more at a time, not of the
    frame). (The ids with their row numbers appended, sorted as strings, took 1.2x as long
    on the bench's dump's 2.5M ids, as long on the independent population's.)
    """
    ids = models.get_column("id")
    if ids.is_sorted():
        return models.rechunk()
    order = ids.to_frame().select(pl.arg_sort_by("id", maintain_order=True)).to_series()
    # Two columns at a time (polars gathers one column on one core, without the GIL).
    with ThreadPoolExecutor(2) as pool:
        frame = pl.DataFrame(pool.map(lambda c: c.rechunk().gather(order), models.iter_columns()))
    # Flagged as the sort's output is, or each check of the order after it (the commit
    # makes three) scans 2.5M ids again.
    return frame.with_columns(pl.col("id").set_sorted())


def _latest_per_model(parsed: list[Batch]) -> Batch:
    """Concatenate slices where a model is listed in two; it keeps its last row, as a crawl
    would."""
    # parse_raw deduplicates within a slice; across slices, drop the earlier slices' rows.
    last = (
        pl.concat([p.models.select("id", pl.lit(i).alias("slice")) for i, p in enumerate(parsed)])
        .group_by("id")
        .agg(pl.col("slice").max())
    )

    def keep(frame: pl.DataFrame, key: str, i: int) -> pl.DataFrame:
        mine = last.filter(pl.col("slice") == i).select(pl.col("id").alias(key))
        return frame.join(mine, on=key, how="semi")

    return Batch.concat(
        Batch(keep(p.models, "id", i), keep(p.edges, "child", i), keep(p.problems, "model", i))
        for i, p in enumerate(parsed)
    )


def _counts(column: pl.Series) -> dict[str, int]:
    """Each value's count, most common first, ties in the order values first appear (what
    ``Counter.most_common`` gives), counted by polars: a Counter over the Python strings of
    2.5M models' edges took 0.2 s after the commit.

    >>> _counts(pl.Series(["merge", "finetune", None, "finetune", "merge", "adapter"]))
    {'merge': 2, 'finetune': 2, None: 1, 'adapter': 1}
    """
    counts = (
        column.rename("value")
        .to_frame()
        .group_by("value", maintain_order=True)
        .len()
        .sort("len", descending=True, maintain_order=True)
    )
    return dict(counts.iter_rows())
