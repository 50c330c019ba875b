"""The few lines on stderr a crawl, an ingest, a Neo4j load or an HTML export ends with,
and the `info` command's figures as field,value rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..backfill import BackfillSummary
    from ..crawl import CrawlSummary
    from ..hubstats import IngestSummary
    from ..info import StoreInfo
    from ..neo4j.loader import LoadSummary
    from ..roots import RootsSummary


def format_crawl_summary(s: CrawlSummary) -> str:
    """The few lines a crawl ends with."""
    if s.strategy == "resolve-parents":
        return _resolve_parents_summary(s)
    resumed = ", resumed" if s.resumed else ""
    if s.new_since is not None:
        what = "the newest models of " + (", ".join(s.roots) if s.roots else "the whole Hub")
        lines = [
            f"crawled {what} (an update: created since {s.new_since:%Y-%m-%d %H:%M} UTC"
            f"{resumed}) into {s.store}"
        ]
    else:
        # A whole-Hub crawl has one strategy: "(all)" would say nothing.
        # "auto" in the crawl log is auto that walked (a sweep is logged "auto: sweep").
        strategy = "auto: walk" if s.strategy == "auto" else s.strategy
        how = f" ({strategy}{resumed})" if s.roots else " (resumed)" * s.resumed
        what = ", ".join(s.roots) if s.roots else "the whole Hub"
        lines = [f"crawled {what}{how} into {s.store}"]
    counts = f"({s.models_new:,} new, {s.models_updated:,} updated)"
    parents = f"{s.missing:,} missing, {s.renamed:,} renamed"
    if s.not_crawled:
        parents = f"{s.not_crawled:,} not crawled ({s.parents_new:,} new), {parents}"
    if s.roots:
        lines.append(
            f"  family: {plural(s.family, 'model')} {counts}; parents outside it: {parents}"
        )
    else:
        lines.append(f"  models: {s.family:,} {counts}; parents: {parents}")
    lines += s.graph_lines()
    if s.skipped_items:
        lines.append(
            f"  skipped {plural(s.skipped_items, 'listing item')} whose id is not a repo id"
        )
    if s.new_since is not None:
        lines.append(
            "  an update sees new models, not models deleted or edited since; `lineage crawl "
            "--all` sees those"
        )
    if s.duplicates or s.order_breaks:
        lines.append(
            f"  warning: the Hub changed under the crawl: {plural(s.duplicates, 'model')} served "
            f"twice, createdAt order broken {plural(s.order_breaks, 'time')}; crawl again to be "
            "sure"
        )
    lines += _unresolved_lines(s)
    if s.strategy in ("walk", "auto"):
        lines.append(
            "  a walk misses children that declare a parent in another case or by a former "
            f"name (it knew {plural(s.walk_variants, 'such name')}); --strategy sweep finds them"
        )
    lines.append(_requests_line(s))
    return "\n".join(lines)


def _resolve_parents_summary(s: CrawlSummary) -> str:
    """`crawl --resolve-parents`: what the lookups found, or that none were left."""
    if not s.lookup_requests and not s.unresolved_parents:
        return (
            f"no parents are left unresolved in {s.store}: nothing to look up "
            f"({'0 requests' if not s.resumed else 'resumed'})"
        )
    resumed = " (resumed)" if s.resumed else ""
    lines = [
        f"looked up parents left unresolved{resumed} in {s.store}",
        f"  {plural(s.lookup_requests, 'lookup')}: {s.renamed:,} renamed, {s.missing:,} "
        f"missing, {s.found:,} found as declared; {plural(s.family, 'model')} re-committed "
        f"with them, {plural(s.parents_new, 'parent')} new to the store",
    ]
    lines += s.graph_lines()
    lines += _unresolved_lines(s)
    lines.append(_requests_line(s))
    return "\n".join(lines)


def _unresolved_lines(s: CrawlSummary) -> list[str]:
    if not s.unresolved_parents:
        return []
    return [
        f"  unresolved: {plural(s.unresolved_parents, 'parent')} matching no model, not looked "
        f"up ({plural(s.unresolved_derivatives, 'model')} under them); `lineage crawl "
        "--resolve-parents` looks them up"
    ]


def _requests_line(s: CrawlSummary) -> str:
    kinds = f"{s.listing_requests:,} listing, {plural(s.lookup_requests, 'lookup')}"
    redirects = s.http_requests - s.requests
    http = f"; {plural(redirects, 'redirect')} followed too" if redirects > 0 else ""
    return (
        f"  requests: {s.requests:,} ({kinds}; {plural(s.retries, 'retry', 'retries')}, "
        f"waited {s.waited:.0f} s) in {s.seconds:.1f} s{http}"
    )


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 lookup``, ``2 lookups``, ``1,000 listing pages``: a count with its noun.

    >>> plural(1, "lookup"), plural(2_000, "listing page"), plural(2, "family", "families")
    ('1 lookup', '2,000 listing pages', '2 families')
    """
    return f"{n:,} {word}" if n == 1 else f"{n:,} {words or word + 's'}"


def format_roots_summary(s: RootsSummary) -> str:
    """The few lines `lineage infer --resolve-roots` ends with."""
    resumed = ", resumed" if s.resumed else ""
    cost = (
        f"{s.requests_per_resolved:.1f} requests per root resolved"
        if s.requests_per_resolved is not None
        else "no root resolved"
    )
    files = ", ".join(f"{k} {v:,}" for k, v in s.files.items()) or "none"
    found = ", ".join(f"{k} {v:,}" for k, v in s.findings.items()) or "nothing"
    methods = ", ".join(f"{k} {v:,}" for k, v in s.by_method.items())
    lines = [
        f"read the files of {s.examined:,} parentless models with derivatives and "
        f"{s.calibration:,} declared derivatives (calibration){resumed} into {s.store}",
        f"  files: {files}; they name: {found}",
        f"  resolved: {s.resolved:,} of the {s.examined:,} roots read have inferred lineage at "
        f"the default confidence" + (f" ({methods})" if methods else "") + f"; {cost}",
    ]
    if s.unknown_targets:
        lines.append(
            f"  {s.unknown_targets:,} models the files name are not in the store (crawl them "
            "to follow those roots further)"
        )
    lines.append(
        f"  left: {s.roots_left:,} parentless models with derivatives not read yet (holding "
        f"{s.impact_left:.1%} of the impact of roots without a region); `lineage infer "
        "--resolve-roots` continues"
        if s.roots_left
        else "  left: none; every parentless model with derivatives has been read"
    )
    lines.append(
        f"  requests: {s.requests:,} of a budget of {s.budget:,} ({s.retries:,} retries) in "
        f"{s.seconds:.1f} s; {s.requests + s.redirects:,} HTTP requests with redirects; "
        f"inferred lineage for {s.inferred_lineage:,} models in all (`lineage share "
        "--lineage both` counts it)"
    )
    return "\n".join(lines)


def _fields(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """A nested summary as (field, value) rows: ``edges_by_relation.merge``, ``crawls.1.kind``."""
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in _fields(v, f"{prefix}{k}.")]
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return [r for i, v in enumerate(value, start=1) for r in _fields(v, f"{prefix}{i}.")]
    if isinstance(value, list):
        text = "|".join(str(v) for v in value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = "" if value is None else str(value)
    return [(prefix.rstrip("."), text)]


def fields_csv(summary: dict) -> str:
    """A summary as CSV: one ``field,value`` row per (flattened) field."""
    import polars as pl

    rows = _fields(summary)
    frame = pl.DataFrame(rows, schema={"field": pl.String, "value": pl.String}, orient="row")
    return frame.write_csv()


def journal_lines(r: StoreInfo) -> list[str]:
    """What `info` says about cut-short commits and crawls still in the journal."""
    lines = []
    if r.commit_pending:
        lines.append(
            "last commit: cut short after its commit point; reads see it whole, the next "
            "crawl or ingest finishes it"
        )
    for j in r.journals:
        if j["state"] == "committed":
            again = f"`{j['command']}`" if j["crawl_id"] else "the same crawl command"
            lines.append(
                f"journal: crawl {j['crawl_id'] or '(id not kept)'} is committed but its journal "
                f"was not cleared away; {again} clears it without fetching again"
            )
            continue
        when = f"{j['started_at']:%Y-%m-%d %H:%M} UTC" if j["started_at"] else "at an unknown time"
        progress = j["last_progress"]
        last = f", last progress {progress:%Y-%m-%d %H:%M} UTC" if progress else ""
        got = (
            f"{plural(j['pages'], 'listing page')} ({plural(j['models'], 'model')}), "
            f"{plural(j['lookups'], 'lookup')}"
        )
        if "files" in j:
            got = f"{plural(j['files'], 'model file')} read"
        if j["switched_to_sweep"]:
            got += ", switched to a sweep"
        if j["state"] == "fetched":
            got += "; everything was fetched but not committed"
        lines.append(f"interrupted crawl: `{j['command']}` started {when}{last}: {got}")
        lines.append(
            "  run that command to resume it, or the same command with --abandon to drop what "
            "it fetched"
            if j.get("abandon")
            else "  run that command to resume it"
        )
    return lines


def format_ingest_summary(s: IngestSummary) -> str:
    """The few lines an ingest ends with."""
    dated = {
        "given": "as given",
        "revision": f"commit date of revision {(s.revision or '')[:12]}",
        "file": "the file's modification date",
        "path": "from its path",
    }[s.date_source]
    if s.skipped:
        offline = (
            " (the endpoint was unreachable: the dump downloaded earlier)" if s.offline else ""
        )
        return (
            f"skipped hub-stats dump {s.source}{offline}: {s.store} holds "
            f"{s.snapshot_date.isoformat()} ({dated}) from an earlier ingest already; nothing "
            "was read (--replace reads it again)"
        )
    older = f", {s.models_older:,} older than the store's" if s.models_older else ""
    lines = [
        f"ingested hub-stats dump {s.source} into {s.store}",
        f"  models: {s.models:,} ({s.models_new:,} new, {s.models_updated:,} updated{older}) "
        f"from {s.rows:,} rows; snapshot {s.snapshot_date.isoformat()} ({dated})",
    ]
    if s.absent_columns:
        lines.append(
            f"  columns absent from this dump (read as nulls): {', '.join(s.absent_columns)}"
        )
    if s.offline:
        lines.append("  the endpoint was unreachable: ingested the dump downloaded earlier")
    lines += s.graph_lines()
    lines.append(f"  requests: {s.requests:,} in {s.seconds:.1f} s")
    return "\n".join(lines)


def format_backfill_summary(s: BackfillSummary) -> str:
    """The few lines a backfill of many dumps ends with: dates, rows, absent columns."""
    from ..backfill import date_runs

    done = [d.date for d in s.dates]
    span = f": {done[0]} to {done[-1]}" if done else ""
    rate = s.rows / s.seconds if s.seconds else 0.0
    if done:
        lines = [
            f"backfilled {len(done):,} hub-stats dump{'s' if len(done) != 1 else ''} into "
            f"{s.store}{span}",
            f"  rows: {s.rows:,} in {s.seconds:.1f} s ({rate:,.0f} rows/s); models new: "
            f"{sum(d.models_new for d in s.dates):,}",
        ]
    else:
        lines = [f"nothing to backfill into {s.store}: it holds every date given"]
    if s.plan is not None:
        p = s.plan
        if p.layout == "paths":
            found = (
                f"dated paths at revision {p.revision[:12]}: {len(p.dumps):,} of "
                f"{p.available:,} dumps since {p.since:%Y-%m}, the last of each {p.every}"
            )
        else:
            found = (
                f"one file across commits, up to {p.revision[:12]}: {len(p.dumps):,} dumps "
                f"from {p.available:,} commits since {p.since:%Y-%m}, the last of each "
                f"{p.every}, dated by the commit that wrote it"
            )
        lines.append(
            f"  from dataset {p.repo} ({found}); {p.fetched['downloaded']:,} downloaded, "
            f"{p.fetched['cached']:,} from the cache"
        )
    if s.skipped:
        lines.append(
            f"  skipped {len(s.skipped):,} date{'s' if len(s.skipped) != 1 else ''} the store "
            f"already holds: {date_runs(s.skipped, s.all_dates)}; --replace reads them again"
        )
    for column, dates in s.absent_columns().items():
        lines.append(f"  absent column {column} (read as nulls): {date_runs(dates, s.all_dates)}")
    return "\n".join(lines)


def format_load_summary(s: LoadSummary) -> str:
    """The few lines a Neo4j load ends with."""
    c, n, info = s.counts, s.counters, s.info
    assert info is not None  # load() sets it before returning the summary
    rate = s.rows / s.seconds if s.seconds else 0.0
    return "\n".join(
        [
            f"loaded {info.get('store')} into Neo4j at {s.uri} (database {s.database}) "
            f"in {s.seconds:.1f} s",
            f"  nodes: {c['models']:,} Model ({c['roots']:,} Root, {c['derivatives']:,} "
            f"Derivative), {c['organizations']:,} Organization",
            f"  relationships: {c['derived_from']:,} DERIVED_FROM, {c['published_by']:,} "
            f"PUBLISHED_BY, {c['attributed_to']:,} ATTRIBUTED_TO",
            f"  attribution: roots {info.get('root_set')}, merges {info.get('multi_parent')}, "
            f"regions {info.get('regions')}",
            f"  this load: {n.get('nodes_created', 0):,} nodes created, "
            f"{n.get('nodes_deleted', 0):,} deleted; {n.get('relationships_created', 0):,} "
            f"relationships created, {n.get('relationships_deleted', 0):,} deleted; "
            f"{s.batches:,} transactions, {rate:,.0f} rows/s",
        ]
    )


def format_export_summary(s: Any) -> str:
    """The few lines `lineage export html` ends with: what it drew and collapsed."""
    tops = s.tops[0] if len(s.tops) == 1 else f"{len(s.tops):,} top models of {s.root}"
    lines = [
        f"wrote {s.path} ({s.bytes / 1e6:.1f} MB) in {s.seconds:.1f} s: the family of {tops}",
        f"  family: {s.family:,} models ({len(s.tops):,} root{'s' if len(s.tops) != 1 else ''}, "
        f"{s.family - len(s.tops):,} derivatives)",
    ]
    if s.below_min_downloads or s.connectors:
        kept = (
            f", {s.connectors:,} below it kept (faded): models above it derive from them"
            if s.connectors
            else ""
        )
        lines.append(f"  --min-downloads: {s.below_min_downloads:,} models left out{kept}")
    if not s.summary_nodes:
        lines.append(f"  drew all {s.drawn:,} models and {s.edges:,} edges; nothing collapsed")
        return "\n".join(lines)
    by_relation = ", ".join(f"{r} {n:,}" for r, n in s.collapsed_by_relation.items())
    largest = "; ".join(f"+{n:,} {r} under {parent}" for parent, r, n in s.largest[:3])
    lines += [
        f"  drew {s.drawn:,} models, {s.summary_nodes:,} +N nodes and {s.edges:,} edges "
        f"(--max-nodes {s.max_nodes:,})",
        f"  collapsed {s.collapsed:,} models into the +N nodes ({by_relation})",
        f"  largest: {largest}",
    ]
    return "\n".join(lines)
