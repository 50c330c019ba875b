"""The roots that hold the Hub: which parentless models matter most, and where they come from.

Most derivative weight sits under a few hundred parentless models, and many of those are
not origins: quantized or sharded re-uploads (``unsloth/llama-3-8b-bnb-4bit``), community
merges and fine-tunes whose cards name their sources in prose or a mergekit configuration
rather than in ``base_model``. This module ranks them and resolves the most consequential
with evidence stronger than names, within a request budget.

**Impact**, the order of resolution: a parentless model's *distinct* declared derivatives,
each weighted by ``log10(1 + downloads)`` as the lookup budget weighs them
(:mod:`lineage.parents`; all-time downloads where known; their number where no download is
known), then their number, then the id. The roots are read in turn from two orders
(``unplaced_share``, default :data:`UNPLACED_SHARE`, a half, from the second): by impact
alone, which a share by family needs (the most consequential roots, often models of the
origins' own organizations whose declarations are missing), and the roots of organizations
the region table does not know first, by impact, which a share by region needs (it cannot
place them; a root of a known organization is most often the origin itself, or right by
region already). ``unplaced_share`` 0 orders by impact alone; 1 reads every root of an
organization without a region first.

The sources a card names that are parentless models themselves are read right after it
(a merge of merges, a fine-tune of a re-upload, reaches its origin), roots further down the
order included: what a source resolves is the family of every derivative under its reader.

**Cost** of :func:`resolve_roots`, in requests (each one HTTP request, a renamed repository
one more for its redirect):

- ``README.md``: one per root examined; it names the parent(s) most of the time
  (``base_model`` the tags missed, a mergekit configuration, "fine-tuned from" links);
- ``config.json`` (or ``adapter_config.json`` for an adapter): one more, only when the card
  named no model the store knows;

so two at most per root, and one for most roots whose card says where they come from. A
share of the budget (``calibrate``, default a fifth) goes to the most consequential
*declared* derivatives: their files, compared with what they declare, calibrate each
method's confidence, and their configs vote for the families of the configs alike
(``config-shape``).

Every answer is journaled before the next request (:mod:`lineage.journal`, the crawl's
machinery), so a resolution killed at any point resumes with the same command and asks
nothing twice; at its end the parsed evidence (``file_evidence.parquet``) and the lineage
inferred with it (``inferred_edges.parquet``) are committed together with a crawl-log row,
and only then is the journal removed. What the files say is read by :mod:`lineage.evidence`;
what it proves, with what confidence, is :mod:`lineage.inference`'s.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from .errors import HubUnreachable, InputError, NotInStore
from .evidence import MAX_CARD_BYTES, MAX_CONFIG_BYTES, read_adapter_config, read_card, read_config
from .graph import ModelGraph
from .hub import FileAnswer, HubClient
from .inference import complete_models, infer_frames
from .journal import CrawlIdentity, CrawlOptions, FileEvent, Journal
from .progress import Progress
from .regions import load_regions
from .repo_id import is_repo_id
from .schema import CRAWL_SCHEMA, FILE_EVIDENCE_SCHEMA
from .store import Store
from .vocabulary import DEFAULT_MIN_CONFIDENCE


def ancestor_pairs(edges: pl.DataFrame) -> pl.DataFrame:
    """Every (``derivative``, ``ancestor``) pair of an acyclic graph's ``edges`` (node
    indices ``child`` -> ``parent``, as :attr:`ModelGraph.edges`), once.

    Column-wise: one join per generation. Real lineage is shallow (a derivative has about
    2.4 ancestors), so the pairs are a few times the derivatives.

    >>> edges = pl.DataFrame({"child": [1, 2, 3, 3], "parent": [0, 1, 1, 2]})
    >>> sorted(ancestor_pairs(edges).rows())
    [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
    """
    links = edges.select(
        pl.col("child").alias("derivative"), pl.col("parent").alias("ancestor")
    ).unique()
    pairs = links
    frontier = links
    step = links.rename({"derivative": "ancestor", "ancestor": "next"})
    while frontier.height:
        frontier = (
            frontier.join(step, on="ancestor")
            .select("derivative", pl.col("next").alias("ancestor"))
            .unique()
            .join(pairs, on=["derivative", "ancestor"], how="anti")
        )
        pairs = pl.concat([pairs, frontier])
    return pairs


def derivatives_under(graph: ModelGraph, weights: np.ndarray | None = None) -> pl.DataFrame:
    """Per node (``idx``) with any derivative: its distinct ``derivatives`` and their summed
    ``weights`` (``impact``; one per node, default 1).

    >>> from types import SimpleNamespace
    >>> graph = SimpleNamespace(n=3, edges=pl.DataFrame({"child": [1, 2, 2], "parent": [0, 0, 1]}))
    >>> derivatives_under(graph).sort("idx").rows()
    [(0, 2, 2.0), (1, 1, 1.0)]
    """
    pairs = ancestor_pairs(graph.edges)
    w = np.ones(graph.n) if weights is None else np.asarray(weights, dtype=np.float64)
    return (
        pairs.with_columns(pl.Series("w", w).gather(pairs["derivative"]))
        .group_by(pl.col("ancestor").alias("idx"))
        .agg(pl.len().cast(pl.Int64).alias("derivatives"), pl.col("w").sum().alias("impact"))
    )


# -- which roots, in which order ---------------------------------------------------------------

DEFAULT_ROOT_BUDGET = 300
"""File requests per ``lineage infer --resolve-roots`` by default: most of one anonymous
rate-limit window of the Hub (about 500 requests per 5 minutes)."""
DEFAULT_CALIBRATION_SHARE = 0.2
UNPLACED_SHARE = 0.5
"""The share of the roots read taken from the roots of organizations the region table does
not know (by impact), the rest by impact alone, in turn: the first root read is the one with
the most impact."""
README = "README.md"
CONFIG = "config.json"
ADAPTER_CONFIG = "adapter_config.json"


def resolution_order(
    models: pl.DataFrame,
    edges: pl.DataFrame,
    lookups: pl.DataFrame,
    examined: pl.DataFrame,
    *,
    calibrate: float = DEFAULT_CALIBRATION_SHARE,
    regions: pl.DataFrame | None = None,
    unplaced_share: float = UNPLACED_SHARE,
) -> pl.DataFrame:
    """The models whose files to read, most consequential first (the module docstring:
    ``unplaced_share``).

    ``examined`` (column ``model``) holds the models whose files were read already. Returns
    ``id``, ``role`` (``root``: a crawled parentless model with declared derivatives;
    ``calibration``: a declared derivative with derivatives of its own, one in
    ``1 / calibrate`` of the models), ``impact``, ``derivatives``, ``region_known`` and
    ``adapter`` (its files are an adapter's: read ``adapter_config.json``, not
    ``config.json``).
    """
    from .graph import graph_from_frames

    table = regions if regions is not None else load_regions()
    models = complete_models(models)
    graph = graph_from_frames(models, edges, lookups)
    downloads = pl.coalesce("downloads_all_time", "downloads").fill_null(0).clip(0)
    weights = graph.nodes.select((1.0 + downloads).log10()).to_series().to_numpy()
    under = derivatives_under(graph, weights)
    n = graph.n
    has_parent = np.bincount(graph.edges["child"].to_numpy(), minlength=n) > 0
    known = table.filter(pl.col("region") != "unknown").select(
        pl.col("key"), pl.lit(True).alias("k")
    )
    tags = pl.col("tags").fill_null([]).list.eval(pl.element().str.to_lowercase())
    adapter = (pl.col("library_name").fill_null("").str.to_lowercase() == "peft") | tags.list.eval(
        pl.element().is_in(["peft", "lora"])
    ).list.any()
    facts = models.select(pl.col("id"), adapter.alias("adapter"), pl.col("adapter_base"))
    frame = (
        graph.nodes.select("idx", "id", "org", "crawled")
        .with_columns(pl.Series("has_parent", has_parent))
        .join(under, on="idx")
        .filter(pl.col("crawled") & (pl.col("derivatives") > 0))
        .join(known, left_on=pl.col("org").str.to_lowercase(), right_on="key", how="left")
        .join(facts, on="id", how="left")
        .select(
            "id",
            pl.when(pl.col("has_parent"))
            .then(pl.lit("calibration"))
            .otherwise(pl.lit("root"))
            .alias("role"),
            pl.col("impact").round(9),
            "derivatives",
            pl.col("k").fill_null(False).alias("region_known"),
            # A known adapter base (from a listing's config) needs no adapter_config.json.
            (pl.col("adapter").fill_null(False) & pl.col("adapter_base").is_null()).alias(
                "adapter"
            ),
        )
        # What reading it is worth: its impact (its derivatives when no download is known).
        .sort(["impact", "derivatives", "id"], descending=[True, True, False])
    )
    # The whole order first, then what was read taken out: a run that continues another
    # reads what one run with a bigger budget would have read next.
    done = examined.select(pl.col("model").alias("id")).unique()
    roots = frame.filter(pl.col("role") == "root")
    roots = _in_turn(roots, roots.sort("region_known", maintain_order=True), unplaced_share)
    calibration = frame.filter(pl.col("role") == "calibration")
    if calibrate <= 0 or not roots.height:
        return roots.join(done, on="id", how="anti", maintain_order="left")
    # One calibration model after every `every` roots, as long as there are roots.
    every = max(1, round(1 / calibrate) - 1)
    slot = pl.int_range(pl.len(), dtype=pl.Int64)
    placed = pl.concat(
        [
            roots.with_columns(slot.alias("slot"), pl.lit(0).alias("tie")),
            calibration.head(roots.height // every + 1).with_columns(
                (slot * every + every - 1).alias("slot"), pl.lit(1).alias("tie")
            ),
        ]
    )
    return (
        placed.sort("slot", "tie")
        .drop("slot", "tie")
        .join(done, on="id", how="anti", maintain_order="left")
    )


def _in_turn(first: pl.DataFrame, second: pl.DataFrame, share: float) -> pl.DataFrame:
    """The rows of ``first`` (by ``id``) in turn from ``first`` and ``second`` (the same rows
    in another order), the next one not taken yet, ``share`` of them from ``second``: a
    half alternates, ``first``'s first.

    >>> frame = pl.DataFrame({"id": ["a", "b", "c", "d"]})
    >>> _in_turn(frame, frame.reverse(), 0.5)["id"].to_list()
    ['a', 'd', 'b', 'c']
    >>> _in_turn(frame, frame.reverse(), 0.25)["id"].to_list()
    ['a', 'b', 'c', 'd']
    """
    ids = (first["id"].to_list(), second["id"].to_list())
    at = [0, 0]
    taken: set[str] = set()
    merged: list[str] = []
    while len(merged) < len(ids[0]):
        k = len(merged)
        turn = int((k + 1) * share) > int(k * share)  # 1: second's turn
        order = ids[turn]
        while order[at[turn]] in taken:
            at[turn] += 1
        taken.add(order[at[turn]])
        merged.append(order[at[turn]])
    rank = pl.DataFrame({"id": merged, "turn": pl.int_range(len(merged), eager=True)})
    return first.join(rank, on="id").sort("turn").drop("turn")


# -- reading their files, journaled ------------------------------------------------------------


@dataclass(kw_only=True)
class RootsSummary:
    """What ``lineage infer --resolve-roots`` did (printed by the CLI, journaled).

    ``requests``: file requests (each one HTTP request, plus ``redirects``); ``examined``:
    parentless models whose files were read, ``calibration``: declared derivatives read to
    calibrate; ``resolved``: examined roots that now have inferred lineage at the default
    confidence or more, by the method that gave it (``by_method``); ``unknown_targets``:
    models the files name that the store does not know; ``roots_left``: parentless models
    with derivatives whose files were never read; ``impact_left``: the share of the impact
    of the roots of organizations without a region (what a share by region cannot place)
    that those unread ones hold.
    """

    store: str
    endpoint: str
    resumed: bool = False
    budget: int = DEFAULT_ROOT_BUDGET
    requests: int = 0
    redirects: int = 0
    retries: int = 0
    examined: int = 0
    calibration: int = 0
    files: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    resolved: int = 0
    by_method: dict[str, int] = field(default_factory=dict)
    unknown_targets: int = 0
    roots_left: int = 0
    impact_left: float = 0.0
    inferred_lineage: int = 0
    seconds: float = 0.0

    @property
    def requests_per_resolved(self) -> float | None:
        return self.requests / self.resolved if self.resolved else None


def resolve_roots(
    store: Store,
    client: HubClient,
    *,
    budget: int = DEFAULT_ROOT_BUDGET,
    calibrate: float = DEFAULT_CALIBRATION_SHARE,
    regions: str | None = None,
    unplaced_share: float = UNPLACED_SHARE,
    progress: Progress | None = None,
) -> RootsSummary:
    """Read the files of the most consequential parentless models within ``budget`` file
    requests, then infer lineage with what they say and commit both (module docstring).

    Holds the store's lock for the whole run. Journaled like a crawl: killed at any point,
    the same call resumes and asks nothing twice; its end state is the one an
    uninterrupted run gives.
    """
    if budget < 0:
        raise InputError(
            f"{{budget}} must be 0 or more requests, not {budget}", params=("budget",), value=budget
        )
    if not 0 <= unplaced_share <= 1:
        raise InputError(
            f"{{unplaced_share}} must be a share in [0, 1], not {unplaced_share}",
            params=("unplaced_share",),
            value=unplaced_share,
        )
    if not 0 <= calibrate < 1:
        raise InputError(
            f"{{calibrate}} must be a share in [0, 1), not {calibrate}",
            params=("calibrate",),
            value=calibrate,
        )
    # Kept in the journal, so that the command `lineage info` prints to resume an
    # interrupted run reads what this one would have (defaults left out).
    options: CrawlOptions = {"budget": budget}
    if calibrate != DEFAULT_CALIBRATION_SHARE:
        options["calibrate"] = calibrate
    if unplaced_share != UNPLACED_SHARE:
        options["unplaced_share"] = unplaced_share
    if regions is not None:
        options["regions"] = str(regions)
    return _Resolution(store, client, progress or Progress(enabled=False)).run(
        budget, calibrate, load_regions(regions), unplaced_share, options
    )


class _Resolution:
    def __init__(self, store: Store, client: HubClient, progress: Progress) -> None:
        self.store = store
        self.client = client
        self.progress = progress
        if client.on_wait is None:
            client.on_wait = lambda s, why: progress.message(f"{why}: waiting {s:.0f} s")

    def run(
        self,
        budget: int,
        calibrate: float,
        table: pl.DataFrame,
        unplaced_share: float,
        options: CrawlOptions,
    ) -> RootsSummary:
        self._started = time.monotonic()
        identity: CrawlIdentity = {
            "roots": [],
            "all": False,
            "strategy": "resolve-roots",
            "endpoint": self.client.endpoint,
            "lookups": False,
            "order": "",
            "new": False,
        }
        identity["resolve_roots"] = True
        with self.store.lock():
            self.store.verify()
            journal = Journal.open(
                self.store.path / "journal",
                identity,
                crawl_id=uuid.uuid4().hex[:12],
                started_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
                meter=self._meter,
                options=options,
            )
            summary = RootsSummary(
                store=str(self.store.path),
                endpoint=self.client.endpoint,
                resumed=journal.resumed,
                budget=budget,
            )
            log = self.store.read("crawls", columns=["crawl_id"])["crawl_id"].to_list()
            if journal.committed or journal.crawl_id in log:
                # Committed by an earlier run stopped while removing its journal.
                if journal.summary is not None:
                    summary = RootsSummary(**{**journal.summary, "resumed": True})
                journal.finish()
                return summary
            try:
                return self._resolve(journal, summary, budget, calibrate, table, unplaced_share)
            except HubUnreachable as exc:
                self._drop_if_empty(journal)
                raise HubUnreachable(f"{exc.message}; {self._saved(journal)}") from exc
            except KeyboardInterrupt as exc:
                self._drop_if_empty(journal)
                raise KeyboardInterrupt(self._saved(journal)) from exc
            finally:
                self.progress.close()

    def _resolve(
        self,
        journal: Journal,
        summary: RootsSummary,
        budget: int,
        calibrate: float,
        table: pl.DataFrame,
        unplaced_share: float,
    ) -> RootsSummary:
        store = self.store
        models = store.read("models")
        if models.height == 0:
            journal.remove()
            raise NotInStore(f"the store at {store.path} is empty; run `lineage crawl` first")
        edges, lookups = store.read("edges"), store.read("lookups")
        stored = store.read("file_evidence")
        known = _KnownIds(models, lookups)
        # What earlier runs read: their files are not asked again, and a model whose
        # config they left for lack of budget is finished first.
        earlier = _events_of(stored)
        complete = _complete(earlier, edges, known)
        order = resolution_order(
            models,
            edges,
            lookups,
            complete,
            calibrate=calibrate,
            regions=table,
            unplaced_share=unplaced_share,
        )
        done: dict[tuple[str, str], FileEvent] = {
            (e["model"], e["file"]): e for e in journal.where(e="file") if e["e"] == "file"
        }
        spent = len(done)
        self.progress.phase("reading model cards and configs", total=budget, unit="req")
        self.progress.advance(min(spent, budget))
        # Depth first: the parentless models a card names as sources come right after it
        # (a merge of merges reaches its origin), within the same budget; a root further
        # down the order moves up, with its own row.
        sources = _Parentless(models, edges, lookups, complete)
        later = {r["id"].lower(): r for r in order.iter_rows(named=True) if r["role"] == "root"}
        queued: set[str] = set()  # read, or waiting at the front of the queue

        def source_row(found: dict, impact: float) -> dict:
            own = later.get(found["id"].lower())
            return own or {**found, "role": "source", "impact": impact, "region_known": None}

        # Sources an earlier run's cards named but its budget left unread come first.
        named = stored.join(
            order.select(pl.col("id").alias("model")), on="model", how="anti"
        ).filter(pl.col("kind").is_in(list(_NAMING)))
        pending = sources.find(named.sort("model", "file", "position")["target"].to_list(), queued)
        queue = deque([source_row(p, 0.0) for p in pending] + list(order.iter_rows(named=True)))
        examined: list[dict] = []
        taken: set[str] = set()
        while queue and spent < budget:
            row = queue.popleft()
            key = row["id"].lower()
            if key in taken:  # a root read already as an earlier card's source
                continue
            taken.add(key)
            queued.add(key)
            wanted = [README]
            for name in wanted:
                event = done.get((row["id"], name)) or earlier.get((row["id"], name))
                if event is None:
                    if spent >= budget:
                        break
                    event = self._fetch(journal, row["id"], name)
                    done[(row["id"], name)] = event
                    spent += 1
                    self.progress.advance(1)
                if name != README or event["status"] == "missing":
                    continue
                targets = [str(f[1]) for f in event["findings"] if f[0] in _NAMING]
                if row["role"] == "calibration" or not any(t.lower() in known for t in targets):
                    wanted.append(ADAPTER_CONFIG if row["adapter"] else CONFIG)
                if row["role"] != "calibration":
                    for source in reversed(sources.find(targets, queued)):
                        queue.appendleft(source_row(source, row["impact"]))
            examined.append(row)
        rest = []  # unread, once each (a root moved up is in the queue twice)
        for r in queue:
            if r["id"].lower() not in taken:
                taken.add(r["id"].lower())
                rest.append(r)
        order = (
            pl.DataFrame(
                [*examined, *rest],
                schema={
                    "id": pl.String,
                    "role": pl.String,
                    "impact": pl.Float64,
                    "adapter": pl.Boolean,
                    "region_known": pl.Boolean,
                },
                orient="row",
            )
            if (examined or queue)
            else order.select("id", "role", "impact", "adapter", "region_known")
        )
        fetched = _evidence_rows(done.values(), journal.started_at)
        evidence = pl.concat([stored, fetched]) if fetched.height else stored
        inference = infer_frames(
            complete_models(models),
            edges,
            lookups,
            evidence=evidence,
            now=journal.started_at,
            origins=table.filter(pl.col("region") != "unknown"),
        )
        self._summarize(summary, journal, order, fetched, inference, known)
        journal.save_summary(asdict(summary))
        if not done:
            journal.finish()  # nothing was asked: nothing to commit
            return summary
        crawls = store.read("crawls")
        row = {
            "crawl_id": journal.crawl_id,
            "kind": "crawl",
            "started_at": journal.started_at,
            "finished_at": dt.datetime.now(dt.UTC),
            "endpoint": self.client.endpoint,
            "roots": [],
            "strategy": "resolve-roots",
            "requests": summary.requests,
            "lookups": 0,
            "retries": summary.retries,
            "models_seen": summary.examined + summary.calibration,
            "models_new": 0,
            "models_updated": 0,
            "edges": inference.edges.height,
            "problems": 0,
            "snapshot_date": None,
        }
        store.write_tables(
            {
                "file_evidence": evidence.sort("model", "file", "kind", "position"),
                "inferred_edges": inference.edges,
                "crawls": pl.concat([crawls, pl.DataFrame([row], schema=CRAWL_SCHEMA)]),
            }
        )
        summary.seconds = journal.totals().get("seconds", 0.0)
        journal.finish()
        return summary

    def _fetch(self, journal: Journal, model: str, name: str) -> FileEvent:
        """Ask for one file, read it, and journal what it says before anything else."""
        if not is_repo_id(
            model
        ):  # the store's own ids passed the rule; never request one that did not
            answer = FileAnswer("missing")
        else:
            limit = MAX_CARD_BYTES if name == README else MAX_CONFIG_BYTES
            answer = self.client.model_file(model, name, max_bytes=limit)
        status, findings = answer.status, []
        if answer.status == "read":
            reader = {README: read_card, CONFIG: read_config, ADAPTER_CONFIG: read_adapter_config}
            found = reader[name](model, answer.content or b"")
            if found is None:
                status = "unreadable"
            else:
                findings = [[f.kind, f.target, f.relation, f.detail] for f in found]
        event: FileEvent = {
            "e": "file",
            "model": model,
            "file": name,
            "status": status,
            "findings": findings,
        }
        journal.record(event)
        return event

    def _summarize(
        self,
        summary: RootsSummary,
        journal: Journal,
        order: pl.DataFrame,
        fetched: pl.DataFrame,
        inference: Any,
        known: _KnownIds,
    ) -> None:
        totals = journal.totals()
        summary.requests = int(totals.get("files", 0))
        summary.redirects = int(totals.get("redirects", 0))
        summary.retries = int(totals.get("retries", 0))
        asked = fetched.select("model").unique()
        roles = order.join(asked, left_on="id", right_on="model", how="semi")
        summary.examined = roles.filter(pl.col("role") != "calibration").height
        summary.calibration = roles.filter(pl.col("role") == "calibration").height
        per_file = fetched.unique(["model", "file"])
        summary.files = dict(sorted(Counter(per_file["status"].to_list()).items()))
        summary.findings = dict(sorted(Counter(fetched["kind"].drop_nulls().to_list()).items()))
        named = fetched.filter(pl.col("kind").is_not_null() & (pl.col("kind") != "shape"))
        summary.unknown_targets = known.missing(named["target"].str.to_lowercase())
        roots = roles.filter(pl.col("role") != "calibration").select("id")
        given = (
            inference.edges.filter(pl.col("confidence") >= DEFAULT_MIN_CONFIDENCE)
            .unique("child", keep="first", maintain_order=True)
            .join(roots, left_on="child", right_on="id", how="semi")
        )
        summary.resolved = given.height
        summary.by_method = dict(sorted(Counter(given["method"].to_list()).items()))
        roots_all = order.filter(pl.col("role") == "root")
        left = roots_all.join(asked, left_on="id", right_on="model", how="anti")
        # What the share cannot place: roots of organizations without a region.
        unplaced = roots_all.filter(~pl.col("region_known").fill_null(False))
        total = float(unplaced["impact"].sum())
        summary.roots_left = left.height
        summary.impact_left = (
            float(left.filter(~pl.col("region_known").fill_null(False))["impact"].sum()) / total
            if total
            else 0.0
        )
        summary.inferred_lineage = inference.edges["child"].n_unique()
        summary.seconds = totals.get("seconds", 0.0)

    def _meter(self) -> dict[str, float]:
        stats = self.client.stats
        return {
            "files": stats.files,
            "redirects": stats.redirects,
            "retries": stats.retries,
            "waited": stats.waited,
            "seconds": time.monotonic() - self._started,
        }

    @staticmethod
    def _drop_if_empty(journal: Journal) -> None:
        if not journal.events and not journal.committed:
            journal.remove()

    @staticmethod
    def _saved(journal: Journal) -> str:
        files = journal.counts["file"]
        if not files:
            return "nothing was fetched yet, so there is nothing to resume"
        return f"progress is saved ({files:,} files), run the same command again to resume"


_NAMING = ("base_model", "mergekit", "link")  # kinds of card findings that name sources


def _events_of(stored: pl.DataFrame) -> dict[tuple[str, str], FileEvent]:
    """The ``file_evidence`` table as the file events that made it."""
    events: dict[tuple[str, str], FileEvent] = {}
    rows = stored.sort("model", "file", "position").iter_rows(named=True)
    for row in rows:
        key = (row["model"], row["file"])
        event = events.setdefault(
            key,
            {"e": "file", "model": key[0], "file": key[1], "status": row["status"], "findings": []},
        )
        if row["kind"] is not None:
            event["findings"].append([row["kind"], row["target"], row["relation"], row["detail"]])
    return events


def _complete(
    events: dict[tuple[str, str], FileEvent], edges: pl.DataFrame, known: _KnownIds
) -> pl.DataFrame:
    """Models (``model``) whose files were all read: a config, or a card that says it is
    gone, or a card that names a model the store knows (for a parentless model; a
    declared derivative is read for calibration, config included)."""
    declared = set(edges["child"].unique().to_list())
    done = set()
    for (model, name), event in events.items():
        if (
            name != README
            or event["status"] == "missing"
            or (
                model not in declared
                and any(f[0] in _NAMING and str(f[1]).lower() in known for f in event["findings"])
            )
        ):
            done.add(model)
    return pl.DataFrame({"model": sorted(done)}, schema={"model": pl.String})


class _Parentless:
    """Crawled models without a declared parent whose files were never read, by
    lowercase id: the sources a card names that may be roots themselves."""

    def __init__(
        self,
        models: pl.DataFrame,
        edges: pl.DataFrame,
        lookups: pl.DataFrame,
        examined: pl.DataFrame,
    ) -> None:
        tags = pl.col("tags").fill_null([]).list.eval(pl.element().str.to_lowercase())
        adapter = (
            pl.col("library_name").fill_null("").str.to_lowercase() == "peft"
        ) | tags.list.eval(pl.element().is_in(["peft", "lora"])).list.any()
        self.frame = (
            models.filter(pl.col("crawled"))
            .join(edges.select(pl.col("child").alias("id")).unique(), on="id", how="anti")
            .join(examined.select(pl.col("model").alias("id")), on="id", how="anti")
            .select(
                pl.col("id").str.to_lowercase().alias("key"),
                "id",
                (adapter & pl.col("adapter_base").is_null()).fill_null(False).alias("adapter"),
            )
            .unique("key")
            .sort("key")
        )

    def find(self, names: list[str], queued: set[str]) -> list[dict]:
        """The ones among ``names`` (in their order) not ``queued`` yet; queues them."""
        out = []
        keys = self.frame["key"]
        for name in names:
            key = name.lower()
            if key in queued or not keys.len():
                continue
            at = int(keys.search_sorted(key))
            if at < keys.len() and keys[at] == key:
                queued.add(key)
                row = self.frame.row(at, named=True)
                out.append({"id": row["id"], "adapter": row["adapter"]})
        return out


class _KnownIds:
    """Every id the store can resolve a named model to, lowercase (its models, and the
    names lookups found renamed), sorted once so that a few ids are checked by binary
    search (no Python set of millions of ids)."""

    def __init__(self, models: pl.DataFrame, lookups: pl.DataFrame) -> None:
        renamed = lookups.filter(pl.col("id").is_not_null())["query"]
        self.ids = (
            pl.concat([models["id"], renamed]).str.to_lowercase().unique().sort().rename("key")
        )

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str) or not self.ids.len():
            return False
        at = int(self.ids.search_sorted(key))
        return at < self.ids.len() and self.ids[at] == key

    def missing(self, keys: pl.Series) -> int:
        """How many distinct ``keys`` (lowercase) are not known."""
        return keys.unique().to_frame("key").join(self.ids.to_frame(), on="key", how="anti").height


def _evidence_rows(events: Iterable[FileEvent], when: dt.datetime) -> pl.DataFrame:
    """The ``file_evidence`` rows of journaled file events: one per finding, one with a
    null kind for a file that said nothing."""
    rows = []
    for event in events:
        findings = event["findings"] or [[None, None, None, None]]
        for position, (kind, target, relation, detail) in enumerate(findings):
            rows.append(
                {
                    "model": event["model"],
                    "file": event["file"],
                    "status": event["status"],
                    "kind": kind,
                    "target": target,
                    "relation": relation,
                    "position": position,
                    "detail": detail,
                    "fetched_at": when,
                }
            )
    return pl.DataFrame(rows, schema=FILE_EVIDENCE_SCHEMA)
