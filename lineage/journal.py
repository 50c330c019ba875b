"""The journal of a crawl in progress: what makes an interrupted crawl resumable.

A crawl writes each page it fetches (already parsed) as Parquet files under
``<store>/journal/<key>/pages/`` and only then appends one line to ``events.jsonl``
saying which listing the page belongs to and where the next page is. A crawl killed at
any instant leaves at most one page written without its event; resuming replays the
events, ignores that page and fetches it again. The journal key is derived from what
was asked (roots, strategy, endpoint), so running the same command again finds it.

This module knows files and events, not the Hub or the crawl strategy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .records import EDGE_SCHEMA, MODEL_SCHEMA, PROBLEM_SCHEMA, Batch

_PARTS = {"models": MODEL_SCHEMA, "edges": EDGE_SCHEMA, "problems": PROBLEM_SCHEMA}


def journal_key(identity: dict) -> str:
    """A short stable key for what a crawl was asked to do."""
    text = json.dumps(identity, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Journal:
    """One crawl's journal directory."""

    path: Path
    plan: dict
    events: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    _by_listing: dict[str, list[dict]] = field(default_factory=dict)
    _by_query: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def open(cls, root: Path, identity: dict, *, crawl_id: str, started_at: dt.datetime) -> Journal:
        """Open the journal for ``identity``, resuming it if one exists."""
        path = root / journal_key(identity)
        plan_file = path / "plan.json"
        if plan_file.exists():
            plan = json.loads(plan_file.read_text())
            journal = cls(path, plan)
            for event in journal._replay():
                journal._index(event)
            return journal
        (path / "pages").mkdir(parents=True, exist_ok=True)
        plan = {
            "identity": identity,
            "crawl_id": crawl_id,
            "started_at": started_at.isoformat(),
        }
        tmp = path / "plan.json.tmp"
        tmp.write_text(json.dumps(plan))
        os.replace(tmp, plan_file)
        return cls(path, plan)

    @property
    def resumed(self) -> bool:
        return bool(self.events)

    @property
    def crawl_id(self) -> str:
        return self.plan["crawl_id"]

    @property
    def started_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.plan["started_at"])

    def _replay(self) -> list[dict]:
        """Read events back, dropping (and truncating away) a torn last line."""
        file = self.path / "events.jsonl"
        if not file.exists():
            return []
        events: list[dict] = []
        good = 0
        with open(file, "rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break
                try:
                    events.append(json.loads(line))
                except ValueError:
                    break
                good += len(line)
        if good != file.stat().st_size:
            with open(file, "r+b") as handle:
                handle.truncate(good)
        return events

    @property
    def next_number(self) -> int:
        return len(self.events)

    def record(self, event: dict, batch: Batch | None = None) -> None:
        """Persist a page's parsed content (if any), then the event that points at it."""
        number = self.next_number
        event = {**event, "n": number}
        if batch is not None and batch.models.height:
            for part, schema in _PARTS.items():
                frame = getattr(batch, part).select(list(schema))
                target = self.path / "pages" / f"{number:07d}.{part}.parquet"
                tmp = target.with_suffix(".tmp")
                frame.write_parquet(tmp)
                os.replace(tmp, target)
            event["batch"] = True
        # Flushed, not fsynced: a killed process loses nothing the OS already has, and a
        # machine crash at worst loses the last events, whose pages are fetched again.
        with open(self.path / "events.jsonl", "a") as handle:
            handle.write(json.dumps(event) + "\n")
        self._index(event)

    def _index(self, event: dict) -> None:
        self.events.append(event)
        self.counts[event["e"]] += 1
        if "listing" in event:
            self._by_listing.setdefault(event["listing"], []).append(event)
        if event["e"] == "lookup":
            self._by_query[event["query"]] = event

    def pages_of(self, listing: str) -> list[dict]:
        """The page events of one listing, in order."""
        return self._by_listing.get(listing, [])

    def lookup_of(self, query: str) -> dict | None:
        """The lookup event for one query, if it was made."""
        return self._by_query.get(query)

    def where(self, **match: object) -> Iterator[dict]:
        for event in self.events:
            if all(event.get(k) == v for k, v in match.items()):
                yield event

    def scan(self, part: str, numbers: list[int]) -> pl.LazyFrame:
        """A lazy frame over one part (models/edges/problems) of the given pages.

        Numbers of events that carried no records (empty pages, misses) are skipped.
        """
        files = [
            self.path / "pages" / f"{n:07d}.{part}.parquet"
            for n in numbers
            if self.events[n].get("batch")
        ]
        if not files:
            return pl.LazyFrame(schema=_PARTS[part])
        return pl.scan_parquet(files, schema=_PARTS[part])

    def batch(self, numbers: list[int]) -> Batch:
        return Batch(*(self.scan(part, numbers).collect() for part in _PARTS))

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.path)
