"""FakeHub: a local stand-in for the Hugging Face Hub's read API, over real HTTP.

What it owns: a `ThreadingHTTPServer` on 127.0.0.1 (standard library only) serving a population
of model records given as dicts in the Hub's own API JSON shape, plus optional repo files. The
real `huggingface_hub` client talks to it unchanged (`HfApi(endpoint=hub.url)` or `HF_ENDPOINT`);
nothing is mocked, so retries, redirects, pagination and error mapping are the client's own.

What it imitates:
- `GET /api/models`: `author` (exact case, see below), `filter` (ANDed, exact tags),
  `pipeline_tag`, `search`, `sort` (always descending: `direction` is accepted and ignored, as
  on the Hub since a server change; without `sort` the order is `trendingScore`), `limit`,
  `expand`/`expand[]`, `full`, `cardData`; pages linked by a `Link: <...&cursor=...>;
  rel="next"` header whose cursor is the sort key of the last item served, so a saved `next`
  URL can be re-requested later, even by another process or another server run, and a key that
  moves between pages makes the listing skip and repeat models exactly as the Hub's does.
- A Hub that changes while a client pages (`Churn`): after every listing page, scores and
  downloads of some models are re-drawn, new models are created (newest `createdAt` of all)
  and some are deleted; `created_ids`, `deleted_ids` and `served` say what happened and what
  each listing page carried. `break_paging` makes the cursor cycle or stall (a Hub bug), and
  `ignore_sort` serves the default order whatever `sort` asks (a mirror that lacks it).
- `GET /api/models/{id}[/revision/{rev}]`: case-insensitive lookup, 307 for renamed repos,
  `expand` (including `baseModels` and `childrenModelCount`), 404 `RepoNotFound`.
- `HEAD`/`GET /[datasets/|spaces/]{id}/resolve/{rev}/{file}` for `hf_hub_download`: plain HTTP
  (no Xet headers), `X-Repo-Commit`, `ETag`, `Content-Length`, `Range`, 404 `EntryNotFound`;
  307 for a renamed model; a gated model's files (`"gated": "auto"` in its record) refused
  with `GatedRepo` (401 anonymous, 403 with a token) except its model card, as the Hub does.
  Models' cards and configs come from `add_files` (or a `files` key in a JSON-lines record,
  :func:`split_files`).
- Repositories with a history (`commit_files`, or `--dataset REPO=DIR` on the command line):
  `GET /api/{type}s/{repo}/tree/{rev}[/{path}]` (`list_repo_tree`: 1000 entries a page, 50 with
  `expand`, which adds each file's `lastCommit`; in no promised order), `.../commits/{rev}`
  (`list_repo_commits`: numbered pages of 50, newest first), `.../refs`, and files resolved by
  revision (`main` or a commit id), each as it was at that commit
  (:mod:`lineage.testing._fakehub_repos`).
- Bearer-token checks (401 "Invalid credentials in Authorization header"), a fixed-window rate
  limiter with the Hub's `RateLimit`/`RateLimit-Policy` headers, and injected faults (status
  codes, dropped connections, delays), with every request recorded for assertions.
- Errors worded as the Hub words them (what huggingface_hub's `hf_raise_for_status` reads):
  a JSON body `{"error": message}`, the same message in `X-Error-Message`, and for the errors
  that have one an `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`,
  `GatedRepo`, `DisabledRepo`). Anonymous access to a private or missing repo is 401
  `RepoNotFound` on the Hub (`inject(status=401, code="RepoNotFound")`); a refused token is a
  401 without a code. Injected faults answer with `_FAULT_MESSAGES`' message for their status
  unless given one; 500 carries the Hub's own "Internal Error" message, while 502/503/504
  come from the Hub's proxies, as plain text without `X-Error-*` headers.

What it does not: writes of any kind, datasets/spaces metadata APIs, private access rules,
gated ones beyond refusing a gated model's files but its card (no access is ever granted),
token scopes, revision history of models and of files given by `add_file` (any revision
answers with the current record; only `commit_files` repositories have one), LFS/Xet
redirects of large files to a CDN, the Hub's fuzzy search, or listing filters other than
the ones above (those answer 400 so a test cannot silently get unfiltered data).

Assumed, not checked against the Hub: whether `author=` matches another case. The fake matches
the exact case by default (the stricter reading; `author_any_case=True` for the other), so a
client cannot come to rely on leniency. Ties in a sort (many old models share the floored
`createdAt` 2022-03-02T23:29:04.000Z) are broken by a fixed per-model key, as the Hub's cursor
must to page through them at all.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import math
import random
import re
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, quote, unquote, urlsplit

from lineage.testing._fakehub_query import (
    DEFAULT_ORDER,
    SORTS,
    Population,
    QueryError,
    check_expand,
    decode_cursor,
    encode_cursor,
    info_item,
    listing_item,
)
from lineage.testing._fakehub_repos import (
    COMMITS_PAGE,
    TREE_PAGE,
    TREE_PAGE_EXPANDED,
    RepoError,
    RepoHistory,
    commit_item,
    decode_offset,
    encode_offset,
)
from lineage.testing._http import Served, TrackingServer

__all__ = [
    "Churn",
    "FakeHub",
    "Fault",
    "RequestRecord",
    "load_jsonl",
    "main",
    "renames_file",
    "split_files",
]

Query = dict[str, list[str]]

# Listing parameters huggingface_hub can send that FakeHub does not implement.
_UNSUPPORTED_LIST_PARAMS = (
    "apps",
    "gated",
    "inference",
    "inference_provider",
    "num_parameters",
    "config",
)
# Routes of repositories with a history (commit_files): tree, commits, refs.
_REPO_PATH = re.compile(
    r"^/api/(models|datasets|spaces)/([^/]+/[^/]+)/(?:(tree|commits)/([^/]+)(/.*)?|(refs))$"
)
_RESOLVE_PATH = re.compile(r"^/(?:(datasets|spaces|kernels)/)?(.+?)/resolve/([^/]+)/(.+)$")
_REPO_TYPE_OF_PREFIX = {"datasets": "dataset", "spaces": "space", "kernels": "kernel"}
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
_CHUNK = 1 << 20
_RATE_LIMITED = "You have exceeded our rate limit for API requests."


class RequestRecord(NamedTuple):
    method: str
    path: str  # percent-decoded path, without the query string
    query: Query  # parse_qs of the query string: {name: [values...]}
    status: int | None  # None: the connection was dropped by an injected fault
    kind: str  # "list", "info", "file" or "other"


@dataclass
class Fault:
    """An injected failure; `remaining` counts down as matching requests consume it."""

    kind: str | None
    status: int | None
    remaining: int
    retry_after: float | None = None
    drop: bool = False
    delay: float = 0.0
    match: Callable[[str, Query], bool] | None = None
    code: str | None = None  # X-Error-Code to send (RepoNotFound, GatedRepo, ...)
    message: str | None = None  # X-Error-Message and body; default: _FAULT_MESSAGES

    def applies(self, kind: str, path: str, query: Query) -> bool:
        return (
            self.remaining > 0
            and (self.kind is None or self.kind == kind)
            and (self.match is None or bool(self.match(path, query)))
        )


@dataclass(frozen=True)
class Churn:
    """How the Hub changes while a client pages: applied after every listing page served.

    `rescore`: the fraction of models whose `trendingScore` and `downloads` are re-drawn
    (the live Hub recomputes them all the time; each takes another random model's values,
    so the distribution stays the population's); `add`: models created per page, each with a
    `createdAt` newer than every model's (half of them declare an existing model as their
    parent); `delete`: models deleted per page. Seeded, so a run can be repeated.
    """

    rescore: float = 0.0
    add: int = 0
    delete: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.rescore <= 1 or self.add < 0 or self.delete < 0:
            raise ValueError("rescore is a fraction in [0, 1]; add and delete are counts >= 0")


@dataclass
class _Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    file: tuple[Path, int, int] | None = None  # (path, offset, length) streamed from disk

    @property
    def length(self) -> int:
        return self.file[2] if self.file is not None else len(self.body)


def _json(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> _Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return _Response(status, [("Content-Type", "application/json; charset=utf-8"), *headers], body)


def _error(
    status: int, message: str, code: str | None = None, headers: Iterable[tuple[str, str]] = ()
) -> _Response:
    """An error the way the Hub words it: JSON body plus X-Error-* headers the client maps."""
    headers = [("X-Error-Message", message), *headers]
    if code is not None:
        headers.append(("X-Error-Code", code))
    return _json(status, {"error": message}, headers)


def _not_found() -> _Response:
    return _json(404, {"error": "Sorry, we can't find the page you are looking for."})


def _seconds(value: float) -> str:
    # The client only parses whole seconds (`Retry-After: 3`, `t=3`).
    return str(max(0, math.ceil(value)))


class _FixedWindow:
    """The Hub's API limiter: `max_requests` per window; windows follow each other back to back."""

    def __init__(self, max_requests: int, window_seconds: float) -> None:
        self.max_requests = max_requests
        self.window = window_seconds
        self._start = time.monotonic()
        self._used = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, str, list[tuple[str, str]]]:
        """Spend one request: (allowed, seconds to reset, the RateLimit headers after it)."""
        with self._lock:
            now = time.monotonic()
            elapsed = now - self._start
            if elapsed >= self.window:
                self._start += (elapsed // self.window) * self.window
                self._used = 0
            reset = _seconds(self._start + self.window - now)
            allowed = self._used < self.max_requests
            if allowed:
                self._used += 1
            remaining = self.max_requests - self._used
        policy = f'"fixed window";"api";q={self.max_requests};w={_seconds(self.window)}'
        headers = [("RateLimit", f'"api";r={remaining};t={reset}'), ("RateLimit-Policy", policy)]
        return allowed, reset, headers


class _File:
    def __init__(self, repo_id: str, content: bytes | Path) -> None:
        self.repo_id = repo_id
        self.data = content if isinstance(content, bytes) else None
        self.path = None if isinstance(content, bytes) else Path(content)
        self._etag: tuple[tuple[int, int], str] | None = None  # ((size, mtime_ns), sha256)

    def size(self) -> int:
        return len(self.data) if self.data is not None else self._path().stat().st_size

    def _path(self) -> Path:
        assert self.path is not None  # a file given as a path, not as bytes
        return self.path

    def etag(self) -> str:
        if self.data is not None:
            version = (len(self.data), 0)
        else:
            st = self._path().stat()
            version = (st.st_size, st.st_mtime_ns)
        if self._etag is None or self._etag[0] != version:
            digest = hashlib.sha256()
            if self.data is not None:
                digest.update(self.data)
            else:
                with self._path().open("rb") as f:
                    while chunk := f.read(_CHUNK):
                        digest.update(chunk)
            self._etag = (version, digest.hexdigest())
        return self._etag[1]


class FakeHub(Served):
    """A real HTTP server imitating the Hub's model metadata API; see the module docstring.

    Use as a context manager (`with FakeHub(models) as hub: HfApi(endpoint=hub.url)`) or call
    `start()`/`stop()`. The population can change while serving (`add_model`, `update_model`,
    `remove_model`, `rename_model`); cursors stay valid across such changes.
    """

    def __init__(
        self,
        models: Iterable[Mapping[str, Any]] = (),
        *,
        page_size: int = 1000,
        renames: Mapping[str, str] | None = None,
        tokens: Iterable[str] | None = None,
        files: Mapping[tuple[str, str, str], bytes | Path] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        churn: Churn | None = None,
        author_any_case: bool = False,
        ignore_sort: bool = False,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.tokens = None if tokens is None else frozenset(tokens)
        self._population = Population(models, renames, author_any_case=author_any_case)
        self._churn: Churn | None = None
        self._rng = random.Random(0)
        self._created: list[str] = []
        self._deleted: list[str] = []
        self._newest = 0.0  # createdAt (epoch s) of the newest model, for models created next
        self._served: Counter[str] = Counter()
        self._paging_bug: tuple[str, int] | None = None
        self._pages_served = 0
        # A mirror that serves its default order whatever `sort` asks (the crawler's
        # self-checks must notice).
        self.ignore_sort = ignore_sort
        self._files: dict[tuple[str, str, str], _File] = {}
        self._file_repos: dict[tuple[str, str], str] = {}  # (type, lowercased id) -> id
        self._history = RepoHistory()  # repositories with commits (commit_files)
        self.tree_page_size, self.commits_page_size = TREE_PAGE, COMMITS_PAGE
        for (repo_type, repo_id, filename), content in (files or {}).items():
            self.add_file(repo_type, repo_id, filename, content)
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._faults: list[Fault] = []
        self._limiter: _FixedWindow | None = None
        self._address = (host, port)
        self.churn = churn

    # ---- lifecycle: start/stop, a context manager, url (Served) --------------------------

    def _new_server(self) -> _Server:
        return _Server(self._address, self)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeHub is not running; call start() or use it as a context")
        return self._server.server_address[1]

    # ---- the population -------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._population)

    def model(self, repo_id: str) -> Mapping[str, Any] | None:
        """The stored record for `repo_id` (case-insensitive), or None."""
        return self._population.get(repo_id)

    def add_model(self, model: Mapping[str, Any]) -> Mapping[str, Any]:
        """Add a model (its place in each order is its own sort value, as on the Hub)."""
        return self._population.add(model)

    def update_model(self, repo_id: str, /, **fields: Any) -> Mapping[str, Any]:
        """Replace fields of a model (`**{"model-index": ...}` for keys that are not names)."""
        return self._population.update(repo_id, fields)

    def remove_model(self, repo_id: str) -> Mapping[str, Any]:
        return self._population.remove(repo_id)

    def rename_model(self, old_id: str, new_id: str) -> Mapping[str, Any]:
        """Move a model to a new id; the old id then redirects (307) like on the Hub."""
        record = self._population.get(old_id)
        if record is None:
            raise KeyError(f"no model {old_id!r}")
        fields: dict[str, Any] = {"id": new_id}
        old_ns, new_ns = record["id"].partition("/")[0], new_id.partition("/")[0]
        if "/" in new_id and record.get("author") == old_ns:
            fields["author"] = new_ns
        updated = self._population.update(old_id, fields)
        self._population.add_rename(record["id"], new_id)
        self._move_files(record["id"], new_id)
        return updated

    def _move_files(self, old_id: str, new_id: str) -> None:
        """A renamed model keeps its files, under its new id (the old one redirects)."""
        old_key = old_id.lower()
        for repo_type, repo_key, filename in list(self._files):
            if repo_type == "model" and repo_key == old_key:
                entry = self._files.pop((repo_type, repo_key, filename))
                self._files[("model", new_id.lower(), filename)] = entry
        if self._file_repos.pop(("model", old_key), None) is not None:
            self._file_repos[("model", new_id.lower())] = new_id

    def add_file(self, repo_type: str, repo_id: str, filename: str, content: bytes | Path) -> None:
        """Serve `content` at `hf_hub_download(repo_id, filename, repo_type=repo_type)`."""
        if repo_type not in ("model", "dataset", "space", "kernel"):
            raise ValueError(f"unknown repo type {repo_type!r}")
        self._files[(repo_type, repo_id.lower(), filename)] = _File(repo_id, content)
        self._file_repos[(repo_type, repo_id.lower())] = repo_id

    def commit_files(
        self,
        repo_id: str,
        files: Mapping[str, bytes | Path | None],
        *,
        date: dt.datetime,
        repo_type: str = "dataset",
        title: str = "Upload files",
    ) -> str:
        """Commit `files` (path -> content; None deletes) to a repository with a history.

        Such a repository answers the tree (`list_repo_tree`), commits (`list_repo_commits`)
        and refs routes, and `hf_hub_download(..., revision=...)` with the file as it was at
        that revision; see :mod:`lineage.testing._fakehub_repos`. Returns the commit id.
        """
        if repo_type not in ("model", "dataset", "space"):
            raise ValueError(f"unknown repo type {repo_type!r}")
        return self._history.commit(repo_type, repo_id, files, date=date, title=title)

    # ---- a Hub that changes while it is read -----------------------------------------------

    @property
    def churn(self) -> Churn | None:
        return self._churn

    @churn.setter
    def churn(self, churn: Churn | None) -> None:
        """Start (or stop, with None) changing the population after every listing page."""
        with self._lock:
            self._churn = churn
            if churn is not None:
                self._rng = random.Random(churn.seed)
                self._newest = max(
                    (_epoch(r.get("createdAt")) for r in self._population.records()), default=0.0
                )

    @property
    def created_ids(self) -> list[str]:
        """Models created by the churn so far, in order."""
        with self._lock:
            return list(self._created)

    @property
    def deleted_ids(self) -> list[str]:
        """Models deleted by the churn so far, in order."""
        with self._lock:
            return list(self._deleted)

    @property
    def served(self) -> Counter[str]:
        """How many times each model id was an item of a listing page (since reset_counts)."""
        with self._lock:
            return Counter(self._served)

    def create_models(self, n: int, *, parent_fraction: float = 0.5, prefix: str = "new") -> list:
        """Create `n` models now (newest `createdAt` of all), as the churn does; return them.

        A `parent_fraction` of them declares a random existing model as its finetune parent.
        """
        with self._lock:
            if self._newest == 0.0:
                self._newest = max(
                    (_epoch(r.get("createdAt")) for r in self._population.records()), default=0.0
                )
            return [self._create_one(parent_fraction, prefix) for _ in range(n)]

    def _create_one(self, parent_fraction: float, prefix: str) -> Mapping[str, Any]:
        rng = self._rng
        self._newest = max(self._newest + 0.001, time.time())
        created = dt.datetime.fromtimestamp(self._newest, dt.UTC)
        number = len(self._created)
        model: dict[str, Any] = {
            "id": f"{prefix}{number % 97}/model-{number}",
            "author": f"{prefix}{number % 97}",
            "createdAt": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "downloads": rng.randrange(100),
            "downloadsAllTime": rng.randrange(1000),
            "likes": rng.randrange(10),
            "trendingScore": rng.random() * 100,
            "tags": [],
        }
        seqs = self._population.seqs()
        if seqs and rng.random() < parent_fraction:
            parent = self._population.id_of(rng.choice(seqs))
            model["tags"] = [f"base_model:{parent}", f"base_model:finetune:{parent}"]
        added = self._population.add(model)
        self._created.append(added["id"])
        return added

    def _apply_churn(self) -> None:
        churn = self._churn
        if churn is None:
            return
        rng = self._rng
        with self._lock:
            seqs = self._population.seqs()
            if churn.rescore and seqs:
                k = min(len(seqs), round(churn.rescore * len(seqs)))
                # Each chosen model takes the values of another random model (times a little
                # noise): scores move, their distribution stays the population's own.
                chosen, donors = rng.sample(seqs, k), rng.choices(seqs, k=k)
                draws = {}
                for seq, donor in zip(chosen, donors, strict=True):
                    record = self._population.get(self._population.id_of(donor))
                    assert record is not None  # a donor is a model of the population
                    score = record.get("trendingScore")
                    downloads = record.get("downloads")
                    draws[self._population.id_of(seq)] = {
                        "trendingScore": (score if isinstance(score, int | float) else 50)
                        * rng.uniform(0.9, 1.1),
                        "downloads": downloads if isinstance(downloads, int) else 0,
                    }
                self._population.rescore(draws)
            for _ in range(churn.delete):
                if not seqs:
                    break
                gone = seqs.pop(rng.randrange(len(seqs)))
                self._deleted.append(self._population.remove(self._population.id_of(gone))["id"])
            for _ in range(churn.add):
                self._create_one(0.5, "new")

    def break_paging(self, mode: str | None, *, after: int = 1) -> None:
        """Make listing cursors misbehave after `after` more pages (None: behave again).

        `"cycle"`: the next cursor points back at the first page's cursor, forever;
        `"stall"`: the cursor stops moving (the same items again) but its text changes.
        """
        if mode not in (None, "cycle", "stall"):
            raise ValueError("mode is 'cycle', 'stall' or None")
        with self._lock:
            self._paging_bug = None if mode is None else (mode, self._pages_served + after)

    # ---- faults, limits, accounting -------------------------------------------------------

    def inject(
        self,
        kind: str | None = None,
        *,
        status: int | None = None,
        times: int = 1,
        retry_after: float | None = None,
        drop: bool = False,
        delay: float = 0.0,
        match: Callable[[str, Query], bool] | None = None,
        code: str | None = None,
        message: str | None = None,
    ) -> Fault:
        """Make the next `times` requests of `kind` (None: any) fail instead of being answered.

        `status` answers with that code (429 carries `Retry-After` and `RateLimit: r=0;t=...`
        when `retry_after` is given); `drop` closes the connection without any answer; `delay`
        sleeps first (alone, it only slows the real answer down). `match(path, query)` narrows
        which requests qualify. `code` and `message` word the error as the Hub would
        (`X-Error-Code`, `X-Error-Message`; the message defaults to the status's usual one).
        Faults are consumed in the order they were injected.
        """
        if status is None and not drop and delay <= 0:
            raise ValueError("a fault needs a status, drop=True or a delay")
        if (code is not None or message is not None) and status is None:
            raise ValueError("code and message word a status: give one")
        fault = Fault(kind, status, times, retry_after, drop, delay, match, code, message)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def rate_limit(self, max_requests: int | None, window_seconds: float = 300.0) -> None:
        """Limit all requests to `max_requests` per fixed window (None removes the limit)."""
        self._limiter = None if max_requests is None else _FixedWindow(max_requests, window_seconds)

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request answered (or dropped) so far, in arrival order."""
        with self._lock:
            return list(self._records)

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            if kind is None:
                return len(self._records)
            return sum(1 for r in self._records if r.kind == kind)

    def reset_counts(self) -> None:
        with self._lock:
            self._records.clear()
            self._served.clear()

    def _take_fault(self, kind: str, path: str, query: Query) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies(kind, path, query):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _record(self, method: str, path: str, query: Query, status: int | None, kind: str) -> None:
        with self._lock:
            self._records.append(RequestRecord(method, path, query, status, kind))

    # ---- request handling -----------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        method = handler.command
        split = urlsplit(handler.path)
        path = unquote(split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        kind = _kind_of(path)

        fault = self._take_fault(kind, path, query)
        if fault is not None and fault.delay > 0:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            # Recorded before closing so a test sees it as soon as the client has failed.
            self._record(method, path, query, None, kind)
            handler.close_connection = True
            return
        if fault is not None and fault.status is not None:
            response = _fault_response(fault)
        else:
            try:
                response = self._answer(handler, method, split.path, split.query, query, kind)
            except Exception:  # a FakeHub bug: report it loudly instead of hanging up
                traceback.print_exc()
                response = _json(500, {"error": traceback.format_exc()})
        self._record(method, path, query, response.status, kind)
        handler.send(response, head=method == "HEAD")

    def _answer(
        self, handler: _Handler, method: str, raw_path: str, raw_query: str, query: Query, kind: str
    ) -> _Response:
        limiter = self._limiter
        rate_headers: list[tuple[str, str]] = []
        if limiter is not None:
            allowed, reset, rate_headers = limiter.take()
            if not allowed:
                return _error(429, _RATE_LIMITED, headers=[("Retry-After", reset), *rate_headers])
        response = self._check_token(handler.headers.get("Authorization"))
        if response is None:
            if method not in ("GET", "HEAD"):
                response = _not_found()
            elif kind == "list":
                response = self._list(handler, raw_query, query)
            elif kind == "info":
                response = self._info(raw_path, raw_query, query)
            elif kind == "file":
                response = self._file(handler, raw_path)
            elif kind == "repo":
                response = self._repo_api(handler, raw_path, query)
            else:
                response = _not_found()
        response.headers.extend(rate_headers)
        return response

    def _check_token(self, authorization: str | None) -> _Response | None:
        if self.tokens is None or authorization is None:
            return None  # anonymous access is always allowed
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip() in self.tokens:
            return None
        return _error(401, "Invalid credentials in Authorization header")

    def _list(self, handler: _Handler, raw_query: str, query: Query) -> _Response:
        try:
            unsupported = [p for p in _UNSUPPORTED_LIST_PARAMS if p in query]
            if unsupported:
                raise QueryError(f"FakeHub does not implement the listing parameters {unsupported}")
            expand = query.get("expand", []) + query.get("expand[]", [])
            check_expand(expand, listing=True)
            # `direction` is accepted and ignored: the Hub sorts descending only.
            sort = _first(query, "sort") or DEFAULT_ORDER
            if self.ignore_sort:
                sort = DEFAULT_ORDER
            if sort not in SORTS:
                raise QueryError(f"Invalid sort {sort!r}; expected one of {sorted(SORTS)}")
            limit = self.page_size
            asked = _first(query, "limit")
            if asked:
                try:
                    limit = min(int(asked), self.page_size)
                except ValueError:
                    raise QueryError("limit must be an integer") from None
                if limit < 1:
                    raise QueryError("limit must be positive")
            cursor = _first(query, "cursor")
            after = decode_cursor(cursor, sort) if cursor else None
        except QueryError as e:
            return _error(400, str(e))

        selection: dict[str, Any] = {
            "author": _first(query, "author") or None,
            "filters": [f for f in query.get("filter", []) if f],
            "pipeline_tag": _first(query, "pipeline_tag") or None,
            "search": _first(query, "search") or None,
            "sort": sort,
            "limit": limit,
        }
        records, next_key = self._population.query(after=after, **selection)
        full, card_data = _flag(query, "full"), _flag(query, "cardData")
        items = [listing_item(r, expand=expand, full=full, card_data=card_data) for r in records]
        next_cursor = None if next_key is None else encode_cursor(sort, next_key)
        with self._lock:
            self._pages_served += 1
            self._served.update(r["id"] for r in records)
            bug = self._paging_bug
            if bug is not None and self._pages_served > bug[1] and next_key is not None:
                if bug[0] == "cycle":
                    first = self._population.query(after=None, **selection)[1]
                    next_cursor = encode_cursor(sort, first) if first else next_cursor
                else:  # stall: the same position again, under a new spelling
                    next_cursor = f"{cursor or encode_cursor(sort, next_key)}.{self._pages_served}"
        self._apply_churn()
        headers = []
        if next_cursor is not None:
            # Same query, new cursor: the client follows this URL verbatim.
            kept = "&".join(p for p in raw_query.split("&") if p and not p.startswith("cursor="))
            cursor_param = f"cursor={next_cursor}"
            qs = f"{kept}&{cursor_param}" if kept else cursor_param
            base = f"http://{handler.headers.get('Host') or self.url.split('//', 1)[1]}"
            headers.append(("Link", f'<{base}/api/models?{qs}>; rel="next"'))
        return _json(200, items, headers)

    def _info(self, raw_path: str, raw_query: str, query: Query) -> _Response:
        segments = raw_path[len("/api/models/") :].split("/")
        raw_revision = None
        if len(segments) >= 3 and segments[-2] == "revision":
            raw_revision, segments = segments[-1], segments[:-2]
        if len(segments) not in (1, 2) or not all(segments):
            return _not_found()
        repo_id = "/".join(unquote(s) for s in segments)

        record = self._population.get(repo_id)
        if record is None:
            new_id = self._population.renamed_to(repo_id)
            if new_id is None:
                return _error(404, "Repository not found", "RepoNotFound")
            location = f"/api/models/{quote(new_id, safe='/')}"
            if raw_revision is not None:
                location += f"/revision/{raw_revision}"
            if raw_query:
                location += f"?{raw_query}"
            return _Response(307, [("Location", location)])

        expand = query.get("expand", []) + query.get("expand[]", [])
        try:
            check_expand(expand, listing=False)
        except QueryError as e:
            return _error(400, str(e))
        children = (
            self._population.children_count(record["id"]) if "childrenModelCount" in expand else 0
        )
        return _json(200, info_item(record, expand=expand, children=children))

    def _file(self, handler: _Handler, raw_path: str) -> _Response:
        m = _RESOLVE_PATH.match(raw_path)
        if m is None:
            return _not_found()
        repo_type = _REPO_TYPE_OF_PREFIX.get(m[1] or "", "model")
        repo_id, filename = unquote(m[2]), unquote(m[4])
        if self._history.has(repo_type, repo_id):
            return self._repo_file(handler, repo_type, repo_id, unquote(m[3]), filename)

        canonical = self._file_repos.get((repo_type, repo_id.lower()))
        if canonical is None and repo_type == "model":
            record = self._population.get(repo_id)
            canonical = None if record is None else record["id"]
            new_id = self._population.renamed_to(repo_id) if canonical is None else None
            if new_id is not None:
                location = f"/{quote(new_id, safe='/')}/resolve/{m[3]}/{m[4]}"
                return _Response(307, [("Location", location)])
        if canonical is None:
            return _error(404, "Repository not found", "RepoNotFound")

        commit = self._commit_of(repo_type, canonical)
        refusal = self._gated_refusal(handler, repo_type, canonical, filename, commit)
        if refusal is not None:
            return refusal
        entry = self._files.get((repo_type, canonical.lower(), filename))
        if entry is None:
            return _error(404, "Entry not found", "EntryNotFound", [("X-Repo-Commit", commit)])

        size = entry.size()
        headers = [
            ("Content-Type", "application/octet-stream"),
            ("X-Repo-Commit", commit),
            ("ETag", f'"{entry.etag()}"'),
            ("Accept-Ranges", "bytes"),
        ]
        start, length, status = 0, size, 200
        requested = _parse_range(handler.headers.get("Range"), size)
        if requested == "unsatisfiable":
            return _Response(416, [*headers, ("Content-Range", f"bytes */{size}")])
        if requested is not None:
            start, end = requested
            length, status = end - start + 1, 206
            headers.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        if entry.data is not None:
            return _Response(status, headers, entry.data[start : start + length])
        return _Response(status, headers, file=(entry._path(), start, length))

    # ---- repositories with a history: tree, commits, refs, files at a revision ----------

    def _repo_api(self, handler: _Handler, raw_path: str, query: Query) -> _Response:
        m = _REPO_PATH.match(raw_path)
        if m is None:
            return _not_found()
        prefix, repo_id, route, revision, path, refs = m.groups()
        repo_type, repo_id = prefix[:-1], unquote(repo_id)
        try:
            if refs:
                head = self._history.head(repo_type, repo_id)
                branch = {"name": "main", "ref": "refs/heads/main", "targetCommit": head.sha}
                return _json(200, {"branches": [branch], "converts": [], "tags": []})
            commit = self._history.resolve(repo_type, repo_id, unquote(revision))
            if route == "commits":
                return self._repo_commits(handler, raw_path, repo_type, repo_id, commit, query)
            return self._repo_tree(
                handler, raw_path, repo_type, repo_id, commit, unquote(path or ""), query
            )
        except RepoError as exc:
            return _error(404, exc.message, exc.code)

    def _repo_tree(
        self,
        handler: _Handler,
        raw_path: str,
        repo_type: str,
        repo_id: str,
        commit: Any,
        path: str,
        query: Query,
    ) -> _Response:
        recursive = (_first(query, "recursive") or "").lower() in ("1", "true")
        expand = (_first(query, "expand") or "").lower() in ("1", "true")
        try:
            cursor = _first(query, "cursor")
            start = decode_offset(cursor) if cursor else 0
        except ValueError as exc:
            return _error(400, str(exc))
        commits = self._history.history(repo_type, repo_id, commit.sha)
        entries = self._history.tree(
            commit, path.strip("/"), recursive=recursive, expand=expand, commits=commits
        )
        size = min(self.tree_page_size, TREE_PAGE_EXPANDED) if expand else self.tree_page_size
        page, end = entries[start : start + size], start + size
        headers = []
        if end < len(entries):
            params = f"recursive={str(recursive).lower()}&expand={str(expand).lower()}"
            link = f"{self._base(handler)}{raw_path}?{params}&cursor={encode_offset(end)}"
            headers.append(("Link", f'<{link}>; rel="next"'))
        return _json(200, page, headers)

    def _repo_commits(
        self,
        handler: _Handler,
        raw_path: str,
        repo_type: str,
        repo_id: str,
        commit: Any,
        query: Query,
    ) -> _Response:
        try:
            page = int(_first(query, "p") or 0)
            limit = min(int(_first(query, "limit") or self.commits_page_size), 1000)
            if page < 0 or limit < 1:
                raise ValueError
        except ValueError:
            return _error(400, "p and limit must be non-negative integers")
        line = self._history.history(repo_type, repo_id, commit.sha)
        items = [commit_item(c) for c in line[page * limit : (page + 1) * limit]]
        headers = [("X-Total-Count", str(len(line)))]
        if (page + 1) * limit < len(line):
            link = f"{self._base(handler)}{raw_path}?p={page + 1}&limit={limit}"
            headers.append(("Link", f'<{link}>; rel="next"'))
        return _json(200, items, headers)

    def _repo_file(
        self, handler: _Handler, repo_type: str, repo_id: str, revision: str, filename: str
    ) -> _Response:
        try:
            commit = self._history.resolve(repo_type, repo_id, revision)
        except RepoError as exc:
            return _error(404, exc.message, exc.code)
        blob = commit.files.get(filename)
        if blob is None:
            return _error(404, "Entry not found", "EntryNotFound", [("X-Repo-Commit", commit.sha)])
        ids = self._history.blob_ids(blob)
        headers = [
            ("Content-Type", "application/octet-stream"),
            ("X-Repo-Commit", commit.sha),
            ("ETag", f'"{ids.sha256}"'),
            ("Accept-Ranges", "bytes"),
        ]
        start, length, status = 0, ids.size, 200
        requested = _parse_range(handler.headers.get("Range"), ids.size)
        if requested == "unsatisfiable":
            return _Response(416, [*headers, ("Content-Range", f"bytes */{ids.size}")])
        if requested is not None:
            start, end = requested
            length, status = end - start + 1, 206
            headers.append(("Content-Range", f"bytes {start}-{end}/{ids.size}"))
        if isinstance(blob.content, Path):
            return _Response(status, headers, file=(blob.content, start, length))
        return _Response(status, headers, blob.content[start : start + length])

    def _base(self, handler: _Handler) -> str:
        return f"http://{handler.headers.get('Host') or self.url.split('//', 1)[1]}"

    def _gated_refusal(
        self, handler: _Handler, repo_type: str, repo_id: str, filename: str, commit: str
    ) -> _Response | None:
        """A gated model's files, as the Hub refuses them to a user without access: 401
        anonymous, 403 with a token, ``X-Error-Code: GatedRepo``. The model card stays
        readable (people must read it to ask for access), and so does .gitattributes."""
        if repo_type != "model" or filename in _ALWAYS_READABLE:
            return None
        record = self._population.get(repo_id)
        if record is None or not record.get("gated"):
            return None
        if handler.headers.get("Authorization"):
            message = (
                f"Access to model {repo_id} is restricted and you are not in the authorized list."
            )
            status = 403
        else:
            message = (
                f"Access to model {repo_id} is restricted. You must have access to it and be "
                "authenticated to access it. Please log in."
            )
            status = 401
        return _error(status, message, "GatedRepo", [("X-Repo-Commit", commit)])

    def add_files(self, repo_id: str, files: Mapping[str, str | bytes | Any]) -> None:
        """Serve a model's files: text as UTF-8, bytes as they are, anything else as JSON
        (``{"README.md": card, "config.json": {...}}``)."""
        for filename, content in files.items():
            self.add_file("model", repo_id, filename, _file_bytes(content))

    def _commit_of(self, repo_type: str, repo_id: str) -> str:
        if repo_type == "model":
            record = self._population.get(repo_id)
            sha = record.get("sha") if record is not None else None
            if isinstance(sha, str) and _HEX40.match(sha):
                return sha
        return hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()


# What the Hub says for each status when a fault gives no message of its own.
_FAULT_MESSAGES = {
    400: "Bad request",
    401: "Invalid credentials in Authorization header",
    403: "You don't have the rights to access this resource",
    404: "Repository not found",
    429: _RATE_LIMITED,
    500: "Internal Error - We're working hard to fix this as soon as possible!",
}
# Answered by the Hub's proxies, not the Hub: plain text, no X-Error-* headers.
_PROXY_STATUSES = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _fault_response(fault: Fault) -> _Response:
    status = fault.status
    assert status is not None
    if status in _PROXY_STATUSES and fault.message is None and fault.code is None:
        body = f"{status} {_PROXY_STATUSES[status]}".encode()
        return _Response(status, [("Content-Type", "text/plain; charset=utf-8")], body)
    message = fault.message or _FAULT_MESSAGES.get(status, f"Injected fault: HTTP {status}")
    headers = []
    if status == 429 and fault.retry_after is not None:
        seconds = _seconds(fault.retry_after)
        headers = [
            ("Retry-After", seconds),
            ("RateLimit", f'"api";r=0;t={seconds}'),
            ("RateLimit-Policy", '"fixed window";"api";q=500;w=300'),
        ]
    return _error(status, message, fault.code, headers)


def _epoch(value: object) -> float:
    """A createdAt string as seconds since the epoch (0 when it is not a date)."""
    if not isinstance(value, str):
        return 0.0
    try:
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError:
        return 0.0


def _kind_of(path: str) -> str:
    if path == "/api/models":
        return "list"
    if _REPO_PATH.match(path):
        return "repo"
    if path.startswith("/api/models/"):
        return "info"
    if "/resolve/" in path:
        return "file"
    return "other"


def _first(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _flag(query: Query, name: str) -> bool:
    value = _first(query, name)
    return value is not None and value.lower() in ("", "1", "true")


def _parse_range(
    header: str | None, size: int
) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """(first, last) byte of a single `bytes=` range, "unsatisfiable", or None to send it all."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes=") :].strip().partition("-")
    try:
        if not first:  # suffix range: the last N bytes
            n = int(last)
            return (max(size - n, 0), size - 1) if n > 0 and size > 0 else "unsatisfiable"
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries a Content-Length
    server_version = "FakeHub/1.0"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def do_GET(self) -> None:
        self.server.hub._handle(self)

    do_HEAD = do_GET

    def _other(self) -> None:
        # Drain any body so the connection stays usable, then answer 404 through _handle.
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True  # no chunked decoding here: just hang up afterwards
        self.server.hub._handle(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _other

    def send(self, response: _Response, *, head: bool) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(response.length))
        self.end_headers()
        if head:
            return
        if response.file is None:
            self.wfile.write(response.body)
            return
        path, offset, remaining = response.file
        with path.open("rb") as f:
            f.seek(offset)
            while remaining > 0 and (chunk := f.read(min(_CHUNK, remaining))):
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests and benchmarks make tens of thousands of requests


class _Server(TrackingServer):
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], hub: FakeHub) -> None:
        self.hub = hub
        super().__init__(address, _Handler)


_ALWAYS_READABLE = ("README.md", ".gitattributes")


def _file_bytes(content: str | bytes | Any) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    return json.dumps(content, indent=2).encode("utf-8")


def split_files(
    records: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], dict[tuple[str, str, str], bytes]]:
    """Model records and the files some carry under a ``files`` key (not part of the Hub's
    JSON: a JSON-lines Hub's way to give a model its card and configs), as ``FakeHub``'s
    ``models`` and ``files`` arguments.

    >>> models, files = split_files([{"id": "a/b", "files": {"README.md": "hi"}}])
    >>> models, files
    ([{'id': 'a/b'}], {('model', 'a/b', 'README.md'): b'hi'})
    """
    models, files = [], {}
    for record in records:
        record = dict(record)
        for filename, content in (record.pop("files", None) or {}).items():
            files[("model", record["id"], filename)] = _file_bytes(content)
        models.append(record)
    return models, files


def renames_file(models: str | Path) -> Path:
    """Where the renames of a JSON-lines population live: ``NAME.renames.json`` beside
    ``NAME.jsonl`` (as ``fixtures/hub/toy.renames.json`` beside ``toy.jsonl``), a JSON object
    from each former id to the current one.

    >>> str(renames_file("pops/hub.jsonl"))
    'pops/hub.renames.json'
    """
    path = Path(models)
    return path.with_name(f"{path.name.removesuffix('.jsonl')}.renames.json")


def load_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Model dicts from a JSON-lines file, one per non-blank line."""
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lineage.testing.fakehub",
        description="Serve a JSON-lines file of Hub model records as a fake Hugging Face Hub.",
    )
    parser.add_argument(
        "models",
        type=Path,
        nargs="?",
        help="JSON-lines file, one model dict per line (a `files` key gives it files to serve: "
        '{"README.md": "...", "config.json": {...}})',
    )
    parser.add_argument(
        "--renames",
        type=Path,
        metavar="FILE",
        help="JSON object of former id -> current id, answered with a 307 as the Hub does "
        "[default: NAME.renames.json beside NAME.jsonl, if there is one]",
    )
    parser.add_argument(
        "--write-hub-stats",
        type=Path,
        metavar="FILE",
        help="write the models as a hub-stats dump (for `lineage ingest hub-stats FILE`) "
        "and exit, serving nothing",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--page-size", type=int, default=1000)
    live = parser.add_argument_group(
        "a Hub that changes while it is read (after every listing page served)"
    )
    live.add_argument(
        "--rescore",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="re-draw trendingScore and downloads of this fraction of the models (e.g. 0.02)",
    )
    live.add_argument("--add", type=int, default=0, metavar="N", help="create N new models")
    live.add_argument("--delete", type=int, default=0, metavar="N", help="delete N models")
    live.add_argument("--seed", type=int, default=0, help="seed of those changes")
    parser.add_argument(
        "--author-any-case",
        action="store_true",
        help="let author= match any case (default: the exact case)",
    )
    parser.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="REPO=DIR",
        help="serve DIR's files as dataset REPO (one commit: its tree, commits and files by "
        "revision), e.g. an archive of dated hub-stats dumps; repeatable",
    )
    args = parser.parse_args(argv)
    if args.write_hub_stats is not None:
        if args.models is None:
            parser.error("--write-hub-stats writes the models of a JSON-lines file: give one")
        from lineage.testing.hubstats_dump import write_hub_stats_dump

        write_hub_stats_dump(load_jsonl(args.models), args.write_hub_stats)
        print(f"FakeHub: {args.models} written as a hub-stats dump to {args.write_hub_stats}")
        return 0
    renames_path = args.renames or (renames_file(args.models) if args.models else None)
    renames: dict[str, str] = {}
    if renames_path is not None and (args.renames is not None or renames_path.exists()):
        try:
            renames = json.loads(renames_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            parser.error(f"cannot read renames {renames_path}: {exc}")
        if not isinstance(renames, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in renames.items()
        ):
            parser.error(f"renames {renames_path} must be a JSON object of id -> id")

    churn = None
    if args.rescore or args.add or args.delete:
        try:
            churn = Churn(args.rescore, args.add, args.delete, args.seed)
        except ValueError as exc:
            parser.error(str(exc))
    models, files = split_files(load_jsonl(args.models)) if args.models is not None else ([], {})
    hub = FakeHub(
        models,
        files=files,
        renames=renames,
        page_size=args.page_size,
        host=args.host,
        port=args.port,
        churn=churn,
        author_any_case=args.author_any_case,
    )
    for spec in args.dataset:
        repo, _, folder = spec.partition("=")
        root = Path(folder)
        if not repo or not root.is_dir():
            parser.error(f"--dataset wants REPO=DIR with an existing DIR, not {spec!r}")
        uploads: dict[str, bytes | Path | None] = {
            str(f.relative_to(root)): f for f in sorted(root.rglob("*")) if f.is_file()
        }
        hub.commit_files(repo, uploads, date=dt.datetime.now(dt.UTC), title=f"Upload {root}")
    with hub:
        # Ctrl-C may come as soon as the first line is out (a test reads it and stops us).
        try:
            print(f"FakeHub: {len(hub)} models at {hub.url}", flush=True)
            if renames:
                print(f"  {len(renames)} renamed (307s) from {renames_path}", flush=True)
            for spec in args.dataset:
                print(f"  dataset {spec.partition('=')[0]}: the files of {spec.partition('=')[2]}")
            if churn is not None:
                print(f"  changing after every listing page: {churn}", flush=True)
            print(f"  export HF_ENDPOINT={hub.url}   (Ctrl-C to stop)", flush=True)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
