"""The journal of a crawl in progress: what makes an interrupted crawl resumable.

A crawl writes each page it fetches (already parsed) as Parquet files under
``<store>/journal/<key>/pages/`` and only then appends one line to ``events.jsonl``
saying which listing the page belongs to and where the next page is. A crawl killed at
any instant leaves at most one page written without its event; resuming replays the
events, ignores that page and fetches it again. The journal key is derived from what
was asked (roots, strategy, endpoint), so running the same command again finds it. The plan
also keeps the options that change what the crawl does without changing which journal it is
(the lookup budget, the Hub size given), so that :func:`resume_command` spells out a command
that asks for the same crawl. A FIFO or device in place of a journal file is damage, named,
never opened.

Each event also carries what the process spent since its previous event (requests,
retries, seconds waited, malformed items, seconds of work): summed over the journal,
they are the totals of the whole crawl, across every process that worked on it.

The end of a crawl, in order: ``summary.json`` (what the crawl did, written before the
commit), the store commit (its crawl-log row names the crawl), then the journal is
renamed to ``<key>.committed`` in one step and only then deleted. A journal is therefore
always either whole (resume it; or, if the crawl log already has its crawl, finish it)
or a tombstone (its crawl is committed: remove it, never crawl again), so a kill during
the removal can neither repeat a committed crawl nor log it twice. A tombstone speaks
only for the next crawl on the store: any crawl run removes the other crawls' ones.

This module knows files and events, not the Hub or the crawl strategy. Reading a journal
for ``lineage info`` (:func:`describe_journals`) changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict, cast, overload

import polars as pl

from .checkpoints import checkpoint
from .errors import StoreError
from .records import Batch
from .schema import EDGE_SCHEMA, MODEL_SCHEMA, PROBLEM_SCHEMA
from .settings import is_default_endpoint
from .store import not_regular

_PARTS = {"models": MODEL_SCHEMA, "edges": EDGE_SCHEMA, "problems": PROBLEM_SCHEMA}
_TOMBSTONE = ".committed"

Meter = Callable[[], dict[str, float]]


# -- what the journal's files hold (JSON; the key names are the format) ----------------------


class CrawlIdentity(TypedDict):
    """What a crawl was asked to do; its journal key is a hash of it (:func:`journal_key`)."""

    roots: list[str]
    all: bool
    strategy: str
    endpoint: str
    lookups: bool
    order: str  # the listing order; a journal paged in another must not be resumed
    new: bool
    resolve_parents: NotRequired[bool]  # present only when asked (older keys stay as they were)
    resolve_roots: NotRequired[bool]  # lineage.roots' journal (`lineage infer --resolve-roots`)


class CrawlOptions(TypedDict, total=False):
    """Options that change what a crawl does but not which journal it resumes: kept in the
    plan so that the resume command lineage prints gives them back (absent: the default)."""

    lookup_budget: int | None  # None: no limit (`--lookup-budget all`)
    hub_size: int
    # `lineage infer --resolve-roots`: its budget of file requests and the options that order
    # the roots it reads (absent: the default), so that its resume command reads the same.
    budget: int
    calibrate: float
    unplaced_share: float
    regions: str


class Plan(TypedDict, total=False):
    """``plan.json``: the identity, the crawl's id and its start (ISO 8601), its options.

    Every plan lineage writes has all but ``options``; a journal whose plan.json is gone
    (lineage 0.1.0 deleted a committed crawl's files in any order) is read with none.
    """

    identity: CrawlIdentity
    crawl_id: str
    started_at: str
    options: CrawlOptions


class _Recorded(TypedDict, total=False):
    """Keys :meth:`Journal.record` adds to every event it writes."""

    n: int  # the event's number, which names its page files
    batch: bool  # the page files exist (a page or lookup that carried records)
    d: dict[str, float]  # what the process spent since its previous event (the meter)


class PageEvent(_Recorded):
    """A listing page: where it was, where the next one is, what the checks counted.

    ``listing`` is ``all``, ``author:<org>``, ``children:<id>``, ``new`` or
    ``search:<name>``; ``ids`` the page's model ids (listings that keep them),
    ``namespaces`` a search's answer.
    """

    e: Literal["page"]
    listing: str
    url: str | None
    next: str | None
    count: int
    duplicates: NotRequired[int]
    order_breaks: NotRequired[int]
    stale: NotRequired[bool]
    last_created: NotRequired[str | None]
    ids: NotRequired[list[str]]
    namespaces: NotRequired[list[str]]


class LookupEvent(_Recorded):
    """A ``model_info`` lookup of a root or a declared parent: the id it found, or None."""

    e: Literal["lookup"]
    role: Literal["root", "parent"]
    query: str
    id: str | None


class SwitchEvent(_Recorded):
    """The auto strategy gave up walking and sweeps instead, after ``after`` requests."""

    e: Literal["switch"]
    to: Literal["sweep"]
    after: int


class FileEvent(_Recorded):
    """One file of one model asked for (:mod:`lineage.roots`' journal), what the Hub
    answered, and what it said (``findings``: [kind, target, relation, detail] each)."""

    e: Literal["file"]
    model: str
    file: str
    status: str
    findings: list[list[str | None]]


Event = PageEvent | LookupEvent | SwitchEvent | FileEvent


def journal_key(identity: CrawlIdentity) -> str:
    """A short stable key for what a crawl was asked to do."""
    text = json.dumps(identity, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Journal:
    """One crawl's journal directory.

    ``committed`` is set when the journal found is a committed crawl's (a tombstone, or
    one whose crawl the caller finds in the crawl log): then ``summary`` is what that
    crawl reported, if it was saved, and :meth:`finish` completes the removal.
    """

    path: Path
    plan: Plan  # empty ({}) for a committed journal whose plan is gone
    events: list[Event] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    meter: Meter | None = None
    committed: bool = False
    summary: dict[str, Any] | None = None  # summary.json: the crawl's own summary, as JSON
    _by_listing: dict[str, list[PageEvent]] = field(default_factory=dict)
    _by_query: dict[str, LookupEvent] = field(default_factory=dict)
    _metered: dict[str, float] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        root: Path,
        identity: CrawlIdentity,
        *,
        crawl_id: str,
        started_at: dt.datetime,
        meter: Meter | None = None,
        options: CrawlOptions | None = None,
    ) -> Journal:
        """Open the journal for ``identity``, resuming it if one exists.

        ``meter`` returns the process's running counters (requests, retries...); each
        event records how much they grew since the previous one. ``options`` are kept in the
        plan (a resumed crawl's replace the earlier run's: the resume command repeats them).
        """
        key = journal_key(identity)
        path = root / key
        tombstone = root / f"{key}{_TOMBSTONE}"
        if root.is_dir():
            for other in root.glob(f"*{_TOMBSTONE}"):
                if other != tombstone:
                    shutil.rmtree(other, ignore_errors=True)
        if tombstone.exists():
            journal = cls(tombstone, _read_plan(tombstone / "plan.json"), meter=meter)
            journal.committed = True
            journal.summary = _read_json(tombstone / "summary.json")
            return journal
        plan_file = path / "plan.json"
        if plan_file.exists():
            _check_regular(plan_file)
            kept: Plan = json.loads(plan_file.read_text())
            if options is not None and kept.get("options", {}) != options:
                kept["options"] = options
                _write_json(plan_file, kept)
            journal = cls(path, kept, meter=meter)
            for event in journal._replay():
                journal._index(event)
            journal.summary = _read_json(path / "summary.json")
            journal._check_pages()
            return journal
        if path.exists():
            pages = path / "pages"
            if pages.is_dir() and any(pages.iterdir()):
                # Pages without a plan: lineage before tombstones, killed while deleting a
                # committed crawl's journal (it deleted plan.json first). Never crawl it again.
                journal = cls(path, {}, meter=meter)
                journal.committed = True
                return journal
            shutil.rmtree(path)  # cut short while being created: nothing in it yet
        (path / "pages").mkdir(parents=True, exist_ok=True)
        plan: Plan = {
            "identity": identity,
            "crawl_id": crawl_id,
            "started_at": started_at.isoformat(),
        }
        if options:
            plan["options"] = options
        _write_json(plan_file, plan)
        return cls(path, plan, meter=meter)

    @property
    def resumed(self) -> bool:
        return bool(self.events) or self.committed

    @property
    def crawl_id(self) -> str | None:
        return self.plan.get("crawl_id")

    @property
    def started_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.plan["started_at"])

    def _replay(self) -> list[Event]:
        """Read events back, dropping (and truncating away) a torn last line."""
        file = self.path / "events.jsonl"
        events, good = _read_events(file)
        if file.exists() and good != file.stat().st_size:
            with open(file, "r+b") as handle:
                handle.truncate(good)
        return events

    @property
    def next_number(self) -> int:
        return len(self.events)

    def record(self, event: Event, batch: Batch | None = None) -> None:
        """Persist a page's parsed content (if any), then the event that points at it."""
        number = self.next_number
        event = {**event, "n": number}  # type: ignore[assignment]  # (the same kind)
        if batch is not None and batch.models.height:
            for part, schema in _PARTS.items():
                frame = getattr(batch, part).select(list(schema))
                target = self.path / "pages" / f"{number:07d}.{part}.parquet"
                tmp = target.with_suffix(".tmp")
                frame.write_parquet(tmp)
                os.replace(tmp, target)
            event["batch"] = True
        spent = self._spent_since_last()
        if spent:
            event["d"] = spent
        # Flushed, not fsynced: a killed process loses nothing the OS already has, and a
        # machine crash at worst loses the last events, whose pages are fetched again.
        with open(self.path / "events.jsonl", "a") as handle:
            handle.write(json.dumps(event) + "\n")
        self._index(event)
        checkpoint(f"journal:recorded:{event['e']}")

    def _spent_since_last(self) -> dict[str, float]:
        if self.meter is None:
            return {}
        now = self.meter()
        spent = {k: _round(v - self._metered.get(k, 0)) for k, v in now.items()}
        self._metered = dict(now)
        return {k: v for k, v in spent.items() if v}

    def totals(self) -> dict[str, float]:
        """The meter's counters summed over the whole crawl: every event, every process,
        plus what this process spent since its last event."""
        total: Counter[str] = Counter()
        for event in self.events:
            total.update(event.get("d", {}))
        if self.meter is not None:
            for k, v in self.meter().items():
                # typeshed types a Counter's counts as int; the meter's are float seconds
                total[k] += v - self._metered.get(k, 0)  # type: ignore[assignment]
        return {k: _round(v) for k, v in total.items()}

    def _index(self, event: Event) -> None:
        self.events.append(event)
        self.counts[event["e"]] += 1
        if event["e"] == "page":
            self._by_listing.setdefault(event["listing"], []).append(event)
        elif event["e"] == "lookup":
            self._by_query[event["query"]] = event

    def pages_of(self, listing: str) -> list[PageEvent]:
        """The page events of one listing, in order."""
        return self._by_listing.get(listing, [])

    def lookup_of(self, query: str) -> LookupEvent | None:
        """The lookup event for one query, if it was made."""
        return self._by_query.get(query)

    @overload
    def where(self, *, e: Literal["page"], **match: object) -> Iterator[PageEvent]: ...

    @overload
    def where(self, *, e: Literal["lookup"], **match: object) -> Iterator[LookupEvent]: ...

    @overload
    def where(self, *, e: Literal["file"], **match: object) -> Iterator[FileEvent]: ...

    @overload
    def where(self, **match: object) -> Iterator[Event]: ...

    def where(self, **match: object) -> Iterator[Event]:
        """The events whose keys have these values (by ``e``: events of that kind)."""
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

    def _check_pages(self) -> None:
        """Every journaled page's footer, before a resumed crawl makes its first request."""
        for event in self.events:
            if not event.get("batch"):
                continue
            for part in _PARTS:
                file = self.path / "pages" / f"{event['n']:07d}.{part}.parquet"
                _check_regular(file)
                try:
                    pl.read_parquet_schema(file)
                except (pl.exceptions.PolarsError, OSError) as exc:
                    raise _damaged_page(file, self.path) from exc

    def batch(self, numbers: list[int]) -> Batch:
        try:
            return Batch(*(self.scan(part, numbers).collect() for part in _PARTS))
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise self._damage(numbers, exc) from exc

    def _damage(self, numbers: list[int], exc: BaseException) -> StoreError:
        for n in numbers:
            for part in _PARTS:
                file = self.path / "pages" / f"{n:07d}.{part}.parquet"
                if not self.events[n].get("batch"):
                    continue
                try:
                    pl.read_parquet(file)
                except (pl.exceptions.PolarsError, OSError):
                    return _damaged_page(file, self.path)
        return StoreError(f"journal {self.path} cannot be read ({exc.__class__.__name__})")

    def save_summary(self, summary: dict[str, Any]) -> None:
        """Keep what the crawl did, before its commit: a run that finds the crawl already
        committed reports it from here."""
        tmp = self.path / "summary.json.tmp"
        tmp.write_text(json.dumps(summary, default=str))
        os.replace(tmp, self.path / "summary.json")
        self.summary = summary
        checkpoint("journal:summary")

    def finish(self) -> None:
        """Remove the journal of a committed crawl: tombstone first, then delete."""
        root = self.path.parent
        if not self.path.name.endswith(_TOMBSTONE):
            tombstone = root / f"{self.path.name}{_TOMBSTONE}"
            if tombstone.exists():
                shutil.rmtree(tombstone)
            os.replace(self.path, tombstone)
            with contextlib.suppress(OSError):
                fd = os.open(root, os.O_RDONLY)
                os.fsync(fd)
                os.close(fd)
            self.path = tombstone
        checkpoint("journal:committed")
        # The bulk first; the plan and the summary (what a later run reports) last.
        shutil.rmtree(self.path / "pages", ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.path / "events.jsonl").unlink()
        checkpoint("journal:removing")
        shutil.rmtree(self.path, ignore_errors=True)

    def remove(self) -> None:
        """Delete the journal whatever its state (a crawl that will never be resumed)."""
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.path)

    def resume_command(self, store: str | None = None) -> str:
        """The command that resumes this crawl (see :func:`resume_command`)."""
        return resume_command(self.plan.get("identity", {}), self.plan.get("options"), store)


def resume_command(
    identity: Mapping[str, Any], options: CrawlOptions | None = None, store: str | None = None
) -> str:
    """The ``lineage crawl`` command that asks for this crawl again, and so resumes it.

    Everything that changes what the crawl does is spelled out (the roots or ``--all``,
    ``--new``, ``--resolve-parents``, the strategy, lookups and their budget, the Hub size
    given, the endpoint and the store), so that the text can be pasted as it is.

    Examples
    --------
    >>> resume_command({"roots": [], "all": True, "strategy": "auto", "new": True,
    ...                 "endpoint": "https://huggingface.co", "lookups": True},
    ...                {"lookup_budget": None}, "/data/s")
    'lineage crawl --all --new --lookup-budget all --store /data/s'
    >>> resume_command({"resolve_roots": True, "endpoint": "https://huggingface.co"},
    ...                {"budget": 50, "unplaced_share": 0.0, "regions": "my regions.csv"})
    "lineage infer --resolve-roots 50 --unplaced-share 0.0 --regions 'my regions.csv'"
    """
    options = options or {}
    if identity.get("resolve_roots"):  # lineage.roots: `lineage infer --resolve-roots`
        parts = ["lineage", "infer", "--resolve-roots"]
        if "budget" in options:
            parts.append(str(options["budget"]))
        for name in ("calibrate", "unplaced_share", "regions"):
            if name in options:
                parts += ["--" + name.replace("_", "-"), str(options[name])]
        endpoint = identity.get("endpoint")
        if not is_default_endpoint(endpoint):
            parts += ["--endpoint", str(endpoint)]
        return shlex.join([*parts, *(["--store", store] if store is not None else [])])
    parts = ["lineage", "crawl"]
    if identity.get("all"):
        parts.append("--all")
    if identity.get("resolve_parents"):
        parts.append("--resolve-parents")
    for root in identity.get("roots") or []:
        parts += ["--root", root]
    if identity.get("new"):
        parts.append("--new")
    if identity.get("strategy", "auto") != "auto":
        parts += ["--strategy", identity["strategy"]]
    if identity.get("lookups") is False:
        parts.append("--no-lookups")
    if "lookup_budget" in options and identity.get("lookups") is not False:
        budget = options["lookup_budget"]
        parts += ["--lookup-budget", "all" if budget is None else str(budget)]
    if options.get("hub_size"):
        parts += ["--hub-size", str(options["hub_size"])]
    endpoint = identity.get("endpoint")
    if not is_default_endpoint(endpoint):
        parts += ["--endpoint", str(endpoint)]
    if store is not None:
        parts += ["--store", store]
    return shlex.join(parts)


def find(root: Path, identity: CrawlIdentity) -> JournalState | None:
    """The journal of ``identity`` under ``root`` as :func:`describe_journals` reports it
    (None: there is none). Read only."""
    key = journal_key(identity)
    for path in (root / key, root / f"{key}{_TOMBSTONE}"):
        if path.is_dir():
            with contextlib.suppress(OSError):
                return _describe(path, set())
    return None


class JournalReport(TypedDict):
    """A journal as ``lineage info`` reports it (:meth:`JournalState.to_dict`)."""

    state: Literal["interrupted", "fetched", "committed"]
    command: str  # resumes it (or finishes it, once fetched or committed)
    abandon: str | None  # drops it instead (a crawl's; None for other journals)
    crawl_id: str | None
    started_at: dt.datetime | None
    last_progress: dt.datetime | None
    pages: int
    lookups: int
    models: int
    switched_to_sweep: bool
    files: NotRequired[int]  # model files read (lineage infer --resolve-roots)


@dataclass(frozen=True)
class JournalState:
    """What an interrupted (or not yet removed) crawl journal says, for ``lineage info``.

    ``state`` is ``interrupted`` (fetching was cut short), ``fetched`` (everything was
    fetched and summarized; the commit may not have finished) or ``committed`` (the crawl
    is in the store; the journal was not yet removed).
    """

    key: str
    identity: CrawlIdentity  # empty ({}) when the plan is gone
    options: CrawlOptions
    crawl_id: str | None
    started_at: dt.datetime | None
    last_progress: dt.datetime | None
    pages: int
    lookups: int
    models: int
    switched_to_sweep: bool
    state: Literal["interrupted", "fetched", "committed"]
    files: int = 0  # model files read (a `lineage infer --resolve-roots` journal)

    def command(self, store: str | None = None) -> str:
        """The command that resumes (or finishes) this crawl."""
        return resume_command(self.identity, self.options, store)

    def to_dict(self, store: str | None = None) -> JournalReport:
        report = self._report(store)
        if self.identity.get("resolve_roots"):
            report["files"] = self.files
        return report

    def _report(self, store: str | None) -> JournalReport:
        return {
            "state": self.state,
            "command": self.command(store),
            "abandon": None
            if self.identity.get("resolve_roots")
            else f"{self.command(store)} --abandon",
            "crawl_id": self.crawl_id,
            "started_at": self.started_at,
            "last_progress": self.last_progress,
            "pages": self.pages,
            "lookups": self.lookups,
            "models": self.models,
            "switched_to_sweep": self.switched_to_sweep,
        }


def describe_journals(root: Path, committed_ids: Set[str] = frozenset()) -> list[JournalState]:
    """Every crawl journal under ``root``, read without changing anything.

    ``committed_ids``: crawl ids in the crawl log (a journal of one of them is committed).
    """
    if not root.is_dir():
        return []
    states = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            state = _describe(path, committed_ids)
        except OSError:  # removed while being read: a crawl just finished with it
            continue
        if state is not None:
            states.append(state)
    return states


def _describe(path: Path, committed_ids: Set[str]) -> JournalState | None:
    """One journal directory's state (None: an empty one, cut short while created)."""
    tombstone = path.name.endswith(_TOMBSTONE)
    plan = _read_json(path / "plan.json") or {}
    events, _ = _read_events(path / "events.jsonl")
    if not plan and not tombstone and not events:
        pages = path / "pages"
        if not (pages.is_dir() and any(pages.iterdir())):
            return None  # cut short while being created: nothing to say
    crawl_id = plan.get("crawl_id")
    state: Literal["interrupted", "fetched", "committed"]
    if tombstone or (crawl_id is not None and crawl_id in committed_ids) or not plan:
        state = "committed"
    elif (path / "summary.json").exists():
        state = "fetched"
    else:
        state = "interrupted"
    activity = [path / "events.jsonl", path / "plan.json"]
    mtimes = [p.stat().st_mtime for p in activity if p.exists()]
    started = plan.get("started_at")
    return JournalState(
        key=path.name.removesuffix(_TOMBSTONE),
        identity=plan.get("identity", {}),
        options=plan.get("options", {}),
        crawl_id=crawl_id,
        started_at=dt.datetime.fromisoformat(started) if started else None,
        last_progress=(
            dt.datetime.fromtimestamp(max(mtimes), dt.UTC).replace(microsecond=0)
            if mtimes
            else None
        ),
        pages=sum(1 for e in events if e.get("e") == "page"),
        lookups=sum(1 for e in events if e.get("e") == "lookup"),
        models=sum(int(cast(PageEvent, e).get("count", 0)) for e in events if e.get("e") == "page"),
        switched_to_sweep=any(e.get("e") == "switch" for e in events),
        state=state,
        files=sum(1 for e in events if e.get("e") == "file"),
    )


def _damaged_page(file: Path, journal: Path, why: str = "") -> StoreError:
    return StoreError(
        f"journal file {file} is damaged{f' ({why})' if why else ''}; delete the journal "
        f"directory {journal} to start this crawl over (the store itself is unchanged)"
    )


def _check_regular(file: Path) -> None:
    """A FIFO or device in place of a journal file is damage: named, never opened (a FIFO
    would make its reader wait for ever)."""
    try:
        mode = os.stat(file).st_mode
    except OSError:
        return  # missing or unreadable: the reader says so
    problem = not_regular(mode)
    if problem is not None:
        raise _damaged_page(
            file, file.parent.parent if file.parent.name == "pages" else file.parent, problem
        )


def _read_events(file: Path) -> tuple[list[Event], int]:
    """The whole lines of an events file, and how many bytes they take."""
    events: list[Event] = []
    good = 0
    if not file.exists():
        return events, good
    _check_regular(file)
    with open(file, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                events.append(json.loads(line))
            except ValueError:
                break
            good += len(line)
    return events, good


def _write_json(file: Path, value: Mapping[str, Any]) -> None:
    tmp = file.with_name(f"{file.name}.tmp")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, file)


def _read_plan(file: Path) -> Plan:
    """A plan.json as lineage wrote it; an empty plan if there is none."""
    plan: Plan | None = _read_json(file)
    return plan or {}


def _read_json(file: Path) -> Any:
    """The JSON object in a file, None if unreadable or not an object (Any: the caller
    names its shape, a Plan or a summary)."""
    _check_regular(file)
    try:
        value = json.loads(file.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _round(value: float) -> float:
    return round(value, 3) if isinstance(value, float) else value
