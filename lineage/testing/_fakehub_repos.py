"""Repositories with a history, behind FakeHub: commits, trees at a revision, file versions.

No HTTP here. `RepoHistory` keeps, per repository, its commits in order; each commit is the
whole file state after it (path -> content), so the state at any revision is one lookup.
The HTTP layer (`FakeHub`'s tree, commits, refs and resolve routes) asks it:

- which revision a name means (`main`, the branch's head; a full 40-hex commit id);
- the tree at a revision, under a path, flat or recursive, in pages behind a cursor;
- the commits reachable from a revision, newest first, in numbered pages;
- a file's content at a revision, and the commit that last changed it (`lastCommit`).

What the Hub does that this imitates: a tree page holds 1000 entries (50 with `expand`), its
order is not a promise (huggingface_hub says so; entries come here in a fixed scrambled
order, so a client cannot come to rely on sorted paths); directories are entries of their own;
a file stored with LFS (any `.parquet`, as on the Hub) carries `lfs` with its sha256. Commit
pages are numbered (`p`, from 0) with `limit` entries (default 50, as the Hub's), newest first.

What it does not: branches other than `main`, tags, short commit ids, merges (history is a
line), file sizes past memory for `bytes` content (pass a `Path` for big files).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

TREE_PAGE = 1000
TREE_PAGE_EXPANDED = 50
COMMITS_PAGE = 50
LFS_SUFFIXES = (".parquet", ".bin", ".safetensors", ".gguf", ".arrow")


class RepoError(Exception):
    """What the Hub answers 404 with: `code` is its X-Error-Code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Blob:
    """One version of a file: its content (bytes, or a path read when served)."""

    content: bytes | Path

    def data(self) -> bytes:
        return self.content if isinstance(self.content, bytes) else self.content.read_bytes()

    @property
    def size(self) -> int:
        if isinstance(self.content, bytes):
            return len(self.content)
        return self.content.stat().st_size


@dataclass(frozen=True)
class Commit:
    sha: str
    date: dt.datetime
    title: str
    files: Mapping[str, Blob]  # the whole state after this commit
    written: Mapping[str, str]  # path -> sha of the commit that last wrote it


@dataclass(frozen=True)
class BlobIds:
    """What the Hub says of a blob: its git oid, and for LFS files the sha256 (the ETag)."""

    oid: str
    sha256: str
    size: int


class RepoHistory:
    """Every repository with a history, each a line of commits; thread-safe."""

    def __init__(self) -> None:
        self._repos: dict[tuple[str, str], list[Commit]] = {}
        self._names: dict[tuple[str, str], str] = {}  # (type, lowercased id) -> id
        self._ids: dict[int, BlobIds] = {}  # id(Blob) -> its ids, computed once
        self._lock = threading.Lock()

    def has(self, repo_type: str, repo_id: str) -> bool:
        return (repo_type, repo_id.lower()) in self._repos

    def name(self, repo_type: str, repo_id: str) -> str:
        return self._names[(repo_type, repo_id.lower())]

    def commit(
        self,
        repo_type: str,
        repo_id: str,
        files: Mapping[str, bytes | Path | None],
        *,
        date: dt.datetime,
        title: str,
    ) -> str:
        """Add a commit on `main` writing `files` (None deletes a path); return its id."""
        if date.tzinfo is None:
            raise ValueError("a commit date needs a time zone (UTC)")
        key = (repo_type, repo_id.lower())
        with self._lock:
            history = self._repos.setdefault(key, [])
            self._names.setdefault(key, repo_id)
            before = history[-1] if history else None
            state = dict(before.files) if before else {}
            written = dict(before.written) if before else {}
            sha = hashlib.sha1(
                f"{repo_type}/{repo_id}/{len(history)}/{date.isoformat()}/{title}".encode()
            ).hexdigest()
            for path, content in files.items():
                path = str(PurePosixPath(path))
                if content is None:
                    state.pop(path, None)
                    written.pop(path, None)
                else:
                    state[path] = Blob(content)
                    written[path] = sha
            history.append(Commit(sha, date, title, state, written))
            return sha

    def resolve(self, repo_type: str, repo_id: str, revision: str) -> Commit:
        """The commit a revision names: `main` (or `refs/heads/main`) or a full commit id."""
        history = self._repos.get((repo_type, repo_id.lower()))
        if history is None:
            raise RepoError("RepoNotFound", "Repository not found")
        if revision in ("main", "refs/heads/main", "refs%2Fheads%2Fmain"):
            return history[-1]
        for commit in history:
            if commit.sha == revision:
                return commit
        raise RepoError("RevisionNotFound", f"Invalid rev id: {revision}")

    def head(self, repo_type: str, repo_id: str) -> Commit:
        return self.resolve(repo_type, repo_id, "main")

    def history(self, repo_type: str, repo_id: str, revision: str) -> list[Commit]:
        """Commits reachable from a revision, newest first."""
        tip = self.resolve(repo_type, repo_id, revision)
        line = self._repos[(repo_type, repo_id.lower())]
        return list(reversed(line[: line.index(tip) + 1]))

    def blob_ids(self, blob: Blob) -> BlobIds:
        with self._lock:
            ids = self._ids.get(id(blob))
        if ids is None:
            data = blob.data()
            git = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            ids = BlobIds(git, hashlib.sha256(data).hexdigest(), len(data))
            with self._lock:
                self._ids[id(blob)] = ids
        return ids

    def tree(
        self, commit: Commit, path: str, *, recursive: bool, expand: bool, commits: list[Commit]
    ) -> list[dict]:
        """The entries under `path` at a commit, in the fake's fixed scrambled order."""
        prefix = str(PurePosixPath(path)) if path else ""
        if prefix in (".", "/"):
            prefix = ""
        if prefix and prefix in commit.files:
            raise RepoError("EntryNotFound", f"{prefix} is a file, not a directory")
        under = [p for p in commit.files if not prefix or p.startswith(prefix + "/")]
        if prefix and not under:
            raise RepoError("EntryNotFound", f"Entry not found: {prefix}")
        by_sha = {c.sha: c for c in commits}
        entries: dict[str, dict] = {}
        depth = len(PurePosixPath(prefix).parts) if prefix else 0
        for file in under:
            parts = PurePosixPath(file).parts
            # Every directory between the prefix and the file is an entry of its own.
            last = len(parts) - 1 if recursive else min(len(parts) - 1, depth + 1)
            for i in range(depth + 1, last + 1):
                folder = "/".join(parts[:i])
                if folder not in entries and (recursive or i == depth + 1):
                    entries[folder] = {
                        "type": "directory",
                        "oid": hashlib.sha1(f"{commit.sha}/{folder}".encode()).hexdigest(),
                        "size": 0,
                        "path": folder,
                    }
            if recursive or len(parts) == depth + 1:
                entries[file] = self._file_entry(commit, file, expand=expand, by_sha=by_sha)
        return sorted(entries.values(), key=lambda e: hashlib.md5(e["path"].encode()).digest())

    def _file_entry(
        self, commit: Commit, path: str, *, expand: bool, by_sha: Mapping[str, Commit]
    ) -> dict:
        ids = self.blob_ids(commit.files[path])
        entry: dict = {"type": "file", "oid": ids.oid, "size": ids.size, "path": path}
        if path.endswith(LFS_SUFFIXES):
            entry["lfs"] = {"oid": ids.sha256, "size": ids.size, "pointerSize": 134}
        if expand:
            last = by_sha[commit.written[path]]
            entry["lastCommit"] = {"id": last.sha, "title": last.title, "date": api_date(last.date)}
        return entry


def api_date(value: dt.datetime) -> str:
    """A datetime as the Hub writes it: `2024-07-24T12:00:00.000Z`."""
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def commit_item(commit: Commit) -> dict:
    """A commit as the Hub's commits listing serves it."""
    return {
        "id": commit.sha,
        "title": commit.title,
        "message": "",
        "date": api_date(commit.date),
        "authors": [{"user": "hub-stats-bot", "avatar": "https://example.invalid/avatar.png"}],
    }


def encode_offset(offset: int) -> str:
    """A tree cursor: where the next page starts. It does not pin the revision: paging
    `main` while a commit lands pages through the new state, as an offset would."""
    raw = json.dumps([offset], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_offset(cursor: str) -> int:
    try:
        (offset,) = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError("Invalid cursor") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ValueError("Invalid cursor")
    return offset
