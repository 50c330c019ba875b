"""The model population behind FakeHub: indexes, orderings, cursors and field projection.

No HTTP here. `Population` holds the model records (dicts in the Hub's API shape) and answers
the questions the HTTP layer asks: which models match a listing query, in which order, where the
next page starts, and which fields each answer item carries. Everything a request needs is looked
up in indexes built at load time, so a 200k-model population answers paged listings without
scanning itself (only `search`, a substring match, walks the ordering).

Orderings are the Hub's: every sort is descending, the default one is `trendingScore`, and a
cursor is the sort key of the last item served (value, then a tie-break). So when values move
between two pages (a score re-drawn, see `Population.rescore`), a cursor built from a moving
key skips models that moved above it and repeats models that moved below it, as on the Hub;
a cursor built from `createdAt` never does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import json
import math
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

# Fields of a listing item when the client asks for no `expand` (what the Hub sends for a bare
# `GET /api/models`); `modelId` is added on top, as the Hub still does for old clients.
LISTING_FIELDS = (
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
)

# Values the Hub accepts in `expand` (huggingface_hub's ExpandModelProperty_T).
EXPAND_PROPERTIES = frozenset(
    {
        "author",
        "baseModels",
        "cardData",
        "childrenModelCount",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "usedStorage",
        "widgetData",
    }
)
# The Hub computes these per repo and refuses them in listings (HTTP 400); model_info allows them.
INFO_ONLY_EXPAND = frozenset({"baseModels", "childrenModelCount"})

# Sortable fields, all sorted descending like the Hub (which ignores `direction`). Dates are
# compared as instants.
NUMERIC_SORTS = frozenset({"downloads", "likes", "trendingScore"})
DATE_SORTS = frozenset({"createdAt", "lastModified"})
SORTS = NUMERIC_SORTS | DATE_SORTS
DEFAULT_ORDER = "trendingScore"  # the Hub's order when a listing gives no `sort`
# Fields `Population.rescore` moves (the Hub recomputes them all the time).
MOVING_FIELDS = ("trendingScore", "downloads")

# Records whose fields are never part of a bare or `full` listing item.
_NOT_IN_FULL_LISTING = frozenset({"cardData", "config", "baseModels", "childrenModelCount"})
_NOT_IN_INFO = frozenset({"baseModels", "childrenModelCount"})

# Key = tuple of numbers, compared ascending; a cursor is the key of the last item served.
Key = tuple


class QueryError(ValueError):
    """A request the Hub would refuse with HTTP 400; the message is the `error` of the body."""


def stable_object_id(repo_id: str) -> str:
    """A 24-hex id (Mongo ObjectId shape, like the Hub's `_id`) derived from the repo id."""
    return hashlib.sha1(repo_id.encode()).hexdigest()[:24]


def encode_cursor(sort: str, key: Key) -> str:
    """Opaque, URL-safe cursor: the sort and the position key of the last item served.

    The cursor carries the position itself rather than a handle to server state, so a saved
    `next` URL stays valid across reconnects, server restarts and population changes.
    """
    raw = json.dumps([sort, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> Key:
    # Text after a '.' (outside the base64 alphabet) is a stalled cursor's new spelling.
    cursor = cursor.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, *key = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as e:
        raise QueryError("Invalid cursor") from e
    if cursor_sort != sort or not key or not all(isinstance(k, int | float) for k in key):
        raise QueryError("Invalid cursor: it belongs to another sort order")
    return tuple(key)


def _sort_value(record: Mapping[str, Any], sort: str) -> float | None:
    value = record.get(sort)
    if sort in DATE_SORTS:
        if not isinstance(value, str):
            return None
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


class Population:
    """Model records plus the indexes that serve listing and lookup queries.

    Every record gets a sequence number when it is added; it never changes and is never reused,
    which makes (sort value, seq) a total, stable order to page through. All methods are
    thread-safe: the HTTP server reads from handler threads while a test mutates.
    """

    def __init__(
        self, models: Iterable[Mapping[str, Any]] = (), renames=None, *, author_any_case=False
    ) -> None:
        self._lock = threading.RLock()
        self.author_any_case = author_any_case
        self._records: dict[int, Mapping[str, Any]] = {}  # seq -> record, in insertion order
        self._lower_ids: dict[int, str] = {}  # seq -> lowercased id, for `search`
        self._by_id: dict[str, int] = {}  # lowercased id -> seq
        self._by_tag: dict[str, set[int]] = {}
        self._by_author: dict[str, set[int]] = {}  # lowercased author -> seqs
        self._by_pipeline: dict[str, set[int]] = {}
        self._renames: dict[str, str] = {}  # lowercased old id -> new id
        self._next_seq = 0
        # Sorted orderings, built on first use and dropped on any change: (keys, seqs, key_of).
        self._orders: dict[str, tuple[list[Key], list[int], dict[int, Key]]] = {}
        for model in models:
            self.add(model)
        for old, new in (renames or {}).items():
            self.add_rename(old, new)

    # ---- mutation -------------------------------------------------------------------------

    def add(self, model: Mapping[str, Any]) -> Mapping[str, Any]:
        repo_id = model.get("id")
        if not isinstance(repo_id, str) or not repo_id:
            raise ValueError(f"model record without a string 'id': {model!r:.200}")
        if "_id" not in model:
            # Copy once at load rather than writing into the caller's dict.
            model = {"_id": stable_object_id(repo_id), **model}
        with self._lock:
            lower = repo_id.lower()
            if lower in self._by_id:
                raise ValueError(f"duplicate model id {repo_id!r}")
            seq = self._next_seq
            self._next_seq += 1
            self._records[seq] = model
            self._index(seq, model)
            self._order_insert(seq, model)
        return model

    def update(self, repo_id: str, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        with self._lock:
            seq = self._seq(repo_id)
            old = self._records[seq]
            new = {**old, **fields}  # a new dict: the caller's original is never written to
            if new["id"].lower() != old["id"].lower() and new["id"].lower() in self._by_id:
                raise ValueError(f"duplicate model id {new['id']!r}")
            self._unindex(seq, old)
            self._order_delete(seq)
            self._records[seq] = new
            self._index(seq, new)
            self._order_insert(seq, new)
            return new

    def remove(self, repo_id: str) -> Mapping[str, Any]:
        with self._lock:
            seq = self._seq(repo_id)
            record = self._records.pop(seq)
            self._unindex(seq, record)
            self._order_delete(seq)
            return record

    def rescore(self, draws: Mapping[str, Mapping[str, Any]]) -> None:
        """Set new values of :data:`MOVING_FIELDS` (only) for some models, in one step.

        `draws` maps repo id -> {field: value}. Those fields are not indexed, so this is
        cheap; only the orderings by those fields are rebuilt (on their next use).
        """
        with self._lock:
            for repo_id, values in draws.items():
                if set(values) - set(MOVING_FIELDS):
                    raise ValueError(f"rescore moves only {MOVING_FIELDS}")
                seq = self._seq(repo_id)
                self._records[seq] = {**self._records[seq], **values}
            for name in MOVING_FIELDS:
                self._orders.pop(name, None)

    def seqs(self) -> list[int]:
        """Sequence numbers of the current models, oldest addition first."""
        with self._lock:
            return list(self._records)

    def id_of(self, seq: int) -> str:
        return self._records[seq]["id"]

    def add_rename(self, old_id: str, new_id: str) -> None:
        with self._lock:
            self._renames[old_id.lower()] = new_id

    def _seq(self, repo_id: str) -> int:
        try:
            return self._by_id[repo_id.lower()]
        except KeyError:
            raise KeyError(f"no model {repo_id!r}") from None

    def _index(self, seq: int, record: Mapping[str, Any]) -> None:
        lower = record["id"].lower()
        self._by_id[lower] = seq
        self._lower_ids[seq] = lower
        for tag in set(record.get("tags") or ()):
            self._by_tag.setdefault(tag, set()).add(seq)
        author = _author_of(record)
        if author:
            self._by_author.setdefault(author.lower(), set()).add(seq)
        pipeline = record.get("pipeline_tag")
        if isinstance(pipeline, str):
            self._by_pipeline.setdefault(pipeline, set()).add(seq)

    def _unindex(self, seq: int, record: Mapping[str, Any]) -> None:
        del self._by_id[record["id"].lower()]
        del self._lower_ids[seq]
        for tag in set(record.get("tags") or ()):
            _discard(self._by_tag, tag, seq)
        author = _author_of(record)
        if author:
            _discard(self._by_author, author.lower(), seq)
        pipeline = record.get("pipeline_tag")
        if isinstance(pipeline, str):
            _discard(self._by_pipeline, pipeline, seq)

    # ---- lookup ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._records)

    def get(self, repo_id: str) -> Mapping[str, Any] | None:
        """The record for `repo_id`, matched case-insensitively like the Hub."""
        with self._lock:
            seq = self._by_id.get(repo_id.lower())
            return None if seq is None else self._records[seq]

    def renamed_to(self, repo_id: str) -> str | None:
        """Where a renamed repo now lives (only consulted when no model has this id)."""
        return self._renames.get(repo_id.lower())

    def children_count(self, repo_id: str) -> int:
        return len(self._by_tag.get(f"base_model:{repo_id}", ()))

    def records(self) -> list[Mapping[str, Any]]:
        with self._lock:
            return list(self._records.values())

    # ---- listing --------------------------------------------------------------------------

    def query(
        self,
        *,
        author: str | None = None,
        filters: Iterable[str] = (),
        pipeline_tag: str | None = None,
        search: str | None = None,
        sort: str = DEFAULT_ORDER,
        after: Key | None = None,
        limit: int,
    ) -> tuple[list[Mapping[str, Any]], Key | None]:
        """One page of matching records, and the cursor key of its last item if more remain."""
        needle = search.lower() if search else None
        with self._lock:
            keys, seqs, key_of = self._order(sort)
            candidates = self._candidates(author, filters, pipeline_tag)
            if candidates is not None and _sorting_is_cheaper(len(candidates), len(seqs), limit):
                # Few candidates: order them directly rather than walk the whole ordering.
                eligible = (
                    (key_of[s], s)
                    for s in candidates
                    if (after is None or key_of[s] > after)
                    and (needle is None or needle in self._lower_ids[s])
                )
                page = [s for _, s in heapq.nsmallest(limit + 1, eligible)]
            else:
                page = []
                start = 0 if after is None else bisect_right(keys, after)
                for i in range(start, len(seqs)):
                    s = seqs[i]
                    if candidates is not None and s not in candidates:
                        continue
                    if needle is not None and needle not in self._lower_ids[s]:
                        continue
                    page.append(s)
                    if len(page) > limit:
                        break
            more = len(page) > limit
            page = page[:limit]
            next_key = key_of[page[-1]] if more else None
            return [self._records[s] for s in page], next_key

    def _candidates(
        self, author: str | None, filters: Iterable[str], pipeline_tag: str | None
    ) -> set[int] | None:
        """Seqs allowed by the indexed conditions (AND), or None when nothing restricts."""
        sets = [self._by_tag.get(tag, set()) for tag in filters]
        if author is not None:
            same = self._by_author.get(author.lower(), set())
            if not self.author_any_case:
                same = {s for s in same if _author_of(self._records[s]) == author}
            sets.append(same)
        if pipeline_tag is not None:
            sets.append(self._by_pipeline.get(pipeline_tag, set()))
        if not sets:
            return None
        sets.sort(key=len)
        return sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]

    def _order(self, sort: str) -> tuple[list[Key], list[int], dict[int, Key]]:
        cached = self._orders.get(sort)
        if cached is not None:
            return cached
        key_of = {s: _sort_key(record, sort, s) for s, record in self._records.items()}
        seqs = sorted(key_of, key=key_of.__getitem__)
        order = ([key_of[s] for s in seqs], seqs, key_of)
        self._orders[sort] = order
        return order

    # Orderings already built follow additions and removals in place (a bisect each), so
    # a Hub that changes between pages does not re-sort itself for every page.

    def _order_insert(self, seq: int, record: Mapping[str, Any]) -> None:
        for sort, (keys, seqs, key_of) in self._orders.items():
            key = _sort_key(record, sort, seq)
            at = bisect_left(keys, key)
            keys.insert(at, key)
            seqs.insert(at, seq)
            key_of[seq] = key

    def _order_delete(self, seq: int) -> None:
        for keys, seqs, key_of in self._orders.values():
            key = key_of.pop(seq)
            at = bisect_left(keys, key)
            del keys[at]
            del seqs[at]


def _sort_key(record: Mapping[str, Any], sort: str, seq: int) -> Key:
    """Descending by value; models without the value come last; seq breaks ties."""
    value = _sort_value(record, sort)
    return (1, 0, seq) if value is None else (0, -value, seq)


def _sorting_is_cheaper(n_candidates: int, n_total: int, limit: int) -> bool:
    """Choose between selecting from the candidate set and walking the global ordering.

    Selecting costs about n·log(limit); walking costs about limit·N/n steps until `limit`
    matches turn up (for candidates spread evenly through the ordering).
    """
    select = n_candidates * math.log2(limit + 2)
    walk = (limit + 1) * n_total / max(n_candidates, 1)
    return select <= walk


def _author_of(record: Mapping[str, Any]) -> str | None:
    author = record.get("author")
    if isinstance(author, str) and author:
        return author
    repo_id = record["id"]
    return repo_id.split("/", 1)[0] if "/" in repo_id else None


def _discard(index: dict[str, set[int]], name: str, seq: int) -> None:
    bucket = index.get(name)
    if bucket is not None:
        bucket.discard(seq)
        if not bucket:
            del index[name]


# ---- projection -------------------------------------------------------------------------------


def check_expand(expand: list[str], *, listing: bool) -> None:
    for prop in expand:
        if prop not in EXPAND_PROPERTIES or (listing and prop in INFO_ONLY_EXPAND):
            allowed = sorted(EXPAND_PROPERTIES - (INFO_ONLY_EXPAND if listing else frozenset()))
            raise QueryError(
                f'["expand"] Invalid enum value. Expected {" | ".join(map(repr, allowed))},'
                f" received {prop!r}"
            )


def listing_item(
    record: Mapping[str, Any], *, expand: list[str], full: bool, card_data: bool
) -> dict[str, Any]:
    if expand:
        item = {"_id": record["_id"], "id": record["id"]}
        item.update((p, record[p]) for p in expand if p in record)
        return item
    if full:
        item = {k: v for k, v in record.items() if k not in _NOT_IN_FULL_LISTING}
    else:
        item = {k: record[k] for k in LISTING_FIELDS if k in record}
    item.setdefault("modelId", record["id"])
    if card_data and "cardData" in record:
        item["cardData"] = record["cardData"]
    return item


def info_item(record: Mapping[str, Any], *, expand: list[str], children: int) -> dict[str, Any]:
    if not expand:
        item = {k: v for k, v in record.items() if k not in _NOT_IN_INFO}
        item.setdefault("modelId", record["id"])
        return item
    item = {"_id": record["_id"], "id": record["id"]}
    for prop in expand:
        if prop == "childrenModelCount":
            item[prop] = children
        elif prop in record:
            item[prop] = record[prop]
    return item
